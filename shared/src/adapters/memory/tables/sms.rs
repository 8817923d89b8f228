//! The SMS channel's tables in memory: configurations and number claims,
//! texts, texters, replies, outbound messages, day counts and limit
//! windows, with the rules the SMS port's calls share.

use crate::domain::ids::{AssistantId, ConversationId};
use crate::domain::sms::{
    ContactKeys, DayCounts, MessageSid, PhoneNumber, SmsConfig, SmsLimits, SmsWindow, TexterKey,
    day_of,
};
use crate::domain::time::Timestamp;
use crate::ports::{InboundRecord, Reply, TexterState};
use std::collections::HashMap;

#[derive(Debug)]
pub(in crate::adapters::memory) struct SmsTables {
    /// Names texters as the DynamoDB adapter does, under a key of this
    /// store's own.
    pub(in crate::adapters::memory) keys: ContactKeys,
    pub(in crate::adapters::memory) configs: HashMap<AssistantId, SmsConfig>,
    pub(in crate::adapters::memory) numbers: HashMap<PhoneNumber, AssistantId>,
    pub(in crate::adapters::memory) inbound: HashMap<(AssistantId, MessageSid), InboundRecord>,
    pub(in crate::adapters::memory) contacts: HashMap<(AssistantId, TexterKey), TexterState>,
    pub(in crate::adapters::memory) replies: HashMap<(AssistantId, MessageSid), Reply>,
    pub(in crate::adapters::memory) outbound: HashMap<(AssistantId, String), Delivery>,
    pub(in crate::adapters::memory) days: HashMap<(AssistantId, i64), DayCounts>,
    /// Uses counted in each limit's window, by the window's key.
    pub(in crate::adapters::memory) uses: HashMap<(AssistantId, String), u32>,
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
pub(in crate::adapters::memory) struct Delivery {
    pub(in crate::adapters::memory) status: String,
    pub(in crate::adapters::memory) error_code: Option<u32>,
    /// The text whose reply it was.
    pub(in crate::adapters::memory) inbound: MessageSid,
}

impl SmsTables {
    /// Frees the number and forgets the configuration: what deleting the
    /// assistant does at once.
    pub(in crate::adapters::memory) fn forget_config(&mut self, assistant: &AssistantId) -> bool {
        match self.configs.remove(assistant) {
            Some(config) => {
                self.numbers.remove(&config.phone_number);
                true
            }
            None => false,
        }
    }

    /// Everything else of a deleted assistant: the cascade's share.
    pub(in crate::adapters::memory) fn forget_traffic(&mut self, assistant: &AssistantId) -> usize {
        let before = self.records();
        self.inbound.retain(|(a, _), _| a != assistant);
        self.contacts.retain(|(a, _), _| a != assistant);
        self.replies.retain(|(a, _), _| a != assistant);
        self.outbound.retain(|(a, _), _| a != assistant);
        self.days.retain(|(a, _), _| a != assistant);
        self.uses.retain(|(a, _), _| a != assistant);
        before - self.records()
    }

    pub(in crate::adapters::memory) fn records(&self) -> usize {
        self.inbound.len()
            + self.contacts.len()
            + self.replies.len()
            + self.outbound.len()
            + self.days.len()
            + self.uses.len()
    }

    /// The texter's next text starts a new conversation, if this one was
    /// their session.
    pub(in crate::adapters::memory) fn close_session(
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
    pub(in crate::adapters::memory) fn forget_conversation(
        &mut self,
        conversation: &ConversationId,
    ) -> usize {
        let texts: Vec<(AssistantId, MessageSid)> = self
            .inbound
            .iter()
            .filter(|(_, r)| r.conversation_id.as_ref() == Some(conversation))
            .map(|(key, _)| key.clone())
            .collect();
        self.forget_texts(&texts)
    }

    pub(in crate::adapters::memory) fn config(
        &self,
        assistant: &AssistantId,
    ) -> Option<&SmsConfig> {
        self.configs.get(assistant)
    }

    /// What one texter left outside their conversations: the texts that
    /// joined none (keywords), their limit windows and their state, but
    /// for an opt-out. Answers the conversations their texts started, and
    /// how many records went.
    pub(in crate::adapters::memory) fn forget_texter(
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
    pub(in crate::adapters::memory) fn texters_before(
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

    pub(in crate::adapters::memory) fn forget_texts(
        &mut self,
        texts: &[(AssistantId, MessageSid)],
    ) -> usize {
        let before = self.records();
        for key in texts {
            self.inbound.remove(key);
            self.replies.remove(key);
            self.outbound
                .retain(|(a, _), d| !(a == &key.0 && d.inbound == key.1));
        }
        before - self.records()
    }

    pub(in crate::adapters::memory) fn day(
        &mut self,
        assistant: &AssistantId,
        at: Timestamp,
    ) -> &mut DayCounts {
        self.days
            .entry((assistant.clone(), day_of(at)))
            .or_default()
    }

    /// Whether every window has room.
    pub(in crate::adapters::memory) fn has_room(
        &self,
        assistant: &AssistantId,
        window: &SmsWindow,
    ) -> bool {
        self.uses
            .get(&(assistant.clone(), window.key.clone()))
            .copied()
            .unwrap_or(0)
            < window.allowed
    }

    pub(in crate::adapters::memory) fn count(
        &mut self,
        assistant: &AssistantId,
        window: &SmsWindow,
    ) {
        *self
            .uses
            .entry((assistant.clone(), window.key.clone()))
            .or_default() += 1;
    }
}
