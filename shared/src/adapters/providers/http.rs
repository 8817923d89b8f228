//! The retry loop every provider call shares: 429, 5xx, timeouts and
//! connection failures are retried with exponential backoff within a bounded
//! budget; anything else is answered at once.

use crate::ports::ProviderError;
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, retry: u32) -> Duration {
        self.first_backoff
            .saturating_mul(1 << retry.min(16))
            .min(self.max_backoff)
    }
}

/// What one attempt came to.
enum Tried {
    Accepted(reqwest::Response),
    /// Worth another attempt, for this reason.
    Retry(String),
    Refused(ProviderError),
}

async fn try_once(provider: &'static str, request: RequestBuilder) -> Tried {
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            return Tried::Retry(if error.is_timeout() {
                "timed out".to_owned()
            } else {
                "could not connect".to_owned()
            });
        }
    };
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Tried::Retry(format!("HTTP {}", status.as_u16()))
    } else if !status.is_success() {
        Tried::Refused(ProviderError::Rejected {
            provider,
            status: status.as_u16(),
        })
    } else {
        Tried::Accepted(response)
    }
}

/// Sends the request built by `build` until it succeeds or the budget is
/// spent, and decodes the JSON answer (an answer cut off is tried again).
pub async fn send_json<T: DeserializeOwned>(
    provider: &'static str,
    policy: RetryPolicy,
    build: impl Fn() -> RequestBuilder,
) -> Result<T, ProviderError> {
    let mut last = String::new();
    for attempt in 0..policy.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(policy.backoff(attempt - 1)).await;
        }
        let response = match try_once(provider, build()).await {
            Tried::Accepted(response) => response,
            Tried::Retry(why) => {
                last = why;
                continue;
            }
            Tried::Refused(error) => return Err(error),
        };
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(_) => {
                last = "the answer was cut off".to_owned();
                continue;
            }
        };
        return serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed {
            provider,
            detail: e.to_string(),
        });
    }
    Err(ProviderError::Unavailable {
        provider,
        detail: format!("{last} after {} tries", policy.attempts.max(1)),
    })
}

/// Sends the request built by `build` until the provider accepts it (or the
/// budget is spent) and hands back the response to read as it streams: once
/// bytes flow, a retry would repeat what was already shown.
pub async fn open_stream(
    provider: &'static str,
    policy: RetryPolicy,
    build: impl Fn() -> RequestBuilder,
) -> Result<reqwest::Response, ProviderError> {
    let mut last = String::new();
    for attempt in 0..policy.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(policy.backoff(attempt - 1)).await;
        }
        match try_once(provider, build()).await {
            Tried::Accepted(response) => return Ok(response),
            Tried::Retry(why) => last = why,
            Tried::Refused(error) => return Err(error),
        }
    }
    Err(ProviderError::Unavailable {
        provider,
        detail: format!("{last} after {} tries", policy.attempts.max(1)),
    })
}
