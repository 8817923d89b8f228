//! `/api/workspaces[...]`: workspaces, their settings and their members.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::{ApiPath, WORKSPACE};
use super::state::WorkspacesState;
use super::views::{MemberView, WorkspaceView};
use crate::app::error::AppError;
use crate::app::guard;
use crate::domain::ids::UserId;
use crate::domain::member::{MemberChanges, Membership, NewMember};
use crate::domain::policy::Actor;
use crate::domain::role::MemberStatus;
use crate::domain::workspace::{NewWorkspace, WorkspaceChanges};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};

/// Every workspace of the caller.
pub const WORKSPACES: &str = "/api/workspaces";
pub const MEMBERS: &str = workspace_path!("/members");
pub const MEMBER: &str = workspace_path!("/members/{user_id}");

pub fn routes() -> Router<WorkspacesState> {
    Router::new()
        .route(WORKSPACES, get(list_workspaces).post(create_workspace))
        .route(
            WORKSPACE,
            get(get_workspace)
                .patch(update_workspace)
                .delete(delete_workspace),
        )
        .route(MEMBERS, get(list_members).post(add_member))
        .route(MEMBER, patch(change_member).delete(remove_member))
}

fn require_manager(actor: &Actor, what: &'static str) -> Result<(), ApiError> {
    Ok(guard::allowed(actor.can_manage_workspace(), what)?)
}

async fn list_workspaces(
    State(state): State<WorkspacesState>,
    caller: Caller,
    paging: Paging,
) -> Result<Response, ApiError> {
    let contexts: Vec<_> = state
        .edge
        .workspaces
        .list_workspaces_of(&caller.user_id)
        .await?
        .into_iter()
        .filter(|c| c.membership.status == MemberStatus::Active)
        .collect();
    let page = paging.page(contexts);
    let data: Vec<WorkspaceView> = page
        .data
        .iter()
        .map(|c| WorkspaceView::new(&c.workspace, c.membership.role))
        .collect();
    Ok(Json(Page {
        data,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
    .into_response())
}

async fn create_workspace(
    State(state): State<WorkspacesState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewWorkspace::from_json(body).map_err(ApiError::invalid)?;
    let user = state
        .edge
        .workspaces
        .get_user(&caller.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let workspace = state.edge.workspaces.create_workspace(new, &user).await?;
    tracing::info!(workspace_id = %workspace.id, "workspace created");
    let view = WorkspaceView::new(&workspace, crate::domain::role::Role::Owner);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn get_workspace(Member { workspace, actor }: Member) -> Result<Response, ApiError> {
    Ok(Json(WorkspaceView::new(&workspace, actor.role)).into_response())
}

async fn update_workspace(
    State(state): State<WorkspacesState>,
    Member { workspace, actor }: Member,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_manager(
        &actor,
        "only owners and admins can change workspace settings",
    )?;
    let changes = WorkspaceChanges::from_json(body).map_err(ApiError::invalid)?;
    let models = changes
        .models_after(&workspace.models)
        .map_err(ApiError::invalid)?;
    let updated = state
        .edge
        .workspaces
        .update_workspace(&workspace, changes, models)
        .await?;
    Ok(Json(WorkspaceView::new(&updated, actor.role)).into_response())
}

/// Deletes a workspace nothing hangs off any more. Refused (409, naming
/// what is left) while it has assistants, projects or webhooks: each of
/// those is deleted through its own route, whose cascade reaches the
/// vectors, files, numbers and deliveries this one could not.
async fn delete_workspace(
    State(state): State<WorkspacesState>,
    Member { workspace, actor }: Member,
) -> Result<StatusCode, ApiError> {
    guard::allowed(
        actor.can_delete_workspace(),
        "only owners can delete a workspace",
    )?;
    let deletion = state
        .edge
        .workspaces
        .delete_workspace(&workspace.id)
        .await?;
    if let Some(refusal) = deletion.refusal() {
        return Err(AppError::Conflict(refusal).into());
    }
    tracing::info!(workspace_id = %workspace.id, "workspace deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn list_members(
    State(state): State<WorkspacesState>,
    Member { workspace, actor }: Member,
    paging: Paging,
) -> Result<Json<Page<MemberView>>, ApiError> {
    let members = state.edge.workspaces.list_members(&workspace.id).await?;
    let views = members
        .into_iter()
        .map(|m| MemberView::for_reader(m, actor.role))
        .collect();
    Ok(Json(paging.page(views)))
}

async fn add_member(
    State(state): State<WorkspacesState>,
    Member { workspace, actor }: Member,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_manager(&actor, "only owners and admins can add members")?;
    let new = NewMember::from_json(body).map_err(ApiError::invalid)?;
    if !actor.can_add_member_as(new.role) {
        return Err(AppError::Forbidden("only owners can make someone an owner").into());
    }
    // Someone not yet known is created on the spot (an invitation by email).
    let (user, is_new) = match state.edge.workspaces.find_user_by_email(&new.email).await? {
        Some(user) => (user, false),
        None => (
            crate::domain::member::User {
                id: UserId::generate(),
                name: new.email.local_part().to_owned(),
                email: new.email.clone(),
                created_at: crate::domain::time::Timestamp::now(),
            },
            true,
        ),
    };
    let membership = state
        .edge
        .workspaces
        .add_member(&workspace.id, &user, is_new, new.role)
        .await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(membership))).into_response())
}

/// The member named in the path, which must exist in this workspace.
async fn target_member(
    state: &WorkspacesState,
    workspace: &crate::domain::workspace::Workspace,
    user_id: &str,
) -> Result<Membership, ApiError> {
    let user = UserId::parse(user_id).ok_or(AppError::NotFound("member"))?;
    state
        .edge
        .workspaces
        .get_member(&workspace.id, &user)
        .await?
        .ok_or(AppError::NotFound("member").into())
}

async fn change_member(
    State(state): State<WorkspacesState>,
    Member { workspace, actor }: Member,
    ApiPath((_, user_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_manager(&actor, "only owners and admins can change members")?;
    let changes = MemberChanges::from_json(body).map_err(ApiError::invalid)?;
    let target = target_member(&state, &workspace, &user_id).await?;
    if !actor.can_change_member(&target, changes.role) {
        return Err(AppError::Forbidden(
            "only owners can change an owner or make someone an owner",
        )
        .into());
    }
    let updated = state
        .edge
        .workspaces
        .change_member(&target, changes)
        .await?;
    Ok(Json(MemberView::from(updated)).into_response())
}

async fn remove_member(
    State(state): State<WorkspacesState>,
    Member { workspace, actor }: Member,
    ApiPath((_, user_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_manager(&actor, "only owners and admins can remove members")?;
    let target = target_member(&state, &workspace, &user_id).await?;
    if !actor.can_change_member(&target, None) {
        return Err(AppError::Forbidden("only owners can remove an owner").into());
    }
    state.edge.workspaces.remove_member(&target).await?;
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
            WORKSPACES,
            "listWorkspaces",
            "The caller's workspaces, each with the caller's role",
        )
        .signed_in()
        .paged()
        .ok_page::<WorkspaceView>(),
        Op::new(
            Post,
            WORKSPACES,
            "createWorkspace",
            "Create a workspace; the caller becomes its owner",
        )
        .signed_in()
        .json(bodies::new_workspace())
        .created::<WorkspaceView>()
        .link("getWorkspace", &[("workspace_id", "$response.body#/id")])
        .errors(&[409]),
        Op::new(
            Get,
            WORKSPACE,
            "getWorkspace",
            "A workspace, with the caller's role",
        )
        .member()
        .ok::<WorkspaceView>(),
        Op::new(
            Patch,
            WORKSPACE,
            "updateWorkspace",
            "Rename a workspace or change its models (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::workspace_changes())
        .ok::<WorkspaceView>()
        .errors(&[409]),
        Op::new(
            Delete,
            WORKSPACE,
            "deleteWorkspace",
            "Delete a workspace with its members, usage history and budgets (owners; refused with 409 while it has assistants, projects or webhooks)",
        )
        .member()
        .managed()
        .no_content()
        .errors(&[409]),
        Op::new(
            Get,
            MEMBERS,
            "listMembers",
            "The workspace's members (guests see no emails)",
        )
        .member()
        .paged()
        .ok_page::<MemberView>(),
        Op::new(
            Post,
            MEMBERS,
            "addMember",
            "Add someone by email (owners and admins; only owners make owners)",
        )
        .member()
        .managed()
        .json(bodies::new_member())
        .created::<MemberView>()
        .errors(&[409]),
        Op::new(
            Patch,
            MEMBER,
            "changeMember",
            "Change a member's role or status (owners and admins; only owners touch owners, and the last active owner stays)",
        )
        .member()
        .managed()
        .json(bodies::member_changes())
        .ok::<MemberView>()
        .errors(&[409]),
        Op::new(
            Delete,
            MEMBER,
            "removeMember",
            "Remove a member and their access grants (owners and admins; only owners touch owners, and the last active owner stays)",
        )
        .member()
        .managed()
        .no_content()
        .errors(&[409]),
    ]
}
