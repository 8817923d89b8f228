//! The memory store's tables: what each port keeps, behind the store's one
//! lock (`store`). Data only, and the rules several ports share; each
//! port's calls are in a file of its own beside this one, as in the
//! DynamoDB adapter.

pub(super) mod conversations;
pub(super) mod sms;
pub(super) mod widget;

use crate::domain::access::{AccessTarget, WithGrant};
use crate::domain::api_key::{ApiKey, ApiKeyHash};
use crate::domain::assistant::Assistant;
use crate::domain::document::Document;
use crate::domain::ids::{
    AssistantId, DeliveryId, DocumentId, ProjectId, UserId, WebhookId, WorkspaceId,
};
use crate::domain::member::{Email, Membership, User, WorkspaceContext};
use crate::domain::project::Project;
use crate::domain::time::Timestamp;
use crate::domain::webhook::delivery::Delivery;
use crate::domain::workspace::Workspace;
use crate::ports::{StoreError, StoredWebhook};
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
}

impl Tables {
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
        if removed && let Some(counted) = self.assistants.get_mut(&(ws.clone(), assistant.clone()))
        {
            counted.project_count = counted.project_count.saturating_sub(1);
        }
        removed
    }
}
