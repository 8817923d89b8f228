//! Projects and their connections to assistants.

use super::codec::{self, n, s, time};
use super::grants::decoded_with_grant;
use super::keys::{self, SortKey};
use super::{DynamoStore, key};
use crate::domain::access::{AccessTarget, InContext, WithGrant};
use crate::domain::ids::{ProjectId, UserId, WorkspaceId};
use crate::domain::project::{Project, ProjectChanges};
use crate::domain::time::Timestamp;
use crate::ports::{ProjectStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

/// How long a deleted project's tombstone stands: a retried delete within
/// it answers 204, not 404.
const TOMBSTONE_SECONDS: i64 = 7 * 24 * 3600;

/// The stored attributes a change names (none of a project's can be removed).
fn project_attributes(changes: &ProjectChanges) -> Vec<(&'static str, Option<AttributeValue>)> {
    let mut attributes = Vec::new();
    if let Some(name) = &changes.name {
        attributes.push(("name", Some(s(name.as_str()))));
    }
    if let Some(description) = &changes.description {
        attributes.push(("description", Some(s(description.as_str()))));
    }
    if let Some(visibility) = changes.visibility {
        attributes.push(("visibility", Some(s(visibility.as_str()))));
    }
    attributes
}

#[async_trait]
impl ProjectStore for DynamoStore {
    async fn create_project(
        &self,
        ws: &WorkspaceId,
        changes: ProjectChanges,
        creator: &UserId,
    ) -> Result<Project, StoreError> {
        let project = Project::create(ws.clone(), changes, creator);
        let now = project.created_at;
        let (pk, sk) = keys::project(ws, &project.id);
        let mut item = key(pk, sk);
        item.extend([
            ("id".to_owned(), s(project.id.as_str())),
            ("workspaceId".to_owned(), s(ws.as_str())),
            ("name".to_owned(), s(project.name.as_str())),
            ("description".to_owned(), s(project.description.as_str())),
            ("visibility".to_owned(), s(project.visibility.as_str())),
            ("documentCount".to_owned(), n(0)),
            ("createdBy".to_owned(), s(creator.as_str())),
            ("createdAt".to_owned(), time(now)),
            ("updatedAt".to_owned(), time(now)),
        ]);
        self.put_new(item, "project").await?;
        Ok(project)
    }

    async fn get_project_for(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Project>>, StoreError> {
        let (item, granted) = self
            .get_with_grant(ws, &AccessTarget::Project(id.clone()), user)
            .await?;
        decoded_with_grant(item, granted, codec::project)
    }

    /// The caller's context and the project with their grant, in one round
    /// trip.
    async fn project_in_context(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<InContext<Project>, StoreError> {
        let (context, item, granted) = self
            .get_in_context(ws, &AccessTarget::Project(id.clone()), user)
            .await?;
        let found = decoded_with_grant(item, granted, codec::project)?;
        Ok(InContext { context, found })
    }

    /// Every project of the workspace, with whether `user` holds a grant on
    /// each, in one query.
    async fn list_projects_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Project>>, StoreError> {
        let (items, granted) = self
            .list_with_grants(ws, keys::PROJECT_PREFIX, user)
            .await?;
        items
            .iter()
            .map(|item| {
                let project = codec::project(item)?;
                Ok(WithGrant {
                    granted: granted.contains(&AccessTarget::Project(project.id.clone())),
                    item: project,
                })
            })
            .collect()
    }

    async fn update_project(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        changes: &ProjectChanges,
    ) -> Result<Project, StoreError> {
        let (pk, sk) = keys::project(ws, id);
        let item = self
            .update_fields(key(pk, sk), project_attributes(changes), "project")
            .await?;
        codec::project(&item)
    }

    /// Deletes the project and writes its tombstone in one transaction,
    /// then each of its connections with its assistant's count. Grants (and
    /// a connection made in the meantime) are left for the cleanup job,
    /// which runs [`Store::delete_children`].
    async fn delete_project(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<(), StoreError> {
        let (pk, sk) = keys::project(ws, id);
        let (tpk, tsk) = keys::project_tombstone(ws, id);
        let now = Timestamp::now();
        let mut tombstone = key(tpk, tsk);
        tombstone.extend([
            ("deletedAt".to_owned(), time(now)),
            (
                "expiresAt".to_owned(),
                n(now.millis() / 1000 + TOMBSTONE_SECONDS),
            ),
        ]);
        let deleted = self
            .transact(
                vec![
                    self.delete_item(key(pk, sk), "attribute_exists(PK)"),
                    self.put_item(tombstone, "attribute_not_exists(PK)"),
                ],
                |_| StoreError::NotFound("project"),
            )
            .await;
        match deleted {
            Ok(()) => {}
            Err(StoreError::NotFound(_)) if self.project_was_deleted(ws, id).await? => {}
            Err(error) => return Err(error),
        }
        let children = self
            .query_partition(
                &keys::workspace_partition(ws),
                &keys::children_prefix(&AccessTarget::Project(id.clone())),
            )
            .await?;
        for item in &children {
            if let SortKey::BackConnection(project, assistant) =
                keys::parse_sort_key(codec::text(item, keys::SK)?)
            {
                self.disconnect_quietly(ws, &assistant, &project).await?;
            }
        }
        Ok(())
    }

    async fn project_exists(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<bool, StoreError> {
        let (pk, sk) = keys::project(ws, id);
        Ok(self.get(pk, sk).await?.is_some())
    }

    async fn project_was_deleted(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::project_tombstone(ws, id);
        Ok(self.get(pk, sk).await?.is_some())
    }
}
