//! Direct uploads, for files too large to pass through Lambda (up to 50 MB):
//! `POST .../documents/uploads` creates the document (`uploading`) and
//! answers a presigned S3 URL; the client PUTs the bytes there, then
//! `POST .../documents/{documentId}/complete` checks what arrived and queues
//! the ingest.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::ProjectsState;
use super::views::DocumentView;
use crate::app::documents::UPLOAD_ONLY;
use crate::app::guard;
use crate::domain::document::UploadRequest;
use crate::domain::time::Timestamp;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<ProjectsState> {
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadView {
    url: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::upload_method))]
    method: &'static str,
    /// Headers the PUT must carry exactly: they are part of the signature.
    headers: BTreeMap<String, String>,
    expires_at: Timestamp,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct CreatedUpload<'a> {
    document: DocumentView<'a>,
    upload: UploadView,
}

async fn create_upload(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let project = state
        .documents
        .readable_project(&workspace.id, &project_id, &actor)
        .await?;
    guard::allowed(actor.can_manage_workspace(), UPLOAD_ONLY)?;
    let request = UploadRequest::from_json(body).map_err(ApiError::invalid)?;
    let (document, upload) = state
        .documents
        .start_direct_upload(&project, request)
        .await?;
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
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id, document_id)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let document = state
        .documents
        .readable_document(&workspace.id, &project_id, &document_id, &actor)
        .await?;
    guard::allowed(actor.can_manage_workspace(), UPLOAD_ONLY)?;
    let document = state.documents.complete_upload(&document).await?;
    Ok(Json(DocumentView::from(&document)).into_response())
}
