//! What the queues carry, and what handling one message can end in. The
//! bottom layer: the API that sends a job and the worker that runs it both
//! depend on these, and these depend on nothing but domain ids.

#[cfg(feature = "worker")]
pub mod batch;

use crate::domain::ids::{
    AssistantId, ConversationId, DeliveryId, DocumentId, ProjectId, WebhookId, WorkspaceId,
};
use crate::domain::sms::MessageSid;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A queue message: ids only, never content (bytes stay in S3, and bodies
/// carry nothing a log line must not show).
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    fn to_message(&self) -> String {
        serde_json::to_string(self).expect("a job is ids only and always serializes")
    }

    fn from_message(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// What the ingest queue carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum IngestJob {
    /// Index an uploaded document.
    Index {
        workspace_id: WorkspaceId,
        project_id: ProjectId,
        document_id: DocumentId,
    },
    /// Remove a deleted document's vectors.
    Forget {
        project_id: ProjectId,
        document_id: DocumentId,
    },
    /// Remove a deleted project's vectors (its namespace) and files.
    ForgetProject {
        workspace_id: WorkspaceId,
        project_id: ProjectId,
    },
}

impl Job for IngestJob {}

/// What the cleanup queue carries: cascades too large for one request.
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
    /// Remove a deleted conversation's messages.
    ConversationDeleted {
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    },
    /// Forget the texters of an assistant's SMS channel deleted at
    /// `deleted_at_ms` (milliseconds since the epoch).
    SmsChannelDeleted {
        workspace_id: WorkspaceId,
        assistant_id: AssistantId,
        deleted_at_ms: i64,
    },
}

impl Job for CleanupJob {}

/// What the reply queue carries: answer one inbound text. The message's
/// body and sender stay in the store; the queue sees ids only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyJob {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub message_sid: MessageSid,
}

impl Job for ReplyJob {}

/// What the webhook queue carries: try one delivery at the attempt due
/// at `due_at_ms` (milliseconds since the epoch). The payload stays in the
/// store; the queue sees ids only. A job whose attempt is no longer the one
/// due (a manual retry queued a newer one) does nothing, so one delivery
/// never has two jobs sending it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookJob {
    pub workspace_id: WorkspaceId,
    pub webhook_id: WebhookId,
    pub delivery_id: DeliveryId,
    pub due_at_ms: i64,
}

impl Job for WebhookJob {}

/// Deliveries of a message before its queue moves it to the dead-letter
/// queue (every queue's `maxReceiveCount`).
pub const LAST_DELIVERY: u32 = 5;

/// The outcome of one queue message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageOutcome {
    Done,
    /// The body can never be processed: record it and acknowledge it, so it
    /// does not block the queue.
    Poison,
    /// Worth another delivery: report it as a batch item failure.
    Retry,
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
