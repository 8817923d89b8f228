//! One SQS batch, for every worker: each body is handled on its own (one bad
//! message never fails its batch), a few at a time, each in a span with its
//! message id, and only the messages worth another delivery are reported
//! back as batch item failures.

use super::MessageOutcome;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures_util::stream::{self, StreamExt};
use std::future::Future;
use tracing::Instrument;

/// One message as a handler sees it.
#[derive(Clone, Debug)]
pub struct QueueMessage {
    pub id: String,
    pub body: String,
    /// SQS's `ApproximateReceiveCount`: 1 on the first delivery.
    pub delivery: u32,
    /// The queue it came from (`eventSourceARN`): one function may consume
    /// a queue and its dead-letter queue.
    pub source: String,
}

/// Runs `handle` over every message of the batch, at most `concurrency` at
/// once, and answers the ids to redeliver.
pub async fn run_batch<F, Fut>(event: SqsEvent, concurrency: usize, handle: F) -> SqsBatchResponse
where
    F: Fn(QueueMessage) -> Fut,
    Fut: Future<Output = MessageOutcome>,
{
    let messages = event.records.into_iter().map(|record| QueueMessage {
        delivery: record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        id: record.message_id.unwrap_or_default(),
        body: record.body.unwrap_or_default(),
        source: record.event_source_arn.unwrap_or_default(),
    });
    let handle = &handle;
    let outcomes: Vec<(String, MessageOutcome)> = stream::iter(messages)
        .map(|message| {
            let span =
                tracing::info_span!("message", message_id = %message.id, delivery = message.delivery);
            let id = message.id.clone();
            let delivery = message.delivery;
            // Boxed: the handlers' nested futures are deep enough to exceed
            // the compiler's layout recursion limit when inlined.
            async move {
                let outcome = Box::pin(handle(message)).await;
                if outcome == MessageOutcome::Retry && delivery >= super::LAST_DELIVERY {
                    // The handler logged why this delivery failed, with ids.
                    tracing::error!(
                        message_id = %id,
                        delivery,
                        "no delivery left: the queue moves this message to its dead-letter queue"
                    );
                }
                (id, outcome)
            }
            .instrument(span)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if outcome == MessageOutcome::Retry {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;

    fn event(bodies: &[&str]) -> SqsEvent {
        let mut event = SqsEvent::default();
        for (i, body) in bodies.iter().enumerate() {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m{i}"));
            message.body = Some((*body).to_owned());
            message
                .attributes
                .insert("ApproximateReceiveCount".into(), "3".into());
            event.records.push(message);
        }
        event
    }

    #[tokio::test]
    async fn only_the_messages_to_retry_are_reported_and_every_message_is_handled() {
        let seen = std::sync::Mutex::new(Vec::new());
        let response = run_batch(event(&["done", "retry", "poison", "retry"]), 2, |m| {
            seen.lock().unwrap().push((m.body.clone(), m.delivery));
            async move {
                match m.body.as_str() {
                    "retry" => MessageOutcome::Retry,
                    "poison" => MessageOutcome::Poison,
                    _ => MessageOutcome::Done,
                }
            }
        })
        .await;
        let mut failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        failed.sort();
        assert_eq!(failed, ["m1", "m3"]);
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 4);
        assert!(seen.iter().all(|(_, delivery)| *delivery == 3));
    }

    #[tokio::test]
    async fn no_more_than_the_concurrency_run_at_once() {
        let running = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        use std::sync::atomic::Ordering::SeqCst;
        run_batch(event(&["a"; 10]), 3, |_| async {
            let now = running.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            running.fetch_sub(1, SeqCst);
            MessageOutcome::Done
        })
        .await;
        assert_eq!(most.load(SeqCst), 3);
    }
}
