//! Explicit access grants: what opens a private assistant or project to a
//! member who would not otherwise see it.

use super::ids::{AssistantId, ProjectId, UserId};
use super::time::Timestamp;

/// What an access grant opens: an assistant or a project.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AccessTarget {
    Assistant(AssistantId),
    Project(ProjectId),
}

impl AccessTarget {
    /// The word a response uses for this kind of target ("assistant not
    /// found").
    pub fn noun(&self) -> &'static str {
        match self {
            Self::Assistant(_) => "assistant",
            Self::Project(_) => "project",
        }
    }
}

/// A user's explicit access to a private assistant or project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessGrant {
    pub user_id: UserId,
    pub granted_at: Timestamp,
}

/// An assistant or project as one user asked for it: the item, and whether
/// that user holds a grant on it (read together, in one round trip).
#[derive(Clone, Debug)]
pub struct WithGrant<T> {
    pub item: T,
    pub granted: bool,
}

/// One assistant or project read with its reader's standing, all in one
/// round trip: the caller's workspace context (absent for an outsider) and
/// the item with their grant (absent when missing). A warm authenticated
/// read costs one read this way, not two in a row.
#[derive(Clone, Debug)]
pub struct InContext<T> {
    pub context: Option<super::member::WorkspaceContext>,
    pub found: Option<WithGrant<T>>,
}
