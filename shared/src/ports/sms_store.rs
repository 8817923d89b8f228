//! What the SMS channel stores: each assistant's configuration (one phone
//! number serves one assistant), inbound messages once per `MessageSid`,
//! texters and their sessions, replies with the state of each part sent,
//! delivery status, and the per-day counters analytics reads.

use super::store::StoreError;
use crate::domain::conversation::{Channel, Conversation, Usage, title_from};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WorkspaceId};
use crate::domain::sms::{
    Keyword, MessageSid, PhoneNumber, SmsConfig, SmsTraffic, continues_session,
};
use crate::domain::time::Timestamp;
use async_trait::async_trait;
use std::time::Duration;

/// An inbound text whose signature verified.
#[derive(Clone, Debug)]
pub struct InboundSms {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub message_sid: MessageSid,
    pub from: PhoneNumber,
    pub body: String,
    pub keyword: Option<Keyword>,
    pub received_at: Timestamp,
    /// Silence after which this message starts a new conversation.
    pub session_timeout: Duration,
}

/// A texter's state as a store keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TexterState {
    pub opted_out: bool,
    /// Their latest conversation, and when their last message joined it.
    pub conversation: Option<ConversationId>,
    pub last_message_at: Option<Timestamp>,
}

/// Which conversation an inbound message joins.
#[derive(Clone, Debug, PartialEq)]
pub enum Joins {
    /// The texter's session is still open.
    Continues(ConversationId),
    /// A new conversation, created with the message.
    Starts(ConversationId),
}

/// What recording an inbound message writes, decided here once for every
/// store: the record, the texter's new state, and the conversation it joins
/// (none for a keyword, which is never shown to the model).
#[derive(Clone, Debug)]
pub struct InboundPlan {
    pub record: InboundRecord,
    pub texter: TexterState,
    pub joins: Option<Joins>,
}

impl InboundSms {
    /// The conversation this message starts (see [`Joins::Starts`]): the
    /// texter as its contact, its first words as its title.
    pub fn conversation(&self, id: &ConversationId) -> Conversation {
        Conversation {
            id: id.clone(),
            workspace_id: self.workspace_id.clone(),
            assistant_id: self.assistant_id.clone(),
            channel: Channel::Sms,
            contact: Some(self.from.clone()),
            created_by: None,
            title: Some(title_from(&self.body)),
            lead: None,
            message_count: 1,
            created_at: self.received_at,
            updated_at: self.received_at,
        }
    }

    pub fn plan(&self, texter: &TexterState) -> InboundPlan {
        let now = self.received_at;
        let mut next = texter.clone();
        let mut joins = None;
        let mut message_id = None;
        match self.keyword {
            Some(Keyword::OptOut) => next.opted_out = true,
            Some(Keyword::OptIn) => next.opted_out = false,
            Some(Keyword::Help) => {}
            None => {
                let open = texter.conversation.clone().filter(|_| {
                    continues_session(texter.last_message_at, now, self.session_timeout)
                });
                let conversation = match open {
                    Some(id) => Joins::Continues(id),
                    None => Joins::Starts(ConversationId::generate()),
                };
                let id = match &conversation {
                    Joins::Continues(id) | Joins::Starts(id) => id.clone(),
                };
                next.conversation = Some(id);
                next.last_message_at = Some(now);
                joins = Some(conversation);
                message_id = Some(MessageId::generate());
            }
        }
        InboundPlan {
            record: InboundRecord {
                message_sid: self.message_sid.clone(),
                from: self.from.clone(),
                keyword: self.keyword,
                conversation_id: next.conversation.clone().filter(|_| joins.is_some()),
                message_id,
                received_at: now,
                opted_out: next.opted_out,
            },
            texter: next,
            joins,
        }
    }
}

/// An inbound message as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundRecord {
    pub message_sid: MessageSid,
    pub from: PhoneNumber,
    pub keyword: Option<Keyword>,
    /// The conversation it joined and its message there; keywords join none
    /// (they are never shown to the model, not even as history).
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub received_at: Timestamp,
    /// Whether the texter had opted out once this message was applied.
    pub opted_out: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InboundOutcome {
    /// The first delivery of this `MessageSid`.
    Recorded(InboundRecord),
    /// Twilio delivered it again: nothing changed.
    Duplicate(InboundRecord),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub phone: PhoneNumber,
    pub opted_out: bool,
}

/// A reply, decided before anything is sent, so a retry sends the very
/// same text.
#[derive(Clone, Debug)]
pub struct ReplyDraft {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub inbound: MessageSid,
    pub conversation_id: ConversationId,
    pub to: PhoneNumber,
    pub answer: String,
    pub parts: Vec<String>,
    pub usage: Usage,
}

impl ReplyDraft {
    /// The reply this draft becomes when stored first: its first part
    /// claimed (`Sending`) for the worker that is about to send it.
    pub fn new_reply(&self) -> Reply {
        Reply {
            inbound: self.inbound.clone(),
            conversation_id: self.conversation_id.clone(),
            message_id: MessageId::generate(),
            to: self.to.clone(),
            parts: self
                .parts
                .iter()
                .enumerate()
                .map(|(i, body)| ReplyPart {
                    body: body.clone(),
                    state: if i == 0 {
                        PartState::Sending
                    } else {
                        PartState::Pending
                    },
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub inbound: MessageSid,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub to: PhoneNumber,
    pub parts: Vec<ReplyPart>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplyPart {
    pub body: String,
    pub state: PartState,
}

/// Where one SMS body of a reply is. `Sending` is written before the call
/// to Twilio, so a worker that dies after sending leaves a part that is
/// never sent again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartState {
    Pending,
    Sending,
    Sent { sid: String, segments: u32 },
    Failed { code: Option<u32> },
}

impl PartState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent { .. } => "sent",
            Self::Failed { .. } => "failed",
        }
    }
}

#[async_trait]
pub trait SmsStore: Send + Sync {
    /// By assistant alone: the webhook's URL names no workspace.
    async fn sms_config(&self, assistant: &AssistantId) -> Result<Option<SmsConfig>, StoreError>;

    /// Creates or replaces the configuration, keeping the first
    /// `createdAt`. Claims the phone number and frees a number it replaces,
    /// in the same write: a number serving another assistant is a conflict,
    /// a deleted assistant not found.
    async fn save_sms_config(&self, config: SmsConfig) -> Result<SmsConfig, StoreError>;

    /// Removes the configuration and frees its number at once.
    async fn delete_sms_config(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<(), StoreError>;

    /// Records the message once per `MessageSid`, atomically with its
    /// texter's state (opt-out, session), its conversation and the day's
    /// counters. However many deliveries, however concurrent: one record.
    async fn record_inbound(&self, inbound: &InboundSms) -> Result<InboundOutcome, StoreError>;

    async fn inbound(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
    ) -> Result<Option<InboundRecord>, StoreError>;

    async fn contact(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<Option<Contact>, StoreError>;

    /// Records an opt-out Twilio reported (error 21610) outside a keyword.
    async fn opt_out(&self, assistant: &AssistantId, phone: &PhoneNumber)
    -> Result<(), StoreError>;

    /// Stores the draft and the answer as the conversation's next message,
    /// its first part already `Sending` (claimed for the caller, who sends
    /// it next) and the rest `Pending`; answers `(reply, true)`. If a reply
    /// to this inbound message exists already, answers that one, unchanged,
    /// with `false`.
    async fn create_reply(&self, draft: ReplyDraft) -> Result<(Reply, bool), StoreError>;

    async fn reply(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
    ) -> Result<Option<Reply>, StoreError>;

    /// Moves part `index` from a state named `from` to `to`, only if it is
    /// still in `from`; `false` when it was not. Moving to `Sent` records
    /// the outbound message and counts it, in the same write.
    async fn move_part(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
        index: usize,
        from: &'static str,
        to: &PartState,
    ) -> Result<bool, StoreError>;

    /// A status callback: applied only when it moves the message forward.
    /// An unknown message is ignored.
    async fn record_delivery(
        &self,
        assistant: &AssistantId,
        sid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> Result<(), StoreError>;

    /// Traffic over the `days` days up to `now` (today included), and the
    /// sessions whose last message is within `session_timeout` of `now`.
    async fn traffic(
        &self,
        assistant: &AssistantId,
        days: u32,
        now: Timestamp,
        session_timeout: Duration,
    ) -> Result<SmsTraffic, StoreError>;
}
