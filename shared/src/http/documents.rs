//! `/api/workspaces/{ws}/projects/{projectId}/documents[...]`: upload
//! (multipart, field `file`), list, get, delete. Uploads are stored in S3 and
//! queued for the ingest worker; the request never waits for indexing.

use super::auth::Caller;
use super::error::ApiError;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::projects::visible_project;
use super::state::{AppState, DocumentsDeps};
use super::views::DocumentView;
use crate::domain::document::{
    ACCEPTED_TYPES, Document, DocumentKind, DocumentStatus, MAX_UPLOAD_BYTES, document_name,
};
use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::jobs::IngestJob;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const LARGER_FILES: &str =
    "; upload files of up to 50 MB straight to storage with POST .../documents/uploads";

pub fn routes() -> Router<AppState> {
    super::uploads::routes()
        .route(
            "/api/workspaces/{workspace_id}/projects/{project_id}/documents",
            get(list_documents)
                .post(upload_document)
                // Room for the multipart envelope around the largest file.
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route(
            "/api/workspaces/{workspace_id}/projects/{project_id}/documents/{document_id}",
            get(get_document).delete(delete_document),
        )
}

pub(super) fn deps(state: &AppState) -> Result<&DocumentsDeps, ApiError> {
    state
        .documents
        .as_ref()
        .ok_or_else(|| ApiError::Internal("document storage is not configured".into()))
}

/// The project for a reader, 404 if they may not see it.
pub(super) async fn readable_project(
    state: &AppState,
    caller: &Caller,
    workspace_id: &str,
    project_id: &str,
) -> Result<(WorkspaceId, ProjectId, bool), ApiError> {
    let (workspace, actor) = state.member_of(workspace_id, caller).await?;
    let project = visible_project(state, &workspace.id, project_id, &actor).await?;
    Ok((workspace.id, project.id, actor.can_manage_workspace()))
}

/// A document of a project the caller can read, 404 otherwise; and
/// whether the caller manages it.
pub(super) async fn readable_document(
    state: &AppState,
    caller: &Caller,
    workspace_id: &str,
    project_id: &str,
    document_id: &str,
) -> Result<(Document, bool), ApiError> {
    let (ws, project, manages) = readable_project(state, caller, workspace_id, project_id).await?;
    let id = DocumentId::parse(document_id).ok_or(ApiError::NotFound("document"))?;
    let document = state
        .store
        .get_document(&ws, &project, &id)
        .await?
        .ok_or(ApiError::NotFound("document"))?;
    Ok((document, manages))
}

async fn list_documents(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (ws, project, _) = readable_project(&state, &caller, &workspace_id, &project_id).await?;
    let documents = state.store.list_documents(&ws, &project).await?;
    let page = paging.page(documents);
    Ok(Json(Page {
        data: page.data.iter().map(DocumentView::from).collect::<Vec<_>>(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
    .into_response())
}

async fn get_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id, document_id)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (document, _) =
        readable_document(&state, &caller, &workspace_id, &project_id, &document_id).await?;
    Ok(Json(DocumentView::from(&document)).into_response())
}

/// The one `file` field of the form, with its file name.
async fn read_file(mut form: Multipart) -> Result<(String, Vec<u8>), ApiError> {
    let malformed = || {
        ApiError::bad_request(
            "the body must be multipart/form-data with the file in the field 'file'",
        )
    };
    while let Some(field) = form.next_field().await.map_err(|_| malformed())? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().and_then(document_name).ok_or_else(|| {
            ApiError::invalid(crate::domain::fields::FieldErrors::single(
                "file",
                "must have a file name",
            ))
        })?;
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: MAX_UPLOAD_BYTES,
                    hint: LARGER_FILES,
                }
            } else {
                malformed()
            }
        })?;
        return Ok((name, bytes.to_vec()));
    }
    Err(ApiError::invalid(
        crate::domain::fields::FieldErrors::single("file", "is required"),
    ))
}

async fn upload_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let (ws, project, manages) =
        readable_project(&state, &caller, &workspace_id, &project_id).await?;
    if !manages {
        return Err(ApiError::Forbidden(
            "only owners and admins can upload documents",
        ));
    }
    let form = form.map_err(|_| {
        ApiError::bad_request(
            "the body must be multipart/form-data with the file in the field 'file'",
        )
    })?;
    let (name, bytes) = read_file(form).await?;
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_UPLOAD_BYTES,
            hint: LARGER_FILES,
        });
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid(
            crate::domain::fields::FieldErrors::single("file", "is empty"),
        ));
    }
    let kind = DocumentKind::sniff(&name, &bytes).ok_or_else(|| {
        ApiError::invalid(crate::domain::fields::FieldErrors::single(
            "file",
            format!("must be {ACCEPTED_TYPES}"),
        ))
    })?;
    let deps = deps(&state)?;
    let document = Document::new(ws, project, name, Some(kind), bytes.len() as u64);
    deps.blobs
        .put(&document.blob_key(), bytes, kind.content_type())
        .await
        .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
    state.store.create_document(&document).await?;
    queue_ingest(&state, deps, &document).await?;
    tracing::info!(document_id = %document.id, size = document.size, "document uploaded");
    Ok((StatusCode::CREATED, Json(DocumentView::from(&document))).into_response())
}

/// Hands a document whose bytes are stored to the ingest worker.
pub(super) async fn queue_ingest(
    state: &AppState,
    deps: &DocumentsDeps,
    document: &Document,
) -> Result<(), ApiError> {
    let job = IngestJob::Index {
        workspace_id: document.workspace_id.clone(),
        project_id: document.project_id.clone(),
        document_id: document.id.clone(),
    };
    if let Err(error) = deps.ingest.send(job.to_message()).await {
        // Without its job the document would wait forever: say so now.
        let _ = state
            .store
            .set_document_progress(
                document,
                DocumentStatus::Failed,
                0,
                0,
                Some("could not be queued for indexing; upload it again"),
            )
            .await;
        return Err(ApiError::Unavailable(Box::new(error)));
    }
    Ok(())
}

async fn delete_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id, document_id)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (document, manages) =
        readable_document(&state, &caller, &workspace_id, &project_id, &document_id).await?;
    if !manages {
        return Err(ApiError::Forbidden(
            "only owners and admins can delete documents",
        ));
    }
    state.store.delete_document(&document).await?;
    let deps = deps(&state)?;
    // The record is gone for everyone; vectors (through the ingest worker,
    // which holds the index) and bytes follow. Failures are logged, not
    // shown: nothing reachable is left.
    let forget = IngestJob::Forget {
        project_id: document.project_id.clone(),
        document_id: document.id.clone(),
    };
    if let Err(error) = deps.ingest.send(forget.to_message()).await {
        tracing::error!(job = %forget.to_message(), %error, "vector removal not queued");
    }
    if let Err(error) = deps.blobs.delete(&document.blob_key()).await {
        tracing::warn!(document_id = %document.id, %error, "blob not deleted");
    }
    Ok(StatusCode::NO_CONTENT)
}
