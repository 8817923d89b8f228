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

/// Sends the request built by `build` until it succeeds or the budget is
/// spent, and decodes the JSON answer.
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
        let response = match build().send().await {
            Ok(response) => response,
            Err(error) => {
                last = if error.is_timeout() {
                    "timed out".to_owned()
                } else {
                    "could not connect".to_owned()
                };
                continue;
            }
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            last = format!("HTTP {}", status.as_u16());
            continue;
        }
        if !status.is_success() {
            return Err(ProviderError::Rejected {
                provider,
                status: status.as_u16(),
            });
        }
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
