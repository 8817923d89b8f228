//! Webhook deliveries (see the layout in [`keys`]): each an item of its
//! webhook's partition, keyed by a time-ordered id so a page newest first
//! is one backwards `Query`; an attempt is appended conditional on the
//! attempts it was read with, in one transaction with its webhook's failing
//! run when the attempt moves that, else in an update of its own.

use super::codec::{self, n, s, time};
use super::keys::{self, DELIVERY_PREFIX, PK, SK};
use super::requests::{Refused, UpdateSpec, Updated};
use super::{BATCH_WRITE_MAX, DynamoStore, Item, key};
use crate::domain::ids::{DeliveryId, EventId, WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::EventType;
use crate::domain::webhook::delivery::{AttemptRecord, Decision, Delivery, DeliveryStatus};
use crate::ports::{Conflict, DeliveryPage, DeliveryStore, StoreError, StoredWebhook};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::Duration;

fn attempt_value(attempt: &AttemptRecord) -> AttributeValue {
    let mut map = HashMap::from([
        ("at".to_owned(), time(attempt.at)),
        (
            "durationMs".to_owned(),
            n(u64::try_from(attempt.duration.as_millis()).unwrap_or(u64::MAX)),
        ),
    ]);
    if let Some(status) = attempt.response_status {
        map.insert("responseStatus".to_owned(), n(status));
    }
    if let Some(error) = &attempt.error {
        map.insert("error".to_owned(), s(error.clone()));
    }
    AttributeValue::M(map)
}

fn attempt_from(item: &Item, value: &AttributeValue) -> Result<AttemptRecord, StoreError> {
    let map = value.as_m().map_err(|_| codec::corrupt(item, "attempts"))?;
    Ok(AttemptRecord {
        at: codec::timestamp(map, "at")?,
        response_status: codec::number(map, "responseStatus").ok(),
        duration: Duration::from_millis(codec::number(map, "durationMs")?),
        error: codec::optional_text(map, "error"),
    })
}

fn delivery_item(delivery: &Delivery) -> Item {
    let (pk, sk) = keys::delivery(&delivery.webhook_id, &delivery.id);
    let mut item = key(pk, sk);
    item.extend([
        ("id".to_owned(), s(delivery.id.as_str())),
        ("workspaceId".to_owned(), s(delivery.workspace_id.as_str())),
        ("webhookId".to_owned(), s(delivery.webhook_id.as_str())),
        ("eventId".to_owned(), s(delivery.event_id.as_str())),
        ("event".to_owned(), s(delivery.event.as_str())),
        ("payload".to_owned(), s(delivery.payload.clone())),
        ("status".to_owned(), s(delivery.status.as_str())),
        (
            "attempts".to_owned(),
            AttributeValue::L(delivery.attempts.iter().map(attempt_value).collect()),
        ),
        ("attemptCount".to_owned(), n(delivery.attempts.len())),
        ("createdAt".to_owned(), time(delivery.created_at)),
    ]);
    if let Some(next) = delivery.next_attempt_at {
        item.insert("nextAttemptAt".to_owned(), time(next));
    }
    item
}

fn delivery_from(item: &Item) -> Result<Delivery, StoreError> {
    let attempts = item
        .get("attempts")
        .and_then(|v| v.as_l().ok())
        .ok_or_else(|| codec::corrupt(item, "attempts"))?
        .iter()
        .map(|value| attempt_from(item, value))
        .collect::<Result<_, _>>()?;
    Ok(Delivery {
        id: codec::parsed(item, "id", DeliveryId::parse)?,
        workspace_id: codec::parsed(item, "workspaceId", WorkspaceId::parse)?,
        webhook_id: codec::parsed(item, "webhookId", WebhookId::parse)?,
        event_id: codec::parsed(item, "eventId", EventId::parse)?,
        event: codec::parsed(item, "event", EventType::parse)?,
        payload: codec::text(item, "payload")?.to_owned(),
        status: codec::parsed(item, "status", DeliveryStatus::parse)?,
        attempts,
        next_attempt_at: codec::optional_timestamp(item, "nextAttemptAt"),
        created_at: codec::timestamp(item, "createdAt")?,
    })
}

impl DynamoStore {
    /// Deletes every delivery of a webhook that is gone.
    pub(super) async fn delete_deliveries(&self, webhook: &WebhookId) -> Result<(), StoreError> {
        let items = self
            .query_partition(&keys::deliveries_partition(webhook), DELIVERY_PREFIX)
            .await?;
        let doomed: Vec<Item> = items
            .iter()
            .filter_map(|item| {
                let pk = item.get(PK)?.as_s().ok()?.clone();
                let sk = item.get(SK)?.as_s().ok()?.clone();
                Some(key(pk, sk))
            })
            .collect();
        for chunk in doomed.chunks(BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(())
    }
}

/// Whether `stored` is `delivery` with `attempt` recorded after its own:
/// an update resent by the SDK after it had landed finds that, and it is
/// not another worker's attempt.
fn holds_attempt(stored: &Item, delivery: &Delivery, attempt: &AttemptRecord) -> bool {
    let attempts = match stored.get("attempts").map(AttributeValue::as_l) {
        Some(Ok(attempts)) => attempts,
        _ => return false,
    };
    // Durations are stored in whole milliseconds.
    let same = |last: &AttemptRecord| {
        last.at == attempt.at
            && last.duration.as_millis() == attempt.duration.as_millis()
            && last.response_status == attempt.response_status
            && last.error == attempt.error
    };
    attempts.len() == delivery.attempts.len() + 1
        && attempts
            .last()
            .and_then(|last| attempt_from(stored, last).ok())
            .is_some_and(|last| same(&last))
}

/// Why recording an attempt was refused.
enum AttemptRefused {
    Changed,
    WebhookGone,
}

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn record_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let (wpk, wsk) = keys::webhook(&delivery.workspace_id, &delivery.webhook_id);
        let items = vec![
            self.put_fresh(delivery_item(delivery)),
            self.require_exists(key(wpk, wsk)),
        ];
        self.transact(items, |index| match index {
            0 => Conflict::IdCollision("delivery").into(),
            _ => StoreError::NotFound("webhook"),
        })
        .await
    }

    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(deliveries.len() * 2);
        for delivery in deliveries {
            let (wpk, wsk) = keys::webhook(&delivery.workspace_id, &delivery.webhook_id);
            items.push(self.put_fresh(delivery_item(delivery)));
            items.push(self.require_exists(key(wpk, wsk)));
        }
        self.transact(items, |index| match index % 2 {
            0 => Conflict::IdCollision("delivery").into(),
            _ => StoreError::NotFound("webhook"),
        })
        .await
    }

    async fn delivery_with_webhook(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
    ) -> Result<(Option<StoredWebhook>, Option<Delivery>), StoreError> {
        let (wpk, wsk) = keys::webhook(ws, webhook);
        let (dpk, dsk) = keys::delivery(webhook, id);
        let found = self
            .batch_get(vec![key(wpk.clone(), wsk), key(dpk, dsk)])
            .await?;
        let (mut stored, mut delivery) = (None, None);
        for item in &found {
            if item.get(keys::PK).and_then(|v| v.as_s().ok()) == Some(&wpk) {
                stored = Some(super::webhooks::stored_from(item)?);
            } else {
                delivery = Some(delivery_from(item)?).filter(|d| &d.workspace_id == ws);
            }
        }
        Ok((stored, delivery))
    }

    async fn get_delivery(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let (pk, sk) = keys::delivery(webhook, id);
        Ok(self
            .get(pk, sk)
            .await?
            .as_ref()
            .map(delivery_from)
            .transpose()?
            .filter(|d| &d.workspace_id == ws))
    }

    async fn deliveries(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        limit: usize,
        before: Option<&DeliveryId>,
    ) -> Result<DeliveryPage, StoreError> {
        // `BETWEEN` includes its ends: the cursor's own item is read and
        // dropped, and one more than the page tells whether there are more.
        let high = before.map_or_else(
            || format!("{DELIVERY_PREFIX}~"),
            |id| format!("{DELIVERY_PREFIX}{id}"),
        );
        let items = self
            .query_between(
                &keys::deliveries_partition(webhook),
                (DELIVERY_PREFIX, &high),
                false,
                limit + 2,
            )
            .await?;
        let mut newest_first = items
            .iter()
            .map(delivery_from)
            .filter(|d| !matches!((d, before), (Ok(d), Some(b)) if &d.id == b))
            .filter(|d| d.as_ref().map_or(true, |d| &d.workspace_id == ws));
        let deliveries = newest_first
            .by_ref()
            .take(limit)
            .collect::<Result<Vec<_>, _>>()?;
        let next = newest_first
            .next()
            .and(deliveries.last().map(|d| d.id.clone()));
        Ok(DeliveryPage { deliveries, next })
    }

    async fn retry_delivery(
        &self,
        ws: &WorkspaceId,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<Delivery, StoreError> {
        let mut delivery = self
            .get_delivery(ws, webhook, id)
            .await?
            .ok_or(StoreError::NotFound("delivery"))?;
        if delivery.status == DeliveryStatus::Succeeded {
            return Err(Conflict::DeliverySucceeded.into());
        }
        let (pk, sk) = keys::delivery(webhook, id);
        // Over the delivery as read: an attempt recorded meanwhile (which
        // may have succeeded) is not overwritten.
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET #status = :pending, #due = :now",
            condition: Some("#count = :count AND #status = :seen"),
            names: &[
                ("#status", "status"),
                ("#due", "nextAttemptAt"),
                ("#count", "attemptCount"),
            ],
            values: vec![
                (":pending", s(DeliveryStatus::Pending.as_str())),
                (":now", time(now)),
                (":count", n(delivery.attempts.len())),
                (":seen", s(delivery.status.as_str())),
            ],
        });
        self.transact(vec![update], |_| {
            Conflict::ChangedMeanwhile("delivery").into()
        })
        .await?;
        delivery.status = DeliveryStatus::Pending;
        delivery.next_attempt_at = Some(now);
        Ok(delivery)
    }

    async fn record_attempt(
        &self,
        delivery: &Delivery,
        attempt: &AttemptRecord,
        decision: &Decision,
    ) -> Result<(), StoreError> {
        let (dpk, dsk) = keys::delivery(&delivery.webhook_id, &delivery.id);
        let next_at = decision.next_attempt_at;
        let delivery_expression = if next_at.is_some() {
            "SET #attempts = list_append(#attempts, :attempt), #count = :next, #status = :status, #due = :due"
        } else {
            "SET #attempts = list_append(#attempts, :attempt), #count = :next, #status = :status REMOVE #due"
        };
        let mut delivery_values = vec![
            (":attempt", AttributeValue::L(vec![attempt_value(attempt)])),
            (":next", n(delivery.attempts.len() + 1)),
            (":count", n(delivery.attempts.len())),
            (":status", s(decision.status.as_str())),
        ];
        if let Some(due) = next_at {
            delivery_values.push((":due", time(due)));
        }
        let delivery_update = UpdateSpec {
            key: key(dpk, dsk),
            expression: delivery_expression,
            condition: Some("#count = :count"),
            names: &[
                ("#attempts", "attempts"),
                ("#count", "attemptCount"),
                ("#status", "status"),
                ("#due", "nextAttemptAt"),
            ],
            values: delivery_values,
        };
        if !decision.changes_webhook {
            // A deleted webhook's deliveries are deleted with it, so the
            // condition also refuses an attempt on one that is gone.
            return match self.update_if(delivery_update).await? {
                Updated::Written => Ok(()),
                Updated::Refused(Some(stored)) if holds_attempt(&stored, delivery, attempt) => {
                    Ok(())
                }
                Updated::Refused(_) => Err(Conflict::ChangedMeanwhile("delivery").into()),
            };
        }
        let (wpk, wsk) = keys::webhook(&delivery.workspace_id, &delivery.webhook_id);
        let mut sets: Vec<&str> = Vec::new();
        let mut webhook_values = Vec::new();
        if let Some(since) = decision.failing_since {
            sets.push("#since = :since");
            webhook_values.push((":since", time(since)));
        }
        if let Some(reason) = decision.disable {
            sets.push("#active = :off");
            sets.push("#reason = :reason");
            webhook_values.push((":off", AttributeValue::Bool(false)));
            webhook_values.push((":reason", s(reason)));
        }
        let webhook_expression = match (sets.is_empty(), decision.failing_since) {
            (true, None) => "REMOVE #since".to_owned(),
            (false, None) => format!("SET {} REMOVE #since", sets.join(", ")),
            (_, Some(_)) => format!("SET {}", sets.join(", ")),
        };
        let items = vec![
            self.update_item(delivery_update),
            self.update_item(UpdateSpec {
                key: key(wpk, wsk),
                expression: &webhook_expression,
                condition: Some("attribute_exists(PK)"),
                names: if decision.disable.is_some() {
                    &[
                        ("#since", "failingSince"),
                        ("#active", "active"),
                        ("#reason", "disabledReason"),
                    ]
                } else {
                    &[("#since", "failingSince")]
                },
                values: webhook_values,
            }),
        ];
        let refused = |index| match index {
            0 => AttemptRefused::Changed,
            _ => AttemptRefused::WebhookGone,
        };
        match self.transact_or(items, refused).await {
            Ok(()) => Ok(()),
            Err(Refused::Condition(AttemptRefused::Changed)) => {
                Err(Conflict::ChangedMeanwhile("delivery").into())
            }
            Err(Refused::Condition(AttemptRefused::WebhookGone)) => {
                Err(StoreError::NotFound("webhook"))
            }
            Err(Refused::Store(error)) => Err(error),
        }
    }
}
