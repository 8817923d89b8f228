//! The SMS channel's configuration, inbound texts, texters and traffic
//! (see the layout in [`keys`]; replies are in `sms_replies`). A
//! configuration and its number are one transaction; an inbound text, its
//! texter, its conversation and the earlier text it merges into are one
//! transaction of that text's and that texter's items only, and the day's
//! counters are added to after it.

use super::codec::{self, n, s, time};
use super::conversation_items::message_item;
use super::keys;
use super::requests::{Refused, UpdateSpec};
use super::{DynamoStore, Item, key};
use crate::adapters::contention::WRITE_ATTEMPTS;
use crate::domain::conversation::{Author, Message, MessageRef};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WorkspaceId};
use crate::domain::sms::{
    AccountSid, DayCounts, Keyword, MessageSid, PhoneNumber, SmsConfig, SmsLimit, SmsLimits,
    SmsTraffic, TexterKey, day_of, period_days,
};
use crate::domain::time::Timestamp;
use crate::ports::{
    Burst, Conflict, Contact, InboundOutcome, InboundPlan, InboundRecord, InboundSms, Joins,
    ReplyDecision, StoreError, TexterState,
};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::Duration;

/// Which condition refused a text's record.
pub(super) enum InboundRace {
    /// The text is recorded already (a redelivery).
    Duplicate,
    /// Another text of the texter's moved their state first.
    TexterMoved,
    /// The earlier text a new one would merge into was decided meanwhile.
    EarlierTaken,
    /// The conversation the texter's state named moved under it.
    ConversationMoved,
}

fn limits_from(item: &Item) -> SmsLimits {
    let defaults = SmsLimits::default();
    let Some(limits) = item.get("limits").and_then(|v| v.as_m().ok()) else {
        return defaults;
    };
    let read = |name: &str, default: u32| {
        limits
            .get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    SmsLimits {
        per_texter_per_hour: read("perTexterPerHour", defaults.per_texter_per_hour),
        per_texter_per_day: read("perTexterPerDay", defaults.per_texter_per_day),
        per_assistant_per_day: read("perAssistantPerDay", defaults.per_assistant_per_day),
    }
}

fn limits_value(limits: &SmsLimits) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("perTexterPerHour".to_owned(), n(limits.per_texter_per_hour)),
        ("perTexterPerDay".to_owned(), n(limits.per_texter_per_day)),
        (
            "perAssistantPerDay".to_owned(),
            n(limits.per_assistant_per_day),
        ),
    ]))
}

pub(super) fn config_from(item: &Item) -> Result<SmsConfig, StoreError> {
    let sealed = item
        .get("sealedAuthToken")
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| codec::corrupt(item, "sealedAuthToken"))?;
    Ok(SmsConfig {
        workspace_id: codec::parsed(item, "workspaceId", WorkspaceId::parse)?,
        assistant_id: codec::parsed(item, "assistantId", AssistantId::parse)?,
        enabled: item
            .get("enabled")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .ok_or_else(|| codec::corrupt(item, "enabled"))?,
        account_sid: codec::parsed(item, "accountSid", AccountSid::parse)?,
        phone_number: codec::parsed(item, "phoneNumber", PhoneNumber::parse)?,
        session_timeout_minutes: codec::number(item, "sessionTimeoutMinutes")?,
        // Configurations saved before the budget and the limits existed
        // have the defaults.
        max_segments_per_reply: codec::number(item, "maxSegmentsPerReply")
            .unwrap_or(crate::domain::sms::MAX_SEGMENTS_PER_REPLY_DEFAULT),
        limits: limits_from(item),
        sealed_auth_token: sealed,
        created_at: codec::timestamp(item, "createdAt")?,
        updated_at: codec::timestamp(item, "updatedAt")?,
    })
}

fn message_refs(item: &Item, field: &str) -> Result<Vec<MessageRef>, StoreError> {
    let Some(list) = item.get(field).and_then(|v| v.as_l().ok()) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|entry| {
            let entry = entry.as_m().map_err(|_| codec::corrupt(item, field))?;
            Ok(MessageRef {
                id: codec::parsed(entry, "id", MessageId::parse)?,
                at: codec::timestamp(entry, "at")?,
            })
        })
        .collect()
}

fn message_refs_value(refs: &[MessageRef]) -> AttributeValue {
    AttributeValue::L(
        refs.iter()
            .map(|r| {
                AttributeValue::M(HashMap::from([
                    ("id".to_owned(), s(r.id.as_str())),
                    ("at".to_owned(), time(r.at)),
                ]))
            })
            .collect(),
    )
}

pub(super) fn decision_value(decision: ReplyDecision) -> AttributeValue {
    s(match decision {
        ReplyDecision::Answer => "answer".to_owned(),
        ReplyDecision::OverLimit(limit) => format!("overLimit:{}", limit.as_str()),
    })
}

fn decision_from(item: &Item) -> Result<Option<ReplyDecision>, StoreError> {
    let Some(value) = codec::optional_text(item, "decision") else {
        return Ok(None);
    };
    match value.strip_prefix("overLimit:") {
        None if value == "answer" => Ok(Some(ReplyDecision::Answer)),
        Some(limit) => SmsLimit::parse(limit)
            .map(|l| Some(ReplyDecision::OverLimit(l)))
            .ok_or_else(|| codec::corrupt(item, "decision")),
        None => Err(codec::corrupt(item, "decision")),
    }
}

pub(super) fn inbound_from(item: &Item) -> Result<InboundRecord, StoreError> {
    Ok(InboundRecord {
        message_sid: codec::parsed(item, "messageSid", MessageSid::parse)?,
        from: codec::parsed(item, "from", PhoneNumber::parse)?,
        texter: codec::parsed(item, "texterKey", TexterKey::parse)?,
        keyword: codec::optional_text(item, "keyword").and_then(|k| Keyword::parse(&k)),
        conversation_id: codec::optional_text(item, "conversationId")
            .and_then(|c| ConversationId::parse(&c)),
        message_id: codec::optional_text(item, "messageId").and_then(|m| MessageId::parse(&m)),
        received_at: codec::timestamp(item, "receivedAt")?,
        opted_out: item
            .get("optedOut")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        burst: message_refs(item, "burst")?,
        merged_into: codec::optional_text(item, "mergedInto").and_then(|m| MessageSid::parse(&m)),
        decision: decision_from(item)?,
    })
}

fn texter_from(contact: Option<&Item>) -> Result<TexterState, StoreError> {
    let Some(contact) = contact else {
        return Ok(TexterState::default());
    };
    let burst = codec::optional_text(contact, "burstLast")
        .and_then(|sid| MessageSid::parse(&sid))
        .map(|last| {
            Ok::<_, StoreError>(Burst {
                last,
                messages: message_refs(contact, "burst")?,
            })
        })
        .transpose()?;
    Ok(TexterState {
        opted_out: contact
            .get("optedOut")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        conversation: codec::optional_text(contact, "conversationId")
            .and_then(|c| ConversationId::parse(&c)),
        last_message_at: codec::optional_timestamp(contact, "lastMessageAt"),
        last_seen_at: codec::optional_timestamp(contact, "lastSeenAt"),
        burst,
    })
}

fn day_counts(item: &Item) -> DayCounts {
    let count = |name| codec::number::<u64>(item, name).unwrap_or(0);
    DayCounts {
        inbound: count("inbound"),
        outbound: count("outbound"),
        segments_out: count("segmentsOut"),
        over_limit: count("overLimit"),
    }
}

impl DynamoStore {
    /// The configuration's deletion and its number's release, as two
    /// transaction items (the assistant's deletion adds them to its own).
    pub(super) fn release_sms_items(
        &self,
        config: &SmsConfig,
    ) -> Vec<aws_sdk_dynamodb::types::TransactWriteItem> {
        let (cpk, csk) = keys::sms_config(&config.assistant_id);
        let (ppk, psk) = keys::phone_claim(config.phone_number.as_str());
        vec![
            self.delete_item(key(cpk, csk), "attribute_exists(PK)"),
            self.delete_if(
                key(ppk, psk),
                "attribute_not_exists(PK) OR assistantId = :ast",
                vec![(":ast", s(config.assistant_id.as_str()))],
            ),
        ]
    }

    /// Every item of the assistant's SMS partition, and its number if a
    /// configuration is still there: the cascade's share.
    pub(super) async fn delete_sms_traffic(
        &self,
        assistant: &AssistantId,
    ) -> Result<usize, StoreError> {
        let (partition, seen) = (
            keys::sms_partition(assistant),
            keys::texters_seen(assistant),
        );
        let (mut items, seen) = tokio::try_join!(
            self.query_partition(&partition, ""),
            self.query_partition(&seen, ""),
        )?;
        items.extend(seen);
        let mut keys_to_delete = Vec::new();
        for item in &items {
            if codec::text(item, keys::SK)? == "CONFIG" {
                let config = config_from(item)?;
                // Released meanwhile: nothing left to release.
                match self
                    .transact_or(self.release_sms_items(&config), |_| ())
                    .await
                {
                    Ok(()) | Err(Refused::Condition(())) => {}
                    Err(Refused::Store(e)) => return Err(e),
                }
                continue;
            }
            keys_to_delete.push(key(
                codec::text(item, keys::PK)?.to_owned(),
                codec::text(item, keys::SK)?.to_owned(),
            ));
        }
        for chunk in keys_to_delete.chunks(super::BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(items.len())
    }

    /// Adds to one of the assistant's day counters. Counting never fails
    /// what was counted: a text recorded or a part sent stands, and a
    /// counter that could not be written is logged with its amounts.
    pub(super) async fn count_in_day(
        &self,
        assistant: &AssistantId,
        at: Timestamp,
        amounts: &[(&str, u64)],
    ) {
        let day = day_of(at);
        if let Err(error) = self
            .add_to(keys::traffic_day(assistant, day), amounts)
            .await
        {
            let amounts = format!("{amounts:?}");
            tracing::warn!(assistant_id = %assistant, day, amounts, %error, "an SMS day counter was not updated");
        }
    }

    fn inbound_item(&self, inbound: &InboundSms, record: &InboundRecord) -> Item {
        let (ipk, isk) = keys::inbound_sms(&inbound.assistant_id, inbound.message_sid.as_str());
        let mut item = key(ipk, isk);
        item.extend([
            ("messageSid".to_owned(), s(inbound.message_sid.as_str())),
            ("from".to_owned(), s(inbound.from.as_str())),
            ("texterKey".to_owned(), s(record.texter.as_str())),
            ("receivedAt".to_owned(), time(record.received_at)),
            (
                "optedOut".to_owned(),
                AttributeValue::Bool(record.opted_out),
            ),
        ]);
        if let Some(keyword) = inbound.keyword {
            item.insert("keyword".to_owned(), s(keyword.as_str()));
        }
        if let (Some(c), Some(m)) = (&record.conversation_id, &record.message_id) {
            item.insert("conversationId".to_owned(), s(c.as_str()));
            item.insert("messageId".to_owned(), s(m.as_str()));
            item.insert("burst".to_owned(), message_refs_value(&record.burst));
        }
        item
    }

    /// The texter's item: no number in it, only the keyed name in its key.
    fn contact_item(
        &self,
        inbound: &InboundSms,
        name: &TexterKey,
        texter: &TexterState,
        version: u64,
    ) -> Item {
        let (cpk, csk) = keys::contact(&inbound.assistant_id, name);
        let mut item = key(cpk, csk);
        item.extend([
            (
                "optedOut".to_owned(),
                AttributeValue::Bool(texter.opted_out),
            ),
            ("version".to_owned(), n(version + 1)),
        ]);
        if let Some(c) = &texter.conversation {
            item.insert("conversationId".to_owned(), s(c.as_str()));
        }
        if let Some(at) = texter.last_message_at {
            item.insert("lastMessageAt".to_owned(), time(at));
        }
        if let Some(at) = texter.last_seen_at {
            item.insert("lastSeenAt".to_owned(), time(at));
        }
        if let Some(burst) = &texter.burst {
            item.insert("burstLast".to_owned(), s(burst.last.as_str()));
            item.insert("burst".to_owned(), message_refs_value(&burst.messages));
        }
        item
    }

    /// One attempt at recording the text; `alone` plans it without
    /// merging into the texter's previous text.
    async fn try_record_inbound(
        &self,
        inbound: &InboundSms,
        alone: bool,
    ) -> Result<InboundOutcome, Refused<InboundRace>> {
        let assistant = &inbound.assistant_id;
        let name = self.texter_key(&inbound.from).await?;
        let (cpk, csk) = keys::contact(assistant, &name);
        let contact = self.get(cpk, csk).await?;
        let version: u64 = contact
            .as_ref()
            .map(|c| codec::number(c, "version"))
            .transpose()?
            .unwrap_or(0);
        let texter = texter_from(contact.as_ref())?;
        let InboundPlan {
            record,
            texter,
            joins,
            merges,
        } = if alone {
            inbound.plan_alone(&texter, name.clone())
        } else {
            inbound.plan(&texter, name.clone())
        };
        let now = inbound.received_at;
        let mut items = vec![
            self.put_item(
                self.inbound_item(inbound, &record),
                "attribute_not_exists(PK)",
            ),
            self.put_if(
                self.contact_item(inbound, &name, &texter, version),
                "attribute_not_exists(PK) OR version = :version",
                vec![(":version", n(version))],
            ),
        ];
        // The texter's place among those seen, moved to now.
        let seen = |at: Timestamp| keys::texter_seen(assistant, at, &name);
        let was = contact
            .as_ref()
            .and_then(|c| codec::optional_timestamp(c, "lastSeenAt"));
        if was != texter.last_seen_at {
            if let Some(was) = was {
                let (spk, ssk) = seen(was);
                items.push(self.delete_key(key(spk, ssk)));
            }
            if let Some(now) = texter.last_seen_at {
                let (spk, ssk) = seen(now);
                let mut item = key(spk, ssk);
                if let Some(at) = texter.last_message_at {
                    item.insert("lastMessageAt".to_owned(), time(at));
                }
                items.push(self.put_item(item, "attribute_not_exists(PK)"));
            }
        }
        if let Some(earlier) = &merges {
            let (epk, esk) = keys::inbound_sms(assistant, earlier.as_str());
            items.push(self.update_item(UpdateSpec {
                key: key(epk, esk),
                expression: "SET mergedInto = :later",
                condition: Some("attribute_exists(PK) AND attribute_not_exists(decision)"),
                names: &[],
                values: vec![(":later", s(inbound.message_sid.as_str()))],
            }));
        }
        let merge_index = merges.as_ref().map(|_| items.len() - 1);
        if inbound.keyword.is_some() {
            let (kpk, ksk) = keys::texter_keyword(assistant, &name, inbound.message_sid.as_str());
            items.push(self.put_fresh(key(kpk, ksk)));
        }
        if let (Some(joins), Some(message_id)) = (&joins, &record.message_id) {
            let id = match joins {
                Joins::Continues(id) => {
                    items.push(self.count_message(id, now));
                    id
                }
                Joins::Starts(id) => {
                    // The texter's note of it, which erasing them finds;
                    // the conversation names the note, which deleting it
                    // takes along.
                    let (npk, nsk) = keys::texter_conversation(assistant, &name, id);
                    items.extend(self.new_conversation_items_with(
                        &inbound.conversation(id),
                        [("texterNote".to_owned(), s(nsk.clone()))],
                    ));
                    items.push(self.put_fresh(key(npk, nsk)));
                    id
                }
            };
            let message = Message {
                id: message_id.clone(),
                ..Message::new(id, Author::User, inbound.body.clone(), now)
            };
            // The text it came as: what deleting the conversation erases.
            let mut item = message_item(&message);
            item.insert("smsSid".to_owned(), s(inbound.message_sid.as_str()));
            items.push(self.put_item(item, "attribute_not_exists(PK)"));
        }
        self.transact_or(items, |i| match i {
            0 => InboundRace::Duplicate,
            1 => InboundRace::TexterMoved,
            i if Some(i) == merge_index => InboundRace::EarlierTaken,
            _ => InboundRace::ConversationMoved,
        })
        .await?;
        Ok(InboundOutcome::Recorded(record))
    }

    pub(super) async fn record_inbound_text(
        &self,
        inbound: &InboundSms,
    ) -> Result<InboundOutcome, StoreError> {
        let mut alone = false;
        for _ in 0..WRITE_ATTEMPTS {
            match self.try_record_inbound(inbound, alone).await {
                Ok(recorded) => return Ok(recorded),
                Err(Refused::Condition(InboundRace::Duplicate)) => {
                    let seen = self
                        .inbound_record(&inbound.assistant_id, &inbound.message_sid)
                        .await?
                        .ok_or_else(|| {
                            StoreError::Corrupt("a duplicate inbound message vanished".into())
                        })?;
                    return Ok(InboundOutcome::Duplicate(seen));
                }
                // Another message from the same texter won the race for
                // their session: read it again and join it.
                Err(Refused::Condition(InboundRace::TexterMoved)) => continue,
                // A worker took the earlier text first: answer this alone.
                Err(Refused::Condition(InboundRace::EarlierTaken)) => alone = true,
                Err(Refused::Condition(InboundRace::ConversationMoved)) => {
                    return Err(StoreError::Corrupt(
                        "an SMS conversation or texter changed under its text".into(),
                    ));
                }
                Err(Refused::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Transient(
            "a texter's messages kept racing for their session".into(),
        ))
    }

    pub(super) async fn inbound_record(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
    ) -> Result<Option<InboundRecord>, StoreError> {
        let (pk, sk) = keys::inbound_sms(assistant, sid.as_str());
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(inbound_from)
            .transpose()
    }

    pub(super) async fn sms_config_of(
        &self,
        assistant: &AssistantId,
    ) -> Result<Option<SmsConfig>, StoreError> {
        let (pk, sk) = keys::sms_config(assistant);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(config_from)
            .transpose()
    }

    pub(super) async fn save_config(&self, mut config: SmsConfig) -> Result<SmsConfig, StoreError> {
        let previous = self.sms_config_of(&config.assistant_id).await?;
        if let Some(old) = &previous {
            config.created_at = old.created_at;
        }
        let (pk, sk) = keys::sms_config(&config.assistant_id);
        let mut item = key(pk, sk);
        item.extend([
            ("workspaceId".to_owned(), s(config.workspace_id.as_str())),
            ("assistantId".to_owned(), s(config.assistant_id.as_str())),
            ("enabled".to_owned(), AttributeValue::Bool(config.enabled)),
            ("accountSid".to_owned(), s(config.account_sid.as_str())),
            ("phoneNumber".to_owned(), s(config.phone_number.as_str())),
            (
                "sessionTimeoutMinutes".to_owned(),
                n(config.session_timeout_minutes),
            ),
            (
                "maxSegmentsPerReply".to_owned(),
                n(config.max_segments_per_reply),
            ),
            ("limits".to_owned(), limits_value(&config.limits)),
            (
                "sealedAuthToken".to_owned(),
                AttributeValue::B(Blob::new(config.sealed_auth_token.clone())),
            ),
            ("createdAt".to_owned(), time(config.created_at)),
            ("updatedAt".to_owned(), time(config.updated_at)),
        ]);
        // Written over exactly what was read: a concurrent change of number
        // cannot leave a claim behind.
        let config_write = match &previous {
            Some(old) => self.put_if(
                item,
                "phoneNumber = :old",
                vec![(":old", s(old.phone_number.as_str()))],
            ),
            None => self.put_item(item, "attribute_not_exists(PK)"),
        };
        let (ppk, psk) = keys::phone_claim(config.phone_number.as_str());
        let mut claim = key(ppk, psk);
        claim.extend([
            ("assistantId".to_owned(), s(config.assistant_id.as_str())),
            ("workspaceId".to_owned(), s(config.workspace_id.as_str())),
        ]);
        let (apk, ask) = keys::assistant(&config.workspace_id, &config.assistant_id);
        let mut items = vec![
            config_write,
            self.put_if(
                claim,
                "attribute_not_exists(PK) OR assistantId = :ast",
                vec![(":ast", s(config.assistant_id.as_str()))],
            ),
            self.require_exists(key(apk, ask)),
        ];
        if let Some(old) = previous
            .as_ref()
            .filter(|o| o.phone_number != config.phone_number)
        {
            let (opk, osk) = keys::phone_claim(old.phone_number.as_str());
            items.push(self.delete_if(
                key(opk, osk),
                "attribute_not_exists(PK) OR assistantId = :ast",
                vec![(":ast", s(config.assistant_id.as_str()))],
            ));
        }
        self.transact(items, |i| match i {
            1 => Conflict::NumberTaken.into(),
            2 => StoreError::NotFound("assistant"),
            _ => Conflict::ChangedMeanwhile("SMS configuration").into(),
        })
        .await?;
        Ok(config)
    }

    pub(super) async fn delete_config(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<(), StoreError> {
        let config = self
            .sms_config_of(assistant)
            .await?
            .filter(|c| &c.workspace_id == ws)
            .ok_or(StoreError::NotFound("SMS configuration"))?;
        self.transact(self.release_sms_items(&config), |_| {
            StoreError::NotFound("SMS configuration")
        })
        .await
    }

    pub(super) async fn contact_of(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<Option<Contact>, StoreError> {
        let (pk, sk) = keys::contact(assistant, &self.texter_key(phone).await?);
        Ok(self.get(pk, sk).await?.map(|item| Contact {
            phone: phone.clone(),
            opted_out: item
                .get("optedOut")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
        }))
    }

    pub(super) async fn record_opt_out(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::contact(assistant, &self.texter_key(phone).await?);
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET optedOut = :yes, version = if_not_exists(version, :zero) + :one",
            condition: None,
            names: &[],
            values: vec![
                (":yes", AttributeValue::Bool(true)),
                (":zero", n(0)),
                (":one", n(1)),
            ],
        });
        self.transact(vec![update], |_| StoreError::Corrupt("contact".into()))
            .await
    }

    pub(super) async fn traffic_of(
        &self,
        assistant: &AssistantId,
        days: u32,
        now: Timestamp,
        session_timeout: Duration,
    ) -> Result<SmsTraffic, StoreError> {
        let (days, began) = period_days(days, now);
        let day_keys = days
            .map(|day| {
                let (pk, sk) = keys::traffic_day(assistant, day);
                key(pk, sk)
            })
            .collect();
        let texters = keys::texters_seen(assistant);
        let open_since = Timestamp::from_millis(now.millis() - session_timeout.as_millis() as i64);
        // A texter whose session is open was seen since it opened, so the
        // key range bounds the count; the filter keeps those whose last
        // message joined a conversation (not only keywords).
        let (from_began, from_open) = (keys::seen_from(began), keys::seen_from(open_since));
        let (found, unique, active) = tokio::try_join!(
            self.batch_get(day_keys),
            self.count_partition_from(&texters, &from_began, None),
            self.count_partition_from(
                &texters,
                &from_open,
                Some(("lastMessageAt >= :open", vec![(":open", time(open_since))])),
            ),
        )?;
        Ok(SmsTraffic::over(
            found.iter().map(day_counts),
            unique,
            active,
        ))
    }
}
