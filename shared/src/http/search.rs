//! `POST /api/workspaces/{ws}/assistants/{id}/search`: what the assistant
//! would read for a question, so a person can check its knowledge.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::SearchState;
use crate::app::retrieval::{SearchPorts, search_as};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub const SEARCH: &str = workspace_path!("/assistants/{assistant_id}/search");

pub fn routes() -> Router<SearchState> {
    Router::new().route(SEARCH, post(search))
}

async fn search(
    State(state): State<SearchState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let ports = SearchPorts {
        assistants: state.assistants.as_ref(),
        projects: state.projects.as_ref(),
        connections: state.connections.as_ref(),
        documents: state.documents.as_ref(),
        search: state.search.as_ref(),
    };
    let passages = search_as(ports, &workspace.id, &actor, &assistant_id, body).await?;
    Ok(Json(json!({ "data": passages })).into_response())
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use crate::domain::passage::Passage;
    use utoipa::openapi::HttpMethod::Post;

    vec![
        Op::new(
            Post,
            SEARCH,
            "search",
            "Search the connected projects the caller can read",
        )
        .member()
        .json(bodies::search())
        .ok_list::<Passage>()
        .errors(&[502]),
    ]
}
