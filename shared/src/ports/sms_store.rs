//! What the SMS channel stores: each assistant's configuration (one phone
//! number serves one assistant), inbound messages once per `MessageSid`,
//! texters and their sessions, whether each text is answered (limits,
//! bursts), replies with the state of each part sent, delivery status, and
//! the per-day counters analytics reads.
//!
//! Every write a store makes for one inbound text or one reply touches only
//! that text's and that texter's items: counters every texter shares are
//! added to apart from those writes, so a burst of texters to one number
//! never contends on one item.

use super::store::StoreError;
use super::widget_store::Admission;
use crate::domain::conversation::{Channel, Conversation, MessageRef, Usage, title_from};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WorkspaceId};
use crate::domain::sms::{
    Keyword, MessageSid, PhoneNumber, SmsConfig, SmsLimit, SmsTraffic, SmsWindow, TexterKey,
    continues_session,
};
use crate::domain::time::Timestamp;
use async_trait::async_trait;
use std::time::Duration;

/// Texts one answer takes together at most: a burst longer than this is
/// answered in more than one reply, so no one can hold an answer back
/// forever by texting every few seconds.
pub const MAX_BURST_TEXTS: usize = 10;

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
    /// Texts from one texter within this of each other are answered
    /// together, as one question (zero: each alone).
    pub burst_window: Duration,
}

/// A texter's state as a store keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TexterState {
    pub opted_out: bool,
    /// Their latest conversation, and when their last message joined it.
    pub conversation: Option<ConversationId>,
    pub last_message_at: Option<Timestamp>,
    /// When they last texted anything, keywords included: what analytics
    /// counts as a contact in a period.
    pub last_seen_at: Option<Timestamp>,
    /// Their latest text that joined a conversation, and the burst it
    /// closes: what their next text joins while the window is open.
    pub burst: Option<Burst>,
}

/// Texts of one texter answered as one question: every text's message,
/// oldest first, and the `MessageSid` of the last, whose job answers them.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    pub last: MessageSid,
    pub messages: Vec<MessageRef>,
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
/// store: the record, the texter's new state, the conversation it joins
/// (none for a keyword, which is never shown to the model), and the
/// earlier text it joins in one answer, if any.
#[derive(Clone, Debug)]
pub struct InboundPlan {
    pub record: InboundRecord,
    pub texter: TexterState,
    pub joins: Option<Joins>,
    /// The texter's previous text, which this one is answered with: the
    /// store marks it merged, but only while no worker has decided to
    /// answer it; else it plans again with [`InboundSms::plan_alone`].
    pub merges: Option<MessageSid>,
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

    /// The plan for this text from a texter in `texter`'s state, whom the
    /// table names `key`.
    pub fn plan(&self, texter: &TexterState, key: TexterKey) -> InboundPlan {
        let now = self.received_at;
        let mut next = texter.clone();
        next.last_seen_at = Some(now);
        let mut joins = None;
        let mut message_id = None;
        let mut merges = None;
        let mut burst = Vec::new();
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
                let message = MessageRef {
                    id: MessageId::generate(),
                    at: now,
                };
                let earlier = texter
                    .burst
                    .as_ref()
                    .filter(|_| matches!(conversation, Joins::Continues(_)))
                    .filter(|b| self.joins_burst(b));
                if let Some(earlier) = earlier {
                    merges = Some(earlier.last.clone());
                    burst.extend(earlier.messages.iter().cloned());
                }
                burst.push(message.clone());
                next.conversation = Some(id);
                next.last_message_at = Some(now);
                next.burst = Some(Burst {
                    last: self.message_sid.clone(),
                    messages: burst.clone(),
                });
                joins = Some(conversation);
                message_id = Some(message.id);
            }
        }
        InboundPlan {
            record: InboundRecord {
                message_sid: self.message_sid.clone(),
                from: self.from.clone(),
                texter: key,
                keyword: self.keyword,
                conversation_id: next.conversation.clone().filter(|_| joins.is_some()),
                message_id,
                received_at: now,
                opted_out: next.opted_out,
                burst,
                merged_into: None,
                decision: None,
            },
            texter: next,
            joins,
            merges,
        }
    }

    /// The plan when the texter's previous text is already being answered
    /// on its own: this one starts a burst of its own.
    pub fn plan_alone(&self, texter: &TexterState, key: TexterKey) -> InboundPlan {
        self.plan(
            &TexterState {
                burst: None,
                ..texter.clone()
            },
            key,
        )
    }

    fn joins_burst(&self, burst: &Burst) -> bool {
        let window = self.burst_window.as_millis() as i64;
        // Twilio delivering this very text again is not a new text.
        burst.last != self.message_sid
            && window > 0
            && burst.messages.len() < MAX_BURST_TEXTS
            && burst
                .messages
                .last()
                .is_some_and(|last| self.received_at.millis() - last.at.millis() <= window)
    }
}

/// Whether an inbound text is answered, decided once by the worker that
/// first takes it and stored with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyDecision {
    Answer,
    /// A limit was reached: recorded, counted, never shown to the model.
    OverLimit(SmsLimit),
}

/// What deciding on a text came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decided {
    /// A later text of the same burst answers it.
    Merged,
    Decision(ReplyDecision),
}

/// An inbound message as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundRecord {
    pub message_sid: MessageSid,
    pub from: PhoneNumber,
    /// The texter as the table names them (the limits count them so).
    pub texter: TexterKey,
    pub keyword: Option<Keyword>,
    /// The conversation it joined and its message there; keywords join none
    /// (they are never shown to the model, not even as history).
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub received_at: Timestamp,
    /// Whether the texter had opted out once this message was applied.
    pub opted_out: bool,
    /// The messages this text is answered with, oldest first, its own last
    /// (empty for a keyword).
    pub burst: Vec<MessageRef>,
    /// A later text of the same burst, whose job answers this one too.
    pub merged_into: Option<MessageSid>,
    pub decision: Option<ReplyDecision>,
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
    /// The reply this draft becomes when stored first at `at`: its first
    /// part claimed (`Sending`) for the worker that is about to send it.
    pub fn new_reply(&self, at: Timestamp) -> Reply {
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
                        PartState::Sending { since: at }
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

/// Where one SMS body of a reply is. A part is claimed (`Sending`) before
/// Twilio is called, so no two workers send it at once; a claim older than
/// any live worker can hold one is a worker that died mid-send, and the
/// part is looked for on Twilio before it is ever sent again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartState {
    Pending,
    /// Claimed at `since` by the worker sending it.
    Sending {
        since: Timestamp,
    },
    /// Sent at or after `since` with its answer lost, and not found on
    /// Twilio yet (the list could not be read): looked for before any
    /// other send.
    Unknown {
        since: Timestamp,
    },
    Sent {
        sid: String,
        segments: u32,
    },
    Failed {
        code: Option<u32>,
    },
}

impl PartState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending { .. } => "sending",
            Self::Unknown { .. } => "unknown",
            Self::Sent { .. } => "sent",
            Self::Failed { .. } => "failed",
        }
    }

    /// When a claim or a lost send began.
    pub fn since(&self) -> Option<Timestamp> {
        match self {
            Self::Sending { since } | Self::Unknown { since } => Some(*since),
            _ => None,
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
    /// texter's state (opt-out, session, burst, when last seen), its
    /// conversation, and the mark on the earlier text it merges into.
    /// However many deliveries, however concurrent: one record.
    async fn record_inbound(&self, inbound: &InboundSms) -> Result<InboundOutcome, StoreError>;

    /// Counts a text just recorded in the inbound of its day: a plain
    /// addition apart from the text's own write (every texter's texts add
    /// to it, so it must never sit in their transactions). Counting never
    /// fails the text: a counter that could not be written is logged.
    async fn count_received(&self, assistant: &AssistantId, at: Timestamp);

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

    /// Decides once whether the text is answered. A text merged into a
    /// later one is not ([`Decided::Merged`]), and once decided nothing
    /// can merge into it. Else its answer is counted in every `texter`
    /// window (all or none), then in the assistant's window; a full window
    /// makes it [`ReplyDecision::OverLimit`] and counts it in the day's
    /// analytics. A decision already stored is answered as it is, counted
    /// nowhere again.
    async fn decide_reply(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
        texter: &[SmsWindow],
        assistant_window: &SmsWindow,
        at: Timestamp,
    ) -> Result<Decided, StoreError>;

    /// Counts one use in each window, all or none (the over-limit notice's
    /// one a day). Atomic across every caller at once.
    async fn count_sms_use(
        &self,
        assistant: &AssistantId,
        windows: &[SmsWindow],
    ) -> Result<Admission, StoreError>;

    /// Stores the draft and the answer as the conversation's next message
    /// at `at`, its first part already claimed for the caller (`Sending`
    /// since `at`), who sends it next, and the rest `Pending`; answers
    /// `(reply, true)`. If a reply to this inbound message exists already,
    /// answers that one, unchanged, with `false`.
    async fn create_reply(
        &self,
        draft: ReplyDraft,
        at: Timestamp,
    ) -> Result<(Reply, bool), StoreError>;

    async fn reply(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
    ) -> Result<Option<Reply>, StoreError>;

    /// Moves part `index` from exactly `from` (its state and, for a claim
    /// or a lost send, its `since`) to `to`; `false` when it was not in
    /// `from` any more. Moving to `Sent` records the outbound message in
    /// the same write, and counts it and its segments in the day of `at`.
    async fn move_part(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
        index: usize,
        from: &PartState,
        to: &PartState,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Whether `sid` is an outbound message already recorded as sent for
    /// some part: a message found on Twilio that is one cannot be another.
    async fn outbound_recorded(
        &self,
        assistant: &AssistantId,
        sid: &str,
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

    /// Erases one texter: the conversations their texts started (with
    /// every text, reply and outbound record in them), their keywords'
    /// records, their limit windows and their place among the texters
    /// seen. Only an opt-out survives, as the keyed name of a number that
    /// said STOP, so it is still honoured. Idempotent (a texter never seen
    /// erases nothing); returns how many records went.
    async fn erase_texter(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<usize, StoreError>;

    /// Traffic over the `days` days up to `now` (today included): the
    /// days' counters, the texters seen since the first day began, and
    /// those whose last message is within `session_timeout` of `now`.
    async fn traffic(
        &self,
        assistant: &AssistantId,
        days: u32,
        now: Timestamp,
        session_timeout: Duration,
    ) -> Result<SmsTraffic, StoreError>;
}
