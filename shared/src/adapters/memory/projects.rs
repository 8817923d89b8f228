//! Knowledge projects in memory, with the tombstones a deleted one
//! leaves.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::access::{AccessTarget, InContext, WithGrant};
use crate::domain::ids::{AssistantId, ProjectId, UserId, WorkspaceId};
use crate::domain::project::{Project, ProjectChanges};
use crate::domain::time::Timestamp;
use crate::ports::{ProjectStore, StoreError};
use async_trait::async_trait;

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
