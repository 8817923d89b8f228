//! The caller as an active member of the workspace a route names: the first
//! step of every workspace route, in one read.

use super::error::ApiError;
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::member::WorkspaceContext;
use crate::domain::policy::Actor;
use crate::domain::role::MemberStatus;
use crate::domain::workspace::Workspace;
use crate::ports::WorkspaceStore;

/// Anyone but an active member, suspended members included, gets a 404: a
/// workspace's existence is not revealed to outsiders.
pub async fn member_of(
    workspaces: &dyn WorkspaceStore,
    workspace_id: &str,
    user: &UserId,
) -> Result<(Workspace, Actor), ApiError> {
    let not_found = ApiError::NotFound("workspace");
    let id = WorkspaceId::parse(workspace_id).ok_or(not_found)?;
    match workspaces.workspace_context(&id, user).await? {
        Some(WorkspaceContext {
            workspace,
            membership,
        }) if membership.status == MemberStatus::Active => Ok((
            workspace,
            Actor {
                user_id: membership.user_id,
                role: membership.role,
            },
        )),
        _ => Err(ApiError::NotFound("workspace")),
    }
}
