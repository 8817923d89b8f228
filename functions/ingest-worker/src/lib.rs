//! The ingest worker's batch handling, apart from `main` so the dev server
//! and tests drive the very same code.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::ingest::worker::Ingestor;
use shared::jobs::batch::run_batch;
use shared::ports::{Embedder, VectorIndex};

/// One document at a time per container: each already keeps several
/// provider requests in flight, and a large one needs the memory.
const CONCURRENCY: usize = 1;

/// Runs each message on its own and reports only the ones to retry. A
/// message from `dead_letters` (the queue's dead-letter queue, whose ARN
/// the function is given) ran out of deliveries: its document is marked
/// failed, or its removal is tried again, slowly.
pub async fn handle_batch<E: Embedder, V: VectorIndex>(
    ingestor: &Ingestor<E, V>,
    event: SqsEvent,
    dead_letters: &str,
) -> SqsBatchResponse {
    run_batch(event, CONCURRENCY, |message| async move {
        if message.source == dead_letters {
            ingestor
                .handle_dead_letter(&message.id, &message.body)
                .await
        } else {
            ingestor
                .handle_message(&message.id, &message.body, message.delivery)
                .await
        }
    })
    .await
}
