//! A workspace's webhooks (see the layout in [`keys`]): each an item of the
//! workspace's webhooks partition, created and deleted in one transaction
//! with the partition's count, whose condition holds the limit however
//! many creates race.

use super::codec::{self, n, s, time};
use super::keys::{self, WEBHOOK_PREFIX};
use super::requests::{Refused, UpdateSpec};
use super::{DynamoStore, Item, key};
use crate::domain::ids::{WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::endpoint::{Webhook, WebhookChanges};
use crate::domain::webhook::target::WebhookUrl;
use crate::domain::webhook::{Subscription, WEBHOOKS_PER_WORKSPACE};
use crate::ports::{Conflict, SealedSecrets, StoreError, StoredWebhook, WebhookStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

const NOT_FOUND: StoreError = StoreError::NotFound("webhook");

fn events_value(subscription: &Subscription) -> AttributeValue {
    AttributeValue::L(subscription.names().into_iter().map(s).collect())
}

fn blob(bytes: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes.to_vec()))
}

fn bytes_of(item: &Item, field: &str) -> Option<Vec<u8>> {
    item.get(field)
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
}

fn webhook_item(webhook: &Webhook, sealed: &[u8]) -> Item {
    let (pk, sk) = keys::webhook(&webhook.workspace_id, &webhook.id);
    let mut item = key(pk, sk);
    item.extend([
        ("id".to_owned(), s(webhook.id.as_str())),
        ("workspaceId".to_owned(), s(webhook.workspace_id.as_str())),
        ("url".to_owned(), s(webhook.url.as_str())),
        ("events".to_owned(), events_value(&webhook.subscription)),
        ("active".to_owned(), AttributeValue::Bool(webhook.active)),
        ("description".to_owned(), s(webhook.description.clone())),
        ("createdAt".to_owned(), time(webhook.created_at)),
        ("updatedAt".to_owned(), time(webhook.updated_at)),
        ("secret".to_owned(), blob(sealed)),
    ]);
    if let Some(reason) = &webhook.disabled_reason {
        item.insert("disabledReason".to_owned(), s(reason.clone()));
    }
    item
}

fn webhook_from(item: &Item) -> Result<Webhook, StoreError> {
    let events: Vec<String> = item
        .get("events")
        .and_then(|v| v.as_l().ok())
        .map(|list| list.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default();
    Ok(Webhook {
        id: codec::parsed(item, "id", WebhookId::parse)?,
        workspace_id: codec::parsed(item, "workspaceId", WorkspaceId::parse)?,
        url: codec::parsed(item, "url", WebhookUrl::stored)?,
        subscription: Subscription::parse(&events).map_err(|_| codec::corrupt(item, "events"))?,
        active: item
            .get("active")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .ok_or_else(|| codec::corrupt(item, "active"))?,
        description: codec::optional_text(item, "description").unwrap_or_default(),
        disabled_reason: codec::optional_text(item, "disabledReason"),
        created_at: codec::timestamp(item, "createdAt")?,
        updated_at: codec::timestamp(item, "updatedAt")?,
    })
}

pub(super) fn stored_from(item: &Item) -> Result<StoredWebhook, StoreError> {
    let current = bytes_of(item, "secret").ok_or_else(|| codec::corrupt(item, "secret"))?;
    let previous =
        bytes_of(item, "previousSecret").zip(codec::optional_timestamp(item, "previousUntil"));
    Ok(StoredWebhook {
        webhook: webhook_from(item)?,
        secrets: SealedSecrets { current, previous },
        failing_since: codec::optional_timestamp(item, "failingSince"),
    })
}

/// Why creating a webhook was refused.
enum CreateRefused {
    IdTaken,
    Full,
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn create_webhook(&self, webhook: &Webhook, sealed: Vec<u8>) -> Result<(), StoreError> {
        let (cpk, csk) = keys::webhook_count(&webhook.workspace_id);
        let items = vec![
            self.put_fresh(webhook_item(webhook, &sealed)),
            self.update_item(UpdateSpec {
                key: key(cpk, csk),
                expression: "SET #count = if_not_exists(#count, :zero) + :one",
                condition: Some("attribute_not_exists(#count) OR #count < :max"),
                names: &[("#count", "webhookCount")],
                values: vec![
                    (":zero", n(0)),
                    (":one", n(1)),
                    (":max", n(WEBHOOKS_PER_WORKSPACE)),
                ],
            }),
        ];
        let refused = |index| match index {
            0 => CreateRefused::IdTaken,
            _ => CreateRefused::Full,
        };
        match self.transact_or(items, refused).await {
            Ok(()) => Ok(()),
            Err(Refused::Condition(CreateRefused::IdTaken)) => {
                Err(Conflict::IdCollision("webhook").into())
            }
            Err(Refused::Condition(CreateRefused::Full)) => {
                Err(Conflict::TooManyWebhooks(WEBHOOKS_PER_WORKSPACE).into())
            }
            Err(Refused::Store(error)) => Err(error),
        }
    }

    async fn webhooks(&self, ws: &WorkspaceId) -> Result<Vec<Webhook>, StoreError> {
        let items = self
            .query_partition(&keys::webhooks_partition(ws), WEBHOOK_PREFIX)
            .await?;
        let mut found = items
            .iter()
            .map(webhook_from)
            .collect::<Result<Vec<_>, _>>()?;
        found.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(found)
    }

    async fn get_webhook(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>, StoreError> {
        let (pk, sk) = keys::webhook(ws, id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(stored_from)
            .transpose()
    }

    async fn update_webhook(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
        changes: &WebhookChanges,
    ) -> Result<Webhook, StoreError> {
        let mut fields: Vec<(&'static str, Option<AttributeValue>)> = Vec::new();
        if let Some(url) = &changes.url {
            fields.push(("url", Some(s(url.as_str()))));
        }
        if let Some(subscription) = &changes.subscription {
            fields.push(("events", Some(events_value(subscription))));
        }
        if let Some(active) = changes.active {
            fields.push(("active", Some(AttributeValue::Bool(active))));
            // Turned on, it starts afresh: the five days that turn a
            // failing webhook off count from its next failure.
            if active {
                fields.push(("disabledReason", None));
                fields.push(("failingSince", None));
            }
        }
        if let Some(description) = &changes.description {
            fields.push(("description", Some(s(description.clone()))));
        }
        let (pk, sk) = keys::webhook(ws, id);
        let item = self.update_fields(key(pk, sk), fields, "webhook").await?;
        webhook_from(&item)
    }

    async fn rotate_secret(
        &self,
        ws: &WorkspaceId,
        id: &WebhookId,
        sealed: Vec<u8>,
        previous_until: Timestamp,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::webhook(ws, id);
        let stored = self.get(pk.clone(), sk.clone()).await?.ok_or(NOT_FOUND)?;
        let current =
            bytes_of(&stored, "secret").ok_or_else(|| codec::corrupt(&stored, "secret"))?;
        // Only over the secret this read saw: two rotations at once keep
        // one chain, each replaced secret honoured for its day.
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET #secret = :new, #previous = :current, #until = :until",
            condition: Some("#secret = :current"),
            names: &[
                ("#secret", "secret"),
                ("#previous", "previousSecret"),
                ("#until", "previousUntil"),
            ],
            values: vec![
                (":new", blob(&sealed)),
                (":current", blob(&current)),
                (":until", time(previous_until)),
            ],
        });
        self.transact(vec![update], |_| {
            Conflict::ChangedMeanwhile("webhook's secret").into()
        })
        .await
    }

    async fn delete_webhook(&self, ws: &WorkspaceId, id: &WebhookId) -> Result<(), StoreError> {
        let (pk, sk) = keys::webhook(ws, id);
        // Read first: a delivery's partition names no workspace, so only a
        // webhook found in this one may have its history purged.
        if self.get(pk.clone(), sk.clone()).await?.is_none() {
            return Err(NOT_FOUND);
        }
        // The history first, while the webhook is there for a retry of the
        // delete to find it again; then once more after the webhook, for a
        // delivery recorded in between (none can be after: recording one
        // needs its webhook).
        self.delete_deliveries(id).await?;
        let (cpk, csk) = keys::webhook_count(ws);
        let items = vec![
            self.delete_item(key(pk, sk), "attribute_exists(PK)"),
            self.update_item(UpdateSpec {
                key: key(cpk, csk),
                expression: "SET #count = #count - :one",
                condition: Some("#count > :zero"),
                names: &[("#count", "webhookCount")],
                values: vec![(":zero", n(0)), (":one", n(1))],
            }),
        ];
        self.transact(items, |index| match index {
            0 => NOT_FOUND,
            _ => StoreError::Corrupt("a webhook's workspace counts none".into()),
        })
        .await?;
        self.delete_deliveries(id).await
    }
}
