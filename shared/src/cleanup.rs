//! Cascading deletes done in the background: a deleted assistant disappears
//! at once, and what hangs off it is removed here, off the request path.

use crate::adapters::dynamo::{AccessTarget, Store, StoreError};
use crate::domain::ids::{AssistantId, ProjectId, WorkspaceId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CleanupJob {
    /// Remove everything stored under a deleted assistant.
    AssistantDeleted {
        workspace_id: WorkspaceId,
        assistant_id: AssistantId,
    },
    /// Remove everything stored under a deleted project (grants, and any
    /// connection made while it was being deleted).
    ProjectDeleted {
        workspace_id: WorkspaceId,
        project_id: ProjectId,
    },
}

impl CleanupJob {
    pub fn to_message(&self) -> String {
        serde_json::to_string(self).expect("a cleanup job always serializes")
    }

    pub fn from_message(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// Runs the job. Idempotent: a job delivered twice removes nothing more.
    pub async fn run(&self, store: &Store) -> Result<usize, StoreError> {
        match self {
            Self::AssistantDeleted {
                workspace_id,
                assistant_id,
            } => {
                store
                    .delete_children(workspace_id, &AccessTarget::Assistant(assistant_id.clone()))
                    .await
            }
            Self::ProjectDeleted {
                workspace_id,
                project_id,
            } => {
                store
                    .delete_children(workspace_id, &AccessTarget::Project(project_id.clone()))
                    .await
            }
        }
    }
}

/// The outcome of one queue message.
#[derive(Debug, PartialEq, Eq)]
pub enum MessageOutcome {
    Done,
    /// The body can never be processed: record it and acknowledge it, so it
    /// does not block the queue.
    Poison,
    /// Worth another delivery: report it as a batch item failure.
    Retry,
}

/// Handles one message body: decoded on its own so one bad message cannot
/// fail its batch.
pub async fn handle_message(store: &Store, message_id: &str, body: &str) -> MessageOutcome {
    let job = match CleanupJob::from_message(body) {
        Ok(job) => job,
        Err(error) => {
            tracing::error!(message_id, %error, "cleanup message is not a job; dropping it");
            return MessageOutcome::Poison;
        }
    };
    match job.run(store).await {
        Ok(removed) => {
            tracing::info!(message_id, removed, "cleanup job done");
            MessageOutcome::Done
        }
        Err(StoreError::Corrupt(what)) => {
            tracing::error!(
                message_id,
                what,
                "cleanup found a corrupt item; dropping the job"
            );
            MessageOutcome::Poison
        }
        Err(error) => {
            tracing::warn!(message_id, error = %error, "cleanup job failed; will retry");
            MessageOutcome::Retry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_survives_the_queue_round_trip() {
        let job = CleanupJob::AssistantDeleted {
            workspace_id: WorkspaceId::generate(),
            assistant_id: AssistantId::generate(),
        };
        let message = job.to_message();
        assert!(message.contains("\"type\":\"assistantDeleted\""));
        assert!(message.contains("\"workspaceId\""));
        assert_eq!(CleanupJob::from_message(&message).unwrap(), job);
    }

    #[test]
    fn a_job_with_a_malformed_id_is_refused() {
        let body = r#"{"type":"assistantDeleted","workspaceId":"ws_x","assistantId":"ast_y"}"#;
        assert!(CleanupJob::from_message(body).is_err());
    }
}
