//! Conversations' tables in memory: each conversation with its deletion,
//! lease and listing state, and its messages.

use crate::domain::conversation::{Author, Conversation, Message};
use crate::domain::ids::{AssistantId, ConversationId, MessageId};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{Feedback, Lead};
use crate::ports::{Conflict, ConversationRef, StoreError};
use std::collections::HashMap;

#[derive(Debug)]
pub(in crate::adapters::memory) struct Stored {
    pub(in crate::adapters::memory) conversation: Conversation,
    pub(in crate::adapters::memory) deleted: bool,
    pub(in crate::adapters::memory) lease: Option<(String, Timestamp)>,
    /// Still in its listings (a cascade unlists last).
    pub(in crate::adapters::memory) listed: bool,
}

#[derive(Debug, Default)]
pub(in crate::adapters::memory) struct ConversationTables {
    pub(in crate::adapters::memory) stored: HashMap<ConversationId, Stored>,
    pub(in crate::adapters::memory) messages: HashMap<ConversationId, Vec<Message>>,
}

impl ConversationTables {
    pub(in crate::adapters::memory) fn start(&mut self, conversation: Conversation) {
        self.stored.insert(
            conversation.id.clone(),
            Stored {
                conversation,
                deleted: false,
                lease: None,
                listed: true,
            },
        );
    }

    pub(in crate::adapters::memory) fn open_mut(
        &mut self,
        id: &ConversationId,
    ) -> Result<&mut Stored, StoreError> {
        self.stored
            .get_mut(id)
            .filter(|s| !s.deleted)
            .ok_or(StoreError::NotFound("conversation"))
    }

    /// The next message of an open conversation, counted.
    pub(in crate::adapters::memory) fn append(
        &mut self,
        message: Message,
    ) -> Result<(), StoreError> {
        let stored = self.open_mut(&message.conversation_id)?;
        stored.conversation.message_count += 1;
        stored.conversation.updated_at = message.created_at;
        self.messages
            .entry(message.conversation_id.clone())
            .or_default()
            .push(message);
        Ok(())
    }

    /// Its messages as DynamoDB sorts them: by time, then id.
    pub(in crate::adapters::memory) fn in_order(&self, id: &ConversationId) -> Vec<Message> {
        let mut messages = self.messages.get(id).cloned().unwrap_or_default();
        messages.sort_by_key(|m| (m.created_at, m.id.clone()));
        messages
    }

    pub(in crate::adapters::memory) fn open(&self, id: &ConversationId) -> Option<&Conversation> {
        self.stored
            .get(id)
            .filter(|s| !s.deleted)
            .map(|s| &s.conversation)
    }

    pub(in crate::adapters::memory) fn listed_newest_first(
        &self,
        keep: impl Fn(&Conversation) -> bool,
    ) -> Vec<ConversationRef> {
        let mut found: Vec<&Conversation> = self
            .stored
            .values()
            .filter(|s| s.listed && keep(&s.conversation))
            .map(|s| &s.conversation)
            .collect();
        found.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id.clone())));
        found
            .into_iter()
            .map(|c| ConversationRef {
                id: c.id.clone(),
                assistant_id: c.assistant_id.clone(),
            })
            .collect()
    }

    /// Removes a deleted conversation and its messages; how many records
    /// that was, counted as DynamoDB stores them.
    pub(in crate::adapters::memory) fn purge(
        &mut self,
        id: &ConversationId,
    ) -> Result<usize, StoreError> {
        match self.stored.get(id) {
            Some(stored) if !stored.deleted => {
                return Err(Conflict::NotDeleted.into());
            }
            Some(_) => {}
            None => return Ok(0),
        }
        self.stored.remove(id);
        Ok(1 + self.messages.remove(id).map_or(0, |m| m.len()))
    }

    /// Every conversation of a deleted assistant, gone.
    pub(in crate::adapters::memory) fn forget_assistant(
        &mut self,
        assistant: &AssistantId,
    ) -> usize {
        let ids: Vec<ConversationId> = self
            .stored
            .values()
            .filter(|s| &s.conversation.assistant_id == assistant)
            .map(|s| s.conversation.id.clone())
            .collect();
        let mut removed = 0;
        for id in ids {
            if let Some(stored) = self.stored.get_mut(&id) {
                stored.deleted = true;
                removed += if stored.listed {
                    1 + usize::from(stored.conversation.created_by.is_some())
                } else {
                    0
                };
            }
            removed += self.purge(&id).unwrap_or(0);
        }
        removed
    }

    /// The visitor's lead on an open conversation.
    pub(in crate::adapters::memory) fn set_lead(
        &mut self,
        id: &ConversationId,
        lead: &Lead,
    ) -> Result<Conversation, StoreError> {
        let stored = self.open_mut(id)?;
        stored.conversation.lead = Some(lead.clone());
        stored.conversation.updated_at = lead.at;
        Ok(stored.conversation.clone())
    }

    /// A reader's rating of one answer of the conversation.
    pub(in crate::adapters::memory) fn find_message(
        &self,
        id: &ConversationId,
        message: &MessageId,
    ) -> Option<Message> {
        self.messages
            .get(id)
            .and_then(|all| all.iter().find(|m| &m.id == message))
            .cloned()
    }

    pub(in crate::adapters::memory) fn rate(
        &mut self,
        id: &ConversationId,
        message: &MessageId,
        feedback: &Feedback,
    ) -> Result<Message, StoreError> {
        const NOT_FOUND: StoreError = StoreError::NotFound("message");
        self.stored.get(id).ok_or(NOT_FOUND)?;
        let rated = self
            .messages
            .get_mut(id)
            .and_then(|all| all.iter_mut().find(|m| &m.id == message))
            .filter(|m| m.role == Author::Assistant)
            .ok_or(NOT_FOUND)?;
        rated.feedback = Some(feedback.clone());
        Ok(rated.clone())
    }

    /// Deleted and unlisted, open or not: what erasing a person does to
    /// each of their conversations. Answers how many listing records went,
    /// counted as DynamoDB stores them.
    pub(in crate::adapters::memory) fn mark_erased(&mut self, id: &ConversationId) -> usize {
        let Some(stored) = self.stored.get_mut(id) else {
            return 0;
        };
        stored.deleted = true;
        let unlisted = if stored.listed {
            1 + usize::from(stored.conversation.created_by.is_some())
        } else {
            0
        };
        stored.listed = false;
        unlisted
    }

    /// Closes the session of the texter whose conversation this was.
    pub(in crate::adapters::memory) fn bury(
        &mut self,
        id: &ConversationId,
    ) -> Result<Conversation, StoreError> {
        let stored = self.open_mut(id)?;
        stored.deleted = true;
        stored.listed = false;
        Ok(stored.conversation.clone())
    }
}
