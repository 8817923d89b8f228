//! What happens to a document between a request and the ingest worker:
//! its bytes stored, its record counted on the project, its job queued (or
//! the document marked failed, so it never waits forever), and on delete
//! its vectors and bytes following the record.

use super::error::AppError;
use super::guard;
use crate::domain::document::{
    ACCEPTED_TYPES, Document, DocumentKind, DocumentStatus, SNIFF_BYTES, UploadRequest,
};
use crate::domain::fields::FieldErrors;
use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::project::Project;
use crate::jobs::{IngestJob, Job};
use crate::ports::{BlobStore, DocumentStore, JobQueue, PresignedUpload, ProjectStore};
use std::sync::Arc;
use std::time::Duration;

/// Long enough to send 50 MB over a slow link; short enough that a leaked
/// URL is soon useless.
const UPLOAD_URL_VALID_FOR: Duration = Duration::from_secs(15 * 60);

/// Why a member who can read a project cannot add to it.
pub const UPLOAD_ONLY: &str = "only owners and admins can upload documents";

#[derive(Clone)]
pub struct DocumentService {
    pub projects: Arc<dyn ProjectStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub ingest: Arc<dyn JobQueue<IngestJob>>,
}

fn invalid_file(problem: impl Into<String>) -> AppError {
    AppError::invalid(FieldErrors::single("file", problem))
}

impl DocumentService {
    /// The project, if the actor may read it (404 otherwise).
    pub async fn readable_project(
        &self,
        ws: &WorkspaceId,
        raw_project: &str,
        actor: &Actor,
    ) -> Result<Project, AppError> {
        guard::visible_project(self.projects.as_ref(), ws, raw_project, actor).await
    }

    /// A document of a project the actor may read (404 otherwise).
    pub async fn readable_document(
        &self,
        ws: &WorkspaceId,
        raw_project: &str,
        raw_document: &str,
        actor: &Actor,
    ) -> Result<Document, AppError> {
        let project = self.readable_project(ws, raw_project, actor).await?;
        let id = DocumentId::parse(raw_document).ok_or(AppError::NotFound("document"))?;
        self.documents
            .get_document(ws, &project.id, &id)
            .await?
            .ok_or(AppError::NotFound("document"))
    }

    /// A page of the project's documents, newest first, and how many it
    /// holds in all (its counter, moved in the same writes as they are).
    pub async fn list(
        &self,
        project: &Project,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Document>, usize), AppError> {
        let page = self
            .documents
            .list_documents(&project.workspace_id, &project.id, offset, limit)
            .await?;
        Ok((page, project.document_count as usize))
    }

    /// A file that came with the request: recognised by its content, stored,
    /// recorded and queued.
    pub async fn upload(
        &self,
        project: &Project,
        name: String,
        bytes: Vec<u8>,
    ) -> Result<Document, AppError> {
        if bytes.is_empty() {
            return Err(invalid_file("is empty"));
        }
        let kind = DocumentKind::sniff(&name, &bytes)
            .ok_or_else(|| invalid_file(format!("must be {ACCEPTED_TYPES}")))?;
        let document = Document::new(
            project.workspace_id.clone(),
            project.id.clone(),
            name,
            Some(kind),
            bytes.len() as u64,
        );
        self.blobs
            .put(&document.blob_key(), bytes, kind.content_type())
            .await?;
        if let Err(error) = self.documents.create_document(&document).await {
            self.forget_file(&document).await;
            return Err(error.into());
        }
        if let Err(error) = self.ingest.enqueue(&ingest_job(&document)).await {
            // Nothing of the upload stays, so the client's retry starts
            // clean; if even that fails, the document says what happened.
            match self.documents.delete_document(&document).await {
                Ok(()) => self.forget_file(&document).await,
                Err(_) => self.mark_unqueued(&document).await,
            }
            return Err(error.into());
        }
        tracing::info!(document_id = %document.id, size = document.size, "document uploaded");
        Ok(document)
    }

    async fn forget_file(&self, document: &Document) {
        if let Err(error) = self.blobs.delete(&document.blob_key()).await {
            tracing::warn!(document_id = %document.id, %error, "an unrecorded file was left behind");
        }
    }

    /// A document awaiting its bytes (`uploading`), and where to PUT them.
    pub async fn start_direct_upload(
        &self,
        project: &Project,
        request: UploadRequest,
    ) -> Result<(Document, PresignedUpload), AppError> {
        let document = Document::new(
            project.workspace_id.clone(),
            project.id.clone(),
            request.name,
            None,
            request.size,
        );
        // Signing is local and has no effect; do it before anything is stored.
        let upload = self
            .blobs
            .presign_put(&document.staging_key(), document.size, UPLOAD_URL_VALID_FOR)
            .await?;
        self.documents.create_document(&document).await?;
        tracing::info!(document_id = %document.id, size = document.size, "direct upload started");
        Ok((document, upload))
    }

    /// Checks what a direct upload put in place (its size, and its type from
    /// both ends), then moves the document to `pending` and queues it. A wrong
    /// file leaves the document `uploading`, so the right one can be PUT.
    pub async fn complete_upload(&self, document: &Document) -> Result<Document, AppError> {
        if document.status != DocumentStatus::Uploading {
            return Err(AppError::Conflict(
                "the upload of this document is already complete".into(),
            ));
        }
        let staged = document.staging_key();
        let version = self.blobs.version_of(&staged).await?.ok_or_else(|| {
            AppError::Conflict(
                "no file has been uploaded for this document yet: PUT it to the upload URL first"
                    .into(),
            )
        })?;
        let size = version.size;
        if size != document.size {
            return Err(invalid_file(format!(
                "is {size} bytes but the upload was created for {} bytes; PUT the right file again",
                document.size
            )));
        }
        let tail = async {
            if size > SNIFF_BYTES {
                self.blobs
                    .get_range_of(&staged, &version, size - SNIFF_BYTES, size)
                    .await
            } else {
                Ok(Some(Vec::new()))
            }
        };
        let (head, tail) = tokio::try_join!(
            self.blobs.get_range_of(&staged, &version, 0, SNIFF_BYTES),
            tail
        )?;
        let (Some(head), Some(tail)) = (head, tail) else {
            return Err(replaced_while_checked());
        };
        let kind = DocumentKind::sniff_ends(&document.name, &head, &tail, size <= SNIFF_BYTES)
            .ok_or_else(|| {
                invalid_file(format!(
                    "must be {ACCEPTED_TYPES}; PUT another file to the upload URL"
                ))
            })?;
        // The checked version, and only it, becomes the document's file.
        if !self
            .blobs
            .copy_version(&staged, &version, &document.blob_key())
            .await?
        {
            return Err(replaced_while_checked());
        }
        let document = self.documents.complete_upload(document, kind, size).await?;
        if let Err(error) = self.ingest.enqueue(&ingest_job(&document)).await {
            // Back to `uploading`, the staged file kept: the client's retry
            // completes it again. Only if that fails does it say why.
            if self.documents.reopen_upload(&document).await.is_err() {
                self.mark_unqueued(&document).await;
            }
            return Err(error.into());
        }
        if let Err(error) = self.blobs.delete(&staged).await {
            tracing::warn!(document_id = %document.id, %error, "staged upload left for the bucket's expiry");
        }
        tracing::info!(document_id = %document.id, size, "direct upload completed");
        Ok(document)
    }

    /// Without its job the document would wait forever: say so now.
    async fn mark_unqueued(&self, document: &Document) {
        let _ = self
            .documents
            .set_document_progress(
                document,
                DocumentStatus::Failed,
                0,
                0,
                Some("could not be queued for indexing; upload it again"),
            )
            .await;
    }

    /// The record goes at once (and its count); vectors (through the ingest
    /// worker, which holds the index) and bytes follow. Their failures are
    /// logged, not shown: nothing reachable is left.
    pub async fn delete(&self, document: &Document) -> Result<(), AppError> {
        self.documents.delete_document(document).await?;
        let forget = IngestJob::Forget {
            project_id: document.project_id.clone(),
            document_id: document.id.clone(),
        };
        if let Err(error) = self.ingest.enqueue(&forget).await {
            tracing::error!(job = %forget.to_message(), %error, "vector removal not queued");
        }
        if let Err(error) = self.blobs.delete(&document.blob_key()).await {
            tracing::warn!(document_id = %document.id, %error, "blob not deleted");
        }
        Ok(())
    }

    /// Queues the removal of a project's vectors and files by the ingest
    /// worker, to run after `delay`: it is queued before the project's
    /// delete, and does nothing if the project still exists by then.
    pub async fn forget_project_later(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        delay: Duration,
    ) -> Result<(), AppError> {
        let forget = IngestJob::ForgetProject {
            workspace_id: ws.clone(),
            project_id: project.clone(),
        };
        Ok(self.ingest.enqueue_delayed(&forget, delay).await?)
    }
}

fn replaced_while_checked() -> AppError {
    AppError::Conflict(
        "another file was PUT to the upload URL while this one was being checked; complete the upload again"
            .into(),
    )
}

fn ingest_job(document: &Document) -> IngestJob {
    IngestJob::Index {
        workspace_id: document.workspace_id.clone(),
        project_id: document.project_id.clone(),
        document_id: document.id.clone(),
    }
}
