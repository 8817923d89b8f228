//! Cascading deletes done in the background: a deleted assistant, project,
//! conversation or SMS channel disappears at once, and what hangs off it is removed
//! here, off the request path.

use crate::domain::access::AccessTarget;
use crate::domain::time::Timestamp;
use crate::jobs::{CleanupJob, Job, MessageOutcome};
use crate::ports::{CascadeStore, StoreError};

/// Runs one job. Idempotent: a job delivered twice removes nothing more.
pub async fn run(store: &dyn CascadeStore, job: &CleanupJob) -> Result<usize, StoreError> {
    let (workspace_id, target) = match job {
        CleanupJob::AssistantDeleted {
            workspace_id,
            assistant_id,
        } => (workspace_id, AccessTarget::Assistant(assistant_id.clone())),
        CleanupJob::ProjectDeleted {
            workspace_id,
            project_id,
        } => (workspace_id, AccessTarget::Project(project_id.clone())),
        CleanupJob::ConversationDeleted {
            conversation_id, ..
        } => return store.purge_conversation(conversation_id).await,
        CleanupJob::SmsChannelDeleted {
            assistant_id,
            deleted_at_ms,
            ..
        } => {
            let deleted_at = Timestamp::from_millis(*deleted_at_ms);
            return store.forget_sms_texters(assistant_id, deleted_at).await;
        }
    };
    store.delete_children(workspace_id, &target).await
}

/// Handles one message body, decoded on its own so one bad message cannot
/// fail its batch.
pub async fn handle_message(
    store: &dyn CascadeStore,
    message_id: &str,
    body: &str,
) -> MessageOutcome {
    let job = match CleanupJob::from_message(body) {
        Ok(job) => job,
        Err(error) => {
            tracing::error!(message_id, %error, "cleanup message is not a job; dropping it");
            return MessageOutcome::Poison;
        }
    };
    match run(store, &job).await {
        Ok(removed) => {
            tracing::info!(message_id, removed, "cleanup job done");
            MessageOutcome::Done
        }
        Err(StoreError::Conflict(why)) => {
            tracing::error!(message_id, %why, "cleanup job refused; dropping it");
            MessageOutcome::Poison
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
