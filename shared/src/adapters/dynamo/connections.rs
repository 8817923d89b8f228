//! Connections between assistants and projects. Each is written twice,
//! once under each side, in one transaction with the assistant's
//! `projectCount`, so either side's cascade finds it.

use super::codec::{self, n, s, time};
use super::keys::{self, SortKey};
use super::requests::UpdateSpec;
use super::{DynamoStore, Item, key};
use crate::domain::ids::{AssistantId, ProjectId, WorkspaceId};
use crate::domain::project::Connection;
use crate::domain::time::Timestamp;
use crate::ports::{Conflict, ConnectionStore, StoreError};
use async_trait::async_trait;
use std::collections::HashMap;

impl DynamoStore {
    /// Removes one connection and uncounts it on the assistant, if it still
    /// exists; if the assistant itself is gone, removes just the two halves.
    /// `true` when this call removed it.
    pub(super) async fn disconnect_quietly(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<bool, StoreError> {
        match self.disconnect(ws, assistant, project).await {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound("connection")) => Ok(false),
            Err(StoreError::NotFound(_)) => {
                let (cpk, csk) = keys::connection(ws, assistant, project);
                let (bpk, bsk) = keys::back_connection(ws, project, assistant);
                self.batch_delete(vec![key(cpk, csk), key(bpk, bsk)])
                    .await?;
                Ok(true)
            }
            Err(other) => Err(other),
        }
    }
}

#[async_trait]
impl ConnectionStore for DynamoStore {
    /// Connects a project to an assistant: both halves of the connection and
    /// the assistant's `projectCount`, atomically. Connecting twice is a
    /// conflict, never a second count.
    async fn connect(
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
            _ => Conflict::AlreadyConnected.into(),
        })
        .await?;
        Ok(now)
    }

    /// The ids of the projects connected to an assistant, in one query.
    async fn connected_project_ids(
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
    async fn list_connections(
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

    /// Removes a connection: both halves and one from the assistant's
    /// `projectCount`, atomically.
    async fn disconnect(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<(), StoreError> {
        let (cpk, csk) = keys::connection(ws, assistant, project);
        let (bpk, bsk) = keys::back_connection(ws, project, assistant);
        let (apk, ask) = keys::assistant(ws, assistant);
        let items = vec![
            self.delete_item(key(cpk, csk), "attribute_exists(PK)"),
            self.delete_item(key(bpk, bsk), "attribute_exists(PK)"),
            self.update_item(UpdateSpec {
                key: key(apk, ask),
                expression: "SET projectCount = projectCount - :one",
                condition: Some("attribute_exists(PK) AND projectCount >= :one"),
                names: &[],
                values: vec![(":one", codec::n(1))],
            }),
        ];
        self.transact(items, |i| match i {
            0 | 1 => StoreError::NotFound("connection"),
            _ => StoreError::NotFound("assistant"),
        })
        .await
    }
}
