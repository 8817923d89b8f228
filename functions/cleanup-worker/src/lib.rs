//! The cleanup worker's batch handling, apart from `main` so tests can feed
//! it real-shaped SQS events.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use shared::adapters::dynamo::Store;
use shared::cleanup::{MessageOutcome, handle_message};
use tracing::Instrument;

/// Runs every message of a batch on its own and lists only the ones to
/// retry, so one bad message never sends the whole batch back.
pub async fn handle_batch(store: &Store, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id);
        // Boxed: the store's nested futures are deep enough to exceed the
        // compiler's layout recursion limit when inlined into the runtime's.
        let outcome = Box::pin(handle_message(store, &id, &body))
            .instrument(span)
            .await;
        if outcome == MessageOutcome::Retry {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
