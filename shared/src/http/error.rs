//! The API's errors as HTTP: a status, the documented body
//! `{"error", "code", "details"?}`, `Retry-After` on a 503, and the cause
//! chain in the log line (never in the response).

pub use crate::app::error::ApiError;
use crate::app::error::{RETRY_AFTER_SECONDS, causes};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn status_of(error: &ApiError) -> StatusCode {
    match error {
        ApiError::Unauthorized | ApiError::WidgetUnauthorized(_) => StatusCode::UNAUTHORIZED,
        ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        ApiError::Conflict(_) => StatusCode::CONFLICT,
        ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
        ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = (status_of(&self), self.code());
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), cause = %causes(&self), "request failed");
        }
        let mut body = json!({ "error": self.to_string(), "code": code });
        match &self {
            Self::BadRequest {
                details: Some(details),
                ..
            } => body["details"] = json!(details),
            Self::TooManyRequests { limit, .. } => body["details"] = json!({ "limit": limit }),
            _ => {}
        }
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let widget = matches!(self, Self::WidgetUnauthorized(_));
        let mut response = (status, Json(body)).into_response();
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let seconds = retry_after.unwrap_or(1).max(1);
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_str(&seconds.to_string()).expect("digits"),
                );
            }
            StatusCode::UNAUTHORIZED if widget => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Widget"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
