//! The SMS store in memory: the same rules as the DynamoDB adapter, each
//! call under the store's one lock.

use super::faults::Call;
use super::store::{MemoryStore, Tables};
use crate::domain::conversation::{Conversation, Message, Role};
use crate::domain::ids::{AssistantId, ConversationId, WorkspaceId};
use crate::domain::sms::{
    ContactKeys, DayCounts, MessageSid, PhoneNumber, SmsConfig, SmsLimit, SmsLimits, SmsTraffic,
    SmsWindow, TexterKey, continues_session, day_of, delivery_rank, period_days,
};
use crate::domain::time::Timestamp;
use crate::ports::{
    Admission, Conflict, Contact, Decided, InboundOutcome, InboundRecord, InboundSms, Joins,
    PartState, Reply, ReplyDecision, ReplyDraft, SmsStore, StoreError, TexterState,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug)]
pub(super) struct SmsTables {
    /// Names texters as the DynamoDB adapter does, under a key of this
    /// store's own.
    keys: ContactKeys,
    configs: HashMap<AssistantId, SmsConfig>,
    numbers: HashMap<PhoneNumber, AssistantId>,
    inbound: HashMap<(AssistantId, MessageSid), InboundRecord>,
    contacts: HashMap<(AssistantId, TexterKey), TexterState>,
    replies: HashMap<(AssistantId, MessageSid), Reply>,
    outbound: HashMap<(AssistantId, String), Delivery>,
    days: HashMap<(AssistantId, i64), DayCounts>,
    /// Uses counted in each limit's window, by the window's key.
    uses: HashMap<(AssistantId, String), u32>,
}

impl Default for SmsTables {
    fn default() -> Self {
        Self {
            keys: ContactKeys::random(),
            configs: HashMap::new(),
            numbers: HashMap::new(),
            inbound: HashMap::new(),
            contacts: HashMap::new(),
            replies: HashMap::new(),
            outbound: HashMap::new(),
            days: HashMap::new(),
            uses: HashMap::new(),
        }
    }
}

#[derive(Debug)]
struct Delivery {
    status: String,
    error_code: Option<u32>,
    /// The text whose reply it was.
    inbound: MessageSid,
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
        let before = self.records();
        self.inbound.retain(|(a, _), _| a != assistant);
        self.contacts.retain(|(a, _), _| a != assistant);
        self.replies.retain(|(a, _), _| a != assistant);
        self.outbound.retain(|(a, _), _| a != assistant);
        self.days.retain(|(a, _), _| a != assistant);
        self.uses.retain(|(a, _), _| a != assistant);
        before - self.records()
    }

    fn records(&self) -> usize {
        self.inbound.len()
            + self.contacts.len()
            + self.replies.len()
            + self.outbound.len()
            + self.days.len()
            + self.uses.len()
    }

    /// The texter's next text starts a new conversation, if this one was
    /// their session.
    pub(super) fn close_session(
        &mut self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
        conversation: &ConversationId,
    ) {
        let key = (assistant.clone(), self.keys.texter(phone));
        if let Some(texter) = self.contacts.get_mut(&key)
            && texter.conversation.as_ref() == Some(conversation)
        {
            texter.conversation = None;
            texter.last_message_at = None;
            texter.burst = None;
        }
    }

    /// A deleted conversation's texts, their replies and what was sent of
    /// them: the cascade's share of the SMS channel.
    pub(super) fn forget_conversation(&mut self, conversation: &ConversationId) -> usize {
        let texts: Vec<(AssistantId, MessageSid)> = self
            .inbound
            .iter()
            .filter(|(_, r)| r.conversation_id.as_ref() == Some(conversation))
            .map(|(key, _)| key.clone())
            .collect();
        self.forget_texts(&texts)
    }

    pub(super) fn config(&self, assistant: &AssistantId) -> Option<&SmsConfig> {
        self.configs.get(assistant)
    }

    /// What one texter left outside their conversations: the texts that
    /// joined none (keywords), their limit windows and their state, but
    /// for an opt-out. Answers the conversations their texts started, and
    /// how many records went.
    pub(super) fn forget_texter(
        &mut self,
        assistant: &AssistantId,
        name: &TexterKey,
    ) -> (Vec<ConversationId>, usize) {
        let mut conversations: Vec<ConversationId> = Vec::new();
        let mut alone = Vec::new();
        for ((a, sid), record) in &self.inbound {
            if a != assistant || &record.texter != name {
                continue;
            }
            match &record.conversation_id {
                Some(c) if !conversations.contains(c) => conversations.push(c.clone()),
                Some(_) => {}
                None => alone.push((a.clone(), sid.clone())),
            }
        }
        let mut removed = self.forget_texts(&alone);
        let windows = SmsLimits::texter_window_prefixes(name);
        let uses = self.uses.len();
        self.uses.retain(|(a, window), _| {
            a != assistant || !windows.iter().any(|p| window.starts_with(p.as_str()))
        });
        removed += uses - self.uses.len();
        let key = (assistant.clone(), name.clone());
        if let Some(texter) = self.contacts.remove(&key) {
            if texter.opted_out {
                let marker = TexterState {
                    opted_out: true,
                    ..TexterState::default()
                };
                self.contacts.insert(key, marker);
            } else {
                removed += 1;
            }
        }
        (conversations, removed)
    }

    /// The texters of `assistant` last seen before `before` (or never).
    pub(super) fn texters_before(
        &self,
        assistant: &AssistantId,
        before: Timestamp,
    ) -> Vec<TexterKey> {
        self.contacts
            .iter()
            .filter(|((a, _), texter)| {
                a == assistant && texter.last_seen_at.is_none_or(|at| at < before)
            })
            .map(|((_, name), _)| name.clone())
            .collect()
    }

    fn forget_texts(&mut self, texts: &[(AssistantId, MessageSid)]) -> usize {
        let before = self.records();
        for key in texts {
            self.inbound.remove(key);
            self.replies.remove(key);
            self.outbound
                .retain(|(a, _), d| !(a == &key.0 && d.inbound == key.1));
        }
        before - self.records()
    }

    fn day(&mut self, assistant: &AssistantId, at: Timestamp) -> &mut DayCounts {
        self.days
            .entry((assistant.clone(), day_of(at)))
            .or_default()
    }

    /// Whether every window has room.
    fn has_room(&self, assistant: &AssistantId, window: &SmsWindow) -> bool {
        self.uses
            .get(&(assistant.clone(), window.key.clone()))
            .copied()
            .unwrap_or(0)
            < window.allowed
    }

    fn count(&mut self, assistant: &AssistantId, window: &SmsWindow) {
        *self
            .uses
            .entry((assistant.clone(), window.key.clone()))
            .or_default() += 1;
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
            if let Some(earlier) = &plan.merges
                && let Some(record) = sms.inbound.get_mut(&(assistant.clone(), earlier.clone()))
            {
                record.merged_into = Some(inbound.message_sid.clone());
            }
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
            t.sms.contacts.entry(key).or_default().opted_out = true;
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
            t.conversations.append(Message {
                id: reply.message_id.clone(),
                usage: Some(draft.usage),
                ..Message::new(
                    &draft.conversation_id,
                    Role::Assistant,
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
