//! Job queues, typed by what they carry: a cleanup job cannot be sent to
//! the ingest queue.

use crate::jobs::Job;
use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("could not queue the job")]
pub struct QueueError {
    /// Throttled, timed out or unreachable (rather than refused).
    pub transient: bool,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

#[async_trait]
pub trait JobQueue<J: Job>: Send + Sync {
    async fn enqueue(&self, job: &J) -> Result<(), QueueError>;
    /// Queues a job that no consumer sees before `delay` has passed (at
    /// most 15 minutes, SQS's limit): a job written before the change it
    /// follows up on, so a failed change leaves the job, never the reverse.
    async fn enqueue_delayed(&self, job: &J, delay: Duration) -> Result<(), QueueError>;

    /// Queues every job, in as few requests as the queue allows; an error
    /// if any was not queued (those that were stay queued).
    async fn enqueue_all(&self, jobs: &[J]) -> Result<(), QueueError> {
        for job in jobs {
            self.enqueue(job).await?;
        }
        Ok(())
    }
}
