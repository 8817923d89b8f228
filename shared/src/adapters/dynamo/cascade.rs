//! Removing what hangs off a deleted assistant or project: grants, and both
//! halves of each connection (uncounting the assistant when the project
//! goes). Every step is conditional, so a job that runs twice, or races the
//! API, changes nothing more.

use super::codec;
use super::keys::{self, AccessTarget, SortKey};
use super::workspaces::UpdateSpec;
use super::{BATCH_WRITE_MAX, Item, Store, StoreError, classify, key};
use crate::domain::ids::{AssistantId, ProjectId, WorkspaceId};
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use std::time::Duration;

impl Store {
    /// Removes every item that belongs to a deleted assistant or project.
    /// Returns how many items were removed.
    pub async fn delete_children(
        &self,
        ws: &WorkspaceId,
        of: &AccessTarget,
    ) -> Result<usize, StoreError> {
        let children = self
            .query_partition(&keys::workspace_partition(ws), &keys::children_prefix(of))
            .await?;
        let mut plain = Vec::new();
        let mut removed = 0;
        for item in &children {
            let sk = codec::text(item, keys::SK)?;
            match keys::parse_sort_key(sk) {
                // The assistant is gone: its connections go with their
                // other halves, and no count is left to keep.
                SortKey::Connection(assistant, project) => {
                    let (pk, sk) = keys::connection(ws, &assistant, &project);
                    plain.push(key(pk, sk));
                    let (pk, sk) = keys::back_connection(ws, &project, &assistant);
                    plain.push(key(pk, sk));
                }
                // The project is gone: each connection leaves its assistant,
                // whose count drops in the same transaction.
                SortKey::BackConnection(project, assistant) => {
                    if self.disconnect_quietly(ws, &assistant, &project).await? {
                        removed += 2;
                    }
                }
                _ => plain.push(key(codec::text(item, keys::PK)?.to_owned(), sk.to_owned())),
            }
        }
        // A project's documents sit under their own prefix.
        if let AccessTarget::Project(project) = of {
            for item in self
                .query_partition(
                    &keys::workspace_partition(ws),
                    &keys::documents_prefix(project),
                )
                .await?
            {
                plain.push(key(
                    codec::text(&item, keys::PK)?.to_owned(),
                    codec::text(&item, keys::SK)?.to_owned(),
                ));
            }
        }
        removed += plain.len();
        for chunk in plain.chunks(BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(removed)
    }

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

    /// Removes a connection: both halves and one from the assistant's
    /// `projectCount`, atomically.
    pub async fn disconnect(
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

    /// Deletes up to 25 items per call, retrying what the service leaves
    /// unprocessed (the local server never does, so the limit is ours).
    pub(super) async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let mut pending: Vec<WriteRequest> = keys
            .into_iter()
            .map(|k| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(k))
                            .build()
                            .expect("key is set"),
                    )
                    .build()
            })
            .collect();
        debug_assert!(pending.len() <= BATCH_WRITE_MAX);
        for attempt in 0..6u32 {
            if pending.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut pending))
                .send()
                .await
                .map_err(classify)?;
            pending = output
                .unprocessed_items
                .and_then(|mut rest| rest.remove(&self.table))
                .unwrap_or_default();
        }
        Err(StoreError::Unavailable(
            "batch delete kept leaving items unprocessed".into(),
        ))
    }
}
