//! The embeddable widget's storage: an assistant's widget settings (found
//! by assistant alone, since the public routes name no workspace), the
//! visitors' sessions, the use counters that enforce its limits across
//! every container at once, and what visitors leave (a lead, feedback).

use super::store::StoreError;
use crate::domain::conversation::{Author, Channel, Conversation, Message};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WidgetSessionId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{Feedback, Lead};
use crate::domain::widget::{AllowedOrigin, UseWindow, WidgetSettings};
use async_trait::async_trait;

/// An assistant's widget: where the assistant lives and how its widget is
/// set. Every assistant has one from its creation, with the defaults (no
/// origin allowed) until its settings are first saved.
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetSite {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub settings: WidgetSettings,
    /// When the settings were last saved; `None` while they are defaults.
    pub updated_at: Option<Timestamp>,
}

/// One browser's conversation with one assistant, from one origin.
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetSession {
    pub id: WidgetSessionId,
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub conversation_id: ConversationId,
    pub origin: AllowedOrigin,
    /// What the page said about itself at `init`, as compact JSON.
    pub metadata: Option<String>,
    pub created_at: Timestamp,
}

/// A session a visitor's first `init` opens.
#[derive(Clone, Debug)]
pub struct NewWidgetSession {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub origin: AllowedOrigin,
    pub metadata: Option<String>,
    /// The assistant's welcome message, stored as the first message.
    pub welcome: Option<String>,
    pub at: Timestamp,
}

impl NewWidgetSession {
    /// The session, its conversation and welcome message as first stored:
    /// decided here once for every store.
    pub fn start(self) -> (WidgetSession, Conversation, Option<Message>) {
        let conversation_id = ConversationId::generate();
        let welcome = self
            .welcome
            .map(|text| Message::new(&conversation_id, Author::Assistant, text, self.at));
        let conversation = Conversation {
            id: conversation_id.clone(),
            workspace_id: self.workspace_id.clone(),
            assistant_id: self.assistant_id.clone(),
            channel: Channel::Widget,
            contact: None,
            created_by: None,
            title: None,
            lead: None,
            message_count: u32::from(welcome.is_some()),
            created_at: self.at,
            updated_at: self.at,
        };
        let session = WidgetSession {
            id: WidgetSessionId::generate(),
            workspace_id: self.workspace_id,
            assistant_id: self.assistant_id,
            conversation_id,
            origin: self.origin,
            metadata: self.metadata,
            created_at: self.at,
        };
        (session, conversation, welcome)
    }
}

/// Whether a use fitted every window it counts toward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Counted in every window.
    Admitted,
    /// Counted in none: the window at this index is full.
    Refused(usize),
}

#[async_trait]
pub trait WidgetStore: Send + Sync {
    /// The assistant's widget; `None` for no such assistant.
    async fn widget_site(&self, assistant: &AssistantId) -> Result<Option<WidgetSite>, StoreError>;

    /// Replaces the settings whole; the assistant must exist in `ws` (else
    /// not found).
    async fn save_widget_settings(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        settings: WidgetSettings,
        at: Timestamp,
    ) -> Result<WidgetSite, StoreError>;

    /// Stores the session, its conversation (listed under the assistant)
    /// and the welcome message at once; the assistant must still exist.
    async fn start_widget_session(
        &self,
        new: NewWidgetSession,
    ) -> Result<(WidgetSession, Conversation, Option<Message>), StoreError>;

    async fn widget_session(
        &self,
        assistant: &AssistantId,
        id: &WidgetSessionId,
    ) -> Result<Option<WidgetSession>, StoreError>;

    /// Counts one use in each window, all or none, refusing it if any
    /// window is full. Atomic across every caller at once.
    async fn count_use(
        &self,
        assistant: &AssistantId,
        windows: &[UseWindow],
    ) -> Result<Admission, StoreError>;

    /// Links the conversation to the visitor's contact details (a second
    /// lead replaces the first); not found once the conversation is
    /// deleted.
    async fn save_lead(
        &self,
        conversation: &ConversationId,
        lead: &Lead,
    ) -> Result<Conversation, StoreError>;

    /// Records the reader's rating of one answer of the conversation (a
    /// second replaces the first); not found unless `message` is an answer
    /// in that conversation.
    async fn rate_answer(
        &self,
        conversation: &ConversationId,
        message: &MessageId,
        feedback: &Feedback,
    ) -> Result<Message, StoreError>;
}
