//! Where a workspace's webhooks are kept, with their sealed secrets.

use super::StoreError;
use crate::domain::ids::{WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::endpoint::{Webhook, WebhookChanges};
use async_trait::async_trait;

/// A webhook's signing secrets, sealed (see `SecretCipher`): the current
/// one and, until the instant given, the one a rotation replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecrets {
    pub current: Vec<u8>,
    pub previous: Option<(Vec<u8>, Timestamp)>,
}

impl SealedSecrets {
    /// The secrets that sign a delivery sent at `now`: the current one,
    /// and the previous one while it is still honoured.
    pub fn signing_at(&self, now: Timestamp) -> Vec<&[u8]> {
        std::iter::once(self.current.as_slice())
            .chain(
                self.previous
                    .as_ref()
                    .filter(|(_, until)| now < *until)
                    .map(|(sealed, _)| sealed.as_slice()),
            )
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWebhook {
    pub webhook: Webhook,
    pub secrets: SealedSecrets,
    /// Since when every delivery to it has failed (`None` after one
    /// succeeds): five days of it turn the webhook off.
    pub failing_since: Option<Timestamp>,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new webhook with its sealed secret, unless its workspace
    /// has [`WEBHOOKS_PER_WORKSPACE`](crate::domain::webhook::WEBHOOKS_PER_WORKSPACE)
    /// already (`Conflict::TooManyWebhooks`), however many are created at
    /// once.
    async fn create_webhook(&self, webhook: &Webhook, sealed: Vec<u8>) -> Result<(), StoreError>;

    /// The workspace's webhooks, newest first.
    async fn webhooks(&self, ws: &WorkspaceId) -> Result<Vec<Webhook>, StoreError>;

    async fn get_webhook(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>, StoreError>;

    /// The webhook with `changes` applied (its `updatedAt` the store's to
    /// set); `NotFound("webhook")`.
    async fn update_webhook(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
        changes: &WebhookChanges,
    ) -> Result<Webhook, StoreError>;

    /// Makes `sealed` the current secret; the one it replaces still signs
    /// until `previous_until`. `NotFound("webhook")`.
    async fn rotate_secret(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
        sealed: Vec<u8>,
        previous_until: Timestamp,
    ) -> Result<(), StoreError>;

    /// Deletes the webhook, uncounts it and deletes its deliveries;
    /// `NotFound("webhook")`.
    async fn delete_webhook(&self, ws: &WorkspaceId, id: &WebhookId) -> Result<(), StoreError>;
}
