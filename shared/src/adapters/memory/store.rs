//! Every store port in memory, for tests that need no local server and
//! tests that make the store fail on purpose ([`FaultPlan`]). Each call is
//! atomic (one lock), as each DynamoDB request is, and the same contract
//! suite holds it to the DynamoDB adapter's behaviour.

use super::faults::{Call, FaultPlan};
use crate::adapters::contention::retry_contended;
use crate::domain::access::{AccessGrant, AccessTarget, InContext, WithGrant};
use crate::domain::api_key::{ApiKey, ApiKeyHash, ApiKeySecret, KeyOwner};
use crate::domain::assistant::{Assistant, AssistantChanges, AssistantConfig};
use crate::domain::document::{Document, DocumentKind, DocumentStatus};
use crate::domain::ids::{
    ApiKeyId, AssistantId, ConversationId, DocumentId, ProjectId, UserId, WorkspaceId,
};
use crate::domain::member::{Email, MemberChanges, Membership, User, WorkspaceContext};
use crate::domain::policy::Actor;
use crate::domain::project::{Connection, Project, ProjectChanges};
use crate::domain::role::{MemberStatus, Role};
use crate::domain::time::Timestamp;
use crate::domain::workspace::{ModelSettings, NewWorkspace, Workspace, WorkspaceChanges};
use crate::ports::store::slugs_for;
use crate::ports::{
    AssistantStore, CascadeStore, Conflict, ConnectionStore, DocumentStore, GrantStore, KeyStore,
    ProjectStore, StoreError, WorkspaceStore,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default)]
pub(super) struct Tables {
    users: HashMap<UserId, User>,
    emails: HashMap<Email, UserId>,
    keys: HashMap<ApiKeyHash, ApiKey>,
    /// Each workspace with its count of active owners.
    workspaces: HashMap<WorkspaceId, (Workspace, u32)>,
    slugs: HashMap<String, WorkspaceId>,
    members: BTreeMap<(WorkspaceId, UserId), Membership>,
    pub(super) assistants: HashMap<(WorkspaceId, AssistantId), Assistant>,
    grants: HashMap<(WorkspaceId, AccessTarget, UserId), Timestamp>,
    projects: HashMap<(WorkspaceId, ProjectId), Project>,
    /// Deleted projects' tombstones (the memory store never expires them).
    deleted_projects: HashSet<(WorkspaceId, ProjectId)>,
    connections: BTreeMap<(WorkspaceId, AssistantId, ProjectId), Timestamp>,
    documents: HashMap<(WorkspaceId, ProjectId, DocumentId), Document>,
    pub(super) sms: super::sms::SmsTables,
    pub(super) conversations: super::conversations::ConversationTables,
    pub(super) widgets: super::widget::WidgetTables,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    faults: FaultPlan,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where a test says which calls fail next.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Everything the store holds, people shown whole: what a test of
    /// erasure reads, as it scans the DynamoDB table.
    pub fn audit_dump(&self) -> String {
        let tables = self.lock();
        crate::domain::redaction::unredacted(|| format!("{:?}", *tables))
    }

    /// Runs one call: injected faults fail its attempts first (cancellations
    /// are retried by the same policy as DynamoDB's), then `apply` runs on
    /// the tables, all or nothing.
    pub(super) async fn run<T>(
        &self,
        call: Call,
        apply: impl FnOnce(&mut Tables) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        retry_contended(|| async { self.faults.attempt(call) }).await?;
        apply(&mut self.lock())
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Tables {
    fn workspace_mut(&mut self, ws: &WorkspaceId) -> Result<&mut (Workspace, u32), StoreError> {
        self.workspaces
            .get_mut(ws)
            .ok_or(StoreError::NotFound("workspace"))
    }

    fn target_exists(&self, ws: &WorkspaceId, target: &AccessTarget) -> bool {
        match target {
            AccessTarget::Assistant(id) => self.assistants.contains_key(&(ws.clone(), id.clone())),
            AccessTarget::Project(id) => self.projects.contains_key(&(ws.clone(), id.clone())),
        }
    }

    fn context(&self, ws: &WorkspaceId, user: &UserId) -> Option<WorkspaceContext> {
        let workspace = self.workspaces.get(ws).map(|(w, _)| w.clone());
        let membership = self.members.get(&(ws.clone(), user.clone())).cloned();
        workspace
            .zip(membership)
            .map(|(workspace, membership)| WorkspaceContext {
                workspace,
                membership,
            })
    }

    fn granted(&self, ws: &WorkspaceId, target: AccessTarget, user: &UserId) -> bool {
        self.grants
            .contains_key(&(ws.clone(), target, user.clone()))
    }

    /// One assistant or project with whether `user` holds a grant on it.
    fn one_with_grant<Id: Clone + Eq + std::hash::Hash, T: Clone>(
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
    fn all_with_grants<Id: Clone + Eq + std::hash::Hash, T: Clone>(
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
    fn disconnect(
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

#[async_trait]
impl WorkspaceStore for MemoryStore {
    async fn create_user(&self, email: Email, name: String) -> Result<User, StoreError> {
        self.run(Call::Transaction, |t| {
            if t.emails.contains_key(&email) {
                return Err(Conflict::EmailTaken.into());
            }
            let user = User {
                id: UserId::generate(),
                email,
                name,
                created_at: Timestamp::now(),
            };
            t.emails.insert(user.email.clone(), user.id.clone());
            t.users.insert(user.id.clone(), user.clone());
            Ok(user)
        })
        .await
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.emails.get(email).and_then(|id| t.users.get(id)).cloned())
        })
        .await
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.run(Call::Read, |t| Ok(t.users.get(id).cloned())).await
    }

    async fn create_workspace(
        &self,
        new: NewWorkspace,
        owner: &User,
    ) -> Result<Workspace, StoreError> {
        self.run(Call::Transaction, |t| {
            let (slugs, all_taken) = slugs_for(&new);
            let slug = slugs
                .into_iter()
                .find(|slug| !t.slugs.contains_key(slug))
                .ok_or(all_taken)?;
            let workspace = Workspace::create(new, slug);
            t.slugs.insert(workspace.slug.clone(), workspace.id.clone());
            t.members.insert(
                (workspace.id.clone(), owner.id.clone()),
                Membership {
                    workspace_id: workspace.id.clone(),
                    user_id: owner.id.clone(),
                    email: owner.email.clone(),
                    name: owner.name.clone(),
                    role: Role::Owner,
                    status: MemberStatus::Active,
                    joined_at: workspace.created_at,
                },
            );
            t.workspaces
                .insert(workspace.id.clone(), (workspace.clone(), 1));
            Ok(workspace)
        })
        .await
    }

    async fn workspace_context(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<WorkspaceContext>, StoreError> {
        self.run(Call::Read, |t| Ok(t.context(ws, user))).await
    }

    async fn list_workspaces_of(&self, user: &UserId) -> Result<Vec<WorkspaceContext>, StoreError> {
        self.run(Call::Read, |t| {
            let mut contexts: Vec<WorkspaceContext> = t
                .members
                .values()
                .filter(|m| &m.user_id == user)
                .filter_map(|m| {
                    t.workspaces
                        .get(&m.workspace_id)
                        .map(|(workspace, _)| WorkspaceContext {
                            workspace: workspace.clone(),
                            membership: m.clone(),
                        })
                })
                .collect();
            contexts.sort_by(|a, b| {
                a.workspace
                    .created_at
                    .cmp(&b.workspace.created_at)
                    .then_with(|| a.workspace.id.cmp(&b.workspace.id))
            });
            Ok(contexts)
        })
        .await
    }

    async fn update_workspace(
        &self,
        current: &Workspace,
        changes: WorkspaceChanges,
        models: ModelSettings,
    ) -> Result<Workspace, StoreError> {
        self.run(Call::Transaction, |t| {
            let updated = current.changed(changes, models);
            let unchanged = t
                .workspaces
                .get(&current.id)
                .is_some_and(|(stored, _)| stored.slug == current.slug);
            if updated.slug != current.slug && t.slugs.contains_key(&updated.slug) {
                return Err(Conflict::SlugTaken(updated.slug.clone()).into());
            }
            if !unchanged {
                return Err(Conflict::ChangedMeanwhile("workspace").into());
            }
            let (stored, _) = t.workspace_mut(&current.id)?;
            stored.name.clone_from(&updated.name);
            stored.slug.clone_from(&updated.slug);
            stored.models = updated.models.clone();
            stored.updated_at = updated.updated_at;
            if updated.slug != current.slug {
                t.slugs.remove(&current.slug);
                t.slugs.insert(updated.slug.clone(), current.id.clone());
            }
            Ok(updated)
        })
        .await
    }

    async fn list_members(&self, ws: &WorkspaceId) -> Result<Vec<Membership>, StoreError> {
        self.run(Call::Read, |t| {
            let mut members: Vec<Membership> = t
                .members
                .values()
                .filter(|m| &m.workspace_id == ws)
                .cloned()
                .collect();
            members.sort_by(|a, b| {
                a.joined_at
                    .cmp(&b.joined_at)
                    .then_with(|| a.user_id.cmp(&b.user_id))
            });
            Ok(members)
        })
        .await
    }

    async fn get_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.members.get(&(ws.clone(), user.clone())).cloned())
        })
        .await
    }

    async fn add_member(
        &self,
        ws: &WorkspaceId,
        user: &User,
        new_user: bool,
        role: Role,
    ) -> Result<Membership, StoreError> {
        self.run(Call::Transaction, |t| {
            if new_user && (t.emails.contains_key(&user.email) || t.users.contains_key(&user.id)) {
                return Err(Conflict::EmailTakenMeanwhile.into());
            }
            let key = (ws.clone(), user.id.clone());
            if t.members.contains_key(&key) {
                return Err(Conflict::AlreadyMember.into());
            }
            let (workspace, owners) = t.workspace_mut(ws)?;
            workspace.member_count += 1;
            *owners += u32::from(role == Role::Owner);
            if new_user {
                t.emails.insert(user.email.clone(), user.id.clone());
                t.users.insert(user.id.clone(), user.clone());
            }
            let membership = Membership {
                workspace_id: ws.clone(),
                user_id: user.id.clone(),
                email: user.email.clone(),
                name: user.name.clone(),
                role,
                status: MemberStatus::Active,
                joined_at: Timestamp::now(),
            };
            t.members.insert(key, membership.clone());
            Ok(membership)
        })
        .await
    }

    async fn change_member(
        &self,
        current: &Membership,
        changes: MemberChanges,
    ) -> Result<Membership, StoreError> {
        self.run(Call::Transaction, |t| {
            let key = (current.workspace_id.clone(), current.user_id.clone());
            let stored = t.members.get(&key);
            if stored.is_none_or(|m| m.role != current.role || m.status != current.status) {
                return Err(Conflict::ChangedMeanwhile("member").into());
            }
            let updated = Membership {
                role: changes.role.unwrap_or(current.role),
                status: changes.status.unwrap_or(current.status),
                ..current.clone()
            };
            let delta = i64::from(updated.is_active_owner()) - i64::from(current.is_active_owner());
            let (_, owners) = t.workspace_mut(&current.workspace_id)?;
            if delta < 0 && *owners <= 1 {
                return Err(StoreError::LastOwner);
            }
            *owners = u32::try_from(i64::from(*owners) + delta).unwrap_or(0);
            t.members.insert(key, updated.clone());
            Ok(updated)
        })
        .await
    }

    async fn remove_member(&self, current: &Membership) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let key = (current.workspace_id.clone(), current.user_id.clone());
            let stored = t.members.get(&key);
            if stored.is_none_or(|m| m.role != current.role || m.status != current.status) {
                return Err(Conflict::ChangedMeanwhile("member").into());
            }
            let (workspace, owners) = t.workspace_mut(&current.workspace_id)?;
            if current.is_active_owner() {
                if *owners <= 1 {
                    return Err(StoreError::LastOwner);
                }
                *owners -= 1;
            }
            workspace.member_count = workspace.member_count.saturating_sub(1);
            t.members.remove(&key);
            // Their grants in this workspace go with them.
            t.grants
                .retain(|(w, _, u), _| !(w == &current.workspace_id && u == &current.user_id));
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn create_api_key(
        &self,
        user: &UserId,
        name: String,
    ) -> Result<(ApiKey, ApiKeySecret), StoreError> {
        self.run(Call::Write, |t| {
            let secret = ApiKeySecret::generate();
            let key = ApiKey {
                id: ApiKeyId::generate(),
                user_id: user.clone(),
                name,
                prefix: secret.visible_prefix(),
                created_at: Timestamp::now(),
                last_used_at: None,
                revoked_at: None,
            };
            t.keys.insert(secret.hash(), key.clone());
            Ok((key, secret))
        })
        .await
    }

    async fn authenticate(&self, hash: &ApiKeyHash) -> Result<Option<KeyOwner>, StoreError> {
        self.run(Call::Write, |t| {
            Ok(t.keys
                .get_mut(hash)
                .filter(|key| key.revoked_at.is_none())
                .map(|key| {
                    let now = Timestamp::now();
                    if key.use_is_news(now) {
                        key.last_used_at = Some(now);
                    }
                    KeyOwner {
                        user_id: key.user_id.clone(),
                        key_id: key.id.clone(),
                    }
                }))
        })
        .await
    }

    async fn list_api_keys(&self, user: &UserId) -> Result<Vec<ApiKey>, StoreError> {
        self.run(Call::Read, |t| {
            let mut keys: Vec<ApiKey> = t
                .keys
                .values()
                .filter(|k| &k.user_id == user)
                .cloned()
                .collect();
            keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
            Ok(keys)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        user: &UserId,
        key: &ApiKeyId,
    ) -> Result<ApiKeyHash, StoreError> {
        self.run(Call::Write, |t| {
            let (hash, stored) = t
                .keys
                .iter_mut()
                .find(|(_, k)| &k.id == key && &k.user_id == user)
                .ok_or(StoreError::NotFound("API key"))?;
            stored.revoked_at.get_or_insert_with(Timestamp::now);
            Ok(hash.clone())
        })
        .await
    }
}

#[async_trait]
impl AssistantStore for MemoryStore {
    async fn create_assistant(
        &self,
        ws: &WorkspaceId,
        config: AssistantConfig,
        creator: &UserId,
    ) -> Result<Assistant, StoreError> {
        self.run(Call::Transaction, |t| {
            let (workspace, _) = t.workspace_mut(ws)?;
            workspace.assistant_count += 1;
            let assistant = Assistant::create(ws.clone(), config, creator);
            t.assistants
                .insert((ws.clone(), assistant.id.clone()), assistant.clone());
            t.widgets.open_site(ws, &assistant.id);
            Ok(assistant)
        })
        .await
    }

    async fn get_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<Option<Assistant>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.assistants.get(&(ws.clone(), id.clone())).cloned())
        })
        .await
    }

    async fn get_assistant_for(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Assistant>>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.one_with_grant(&t.assistants, ws, id, AccessTarget::Assistant, user))
        })
        .await
    }

    async fn assistant_in_context(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<InContext<Assistant>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(InContext {
                context: t.context(ws, user),
                found: t.one_with_grant(&t.assistants, ws, id, AccessTarget::Assistant, user),
            })
        })
        .await
    }

    async fn list_assistants_page(
        &self,
        ws: &WorkspaceId,
        viewer: &Actor,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Assistant>, usize), StoreError> {
        self.run(Call::Read, |t| {
            let mut visible: Vec<Assistant> = t
                .all_with_grants(&t.assistants, ws, AccessTarget::Assistant, &viewer.user_id)
                .into_iter()
                .filter(|seen| viewer.can_view_assistant(&seen.item, seen.granted))
                .map(|seen| seen.item)
                .collect();
            visible.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            let total = visible.len();
            Ok((
                visible.into_iter().skip(offset).take(limit).collect(),
                total,
            ))
        })
        .await
    }

    async fn list_assistants_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Assistant>>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.all_with_grants(&t.assistants, ws, AccessTarget::Assistant, user))
        })
        .await
    }

    async fn update_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        changes: &AssistantChanges,
    ) -> Result<Assistant, StoreError> {
        self.run(Call::Write, |t| {
            let assistant = t
                .assistants
                .get_mut(&(ws.clone(), id.clone()))
                .ok_or(StoreError::NotFound("assistant"))?;
            changes.apply_to(assistant);
            assistant.updated_at = Timestamp::now();
            Ok(assistant.clone())
        })
        .await
    }

    async fn delete_assistant(&self, ws: &WorkspaceId, id: &AssistantId) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            if !t.assistants.contains_key(&(ws.clone(), id.clone())) {
                return Err(StoreError::NotFound("assistant"));
            }
            let (workspace, _) = t.workspace_mut(ws)?;
            workspace.assistant_count = workspace
                .assistant_count
                .checked_sub(1)
                .ok_or_else(|| StoreError::Corrupt("assistantCount would go below zero".into()))?;
            t.assistants.remove(&(ws.clone(), id.clone()));
            // The number is free the moment the assistant is gone.
            t.sms.forget_config(id);
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn grant_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<AccessGrant, StoreError> {
        self.run(Call::Transaction, |t| {
            if !t.target_exists(ws, on) {
                return Err(StoreError::NotFound(on.noun()));
            }
            if !t.members.contains_key(&(ws.clone(), user.clone())) {
                return Err(StoreError::NotFound("member"));
            }
            // The first grant's time stays, and is what every grant answers.
            let granted_at = *t
                .grants
                .entry((ws.clone(), on.clone(), user.clone()))
                .or_insert_with(Timestamp::now);
            Ok(AccessGrant {
                user_id: user.clone(),
                granted_at,
            })
        })
        .await
    }

    async fn revoke_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            t.grants
                .remove(&(ws.clone(), on.clone(), user.clone()))
                .map(|_| ())
                .ok_or(StoreError::NotFound("access grant"))
        })
        .await
    }

    async fn list_grants(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
    ) -> Result<Vec<AccessGrant>, StoreError> {
        self.run(Call::Read, |t| {
            let mut grants: Vec<AccessGrant> = t
                .grants
                .iter()
                .filter(|((w, target, _), _)| w == ws && target == on)
                .map(|((_, _, user), at)| AccessGrant {
                    user_id: user.clone(),
                    granted_at: *at,
                })
                .collect();
            grants.sort_by(|a, b| {
                a.granted_at
                    .cmp(&b.granted_at)
                    .then_with(|| a.user_id.cmp(&b.user_id))
            });
            Ok(grants)
        })
        .await
    }

    async fn target_exists(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
    ) -> Result<bool, StoreError> {
        self.run(Call::Read, |t| Ok(t.target_exists(ws, target)))
            .await
    }
}

#[async_trait]
impl ProjectStore for MemoryStore {
    async fn create_project(
        &self,
        ws: &WorkspaceId,
        changes: ProjectChanges,
        creator: &UserId,
    ) -> Result<Project, StoreError> {
        self.run(Call::Write, |t| {
            let project = Project::create(ws.clone(), changes, creator);
            t.projects
                .insert((ws.clone(), project.id.clone()), project.clone());
            Ok(project)
        })
        .await
    }

    async fn get_project_for(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Project>>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.one_with_grant(&t.projects, ws, id, AccessTarget::Project, user))
        })
        .await
    }

    async fn project_in_context(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<InContext<Project>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(InContext {
                context: t.context(ws, user),
                found: t.one_with_grant(&t.projects, ws, id, AccessTarget::Project, user),
            })
        })
        .await
    }

    async fn list_projects_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Project>>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.all_with_grants(&t.projects, ws, AccessTarget::Project, user))
        })
        .await
    }

    async fn update_project(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        changes: &ProjectChanges,
    ) -> Result<Project, StoreError> {
        self.run(Call::Write, |t| {
            let project = t
                .projects
                .get_mut(&(ws.clone(), id.clone()))
                .ok_or(StoreError::NotFound("project"))?;
            changes.apply_to(project);
            project.updated_at = Timestamp::now();
            Ok(project.clone())
        })
        .await
    }

    /// Two calls, as on DynamoDB (the delete with its tombstone, then the
    /// disconnections), so a fault can cut the delete short between them.
    async fn delete_project(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<(), StoreError> {
        let project = (ws.clone(), id.clone());
        self.run(Call::Transaction, |t| {
            if t.projects.remove(&project).is_some() {
                t.deleted_projects.insert(project.clone());
            }
            if t.deleted_projects.contains(&project) {
                Ok(())
            } else {
                Err(StoreError::NotFound("project"))
            }
        })
        .await?;
        self.run(Call::Write, |t| {
            let connected: Vec<AssistantId> = t
                .connections
                .keys()
                .filter(|(w, _, p)| w == ws && p == id)
                .map(|(_, a, _)| a.clone())
                .collect();
            for assistant in connected {
                t.disconnect(ws, &assistant, id);
            }
            Ok(())
        })
        .await
    }

    async fn project_exists(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<bool, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.projects.contains_key(&(ws.clone(), id.clone())))
        })
        .await
    }

    async fn project_was_deleted(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
    ) -> Result<bool, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.deleted_projects.contains(&(ws.clone(), id.clone())))
        })
        .await
    }
}

#[async_trait]
impl ConnectionStore for MemoryStore {
    async fn connect(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<Timestamp, StoreError> {
        self.run(Call::Transaction, |t| {
            if !t.assistants.contains_key(&(ws.clone(), assistant.clone())) {
                return Err(StoreError::NotFound("assistant"));
            }
            if !t.projects.contains_key(&(ws.clone(), project.clone())) {
                return Err(StoreError::NotFound("project"));
            }
            let key = (ws.clone(), assistant.clone(), project.clone());
            if t.connections.contains_key(&key) {
                return Err(Conflict::AlreadyConnected.into());
            }
            let now = Timestamp::now();
            t.connections.insert(key, now);
            if let Some(counted) = t.assistants.get_mut(&(ws.clone(), assistant.clone())) {
                counted.project_count += 1;
            }
            Ok(now)
        })
        .await
    }

    async fn disconnect(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            if !t
                .connections
                .contains_key(&(ws.clone(), assistant.clone(), project.clone()))
            {
                return Err(StoreError::NotFound("connection"));
            }
            if !t.assistants.contains_key(&(ws.clone(), assistant.clone())) {
                return Err(StoreError::NotFound("assistant"));
            }
            t.disconnect(ws, assistant, project);
            Ok(())
        })
        .await
    }

    async fn connected_project_ids(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<Vec<ProjectId>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.connections
                .keys()
                .filter(|(w, a, _)| w == ws && a == assistant)
                .map(|(_, _, p)| p.clone())
                .collect())
        })
        .await
    }

    async fn list_connections(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<Vec<Connection>, StoreError> {
        self.run(Call::Read, |t| {
            let mut connections: Vec<Connection> = t
                .connections
                .iter()
                .filter(|((w, a, _), _)| w == ws && a == assistant)
                .filter_map(|((_, _, p), at)| {
                    t.projects
                        .get(&(ws.clone(), p.clone()))
                        .map(|project| Connection {
                            project: project.clone(),
                            connected_at: *at,
                        })
                })
                .collect();
            connections.sort_by(|a, b| {
                a.connected_at
                    .cmp(&b.connected_at)
                    .then_with(|| a.project.id.cmp(&b.project.id))
            });
            Ok(connections)
        })
        .await
    }
}

fn document_key(document: &Document) -> (WorkspaceId, ProjectId, DocumentId) {
    (
        document.workspace_id.clone(),
        document.project_id.clone(),
        document.id.clone(),
    )
}

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn create_document(&self, document: &Document) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let key = document_key(document);
            match t.documents.get(&key) {
                // A resent create that landed (as the DynamoDB store sees one).
                Some(stored) if stored == document => return Ok(()),
                Some(_) => return Err(Conflict::IdCollision("document").into()),
                None => {}
            }
            let project = t
                .projects
                .get_mut(&(key.0.clone(), key.1.clone()))
                .ok_or(StoreError::NotFound("project"))?;
            project.document_count += 1;
            t.documents.insert(key, document.clone());
            Ok(())
        })
        .await
    }

    async fn get_document(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        id: &DocumentId,
    ) -> Result<Option<Document>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.documents
                .get(&(ws.clone(), project.clone(), id.clone()))
                .cloned())
        })
        .await
    }

    async fn list_documents(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        self.run(Call::Read, |t| {
            let mut documents: Vec<Document> = t
                .documents
                .iter()
                .filter(|((w, p, _), _)| w == ws && p == project)
                .map(|(_, d)| d.clone())
                .collect();
            documents.sort_by(|a, b| {
                b.created_at
                    .cmp(&a.created_at)
                    .then_with(|| b.id.cmp(&a.id))
            });
            Ok(documents.into_iter().skip(offset).take(limit).collect())
        })
        .await
    }

    async fn set_document_progress(
        &self,
        document: &Document,
        status: DocumentStatus,
        chunk_count: u32,
        chunks_done: u32,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            let stored = t
                .documents
                .get_mut(&document_key(document))
                .ok_or(StoreError::NotFound("document"))?;
            stored.status = status;
            stored.chunk_count = chunk_count;
            stored.chunks_done = chunks_done;
            stored.error = error.map(str::to_owned);
            stored.updated_at = Timestamp::now();
            Ok(())
        })
        .await
    }

    async fn complete_upload(
        &self,
        document: &Document,
        kind: DocumentKind,
        size: u64,
    ) -> Result<Document, StoreError> {
        self.run(Call::Transaction, |t| {
            let stored = t
                .documents
                .get_mut(&document_key(document))
                .filter(|d| d.status == DocumentStatus::Uploading)
                .ok_or(Conflict::UploadComplete)?;
            stored.kind = Some(kind);
            stored.size = size;
            stored.status = DocumentStatus::Pending;
            stored.updated_at = Timestamp::now();
            Ok(Document {
                kind: Some(kind),
                size,
                status: DocumentStatus::Pending,
                updated_at: stored.updated_at,
                ..document.clone()
            })
        })
        .await
    }

    async fn reopen_upload(&self, document: &Document) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let stored = t
                .documents
                .get_mut(&document_key(document))
                .filter(|d| d.status == DocumentStatus::Pending)
                .ok_or(Conflict::NoLongerPending)?;
            stored.kind = None;
            stored.status = DocumentStatus::Uploading;
            stored.updated_at = Timestamp::now();
            Ok(())
        })
        .await
    }

    async fn delete_document(&self, document: &Document) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            let key = document_key(document);
            if !t.documents.contains_key(&key) {
                return Err(StoreError::NotFound("document"));
            }
            let project = t
                .projects
                .get_mut(&(key.0.clone(), key.1.clone()))
                .filter(|p| p.document_count >= 1)
                .ok_or(StoreError::NotFound("project"))?;
            project.document_count -= 1;
            t.documents.remove(&key);
            Ok(())
        })
        .await
    }

    async fn stored_documents(
        &self,
        ws: &WorkspaceId,
        documents: &[(ProjectId, DocumentId)],
    ) -> Result<HashSet<DocumentId>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(documents
                .iter()
                .filter(|(project, id)| {
                    t.documents
                        .contains_key(&(ws.clone(), project.clone(), id.clone()))
                })
                .map(|(_, id)| id.clone())
                .collect())
        })
        .await
    }
}

#[async_trait]
impl CascadeStore for MemoryStore {
    async fn delete_children(
        &self,
        ws: &WorkspaceId,
        of: &AccessTarget,
    ) -> Result<usize, StoreError> {
        self.run(Call::Write, |t| {
            if t.target_exists(ws, of) {
                return Ok(0);
            }
            let grants_before = t.grants.len();
            t.grants
                .retain(|(w, target, _), _| !(w == ws && target == of));
            // Each connection counts twice, as its two stored halves do.
            let mut removed = grants_before - t.grants.len();
            let connected: Vec<(AssistantId, ProjectId)> = t
                .connections
                .keys()
                .filter(|(w, a, p)| {
                    w == ws
                        && match of {
                            AccessTarget::Assistant(id) => a == id,
                            AccessTarget::Project(id) => p == id,
                        }
                })
                .map(|(_, a, p)| (a.clone(), p.clone()))
                .collect();
            for (assistant, project) in connected {
                t.disconnect(ws, &assistant, &project);
                removed += 2;
            }
            if let AccessTarget::Project(project) = of {
                let before = t.documents.len();
                t.documents
                    .retain(|(w, p, _), _| !(w == ws && p == project));
                removed += before - t.documents.len();
            }
            if let AccessTarget::Assistant(assistant) = of {
                removed += t.sms.forget_traffic(assistant);
                removed += t.widgets.forget(assistant);
                removed += t.conversations.forget_assistant(assistant);
            }
            Ok(removed)
        })
        .await
    }

    async fn purge_conversation(&self, id: &ConversationId) -> Result<usize, StoreError> {
        self.run(Call::Write, |t| t.purge_conversation(id)).await
    }

    async fn forget_sms_texters(
        &self,
        assistant: &AssistantId,
        deleted_at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.run(Call::Write, |t| {
            Ok(t.forget_sms_texters(assistant, deleted_at))
        })
        .await
    }
}
