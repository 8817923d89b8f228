//! Document records and their progress through ingest. The bytes are in S3;
//! the project's `documentCount` changes in the same transaction as its
//! documents.

use super::codec::{self, n, s, time};
use super::keys;
use super::requests::UpdateSpec;
use super::{DynamoStore, key};
use crate::domain::document::{Document, DocumentKind, DocumentStatus};
use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::ports::{Conflict, DocumentStore, StoreError};
use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap, HashSet};

fn listing_key(document: &Document) -> (String, String) {
    keys::document_listing(
        &document.workspace_id,
        &document.project_id,
        document.created_at,
        &document.id,
    )
}

#[async_trait]
impl DocumentStore for DynamoStore {
    async fn create_document(&self, document: &Document) -> Result<(), StoreError> {
        let (pk, sk) = keys::document(&document.workspace_id, &document.project_id, &document.id);
        let mut item = key(pk, sk);
        item.extend([
            ("id".to_owned(), s(document.id.as_str())),
            ("workspaceId".to_owned(), s(document.workspace_id.as_str())),
            ("projectId".to_owned(), s(document.project_id.as_str())),
            ("name".to_owned(), s(document.name.as_str())),
            ("size".to_owned(), n(document.size)),
            ("status".to_owned(), s(document.status.as_str())),
            ("chunkCount".to_owned(), n(document.chunk_count)),
            ("chunksDone".to_owned(), n(document.chunks_done)),
            ("createdAt".to_owned(), time(document.created_at)),
            ("updatedAt".to_owned(), time(document.updated_at)),
        ]);
        if let Some(kind) = document.kind {
            item.insert("contentType".to_owned(), s(kind.content_type()));
        }
        let (ppk, psk) = keys::project(&document.workspace_id, &document.project_id);
        let (lpk, lsk) = listing_key(document);
        let items = vec![
            self.put_fresh(item),
            self.update_item(UpdateSpec {
                key: key(ppk, psk),
                expression: "SET documentCount = documentCount + :one",
                condition: Some("attribute_exists(PK)"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
            // Not fresh: a place says nothing of the write that made it.
            self.put_item(key(lpk, lsk), "attribute_not_exists(PK)"),
        ];
        self.transact(items, |i| match i {
            1 => StoreError::NotFound("project"),
            _ => Conflict::IdCollision("document").into(),
        })
        .await
    }

    async fn get_document(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        id: &DocumentId,
    ) -> Result<Option<Document>, StoreError> {
        let (pk, sk) = keys::document(ws, project, id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::document)
            .transpose()
    }

    /// A page of a project's documents, newest first: the page's places
    /// in the listing, then the documents themselves, in two reads however
    /// many documents the project holds.
    async fn list_documents(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let places = self
            .query_first(
                &keys::document_listing_partition(ws, project),
                keys::DOCUMENT_PLACE_PREFIX,
                false,
                offset.saturating_add(limit),
            )
            .await?;
        let ids: Vec<DocumentId> = places
            .iter()
            .skip(offset)
            .map(|place| {
                let sk = codec::text(place, keys::SK)?;
                sk.rsplit('#')
                    .next()
                    .and_then(DocumentId::parse)
                    .ok_or_else(|| StoreError::Corrupt(format!("a document's place {sk}")))
            })
            .collect::<Result<_, _>>()?;
        let wanted = ids
            .iter()
            .map(|id| {
                let (pk, sk) = keys::document(ws, project, id);
                key(pk, sk)
            })
            .collect();
        let mut found: HashMap<DocumentId, Document> = HashMap::new();
        for item in self.batch_get(wanted).await? {
            let document = codec::document(&item)?;
            found.insert(document.id.clone(), document);
        }
        // A document deleted between the two reads is left out of the page.
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Records where ingest stands. Refused (not found) once the document
    /// is deleted, so a late worker cannot bring it back.
    async fn set_document_progress(
        &self,
        document: &Document,
        status: DocumentStatus,
        chunk_count: u32,
        chunks_done: u32,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::document(&document.workspace_id, &document.project_id, &document.id);
        // A plain conditional update: a one-item transaction would cost
        // twice the writes on every progress step.
        self.update_fields(
            key(pk, sk),
            vec![
                ("status", Some(s(status.as_str()))),
                ("chunkCount", Some(n(chunk_count))),
                ("chunksDone", Some(n(chunks_done))),
                ("error", error.map(s)),
            ],
            "document",
        )
        .await?;
        Ok(())
    }

    /// Records that a direct upload's bytes are in place: what they are, how
    /// large, and `pending` for the ingest worker. Refused (a conflict) unless
    /// the document is still `uploading`, so completing twice queues once.
    async fn complete_upload(
        &self,
        document: &Document,
        kind: DocumentKind,
        size: u64,
    ) -> Result<Document, StoreError> {
        let (pk, sk) = keys::document(&document.workspace_id, &document.project_id, &document.id);
        let now = Timestamp::now();
        self.transact(
            vec![self.update_item(UpdateSpec {
                key: key(pk, sk),
                expression: "SET #status = :pending, contentType = :type, #size = :size, updatedAt = :now",
                condition: Some("#status = :uploading"),
                // Both are DynamoDB reserved words.
                names: &[("#status", "status"), ("#size", "size")],
                values: vec![
                    (":pending", s(DocumentStatus::Pending.as_str())),
                    (":uploading", s(DocumentStatus::Uploading.as_str())),
                    (":type", s(kind.content_type())),
                    (":size", n(size)),
                    (":now", time(now)),
                ],
            })],
            |_| Conflict::UploadComplete.into(),
        )
        .await?;
        Ok(Document {
            kind: Some(kind),
            size,
            status: DocumentStatus::Pending,
            updated_at: now,
            ..document.clone()
        })
    }

    async fn reopen_upload(&self, document: &Document) -> Result<(), StoreError> {
        let (pk, sk) = keys::document(&document.workspace_id, &document.project_id, &document.id);
        self.transact(
            vec![self.update_item(UpdateSpec {
                key: key(pk, sk),
                expression: "SET #status = :uploading, updatedAt = :now REMOVE contentType",
                condition: Some("#status = :pending"),
                names: &[("#status", "status")],
                values: vec![
                    (":pending", s(DocumentStatus::Pending.as_str())),
                    (":uploading", s(DocumentStatus::Uploading.as_str())),
                    (":now", time(Timestamp::now())),
                ],
            })],
            |_| Conflict::NoLongerPending.into(),
        )
        .await
    }

    /// Deletes the record and uncounts it on its project, atomically.
    async fn delete_document(&self, document: &Document) -> Result<(), StoreError> {
        let (pk, sk) = keys::document(&document.workspace_id, &document.project_id, &document.id);
        let (ppk, psk) = keys::project(&document.workspace_id, &document.project_id);
        let (lpk, lsk) = listing_key(document);
        let items = vec![
            self.delete_item(key(pk, sk), "attribute_exists(PK)"),
            self.update_item(UpdateSpec {
                key: key(ppk, psk),
                expression: "SET documentCount = documentCount - :one",
                condition: Some("documentCount >= :one"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
            // Unconditional: the place goes with the document, and a
            // missing place must not keep a document from being deleted.
            self.delete_key(key(lpk, lsk)),
        ];
        self.transact(items, |i| match i {
            0 => StoreError::NotFound("document"),
            _ => StoreError::NotFound("project"),
        })
        .await
    }

    async fn stored_documents(
        &self,
        ws: &WorkspaceId,
        documents: &[(ProjectId, DocumentId)],
    ) -> Result<HashSet<DocumentId>, StoreError> {
        let unique: BTreeSet<&(ProjectId, DocumentId)> = documents.iter().collect();
        let keys = unique
            .into_iter()
            .map(|(project, id)| {
                let (pk, sk) = keys::document(ws, project, id);
                key(pk, sk)
            })
            .collect();
        self.batch_get(keys)
            .await?
            .iter()
            .map(|item| {
                DocumentId::parse(codec::text(item, "id")?)
                    .ok_or_else(|| StoreError::Corrupt("a document's id".into()))
            })
            .collect()
    }
}
