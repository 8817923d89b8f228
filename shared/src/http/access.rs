//! `.../assistants/{id}/access[/{userId}]` and `.../projects/{id}/access[/{userId}]`:
//! explicit grants on private assistants and projects. Both kinds behave the
//! same; only who may see the target (for the 404-or-403 answer) differs.

use super::assistants::manager_of_assistant;
use super::auth::Caller;
use super::error::ApiError;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::projects::manager_of_project;
use super::state::AppState;
use super::views::AccessGrantView;
use crate::adapters::dynamo::AccessTarget;
use crate::domain::ids::{UserId, WorkspaceId};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};

#[derive(Clone, Copy)]
enum Kind {
    Assistant,
    Project,
}

type GrantPath = ApiPath<(String, String, String)>;

pub fn assistant_routes() -> Router<AppState> {
    routes(Kind::Assistant, "assistants/{assistant_id}")
}

pub fn project_routes() -> Router<AppState> {
    routes(Kind::Project, "projects/{project_id}")
}

fn routes(kind: Kind, target: &str) -> Router<AppState> {
    let list = move |State(state): State<AppState>,
                     caller: Caller,
                     paging: Paging,
                     ApiPath((ws, id)): ApiPath<(String, String)>| async move {
        list_access(&state, &caller, paging, kind, &ws, &id).await
    };
    let grant = move |State(state): State<AppState>,
                      caller: Caller,
                      ApiPath((ws, id, user)): GrantPath| async move {
        grant_access(&state, &caller, kind, &ws, &id, &user).await
    };
    let revoke = move |State(state): State<AppState>,
                       caller: Caller,
                       ApiPath((ws, id, user)): GrantPath| async move {
        revoke_access(&state, &caller, kind, &ws, &id, &user).await
    };
    Router::new()
        .route(
            &format!("/api/workspaces/{{workspace_id}}/{target}/access"),
            get(list),
        )
        .route(
            &format!("/api/workspaces/{{workspace_id}}/{target}/access/{{user_id}}"),
            put(grant).delete(revoke),
        )
}

/// Grants are managed by owners and admins; anyone else learns only what a
/// read would tell them (404 if they cannot see the target, else 403).
async fn manager_of(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    workspace_id: &str,
    target_id: &str,
) -> Result<(WorkspaceId, AccessTarget), ApiError> {
    Ok(match kind {
        Kind::Assistant => {
            let refusal = "only owners and admins can manage access to assistants";
            let (workspace, id) =
                manager_of_assistant(state, caller, workspace_id, target_id, refusal).await?;
            (workspace.id, AccessTarget::Assistant(id))
        }
        Kind::Project => {
            let refusal = "only owners and admins can manage access to projects";
            let (workspace_id, id) =
                manager_of_project(state, caller, workspace_id, target_id, refusal).await?;
            (workspace_id, AccessTarget::Project(id))
        }
    })
}

fn view(target: &AccessTarget, grant: crate::adapters::dynamo::AccessGrant) -> AccessGrantView {
    match target {
        AccessTarget::Assistant(id) => AccessGrantView::new(id.clone(), grant),
        AccessTarget::Project(id) => AccessGrantView::on_project(id.clone(), grant),
    }
}

fn missing(target: &AccessTarget) -> ApiError {
    match target {
        AccessTarget::Assistant(_) => ApiError::NotFound("assistant"),
        AccessTarget::Project(_) => ApiError::NotFound("project"),
    }
}

async fn list_access(
    state: &AppState,
    caller: &Caller,
    paging: Paging,
    kind: Kind,
    workspace_id: &str,
    target_id: &str,
) -> Result<Json<Page<AccessGrantView>>, ApiError> {
    let (workspace_id, target) = manager_of(state, caller, kind, workspace_id, target_id).await?;
    let (exists, grants) = tokio::try_join!(
        state.store.target_exists(&workspace_id, &target),
        state.store.list_grants(&workspace_id, &target),
    )?;
    if !exists {
        return Err(missing(&target));
    }
    let views = grants.into_iter().map(|g| view(&target, g)).collect();
    Ok(Json(paging.page(views)))
}

async fn grant_access(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    workspace_id: &str,
    target_id: &str,
    user_id: &str,
) -> Result<Json<AccessGrantView>, ApiError> {
    let (workspace_id, target) = manager_of(state, caller, kind, workspace_id, target_id).await?;
    let user = UserId::parse(user_id).ok_or(ApiError::NotFound("member"))?;
    let grant = state
        .store
        .grant_access(&workspace_id, &target, &user)
        .await?;
    Ok(Json(view(&target, grant)))
}

async fn revoke_access(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    workspace_id: &str,
    target_id: &str,
    user_id: &str,
) -> Result<StatusCode, ApiError> {
    let (workspace_id, target) = manager_of(state, caller, kind, workspace_id, target_id).await?;
    let user = UserId::parse(user_id).ok_or(ApiError::NotFound("access grant"))?;
    state
        .store
        .revoke_access(&workspace_id, &target, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
