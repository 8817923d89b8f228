//! Job queues: the cleanup queue (cascades too large for one request) and
//! the ingest queue (documents to index). Messages carry ids only.

use crate::cleanup::CleanupJob;
use aws_sdk_sqs::Client;

#[derive(Debug, thiserror::Error)]
#[error("could not queue the job")]
pub struct QueueError(#[source] Box<dyn std::error::Error + Send + Sync>);

#[derive(Clone, Debug)]
pub struct JobQueue {
    client: Client,
    url: String,
}

impl JobQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub async fn enqueue(&self, job: &CleanupJob) -> Result<(), QueueError> {
        self.send(job.to_message()).await
    }

    pub async fn send(&self, body: String) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError(Box::new(e)))?;
        Ok(())
    }
}
