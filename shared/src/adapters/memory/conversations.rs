//! Conversations in memory: the same rules as the DynamoDB adapter (a
//! deleted conversation is hidden at once and purged later; one answer
//! lease at a time), each call under the store's one lock.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::conversation::{Conversation, Message, MessageRef, Role};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, UserId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{Feedback, Lead};
use crate::ports::{
    AnswerLease, Conflict, ConversationRef, ConversationStore, NewConversation, StoreError,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug)]
struct Stored {
    conversation: Conversation,
    deleted: bool,
    lease: Option<(String, Timestamp)>,
    /// Still in its listings (a cascade unlists last).
    listed: bool,
}

#[derive(Debug, Default)]
pub(super) struct ConversationTables {
    stored: HashMap<ConversationId, Stored>,
    messages: HashMap<ConversationId, Vec<Message>>,
}

impl ConversationTables {
    pub(super) fn start(&mut self, conversation: Conversation) {
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

    fn open_mut(&mut self, id: &ConversationId) -> Result<&mut Stored, StoreError> {
        self.stored
            .get_mut(id)
            .filter(|s| !s.deleted)
            .ok_or(StoreError::NotFound("conversation"))
    }

    /// The next message of an open conversation, counted.
    pub(super) fn append(&mut self, message: Message) -> Result<(), StoreError> {
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
    fn in_order(&self, id: &ConversationId) -> Vec<Message> {
        let mut messages = self.messages.get(id).cloned().unwrap_or_default();
        messages.sort_by_key(|m| (m.created_at, m.id.clone()));
        messages
    }

    pub(super) fn open(&self, id: &ConversationId) -> Option<&Conversation> {
        self.stored
            .get(id)
            .filter(|s| !s.deleted)
            .map(|s| &s.conversation)
    }

    fn listed_newest_first(&self, keep: impl Fn(&Conversation) -> bool) -> Vec<ConversationRef> {
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
    pub(super) fn purge(&mut self, id: &ConversationId) -> Result<usize, StoreError> {
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
    pub(super) fn forget_assistant(&mut self, assistant: &AssistantId) -> usize {
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
    pub(super) fn set_lead(
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
    pub(super) fn rate(
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
            .filter(|m| m.role == Role::Assistant)
            .ok_or(NOT_FOUND)?;
        rated.feedback = Some(feedback.clone());
        Ok(rated.clone())
    }

    /// Deleted and unlisted, open or not: what erasing a person does to
    /// each of their conversations. Answers how many listing records went,
    /// counted as DynamoDB stores them.
    pub(super) fn mark_erased(&mut self, id: &ConversationId) -> usize {
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
    fn bury(&mut self, id: &ConversationId) -> Result<Conversation, StoreError> {
        let stored = self.open_mut(id)?;
        stored.deleted = true;
        stored.listed = false;
        Ok(stored.conversation.clone())
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> Result<(Conversation, Option<Message>), StoreError> {
        self.run(Call::Transaction, |t| {
            if !t
                .assistants
                .contains_key(&(new.workspace_id.clone(), new.assistant_id.clone()))
            {
                return Err(StoreError::NotFound("assistant"));
            }
            let (conversation, welcome) = new.start();
            let conversation = Conversation {
                message_count: 0,
                ..conversation
            };
            t.conversations.start(conversation.clone());
            if let Some(message) = &welcome {
                t.conversations.append(message.clone())?;
            }
            let stored = t
                .conversations
                .open(&conversation.id)
                .cloned()
                .expect("just stored");
            Ok((stored, welcome))
        })
        .await
    }

    async fn get_conversation(
        &self,
        ws: &WorkspaceId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.conversations
                .open(id)
                .filter(|c| &c.workspace_id == ws)
                .cloned())
        })
        .await
    }

    async fn conversations_of(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<ConversationRef>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.conversations.listed_newest_first(|c| {
                &c.workspace_id == ws && c.created_by.as_ref() == Some(user)
            }))
        })
        .await
    }

    async fn conversations_with(
        &self,
        assistant: &AssistantId,
    ) -> Result<Vec<ConversationRef>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.conversations
                .listed_newest_first(|c| &c.assistant_id == assistant))
        })
        .await
    }

    async fn read_conversations(
        &self,
        ws: &WorkspaceId,
        ids: &[ConversationId],
    ) -> Result<Vec<Conversation>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(ids
                .iter()
                .filter_map(|id| t.conversations.open(id))
                .filter(|c| &c.workspace_id == ws)
                .cloned()
                .collect())
        })
        .await
    }

    async fn messages(
        &self,
        conversation: &ConversationId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.conversations
                .in_order(conversation)
                .into_iter()
                .skip(offset)
                .take(limit)
                .collect())
        })
        .await
    }

    async fn recent_messages(
        &self,
        conversation: &ConversationId,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.conversations
                .in_order(conversation)
                .into_iter()
                .rev()
                .take(limit)
                .collect())
        })
        .await
    }

    async fn find_messages(
        &self,
        conversation: &ConversationId,
        refs: &[MessageRef],
    ) -> Result<Vec<Message>, StoreError> {
        self.run(Call::Read, |t| {
            let stored = t.conversations.messages.get(conversation);
            Ok(refs
                .iter()
                .filter_map(|r| {
                    stored?
                        .iter()
                        .find(|m| m.id == r.id && m.created_at == r.at)
                        .cloned()
                })
                .collect())
        })
        .await
    }

    async fn messages_before(
        &self,
        conversation: &ConversationId,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.conversations
                .in_order(conversation)
                .into_iter()
                .rev()
                .filter(|m| m.created_at < before)
                .take(limit)
                .collect())
        })
        .await
    }

    async fn begin_answer(
        &self,
        conversation: &Conversation,
        now: Timestamp,
        lease: Duration,
    ) -> Result<AnswerLease, StoreError> {
        self.run(Call::Write, |t| {
            let stored = t.conversations.open_mut(&conversation.id)?;
            if stored
                .lease
                .as_ref()
                .is_some_and(|(_, until)| *until >= now)
            {
                return Err(Conflict::AnswerInProgress.into());
            }
            let granted = AnswerLease {
                conversation_id: conversation.id.clone(),
                token: MessageId::generate().to_string(),
                until: Timestamp::from_millis(now.millis() + lease.as_millis() as i64),
            };
            stored.lease = Some((granted.token.clone(), granted.until));
            Ok(granted)
        })
        .await
    }

    async fn abandon_answer(&self, lease: &AnswerLease) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            if let Some(stored) = t.conversations.stored.get_mut(&lease.conversation_id)
                && stored
                    .lease
                    .as_ref()
                    .is_some_and(|(token, _)| token == &lease.token)
            {
                stored.lease = None;
            }
            Ok(())
        })
        .await
    }

    async fn add_question(
        &self,
        lease: &AnswerLease,
        question: &Message,
        title: &str,
    ) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let stored = t.conversations.open_mut(&lease.conversation_id)?;
            if stored.lease.as_ref().map(|(token, _)| token) != Some(&lease.token) {
                return Err(Conflict::LeaseLost.into());
            }
            if stored.conversation.title.is_none() {
                stored.conversation.title = Some(title.to_owned());
            }
            t.conversations.append(question.clone())
        })
        .await
    }

    async fn finish_answer(&self, lease: &AnswerLease, answer: &Message) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let stored = t.conversations.open_mut(&lease.conversation_id)?;
            if stored.lease.as_ref().map(|(token, _)| token) == Some(&lease.token) {
                stored.lease = None;
            }
            t.conversations.append(answer.clone())
        })
        .await
    }

    async fn delete_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let buried = t.conversations.bury(&conversation.id)?;
            if let Some(phone) = &buried.contact {
                t.sms.close_session(&buried.assistant_id, phone, &buried.id);
            }
            Ok(())
        })
        .await
    }
}
