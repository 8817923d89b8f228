//! Bearer-key authentication into a [`Caller`] (the cache lives in
//! `app::authentication`).

use super::error::ApiError;
use super::state::Edge;
use crate::app::error::AppError;
use crate::domain::api_key::ApiKeySecret;
use crate::domain::ids::{ApiKeyId, UserId};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The authenticated user behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub key_id: ApiKeyId,
}

/// The key from `Authorization: Bearer <key>`; the scheme is case-insensitive.
fn bearer_key(parts: &Parts) -> Option<ApiKeySecret> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    ApiKeySecret::parse(key.trim())
}

impl<S> FromRequestParts<S> for Caller
where
    Edge: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let key = bearer_key(parts).ok_or(AppError::Unauthorized)?;
        let owner = Edge::from_ref(state).auth.authenticate(&key).await?;
        tracing::Span::current().record("user_id", owner.user_id.as_str());
        Ok(Caller {
            user_id: owner.user_id,
            key_id: owner.key_id,
        })
    }
}
