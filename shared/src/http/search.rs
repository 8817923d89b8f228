//! `POST /api/workspaces/{ws}/assistants/{id}/search`: what the assistant
//! would read for a question, so a person can check its knowledge.

use super::assistants::visible_assistant;
use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::path::ApiPath;
use super::state::AppState;
use crate::domain::fields::{FieldReader, trimmed_text};
use crate::rag::{DEFAULT_TOP_K, MAX_TOP_K, Retriever};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde_json::json;
use std::sync::Arc;

const QUERY_MAX: usize = 2_000;

pub fn routes(retriever: Arc<Retriever>) -> Router<AppState> {
    Router::new()
        .route(
            "/api/workspaces/{workspace_id}/assistants/{assistant_id}/search",
            post(search),
        )
        .layer(Extension(retriever))
}

async fn search(
    State(state): State<AppState>,
    Extension(retriever): Extension<Arc<Retriever>>,
    caller: Caller,
    ApiPath((workspace_id, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (workspace, actor) = state.member_of(&workspace_id, &caller).await?;
    let assistant = visible_assistant(&state, &workspace.id, &assistant_id, &actor).await?;
    let mut reader = FieldReader::new(body, &[]).map_err(ApiError::invalid)?;
    let query = reader.required("query", |v| trimmed_text(v, 1, QUERY_MAX));
    let top_k = reader.optional("topK", |v| match v.as_u64() {
        Some(n) if (1..=MAX_TOP_K as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!("must be an integer between 1 and {MAX_TOP_K}")),
    });
    reader.finish().map_err(ApiError::invalid)?;
    let projects = state
        .store
        .connected_project_ids(&workspace.id, &assistant.id)
        .await?;
    let passages = retriever
        .search(
            &projects,
            &query.unwrap_or_default(),
            top_k.unwrap_or(DEFAULT_TOP_K),
        )
        .await
        .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
    Ok(Json(json!({ "data": passages })).into_response())
}
