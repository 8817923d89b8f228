//! The widget's storage in memory: the same rules as the DynamoDB adapter
//! (settings created with the assistant, a session stored with its
//! conversation, counts all or none), each call under the store's one lock.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::conversation::{Conversation, Message};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WidgetSessionId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{Feedback, Lead};
use crate::domain::webhook::change::Entity;
use crate::domain::widget::{UseWindow, WidgetSettings};
use crate::ports::{
    Admission, NewWidgetSession, StoreError, WidgetSession, WidgetSite, WidgetStore,
};
use async_trait::async_trait;

#[async_trait]
impl WidgetStore for MemoryStore {
    async fn widget_site(&self, assistant: &AssistantId) -> Result<Option<WidgetSite>, StoreError> {
        self.run(Call::Read, |t| Ok(t.widgets.sites.get(assistant).cloned()))
            .await
    }

    async fn save_widget_settings(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        settings: WidgetSettings,
        at: Timestamp,
    ) -> Result<WidgetSite, StoreError> {
        self.run(Call::Transaction, |t| {
            if !t.assistants.contains_key(&(ws.clone(), assistant.clone())) {
                return Err(StoreError::NotFound("assistant"));
            }
            let site = WidgetSite {
                workspace_id: ws.clone(),
                assistant_id: assistant.clone(),
                settings,
                updated_at: Some(at),
            };
            t.widgets.sites.insert(assistant.clone(), site.clone());
            Ok(site)
        })
        .await
    }

    async fn start_widget_session(
        &self,
        new: NewWidgetSession,
    ) -> Result<(WidgetSession, Conversation, Option<Message>), StoreError> {
        self.run(Call::Transaction, |t| {
            if !t
                .assistants
                .contains_key(&(new.workspace_id.clone(), new.assistant_id.clone()))
            {
                return Err(StoreError::NotFound("assistant"));
            }
            let (session, conversation, welcome) = new.start();
            t.start_conversation(Conversation {
                message_count: 0,
                ..conversation.clone()
            });
            if let Some(message) = &welcome {
                t.append_message(message.clone())?;
            }
            t.widgets.sessions.insert(
                (session.assistant_id.clone(), session.id.clone()),
                session.clone(),
            );
            Ok((session, conversation, welcome))
        })
        .await
    }

    async fn widget_session(
        &self,
        assistant: &AssistantId,
        id: &WidgetSessionId,
    ) -> Result<Option<WidgetSession>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.widgets
                .sessions
                .get(&(assistant.clone(), id.clone()))
                .cloned())
        })
        .await
    }

    async fn count_use(
        &self,
        assistant: &AssistantId,
        windows: &[UseWindow],
    ) -> Result<Admission, StoreError> {
        self.run(Call::Transaction, |t| {
            let count = |w: &UseWindow| {
                t.widgets
                    .uses
                    .get(&(assistant.clone(), w.key.clone()))
                    .copied()
                    .unwrap_or(0)
            };
            if let Some(full) = windows.iter().position(|w| count(w) >= w.allowed) {
                return Ok(Admission::Refused(full));
            }
            for window in windows {
                *t.widgets
                    .uses
                    .entry((assistant.clone(), window.key.clone()))
                    .or_default() += 1;
            }
            Ok(Admission::Admitted)
        })
        .await
    }

    async fn save_lead(
        &self,
        conversation: &ConversationId,
        lead: &Lead,
    ) -> Result<Conversation, StoreError> {
        self.run(Call::Transaction, |t| {
            let before = t.conversations.open(conversation).cloned();
            let after = t.conversations.set_lead(conversation, lead)?;
            t.changed(
                before.map(Entity::Conversation),
                Some(Entity::Conversation(after.clone())),
            );
            Ok(after)
        })
        .await
    }

    async fn rate_answer(
        &self,
        conversation: &ConversationId,
        message: &MessageId,
        feedback: &Feedback,
    ) -> Result<Message, StoreError> {
        self.run(Call::Write, |t| {
            let before = t.conversations.find_message(conversation, message);
            let rated = t.conversations.rate(conversation, message, feedback)?;
            if let (Some(before), Some(open)) =
                (before, t.conversations.open(conversation).cloned())
            {
                let open = Box::new(open);
                t.changed(
                    Some(Entity::Message(open.clone(), before)),
                    Some(Entity::Message(open, rated.clone())),
                );
            }
            Ok(rated)
        })
        .await
    }
}
