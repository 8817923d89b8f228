//! The cleanup queue: cascades too large for one request are queued here and
//! done by the cleanup worker.

use crate::cleanup::CleanupJob;
use aws_sdk_sqs::Client;

#[derive(Debug, thiserror::Error)]
#[error("could not queue the cleanup job")]
pub struct QueueError(#[source] Box<dyn std::error::Error + Send + Sync>);

#[derive(Clone, Debug)]
pub struct CleanupQueue {
    client: Client,
    url: String,
}

impl CleanupQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub async fn enqueue(&self, job: &CleanupJob) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.to_message())
            .send()
            .await
            .map_err(|e| QueueError(Box::new(e)))?;
        Ok(())
    }
}
