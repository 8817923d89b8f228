//! `/api/workspaces/{ws}/assistants/{id}/projects[...]`: which projects an
//! assistant draws on (the seed's "Project Connections").

use super::assistants::{parse_assistant_id, visible_assistant};
use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::path::ApiPath;
use super::state::AppState;
use super::views::ConnectionView;
use crate::adapters::dynamo::Connection;
use crate::domain::ids::{AssistantId, ProjectId, WorkspaceId};
use crate::domain::project::connection_request;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/workspaces/{workspace_id}/assistants/{assistant_id}/projects",
            get(list_connections).post(connect),
        )
        .route(
            "/api/workspaces/{workspace_id}/assistants/{assistant_id}/projects/{project_id}",
            delete(disconnect),
        )
}

/// Owners and admins connect; anyone else gets what a read would give them.
async fn manager_of_assistant(
    state: &AppState,
    caller: &Caller,
    workspace_id: &str,
    assistant_id: &str,
) -> Result<(WorkspaceId, AssistantId), ApiError> {
    let (workspace, actor) = state.member_of(workspace_id, caller).await?;
    if !actor.can_manage_assistants() {
        visible_assistant(state, &workspace.id, assistant_id, &actor).await?;
        return Err(ApiError::Forbidden(
            "only owners and admins can connect projects to assistants",
        ));
    }
    Ok((workspace.id, parse_assistant_id(assistant_id)?))
}

async fn list_connections(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    let assistant = visible_assistant(&state, &workspace.id, &assistant_id, &actor).await?;
    let connections = state
        .store
        .list_connections(&workspace.id, &assistant.id)
        .await?;
    let data: Vec<ConnectionView> = connections.into_iter().map(ConnectionView::from).collect();
    Ok(Json(json!({ "data": data })).into_response())
}

async fn connect(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (workspace_id, assistant) =
        manager_of_assistant(&state, &caller, &workspace_id, &assistant_id).await?;
    let project_id = connection_request(body).map_err(ApiError::invalid)?;
    let connected_at = state
        .store
        .connect(&workspace_id, &assistant, &project_id)
        .await?;
    let project = state
        .store
        .get_project_for(&workspace_id, &project_id, &caller.user_id)
        .await?
        .ok_or(ApiError::NotFound("project"))?
        .project;
    let view = ConnectionView::from(Connection {
        project,
        connected_at,
    });
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id, project_id)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (workspace_id, assistant) =
        manager_of_assistant(&state, &caller, &workspace_id, &assistant_id).await?;
    let project = ProjectId::parse(&project_id).ok_or(ApiError::NotFound("connection"))?;
    state
        .store
        .disconnect(&workspace_id, &assistant, &project)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
