//! `/api/api-keys[...]`: the caller's own API keys.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::WorkspacesState;
use super::views::{ApiKeyView, NewApiKeyView};
use crate::app::error::AppError;
use crate::domain::api_key::NAME_MAX;
use crate::domain::fields::{FieldReader, display_name};
use crate::domain::ids::ApiKeyId;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};

pub const KEYS: &str = "/api/api-keys";
pub const KEY: &str = "/api/api-keys/{key_id}";

pub fn routes() -> Router<WorkspacesState> {
    Router::new()
        .route(KEYS, get(list_keys).post(create_key))
        .route(KEY, delete(revoke_key))
}

async fn list_keys(
    State(state): State<WorkspacesState>,
    caller: Caller,
    paging: Paging,
) -> Result<Json<Page<ApiKeyView>>, ApiError> {
    let keys = state.keys.list_api_keys(&caller.user_id).await?;
    Ok(Json(
        paging.page(keys.into_iter().map(ApiKeyView::from).collect()),
    ))
}

async fn create_key(
    State(state): State<WorkspacesState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut reader =
        FieldReader::new(body, &["id", "prefix", "createdAt", "key"]).map_err(ApiError::invalid)?;
    let name = reader.required("name", |v| display_name(v, 1, NAME_MAX));
    reader.finish().map_err(ApiError::invalid)?;
    let (key, secret) = state
        .keys
        .create_api_key(&caller.user_id, name.unwrap_or_default())
        .await?;
    let view = NewApiKeyView {
        key: ApiKeyView::from(key),
        secret: secret.reveal_once(),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn revoke_key(
    State(state): State<WorkspacesState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = ApiKeyId::parse(&key_id).ok_or(AppError::NotFound("API key"))?;
    let hash = state.keys.revoke_api_key(&caller.user_id, &id).await?;
    state.edge.auth.forget(&hash);
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
            KEYS,
            "listApiKeys",
            "The caller's API keys (never the secrets)",
        )
        .signed_in()
        .paged()
        .ok_page::<ApiKeyView>(),
        Op::new(
            Post,
            KEYS,
            "createApiKey",
            "Create an API key; the answer is the only time it is shown",
        )
        .signed_in()
        .json(bodies::new_api_key())
        .created::<NewApiKeyView>(),
        Op::new(
            Delete,
            KEY,
            "revokeApiKey",
            "Revoke one of the caller's keys",
        )
        .signed_in()
        .no_content()
        .errors(&[404]),
    ]
}
