//! The workspace-member extractor: the caller, and the workspace the path
//! names with the caller's role in it, for every `/api/workspaces/{ws}/...`
//! route.

use super::auth::Caller;
use super::error::ApiError;
use super::state::Edge;
use crate::app::error::AppError;
use crate::app::members::member_of;
use crate::domain::policy::Actor;
use crate::domain::workspace::Workspace;
use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;

/// An active member of the workspace in the path, acting.
pub struct Member {
    pub workspace: Workspace,
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for Member
where
    Edge: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        // A path that cannot be decoded names nothing: the JSON 404.
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound("route"))?;
        let workspace_id = params
            .iter()
            .find(|(name, _)| *name == "workspace_id")
            .map(|(_, value)| value.to_owned())
            .ok_or(AppError::NotFound("route"))?;
        let edge = Edge::from_ref(state);
        let (workspace, actor) =
            member_of(edge.workspaces.as_ref(), &workspace_id, &caller.user_id).await?;
        Ok(Self { workspace, actor })
    }
}
