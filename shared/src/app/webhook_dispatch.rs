//! Turning an event into deliveries: one per active webhook of its
//! workspace that subscribed to it, each recorded and then queued as a job
//! of its own, so a slow or dead endpoint holds up only its own deliveries.
//! The API (a test, a retry) and the event feed both dispatch; only the
//! delivery worker sends.

use super::error::AppError;
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;
use crate::domain::webhook::delivery::{Delivery, Event};
use crate::jobs::WebhookJob;
use crate::ports::{Clock, Conflict, DeliveryStore, JobQueue, StoreError, WebhookStore};
use std::sync::Arc;

#[derive(Clone)]
pub struct EventDispatcher {
    pub webhooks: Arc<dyn WebhookStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub queue: Arc<dyn JobQueue<WebhookJob>>,
    pub clock: Arc<dyn Clock>,
}

/// The job for the attempt of `delivery` due at `due`.
pub fn job_of(delivery: &Delivery, due: Timestamp) -> WebhookJob {
    WebhookJob {
        workspace_id: delivery.workspace_id.clone(),
        webhook_id: delivery.webhook_id.clone(),
        delivery_id: delivery.id.clone(),
        due_at_ms: due.millis(),
    }
}

impl EventDispatcher {
    /// One delivery of `event` per active webhook of its workspace that
    /// wants it (or to `only` that webhook, active or not, for a test),
    /// each recorded and then queued. The number of deliveries made: one
    /// made by an earlier dispatch of the same event is not made again.
    pub async fn dispatch(
        &self,
        event: &Event,
        only: Option<&WebhookId>,
    ) -> Result<usize, AppError> {
        let now = self.clock.timestamp();
        let targets: Vec<WebhookId> = match only {
            Some(id) => vec![id.clone()],
            None => self
                .webhooks
                .webhooks(&event.workspace_id)
                .await?
                .into_iter()
                .filter(|w| w.active && w.subscription.wants(event.kind))
                .map(|w| w.id)
                .collect(),
        };
        let deliveries: Vec<Delivery> = targets
            .iter()
            .map(|webhook| Delivery::of(event, webhook, now))
            .collect();
        // All of them in one write and their jobs in as few sends, as a
        // first dispatch finds them; one by one when it does not.
        match self.deliveries.record_deliveries(&deliveries).await {
            Ok(()) => {
                let jobs: Vec<WebhookJob> = deliveries.iter().map(|d| job_of(d, now)).collect();
                self.queue.enqueue_all(&jobs).await?;
                Ok(deliveries.len())
            }
            Err(StoreError::Conflict(Conflict::IdCollision(_)) | StoreError::NotFound(_)) => {
                self.dispatch_each(&deliveries, now).await
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Records and queues each delivery on its own: the event was
    /// dispatched before (its change read again), or a webhook went since
    /// it was listed.
    async fn dispatch_each(
        &self,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<usize, AppError> {
        let mut made = 0;
        for delivery in deliveries {
            let job = match self.deliveries.record_delivery(delivery).await {
                Ok(()) => {
                    made += 1;
                    job_of(delivery, now)
                }
                Err(StoreError::Conflict(Conflict::IdCollision(_))) => {
                    // Queued then, unless that dispatch failed between its
                    // write and its send: a delivery never tried is queued
                    // again (a second job for it finds it tried, or tries
                    // it once; the attempt is recorded once).
                    match self
                        .deliveries
                        .get_delivery(&delivery.workspace_id, &delivery.webhook_id, &delivery.id)
                        .await?
                    {
                        Some(made_before) if made_before.attempts.is_empty() => {
                            let due = made_before.next_attempt_at.unwrap_or(now);
                            job_of(&made_before, due)
                        }
                        _ => continue,
                    }
                }
                // Deleted since it was listed: nothing to deliver to.
                Err(StoreError::NotFound(_)) => continue,
                Err(error) => return Err(error.into()),
            };
            self.queue.enqueue(&job).await?;
        }
        Ok(made)
    }
}
