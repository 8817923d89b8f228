//! Direct uploads, for files too large to pass through Lambda (up to 50 MB):
//! `POST .../documents/uploads` creates the document (`uploading`) and
//! answers a presigned S3 URL; the client PUTs the bytes there, then
//! `POST .../documents/{documentId}/complete` checks what arrived and queues
//! the ingest.

use super::auth::Caller;
use super::body::JsonBody;
use super::documents::{deps, queue_ingest, readable_document, readable_project};
use super::error::ApiError;
use super::path::ApiPath;
use super::state::AppState;
use super::views::DocumentView;
use crate::domain::document::{
    ACCEPTED_TYPES, Document, DocumentKind, DocumentStatus, SNIFF_BYTES, UploadRequest,
};
use crate::domain::fields::FieldErrors;
use crate::domain::time::Timestamp;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Long enough to send 50 MB over a slow link; short enough that a leaked
/// URL is soon useless.
const UPLOAD_URL_VALID_FOR: Duration = Duration::from_secs(15 * 60);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/workspaces/{workspace_id}/projects/{project_id}/documents/uploads",
            post(create_upload),
        )
        .route(
            "/api/workspaces/{workspace_id}/projects/{project_id}/documents/{document_id}/complete",
            post(complete_upload),
        )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadView {
    url: String,
    method: &'static str,
    /// Headers the PUT must carry exactly: they are part of the signature.
    headers: BTreeMap<String, String>,
    expires_at: Timestamp,
}

#[derive(Serialize)]
struct CreatedUpload<'a> {
    document: DocumentView<'a>,
    upload: UploadView,
}

async fn create_upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (ws, project, manages) =
        readable_project(&state, &caller, &workspace_id, &project_id).await?;
    if !manages {
        return Err(ApiError::Forbidden(
            "only owners and admins can upload documents",
        ));
    }
    let request = UploadRequest::from_json(body).map_err(ApiError::invalid)?;
    let deps = deps(&state)?;
    let document = Document::new(ws, project, request.name, None, request.size);
    // Signing is local and has no effect; do it before anything is stored.
    let upload = deps
        .blobs
        .presign_put(&document.blob_key(), document.size, UPLOAD_URL_VALID_FOR)
        .await
        .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
    state.store.create_document(&document).await?;
    tracing::info!(document_id = %document.id, size = document.size, "direct upload started");
    let created = CreatedUpload {
        document: DocumentView::from(&document),
        upload: UploadView {
            url: upload.url,
            method: "PUT",
            headers: upload.headers.into_iter().collect(),
            expires_at: upload.expires_at,
        },
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn complete_upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id, document_id)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (document, manages) =
        readable_document(&state, &caller, &workspace_id, &project_id, &document_id).await?;
    if !manages {
        return Err(ApiError::Forbidden(
            "only owners and admins can upload documents",
        ));
    }
    if document.status != DocumentStatus::Uploading {
        return Err(ApiError::Conflict(
            "the upload of this document is already complete".into(),
        ));
    }
    let deps = deps(&state)?;
    let unavailable = |e| ApiError::Unavailable(Box::new(e));
    let key = document.blob_key();
    let size = deps
        .blobs
        .size_of(&key)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| {
            ApiError::Conflict(
                "no file has been uploaded for this document yet: PUT it to the upload URL first"
                    .into(),
            )
        })?;
    if size != document.size {
        return Err(ApiError::invalid(FieldErrors::single(
            "file",
            format!(
                "is {size} bytes but the upload was created for {} bytes; PUT the right file again",
                document.size
            ),
        )));
    }
    let tail = async {
        if size > SNIFF_BYTES {
            deps.blobs.get_range(&key, size - SNIFF_BYTES, size).await
        } else {
            Ok(Vec::new())
        }
    };
    let (head, tail) =
        tokio::try_join!(deps.blobs.get_range(&key, 0, SNIFF_BYTES), tail).map_err(unavailable)?;
    let kind = DocumentKind::sniff_ends(&document.name, &head, &tail, size <= SNIFF_BYTES)
        .ok_or_else(|| {
            ApiError::invalid(FieldErrors::single(
                "file",
                format!("must be {ACCEPTED_TYPES}; PUT another file to the upload URL"),
            ))
        })?;
    let document = state.store.complete_upload(&document, kind, size).await?;
    queue_ingest(&state, deps, &document).await?;
    tracing::info!(document_id = %document.id, size, "direct upload completed");
    Ok(Json(DocumentView::from(&document)).into_response())
}
