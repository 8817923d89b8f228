//! The data store, one port per aggregate, in the domain's words. Two
//! implementations: DynamoDB (`adapters::dynamo`) and memory
//! (`adapters::memory`, which can be told to fail); one contract suite runs
//! against both.
//!
//! Grants and cascades have ports of their own because they span two
//! aggregates (assistants and projects) with the same rules.
//!
//! The traits are object-safe (`async_trait`) so each function's state holds
//! `Arc<dyn Port>`: the routers compile once, not once per implementation.

use super::conflict::Conflict;
use crate::domain::access::{AccessGrant, AccessTarget, InContext, WithGrant};
use crate::domain::api_key::{ApiKey, ApiKeyHash, ApiKeySecret, KeyOwner};
use crate::domain::assistant::{Assistant, AssistantChanges, AssistantConfig};
use crate::domain::document::{Document, DocumentKind, DocumentStatus};
use crate::domain::ids::{
    ApiKeyId, AssistantId, ConversationId, DocumentId, ProjectId, UserId, WorkspaceId,
};
use crate::domain::member::{Email, MemberChanges, Membership, User, WorkspaceContext};
use crate::domain::policy::Actor;
use crate::domain::project::{Connection, Project, ProjectChanges};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::workspace::{
    ModelSettings, NewWorkspace, Workspace, WorkspaceChanges, WorkspaceDeletion, slug_from_name,
    slug_with_suffix,
};
use async_trait::async_trait;
use std::collections::HashSet;

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a store call failed, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing does not exist (or no longer does).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or state rule refused the write (its text is fit for
    /// the person who asked).
    #[error("{0}")]
    Conflict(#[from] Conflict),
    #[error("the workspace must keep at least one active owner")]
    LastOwner,
    /// Throttled, cancelled by a concurrent transaction, timed out or
    /// unreachable, after the store's own retries: try again later.
    #[error("the data store is unavailable")]
    Transient(#[source] Cause),
    /// The store refused the request itself: a bug on our side, and
    /// retrying will not help.
    #[error("the data store refused a request")]
    Permanent(#[source] Cause),
    /// A stored item does not parse: never guessed at.
    #[error("a stored item is malformed: {0}")]
    Corrupt(String),
}

/// How many slugs a workspace with none chosen tries: the one derived from
/// its name, then three with a random suffix.
const SLUG_ATTEMPTS: usize = 4;

/// The slugs a new workspace may take, in the order a store tries them,
/// and the conflict it is refused with when each is taken: decided here
/// once for every store. A chosen slug is tried alone.
pub fn slugs_for(new: &NewWorkspace) -> (Vec<String>, Conflict) {
    match &new.slug {
        Some(chosen) => (vec![chosen.clone()], Conflict::SlugTaken(chosen.clone())),
        None => {
            let base = slug_from_name(&new.name);
            let suffixed = (1..SLUG_ATTEMPTS).map(|_| slug_with_suffix(&base));
            let candidates = std::iter::once(base.clone()).chain(suffixed).collect();
            (candidates, Conflict::NoFreeSlug)
        }
    }
}

/// Workspaces, the people in them, and their memberships. Counters
/// (`memberCount`, `ownerCount`) move in the same write as what they count.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// A new user; a taken email is a conflict.
    async fn create_user(&self, email: Email, name: String) -> Result<User, StoreError>;
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// A new workspace owned by `owner`. A derived slug that is taken gets a
    /// random suffix; a chosen one is a conflict.
    async fn create_workspace(
        &self,
        new: NewWorkspace,
        owner: &User,
    ) -> Result<Workspace, StoreError>;
    /// The workspace and the user's membership, read together; `None` when
    /// either is missing (to a non-member the workspace does not exist).
    async fn workspace_context(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<WorkspaceContext>, StoreError>;
    /// Every workspace the user is a member of (any status), oldest first.
    async fn list_workspaces_of(&self, user: &UserId) -> Result<Vec<WorkspaceContext>, StoreError>;
    /// Applies a validated change to the workspace as the caller read it; a
    /// concurrent slug change is a conflict.
    async fn update_workspace(
        &self,
        current: &Workspace,
        changes: WorkspaceChanges,
        models: ModelSettings,
    ) -> Result<Workspace, StoreError>;

    /// Members by the time they joined, oldest first.
    async fn list_members(&self, ws: &WorkspaceId) -> Result<Vec<Membership>, StoreError>;
    async fn get_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError>;
    /// Adds a user; `new_user`: the user does not exist yet and is created
    /// in the same write.
    async fn add_member(
        &self,
        ws: &WorkspaceId,
        user: &User,
        new_user: bool,
        role: Role,
    ) -> Result<Membership, StoreError>;
    /// Refused when it would leave no active owner (`LastOwner`), and when
    /// the member changed since `current` was read (a conflict).
    async fn change_member(
        &self,
        current: &Membership,
        changes: MemberChanges,
    ) -> Result<Membership, StoreError>;
    async fn remove_member(&self, current: &Membership) -> Result<(), StoreError>;

    /// Deletes a workspace that no assistant, project or webhook hangs off
    /// any more: its members first (so no one acts in it from then on),
    /// then what was kept for them (their notes, their conversations'
    /// listings), its listings, usage history, budgets and alerts, and last
    /// the workspace with its slug, so that a run cut short is finished by
    /// the next. Refused, deleting nothing, while anything hangs off it; an
    /// assistant created by a request already past its membership check is
    /// found after the members went, and refused too, with the members put
    /// back as they were (one that lands after the usage history and
    /// budgets went does not bring those back). `NotFound` once gone.
    async fn delete_workspace(&self, ws: &WorkspaceId) -> Result<WorkspaceDeletion, StoreError>;
}

/// Personal API keys, stored only as a hash.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// A new key; the secret is returned once.
    async fn create_api_key(
        &self,
        user: &UserId,
        name: String,
    ) -> Result<(ApiKey, ApiKeySecret), StoreError>;
    /// Looks a key up and records its use, in one write. `None` for unknown
    /// and revoked keys alike.
    async fn authenticate(&self, hash: &ApiKeyHash) -> Result<Option<KeyOwner>, StoreError>;
    /// The user's keys, newest first.
    async fn list_api_keys(&self, user: &UserId) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes one of the user's keys and returns its hash, so a cache can
    /// forget it. Revoking twice is fine; another user's key is not found.
    async fn revoke_api_key(&self, user: &UserId, key: &ApiKeyId)
    -> Result<ApiKeyHash, StoreError>;
}

/// Assistants. `assistantCount` on the workspace moves with them.
#[async_trait]
pub trait AssistantStore: Send + Sync {
    async fn create_assistant(
        &self,
        ws: &WorkspaceId,
        config: AssistantConfig,
        creator: &UserId,
    ) -> Result<Assistant, StoreError>;
    /// One assistant, for a worker acting on no one's behalf.
    async fn get_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<Option<Assistant>, StoreError>;
    /// One assistant and whether `user` holds a grant on it.
    async fn get_assistant_for(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Assistant>>, StoreError>;
    /// The caller's workspace context and the assistant with their grant,
    /// read together: a route's membership check and its read in one.
    async fn assistant_in_context(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<InContext<Assistant>, StoreError>;
    /// The `limit` assistants after the first `offset` of those `viewer`
    /// may see, newest first, and how many they may see in all; what it
    /// reads does not grow with the workspace.
    async fn list_assistants_page(
        &self,
        ws: &WorkspaceId,
        viewer: &Actor,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Assistant>, usize), StoreError>;
    /// Every assistant of the workspace, each with whether `user` holds a
    /// grant on it (in no particular order).
    async fn list_assistants_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Assistant>>, StoreError>;
    /// Writes only the fields a change names and returns the result.
    async fn update_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        changes: &AssistantChanges,
    ) -> Result<Assistant, StoreError>;
    /// The assistant goes at once; what hangs off it is left for
    /// [`CascadeStore::delete_children`].
    async fn delete_assistant(&self, ws: &WorkspaceId, id: &AssistantId) -> Result<(), StoreError>;
}

/// Explicit grants on private assistants and projects.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Both the target and the membership must exist; granting twice keeps
    /// the first grant's time.
    async fn grant_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<AccessGrant, StoreError>;
    async fn revoke_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<(), StoreError>;
    /// Grants by the time they were given, oldest first.
    async fn list_grants(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
    ) -> Result<Vec<AccessGrant>, StoreError>;
    async fn target_exists(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
    ) -> Result<bool, StoreError>;
}

/// Knowledge projects.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    async fn create_project(
        &self,
        ws: &WorkspaceId,
        changes: ProjectChanges,
        creator: &UserId,
    ) -> Result<Project, StoreError>;
    async fn get_project_for(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Project>>, StoreError>;
    /// The caller's workspace context and the project with their grant,
    /// read together, as [`AssistantStore::assistant_in_context`].
    async fn project_in_context(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        user: &UserId,
    ) -> Result<InContext<Project>, StoreError>;
    async fn list_projects_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Project>>, StoreError>;
    async fn update_project(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
        changes: &ProjectChanges,
    ) -> Result<Project, StoreError>;
    /// The project goes together with a tombstone that outlives it for a
    /// week, then each of its connections goes with its assistant's count;
    /// grants and documents are left for the cascade. Deleting a project
    /// whose tombstone stands finishes the disconnections again, so a
    /// delete cut short is completed by its retry; with neither, `NotFound`.
    async fn delete_project(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<(), StoreError>;
    /// Whether the project exists now: the background jobs queued before
    /// its delete do nothing while it does (the delete did not happen).
    async fn project_exists(&self, ws: &WorkspaceId, id: &ProjectId) -> Result<bool, StoreError>;
    /// Whether the project was deleted in the last week (its tombstone).
    async fn project_was_deleted(
        &self,
        ws: &WorkspaceId,
        id: &ProjectId,
    ) -> Result<bool, StoreError>;
}

/// Which projects an assistant draws on. Both halves of a connection and the
/// assistant's `projectCount` move in one write.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Connecting twice is a conflict, never a second count.
    async fn connect(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<Timestamp, StoreError>;
    async fn disconnect(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        project: &ProjectId,
    ) -> Result<(), StoreError>;
    async fn connected_project_ids(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<Vec<ProjectId>, StoreError>;
    /// The connected projects, oldest connection first.
    async fn list_connections(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<Vec<Connection>, StoreError>;
}

/// Document records and their progress through ingest. The project's
/// `documentCount` moves with them.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn create_document(&self, document: &Document) -> Result<(), StoreError>;
    async fn get_document(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        id: &DocumentId,
    ) -> Result<Option<Document>, StoreError>;
    /// The `limit` documents after the first `offset`, newest first; the
    /// project's `documentCount` is how many there are in all.
    async fn list_documents(
        &self,
        ws: &WorkspaceId,
        project: &ProjectId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError>;
    /// Refused (not found) once the document is deleted, so a late worker
    /// cannot bring it back.
    async fn set_document_progress(
        &self,
        document: &Document,
        status: DocumentStatus,
        chunk_count: u32,
        chunks_done: u32,
        error: Option<&str>,
    ) -> Result<(), StoreError>;
    /// `uploading` to `pending`, with what arrived; a conflict unless still
    /// `uploading`, so completing twice queues once.
    async fn complete_upload(
        &self,
        document: &Document,
        kind: DocumentKind,
        size: u64,
    ) -> Result<Document, StoreError>;
    /// Takes back a completion whose ingest job could not be queued: the
    /// document is `uploading` again (no type), so completing it again
    /// works; a conflict once anything else has moved it on.
    async fn reopen_upload(&self, document: &Document) -> Result<(), StoreError>;
    async fn delete_document(&self, document: &Document) -> Result<(), StoreError>;
    /// Which of these documents are still stored (in one read): retrieval
    /// serves no passage of a deleted one, whose vectors may outlive it for
    /// as long as their removal takes.
    async fn stored_documents(
        &self,
        ws: &WorkspaceId,
        documents: &[(ProjectId, DocumentId)],
    ) -> Result<HashSet<DocumentId>, StoreError>;
}

/// What a background cascade removes once an assistant, a project or a
/// conversation is gone.
#[async_trait]
pub trait CascadeStore: Send + Sync {
    /// Grants, both halves of each connection (uncounting surviving
    /// assistants), a project's document records, an assistant's SMS
    /// traffic and conversations (every channel, with their messages).
    /// Nothing while the target still exists (a job queued before a delete
    /// that did not happen). Idempotent; returns how many records went.
    async fn delete_children(
        &self,
        ws: &WorkspaceId,
        of: &AccessTarget,
    ) -> Result<usize, StoreError>;

    /// A deleted conversation's messages and what is left of it; refused
    /// (a conflict) for one that is not deleted. Idempotent; returns how
    /// many records went.
    async fn purge_conversation(&self, id: &ConversationId) -> Result<usize, StoreError>;

    /// What deleting an assistant's SMS channel at `deleted_at` leaves:
    /// every texter erased as
    /// [`SmsStore::erase_texter`](super::SmsStore::erase_texter) erases one
    /// (opt-outs kept as keyed names; the anonymous day counts stay).
    /// Nothing while a channel set up before `deleted_at` is still there (a
    /// delete that did not happen); on a channel set up again since, the
    /// texters seen since are kept (see
    /// [`forget_texters_before`](crate::domain::sms::forget_texters_before)).
    /// Idempotent; returns how many records went.
    async fn forget_sms_texters(
        &self,
        assistant: &AssistantId,
        deleted_at: Timestamp,
    ) -> Result<usize, StoreError>;
}
