//! Managing a workspace's webhooks: owners and admins only (members and
//! guests are refused, and a workspace the caller is not in is not there,
//! as the member lookup decides before anything here). A webhook's secret
//! is shown twice in its life, when it is made and when it is rotated, and
//! sealed at rest under the webhook's own context.

use super::error::AppError;
use super::guard;
use super::webhook_dispatch::{EventDispatcher, job_of};
use crate::domain::fields::FieldErrors;
use crate::domain::ids::{DeliveryId, EventId, WebhookId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::time::Timestamp;
use crate::domain::webhook::delivery::{Delivery, Event};
use crate::domain::webhook::endpoint::{NewWebhook, Webhook, WebhookChanges};
use crate::domain::webhook::signature::WebhookSecret;
use crate::domain::webhook::target::{TargetPolicy, WebhookUrl};
use crate::domain::webhook::{EventType, ROTATION_OVERLAP};
use crate::ports::webhook_sender::HostResolver;
use crate::ports::{DeliveryPage, SecretCipher, SecretContext};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;

pub const MANAGERS_ONLY: &str = "only owners and admins may manage webhooks";
/// The most deliveries one page lists.
pub const DELIVERY_PAGE_MAX: usize = 100;

pub struct Webhooks {
    pub dispatcher: EventDispatcher,
    pub cipher: Arc<dyn SecretCipher>,
    /// Where webhooks may point (loopback only on a developer's machine).
    pub policy: TargetPolicy,
    /// What a webhook's host name resolves to when it is saved.
    pub hosts: Arc<dyn HostResolver>,
}

fn webhook_id(raw: &str) -> Result<WebhookId, AppError> {
    WebhookId::parse(raw).ok_or(AppError::NotFound("webhook"))
}

impl Webhooks {
    fn managed(actor: &Actor) -> Result<(), AppError> {
        guard::allowed(actor.can_manage_workspace(), MANAGERS_ONLY)
    }

    /// A 400 naming `url` when its host name resolves, now, to an address
    /// the policy refuses. Each delivery checks again: a name can be
    /// pointed elsewhere after it is saved.
    async fn check_resolved(&self, url: &WebhookUrl) -> Result<(), AppError> {
        let (host, _) = url.host_and_port();
        if host.parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        let refused = self
            .hosts
            .addresses(&host)
            .await
            .into_iter()
            .find_map(|address| self.policy.refusal(address));
        match refused {
            None => Ok(()),
            Some(class) => {
                let mut errors = FieldErrors::default();
                errors.add(
                    "url",
                    format!("must not name {class} (its name resolves to one)"),
                );
                Err(AppError::invalid(errors))
            }
        }
    }

    async fn seal(&self, webhook: &Webhook, secret: &WebhookSecret) -> Result<Vec<u8>, AppError> {
        let context = SecretContext::webhook_secret(&webhook.workspace_id, &webhook.id);
        Ok(self
            .cipher
            .seal(&SecretString::from(secret.expose()), &context)
            .await?)
    }

    /// A webhook, with its secret (the only answer but a rotation's that
    /// shows it).
    pub async fn create(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        body: Value,
    ) -> Result<(Webhook, WebhookSecret), AppError> {
        Self::managed(actor)?;
        let now = self.dispatcher.clock.timestamp();
        let new =
            NewWebhook::from_json(body, ws.clone(), self.policy, now).map_err(AppError::invalid)?;
        self.check_resolved(&new.webhook.url).await?;
        let sealed = self.seal(&new.webhook, &new.secret).await?;
        self.dispatcher
            .webhooks
            .create_webhook(&new.webhook, sealed)
            .await?;
        Ok((new.webhook, new.secret))
    }

    pub async fn list(&self, ws: &WorkspaceId, actor: &Actor) -> Result<Vec<Webhook>, AppError> {
        Self::managed(actor)?;
        Ok(self.dispatcher.webhooks.webhooks(ws).await?)
    }

    pub async fn get(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
    ) -> Result<Webhook, AppError> {
        Self::managed(actor)?;
        let id = webhook_id(raw_id)?;
        self.dispatcher
            .webhooks
            .get_webhook(ws, &id)
            .await?
            .map(|stored| stored.webhook)
            .ok_or(AppError::NotFound("webhook"))
    }

    pub async fn update(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
        body: Value,
    ) -> Result<Webhook, AppError> {
        Self::managed(actor)?;
        let id = webhook_id(raw_id)?;
        let changes = WebhookChanges::from_json(body, self.policy).map_err(AppError::invalid)?;
        if let Some(url) = &changes.url {
            self.check_resolved(url).await?;
        }
        Ok(self
            .dispatcher
            .webhooks
            .update_webhook(ws, &id, &changes)
            .await?)
    }

    /// Deletes the webhook and its delivery history.
    pub async fn delete(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
    ) -> Result<(), AppError> {
        Self::managed(actor)?;
        let id = webhook_id(raw_id)?;
        Ok(self.dispatcher.webhooks.delete_webhook(ws, &id).await?)
    }

    /// A new secret, shown this once; the replaced one still signs, beside
    /// it, for a day: until the time given.
    pub async fn rotate(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
    ) -> Result<(WebhookSecret, Timestamp), AppError> {
        let webhook = self.get(ws, actor, raw_id).await?;
        let secret = WebhookSecret::generate();
        let sealed = self.seal(&webhook, &secret).await?;
        let until = self.dispatcher.clock.timestamp().plus(ROTATION_OVERLAP);
        self.dispatcher
            .webhooks
            .rotate_secret(ws, &webhook.id, sealed, until)
            .await?;
        Ok((secret, until))
    }

    /// Queues a `webhook.test` event to this webhook alone.
    pub async fn test(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
    ) -> Result<Event, AppError> {
        let webhook = self.get(ws, actor, raw_id).await?;
        let event = Event {
            id: EventId::generate(),
            kind: EventType::WebhookTest,
            workspace_id: ws.clone(),
            at: self.dispatcher.clock.timestamp(),
            data: json!({"webhookId": webhook.id, "url": webhook.url.as_str()}),
        };
        self.dispatcher.dispatch(&event, Some(&webhook.id)).await?;
        Ok(event)
    }

    /// A page of the webhook's deliveries, newest first, from `cursor` (a
    /// delivery id a previous page gave).
    pub async fn deliveries(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DeliveryPage, AppError> {
        let webhook = self.get(ws, actor, raw_id).await?;
        let cursor = cursor
            .map(|raw| {
                DeliveryId::parse(raw)
                    .ok_or_else(|| AppError::bad_request("cursor is not one a page gave"))
            })
            .transpose()?;
        Ok(self
            .dispatcher
            .deliveries
            .deliveries(
                ws,
                &webhook.id,
                limit.clamp(1, DELIVERY_PAGE_MAX),
                cursor.as_ref(),
            )
            .await?)
    }

    pub async fn delivery(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
        raw_delivery: &str,
    ) -> Result<Delivery, AppError> {
        let webhook = self.get(ws, actor, raw_id).await?;
        let id = DeliveryId::parse(raw_delivery).ok_or(AppError::NotFound("delivery"))?;
        self.dispatcher
            .deliveries
            .get_delivery(ws, &webhook.id, &id)
            .await?
            .ok_or(AppError::NotFound("delivery"))
    }

    /// One more attempt now, for a failed or pending delivery.
    pub async fn retry(
        &self,
        ws: &WorkspaceId,
        actor: &Actor,
        raw_id: &str,
        raw_delivery: &str,
    ) -> Result<Delivery, AppError> {
        let delivery = self.delivery(ws, actor, raw_id, raw_delivery).await?;
        let now = self.dispatcher.clock.timestamp();
        let retried = self
            .dispatcher
            .deliveries
            .retry_delivery(ws, &delivery.webhook_id, &delivery.id, now)
            .await?;
        self.dispatcher
            .queue
            .enqueue(&job_of(&retried, now))
            .await?;
        Ok(retried)
    }
}
