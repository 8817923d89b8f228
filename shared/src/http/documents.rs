//! `/api/workspaces/{ws}/projects/{projectId}/documents[...]`: upload
//! (multipart, field `file`), list, get, delete. The work is the document
//! service's; this reads the form and shapes the answers.

use super::auth::Caller;
use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::{Edge, ProjectsState};
use super::views::DocumentView;
use crate::app::documents::UPLOAD_ONLY;
use crate::app::guard;
use crate::domain::document::{MAX_UPLOAD_BYTES, document_name};
use crate::domain::fields::FieldErrors;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub const DOCUMENTS: &str = workspace_path!("/projects/{project_id}/documents");
pub const DOCUMENT: &str = workspace_path!("/projects/{project_id}/documents/{document_id}");

const LARGER_FILES: &str =
    "; upload files of up to 50 MB straight to storage with POST .../documents/uploads";

pub fn routes() -> Router<ProjectsState> {
    Router::new()
        .route(
            DOCUMENTS,
            get(list_documents)
                .post(upload_document)
                // Room for the multipart envelope around the largest file.
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route(DOCUMENT, get(get_document).delete(delete_document))
}

/// The membership and the project in one read, then the page: three
/// round trips whatever the project's size.
async fn list_documents(
    State(state): State<ProjectsState>,
    State(edge): State<Edge>,
    caller: Caller,
    paging: Paging,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let documents = &state.documents;
    let (_, _, project) = guard::member_seeing_project(
        edge.workspaces.as_ref(),
        state.projects.as_ref(),
        (&workspace_id, &project_id),
        &caller.user_id,
    )
    .await?;
    let (page, total) = documents
        .list(&project, paging.offset, paging.limit)
        .await?;
    Ok(Json(Page {
        data: page.iter().map(DocumentView::from).collect::<Vec<_>>(),
        total,
        limit: paging.limit,
        offset: paging.offset,
    })
    .into_response())
}

async fn get_document(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id, document_id)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let document = state
        .documents
        .readable_document(&workspace.id, &project_id, &document_id, &actor)
        .await?;
    Ok(Json(DocumentView::from(&document)).into_response())
}

fn not_a_form() -> ApiError {
    ApiError::bad_request("the body must be multipart/form-data with the file in the field 'file'")
}

/// The one `file` field of the form, with its file name.
async fn read_file(mut form: Multipart) -> Result<(String, Vec<u8>), ApiError> {
    while let Some(field) = form.next_field().await.map_err(|_| not_a_form())? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().and_then(document_name).ok_or_else(|| {
            ApiError::invalid(FieldErrors::single("file", "must have a file name"))
        })?;
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: MAX_UPLOAD_BYTES,
                    hint: LARGER_FILES,
                }
            } else {
                not_a_form()
            }
        })?;
        return Ok((name, bytes.to_vec()));
    }
    Err(ApiError::invalid(FieldErrors::single(
        "file",
        "is required",
    )))
}

async fn upload_document(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id)): ApiPath<(String, String)>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let project = state
        .documents
        .readable_project(&workspace.id, &project_id, &actor)
        .await?;
    guard::allowed(actor.can_manage_workspace(), UPLOAD_ONLY)?;
    let (name, bytes) = read_file(form.map_err(|_| not_a_form())?).await?;
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_UPLOAD_BYTES,
            hint: LARGER_FILES,
        });
    }
    let document = state.documents.upload(&project, name, bytes).await?;
    Ok((StatusCode::CREATED, Json(DocumentView::from(&document))).into_response())
}

async fn delete_document(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id, document_id)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let document = state
        .documents
        .readable_document(&workspace.id, &project_id, &document_id, &actor)
        .await?;
    guard::allowed(
        actor.can_manage_workspace(),
        "only owners and admins can delete documents",
    )?;
    state.documents.delete(&document).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Post};

    vec![
        Op::new(Get, DOCUMENTS, "listDocuments", "A project's documents")
            .member()
            .paged()
            .ok_page::<DocumentView>(),
        Op::new(
            Post,
            DOCUMENTS,
            "uploadDocument",
            "Upload a document (PDF, DOCX, text or Markdown, up to 4 MB) to be indexed",
        )
        .member()
        .managed()
        .multipart(bodies::multipart_file())
        .created::<DocumentView>()
        .errors(&[400, 413]),
        Op::new(
            Get,
            DOCUMENT,
            "getDocument",
            "One document, with its indexing status",
        )
        .member()
        .ok::<DocumentView>(),
        Op::new(
            Delete,
            DOCUMENT,
            "deleteDocument",
            "Delete a document; it is never served again",
        )
        .member()
        .managed()
        .no_content(),
    ]
}
