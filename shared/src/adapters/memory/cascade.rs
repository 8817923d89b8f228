//! What a background cascade removes in memory once an assistant, a
//! project, a conversation or an SMS channel is gone.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::access::AccessTarget;
use crate::domain::ids::{AssistantId, ConversationId, ProjectId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::ports::{CascadeStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl CascadeStore for MemoryStore {
    async fn delete_children(
        &self,
        ws: &WorkspaceId,
        of: &AccessTarget,
    ) -> Result<usize, StoreError> {
        self.run(Call::Write, |t| {
            if t.target_exists(ws, of) {
                return Ok(0);
            }
            let grants_before = t.grants.len();
            t.grants
                .retain(|(w, target, _), _| !(w == ws && target == of));
            // Each connection counts twice, as its two stored halves do.
            let mut removed = grants_before - t.grants.len();
            let connected: Vec<(AssistantId, ProjectId)> = t
                .connections
                .keys()
                .filter(|(w, a, p)| {
                    w == ws
                        && match of {
                            AccessTarget::Assistant(id) => a == id,
                            AccessTarget::Project(id) => p == id,
                        }
                })
                .map(|(_, a, p)| (a.clone(), p.clone()))
                .collect();
            for (assistant, project) in connected {
                t.disconnect(ws, &assistant, &project);
                removed += 2;
            }
            if let AccessTarget::Project(project) = of {
                let before = t.documents.len();
                t.documents
                    .retain(|(w, p, _), _| !(w == ws && p == project));
                removed += before - t.documents.len();
            }
            if let AccessTarget::Assistant(assistant) = of {
                removed += t.sms.forget_traffic(assistant);
                removed += t.widgets.forget(assistant);
                removed += t.conversations.forget_assistant(assistant);
            }
            Ok(removed)
        })
        .await
    }

    async fn purge_conversation(&self, id: &ConversationId) -> Result<usize, StoreError> {
        self.run(Call::Write, |t| t.purge_conversation(id)).await
    }

    async fn forget_sms_texters(
        &self,
        assistant: &AssistantId,
        deleted_at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.run(Call::Write, |t| {
            Ok(t.forget_sms_texters(assistant, deleted_at))
        })
        .await
    }
}
