//! Users, workspaces and members in memory: the same rules as the DynamoDB
//! adapter, each call under the store's one lock.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::member::{Email, MemberChanges, Membership, User, WorkspaceContext};
use crate::domain::role::{MemberStatus, Role};
use crate::domain::time::Timestamp;
use crate::domain::webhook::change::Entity;
use crate::domain::workspace::{
    ModelSettings, NewWorkspace, Workspace, WorkspaceChanges, WorkspaceDeletion,
};
use crate::ports::store::slugs_for;
use crate::ports::{Conflict, StoreError, WorkspaceStore};
use async_trait::async_trait;

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
            t.put_member(Membership {
                workspace_id: workspace.id.clone(),
                user_id: owner.id.clone(),
                email: owner.email.clone(),
                name: owner.name.clone(),
                role: Role::Owner,
                status: MemberStatus::Active,
                joined_at: workspace.created_at,
            });
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
            t.put_member(membership.clone());
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
            t.put_member(updated.clone());
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
            let removed = t.members.remove(&key);
            t.changed(removed.map(Entity::Member), None);
            // Their grants in this workspace go with them.
            t.grants
                .retain(|(w, _, u), _| !(w == &current.workspace_id && u == &current.user_id));
            Ok(())
        })
        .await
    }

    async fn delete_workspace(&self, ws: &WorkspaceId) -> Result<WorkspaceDeletion, StoreError> {
        self.run(Call::Transaction, |t| {
            let slug = match t.workspaces.get(ws) {
                Some((workspace, _)) => workspace.slug.clone(),
                None => return Err(StoreError::NotFound("workspace")),
            };
            let assistants = t.assistants.keys().filter(|(w, _)| w == ws).count();
            let projects = t.projects.keys().filter(|(w, _)| w == ws).count();
            let webhooks = t.webhooks.keys().filter(|(w, _)| w == ws).count();
            if assistants + projects + webhooks > 0 {
                return Ok(WorkspaceDeletion::Refused {
                    assistants,
                    projects,
                    webhooks,
                });
            }
            let mut records = 0;
            let members: Vec<UserId> = t
                .members
                .keys()
                .filter(|(w, _)| w == ws)
                .map(|(_, user)| user.clone())
                .collect();
            for user in members {
                let removed = t.members.remove(&(ws.clone(), user));
                t.changed(removed.map(Entity::Member), None);
                records += 1;
            }
            // Deleted projects' tombstones stay: in the table they expire
            // by themselves a week after their project went.
            let before = t.grants.len();
            t.grants.retain(|(w, _, _), _| w != ws);
            records += before - t.grants.len();
            let usage = &mut t.usage;
            let before = usage.budgets.len() + usage.days.len() + usage.months.len();
            usage.budgets.retain(|(w, _), _| w != ws);
            usage.days.retain(|(w, _, _), _| w != ws);
            usage.months.retain(|(w, _, _), _| w != ws);
            records += before - usage.budgets.len() - usage.days.len() - usage.months.len();
            t.slugs.remove(&slug);
            t.workspaces.remove(ws);
            Ok(WorkspaceDeletion::Deleted {
                records: records + 2,
            })
        })
        .await
    }
}
