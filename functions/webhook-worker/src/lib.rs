//! The webhook worker's batch handling, apart from `main` so tests feed it
//! real-shaped SQS events. One function reads both lanes' queues (each
//! event source mapping with its own maximum concurrency): a message from
//! the failing lane's queue is tried by the failing lane's deliverer.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::app::webhook_delivery::{DELIVERY_CONCURRENCY, WebhookDeliverer};
use shared::jobs::batch::run_batch;

/// The two lanes' deliverers, and the ARN of the failing lane's queue that
/// tells their messages apart.
pub struct Lanes {
    pub healthy: WebhookDeliverer,
    pub failing: WebhookDeliverer,
    pub failing_queue_arn: String,
}

/// Runs each message on its own, a few at once, and reports only the ones
/// to retry.
pub async fn handle_batch(lanes: &Lanes, event: SqsEvent) -> SqsBatchResponse {
    run_batch(event, DELIVERY_CONCURRENCY, |message| async move {
        let deliverer = if message.source == lanes.failing_queue_arn {
            &lanes.failing
        } else {
            &lanes.healthy
        };
        deliverer.handle_message(&message.id, &message.body).await
    })
    .await
}
