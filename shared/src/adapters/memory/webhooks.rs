//! Webhooks in memory: one workspace's count held under the store's lock,
//! as the DynamoDB adapter holds it with a conditional counter.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::ids::{WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::WEBHOOKS_PER_WORKSPACE;
use crate::domain::webhook::endpoint::{Webhook, WebhookChanges};
use crate::ports::{Conflict, SealedSecrets, StoreError, StoredWebhook, WebhookStore};
use async_trait::async_trait;

const NOT_FOUND: StoreError = StoreError::NotFound("webhook");

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_webhook(&self, webhook: &Webhook, sealed: Vec<u8>) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let ws = &webhook.workspace_id;
            let held = t.webhooks.keys().filter(|(w, _)| w == ws).count();
            if held >= WEBHOOKS_PER_WORKSPACE {
                return Err(Conflict::TooManyWebhooks(WEBHOOKS_PER_WORKSPACE).into());
            }
            let key = (ws.clone(), webhook.id.clone());
            if t.webhooks.contains_key(&key) {
                return Err(Conflict::IdCollision("webhook").into());
            }
            t.webhooks.insert(
                key,
                StoredWebhook {
                    webhook: webhook.clone(),
                    secrets: SealedSecrets {
                        current: sealed,
                        previous: None,
                    },
                    failing_since: None,
                },
            );
            Ok(())
        })
        .await
    }

    async fn webhooks(&self, ws: &WorkspaceId) -> Result<Vec<Webhook>, StoreError> {
        self.run(Call::Read, |t| {
            let mut found: Vec<Webhook> = t
                .webhooks
                .iter()
                .filter(|((w, _), _)| w == ws)
                .map(|(_, stored)| stored.webhook.clone())
                .collect();
            found.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            Ok(found)
        })
        .await
    }

    async fn get_webhook(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.webhooks.get(&(ws.clone(), id.clone())).cloned())
        })
        .await
    }

    async fn update_webhook(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
        changes: &WebhookChanges,
    ) -> Result<Webhook, StoreError> {
        self.run(Call::Write, |t| {
            let stored = t
                .webhooks
                .get_mut(&(ws.clone(), id.clone()))
                .ok_or(NOT_FOUND)?;
            changes.apply_to(&mut stored.webhook, Timestamp::now());
            if changes.active == Some(true) {
                stored.failing_since = None;
            }
            Ok(stored.webhook.clone())
        })
        .await
    }

    async fn rotate_secret(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
        sealed: Vec<u8>,
        previous_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            let stored = t
                .webhooks
                .get_mut(&(ws.clone(), id.clone()))
                .ok_or(NOT_FOUND)?;
            let replaced = std::mem::replace(&mut stored.secrets.current, sealed);
            stored.secrets.previous = Some((replaced, previous_until));
            Ok(())
        })
        .await
    }

    async fn delete_webhook(&self, ws: &WorkspaceId, id: &WebhookId) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            t.webhooks
                .remove(&(ws.clone(), id.clone()))
                .ok_or(NOT_FOUND)?;
            t.deliveries.retain(|(hook, _), _| hook != id);
            Ok(())
        })
        .await
    }
}
