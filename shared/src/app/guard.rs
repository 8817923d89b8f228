//! The one rule for who learns what about an assistant or project, stated
//! once for every kind of target:
//!
//! - a target the caller may not see does not exist for them: 404, exactly
//!   as for a missing one, so private names cannot be probed;
//! - a target they may see but not change: 403, naming the rule;
//! - owners and admins pass a managing route without a read: the write
//!   itself reports a missing target.

use super::error::AppError;
use super::members::{active_member, member_of, workspace_id_in_path};
use crate::domain::access::{InContext, WithGrant};
use crate::domain::assistant::Assistant;
use crate::domain::ids::{AssistantId, ProjectId, UserId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::project::Project;
use crate::domain::workspace::Workspace;
use crate::ports::{AssistantStore, ProjectStore, StoreError, WorkspaceStore};
use std::future::Future;

/// What a read found, if the actor may see it; otherwise (or when missing)
/// the 404 of `noun`.
fn seen<T>(
    found: Option<WithGrant<T>>,
    may_see: impl FnOnce(&T, bool) -> bool,
    noun: &'static str,
) -> Result<T, AppError> {
    match found {
        Some(WithGrant { item, granted }) if may_see(&item, granted) => Ok(item),
        _ => Err(AppError::NotFound(noun)),
    }
}

/// For a route that changes a target: managers pass; anyone else is told
/// only what `read` would tell them (its 404), else 403 with `refusal`.
pub async fn managing<T>(
    manages: bool,
    read: impl Future<Output = Result<T, AppError>>,
    refusal: &'static str,
) -> Result<(), AppError> {
    if manages {
        return Ok(());
    }
    read.await?;
    Err(AppError::Forbidden(refusal))
}

/// For a route that acts on a target it has read: 403 with `refusal`
/// unless the actor may do this (the read already answered 404 to anyone
/// who may not see it).
pub fn allowed(permitted: bool, refusal: &'static str) -> Result<(), AppError> {
    if permitted {
        Ok(())
    } else {
        Err(AppError::Forbidden(refusal))
    }
}

pub fn assistant_id(raw: &str) -> Result<AssistantId, AppError> {
    AssistantId::parse(raw).ok_or(AppError::NotFound("assistant"))
}

pub fn project_id(raw: &str) -> Result<ProjectId, AppError> {
    ProjectId::parse(raw).ok_or(AppError::NotFound("project"))
}

/// The assistant, if the actor may see it.
pub async fn visible_assistant(
    store: &dyn AssistantStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
) -> Result<Assistant, AppError> {
    let id = assistant_id(raw_id)?;
    let found = store.get_assistant_for(ws, &id, &actor.user_id).await?;
    seen(
        found,
        |a, granted| actor.can_view_assistant(a, granted),
        "assistant",
    )
}

/// The project, if the actor may read it.
pub async fn visible_project(
    store: &dyn ProjectStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
) -> Result<Project, AppError> {
    let id = project_id(raw_id)?;
    let found = store.get_project_for(ws, &id, &actor.user_id).await?;
    seen(
        found,
        |p, granted| actor.can_view_project(p, granted),
        "project",
    )
}

/// A member reading one assistant, checked and read in one round trip:
/// the workspace, the caller acting in it, and the assistant if they may
/// see it. Outsiders get the workspace's 404 before anything about the
/// assistant, exactly as when the membership is checked first.
pub async fn member_seeing_assistant(
    workspaces: &dyn WorkspaceStore,
    store: &dyn AssistantStore,
    (raw_ws, raw_id): (&str, &str),
    user: &UserId,
) -> Result<(Workspace, Actor, Assistant), AppError> {
    let ws = workspace_id_in_path(raw_ws)?;
    let Ok(id) = assistant_id(raw_id) else {
        member_of(workspaces, raw_ws, user).await?;
        return Err(AppError::NotFound("assistant"));
    };
    let read = store.assistant_in_context(&ws, &id, user).await;
    seen_by_member(read, Actor::can_view_assistant, "assistant")
}

/// A member reading one project, as [`member_seeing_assistant`].
pub async fn member_seeing_project(
    workspaces: &dyn WorkspaceStore,
    store: &dyn ProjectStore,
    (raw_ws, raw_id): (&str, &str),
    user: &UserId,
) -> Result<(Workspace, Actor, Project), AppError> {
    let ws = workspace_id_in_path(raw_ws)?;
    let Ok(id) = project_id(raw_id) else {
        member_of(workspaces, raw_ws, user).await?;
        return Err(AppError::NotFound("project"));
    };
    let read = store.project_in_context(&ws, &id, user).await;
    seen_by_member(read, Actor::can_view_project, "project")
}

fn seen_by_member<T>(
    read: Result<InContext<T>, StoreError>,
    may_see: fn(&Actor, &T, bool) -> bool,
    noun: &'static str,
) -> Result<(Workspace, Actor, T), AppError> {
    let InContext { context, found } = read?;
    let (workspace, actor) = active_member(context)?;
    let item = seen(found, |item, granted| may_see(&actor, item, granted), noun)?;
    Ok((workspace, actor, item))
}

/// The id of an assistant the actor may change; see [`managing`].
pub async fn managed_assistant(
    store: &dyn AssistantStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
    refusal: &'static str,
) -> Result<AssistantId, AppError> {
    let read = visible_assistant(store, ws, raw_id, actor);
    managing(actor.can_manage_assistants(), read, refusal).await?;
    assistant_id(raw_id)
}

/// The id of a project the actor may change; see [`managing`].
pub async fn managed_project(
    store: &dyn ProjectStore,
    ws: &WorkspaceId,
    raw_id: &str,
    actor: &Actor,
    refusal: &'static str,
) -> Result<ProjectId, AppError> {
    let read = visible_project(store, ws, raw_id, actor);
    managing(actor.can_manage_workspace(), read, refusal).await?;
    project_id(raw_id)
}

/// Only visible items, newest first: what every list route shows.
pub fn visible_newest_first<T>(
    found: Vec<WithGrant<T>>,
    may_see: impl Fn(&T, bool) -> bool,
    created: impl Fn(&T) -> (crate::domain::time::Timestamp, String),
) -> Vec<T> {
    let mut visible: Vec<T> = found
        .into_iter()
        .filter(|w| may_see(&w.item, w.granted))
        .map(|w| w.item)
        .collect();
    visible.sort_by_cached_key(|item| std::cmp::Reverse(created(item)));
    visible
}

/// The projects an actor may read: what lists and searches through an
/// assistant may show them. Answers still draw on every connected project:
/// connecting is how an owner shares knowledge through an assistant.
pub struct ReadableProjects(
    /// `None` for owners and admins, who may read them all.
    Option<std::collections::HashSet<ProjectId>>,
);

impl ReadableProjects {
    /// Every project: what the widget shows its visitors of a public
    /// assistant's projects, which its owners shared by connecting them.
    pub fn all() -> Self {
        Self(None)
    }

    pub fn includes(&self, project: &ProjectId) -> bool {
        self.0
            .as_ref()
            .is_none_or(|readable| readable.contains(project))
    }

    /// Whether an answer may name this source to the reader: the answer's
    /// words may draw on any connected project, its citations only on
    /// those the reader may open.
    pub fn shows(&self, source: &crate::domain::conversation::Source) -> bool {
        ProjectId::parse(&source.project_id).is_some_and(|project| self.includes(&project))
    }
}

pub async fn readable_projects(
    store: &dyn ProjectStore,
    ws: &WorkspaceId,
    actor: &Actor,
) -> Result<ReadableProjects, AppError> {
    if actor.can_manage_workspace() {
        return Ok(ReadableProjects(None));
    }
    let projects = store.list_projects_for(ws, &actor.user_id).await?;
    Ok(ReadableProjects(Some(
        projects
            .into_iter()
            .filter(|p| actor.can_view_project(&p.item, p.granted))
            .map(|p| p.item.id)
            .collect(),
    )))
}
