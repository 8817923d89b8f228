//! Projects and their connections to assistants.

use super::codec::{self, n, s, time};
use super::keys::{self, AccessTarget, SortKey};
use super::workspaces::UpdateSpec;
use super::{Item, Store, StoreError, classify, key};
use crate::domain::ids::{AssistantId, ProjectId, UserId, WorkspaceId};
use crate::domain::project::{Project, ProjectChanges, ProjectVisibility};
use crate::domain::time::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// A project, and whether the asking user holds an access grant on it.
#[derive(Clone, Debug)]
pub struct ProjectWithGrant {
    pub project: Project,
    pub granted: bool,
}

/// A project as connected to an assistant.
#[derive(Clone, Debug)]
pub struct Connection {
    pub project: Project,
    pub connected_at: Timestamp,
}

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

impl Store {
    pub async fn create_project(
        &self,
        ws: &WorkspaceId,
        changes: ProjectChanges,
        creator: &UserId,
    ) -> Result<Project, StoreError> {
        let now = Timestamp::now();
        let project = Project {
            id: ProjectId::generate(),
            workspace_id: ws.clone(),
            name: changes.name.unwrap_or_default(),
            description: changes.description.unwrap_or_default(),
            visibility: changes.visibility.unwrap_or(ProjectVisibility::Workspace),
            document_count: 0,
            created_by: creator.clone(),
            created_at: now,
            updated_at: now,
        };
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
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(classify)?;
        Ok(project)
    }

    pub async fn get_project_for(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<Option<ProjectWithGrant>, StoreError> {
        let (item, granted) = self
            .get_with_grant(ws, &AccessTarget::Project(id.clone()), user)
            .await?;
        item.as_ref()
            .map(|item| {
                Ok(ProjectWithGrant {
                    project: codec::project(item)?,
                    granted,
                })
            })
            .transpose()
    }

    /// Every project of the workspace, with whether `user` holds a grant on
    /// each, in one query.
    pub async fn list_projects_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<ProjectWithGrant>, StoreError> {
        let (items, granted) = self
            .list_with_grants(ws, keys::PROJECT_PREFIX, user)
            .await?;
        items
            .iter()
            .map(|item| {
                let project = codec::project(item)?;
                Ok(ProjectWithGrant {
                    granted: granted.contains(&AccessTarget::Project(project.id.clone())),
                    project,
                })
            })
            .collect()
    }

    pub async fn update_project(
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

    /// Deletes the project, then each of its connections with its
    /// assistant's count. Grants (and a connection made in the meantime) are
    /// left for the cleanup job, which runs [`Store::delete_children`].
    pub async fn delete_project(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<(), StoreError> {
        let (pk, sk) = keys::project(ws, id);
        self.transact(
            vec![self.delete_item(key(pk, sk), "attribute_exists(PK)")],
            |_| StoreError::NotFound("project"),
        )
        .await?;
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

    /// Connects a project to an assistant: both halves of the connection and
    /// the assistant's `projectCount`, atomically. Connecting twice is a
    /// conflict, never a second count.
    pub async fn connect(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<Timestamp, StoreError> {
        let now = Timestamp::now();
        let connection_item = |pk: String, sk: String| -> Item {
            let mut item = key(pk, sk);
            item.extend([
                ("assistantId".to_owned(), s(assistant.as_str())),
                ("projectId".to_owned(), s(project.as_str())),
                ("connectedAt".to_owned(), time(now)),
            ]);
            item
        };
        let (ppk, psk) = keys::project(ws, project);
        let (cpk, csk) = keys::connection(ws, assistant, project);
        let (bpk, bsk) = keys::back_connection(ws, project, assistant);
        let (apk, ask) = keys::assistant(ws, assistant);
        let items = vec![
            self.update_item(UpdateSpec {
                key: key(apk, ask),
                expression: "SET projectCount = projectCount + :one",
                condition: Some("attribute_exists(PK)"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
            self.require_exists(key(ppk, psk)),
            self.put_item(connection_item(cpk, csk), "attribute_not_exists(PK)"),
            self.put_item(connection_item(bpk, bsk), "attribute_not_exists(PK)"),
        ];
        self.transact(items, |i| match i {
            0 => StoreError::NotFound("assistant"),
            1 => StoreError::NotFound("project"),
            _ => StoreError::Conflict("the project is already connected to this assistant".into()),
        })
        .await?;
        Ok(now)
    }

    /// The ids of the projects connected to an assistant, in one query.
    pub async fn connected_project_ids(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<Vec<ProjectId>, StoreError> {
        let items = self
            .query_partition(
                &keys::workspace_partition(ws),
                &keys::connections_prefix(assistant),
            )
            .await?;
        let mut ids = Vec::new();
        for item in &items {
            if let SortKey::Connection(_, project) =
                keys::parse_sort_key(codec::text(item, keys::SK)?)
            {
                ids.push(project);
            }
        }
        Ok(ids)
    }

    /// The projects connected to an assistant, oldest connection first.
    pub async fn list_connections(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<Vec<Connection>, StoreError> {
        let items = self
            .query_partition(
                &keys::workspace_partition(ws),
                &keys::connections_prefix(assistant),
            )
            .await?;
        let mut connected_at = HashMap::new();
        for item in &items {
            if let SortKey::Connection(_, project) =
                keys::parse_sort_key(codec::text(item, keys::SK)?)
            {
                connected_at.insert(project, codec::timestamp(item, "connectedAt")?);
            }
        }
        let project_keys = connected_at
            .keys()
            .map(|project| {
                let (pk, sk) = keys::project(ws, project);
                key(pk, sk)
            })
            .collect();
        let mut connections: Vec<Connection> = self
            .batch_get(project_keys)
            .await?
            .iter()
            .map(|item| {
                let project = codec::project(item)?;
                Ok(Connection {
                    connected_at: connected_at[&project.id],
                    project,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        connections.sort_by(|a, b| {
            a.connected_at
                .cmp(&b.connected_at)
                .then_with(|| a.project.id.cmp(&b.project.id))
        });
        Ok(connections)
    }
}
