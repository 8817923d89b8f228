//! Assistants in memory: their counts move with them, as in the DynamoDB
//! adapter.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::access::{AccessTarget, InContext, WithGrant};
use crate::domain::assistant::{Assistant, AssistantChanges, AssistantConfig};
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::time::Timestamp;
use crate::domain::webhook::change::Entity;
use crate::ports::{AssistantStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl AssistantStore for MemoryStore {
    async fn create_assistant(
        &self,
        ws: &WorkspaceId,
        config: AssistantConfig,
        creator: &UserId,
    ) -> Result<Assistant, StoreError> {
        self.run(Call::Transaction, |t| {
            let (workspace, _) = t.workspace_mut(ws)?;
            workspace.assistant_count += 1;
            let assistant = Assistant::create(ws.clone(), config, creator);
            t.assistants
                .insert((ws.clone(), assistant.id.clone()), assistant.clone());
            t.widgets.open_site(ws, &assistant.id);
            t.changed(None, Some(Entity::Assistant(assistant.clone())));
            Ok(assistant)
        })
        .await
    }

    async fn get_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<Option<Assistant>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.assistants.get(&(ws.clone(), id.clone())).cloned())
        })
        .await
    }

    async fn get_assistant_for(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Assistant>>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.one_with_grant(&t.assistants, ws, id, AccessTarget::Assistant, user))
        })
        .await
    }

    async fn assistant_in_context(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<InContext<Assistant>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(InContext {
                context: t.context(ws, user),
                found: t.one_with_grant(&t.assistants, ws, id, AccessTarget::Assistant, user),
            })
        })
        .await
    }

    async fn list_assistants_page(
        &self,
        ws: &WorkspaceId,
        viewer: &Actor,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Assistant>, usize), StoreError> {
        self.run(Call::Read, |t| {
            let mut visible: Vec<Assistant> = t
                .all_with_grants(&t.assistants, ws, AccessTarget::Assistant, &viewer.user_id)
                .into_iter()
                .filter(|seen| viewer.can_view_assistant(&seen.item, seen.granted))
                .map(|seen| seen.item)
                .collect();
            visible.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            let total = visible.len();
            Ok((
                visible.into_iter().skip(offset).take(limit).collect(),
                total,
            ))
        })
        .await
    }

    async fn list_assistants_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Assistant>>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.all_with_grants(&t.assistants, ws, AccessTarget::Assistant, user))
        })
        .await
    }

    async fn update_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        changes: &AssistantChanges,
    ) -> Result<Assistant, StoreError> {
        self.run(Call::Write, |t| {
            let assistant = t
                .assistants
                .get_mut(&(ws.clone(), id.clone()))
                .ok_or(StoreError::NotFound("assistant"))?;
            let before = assistant.clone();
            changes.apply_to(assistant);
            assistant.updated_at = Timestamp::now();
            let after = assistant.clone();
            t.changed(
                Some(Entity::Assistant(before)),
                Some(Entity::Assistant(after.clone())),
            );
            Ok(after)
        })
        .await
    }

    async fn delete_assistant(&self, ws: &WorkspaceId, id: &AssistantId) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            if !t.assistants.contains_key(&(ws.clone(), id.clone())) {
                return Err(StoreError::NotFound("assistant"));
            }
            let (workspace, _) = t.workspace_mut(ws)?;
            workspace.assistant_count = workspace
                .assistant_count
                .checked_sub(1)
                .ok_or_else(|| StoreError::Corrupt("assistantCount would go below zero".into()))?;
            let removed = t.assistants.remove(&(ws.clone(), id.clone()));
            t.changed(removed.map(Entity::Assistant), None);
            // The number is free the moment the assistant is gone.
            t.sms.forget_config(id);
            Ok(())
        })
        .await
    }
}
