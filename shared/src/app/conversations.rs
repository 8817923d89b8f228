//! Who may do what with a conversation, and the reads every route needs:
//!
//! - a conversation is seen by the member who started it and by the
//!   workspace's owners and admins, and only while its assistant exists and
//!   the caller may see it; to anyone else it does not exist (404);
//! - only its creator may post in it (403 to the others who can see it),
//!   and guests may not chat at all.

use super::error::AppError;
use super::guard;
use crate::domain::access::WithGrant;
use crate::domain::assistant::Assistant;
use crate::domain::conversation::Conversation;
use crate::domain::ids::{ConversationId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::role::Role;
use crate::domain::usage::{Allowance, Month};
use crate::ports::{AssistantStore, ConversationRef, ConversationStore, UsageStore};
use std::collections::HashSet;

pub const GUESTS_CANNOT_CHAT: &str = "guests cannot chat with assistants";
pub const ONLY_THE_CREATOR_POSTS: &str =
    "only the member who started this conversation may post in it";
pub const MANAGERS_ONLY: &str = "only owners and admins may read an assistant's conversations";

pub fn may_chat(actor: &Actor) -> Result<(), AppError> {
    guard::allowed(actor.role != Role::Guest, GUESTS_CANNOT_CHAT)
}

fn may_read(actor: &Actor, conversation: &Conversation) -> bool {
    actor.can_manage_workspace() || conversation.created_by.as_ref() == Some(&actor.user_id)
}

/// The conversation, if the actor may read it (its assistant unchecked).
async fn readable_conversation(
    conversations: &dyn ConversationStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
) -> Result<Conversation, AppError> {
    const NOT_FOUND: AppError = AppError::NotFound("conversation");
    let id = ConversationId::parse(raw_id).ok_or(NOT_FOUND)?;
    conversations
        .get_conversation(ws, &id)
        .await?
        .filter(|c| may_read(actor, c))
        .ok_or(NOT_FOUND)
}

/// The assistant found, if the actor may see it.
fn seen_by(actor: &Actor, found: Option<WithGrant<Assistant>>) -> Option<Assistant> {
    found
        .filter(|seen| actor.can_view_assistant(&seen.item, seen.granted))
        .map(|seen| seen.item)
}

/// The conversation and its assistant, if the actor may read it.
pub async fn readable(
    conversations: &dyn ConversationStore,
    assistants: &dyn AssistantStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
) -> Result<(Conversation, Assistant), AppError> {
    const NOT_FOUND: AppError = AppError::NotFound("conversation");
    let conversation = readable_conversation(conversations, ws, raw_id, actor).await?;
    let found = assistants
        .get_assistant_for(ws, &conversation.assistant_id, &actor.user_id)
        .await?;
    match seen_by(actor, found) {
        Some(assistant) => Ok((conversation, assistant)),
        None => Err(NOT_FOUND),
    }
}

/// A conversation its caller may post in, with its assistant. Only `app`
/// makes one: [`postable`] for a member (their own conversation, and not a
/// guest), `Visitor::postable` for a widget visitor (the conversation of
/// the session their token names). The chat engine answers in nothing
/// else, so no route can post where it did not check.
#[derive(Clone, Debug)]
pub struct Postable {
    pub(super) conversation: Conversation,
    pub(super) assistant: Assistant,
    /// The assistant's and its workspace's budgets, read with it.
    pub(super) allowance: Allowance,
}

impl Postable {
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    pub fn assistant(&self) -> &Assistant {
        &self.assistant
    }
}

/// The conversation, if the actor may read it (404 otherwise) and post in
/// it: they started it (403 to the others who may read it) and are not a
/// guest (403). Its assistant is read with its allowance for `month`.
pub async fn postable(
    conversations: &dyn ConversationStore,
    usage: &dyn UsageStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
    month: Month,
) -> Result<Postable, AppError> {
    const NOT_FOUND: AppError = AppError::NotFound("conversation");
    let conversation = readable_conversation(conversations, ws, raw_id, actor).await?;
    let (found, allowance) = usage
        .assistant_with_allowance(ws, &conversation.assistant_id, Some(&actor.user_id), month)
        .await?;
    let assistant = seen_by(actor, found).ok_or(NOT_FOUND)?;
    may_chat(actor)?;
    guard::allowed(
        conversation.created_by.as_ref() == Some(&actor.user_id),
        ONLY_THE_CREATOR_POSTS,
    )?;
    Ok(Postable {
        conversation,
        assistant,
        allowance,
    })
}

/// The actor's own conversations, newest first, on assistants that still
/// exist and that they may still see (optionally one of them).
pub async fn own(
    conversations: &dyn ConversationStore,
    assistants: &dyn AssistantStore,
    ws: &WorkspaceId,
    actor: &Actor,
    only: Option<&str>,
) -> Result<Vec<ConversationRef>, AppError> {
    let (listed, assistants) = tokio::try_join!(
        conversations.conversations_of(ws, &actor.user_id),
        assistants.list_assistants_for(ws, &actor.user_id),
    )?;
    let visible: HashSet<_> = assistants
        .into_iter()
        .filter(|a| actor.can_view_assistant(&a.item, a.granted))
        .map(|a| a.item.id)
        .filter(|id| only.is_none_or(|wanted| id.as_str() == wanted))
        .collect();
    Ok(listed
        .into_iter()
        .filter(|c| visible.contains(&c.assistant_id))
        .collect())
}
