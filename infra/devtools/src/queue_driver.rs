//! Stands in for Lambda's SQS event source mappings on the local stack: long
//! polls a queue, hands each message to the worker's handler, deletes what
//! succeeded or is poison, and leaves failures for redelivery (and, after
//! the redrive count, the dead-letter queue).

use aws_sdk_sqs::types::MessageSystemAttributeName;
use shared::jobs::MessageOutcome;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// SQS's largest receive batch.
const BATCH: i32 = 10;
const WAIT_SECONDS: i32 = 1;

/// Runs until `shutdown` turns true. `handle(message id, body, delivery)`.
pub async fn drive_queue<F, Fut>(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    mut shutdown: watch::Receiver<bool>,
    handle: F,
) where
    F: Fn(String, String, u32) -> Fut,
    Fut: Future<Output = MessageOutcome>,
{
    loop {
        if *shutdown.borrow() {
            return;
        }
        let received = tokio::select! {
            _ = shutdown.changed() => return,
            received = sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(BATCH)
                .wait_time_seconds(WAIT_SECONDS)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send() => received,
        };
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(queue = %queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(error), "polling a queue failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in messages {
            let delivery = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let id = message.message_id.clone().unwrap_or_default();
            let body = message.body.clone().unwrap_or_default();
            let outcome = handle(id, body, delivery).await;
            if outcome != MessageOutcome::Retry
                && let Some(receipt) = message.receipt_handle
            {
                let _ = sqs
                    .delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await;
            }
        }
    }
}

/// [`drive_queue`] for handlers that wait on others (a webhook's endpoint
/// may take its full timeout): each message is handled on a task of its
/// own, up to `in_flight` at once, while the queue is polled on, as Lambda
/// runs batches side by side. Each message is deleted when its handler is
/// done with it.
pub async fn drive_queue_concurrently<F, Fut>(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    mut shutdown: watch::Receiver<bool>,
    in_flight: usize,
    handle: F,
) where
    F: Fn(String, String) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = MessageOutcome> + Send,
{
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
    loop {
        if *shutdown.borrow() {
            return;
        }
        let received = tokio::select! {
            _ = shutdown.changed() => return,
            received = sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(BATCH)
                .wait_time_seconds(WAIT_SECONDS)
                .send() => received,
        };
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(queue = %queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(error), "polling a queue failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in messages {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (sqs, queue_url, handle) = (sqs.clone(), queue_url.clone(), handle.clone());
            tokio::spawn(async move {
                let id = message.message_id.clone().unwrap_or_default();
                let body = message.body.clone().unwrap_or_default();
                let outcome = handle(id, body).await;
                if outcome != MessageOutcome::Retry
                    && let Some(receipt) = message.receipt_handle
                {
                    let _ = sqs
                        .delete_message()
                        .queue_url(&queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await;
                }
                drop(slot);
            });
        }
    }
}
