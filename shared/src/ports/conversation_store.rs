//! Conversations on every channel and their messages. An API conversation
//! answers one question at a time: a lease on the conversation, taken
//! before the answer starts and released when it is stored, makes a second
//! question meanwhile a conflict (and a crashed answer frees it on expiry).

use super::store::StoreError;
use crate::domain::conversation::{Author, Channel, Conversation, Message, MessageRef};
use crate::domain::ids::{AssistantId, ConversationId, UserId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::usage::Charge;
use async_trait::async_trait;
use std::time::Duration;

/// A conversation a member starts on the API channel.
#[derive(Clone, Debug)]
pub struct NewConversation {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub created_by: UserId,
    pub title: Option<String>,
    /// The assistant's welcome message, stored as the first message.
    pub welcome: Option<String>,
    pub at: Timestamp,
}

impl NewConversation {
    /// The conversation as first stored, and its welcome message: decided
    /// here once for every store.
    pub fn start(self) -> (Conversation, Option<Message>) {
        let id = ConversationId::generate();
        let welcome = self
            .welcome
            .map(|text| Message::new(&id, Author::Assistant, text, self.at));
        let conversation = Conversation {
            id,
            workspace_id: self.workspace_id,
            assistant_id: self.assistant_id,
            channel: Channel::Api,
            contact: None,
            created_by: Some(self.created_by),
            title: self.title,
            lead: None,
            message_count: u32::from(welcome.is_some()),
            created_at: self.at,
            updated_at: self.at,
        };
        (conversation, welcome)
    }
}

/// Which conversation a listing names, newest first: enough to filter
/// before the page is read whole.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationRef {
    pub id: ConversationId,
    pub assistant_id: AssistantId,
}

/// The right to answer in a conversation until `until`.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerLease {
    pub conversation_id: ConversationId,
    pub token: String,
    pub until: Timestamp,
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Stores the conversation, a listing entry for its creator and one for
    /// its assistant, and the welcome message, at once; the assistant must
    /// still exist (else not found).
    async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> Result<(Conversation, Option<Message>), StoreError>;

    /// A conversation of this workspace; `None` once it is deleted.
    async fn get_conversation(
        &self,
        ws: &WorkspaceId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError>;

    /// The conversations `user` started in the workspace, newest first.
    async fn conversations_of(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<ConversationRef>, StoreError>;

    /// Every conversation of the assistant, every channel, newest first.
    async fn conversations_with(
        &self,
        assistant: &AssistantId,
    ) -> Result<Vec<ConversationRef>, StoreError>;

    /// These conversations read whole, in the order given; deleted ones
    /// are left out.
    async fn read_conversations(
        &self,
        ws: &WorkspaceId,
        ids: &[ConversationId],
    ) -> Result<Vec<Conversation>, StoreError>;

    /// Messages oldest first, from `offset`, at most `limit`.
    async fn messages(
        &self,
        conversation: &ConversationId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// The newest `limit` messages, newest first.
    async fn recent_messages(
        &self,
        conversation: &ConversationId,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// These messages, read where they are (no query, however many others
    /// came since), in the order given; any not there is left out.
    async fn find_messages(
        &self,
        conversation: &ConversationId,
        refs: &[MessageRef],
    ) -> Result<Vec<Message>, StoreError>;

    /// The newest `limit` messages created before `before`, newest first:
    /// the history of a question, whatever came after it.
    async fn messages_before(
        &self,
        conversation: &ConversationId,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// Takes the conversation's answer lease for `lease`; a conflict while
    /// another answer holds an unexpired one, not found once deleted.
    async fn begin_answer(
        &self,
        conversation: &Conversation,
        now: Timestamp,
        lease: Duration,
    ) -> Result<AnswerLease, StoreError>;

    /// Gives the lease back with nothing stored (the answer never started).
    async fn abandon_answer(&self, lease: &AnswerLease) -> Result<(), StoreError>;

    /// Stores the question as the conversation's next message, and `title`
    /// if it has none yet, while the lease is held (else a conflict).
    async fn add_question(
        &self,
        lease: &AnswerLease,
        question: &Message,
        title: &str,
    ) -> Result<(), StoreError>;

    /// Stores the answer (completed or failed) and releases the lease,
    /// counting `charge` (what the answer cost) in the same write, so an
    /// answer is counted once and only if stored. Stored even if the lease
    /// expired meanwhile; not found once the conversation is deleted. An
    /// answer whose counters could not be written (they stayed contended)
    /// is stored without them, and the amounts are logged.
    async fn finish_answer(
        &self,
        lease: &AnswerLease,
        answer: &Message,
        charge: Option<&Charge>,
    ) -> Result<(), StoreError>;

    /// The conversation is gone for everyone at once (and from both
    /// listings); its messages are left for
    /// [`CascadeStore::purge_conversation`](super::CascadeStore::purge_conversation).
    async fn delete_conversation(&self, conversation: &Conversation) -> Result<(), StoreError>;
}
