//! Stands in for Lambda's SQS event source mapping on the local stack: long
//! polls a queue, hands each message to the worker's handler, deletes what
//! succeeded or is poison, and leaves failures for redelivery (and, after
//! the redrive count, the dead-letter queue).

use shared::adapters::dynamo::Store;
use shared::cleanup::{MessageOutcome, handle_message};
use std::time::Duration;
use tokio::sync::watch;

/// SQS's largest receive batch.
const BATCH: i32 = 10;
const WAIT_SECONDS: i32 = 1;

pub async fn drive_cleanup_queue(
    store: Store,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    mut shutdown: watch::Receiver<bool>,
) {
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
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(error), "polling the cleanup queue failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in messages {
            let id = message.message_id.unwrap_or_default();
            let body = message.body.unwrap_or_default();
            let outcome = handle_message(&store, &id, &body).await;
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
