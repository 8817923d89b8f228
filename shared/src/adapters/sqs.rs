//! Job queues on SQS. Messages carry ids only.

use crate::jobs::Job;
use crate::ports::{JobQueue, QueueError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use std::marker::PhantomData;
use std::time::Duration;

/// SQS delays a message by at most 15 minutes.
const MAX_DELAY_SECONDS: u64 = 900;

/// One SQS queue, carrying jobs of one type.
#[derive(Debug)]
pub struct SqsQueue<J> {
    client: Client,
    url: String,
    longest_delay: Duration,
    carries: PhantomData<fn(J)>,
}

impl<J> Clone for SqsQueue<J> {
    fn clone(&self) -> Self {
        Self::new(self.client.clone(), self.url.clone()).with_longest_delay(self.longest_delay)
    }
}

impl<J> SqsQueue<J> {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
            longest_delay: Duration::from_secs(MAX_DELAY_SECONDS),
            carries: PhantomData,
        }
    }

    /// Shortens every delay to at most `longest`: local stacks whose tests
    /// hand queued jobs to workers themselves, and read the queue at once.
    pub fn with_longest_delay(mut self, longest: Duration) -> Self {
        self.longest_delay = longest;
        self
    }
}

#[async_trait]
impl<J: Job> JobQueue<J> for SqsQueue<J> {
    async fn enqueue(&self, job: &J) -> Result<(), QueueError> {
        self.send(job, None).await
    }

    /// Ten to a `SendMessageBatch`, SQS's most.
    async fn enqueue_all(&self, jobs: &[J]) -> Result<(), QueueError> {
        for chunk in jobs.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(n, job)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(n.to_string())
                        .message_body(job.to_message())
                        .build()
                        .expect("an id and a body")
                })
                .collect();
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(queue_error)?;
            if let Some(failed) = sent.failed.first() {
                return Err(QueueError {
                    transient: !failed.sender_fault,
                    source: format!("a batched job was refused: {}", failed.code).into(),
                });
            }
        }
        Ok(())
    }

    async fn enqueue_delayed(&self, job: &J, delay: Duration) -> Result<(), QueueError> {
        // Whole seconds, rounded up: a job is never seen before its delay.
        let seconds = (delay.min(self.longest_delay).as_millis().div_ceil(1000) as u64)
            .min(MAX_DELAY_SECONDS);
        self.send(job, Some(seconds as i32)).await
    }
}

impl<J: Job> SqsQueue<J> {
    async fn send(&self, job: &J, delay_seconds: Option<i32>) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.to_message())
            .set_delay_seconds(delay_seconds)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }
}

/// Throttled, timed out or unreachable is transient; a refusal is not.
fn queue_error<E, R>(error: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    QueueError {
        transient: match &error {
            SdkError::ServiceError(service) => matches!(
                service.err().code(),
                Some("RequestThrottled" | "KmsThrottled" | "InternalError" | "ServiceUnavailable")
            ),
            SdkError::ConstructionFailure(_) => false,
            _ => true,
        },
        source: Box::new(error),
    }
}
