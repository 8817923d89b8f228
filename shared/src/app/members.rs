//! The caller as an active member of the workspace a route names: the first
//! step of every workspace route, in one read.

use super::error::AppError;
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
) -> Result<(Workspace, Actor), AppError> {
    let id = workspace_id_in_path(workspace_id)?;
    active_member(workspaces.workspace_context(&id, user).await?)
}

/// The workspace a path names; one that cannot be an id names nothing.
pub fn workspace_id_in_path(raw: &str) -> Result<WorkspaceId, AppError> {
    WorkspaceId::parse(raw).ok_or(AppError::NotFound("workspace"))
}

/// The caller acting in the workspace, if they are an active member of it.
pub fn active_member(context: Option<WorkspaceContext>) -> Result<(Workspace, Actor), AppError> {
    match context {
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
        _ => Err(AppError::NotFound("workspace")),
    }
}
