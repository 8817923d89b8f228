//! Removing what hangs off a deleted assistant or project: grants, and both
//! halves of each connection (uncounting the assistant when the project
//! goes). Every step is conditional, so a job that runs twice, or races the
//! API, changes nothing more.

use super::codec;
use super::keys::{self, SortKey};
use super::{BATCH_WRITE_MAX, DynamoStore, key};
use crate::domain::access::AccessTarget;
use crate::domain::ids::{AssistantId, ConversationId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::ports::{CascadeStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl CascadeStore for DynamoStore {
    /// Removes every item that belongs to a deleted assistant or project,
    /// and nothing while it still exists. Returns how many items went.
    async fn delete_children(
        &self,
        ws: &WorkspaceId,
        of: &AccessTarget,
    ) -> Result<usize, StoreError> {
        let (pk, sk) = keys::target(ws, of);
        if self.get(pk, sk).await?.is_some() {
            return Ok(0);
        }
        let children = self
            .query_partition(&keys::workspace_partition(ws), &keys::children_prefix(of))
            .await?;
        let mut plain = Vec::new();
        let mut removed = 0;
        // Items that only mirror another (places in listings, grantees'
        // notes of their grants) go without being counted.
        let mut shadows = 0;
        for item in &children {
            let sk = codec::text(item, keys::SK)?;
            match keys::parse_sort_key(sk) {
                SortKey::Grant(AccessTarget::Assistant(assistant), user) => {
                    plain.push(key(codec::text(item, keys::PK)?.to_owned(), sk.to_owned()));
                    let (pk, sk) = keys::granted_to(ws, &user, &assistant);
                    plain.push(key(pk, sk));
                    shadows += 1;
                }
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
        // A project's documents sit under their own prefix, and their
        // places in its listing, which go too but are not counted: each is
        // a document's shadow, not a record of its own.
        if let AccessTarget::Project(project) = of {
            let partition = keys::workspace_partition(ws);
            let listing = keys::document_listing_partition(ws, project);
            let prefix = keys::documents_prefix(project);
            let (documents, places) = tokio::try_join!(
                self.query_partition(&partition, &prefix),
                self.query_partition(&listing, ""),
            )?;
            shadows += places.len();
            for item in documents.iter().chain(&places) {
                plain.push(key(
                    codec::text(item, keys::PK)?.to_owned(),
                    codec::text(item, keys::SK)?.to_owned(),
                ));
            }
        }
        if let AccessTarget::Assistant(assistant) = of {
            removed += self.delete_sms_traffic(assistant).await?;
            removed += self.delete_widget(assistant).await?;
            removed += self.delete_assistant_conversations(assistant).await?;
        }
        removed += plain.len() - shadows;
        for chunk in plain.chunks(BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(removed)
    }

    async fn purge_conversation(&self, id: &ConversationId) -> Result<usize, StoreError> {
        self.purge(id).await
    }

    async fn forget_sms_texters(
        &self,
        assistant: &AssistantId,
        deleted_at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.forget_channel_texters(assistant, deleted_at).await
    }
}
