//! Erasing what a person left, across the tables that hold it: a
//! conversation with its texts, replies and widget session, and a texter
//! with every conversation they started. The same rules as the DynamoDB
//! adapter, done under the store's one lock.

use super::tables::Tables;
use crate::domain::ids::{AssistantId, ConversationId};
use crate::domain::sms::{TexterKey, forget_texters_before};
use crate::domain::time::Timestamp;
use crate::ports::StoreError;

impl Tables {
    /// A deleted conversation's messages, and what its channel recorded
    /// beside them.
    pub(super) fn purge_conversation(&mut self, id: &ConversationId) -> Result<usize, StoreError> {
        let purged = self.conversations.purge(id)?;
        Ok(purged + self.sms.forget_conversation(id) + self.widgets.forget_conversation(id))
    }

    /// A conversation gone whole, deleted or not yet.
    fn erase_conversation(&mut self, id: &ConversationId) -> usize {
        let unlisted = self.conversations.mark_erased(id);
        unlisted + self.purge_conversation(id).unwrap_or(0)
    }

    /// One texter, as the port's `erase_texter` describes.
    pub(super) fn erase_texter(&mut self, assistant: &AssistantId, name: &TexterKey) -> usize {
        let (conversations, mut removed) = self.sms.forget_texter(assistant, name);
        for id in &conversations {
            removed += self.erase_conversation(id);
        }
        removed
    }

    /// What deleting the assistant's SMS channel at `deleted_at` leaves.
    pub(super) fn forget_sms_texters(
        &mut self,
        assistant: &AssistantId,
        deleted_at: Timestamp,
    ) -> usize {
        let Some(before) = forget_texters_before(self.sms.config(assistant), deleted_at) else {
            return 0;
        };
        self.sms
            .texters_before(assistant, before)
            .iter()
            .map(|name| self.erase_texter(assistant, name))
            .sum()
    }
}
