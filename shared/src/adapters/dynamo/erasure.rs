//! Erasing a texter from the table. Everything kept under their keyed name
//! sits in the SMS partition beside their item (`CONTACT#{name}`, then a
//! note per conversation they started and per keyword they sent), so one
//! query finds it all. Each conversation goes whole first (its note last,
//! with it), then the keywords' records, the limit windows, their place
//! among the texters seen, and their item: a run that stops half way is
//! found again and finished by the next.

use super::codec::{self, n};
use super::keys;
use super::requests::Refused;
use super::{BATCH_WRITE_MAX, DynamoStore, Item, key};
use crate::adapters::contention::WRITE_ATTEMPTS;
use crate::domain::ids::{AssistantId, ConversationId};
use crate::domain::sms::{SmsLimits, TexterKey, forget_texters_before};
use crate::domain::time::Timestamp;
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::{StreamExt, TryStreamExt, stream};

/// Texters a deleted channel's cleanup erases at once.
const ERASED_AT_ONCE: usize = 8;

impl DynamoStore {
    /// One texter, as the port's `erase_texter` describes. Answers how
    /// many records went.
    pub(super) async fn erase_named(
        &self,
        assistant: &AssistantId,
        name: &TexterKey,
    ) -> Result<usize, StoreError> {
        let partition = keys::sms_partition(assistant);
        let prefix = keys::texter_prefix(name);
        let conversation_note = format!("{prefix}#CONV#");
        let keyword_note = format!("{prefix}#KW#");
        let mut removed = 0;
        for _ in 0..WRITE_ATTEMPTS {
            let [limits, notices] = SmsLimits::texter_window_prefixes(name)
                .map(|window| keys::sms_use(assistant, &window));
            let (kept, limit_windows, notice_windows) = tokio::try_join!(
                self.query_partition(&partition, &prefix),
                self.query_partition(&limits.0, &limits.1),
                self.query_partition(&notices.0, &notices.1),
            )?;
            let mut contact = None;
            let mut doomed: Vec<Item> = Vec::new();
            for window in limit_windows.iter().chain(&notice_windows) {
                doomed.push(key(
                    partition.clone(),
                    codec::text(window, keys::SK)?.to_owned(),
                ));
            }
            for item in kept {
                let sk = codec::text(&item, keys::SK)?.to_owned();
                if sk == prefix {
                    contact = Some(item);
                    continue;
                }
                if let Some(id) = sk.strip_prefix(&conversation_note) {
                    let id =
                        ConversationId::parse(id).ok_or_else(|| codec::corrupt(&item, keys::SK))?;
                    removed += self.erase_conversation(&id).await?;
                } else if let Some(sid) = sk.strip_prefix(&keyword_note) {
                    let (pk, sk) = keys::inbound_sms(assistant, sid);
                    doomed.push(key(pk, sk));
                }
                doomed.push(key(partition.clone(), sk));
            }
            if let Some(seen) = contact
                .as_ref()
                .and_then(|c| codec::optional_timestamp(c, "lastSeenAt"))
            {
                let (pk, sk) = keys::texter_seen(assistant, seen, name);
                doomed.push(key(pk, sk));
            }
            removed += doomed.len();
            for chunk in doomed.chunks(BATCH_WRITE_MAX) {
                self.batch_delete(chunk.to_vec()).await?;
            }
            let Some(contact) = contact else {
                return Ok(removed);
            };
            match self.retire_contact(assistant, name, &contact).await {
                Ok(gone) => return Ok(removed + usize::from(gone)),
                // They texted meanwhile: what that text added is found on
                // the next pass.
                Err(Refused::Condition(())) => continue,
                Err(Refused::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Transient(
            "a texter kept texting while being erased".into(),
        ))
    }

    /// The texter's own item, unless it changed since it was read: kept as
    /// a bare opt-out (its key and nothing else) if they said STOP, so
    /// STOP is still honoured; deleted otherwise. Answers whether it went.
    async fn retire_contact(
        &self,
        assistant: &AssistantId,
        name: &TexterKey,
        contact: &Item,
    ) -> Result<bool, Refused<()>> {
        let (pk, sk) = keys::contact(assistant, name);
        let version = codec::number::<u64>(contact, "version").ok();
        let (condition, values) = match version {
            Some(v) => ("version = :version", vec![(":version", n(v))]),
            None => (
                "attribute_exists(PK) AND attribute_not_exists(version)",
                vec![],
            ),
        };
        let opted_out = contact
            .get("optedOut")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false);
        let write = if opted_out {
            let mut marker = key(pk, sk);
            marker.extend([
                ("optedOut".to_owned(), AttributeValue::Bool(true)),
                ("version".to_owned(), n(version.unwrap_or(0) + 1)),
            ]);
            self.put_if(marker, condition, values)
        } else {
            self.delete_if(key(pk, sk), condition, values)
        };
        self.transact_or(vec![write], |_| ()).await?;
        Ok(!opted_out)
    }

    /// What deleting the assistant's SMS channel at `deleted_at` leaves:
    /// every texter last seen before it (or never), erased.
    pub(super) async fn forget_channel_texters(
        &self,
        assistant: &AssistantId,
        deleted_at: Timestamp,
    ) -> Result<usize, StoreError> {
        let current = self.sms_config_of(assistant).await?;
        let Some(before) = forget_texters_before(current.as_ref(), deleted_at) else {
            return Ok(0);
        };
        let contacts = self
            .query_partition(&keys::sms_partition(assistant), keys::CONTACT_PREFIX)
            .await?;
        let mut names = Vec::new();
        for item in &contacts {
            let sk = codec::text(item, keys::SK)?;
            // Their item only: their notes sit under the same prefix.
            let Some(name) = sk
                .strip_prefix(keys::CONTACT_PREFIX)
                .and_then(TexterKey::parse)
            else {
                continue;
            };
            if codec::optional_timestamp(item, "lastSeenAt").is_none_or(|at| at < before) {
                names.push(name);
            }
        }
        // Texters touch disjoint items: several at a time, so a channel's
        // thousands fit one run of the worker.
        stream::iter(names)
            .map(|name| async move { self.erase_named(assistant, &name).await })
            .buffer_unordered(ERASED_AT_ONCE)
            .try_fold(0, |total, removed| async move { Ok(total + removed) })
            .await
    }
}
