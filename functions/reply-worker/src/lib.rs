//! The reply worker's batch handling, apart from `main` so tests feed it
//! real-shaped SQS events.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::app::reply::{REPLY_CONCURRENCY, ReplyWorker};
use shared::jobs::batch::run_batch;

/// Runs each message on its own and reports only the ones to retry.
pub async fn handle_batch(worker: &ReplyWorker, event: SqsEvent) -> SqsBatchResponse {
    run_batch(event, REPLY_CONCURRENCY, |message| async move {
        worker.handle_message(&message.id, &message.body).await
    })
    .await
}
