//! The widget's tables in memory: each assistant's settings, its sessions
//! and its limit windows.

use crate::domain::ids::{AssistantId, ConversationId, WidgetSessionId, WorkspaceId};
use crate::domain::widget::WidgetSettings;
use crate::ports::{WidgetSession, WidgetSite};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(in crate::adapters::memory) struct WidgetTables {
    pub(in crate::adapters::memory) sites: HashMap<AssistantId, WidgetSite>,
    pub(in crate::adapters::memory) sessions:
        HashMap<(AssistantId, WidgetSessionId), WidgetSession>,
    pub(in crate::adapters::memory) uses: HashMap<(AssistantId, String), u32>,
}

impl WidgetTables {
    /// A new assistant's widget, with the defaults.
    pub(in crate::adapters::memory) fn open_site(
        &mut self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) {
        self.sites.insert(
            assistant.clone(),
            WidgetSite {
                workspace_id: ws.clone(),
                assistant_id: assistant.clone(),
                settings: WidgetSettings::default(),
                updated_at: None,
            },
        );
    }

    /// A deleted conversation's session (the page it came from, what it
    /// said of itself): the cascade's share of the widget.
    pub(in crate::adapters::memory) fn forget_conversation(
        &mut self,
        conversation: &ConversationId,
    ) -> usize {
        let before = self.sessions.len();
        self.sessions
            .retain(|_, session| &session.conversation_id != conversation);
        before - self.sessions.len()
    }

    /// Everything of a deleted assistant's widget; how many records, as
    /// DynamoDB stores them.
    pub(in crate::adapters::memory) fn forget(&mut self, assistant: &AssistantId) -> usize {
        let before = self.sites.len() + self.sessions.len() + self.uses.len();
        self.sites.remove(assistant);
        self.sessions.retain(|(a, _), _| a != assistant);
        self.uses.retain(|(a, _), _| a != assistant);
        before - (self.sites.len() + self.sessions.len() + self.uses.len())
    }
}
