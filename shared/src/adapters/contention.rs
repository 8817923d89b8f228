//! Writes that a store cancelled before applying any of them, because
//! another writer held one of their items (DynamoDB's `TransactionConflict`)
//! or the table was throttled, are tried again a few times with jittered
//! backoff, then reported as transient. Both store implementations run their
//! writes through here, so the memory store's injected faults exercise the
//! same policy that DynamoDB's cancellations meet.
//!
//! Only cancellations are retried here: nothing of a cancelled write was
//! applied, so a retry cannot apply anything twice. Timeouts, where the write
//! may have happened, are the SDK's to retry, and transactions carry a client
//! request token so such a retry is idempotent.

use crate::ports::StoreError;
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// Attempts per write: the first and three retries.
pub const WRITE_ATTEMPTS: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_CAP: Duration = Duration::from_millis(200);

/// How one attempt at a write failed.
#[derive(Debug)]
pub enum WriteFailure {
    /// Cancelled before anything was applied; `reason` is the store's own
    /// word for why (for the log line).
    Contended(String),
    Failed(StoreError),
}

impl From<StoreError> for WriteFailure {
    fn from(error: StoreError) -> Self {
        Self::Failed(error)
    }
}

/// What is left when every attempt was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("the write was cancelled {attempts} times in a row (last: {reason})")]
pub struct KeptContending {
    pub reason: String,
    pub attempts: u32,
}

/// Runs `write` until it succeeds, fails for another reason, or has been
/// cancelled [`WRITE_ATTEMPTS`] times.
pub async fn retry_contended<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WriteFailure>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Ok(value) => return Ok(value),
            Err(WriteFailure::Failed(error)) => return Err(error),
            Err(WriteFailure::Contended(reason)) if attempt >= WRITE_ATTEMPTS => {
                tracing::warn!(%reason, attempts = attempt, "write kept being cancelled");
                return Err(StoreError::Transient(Box::new(KeptContending {
                    reason,
                    attempts: attempt,
                })));
            }
            Err(WriteFailure::Contended(reason)) => {
                tracing::debug!(%reason, attempt, "write cancelled; retrying");
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// "Full jitter": a random wait up to an exponentially growing cap, so
/// writers that collided once do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(8))
        .min(BACKOFF_CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_write_cancelled_fewer_times_than_the_budget_succeeds() {
        let calls = AtomicU32::new(0);
        let result = retry_contended(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) < WRITE_ATTEMPTS - 1 {
                Err(WriteFailure::Contended("TransactionConflict".into()))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), WRITE_ATTEMPTS);
    }

    #[tokio::test]
    async fn a_write_cancelled_past_the_budget_is_transient_and_stops_trying() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_contended(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(WriteFailure::Contended("TransactionConflict".into()))
        })
        .await;
        assert!(matches!(result, Err(StoreError::Transient(_))));
        assert_eq!(calls.load(Ordering::SeqCst), WRITE_ATTEMPTS);
    }

    #[tokio::test]
    async fn any_other_failure_is_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_contended(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(WriteFailure::Failed(StoreError::NotFound("assistant")))
        })
        .await;
        assert!(matches!(result, Err(StoreError::NotFound("assistant"))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        for attempt in 1..20 {
            assert!(backoff(attempt) <= BACKOFF_CAP);
        }
    }
}
