//! Conversations in memory: the same rules as the DynamoDB adapter (a
//! deleted conversation is hidden at once and purged later; one answer
//! lease at a time), each call under the store's one lock.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::conversation::{Conversation, Message, MessageRef};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, UserId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::usage::Charge;
use crate::ports::{
    AnswerLease, Conflict, ConversationRef, ConversationStore, NewConversation, StoreError,
};
use async_trait::async_trait;
use std::time::Duration;

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
            t.start_conversation(conversation.clone());
            if let Some(message) = &welcome {
                t.append_message(message.clone())?;
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
            t.append_message(question.clone())
        })
        .await
    }

    async fn finish_answer(
        &self,
        lease: &AnswerLease,
        answer: &Message,
        charge: Option<&Charge>,
    ) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            // Stored already: a resend, as DynamoDB tells one, changes and
            // counts nothing.
            let resent = t
                .conversations
                .messages
                .get(&lease.conversation_id)
                .is_some_and(|messages| messages.contains(answer));
            if resent {
                return Ok(());
            }
            let stored = t.conversations.open_mut(&lease.conversation_id)?;
            if stored.lease.as_ref().map(|(token, _)| token) == Some(&lease.token) {
                stored.lease = None;
            }
            t.append_message(answer.clone())?;
            if let Some(charge) = charge {
                t.usage.count(charge);
            }
            Ok(())
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
