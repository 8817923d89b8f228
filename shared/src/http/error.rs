//! The one error type of the HTTP edge and its one mapping to a status and
//! the documented body `{"error", "code", "details"?}`.

use crate::adapters::dynamo::StoreError;
use crate::domain::fields::FieldErrors;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API key is required: send 'Authorization: Bearer <key>'")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Option<BTreeMap<String, String>>,
    },
    #[error("{0}")]
    Conflict(String),
    /// `hint` says where a larger body can go, if anywhere.
    #[error("the request body is larger than {limit} bytes{hint}")]
    PayloadTooLarge { limit: usize, hint: &'static str },
    #[error("{0} is not allowed on this resource")]
    MethodNotAllowed(String),
    #[error("a service we depend on is unavailable; try again shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("something went wrong on our side")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "2";

impl ApiError {
    pub fn invalid(errors: FieldErrors) -> Self {
        let details = errors.into_map();
        let message = match details.len() {
            1 => {
                let (field, problem) = details.iter().next().expect("one entry");
                if field == "body" {
                    format!("the body {problem}")
                } else {
                    format!("{field} {problem}")
                }
            }
            n => format!("{n} fields are invalid; see details"),
        };
        Self::BadRequest {
            message,
            details: Some(details),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            details: None,
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized:api"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden:api"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found:api"),
            Self::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request:api"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict:api"),
            Self::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large:api")
            }
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "bad_request:api"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable:api"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal:api"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(message) => Self::Conflict(message),
            StoreError::LastOwner => Self::Conflict(error.to_string()),
            StoreError::Unavailable(_) => Self::Unavailable(Box::new(error)),
            StoreError::Rejected(_) | StoreError::Corrupt(_) => Self::Internal(Box::new(error)),
        }
    }
}

/// The cause chain of an error, for the log line (never the response).
fn causes(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), cause = %causes(&self), "request failed");
        }
        let mut body = json!({ "error": self.to_string(), "code": code });
        if let Self::BadRequest {
            details: Some(details),
            ..
        } = &self
        {
            body["details"] = json!(details);
        }
        let mut response = (status, Json(body)).into_response();
        match status {
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
