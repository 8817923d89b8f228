//! Connections between assistants and projects in memory: both halves in
//! one write, as in the DynamoDB adapter.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::ids::{AssistantId, ProjectId, WorkspaceId};
use crate::domain::project::Connection;
use crate::domain::time::Timestamp;
use crate::ports::{Conflict, ConnectionStore, StoreError};
use async_trait::async_trait;

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
            t.count_projects(ws, assistant, 1);
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
