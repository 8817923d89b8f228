//! The cleanup worker's batch handling, apart from `main` so tests can feed
//! it real-shaped SQS events.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::app::cleanup::handle_message;
use shared::jobs::batch::run_batch;
use shared::ports::CascadeStore;

/// Cascades touch different items each; a few at once keep a burst of
/// deletions moving without crowding the table.
const CONCURRENCY: usize = 4;

/// Runs every message of a batch on its own and lists only the ones to
/// retry, so one bad message never sends the whole batch back.
pub async fn handle_batch(store: &dyn CascadeStore, event: SqsEvent) -> SqsBatchResponse {
    run_batch(event, CONCURRENCY, |message| async move {
        handle_message(store, &message.id, &message.body).await
    })
    .await
}
