//! Documents in memory: their upload and indexing states, moved only from
//! the state a caller read.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::document::{Document, DocumentKind, DocumentStatus};
use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::change::Entity;
use crate::ports::{Conflict, DocumentStore, StoreError};
use async_trait::async_trait;
use std::collections::HashSet;

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
            let before = stored.clone();
            stored.status = status;
            stored.chunk_count = chunk_count;
            stored.chunks_done = chunks_done;
            stored.error = error.map(str::to_owned);
            stored.updated_at = Timestamp::now();
            let after = stored.clone();
            t.changed(
                Some(Entity::Document(before)),
                Some(Entity::Document(after)),
            );
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
