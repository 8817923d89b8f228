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
        let mut made = 0;
        for webhook in &targets {
            let delivery = Delivery::of(event, webhook, now);
            match self.deliveries.record_delivery(&delivery).await {
                Ok(()) => made += 1,
                // Made when this event was dispatched before (its change
                // read again): its job was queued then.
                Err(StoreError::Conflict(Conflict::IdCollision(_))) => continue,
                // Deleted since it was listed: nothing to deliver to.
                Err(StoreError::NotFound(_)) => continue,
                Err(error) => return Err(error.into()),
            }
            self.queue.enqueue(&job_of(&delivery, now)).await?;
        }
        Ok(made)
    }
}
