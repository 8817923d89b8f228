//! Where webhook deliveries are kept: each with its attempts, a webhook's
//! newest first, and what an attempt decides written with the webhook's
//! own state at once.

use super::{StoreError, StoredWebhook};
use crate::domain::ids::{DeliveryId, WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::delivery::{AttemptRecord, Decision, Delivery};
use async_trait::async_trait;

/// A page of deliveries and where the next one starts, if there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next: Option<DeliveryId>,
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Records a new delivery; `NotFound("webhook")` if its webhook is gone.
    async fn record_delivery(&self, delivery: &Delivery) -> Result<(), StoreError>;

    /// Records new deliveries (one event's, at most one per webhook of a
    /// workspace) all at once, or none: `Conflict::IdCollision` if one is
    /// there already, `NotFound("webhook")` if a webhook is gone.
    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError>;

    async fn get_delivery(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;

    /// The webhook and one of its deliveries, read at once: what a
    /// delivery job needs before its attempt.
    async fn delivery_with_webhook(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
    ) -> Result<(Option<StoredWebhook>, Option<Delivery>), StoreError>;

    /// Up to `limit` of the webhook's deliveries, newest first, made before
    /// the delivery `before` names (from the newest when `None`).
    async fn deliveries(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        limit: usize,
        before: Option<&DeliveryId>,
    ) -> Result<DeliveryPage, StoreError>;

    /// Makes a failed or pending delivery due at `now` for one more attempt
    /// (its attempts kept); `Conflict::DeliverySucceeded` for one that
    /// succeeded, `NotFound("delivery")`.
    async fn retry_delivery(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<Delivery, StoreError>;

    /// Adds `attempt` to `delivery` as `decision` says, with, when it
    /// `changes_webhook`, the webhook's failing run and, if decided, its
    /// turning off, all at once; only if
    /// the delivery still has the attempts it was read with, so of two
    /// workers holding the same job one records
    /// (`Conflict::ChangedMeanwhile("delivery")` for the other).
    /// `NotFound("webhook")` if the webhook is gone.
    async fn record_attempt(
        &self,
        delivery: &Delivery,
        attempt: &AttemptRecord,
        decision: &Decision,
    ) -> Result<(), StoreError>;
}
