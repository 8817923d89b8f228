//! Path parameters whose rejection (say, a percent-encoded byte that is not
//! UTF-8) is our JSON 404 rather than axum's plain-text 400: a path that
//! cannot be decoded names nothing.

use super::error::ApiError;
use crate::app::error::AppError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// One workspace: every path under it begins so.
pub const WORKSPACE: &str = workspace_path!("");

pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|_| AppError::NotFound("route").into())
    }
}
