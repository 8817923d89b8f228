//! The memory store's tables: what each port keeps, behind the store's one
//! lock (`store`). Data only, and the rules several ports share; each
//! port's calls are in a file of its own beside this one, as in the
//! DynamoDB adapter.

pub(super) mod conversations;
pub(super) mod sms;
pub(super) mod usage;
pub(super) mod widget;

use crate::domain::access::{AccessTarget, WithGrant};
use crate::domain::api_key::{ApiKey, ApiKeyHash};
use crate::domain::assistant::Assistant;
use crate::domain::conversation::{Conversation, Message};
use crate::domain::document::Document;
use crate::domain::ids::{
    AssistantId, DeliveryId, DocumentId, ProjectId, UserId, WebhookId, WorkspaceId,
};
use crate::domain::member::{Email, Membership, User, WorkspaceContext};
use crate::domain::project::Project;
use crate::domain::time::Timestamp;
use crate::domain::webhook::change::{Change, Entity};
use crate::domain::webhook::delivery::Delivery;
use crate::domain::workspace::Workspace;
use crate::ports::{StoreError, StoredWebhook, TexterState};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Default)]
pub(in crate::adapters::memory) struct Tables {
    pub(in crate::adapters::memory) users: HashMap<UserId, User>,
    pub(in crate::adapters::memory) emails: HashMap<Email, UserId>,
    pub(in crate::adapters::memory) keys: HashMap<ApiKeyHash, ApiKey>,
    /// Each workspace with its count of active owners.
    pub(in crate::adapters::memory) workspaces: HashMap<WorkspaceId, (Workspace, u32)>,
    pub(in crate::adapters::memory) slugs: HashMap<String, WorkspaceId>,
    pub(in crate::adapters::memory) members: BTreeMap<(WorkspaceId, UserId), Membership>,
    pub(in crate::adapters::memory) assistants: HashMap<(WorkspaceId, AssistantId), Assistant>,
    pub(in crate::adapters::memory) grants: HashMap<(WorkspaceId, AccessTarget, UserId), Timestamp>,
    pub(in crate::adapters::memory) projects: HashMap<(WorkspaceId, ProjectId), Project>,
    /// Deleted projects' tombstones (the memory store never expires them).
    pub(in crate::adapters::memory) deleted_projects: HashSet<(WorkspaceId, ProjectId)>,
    pub(in crate::adapters::memory) connections:
        BTreeMap<(WorkspaceId, AssistantId, ProjectId), Timestamp>,
    pub(in crate::adapters::memory) documents:
        HashMap<(WorkspaceId, ProjectId, DocumentId), Document>,
    pub(in crate::adapters::memory) sms: sms::SmsTables,
    pub(in crate::adapters::memory) conversations: conversations::ConversationTables,
    pub(in crate::adapters::memory) widgets: widget::WidgetTables,
    pub(in crate::adapters::memory) webhooks: BTreeMap<(WorkspaceId, WebhookId), StoredWebhook>,
    pub(in crate::adapters::memory) deliveries: BTreeMap<(WebhookId, DeliveryId), Delivery>,
    pub(in crate::adapters::memory) usage: usage::UsageTables,
    /// Every committed change events are made from, in order, as
    /// DynamoDB's stream reports them: logged in the write that makes it.
    pub(in crate::adapters::memory) changes: ChangeLog,
}

/// The changes not yet read. Like DynamoDB's stream it is not the table:
/// a scan of the table (`audit_dump`) does not see it.
#[derive(Default)]
pub(in crate::adapters::memory) struct ChangeLog {
    pub(in crate::adapters::memory) unread: Vec<Change>,
    pub(in crate::adapters::memory) logged: u64,
}

impl std::fmt::Debug for ChangeLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChangeLog({} logged)", self.logged)
    }
}

impl Tables {
    /// Logs a change the write under way makes.
    pub(in crate::adapters::memory) fn changed(
        &mut self,
        before: Option<Entity>,
        after: Option<Entity>,
    ) {
        self.changes.logged += 1;
        self.changes.unread.push(Change {
            id: format!("memory-{}", self.changes.logged),
            at: Timestamp::now(),
            before,
            after,
        });
    }

    pub(in crate::adapters::memory) fn start_conversation(&mut self, conversation: Conversation) {
        self.conversations.start(conversation.clone());
        self.changed(None, Some(Entity::Conversation(conversation)));
    }

    /// The next message of an open conversation, counted and logged.
    pub(in crate::adapters::memory) fn append_message(
        &mut self,
        message: Message,
    ) -> Result<(), StoreError> {
        self.conversations.append(message.clone())?;
        let conversation = self
            .conversations
            .open(&message.conversation_id)
            .cloned()
            .expect("just appended to");
        self.changed(None, Some(Entity::Message(Box::new(conversation), message)));
        Ok(())
    }

    /// A texter stored (new or changed), logged as the conversation they
    /// text in names them; one with no conversation yet names no one.
    pub(in crate::adapters::memory) fn texter_changed(
        &mut self,
        before: Option<&TexterState>,
        after: &TexterState,
    ) {
        let Some(conversation) = after
            .conversation
            .as_ref()
            .and_then(|id| self.conversations.stored.get(id))
            .map(|stored| Box::new(stored.conversation.clone()))
        else {
            return;
        };
        let entity = |opted_out| Entity::Texter {
            conversation: conversation.clone(),
            opted_out,
        };
        self.changed(
            before.map(|b| entity(b.opted_out)),
            Some(entity(after.opted_out)),
        );
    }

    /// A membership stored (new or changed), logged.
    pub(in crate::adapters::memory) fn put_member(&mut self, membership: Membership) {
        let key = (membership.workspace_id.clone(), membership.user_id.clone());
        let before = self.members.insert(key, membership.clone());
        self.changed(before.map(Entity::Member), Some(Entity::Member(membership)));
    }

    pub(in crate::adapters::memory) fn workspace_mut(
        &mut self,
        ws: &WorkspaceId,
    ) -> Result<&mut (Workspace, u32), StoreError> {
        self.workspaces
            .get_mut(ws)
            .ok_or(StoreError::NotFound("workspace"))
    }

    pub(in crate::adapters::memory) fn target_exists(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
    ) -> bool {
        match target {
            AccessTarget::Assistant(id) => self.assistants.contains_key(&(ws.clone(), id.clone())),
            AccessTarget::Project(id) => self.projects.contains_key(&(ws.clone(), id.clone())),
        }
    }

    pub(in crate::adapters::memory) fn context(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Option<WorkspaceContext> {
        let workspace = self.workspaces.get(ws).map(|(w, _)| w.clone());
        let membership = self.members.get(&(ws.clone(), user.clone())).cloned();
        workspace
            .zip(membership)
            .map(|(workspace, membership)| WorkspaceContext {
                workspace,
                membership,
            })
    }

    pub(in crate::adapters::memory) fn granted(
        &self,
        ws: &WorkspaceId,
        target: AccessTarget,
        user: &UserId,
    ) -> bool {
        self.grants
            .contains_key(&(ws.clone(), target, user.clone()))
    }

    /// One assistant or project with whether `user` holds a grant on it.
    pub(in crate::adapters::memory) fn one_with_grant<
        Id: Clone + Eq + std::hash::Hash,
        T: Clone,
    >(
        &self,
        items: &HashMap<(WorkspaceId, Id), T>,
        ws: &WorkspaceId,
        id: &Id,
        target: fn(Id) -> AccessTarget,
        user: &UserId,
    ) -> Option<WithGrant<T>> {
        items.get(&(ws.clone(), id.clone())).map(|item| WithGrant {
            item: item.clone(),
            granted: self.granted(ws, target(id.clone()), user),
        })
    }

    /// Every assistant or project of a workspace, each with whether `user`
    /// holds a grant on it.
    pub(in crate::adapters::memory) fn all_with_grants<
        Id: Clone + Eq + std::hash::Hash,
        T: Clone,
    >(
        &self,
        items: &HashMap<(WorkspaceId, Id), T>,
        ws: &WorkspaceId,
        target: fn(Id) -> AccessTarget,
        user: &UserId,
    ) -> Vec<WithGrant<T>> {
        items
            .iter()
            .filter(|((w, _), _)| w == ws)
            .map(|((_, id), item)| WithGrant {
                item: item.clone(),
                granted: self.granted(ws, target(id.clone()), user),
            })
            .collect()
    }

    /// Removes a connection and uncounts it on its assistant, if both exist.
    pub(in crate::adapters::memory) fn disconnect(
        &mut self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> bool {
        let removed = self
            .connections
            .remove(&(ws.clone(), assistant.clone(), project.clone()))
            .is_some();
        if removed {
            self.count_projects(ws, assistant, -1);
        }
        removed
    }

    /// The assistant's count of connected projects moved by `by`: a change
    /// to the assistant as the API shows it, logged.
    pub(in crate::adapters::memory) fn count_projects(
        &mut self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        by: i32,
    ) {
        if let Some(counted) = self.assistants.get_mut(&(ws.clone(), assistant.clone())) {
            let before = counted.clone();
            counted.project_count = counted.project_count.saturating_add_signed(by);
            let after = counted.clone();
            self.changed(
                Some(Entity::Assistant(before)),
                Some(Entity::Assistant(after)),
            );
        }
    }
}
