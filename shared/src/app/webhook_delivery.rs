//! Delivering events to webhooks: an event becomes one delivery per
//! active webhook that subscribed to it, each its own job, so a slow or
//! dead endpoint holds up only its own deliveries. A job tries its delivery
//! when it is due, signs it with every secret still honoured, records the
//! attempt with what it decides (in one write with the webhook's state),
//! and queues the next attempt on the schedule.
//!
//! At least once: the attempt is sent before it is recorded, so a worker
//! that dies between the two sends it again on the job's redelivery (the
//! `webhook-id` header lets a receiver drop the repeat); two workers
//! holding one job record one attempt between them.

use super::error::AppError;
use super::job_error::JobError;
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;
use crate::domain::webhook::RetrySchedule;
use crate::domain::webhook::delivery::{
    AttemptRecord, AttemptResult, Decision, Delivery, DeliveryStatus, Event, decide,
};
use crate::domain::webhook::signature::{WebhookSecret, signature_header};
use crate::jobs::{Job, MessageOutcome, WebhookJob};
use crate::ports::webhook_sender::{Attempt, Outcome, WebhookSender};
use crate::ports::{
    Clock, Conflict, DeliveryStore, JobQueue, SecretCipher, SecretContext, StoreError,
    StoredWebhook, WebhookStore,
};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

/// The longest a queued job can be held back (SQS's limit): a later
/// attempt is reached in steps of this.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(15 * 60);

/// Jobs tried at once per batch: each may wait on an endpoint for up to
/// the attempt timeout.
pub const DELIVERY_CONCURRENCY: usize = 10;

/// What trying a job came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tried {
    /// An attempt was made and recorded; the next one, if any, is queued.
    Attempted(Outcome),
    /// Not due yet: the job is queued again for when it is.
    NotDue,
    /// Nothing to do, for this reason (delivered already, webhook gone).
    Nothing(&'static str),
}

pub struct WebhookDeliverer {
    pub webhooks: Arc<dyn WebhookStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub sender: Arc<dyn WebhookSender>,
    pub cipher: Arc<dyn SecretCipher>,
    pub queue: Arc<dyn JobQueue<WebhookJob>>,
    pub schedule: RetrySchedule,
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

impl WebhookDeliverer {
    /// One delivery of `event` per active webhook of its workspace that
    /// wants it (or to `only` that webhook, active or not, for a test),
    /// each recorded and then queued. The number of deliveries made.
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
        for webhook in &targets {
            let delivery = Delivery::of(event, webhook, now);
            self.deliveries.record_delivery(&delivery).await?;
            self.queue.enqueue(&job_of(&delivery, now)).await?;
        }
        Ok(targets.len())
    }

    /// One queue message, decoded on its own.
    pub async fn handle_message(&self, message_id: &str, body: &str) -> MessageOutcome {
        let job = match WebhookJob::from_message(body) {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(message_id, error = %error, "not a webhook job; dropped");
                return MessageOutcome::Poison;
            }
        };
        match self.try_job(&job).await {
            Ok(tried) => {
                tracing::info!(webhook_id = %job.webhook_id, delivery_id = %job.delivery_id, tried = ?tried, "webhook job done");
                MessageOutcome::Done
            }
            Err(JobError::Transient(error)) => {
                tracing::warn!(webhook_id = %job.webhook_id, delivery_id = %job.delivery_id, error, "webhook job will be retried");
                MessageOutcome::Retry
            }
            Err(JobError::Permanent(error)) => {
                tracing::error!(webhook_id = %job.webhook_id, delivery_id = %job.delivery_id, error, "webhook job dropped");
                MessageOutcome::Poison
            }
        }
    }

    /// Tries the job's delivery if it is due; idempotent.
    pub async fn try_job(&self, job: &WebhookJob) -> Result<Tried, JobError> {
        let Some(stored) = self
            .webhooks
            .get_webhook(&job.workspace_id, &job.webhook_id)
            .await?
        else {
            return Ok(Tried::Nothing("the webhook is gone"));
        };
        let Some(delivery) = self
            .deliveries
            .get_delivery(&job.workspace_id, &job.webhook_id, &job.delivery_id)
            .await?
        else {
            return Ok(Tried::Nothing("the delivery is gone"));
        };
        if delivery.status != DeliveryStatus::Pending {
            return Ok(Tried::Nothing("the delivery is settled"));
        }
        if delivery.next_attempt_at.map(Timestamp::millis) != Some(job.due_at_ms) {
            return Ok(Tried::Nothing("a newer job holds the delivery"));
        }
        let now = self.clock.timestamp();
        if let Some(due) = delivery.next_attempt_at.filter(|due| *due > now) {
            self.queue_for(job, due, now).await?;
            return Ok(Tried::NotDue);
        }
        let (record, result, decision) = if stored.webhook.active {
            let (record, result) = self.attempt(&stored, &delivery, now).await?;
            let decision = decide(
                result_of(&result),
                delivery.attempts.len() + 1,
                now,
                stored.failing_since,
                &self.schedule,
            );
            (record, result, decision)
        } else {
            // Not sent: settled as failed, the webhook's state untouched.
            const OFF: &str = "the webhook is turned off";
            let record = AttemptRecord {
                at: now,
                response_status: None,
                duration: Duration::ZERO,
                error: Some(OFF.into()),
            };
            let decision = Decision {
                status: DeliveryStatus::Failed,
                next_attempt_at: None,
                failing_since: stored.failing_since,
                disable: None,
            };
            let result = Outcome::Failed {
                status: None,
                error: OFF.into(),
            };
            (record, result, decision)
        };
        match self
            .deliveries
            .record_attempt(&delivery, &record, &decision)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::ChangedMeanwhile(_))) => {
                return Ok(Tried::Nothing("another worker recorded this attempt"));
            }
            Err(StoreError::NotFound(_)) => return Ok(Tried::Nothing("the webhook is gone")),
            Err(error) => return Err(error.into()),
        }
        if let Some(reason) = decision.disable {
            tracing::warn!(webhook_id = %job.webhook_id, reason, "webhook turned off");
        }
        if let Some(due) = decision.next_attempt_at {
            self.queue_for(&job_of(&delivery, due), due, now).await?;
        }
        Ok(Tried::Attempted(result))
    }

    /// Queues `job` for `due`, or as close to it as the queue can hold a
    /// job back: a longer wait is reached in steps.
    async fn queue_for(
        &self,
        job: &WebhookJob,
        due: Timestamp,
        now: Timestamp,
    ) -> Result<(), JobError> {
        let wait = Duration::from_millis(u64::try_from(due.millis() - now.millis()).unwrap_or(0));
        Ok(self
            .queue
            .enqueue_delayed(job, wait.min(MAX_QUEUE_DELAY))
            .await?)
    }

    /// Signs and sends one attempt.
    async fn attempt(
        &self,
        stored: &StoredWebhook,
        delivery: &Delivery,
        now: Timestamp,
    ) -> Result<(AttemptRecord, Outcome), JobError> {
        let context = SecretContext::webhook_secret(&delivery.workspace_id, &delivery.webhook_id);
        let mut secrets = Vec::new();
        for sealed in stored.secrets.signing_at(now) {
            let opened = self.cipher.open(sealed, &context).await?;
            let secret = WebhookSecret::parse(opened.expose_secret())
                .map_err(|_| JobError::Permanent("a stored secret is malformed".into()))?;
            secrets.push(secret);
        }
        let timestamp = now.millis() / 1000;
        let body = delivery.payload.as_bytes();
        let id = delivery.event_id.as_str();
        let signature = signature_header(&secrets.iter().collect::<Vec<_>>(), id, timestamp, body);
        let report = self
            .sender
            .attempt(Attempt {
                url: &stored.webhook.url,
                event_id: id,
                timestamp,
                signature: &signature,
                body,
            })
            .await;
        let (response_status, error) = match &report.outcome {
            Outcome::Delivered { status } => (Some(*status), None),
            Outcome::Gone => (Some(410), None),
            Outcome::Failed { status, error } => (*status, Some(error.clone())),
        };
        Ok((
            AttemptRecord {
                at: now,
                response_status,
                duration: report.duration,
                error,
            },
            report.outcome,
        ))
    }
}

fn result_of(outcome: &Outcome) -> AttemptResult {
    match outcome {
        Outcome::Delivered { .. } => AttemptResult::Delivered,
        Outcome::Gone => AttemptResult::Gone,
        Outcome::Failed { .. } => AttemptResult::Failed,
    }
}
