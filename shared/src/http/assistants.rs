//! `/api/workspaces/{ws}/assistants[...]`: the Assistants API of the seed,
//! and access grants on private assistants.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::AppState;
use super::views::{AssistantSummaryView, AssistantView};
use crate::adapters::dynamo::AssistantWithGrant;
use crate::cleanup::CleanupJob;
use crate::domain::assistant::{Assistant, AssistantChanges};
use crate::domain::ids::{AssistantId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::workspace::Workspace;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    super::access::assistant_routes()
        .route(
            "/api/workspaces/{workspace_id}/assistants",
            get(list_assistants).post(create_assistant),
        )
        .route(
            "/api/workspaces/{workspace_id}/assistants/{assistant_id}",
            get(get_assistant)
                .patch(update_assistant)
                .delete(delete_assistant),
        )
}

const MANAGE_ONLY: &str = "only owners and admins can change assistants";

fn require_manager(actor: &Actor) -> Result<(), ApiError> {
    if actor.can_manage_assistants() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(MANAGE_ONLY))
    }
}

pub(super) fn parse_assistant_id(raw: &str) -> Result<AssistantId, ApiError> {
    AssistantId::parse(raw).ok_or(ApiError::NotFound("assistant"))
}

async fn list_assistants(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    ApiPath(workspace_id): ApiPath<String>,
) -> Result<Json<Page<AssistantSummaryView>>, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    let mut visible: Vec<Assistant> = state
        .store
        .list_assistants_for(&workspace.id, &actor.user_id)
        .await?
        .into_iter()
        .filter(|a| actor.can_view_assistant(&a.assistant, a.granted))
        .map(|a| a.assistant)
        .collect();
    visible.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let page = paging.page(visible);
    Ok(Json(Page {
        data: page
            .data
            .into_iter()
            .map(AssistantSummaryView::from)
            .collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

async fn create_assistant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(workspace_id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    require_manager(&actor)?;
    let config = AssistantChanges::from_json(body, &workspace.models, true)
        .map_err(ApiError::invalid)?
        .into_new_config(&workspace.models);
    let assistant = state
        .store
        .create_assistant(&workspace.id, config, &actor.user_id)
        .await?;
    tracing::info!(assistant_id = %assistant.id, "assistant created");
    Ok((StatusCode::CREATED, Json(AssistantView::from(&assistant))).into_response())
}

/// The assistant if the actor may see it; otherwise (or when missing) 404.
pub(super) async fn visible_assistant(
    state: &AppState,
    workspace_id: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
) -> Result<Assistant, ApiError> {
    let id = parse_assistant_id(raw_id)?;
    match state
        .store
        .get_assistant_for(workspace_id, &id, &actor.user_id)
        .await?
    {
        Some(AssistantWithGrant { assistant, granted })
            if actor.can_view_assistant(&assistant, granted) =>
        {
            Ok(assistant)
        }
        _ => Err(ApiError::NotFound("assistant")),
    }
}

/// For managing routes: owners and admins pass; anyone else learns only what
/// a read would tell them (404 if they cannot see the assistant, else 403
/// with `refusal`).
pub(super) async fn manager_of_assistant(
    state: &AppState,
    caller: &Caller,
    workspace_id: &str,
    assistant_id: &str,
    refusal: &'static str,
) -> Result<(Workspace, AssistantId), ApiError> {
    let (workspace, actor) = state.member_of(workspace_id, caller).await?;
    if !actor.can_manage_assistants() {
        visible_assistant(state, &workspace.id, assistant_id, &actor).await?;
        return Err(ApiError::Forbidden(refusal));
    }
    let id = parse_assistant_id(assistant_id)?;
    Ok((workspace, id))
}

async fn get_assistant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    let assistant = visible_assistant(&state, &workspace.id, &assistant_id, &actor).await?;
    Ok(Json(AssistantView::from(&assistant)).into_response())
}

async fn update_assistant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (workspace, id) =
        manager_of_assistant(&state, &caller, &workspace_id, &assistant_id, MANAGE_ONLY).await?;
    let changes =
        AssistantChanges::from_json(body, &workspace.models, false).map_err(ApiError::invalid)?;
    let assistant = state
        .store
        .update_assistant(&workspace.id, &id, &changes)
        .await?;
    Ok(Json(AssistantView::from(&assistant)).into_response())
}

async fn delete_assistant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (workspace, id) =
        manager_of_assistant(&state, &caller, &workspace_id, &assistant_id, MANAGE_ONLY).await?;
    state.store.delete_assistant(&workspace.id, &id).await?;
    let job = CleanupJob::AssistantDeleted {
        workspace_id: workspace.id,
        assistant_id: id,
    };
    // The assistant is already gone for everyone; what hangs off it is
    // unreachable without it. A failed enqueue leaves only invisible leftovers,
    // so the delete still succeeds, and the failure is logged to sweep.
    if let Err(error) = state.cleanup.enqueue(&job).await {
        tracing::error!(job = %job.to_message(), error = %error, "cleanup job not queued");
    }
    Ok(StatusCode::NO_CONTENT)
}
