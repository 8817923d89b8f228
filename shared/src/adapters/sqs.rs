//! Job queues on SQS. Messages carry ids only.

use crate::jobs::Job;
use crate::ports::{JobQueue, QueueError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use std::marker::PhantomData;

/// One SQS queue, carrying jobs of one type.
#[derive(Debug)]
pub struct SqsQueue<J> {
    client: Client,
    url: String,
    carries: PhantomData<fn(J)>,
}

impl<J> Clone for SqsQueue<J> {
    fn clone(&self) -> Self {
        Self::new(self.client.clone(), self.url.clone())
    }
}

impl<J> SqsQueue<J> {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
            carries: PhantomData,
        }
    }
}

#[async_trait]
impl<J: Job> JobQueue<J> for SqsQueue<J> {
    async fn enqueue(&self, job: &J) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.to_message())
            .send()
            .await
            .map_err(|error| QueueError {
                transient: match &error {
                    SdkError::ServiceError(service) => matches!(
                        service.err().code(),
                        Some(
                            "RequestThrottled"
                                | "KmsThrottled"
                                | "InternalError"
                                | "ServiceUnavailable"
                        )
                    ),
                    SdkError::ConstructionFailure(_) => false,
                    _ => true,
                },
                source: Box::new(error),
            })?;
        Ok(())
    }
}
