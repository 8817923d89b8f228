//! `/api/workspaces/{ws}/assistants[...]`: the Assistants API of the seed.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::{AssistantsState, Edge};
use super::views::{AssistantSummaryView, AssistantView};
use crate::app::guard;
use crate::domain::assistant::AssistantChanges;
use crate::jobs::{CleanupJob, Job};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub const ASSISTANTS: &str = workspace_path!("/assistants");
pub const ASSISTANT: &str = workspace_path!("/assistants/{assistant_id}");

pub fn routes() -> Router<AssistantsState> {
    Router::new()
        .route(ASSISTANTS, get(list_assistants).post(create_assistant))
        .route(
            ASSISTANT,
            get(get_assistant)
                .patch(update_assistant)
                .delete(delete_assistant),
        )
}

const MANAGE_ONLY: &str = "only owners and admins can change assistants";

/// The membership, then one page of what the caller may see: what it
/// reads grows with the page, not with the workspace.
async fn list_assistants(
    State(state): State<AssistantsState>,
    Member { workspace, actor }: Member,
    paging: Paging,
) -> Result<Json<Page<AssistantSummaryView>>, ApiError> {
    let (page, total) = state
        .assistants
        .list_assistants_page(&workspace.id, &actor, paging.offset, paging.limit)
        .await?;
    Ok(Json(Page {
        data: page.into_iter().map(AssistantSummaryView::from).collect(),
        total,
        limit: paging.limit,
        offset: paging.offset,
    }))
}

async fn create_assistant(
    State(state): State<AssistantsState>,
    Member { workspace, actor }: Member,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    guard::allowed(actor.can_manage_assistants(), MANAGE_ONLY)?;
    let config = AssistantChanges::from_json(body, &workspace.models, true)
        .map_err(ApiError::invalid)?
        .into_new_config(&workspace.models);
    let assistant = state
        .assistants
        .create_assistant(&workspace.id, config, &actor.user_id)
        .await?;
    tracing::info!(assistant_id = %assistant.id, "assistant created");
    Ok((StatusCode::CREATED, Json(AssistantView::from(&assistant))).into_response())
}

/// The membership and the assistant in one read: the warm path is one
/// round trip.
async fn get_assistant(
    State(state): State<AssistantsState>,
    State(edge): State<Edge>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, _, assistant) = guard::member_seeing_assistant(
        edge.workspaces.as_ref(),
        state.assistants.as_ref(),
        (&workspace_id, &assistant_id),
        &caller.user_id,
    )
    .await?;
    Ok(Json(AssistantView::from(&assistant)).into_response())
}

async fn update_assistant(
    State(state): State<AssistantsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = guard::managed_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
        MANAGE_ONLY,
    )
    .await?;
    let changes =
        AssistantChanges::from_json(body, &workspace.models, false).map_err(ApiError::invalid)?;
    let assistant = state
        .assistants
        .update_assistant(&workspace.id, &id, &changes)
        .await?;
    Ok(Json(AssistantView::from(&assistant)).into_response())
}

async fn delete_assistant(
    State(state): State<AssistantsState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = guard::managed_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
        MANAGE_ONLY,
    )
    .await?;
    state
        .assistants
        .delete_assistant(&workspace.id, &id)
        .await?;
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

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Patch, Post};

    vec![
        Op::new(
            Get,
            ASSISTANTS,
            "listAssistants",
            "The assistants the caller can see, newest first",
        )
        .member()
        .paged()
        .ok_page::<AssistantSummaryView>(),
        Op::new(
            Post,
            ASSISTANTS,
            "createAssistant",
            "Create an assistant (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::new_assistant())
        .created::<AssistantView>()
        .link(
            "getAssistant",
            &[
                ("workspace_id", "$request.path.workspace_id"),
                ("assistant_id", "$response.body#/id"),
            ],
        )
        .link(
            "updateAssistant",
            &[
                ("workspace_id", "$request.path.workspace_id"),
                ("assistant_id", "$response.body#/id"),
            ],
        )
        .link(
            "deleteAssistant",
            &[
                ("workspace_id", "$request.path.workspace_id"),
                ("assistant_id", "$response.body#/id"),
            ],
        ),
        Op::new(Get, ASSISTANT, "getAssistant", "One assistant")
            .member()
            .ok::<AssistantView>(),
        Op::new(
            Patch,
            ASSISTANT,
            "updateAssistant",
            "Change an assistant (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::assistant_changes())
        .ok::<AssistantView>(),
        Op::new(
            Delete,
            ASSISTANT,
            "deleteAssistant",
            "Delete an assistant, its conversations, widget sessions and SMS configuration",
        )
        .member()
        .managed()
        .no_content(),
    ]
}
