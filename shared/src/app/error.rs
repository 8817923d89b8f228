//! What a use case refuses or fails with, in the API's documented error
//! vocabulary (`code`), and the one place where each port's error becomes
//! it: only a transient failure is `Unavailable`, a provider's refusal is
//! `BadGateway` naming the provider (never its words), and nothing a
//! request can cause is `Internal`. `http::error` adds what only HTTP can
//! refuse (a body too large, a method, an `Accept`) and answers each as its
//! status and the documented body `{"error", "code", "details"?}`.

use crate::domain::fields::FieldErrors;
use crate::ports::{BlobError, CipherError, GatewayError, ProviderError, QueueError, StoreError};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("a valid API key is required: send 'Authorization: Bearer <key>'")]
    Unauthorized,
    /// The widget's routes: a missing, forged, expired or misdirected
    /// widget token.
    #[error("{0}")]
    WidgetUnauthorized(&'static str),
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
    /// A limit was reached; the client may try again after `retry_after`
    /// seconds. The message is written to be shown to a visitor as it is;
    /// `limit` names the window that was full.
    #[error("{message}")]
    TooManyRequests {
        message: &'static str,
        limit: &'static str,
        retry_after: u64,
    },
    /// A monthly budget is used up: no model is asked until `retry_after`
    /// seconds from now (the next month). `message` is what the asker is
    /// shown.
    #[error("{message}")]
    BudgetExhausted {
        message: String,
        /// `"assistant"` or `"workspace"`.
        budget: &'static str,
        metric: &'static str,
        retry_after: u64,
    },
    #[error("a service we depend on is unavailable; try again shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A provider refused or garbled a request we made: retrying the same
    /// request will not help.
    #[error("{provider} could not handle this request")]
    BadGateway {
        provider: &'static str,
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("something went wrong on our side")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: &str = "2";

impl AppError {
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

    /// The documented `code` of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized | Self::WidgetUnauthorized(_) => "unauthorized:api",
            Self::TooManyRequests { .. } | Self::BudgetExhausted { .. } => "rate_limit:api",
            Self::Forbidden(_) => "forbidden:api",
            Self::NotFound(_) => "not_found:api",
            Self::BadRequest { .. } => "bad_request:api",
            Self::Conflict(_) => "conflict:api",
            Self::Unavailable(_) => "unavailable:api",
            Self::BadGateway { .. } => "bad_gateway:api",
            Self::Internal(_) => "internal:api",
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            details: None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(conflict) => Self::Conflict(conflict.to_string()),
            StoreError::LastOwner => Self::Conflict(error.to_string()),
            StoreError::Transient(_) => Self::Unavailable(Box::new(error)),
            StoreError::Permanent(_) | StoreError::Corrupt(_) => Self::Internal(Box::new(error)),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(error: BlobError) -> Self {
        if error.transient {
            Self::Unavailable(Box::new(error))
        } else {
            Self::Internal(Box::new(error))
        }
    }
}

impl From<QueueError> for AppError {
    fn from(error: QueueError) -> Self {
        if error.transient {
            Self::Unavailable(Box::new(error))
        } else {
            Self::Internal(Box::new(error))
        }
    }
}

impl From<ProviderError> for AppError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Unavailable { .. } => Self::Unavailable(Box::new(error)),
            ProviderError::Rejected { provider, .. }
            | ProviderError::Malformed { provider, .. } => Self::BadGateway {
                provider,
                cause: Box::new(error),
            },
            ProviderError::Unconfigured { .. } => Self::Internal(Box::new(error)),
        }
    }
}

impl From<CipherError> for AppError {
    fn from(error: CipherError) -> Self {
        match error {
            CipherError::Transient(_) => Self::Unavailable(Box::new(error)),
            CipherError::Refused(_) => Self::Internal(Box::new(error)),
        }
    }
}

impl From<GatewayError> for AppError {
    fn from(error: GatewayError) -> Self {
        if error.is_transient() {
            Self::Unavailable(Box::new(error))
        } else {
            Self::BadGateway {
                provider: "Twilio",
                cause: Box::new(error),
            }
        }
    }
}

/// The cause chain of an error, for the log line (never the response).
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl AppError {
    /// The refusal of an answer over `exhausted`'s cap at `now`, in the
    /// words an API client reads.
    /// A widget visitor is shown the owner's message, or a default.
    pub fn budget_exhausted(
        exhausted: &crate::domain::usage::Exhausted,
        now: crate::domain::time::Timestamp,
        channel: crate::domain::conversation::Channel,
    ) -> Self {
        let whose = match exhausted.scope {
            "assistant" => "this assistant's",
            _ => "the workspace's",
        };
        let what = match exhausted.metric {
            crate::domain::usage::Metric::Tokens => "token",
            crate::domain::usage::Metric::SmsSegments => "SMS segment",
        };
        let left = exhausted
            .lifts_at
            .millis()
            .saturating_sub(now.millis())
            .max(0) as u64;
        let message = match channel {
            crate::domain::conversation::Channel::Widget => exhausted
                .message
                .clone()
                .unwrap_or_else(|| crate::domain::usage::DEFAULT_EXHAUSTED_MESSAGE.to_owned()),
            _ => format!(
                "{whose} monthly {what} budget is used up; answers resume at {}",
                exhausted.lifts_at.to_iso8601()
            ),
        };
        Self::BudgetExhausted {
            message,
            budget: exhausted.scope,
            metric: exhausted.metric.as_str(),
            retry_after: left.div_ceil(1000).max(1),
        }
    }
}
