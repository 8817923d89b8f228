//! Stands in for Lambda's SQS event source mappings on the local stack: long
//! polls a queue, hands each message to the worker's handler, deletes what
//! succeeded or is poison, and leaves failures for redelivery (and, after
//! the redrive count, the dead-letter queue).

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use shared::jobs::MessageOutcome;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// SQS's largest receive batch.
const BATCH: i32 = 10;
const WAIT_SECONDS: i32 = 1;

/// The next batch, or `None` once `shutdown` turns true. A failed poll is
/// logged and answered as an empty batch, a second later.
async fn receive(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Vec<Message>> {
    if *shutdown.borrow() {
        return None;
    }
    let received = tokio::select! {
        _ = shutdown.changed() => return None,
        received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(BATCH)
            .wait_time_seconds(WAIT_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send() => received,
    };
    match received {
        Ok(output) => Some(output.messages.unwrap_or_default()),
        Err(error) => {
            tracing::warn!(queue = %queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(error), "polling a queue failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some(Vec::new())
        }
    }
}

/// Hands `message` to `handle(id, body, delivery)` and deletes it unless
/// it is to be retried.
async fn settle<F, Fut>(sqs: &aws_sdk_sqs::Client, queue_url: &str, message: Message, handle: &F)
where
    F: Fn(String, String, u32) -> Fut,
    Fut: Future<Output = MessageOutcome>,
{
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
            .queue_url(queue_url)
            .receipt_handle(receipt)
            .send()
            .await;
    }
}

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
    while let Some(messages) = receive(&sqs, &queue_url, &mut shutdown).await {
        for message in messages {
            settle(&sqs, &queue_url, message, &handle).await;
        }
    }
}

/// [`drive_queue`] for handlers that wait on others (a webhook's endpoint
/// may take its full timeout): each message is handled on a task of its
/// own, up to `in_flight` at once, while the queue is polled on, as Lambda
/// runs batches side by side.
pub async fn drive_queue_concurrently<F, Fut>(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    mut shutdown: watch::Receiver<bool>,
    in_flight: usize,
    handle: F,
) where
    F: Fn(String, String, u32) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = MessageOutcome> + Send,
{
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
    while let Some(messages) = receive(&sqs, &queue_url, &mut shutdown).await {
        for message in messages {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (sqs, queue_url, handle) = (sqs.clone(), queue_url.clone(), handle.clone());
            tokio::spawn(async move {
                settle(&sqs, &queue_url, message, &handle).await;
                drop(slot);
            });
        }
    }
}
