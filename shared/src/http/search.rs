//! `POST /api/workspaces/{ws}/assistants/{id}/search`: what the assistant
//! would read for a question, so a person can check its knowledge.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::SearchState;
use crate::app::guard;
use crate::app::retrieval::stored_passages;
use crate::domain::fields::{FieldReader, trimmed_text, whole_number};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub const SEARCH: &str = workspace_path!("/assistants/{assistant_id}/search");

pub const QUERY_MAX: usize = 2_000;
pub const DEFAULT_TOP_K: usize = 5;
pub const MAX_TOP_K: usize = 50;

pub fn routes() -> Router<SearchState> {
    Router::new().route(SEARCH, post(search))
}

async fn search(
    State(state): State<SearchState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let assistant = guard::visible_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
    )
    .await?;
    let mut reader = FieldReader::new(body, &[]).map_err(ApiError::invalid)?;
    let query = reader.required("query", |v| trimmed_text(v, 1, QUERY_MAX));
    let top_k = reader.optional("topK", |v| match whole_number(&v) {
        Some(n) if (1..=MAX_TOP_K as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!("must be an integer between 1 and {MAX_TOP_K}")),
    });
    reader.finish().map_err(ApiError::invalid)?;
    let (connected, readable) = tokio::try_join!(
        async {
            Ok::<_, ApiError>(
                state
                    .connections
                    .connected_project_ids(&workspace.id, &assistant.id)
                    .await?,
            )
        },
        guard::readable_projects(state.projects.as_ref(), &workspace.id, &actor),
    )?;
    // The raw passages: only of projects the caller may read.
    let projects: Vec<_> = connected
        .into_iter()
        .filter(|p| readable.includes(p))
        .collect();
    let passages = stored_passages(
        state.search.as_ref(),
        state.documents.as_ref(),
        &workspace.id,
        &projects,
        &query.unwrap_or_default(),
        top_k.unwrap_or(DEFAULT_TOP_K),
    )
    .await?;
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
