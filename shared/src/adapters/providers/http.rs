//! The retry loop every provider call shares: 429, 5xx, timeouts and
//! connection failures are retried with exponential backoff within a bounded
//! budget; anything else is answered at once.

use crate::ports::ProviderError;
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// The whole call, every try and pause included; `None` for background
    /// work, which has its function's timeout. A route's calls share API
    /// Gateway's 29 s, so each has a budget well inside it.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// The default tries, all within `deadline`.
    pub fn within(deadline: Duration) -> Self {
        Self {
            deadline: Some(deadline),
            ..Self::default()
        }
    }

    fn backoff(&self, retry: u32) -> Duration {
        self.first_backoff
            .saturating_mul(1 << retry.min(16))
            .min(self.max_backoff)
    }
}

/// Where one call stands against its policy's tries and deadline.
struct Budget {
    policy: RetryPolicy,
    started: Instant,
    tries: u32,
}

impl Budget {
    fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            started: Instant::now(),
            tries: 0,
        }
    }

    /// Waits out the pause before the next try; `false` when no try is
    /// left, or the pause would end past the deadline.
    async fn next_try(&mut self) -> bool {
        if self.tries >= self.policy.attempts.max(1) {
            return false;
        }
        if self.tries > 0 {
            let pause = self.policy.backoff(self.tries - 1);
            if self.remaining().is_some_and(|left| left <= pause) {
                return false;
            }
            tokio::time::sleep(pause).await;
        }
        self.tries += 1;
        true
    }

    fn remaining(&self) -> Option<Duration> {
        self.policy
            .deadline
            .map(|deadline| deadline.saturating_sub(self.started.elapsed()))
    }

    /// Runs one try, cut off at the deadline.
    async fn bounded<T>(&self, attempt: impl Future<Output = T>, out_of_time: T) -> T {
        match self.remaining() {
            Some(left) => tokio::time::timeout(left, attempt)
                .await
                .unwrap_or(out_of_time),
            None => attempt.await,
        }
    }

    fn exhausted(&self, provider: &'static str, last: &str) -> ProviderError {
        ProviderError::Unavailable {
            provider,
            detail: format!("{last} after {} tries", self.tries),
        }
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
    let mut budget = Budget::new(policy);
    let mut last = String::new();
    while budget.next_try().await {
        let attempt = async {
            match try_once(provider, build()).await {
                Tried::Accepted(response) => match response.bytes().await {
                    Ok(bytes) => Ok(Ok(bytes)),
                    Err(_) => Err("the answer was cut off".to_owned()),
                },
                Tried::Retry(why) => Err(why),
                Tried::Refused(error) => Ok(Err(error)),
            }
        };
        match budget.bounded(attempt, Err("timed out".to_owned())).await {
            Ok(Ok(bytes)) => {
                return serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed {
                    provider,
                    detail: e.to_string(),
                });
            }
            Ok(Err(refused)) => return Err(refused),
            Err(why) => last = why,
        }
    }
    Err(budget.exhausted(provider, &last))
}

/// Sends the request built by `build` until the provider accepts it (or the
/// budget is spent) and hands back the response to read as it streams: once
/// bytes flow, a retry would repeat what was already shown.
pub async fn open_stream(
    provider: &'static str,
    policy: RetryPolicy,
    build: impl Fn() -> RequestBuilder,
) -> Result<reqwest::Response, ProviderError> {
    let mut budget = Budget::new(policy);
    let mut last = String::new();
    while budget.next_try().await {
        let attempt = try_once(provider, build());
        match budget
            .bounded(attempt, Tried::Retry("timed out".to_owned()))
            .await
        {
            Tried::Accepted(response) => return Ok(response),
            Tried::Retry(why) => last = why,
            Tried::Refused(error) => return Err(error),
        }
    }
    Err(budget.exhausted(provider, &last))
}
