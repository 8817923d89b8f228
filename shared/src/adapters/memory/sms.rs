//! The SMS store in memory: the same rules as the DynamoDB adapter, each
//! call under the store's one lock.

use super::faults::Call;
use super::store::{MemoryStore, Tables};
use crate::domain::conversation::{Conversation, Message, Role};
use crate::domain::ids::{AssistantId, ConversationId, WorkspaceId};
use crate::domain::sms::{
    DayTraffic, MessageSid, PhoneNumber, SmsConfig, SmsTraffic, day_of, delivery_rank, traffic_over,
};
use crate::domain::time::Timestamp;
use crate::ports::{
    Contact, InboundOutcome, InboundRecord, InboundSms, Joins, PartState, Reply, ReplyDraft,
    SmsStore, StoreError, TexterState,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Default)]
pub(super) struct SmsTables {
    configs: HashMap<AssistantId, SmsConfig>,
    numbers: HashMap<PhoneNumber, AssistantId>,
    inbound: HashMap<(AssistantId, MessageSid), InboundRecord>,
    contacts: HashMap<(AssistantId, PhoneNumber), TexterState>,
    replies: HashMap<(AssistantId, MessageSid), Reply>,
    outbound: HashMap<(AssistantId, String), Delivery>,
    days: HashMap<(AssistantId, i64), Day>,
}

#[derive(Debug)]
struct Delivery {
    status: String,
    error_code: Option<u32>,
}

#[derive(Debug, Default)]
struct Day {
    inbound: u64,
    outbound: u64,
    /// Each texter of the day, with the time of their last message that
    /// joined a conversation (zero when they only sent keywords).
    contacts: HashMap<PhoneNumber, Timestamp>,
}

impl SmsTables {
    /// Frees the number and forgets the configuration: what deleting the
    /// assistant does at once.
    pub(super) fn forget_config(&mut self, assistant: &AssistantId) -> bool {
        match self.configs.remove(assistant) {
            Some(config) => {
                self.numbers.remove(&config.phone_number);
                true
            }
            None => false,
        }
    }

    /// Everything else of a deleted assistant: the cascade's share.
    pub(super) fn forget_traffic(&mut self, assistant: &AssistantId) -> usize {
        let before = self.inbound.len()
            + self.contacts.len()
            + self.replies.len()
            + self.outbound.len()
            + self.days.len();
        self.inbound.retain(|(a, _), _| a != assistant);
        self.contacts.retain(|(a, _), _| a != assistant);
        self.replies.retain(|(a, _), _| a != assistant);
        self.outbound.retain(|(a, _), _| a != assistant);
        self.days.retain(|(a, _), _| a != assistant);
        before
            - (self.inbound.len()
                + self.contacts.len()
                + self.replies.len()
                + self.outbound.len()
                + self.days.len())
    }

    /// The texter's next text starts a new conversation, if this one was
    /// their session.
    pub(super) fn close_session(
        &mut self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
        conversation: &ConversationId,
    ) {
        if let Some(texter) = self.contacts.get_mut(&(assistant.clone(), phone.clone()))
            && texter.conversation.as_ref() == Some(conversation)
        {
            texter.conversation = None;
            texter.last_message_at = None;
        }
    }
}

fn assistant_exists(t: &Tables, ws: &WorkspaceId, assistant: &AssistantId) -> bool {
    t.assistants.contains_key(&(ws.clone(), assistant.clone()))
}

#[async_trait]
impl SmsStore for MemoryStore {
    async fn sms_config(&self, assistant: &AssistantId) -> Result<Option<SmsConfig>, StoreError> {
        self.run(Call::Read, |t| Ok(t.sms.configs.get(assistant).cloned()))
            .await
    }

    async fn save_sms_config(&self, mut config: SmsConfig) -> Result<SmsConfig, StoreError> {
        self.run(Call::Transaction, |t| {
            if !assistant_exists(t, &config.workspace_id, &config.assistant_id) {
                return Err(StoreError::NotFound("assistant"));
            }
            if let Some(holder) = t.sms.numbers.get(&config.phone_number)
                && holder != &config.assistant_id
            {
                return Err(StoreError::Conflict(
                    "this phone number already serves another assistant".into(),
                ));
            }
            if let Some(old) = t.sms.configs.get(&config.assistant_id) {
                config.created_at = old.created_at;
                let old_number = old.phone_number.clone();
                t.sms.numbers.remove(&old_number);
            }
            t.sms
                .numbers
                .insert(config.phone_number.clone(), config.assistant_id.clone());
            t.sms
                .configs
                .insert(config.assistant_id.clone(), config.clone());
            Ok(config)
        })
        .await
    }

    async fn delete_sms_config(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            match t.sms.configs.get(assistant) {
                Some(config) if &config.workspace_id == ws => {}
                _ => return Err(StoreError::NotFound("SMS configuration")),
            }
            t.sms.forget_config(assistant);
            Ok(())
        })
        .await
    }

    async fn record_inbound(&self, inbound: &InboundSms) -> Result<InboundOutcome, StoreError> {
        self.run(Call::Transaction, |t| {
            let assistant = &inbound.assistant_id;
            let sms = &mut t.sms;
            if let Some(seen) = sms
                .inbound
                .get(&(assistant.clone(), inbound.message_sid.clone()))
            {
                return Ok(InboundOutcome::Duplicate(seen.clone()));
            }
            let key = (assistant.clone(), inbound.from.clone());
            let plan = inbound.plan(&sms.contacts.get(&key).cloned().unwrap_or_default());
            let now = inbound.received_at;
            let day = sms
                .days
                .entry((assistant.clone(), day_of(now)))
                .or_default();
            day.inbound += 1;
            // A keyword's texter counts all the same, with no session open.
            let seen = if plan.joins.is_some() {
                now
            } else {
                Timestamp::from_millis(0)
            };
            let latest = day.contacts.entry(inbound.from.clone()).or_insert(seen);
            *latest = (*latest).max(seen);
            if let Some(joins) = &plan.joins {
                let conversation = match joins {
                    Joins::Continues(id) => id.clone(),
                    Joins::Starts(id) => {
                        t.conversations.start(Conversation {
                            message_count: 0,
                            ..inbound.conversation(id)
                        });
                        id.clone()
                    }
                };
                let message_id = plan
                    .record
                    .message_id
                    .clone()
                    .expect("a joining message has an id");
                t.conversations.append(Message {
                    id: message_id,
                    ..Message::new(&conversation, Role::User, inbound.body.clone(), now)
                })?;
            }
            let sms = &mut t.sms;
            sms.contacts.insert(key, plan.texter);
            let record = plan.record;
            sms.inbound.insert(
                (assistant.clone(), inbound.message_sid.clone()),
                record.clone(),
            );
            Ok(InboundOutcome::Recorded(record))
        })
        .await
    }

    async fn inbound(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
    ) -> Result<Option<InboundRecord>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.sms
                .inbound
                .get(&(assistant.clone(), sid.clone()))
                .cloned())
        })
        .await
    }

    async fn contact(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<Option<Contact>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.sms
                .contacts
                .get(&(assistant.clone(), phone.clone()))
                .map(|texter| Contact {
                    phone: phone.clone(),
                    opted_out: texter.opted_out,
                }))
        })
        .await
    }

    async fn opt_out(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            t.sms
                .contacts
                .entry((assistant.clone(), phone.clone()))
                .or_default()
                .opted_out = true;
            Ok(())
        })
        .await
    }

    async fn create_reply(&self, draft: ReplyDraft) -> Result<(Reply, bool), StoreError> {
        self.run(Call::Transaction, |t| {
            let key = (draft.assistant_id.clone(), draft.inbound.clone());
            if let Some(existing) = t.sms.replies.get(&key) {
                return Ok((existing.clone(), false));
            }
            let reply = draft.new_reply();
            t.conversations.append(Message {
                id: reply.message_id.clone(),
                usage: Some(draft.usage),
                ..Message::new(
                    &draft.conversation_id,
                    Role::Assistant,
                    draft.answer.clone(),
                    Timestamp::now(),
                )
            })?;
            t.sms.replies.insert(key, reply.clone());
            Ok((reply, true))
        })
        .await
    }

    async fn reply(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
    ) -> Result<Option<Reply>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.sms
                .replies
                .get(&(assistant.clone(), inbound.clone()))
                .cloned())
        })
        .await
    }

    async fn move_part(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
        index: usize,
        from: &'static str,
        to: &PartState,
    ) -> Result<bool, StoreError> {
        let call = if matches!(to, PartState::Sent { .. }) {
            Call::Transaction
        } else {
            Call::Write
        };
        self.run(call, |t| {
            let Some(part) = t
                .sms
                .replies
                .get_mut(&(assistant.clone(), inbound.clone()))
                .and_then(|reply| reply.parts.get_mut(index))
            else {
                return Err(StoreError::NotFound("reply"));
            };
            if part.state.name() != from {
                return Ok(false);
            }
            part.state = to.clone();
            if let PartState::Sent { sid, .. } = to {
                t.sms.outbound.insert(
                    (assistant.clone(), sid.clone()),
                    Delivery {
                        status: "queued".into(),
                        error_code: None,
                    },
                );
                t.sms
                    .days
                    .entry((assistant.clone(), day_of(Timestamp::now())))
                    .or_default()
                    .outbound += 1;
            }
            Ok(true)
        })
        .await
    }

    async fn record_delivery(
        &self,
        assistant: &AssistantId,
        sid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            if let Some(delivery) = t.sms.outbound.get_mut(&(assistant.clone(), sid.to_owned()))
                && delivery_rank(status) > delivery_rank(&delivery.status)
            {
                delivery.status = status.to_owned();
                delivery.error_code = error_code.or(delivery.error_code);
            }
            Ok(())
        })
        .await
    }

    async fn traffic(
        &self,
        assistant: &AssistantId,
        days: u32,
        now: Timestamp,
        session_timeout: Duration,
    ) -> Result<SmsTraffic, StoreError> {
        self.run(Call::Read, |t| {
            let today = day_of(now);
            let days = ((today - i64::from(days) + 1)..=today).filter_map(|day| {
                t.sms
                    .days
                    .get(&(assistant.clone(), day))
                    .map(|counters| DayTraffic {
                        inbound: counters.inbound,
                        outbound: counters.outbound,
                        contacts: counters
                            .contacts
                            .iter()
                            .map(|(phone, at)| (phone.clone(), *at))
                            .collect(),
                    })
            });
            Ok(traffic_over(days, now, session_timeout))
        })
        .await
    }
}

impl MemoryStore {
    /// The delivery status last recorded for an outbound message.
    pub fn delivery_status(&self, assistant: &AssistantId, sid: &str) -> Option<String> {
        self.lock()
            .sms
            .outbound
            .get(&(assistant.clone(), sid.to_owned()))
            .map(|d| d.status.clone())
    }
}
