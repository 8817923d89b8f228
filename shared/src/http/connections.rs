//! `/api/workspaces/{ws}/assistants/{id}/projects[...]`: which projects an
//! assistant draws on (the seed's "Project Connections").

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::ProjectsState;
use super::views::ConnectionView;
use crate::app::error::AppError;
use crate::app::guard;
use crate::domain::ids::ProjectId;
use crate::domain::project::{Connection, connection_request};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::json;

pub const CONNECTIONS: &str = workspace_path!("/assistants/{assistant_id}/projects");
pub const CONNECTION: &str = workspace_path!("/assistants/{assistant_id}/projects/{project_id}");

pub fn routes() -> Router<ProjectsState> {
    Router::new()
        .route(CONNECTIONS, get(list_connections).post(connect))
        .route(CONNECTION, delete(disconnect))
}

const MANAGE_ONLY: &str = "only owners and admins can connect projects to assistants";

async fn list_connections(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let assistant = guard::visible_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
    )
    .await?;
    let (connections, readable) = tokio::try_join!(
        async {
            Ok::<_, AppError>(
                state
                    .connections
                    .list_connections(&workspace.id, &assistant.id)
                    .await?,
            )
        },
        guard::readable_projects(state.projects.as_ref(), &workspace.id, &actor),
    )?;
    // A project the caller may not read is not shown, not even its name.
    let data: Vec<ConnectionView> = connections
        .into_iter()
        .filter(|c| readable.includes(&c.project.id))
        .map(ConnectionView::from)
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

async fn connect(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let assistant = guard::managed_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
        MANAGE_ONLY,
    )
    .await?;
    let project_id = connection_request(body).map_err(ApiError::invalid)?;
    let connected_at = state
        .connections
        .connect(&workspace.id, &assistant, &project_id)
        .await?;
    let project = state
        .projects
        .get_project_for(&workspace.id, &project_id, &actor.user_id)
        .await?
        .ok_or(AppError::NotFound("project"))?
        .item;
    let view = ConnectionView::from(Connection {
        project,
        connected_at,
    });
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn disconnect(
    State(state): State<ProjectsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id, project_id)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let assistant = guard::managed_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
        MANAGE_ONLY,
    )
    .await?;
    let project = ProjectId::parse(&project_id).ok_or(AppError::NotFound("connection"))?;
    state
        .connections
        .disconnect(&workspace.id, &assistant, &project)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Post};

    vec![
        Op::new(
            Get,
            CONNECTIONS,
            "listConnections",
            "The projects connected to an assistant that the caller can read",
        )
        .member()
        .ok_list::<ConnectionView>(),
        Op::new(
            Post,
            CONNECTIONS,
            "connectProject",
            "Connect a project to an assistant (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::connection())
        .created::<ConnectionView>()
        .errors(&[409]),
        Op::new(
            Delete,
            CONNECTION,
            "disconnectProject",
            "Disconnect a project from an assistant",
        )
        .member()
        .managed()
        .no_content(),
    ]
}
