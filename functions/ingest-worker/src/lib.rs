//! The ingest worker's batch handling, apart from `main` so the dev server
//! and tests drive the very same code.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use shared::cleanup::MessageOutcome;
use shared::ingest::worker::Ingestor;
use shared::ports::{Embedder, VectorIndex};
use tracing::Instrument;

/// Runs each message on its own and reports only the ones to retry.
pub async fn handle_batch<E: Embedder, V: VectorIndex>(
    ingestor: &Ingestor<E, V>,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let delivery = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let span = tracing::info_span!("message", message_id = %id, delivery);
        let outcome = Box::pin(ingestor.handle_message(&id, &body, delivery))
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
