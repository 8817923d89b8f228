//! Delivering events to webhooks (the worker's side; `webhook_dispatch`
//! makes the deliveries and their jobs). A job tries its delivery
//! when it is due, signs it with every secret still honoured, records the
//! attempt with what it decides (in one write with the webhook's state),
//! and queues the next attempt on the schedule.
//!
//! At least once: the attempt is sent before it is recorded, so a worker
//! that dies between the two sends it again on the job's redelivery (the
//! `webhook-id` header lets a receiver drop the repeat); two workers
//! holding one job record one attempt between them.

use super::job_error::JobError;
use super::opened_secrets::OpenedSecrets;
use super::webhook_dispatch::{EventDispatcher, job_of};
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;
use crate::domain::webhook::RetrySchedule;
use crate::domain::webhook::delivery::{
    AttemptRecord, AttemptResult, Decision, Delivery, DeliveryStatus, decide,
};
use crate::domain::webhook::signature::{WebhookSecret, signature_header};
use crate::jobs::{Job, MessageOutcome, WebhookJob};
use crate::ports::webhook_sender::{Attempt, Outcome, WebhookSender};
use crate::ports::{Conflict, JobQueue, SecretCipher, SecretContext, StoreError, StoredWebhook};
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
    /// Moved to the failing lane: its webhook's last attempt failed.
    Diverted,
}

/// Which jobs a worker tries. Jobs of a webhook whose last attempt failed
/// (a dead or hanging endpoint, each attempt up to the timeout) wait and
/// are tried on a queue of their own, so they hold up only each other and
/// never the healthy endpoints' deliveries; a success brings the webhook's
/// jobs back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Tries healthy webhooks' jobs; moves a failing webhook's away.
    Healthy,
    /// Tries every job it is given.
    Failing,
}

pub struct WebhookDeliverer {
    /// Where deliveries are recorded and queued, and the time.
    pub dispatcher: EventDispatcher,
    pub sender: Arc<dyn WebhookSender>,
    pub cipher: Arc<dyn SecretCipher>,
    pub schedule: RetrySchedule,
    /// The failing lane's queue (the healthy lane's is the dispatcher's).
    pub failing_queue: Arc<dyn JobQueue<WebhookJob>>,
    pub lane: Lane,
    /// Each webhook's secrets (current, and the one a rotation replaced),
    /// opened once a while rather than at every attempt.
    pub opened: OpenedSecrets<(WebhookId, usize)>,
}

impl WebhookDeliverer {
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
        let (stored, delivery) = self
            .dispatcher
            .deliveries
            .delivery_with_webhook(&job.workspace_id, &job.webhook_id, &job.delivery_id)
            .await?;
        let Some(stored) = stored else {
            return Ok(Tried::Nothing("the webhook is gone"));
        };
        let Some(delivery) = delivery else {
            return Ok(Tried::Nothing("the delivery is gone"));
        };
        if delivery.status != DeliveryStatus::Pending {
            return Ok(Tried::Nothing("the delivery is settled"));
        }
        if delivery.next_attempt_at.map(Timestamp::millis) != Some(job.due_at_ms) {
            return Ok(Tried::Nothing("a newer job holds the delivery"));
        }
        let failing = stored.failing_since.is_some();
        if failing && self.lane == Lane::Healthy {
            self.failing_queue.enqueue(job).await?;
            return Ok(Tried::Diverted);
        }
        let now = self.dispatcher.clock.timestamp();
        if let Some(due) = delivery.next_attempt_at.filter(|due| *due > now) {
            self.queue_for(job, due, now, failing).await?;
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
                changes_webhook: false,
            };
            let result = Outcome::Failed {
                status: None,
                error: OFF.into(),
            };
            (record, result, decision)
        };
        match self
            .dispatcher
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
        crate::metrics::record(crate::metrics::Metric::WebhookDeliveries(
            match decision.status {
                DeliveryStatus::Succeeded => crate::metrics::Outcome::Succeeded,
                DeliveryStatus::Pending => crate::metrics::Outcome::Retrying,
                DeliveryStatus::Failed => crate::metrics::Outcome::Failed,
            },
        ));
        if let Some(due) = decision.next_attempt_at {
            let failing = decision.failing_since.is_some();
            self.queue_for(&job_of(&delivery, due), due, now, failing)
                .await?;
        }
        Ok(Tried::Attempted(result))
    }

    /// Queues `job` for `due` on the lane of a webhook that is `failing`
    /// or not, or as close to `due` as the queue can hold a job back: a
    /// longer wait is reached in steps.
    async fn queue_for(
        &self,
        job: &WebhookJob,
        due: Timestamp,
        now: Timestamp,
        failing: bool,
    ) -> Result<(), JobError> {
        let wait = Duration::from_millis(u64::try_from(due.millis() - now.millis()).unwrap_or(0));
        let queue = if failing {
            &self.failing_queue
        } else {
            &self.dispatcher.queue
        };
        Ok(queue
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
        for (slot, sealed) in stored.secrets.signing_at(now).into_iter().enumerate() {
            let owner = (delivery.webhook_id.clone(), slot);
            let opened = self
                .opened
                .open(self.cipher.as_ref(), &owner, sealed, &context)
                .await?;
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
