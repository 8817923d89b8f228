//! `.../assistants/{id}/access[/{userId}]` and `.../projects/{id}/access[/{userId}]`:
//! explicit grants on private assistants and projects. Both kinds behave the
//! same; only who may see the target (for the 404-or-403 answer) differs,
//! and each function's state says which kind it serves.

use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::{AssistantsState, Edge, ProjectsState};
use super::views::AccessGrantView;
use crate::app::error::AppError;
use crate::app::guard;
use crate::domain::access::AccessTarget;
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::ports::GrantStore;
use async_trait::async_trait;
use axum::Json;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::{get, put};

/// A state that serves grants on one kind of target.
#[async_trait]
pub trait GrantTargets: Clone + Send + Sync + 'static {
    /// The path segment of the target, with its id parameter.
    const TARGET_PATH: &'static str;
    fn grants(&self) -> &dyn GrantStore;
    /// The target named by `raw_id`, if the actor may manage its grants
    /// (404 or 403 otherwise, as [`guard::managing`] says).
    async fn managed_target(
        &self,
        ws: &WorkspaceId,
        raw_id: &str,
        actor: &Actor,
    ) -> Result<AccessTarget, ApiError>;
}

#[async_trait]
impl GrantTargets for AssistantsState {
    const TARGET_PATH: &'static str = "assistants/{assistant_id}";

    fn grants(&self) -> &dyn GrantStore {
        self.grants.as_ref()
    }

    async fn managed_target(
        &self,
        ws: &WorkspaceId,
        raw_id: &str,
        actor: &Actor,
    ) -> Result<AccessTarget, ApiError> {
        let refusal = "only owners and admins can manage access to assistants";
        guard::managed_assistant(self.assistants.as_ref(), ws, raw_id, actor, refusal)
            .await
            .map(AccessTarget::Assistant)
            .map_err(ApiError::from)
    }
}

#[async_trait]
impl GrantTargets for ProjectsState {
    const TARGET_PATH: &'static str = "projects/{project_id}";

    fn grants(&self) -> &dyn GrantStore {
        self.grants.as_ref()
    }

    async fn managed_target(
        &self,
        ws: &WorkspaceId,
        raw_id: &str,
        actor: &Actor,
    ) -> Result<AccessTarget, ApiError> {
        let refusal = "only owners and admins can manage access to projects";
        guard::managed_project(self.projects.as_ref(), ws, raw_id, actor, refusal)
            .await
            .map(AccessTarget::Project)
            .map_err(ApiError::from)
    }
}

type GrantPath = ApiPath<(String, String, String)>;

pub fn routes<S>() -> Router<S>
where
    S: GrantTargets,
    Edge: FromRef<S>,
{
    let target = S::TARGET_PATH;
    Router::new()
        .route(&grants_path(target), get(list_access::<S>))
        .route(
            &grant_path(target),
            put(grant_access::<S>).delete(revoke_access::<S>),
        )
}

fn view(target: &AccessTarget, grant: crate::domain::access::AccessGrant) -> AccessGrantView {
    match target {
        AccessTarget::Assistant(id) => AccessGrantView::new(id.clone(), grant),
        AccessTarget::Project(id) => AccessGrantView::on_project(id.clone(), grant),
    }
}

async fn list_access<S: GrantTargets>(
    State(state): State<S>,
    Member { workspace, actor }: Member,
    paging: Paging,
    ApiPath((_, target_id)): ApiPath<(String, String)>,
) -> Result<Json<Page<AccessGrantView>>, ApiError> {
    let target = state
        .managed_target(&workspace.id, &target_id, &actor)
        .await?;
    let grants = state.grants();
    let (exists, found) = tokio::try_join!(
        grants.target_exists(&workspace.id, &target),
        grants.list_grants(&workspace.id, &target),
    )?;
    if !exists {
        return Err(AppError::NotFound(target.noun()).into());
    }
    let views = found.into_iter().map(|g| view(&target, g)).collect();
    Ok(Json(paging.page(views)))
}

async fn grant_access<S: GrantTargets>(
    State(state): State<S>,
    Member { workspace, actor }: Member,
    ApiPath((_, target_id, user_id)): GrantPath,
) -> Result<Json<AccessGrantView>, ApiError> {
    let target = state
        .managed_target(&workspace.id, &target_id, &actor)
        .await?;
    let user = UserId::parse(&user_id).ok_or(AppError::NotFound("member"))?;
    let grant = state
        .grants()
        .grant_access(&workspace.id, &target, &user)
        .await?;
    Ok(Json(view(&target, grant)))
}

async fn revoke_access<S: GrantTargets>(
    State(state): State<S>,
    Member { workspace, actor }: Member,
    ApiPath((_, target_id, user_id)): GrantPath,
) -> Result<StatusCode, ApiError> {
    let target = state
        .managed_target(&workspace.id, &target_id, &actor)
        .await?;
    let user = UserId::parse(&user_id).ok_or(AppError::NotFound("access grant"))?;
    state
        .grants()
        .revoke_access(&workspace.id, &target, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who was granted a target of the kind `target` names (its
/// [`GrantTargets::TARGET_PATH`]).
fn grants_path(target: &str) -> String {
    format!("{}/{target}/access", super::path::WORKSPACE)
}

/// One member's grant on such a target.
fn grant_path(target: &str) -> String {
    format!("{}/{target}/access/{{user_id}}", super::path::WORKSPACE)
}

/// The grants' operations on one kind of target (`noun`), as the OpenAPI
/// document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations(target: &str, noun: &str) -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use utoipa::openapi::HttpMethod::{Delete, Get, Put};

    let title = if noun == "assistant" {
        "Assistant"
    } else {
        "Project"
    };
    vec![
        Op::new(
            Get,
            &grants_path(target),
            &format!("list{title}Access"),
            &format!("Who was granted a private {noun} (owners and admins)"),
        )
        .member()
        .managed()
        .paged()
        .ok_page::<AccessGrantView>(),
        Op::new(
            Put,
            &grant_path(target),
            &format!("grant{title}Access"),
            &format!("Grant a member access to a private {noun}"),
        )
        .member()
        .managed()
        .ok::<AccessGrantView>(),
        Op::new(
            Delete,
            &grant_path(target),
            &format!("revoke{title}Access"),
            &format!("Revoke a member's access to a {noun}"),
        )
        .member()
        .managed()
        .no_content(),
    ]
}
