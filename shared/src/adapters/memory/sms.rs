//! The SMS store in memory: the same rules as the DynamoDB adapter, each
//! call under the store's one lock.

use super::faults::Call;
use super::store::MemoryStore;
use super::tables::Tables;
use super::tables::sms::Delivery;
use crate::domain::conversation::{Author, Conversation, Message};
use crate::domain::ids::{AssistantId, WorkspaceId};
use crate::domain::sms::{
    MessageSid, PhoneNumber, SmsConfig, SmsLimit, SmsTraffic, SmsWindow, continues_session,
    delivery_rank, period_days,
};
use crate::domain::time::Timestamp;
use crate::ports::{
    Admission, Conflict, Contact, Decided, InboundOutcome, InboundRecord, InboundSms, Joins,
    PartState, Reply, ReplyDecision, ReplyDraft, SmsStore, StoreError, TexterState,
};
use async_trait::async_trait;
use std::time::Duration;

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
                return Err(Conflict::NumberTaken.into());
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
            let name = sms.keys.texter(&inbound.from);
            let key = (assistant.clone(), name.clone());
            let texter = sms.contacts.get(&key).cloned().unwrap_or_default();
            let mut plan = inbound.plan(&texter, name.clone());
            // A text a worker already took is answered alone: this one
            // starts a burst of its own.
            let taken = |sid: &MessageSid| {
                sms.inbound
                    .get(&(assistant.clone(), sid.clone()))
                    .is_none_or(|earlier| earlier.decision.is_some())
            };
            if plan.merges.as_ref().is_some_and(taken) {
                plan = inbound.plan_alone(&texter, name);
            }
            let now = inbound.received_at;
            if let Some(joins) = &plan.joins {
                let conversation = match joins {
                    Joins::Continues(id) => id.clone(),
                    Joins::Starts(id) => {
                        t.start_conversation(Conversation {
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
                t.append_message(Message {
                    id: message_id,
                    ..Message::new(&conversation, Author::User, inbound.body.clone(), now)
                })?;
            }
            let sms = &mut t.sms;
            if let Some(earlier) = &plan.merges
                && let Some(record) = sms.inbound.get_mut(&(assistant.clone(), earlier.clone()))
            {
                record.merged_into = Some(inbound.message_sid.clone());
            }
            let before = sms.contacts.insert(key, plan.texter.clone());
            let record = plan.record;
            sms.inbound.insert(
                (assistant.clone(), inbound.message_sid.clone()),
                record.clone(),
            );
            t.texter_changed(before.as_ref(), &plan.texter);
            Ok(InboundOutcome::Recorded(record))
        })
        .await
    }

    async fn count_received(&self, assistant: &AssistantId, at: Timestamp) {
        let counted = self
            .run(Call::Write, |t| {
                t.sms.day(assistant, at).inbound += 1;
                Ok(())
            })
            .await;
        if let Err(error) = counted {
            tracing::warn!(assistant_id = %assistant, %error, "an SMS day counter was not updated");
        }
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
                .get(&(assistant.clone(), t.sms.keys.texter(phone)))
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
            let key = (assistant.clone(), t.sms.keys.texter(phone));
            let texter = t.sms.contacts.entry(key).or_default();
            let before = texter.clone();
            texter.opted_out = true;
            let after = texter.clone();
            t.texter_changed(Some(&before), &after);
            Ok(())
        })
        .await
    }

    async fn decide_reply(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
        texter: &[SmsWindow],
        assistant_window: &SmsWindow,
        at: Timestamp,
    ) -> Result<Decided, StoreError> {
        self.run(Call::Transaction, |t| {
            let sms = &mut t.sms;
            let record = sms
                .inbound
                .get(&(assistant.clone(), sid.clone()))
                .ok_or(StoreError::NotFound("inbound message"))?;
            if record.merged_into.is_some() {
                return Ok(Decided::Merged);
            }
            if let Some(decision) = record.decision {
                return Ok(Decided::Decision(decision));
            }
            let decision = match texter.iter().find(|w| !sms.has_room(assistant, w)) {
                Some(full) => ReplyDecision::OverLimit(full.limit),
                None => {
                    for window in texter {
                        sms.count(assistant, window);
                    }
                    if sms.has_room(assistant, assistant_window) {
                        sms.count(assistant, assistant_window);
                        ReplyDecision::Answer
                    } else {
                        ReplyDecision::OverLimit(SmsLimit::PerAssistantPerDay)
                    }
                }
            };
            if matches!(decision, ReplyDecision::OverLimit(_)) {
                sms.day(assistant, at).over_limit += 1;
            }
            if let Some(record) = sms.inbound.get_mut(&(assistant.clone(), sid.clone())) {
                record.decision = Some(decision);
            }
            Ok(Decided::Decision(decision))
        })
        .await
    }

    async fn count_sms_use(
        &self,
        assistant: &AssistantId,
        windows: &[SmsWindow],
    ) -> Result<Admission, StoreError> {
        self.run(Call::Transaction, |t| {
            if let Some(full) = windows.iter().position(|w| !t.sms.has_room(assistant, w)) {
                return Ok(Admission::Refused(full));
            }
            for window in windows {
                t.sms.count(assistant, window);
            }
            Ok(Admission::Admitted)
        })
        .await
    }

    async fn create_reply(
        &self,
        draft: ReplyDraft,
        at: Timestamp,
    ) -> Result<(Reply, bool), StoreError> {
        self.run(Call::Transaction, |t| {
            let key = (draft.assistant_id.clone(), draft.inbound.clone());
            if let Some(existing) = t.sms.replies.get(&key) {
                return Ok((existing.clone(), false));
            }
            let reply = draft.new_reply(at);
            t.append_message(Message {
                id: reply.message_id.clone(),
                usage: Some(draft.usage),
                ..Message::new(
                    &draft.conversation_id,
                    Author::Assistant,
                    draft.answer.clone(),
                    at,
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
        from: &PartState,
        to: &PartState,
        at: Timestamp,
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
            if part.state != *from {
                return Ok(false);
            }
            part.state = to.clone();
            if let PartState::Sent { sid, segments } = to {
                t.sms.outbound.insert(
                    (assistant.clone(), sid.clone()),
                    Delivery {
                        status: "queued".into(),
                        error_code: None,
                        inbound: inbound.clone(),
                    },
                );
                let day = t.sms.day(assistant, at);
                day.outbound += 1;
                day.segments_out += u64::from(*segments);
            }
            Ok(true)
        })
        .await
    }

    async fn outbound_recorded(
        &self,
        assistant: &AssistantId,
        sid: &str,
    ) -> Result<bool, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.sms
                .outbound
                .contains_key(&(assistant.clone(), sid.to_owned())))
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

    async fn erase_texter(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<usize, StoreError> {
        self.run(Call::Transaction, |t| {
            let name = t.sms.keys.texter(phone);
            Ok(t.erase_texter(assistant, &name))
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
            let (days, began) = period_days(days, now);
            let counts = days.filter_map(|day| t.sms.days.get(&(assistant.clone(), day)).copied());
            let texters: Vec<&TexterState> = t
                .sms
                .contacts
                .iter()
                .filter(|((a, _), _)| a == assistant)
                .map(|(_, texter)| texter)
                .collect();
            let unique = texters
                .iter()
                .filter(|texter| texter.last_seen_at.is_some_and(|at| at >= began))
                .count();
            let active = texters
                .iter()
                .filter(|texter| continues_session(texter.last_message_at, now, session_timeout))
                .count();
            Ok(SmsTraffic::over(counts, unique as u64, active as u64))
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
