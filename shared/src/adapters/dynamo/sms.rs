//! The SMS channel's items (see the layout in [`keys`]): each write that
//! must hold with another (a configuration and its number, an inbound
//! message and its texter, session and counters, a reply and its message)
//! is one transaction.

use super::codec::{self, n, s, time};
use super::conversations::message_item;
use super::keys::{self, DAY_CONTACT_PREFIX};
use super::requests::UpdateSpec;
use super::{DynamoStore, Item, is_conflict, key};
use crate::adapters::contention::WRITE_ATTEMPTS;
use crate::domain::conversation::{Message, Role};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WorkspaceId};
use crate::domain::sms::{
    AccountSid, DayTraffic, Keyword, MessageSid, PhoneNumber, SmsConfig, SmsTraffic, day_of,
    delivery_rank, traffic_over,
};
use crate::domain::time::Timestamp;
use crate::ports::{
    Contact, InboundOutcome, InboundPlan, InboundRecord, InboundSms, Joins, PartState, Reply,
    ReplyDraft, ReplyPart, SmsStore, StoreError, TexterState,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::Duration;

/// How a cancelled transaction says which condition failed.
const DUPLICATE: &str = "already recorded";
const CHANGED: &str = "changed meanwhile";

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
        sealed_auth_token: sealed,
        created_at: codec::timestamp(item, "createdAt")?,
        updated_at: codec::timestamp(item, "updatedAt")?,
    })
}

fn inbound_from(item: &Item) -> Result<InboundRecord, StoreError> {
    Ok(InboundRecord {
        message_sid: codec::parsed(item, "messageSid", MessageSid::parse)?,
        from: codec::parsed(item, "from", PhoneNumber::parse)?,
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
    })
}

fn part_state(item: &Item, index: usize) -> Result<PartState, StoreError> {
    let state = codec::text(item, &format!("part{index}State"))?;
    Ok(match state {
        "pending" => PartState::Pending,
        "sending" => PartState::Sending,
        "sent" => PartState::Sent {
            sid: codec::text(item, &format!("part{index}Sid"))?.to_owned(),
            segments: codec::number(item, &format!("part{index}Segments"))?,
        },
        "failed" => PartState::Failed {
            code: codec::number(item, &format!("part{index}Code")).ok(),
        },
        _ => return Err(codec::corrupt(item, "partState")),
    })
}

fn reply_from(item: &Item) -> Result<Reply, StoreError> {
    let count: usize = codec::number(item, "partCount")?;
    let parts = (0..count)
        .map(|i| {
            Ok(ReplyPart {
                body: codec::text(item, &format!("part{i}Body"))?.to_owned(),
                state: part_state(item, i)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Reply {
        inbound: codec::parsed(item, "inbound", MessageSid::parse)?,
        conversation_id: codec::parsed(item, "conversationId", ConversationId::parse)?,
        message_id: codec::parsed(item, "messageId", MessageId::parse)?,
        to: codec::parsed(item, "to", PhoneNumber::parse)?,
        parts,
    })
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
        let items = self
            .query_partition(&keys::sms_partition(assistant), "")
            .await?;
        let mut keys_to_delete = Vec::new();
        for item in &items {
            if codec::text(item, keys::SK)? == "CONFIG" {
                let config = config_from(item)?;
                self.transact(self.release_sms_items(&config), |_| {
                    StoreError::Conflict(CHANGED.into())
                })
                .await
                .or_else(|e| {
                    if is_conflict(&e, CHANGED) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })?;
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

    async fn try_record_inbound(&self, inbound: &InboundSms) -> Result<InboundOutcome, StoreError> {
        let assistant = &inbound.assistant_id;
        let phone = inbound.from.as_str();
        let (cpk, csk) = keys::contact(assistant, phone);
        let contact = self.get(cpk.clone(), csk.clone()).await?;
        let version: u64 = contact
            .as_ref()
            .map(|c| codec::number(c, "version"))
            .transpose()?
            .unwrap_or(0);
        let texter = TexterState {
            opted_out: contact
                .as_ref()
                .and_then(|c| c.get("optedOut"))
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            conversation: contact
                .as_ref()
                .and_then(|c| codec::optional_text(c, "conversationId"))
                .and_then(|c| ConversationId::parse(&c)),
            last_message_at: contact
                .as_ref()
                .and_then(|c| codec::optional_timestamp(c, "lastMessageAt")),
        };
        let InboundPlan {
            record,
            texter,
            joins,
        } = inbound.plan(&texter);
        let now = inbound.received_at;
        let mut items = Vec::new();
        let mut extra = Vec::new();
        let (dpk, dsk) = keys::traffic_day(assistant, day_of(now));
        let contact_attr = format!("{DAY_CONTACT_PREFIX}{}", keys::contact_hash(phone));
        let day_names = [("#c", contact_attr.as_str())];
        let mut day_expression = "SET inbound = if_not_exists(inbound, :zero) + :one".to_owned();
        let mut day_values = vec![(":zero", n(0)), (":one", n(1))];
        if let (Some(joins), Some(message_id)) = (&joins, &record.message_id) {
            let id = match joins {
                Joins::Continues(id) => {
                    extra.push(self.count_message(id, now));
                    id
                }
                Joins::Starts(id) => {
                    extra.extend(self.new_conversation_items(&inbound.conversation(id)));
                    id
                }
            };
            let message = Message {
                id: message_id.clone(),
                ..Message::new(id, Role::User, inbound.body.clone(), now)
            };
            extra.push(self.put_item(message_item(&message), "attribute_not_exists(PK)"));
            day_expression.push_str(", #c = :now");
            day_values.push((":now", time(now)));
        } else {
            // A keyword's texter counts all the same, with no session open.
            day_expression.push_str(", #c = if_not_exists(#c, :zero)");
        }
        let (ipk, isk) = keys::inbound_sms(assistant, inbound.message_sid.as_str());
        let mut inbound_item = key(ipk, isk);
        inbound_item.extend([
            ("messageSid".to_owned(), s(inbound.message_sid.as_str())),
            ("from".to_owned(), s(phone)),
            ("receivedAt".to_owned(), time(now)),
            (
                "optedOut".to_owned(),
                AttributeValue::Bool(record.opted_out),
            ),
        ]);
        if let Some(keyword) = inbound.keyword {
            inbound_item.insert("keyword".to_owned(), s(keyword.as_str()));
        }
        if let (Some(c), Some(m)) = (&record.conversation_id, &record.message_id) {
            inbound_item.insert("conversationId".to_owned(), s(c.as_str()));
            inbound_item.insert("messageId".to_owned(), s(m.as_str()));
        }
        items.push(self.put_item(inbound_item, "attribute_not_exists(PK)"));

        let mut contact_item = key(cpk, csk);
        contact_item.extend([
            ("phone".to_owned(), s(phone)),
            (
                "optedOut".to_owned(),
                AttributeValue::Bool(texter.opted_out),
            ),
            ("version".to_owned(), n(version + 1)),
        ]);
        if let Some(c) = &texter.conversation {
            contact_item.insert("conversationId".to_owned(), s(c.as_str()));
        }
        if let Some(at) = texter.last_message_at {
            contact_item.insert("lastMessageAt".to_owned(), time(at));
        }
        items.push(self.put_if(
            contact_item,
            "attribute_not_exists(PK) OR version = :version",
            vec![(":version", n(version))],
        ));
        items.push(self.update_item(UpdateSpec {
            key: key(dpk, dsk),
            expression: &day_expression,
            condition: None,
            names: &day_names,
            values: day_values,
        }));
        items.extend(extra);
        self.transact(items, |i| match i {
            0 => StoreError::Conflict(DUPLICATE.into()),
            1 => StoreError::Conflict(CHANGED.into()),
            _ => StoreError::Corrupt("an SMS conversation changed under its texter".into()),
        })
        .await?;
        Ok(InboundOutcome::Recorded(record))
    }
}

#[async_trait]
impl SmsStore for DynamoStore {
    async fn sms_config(&self, assistant: &AssistantId) -> Result<Option<SmsConfig>, StoreError> {
        let (pk, sk) = keys::sms_config(assistant);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(config_from)
            .transpose()
    }

    async fn save_sms_config(&self, mut config: SmsConfig) -> Result<SmsConfig, StoreError> {
        let previous = self.sms_config(&config.assistant_id).await?;
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
            0 => StoreError::Conflict(
                "the SMS configuration changed meanwhile; send it again".into(),
            ),
            1 => StoreError::Conflict("this phone number already serves another assistant".into()),
            2 => StoreError::NotFound("assistant"),
            _ => StoreError::Conflict("the SMS configuration changed meanwhile".into()),
        })
        .await?;
        Ok(config)
    }

    async fn delete_sms_config(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<(), StoreError> {
        let config = self
            .sms_config(assistant)
            .await?
            .filter(|c| &c.workspace_id == ws)
            .ok_or(StoreError::NotFound("SMS configuration"))?;
        self.transact(self.release_sms_items(&config), |_| {
            StoreError::NotFound("SMS configuration")
        })
        .await
    }

    async fn record_inbound(&self, inbound: &InboundSms) -> Result<InboundOutcome, StoreError> {
        for _ in 0..WRITE_ATTEMPTS {
            match self.try_record_inbound(inbound).await {
                Err(e) if is_conflict(&e, DUPLICATE) => {
                    let seen = self
                        .inbound(&inbound.assistant_id, &inbound.message_sid)
                        .await?
                        .ok_or_else(|| {
                            StoreError::Corrupt("a duplicate inbound message vanished".into())
                        })?;
                    return Ok(InboundOutcome::Duplicate(seen));
                }
                // Another message from the same texter won the race for
                // their session: read it again and join it.
                Err(e) if is_conflict(&e, CHANGED) => continue,
                other => return other,
            }
        }
        Err(StoreError::Transient(
            "a texter's messages kept racing for their session".into(),
        ))
    }

    async fn inbound(
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

    async fn contact(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<Option<Contact>, StoreError> {
        let (pk, sk) = keys::contact(assistant, phone.as_str());
        Ok(self.get(pk, sk).await?.map(|item| Contact {
            phone: phone.clone(),
            opted_out: item
                .get("optedOut")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
        }))
    }

    async fn opt_out(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::contact(assistant, phone.as_str());
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET optedOut = :yes, phone = :phone, version = if_not_exists(version, :zero) + :one",
            condition: None,
            names: &[],
            values: vec![
                (":yes", AttributeValue::Bool(true)),
                (":phone", s(phone.as_str())),
                (":zero", n(0)),
                (":one", n(1)),
            ],
        });
        self.transact(vec![update], |_| StoreError::Corrupt("contact".into()))
            .await
    }

    async fn create_reply(&self, draft: ReplyDraft) -> Result<(Reply, bool), StoreError> {
        let assistant = &draft.assistant_id;
        let reply = draft.new_reply();
        let now = Timestamp::now();
        let (pk, sk) = keys::reply(assistant, draft.inbound.as_str());
        let mut item = key(pk, sk);
        item.extend([
            ("inbound".to_owned(), s(draft.inbound.as_str())),
            (
                "conversationId".to_owned(),
                s(draft.conversation_id.as_str()),
            ),
            ("messageId".to_owned(), s(reply.message_id.as_str())),
            ("to".to_owned(), s(draft.to.as_str())),
            ("partCount".to_owned(), n(reply.parts.len())),
            ("createdAt".to_owned(), time(now)),
        ]);
        for (i, part) in reply.parts.iter().enumerate() {
            item.insert(format!("part{i}Body"), s(part.body.clone()));
            item.insert(format!("part{i}State"), s(part.state.name()));
        }
        let message = Message {
            id: reply.message_id.clone(),
            usage: Some(draft.usage),
            ..Message::new(
                &draft.conversation_id,
                Role::Assistant,
                draft.answer.clone(),
                now,
            )
        };
        let items = vec![
            self.put_item(item, "attribute_not_exists(PK)"),
            self.put_item(message_item(&message), "attribute_not_exists(PK)"),
            self.count_message(&draft.conversation_id, now),
        ];
        match self
            .transact(items, |i| match i {
                0 => StoreError::Conflict(DUPLICATE.into()),
                1 => StoreError::Conflict("message id collision".into()),
                _ => StoreError::NotFound("conversation"),
            })
            .await
        {
            Ok(()) => Ok((reply, true)),
            Err(e) if is_conflict(&e, DUPLICATE) => self
                .reply(assistant, &draft.inbound)
                .await?
                .map(|existing| (existing, false))
                .ok_or_else(|| StoreError::Corrupt("a reply vanished".into())),
            Err(e) => Err(e),
        }
    }

    async fn reply(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
    ) -> Result<Option<Reply>, StoreError> {
        let (pk, sk) = keys::reply(assistant, inbound.as_str());
        self.get(pk, sk).await?.as_ref().map(reply_from).transpose()
    }

    async fn move_part(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
        index: usize,
        from: &'static str,
        to: &PartState,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::reply(assistant, inbound.as_str());
        let state = format!("part{index}State");
        let sid_attr = format!("part{index}Sid");
        let segments_attr = format!("part{index}Segments");
        let code_attr = format!("part{index}Code");
        let mut expression = "SET #state = :to".to_owned();
        let mut values = vec![(":to", s(to.name())), (":from", s(from))];
        let mut names = vec![("#state", state.as_str())];
        let mut items = Vec::new();
        match to {
            PartState::Sent { sid, segments } => {
                expression.push_str(", #sid = :sid, #segments = :segments");
                names.push(("#sid", sid_attr.as_str()));
                names.push(("#segments", segments_attr.as_str()));
                values.push((":sid", s(sid.clone())));
                values.push((":segments", n(*segments)));
            }
            PartState::Failed { code: Some(code) } => {
                expression.push_str(", #code = :code");
                names.push(("#code", code_attr.as_str()));
                values.push((":code", n(*code)));
            }
            _ => {}
        }
        items.push(self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: &expression,
            condition: Some("#state = :from"),
            names: &names,
            values,
        }));
        if let PartState::Sent { sid, .. } = to {
            let now = Timestamp::now();
            let (opk, osk) = keys::outbound_sms(assistant, sid);
            let mut outbound = key(opk, osk);
            outbound.extend([
                ("status".to_owned(), s("queued")),
                ("rank".to_owned(), n(0)),
                ("sentAt".to_owned(), time(now)),
                ("inbound".to_owned(), s(inbound.as_str())),
            ]);
            items.push(self.put_item(outbound, "attribute_not_exists(PK)"));
            let (dpk, dsk) = keys::traffic_day(assistant, day_of(now));
            items.push(self.update_item(UpdateSpec {
                key: key(dpk, dsk),
                expression: "SET outbound = if_not_exists(outbound, :zero) + :one",
                condition: None,
                names: &[],
                values: vec![(":zero", n(0)), (":one", n(1))],
            }));
        }
        match self
            .transact(items, |i| match i {
                0 => StoreError::Conflict(CHANGED.into()),
                _ => StoreError::Conflict("this outbound message is recorded already".into()),
            })
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if is_conflict(&e, CHANGED) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn record_delivery(
        &self,
        assistant: &AssistantId,
        sid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> Result<(), StoreError> {
        let Some(rank) = delivery_rank(status) else {
            return Ok(());
        };
        let (pk, sk) = keys::outbound_sms(assistant, sid);
        let mut expression = "SET #status = :status, #rank = :rank".to_owned();
        let mut values = vec![(":status", s(status)), (":rank", n(rank))];
        if let Some(code) = error_code {
            expression.push_str(", errorCode = :code");
            values.push((":code", n(code)));
        }
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: &expression,
            condition: Some("attribute_exists(PK) AND #rank < :rank"),
            names: &[("#status", "status"), ("#rank", "rank")],
            values,
        });
        match self
            .transact(vec![update], |_| StoreError::Conflict(CHANGED.into()))
            .await
        {
            // Unknown, or already further along: nothing to apply.
            Err(e) if is_conflict(&e, CHANGED) => Ok(()),
            other => other,
        }
    }

    async fn traffic(
        &self,
        assistant: &AssistantId,
        days: u32,
        now: Timestamp,
        session_timeout: Duration,
    ) -> Result<SmsTraffic, StoreError> {
        let today = day_of(now);
        let day_keys = ((today - i64::from(days) + 1)..=today)
            .map(|day| {
                let (pk, sk) = keys::traffic_day(assistant, day);
                key(pk, sk)
            })
            .collect();
        let mut found = Vec::new();
        for item in self.batch_get(day_keys).await? {
            let mut day = DayTraffic {
                inbound: codec::number::<u64>(&item, "inbound").unwrap_or(0),
                outbound: codec::number::<u64>(&item, "outbound").unwrap_or(0),
                contacts: Vec::new(),
            };
            for (name, value) in &item {
                if let (Some(hash), Ok(at)) = (name.strip_prefix(DAY_CONTACT_PREFIX), value.as_n())
                {
                    let at: i64 = at.parse().map_err(|_| codec::corrupt(&item, name))?;
                    day.contacts
                        .push((hash.to_owned(), Timestamp::from_millis(at)));
                }
            }
            found.push(day);
        }
        Ok(traffic_over(found, now, session_timeout))
    }
}
