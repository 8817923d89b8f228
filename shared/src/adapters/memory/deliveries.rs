//! Webhook deliveries in memory: an attempt and its webhook's state in one
//! write under the store's lock, as DynamoDB writes them in one
//! transaction.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::ids::{DeliveryId, WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::delivery::{AttemptRecord, Decision, Delivery, DeliveryStatus};
use crate::ports::{Conflict, DeliveryPage, DeliveryStore, StoreError, StoredWebhook};
use async_trait::async_trait;

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn record_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            let hook = (delivery.workspace_id.clone(), delivery.webhook_id.clone());
            if !t.webhooks.contains_key(&hook) {
                return Err(StoreError::NotFound("webhook"));
            }
            let key = (delivery.webhook_id.clone(), delivery.id.clone());
            if t.deliveries.contains_key(&key) {
                return Err(Conflict::IdCollision("delivery").into());
            }
            t.deliveries.insert(key, delivery.clone());
            Ok(())
        })
        .await
    }

    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            for delivery in deliveries {
                let hook = (delivery.workspace_id.clone(), delivery.webhook_id.clone());
                if !t.webhooks.contains_key(&hook) {
                    return Err(StoreError::NotFound("webhook"));
                }
                if t.deliveries
                    .contains_key(&(delivery.webhook_id.clone(), delivery.id.clone()))
                {
                    return Err(Conflict::IdCollision("delivery").into());
                }
            }
            for delivery in deliveries {
                let key = (delivery.webhook_id.clone(), delivery.id.clone());
                t.deliveries.insert(key, delivery.clone());
            }
            Ok(())
        })
        .await
    }

    async fn delivery_with_webhook(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
    ) -> Result<(Option<StoredWebhook>, Option<Delivery>), StoreError> {
        self.run(Call::Read, |t| {
            let stored = t.webhooks.get(&(ws.clone(), webhook.clone())).cloned();
            let delivery = t
                .deliveries
                .get(&(webhook.clone(), id.clone()))
                .filter(|d| &d.workspace_id == ws)
                .cloned();
            Ok((stored, delivery))
        })
        .await
    }

    async fn get_delivery(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.deliveries
                .get(&(webhook.clone(), id.clone()))
                .filter(|d| &d.workspace_id == ws)
                .cloned())
        })
        .await
    }

    async fn deliveries(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        limit: usize,
        before: Option<&DeliveryId>,
    ) -> Result<DeliveryPage, StoreError> {
        self.run(Call::Read, |t| {
            let mut newest_first = t
                .deliveries
                .iter()
                .filter(|((hook, id), d)| {
                    hook == webhook && &d.workspace_id == ws && before.is_none_or(|b| id < b)
                })
                .rev()
                .map(|(_, d)| d.clone());
            let deliveries: Vec<Delivery> = newest_first.by_ref().take(limit).collect();
            let next = newest_first
                .next()
                .and(deliveries.last().map(|d| d.id.clone()));
            Ok(DeliveryPage { deliveries, next })
        })
        .await
    }

    async fn retry_delivery(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<Delivery, StoreError> {
        self.run(Call::Write, |t| {
            let delivery = t
                .deliveries
                .get_mut(&(webhook.clone(), id.clone()))
                .filter(|d| &d.workspace_id == ws)
                .ok_or(StoreError::NotFound("delivery"))?;
            if delivery.status == DeliveryStatus::Succeeded {
                return Err(Conflict::DeliverySucceeded.into());
            }
            delivery.status = DeliveryStatus::Pending;
            delivery.next_attempt_at = Some(now);
            Ok(delivery.clone())
        })
        .await
    }

    async fn record_attempt(
        &self,
        delivery: &Delivery,
        attempt: &AttemptRecord,
        decision: &Decision,
    ) -> Result<(), StoreError> {
        // As DynamoDB writes it: the webhook only when the attempt changes
        // it, else the delivery alone.
        let call = if decision.changes_webhook {
            Call::Transaction
        } else {
            Call::Write
        };
        self.run(call, |t| {
            let hook = (delivery.workspace_id.clone(), delivery.webhook_id.clone());
            if decision.changes_webhook && !t.webhooks.contains_key(&hook) {
                return Err(StoreError::NotFound("webhook"));
            }
            let stored = t
                .deliveries
                .get_mut(&(delivery.webhook_id.clone(), delivery.id.clone()))
                .filter(|d| d.attempts.len() == delivery.attempts.len())
                .ok_or(Conflict::ChangedMeanwhile("delivery"))?;
            stored.attempts.push(attempt.clone());
            stored.status = decision.status;
            stored.next_attempt_at = decision.next_attempt_at;
            if !decision.changes_webhook {
                return Ok(());
            }
            let webhook = t.webhooks.get_mut(&hook).expect("checked above");
            webhook.failing_since = decision.failing_since;
            if let Some(reason) = decision.disable {
                webhook.webhook.active = false;
                webhook.webhook.disabled_reason = Some(reason.to_owned());
            }
            Ok(())
        })
        .await
    }
}
