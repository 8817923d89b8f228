//! `/api/workspaces/{ws}/projects[...]`: knowledge projects and access
//! grants on private ones.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::AppState;
use super::views::ProjectView;
use crate::adapters::dynamo::ProjectWithGrant;
use crate::cleanup::CleanupJob;
use crate::domain::ids::{ProjectId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::project::{Project, ProjectChanges};
use crate::jobs::IngestJob;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    super::access::project_routes()
        .route(
            "/api/workspaces/{workspace_id}/projects",
            get(list_projects).post(create_project),
        )
        .route(
            "/api/workspaces/{workspace_id}/projects/{project_id}",
            get(get_project)
                .patch(update_project)
                .delete(delete_project),
        )
}

const MANAGE_ONLY: &str = "only owners and admins can manage projects";

fn parse_project_id(raw: &str) -> Result<ProjectId, ApiError> {
    ProjectId::parse(raw).ok_or(ApiError::NotFound("project"))
}

/// The project if the actor may read it; otherwise (or when missing) 404.
pub(super) async fn visible_project(
    state: &AppState,
    workspace_id: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
) -> Result<Project, ApiError> {
    let id = parse_project_id(raw_id)?;
    match state
        .store
        .get_project_for(workspace_id, &id, &actor.user_id)
        .await?
    {
        Some(ProjectWithGrant { project, granted })
            if actor.can_view_project(&project, granted) =>
        {
            Ok(project)
        }
        _ => Err(ApiError::NotFound("project")),
    }
}

/// For managing routes: owners and admins pass; anyone else learns only what
/// a read would tell them (404 if they cannot see the project, else 403
/// with `refusal`).
pub(super) async fn manager_of_project(
    state: &AppState,
    caller: &Caller,
    workspace_id: &str,
    project_id: &str,
    refusal: &'static str,
) -> Result<(WorkspaceId, ProjectId), ApiError> {
    let (workspace, actor) = state.member_of(workspace_id, caller).await?;
    if !actor.can_manage_workspace() {
        visible_project(state, &workspace.id, project_id, &actor).await?;
        return Err(ApiError::Forbidden(refusal));
    }
    Ok((workspace.id, parse_project_id(project_id)?))
}

async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    ApiPath(workspace_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    let mut visible: Vec<Project> = state
        .store
        .list_projects_for(&workspace.id, &actor.user_id)
        .await?
        .into_iter()
        .filter(|p| actor.can_view_project(&p.project, p.granted))
        .map(|p| p.project)
        .collect();
    visible.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let page = paging.page(visible);
    Ok(Json(Page {
        data: page.data.iter().map(ProjectView::from).collect::<Vec<_>>(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
    .into_response())
}

async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(workspace_id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    if !actor.can_manage_workspace() {
        return Err(ApiError::Forbidden(MANAGE_ONLY));
    }
    let changes = ProjectChanges::from_json(body, true).map_err(ApiError::invalid)?;
    let project = state
        .store
        .create_project(&workspace.id, changes, &actor.user_id)
        .await?;
    tracing::info!(project_id = %project.id, "project created");
    Ok((StatusCode::CREATED, Json(ProjectView::from(&project))).into_response())
}

async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    let project = visible_project(&state, &workspace.id, &project_id, &actor).await?;
    Ok(Json(ProjectView::from(&project)).into_response())
}

async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (workspace_id, id) =
        manager_of_project(&state, &caller, &workspace_id, &project_id, MANAGE_ONLY).await?;
    let changes = ProjectChanges::from_json(body, false).map_err(ApiError::invalid)?;
    let project = state
        .store
        .update_project(&workspace_id, &id, &changes)
        .await?;
    Ok(Json(ProjectView::from(&project)).into_response())
}

async fn delete_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, project_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (workspace_id, id) =
        manager_of_project(&state, &caller, &workspace_id, &project_id, MANAGE_ONLY).await?;
    state.store.delete_project(&workspace_id, &id).await?;
    // As for assistants: the project and its connections are already gone;
    // its grants and document records go through the cleanup worker, its
    // vectors and files through the ingest worker (which holds the index
    // and the bucket). A failed enqueue leaves only unreachable leftovers.
    if let Some(documents) = &state.documents {
        let forget = IngestJob::ForgetProject {
            workspace_id: workspace_id.clone(),
            project_id: id.clone(),
        };
        if let Err(error) = documents.ingest.send(forget.to_message()).await {
            tracing::error!(job = %forget.to_message(), %error, "project vectors not queued for removal");
        }
    }
    let job = CleanupJob::ProjectDeleted {
        workspace_id,
        project_id: id,
    };
    if let Err(error) = state.cleanup.enqueue(&job).await {
        tracing::error!(job = %job.to_message(), error = %error, "cleanup job not queued");
    }
    Ok(StatusCode::NO_CONTENT)
}
