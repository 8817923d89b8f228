//! What every handler can reach, built once per process by the composition
//! root and cloned (cheaply) into each request.

use super::auth::{Caller, KEY_CACHE_TTL, KeyCache};
use super::error::ApiError;
use crate::adapters::dynamo::{Store, WorkspaceContext};
use crate::adapters::s3::BlobStore;
use crate::adapters::sqs::JobQueue;
use crate::domain::ids::WorkspaceId;
use crate::domain::policy::Actor;
use crate::domain::role::MemberStatus;
use crate::domain::workspace::Workspace;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub cleanup: JobQueue,
    pub keys: Arc<KeyCache>,
    /// Where uploads go; only the projects function has it.
    pub documents: Option<DocumentsDeps>,
}

/// The document bucket and the ingest queue.
#[derive(Clone, Debug)]
pub struct DocumentsDeps {
    pub blobs: BlobStore,
    pub ingest: JobQueue,
}

impl AppState {
    pub fn new(store: Store, cleanup: JobQueue) -> Self {
        Self {
            store,
            cleanup,
            keys: Arc::new(KeyCache::new(KEY_CACHE_TTL)),
            documents: None,
        }
    }

    pub fn with_documents(mut self, blobs: BlobStore, ingest: JobQueue) -> Self {
        self.documents = Some(DocumentsDeps { blobs, ingest });
        self
    }

    /// The caller as an active member of the workspace named in the path, in
    /// one read. Anyone else, suspended members included, gets a 404: a
    /// workspace's existence is not revealed to outsiders.
    pub async fn member_of(
        &self,
        workspace_id: &str,
        caller: &Caller,
    ) -> Result<(Workspace, Actor), ApiError> {
        let not_found = ApiError::NotFound("workspace");
        let id = WorkspaceId::parse(workspace_id).ok_or(not_found)?;
        match self.store.workspace_context(&id, &caller.user_id).await? {
            Some(WorkspaceContext {
                workspace,
                membership,
            }) if membership.status == MemberStatus::Active => Ok((
                workspace,
                Actor {
                    user_id: membership.user_id,
                    role: membership.role,
                },
            )),
            _ => Err(ApiError::NotFound("workspace")),
        }
    }
}
