//! `/api/workspaces/{ws}/projects[...]`: knowledge projects.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::{Edge, ProjectsState};
use super::views::ProjectView;
use crate::app::error::AppError;
use crate::app::guard;
use crate::domain::project::ProjectChanges;
use crate::jobs::CleanupJob;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;

pub const PROJECTS: &str = workspace_path!("/projects");
pub const PROJECT: &str = workspace_path!("/projects/{project_id}");

pub fn routes() -> Router<ProjectsState> {
    Router::new()
        .route(PROJECTS, get(list_projects).post(create_project))
        .route(
            PROJECT,
            get(get_project)
                .patch(update_project)
                .delete(delete_project),
        )
}

const MANAGE_ONLY: &str = "only owners and admins can manage projects";

async fn list_projects(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    paging: Paging,
) -> Result<Response, ApiError> {
    let found = state
        .projects
        .list_projects_for(&workspace.id, &actor.user_id)
        .await?;
    let visible = guard::visible_newest_first(
        found,
        |p, granted| actor.can_view_project(p, granted),
        |p| (p.created_at, p.id.to_string()),
    );
    let page: Page<_> = paging.page(visible);
    Ok(Json(Page {
        data: page.data.iter().map(ProjectView::from).collect::<Vec<_>>(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
    .into_response())
}

async fn create_project(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    guard::allowed(actor.can_manage_workspace(), MANAGE_ONLY)?;
    let changes = ProjectChanges::from_json(body, true).map_err(ApiError::invalid)?;
    let project = state
        .projects
        .create_project(&workspace.id, changes, &actor.user_id)
        .await?;
    tracing::info!(project_id = %project.id, "project created");
    Ok((StatusCode::CREATED, Json(ProjectView::from(&project))).into_response())
}

/// The membership and the project in one read, as for an assistant.
async fn get_project(
    State(state): State<ProjectsState>,
    State(edge): State<Edge>,
    caller: Caller,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, _, project) = guard::member_seeing_project(
        edge.workspaces.as_ref(),
        state.projects.as_ref(),
        (&workspace_id, &project_id),
        &caller.user_id,
    )
    .await?;
    Ok(Json(ProjectView::from(&project)).into_response())
}

async fn update_project(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = guard::managed_project(
        state.projects.as_ref(),
        &workspace.id,
        &project_id,
        &actor,
        MANAGE_ONLY,
    )
    .await?;
    let changes = ProjectChanges::from_json(body, false).map_err(ApiError::invalid)?;
    let project = state
        .projects
        .update_project(&workspace.id, &id, &changes)
        .await?;
    Ok(Json(ProjectView::from(&project)).into_response())
}

/// How long a deleted project's background jobs wait before a worker sees
/// them: longer than any request may run (API Gateway's 29 s).
const DELETE_SETTLE: Duration = Duration::from_secs(60);

async fn delete_project(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, project_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = guard::managed_project(
        state.projects.as_ref(),
        &workspace.id,
        &project_id,
        &actor,
        MANAGE_ONLY,
    )
    .await?;
    // Managers were let through unread: queue nothing for a project that
    // never was (a retry's project is gone, its tombstone still there).
    let known = state.projects.project_exists(&workspace.id, &id).await?
        || state
            .projects
            .project_was_deleted(&workspace.id, &id)
            .await?;
    if !known {
        return Err(AppError::NotFound("project").into());
    }
    // The background jobs are queued first, delayed past the route's
    // deadline: a delete cut short after this point is finished by them (and
    // by a retry, which the tombstone answers 204), and one that never
    // happens leaves jobs that find the project and do nothing.
    state
        .documents
        .forget_project_later(&workspace.id, &id, DELETE_SETTLE)
        .await?;
    let cleanup = CleanupJob::ProjectDeleted {
        workspace_id: workspace.id.clone(),
        project_id: id.clone(),
    };
    state
        .cleanup
        .enqueue_delayed(&cleanup, DELETE_SETTLE)
        .await?;
    state.projects.delete_project(&workspace.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Patch, Post};

    let ids = [
        ("workspace_id", "$request.path.workspace_id"),
        ("project_id", "$response.body#/id"),
    ];
    vec![
        Op::new(Get, PROJECTS, "listProjects", "The projects the caller can read")
            .member()
            .paged()
            .ok_page::<ProjectView>(),
        Op::new(Post, PROJECTS, "createProject", "Create a knowledge project (owners and admins)")
            .member()
            .managed()
            .json(bodies::new_project())
            .created::<ProjectView>()
            .link("getProject", &ids)
            .link("updateProject", &ids)
            .link("listDocuments", &ids)
            .link("deleteProject", &ids),
        Op::new(Get, PROJECT, "getProject", "One project")
            .member()
            .ok::<ProjectView>(),
        Op::new(Patch, PROJECT, "updateProject", "Change a project (owners and admins)")
            .member()
            .managed()
            .json(bodies::project_changes())
            .ok::<ProjectView>(),
        Op::new(Delete, PROJECT, "deleteProject", "Delete a project: its connections at once, its documents, files and vectors soon after")
            .member()
            .managed()
            .no_content(),
    ]
}
