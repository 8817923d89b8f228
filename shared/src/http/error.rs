//! The API's errors as HTTP: what a use case refused or failed with
//! ([`AppError`]) and what only HTTP can refuse, each as a status, the
//! documented body `{"error", "code", "details"?}`, `Retry-After` on a 503,
//! and the cause chain in the log line (never in the response).

use crate::app::error::{AppError, RETRY_AFTER_SECONDS, causes};
use crate::app::retrieval::RetrievalError;
use crate::domain::fields::FieldErrors;
use crate::ports::{BlobError, CipherError, GatewayError, ProviderError, QueueError, StoreError};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What a route answers when it does not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    /// `hint` says where a larger body can go, if anywhere.
    #[error("the request body is larger than {limit} bytes{hint}")]
    PayloadTooLarge { limit: usize, hint: &'static str },
    #[error("{0} is not allowed on this resource")]
    MethodNotAllowed(String),
    /// The client accepts none of the representations this route has.
    #[error("this route answers {0}; send an Accept header that allows one")]
    NotAcceptable(&'static str),
}

/// A port's error, as the use case would have answered it.
macro_rules! through_app {
    ($($error:ty),* $(,)?) => {
        $(
            impl From<$error> for ApiError {
                fn from(error: $error) -> Self {
                    Self::App(AppError::from(error))
                }
            }
        )*
    };
}

through_app!(
    StoreError,
    BlobError,
    QueueError,
    ProviderError,
    CipherError,
    GatewayError,
    RetrievalError,
);

impl ApiError {
    pub fn invalid(errors: FieldErrors) -> Self {
        Self::App(AppError::invalid(errors))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::App(AppError::bad_request(message))
    }

    /// The documented `code` of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::App(error) => error.code(),
            Self::MethodNotAllowed(_) => "bad_request:api",
            Self::PayloadTooLarge { .. } => "payload_too_large:api",
            Self::NotAcceptable(_) => "not_acceptable:api",
        }
    }
}

fn status_of(error: &ApiError) -> StatusCode {
    let error = match error {
        ApiError::PayloadTooLarge { .. } => return StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::MethodNotAllowed(_) => return StatusCode::METHOD_NOT_ALLOWED,
        ApiError::NotAcceptable(_) => return StatusCode::NOT_ACCEPTABLE,
        ApiError::App(error) => error,
    };
    match error {
        AppError::Unauthorized | AppError::WidgetUnauthorized(_) => StatusCode::UNAUTHORIZED,
        AppError::TooManyRequests { .. } | AppError::BudgetExhausted { .. } => {
            StatusCode::TOO_MANY_REQUESTS
        }
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            Self::App(AppError::BadRequest {
                details: Some(details),
                ..
            }) => body["details"] = json!(details),
            Self::App(AppError::TooManyRequests { limit, .. }) => {
                body["details"] = json!({ "limit": limit })
            }
            Self::App(AppError::BudgetExhausted { budget, metric, .. }) => {
                body["details"] = json!({ "budget": budget, "metric": metric })
            }
            _ => {}
        }
        let retry_after = match &self {
            Self::App(AppError::TooManyRequests { retry_after, .. })
            | Self::App(AppError::BudgetExhausted { retry_after, .. }) => Some(*retry_after),
            _ => None,
        };
        let widget = matches!(self, Self::App(AppError::WidgetUnauthorized(_)));
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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        ApiError::App(self).into_response()
    }
}
