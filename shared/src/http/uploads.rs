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

pub const UPLOADS: &str = workspace_path!("/projects/{project_id}/documents/uploads");
pub const COMPLETE: &str =
    workspace_path!("/projects/{project_id}/documents/{document_id}/complete");

pub fn routes() -> Router<ProjectsState> {
    Router::new()
        .route(UPLOADS, post(create_upload))
        .route(COMPLETE, post(complete_upload))
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

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::Post;

    vec![
        Op::new(
            Post,
            UPLOADS,
            "startUpload",
            "Start a direct upload of up to 50 MB: a document and a URL to PUT its bytes to",
        )
        .member()
        .managed()
        .json(bodies::upload_request())
        .created_as::<CreatedUpload>("The new document and where to PUT its file"),
        Op::new(
            Post,
            COMPLETE,
            "completeUpload",
            "Check a directly uploaded file and queue it for indexing",
        )
        .member()
        .managed()
        .ok::<DocumentView>()
        .errors(&[400, 409]),
    ]
}
