//! Assistants and their access grants.

use super::codec::{self, n, s, time};
use super::grants::decoded_with_grant;
use super::keys;
use super::requests::UpdateSpec;
use super::{DynamoStore, key};
use crate::domain::access::{AccessTarget, InContext, WithGrant};
use crate::domain::assistant::{Assistant, AssistantChanges, AssistantConfig};
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::ports::{AssistantStore, SmsStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl AssistantStore for DynamoStore {
    /// Stores a new assistant and counts it on its workspace, atomically.
    async fn create_assistant(
        &self,
        ws: &WorkspaceId,
        config: AssistantConfig,
        creator: &UserId,
    ) -> Result<Assistant, StoreError> {
        let assistant = Assistant::create(ws.clone(), config.clone(), creator);
        let now = assistant.created_at;
        let (pk, sk) = keys::assistant(ws, &assistant.id);
        let mut item = key(pk, sk);
        item.extend(
            codec::assistant_attributes(&AssistantChanges::from(config))
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v))),
        );
        item.extend([
            ("id".to_owned(), s(assistant.id.as_str())),
            ("workspaceId".to_owned(), s(ws.as_str())),
            ("projectCount".to_owned(), n(0)),
            ("createdBy".to_owned(), s(creator.as_str())),
            ("createdAt".to_owned(), time(now)),
            ("updatedAt".to_owned(), time(now)),
        ]);
        let (wpk, wsk) = keys::workspace(ws);
        let items = vec![
            self.put_fresh(item),
            // Its widget, found by assistant alone, with the defaults.
            self.put_item(
                super::widget::default_site_item(ws, &assistant.id),
                "attribute_not_exists(PK)",
            ),
            self.update_item(UpdateSpec {
                key: key(wpk, wsk),
                expression: "SET assistantCount = assistantCount + :one",
                condition: Some("attribute_exists(PK)"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
        ];
        self.transact(items, |i| match i {
            0 | 1 => StoreError::Conflict("assistant id collision".into()),
            _ => StoreError::NotFound("workspace"),
        })
        .await?;
        Ok(assistant)
    }

    async fn get_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<Option<Assistant>, StoreError> {
        let (pk, sk) = keys::assistant(ws, id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::assistant)
            .transpose()
    }

    /// One assistant and whether `user` holds a grant on it, in one round trip.
    async fn get_assistant_for(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Assistant>>, StoreError> {
        let (item, granted) = self
            .get_with_grant(ws, &AccessTarget::Assistant(id.clone()), user)
            .await?;
        decoded_with_grant(item, granted, codec::assistant)
    }

    /// The caller's context and the assistant with their grant, in one
    /// round trip.
    async fn assistant_in_context(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<InContext<Assistant>, StoreError> {
        let (context, item, granted) = self
            .get_in_context(ws, &AccessTarget::Assistant(id.clone()), user)
            .await?;
        let found = decoded_with_grant(item, granted, codec::assistant)?;
        Ok(InContext { context, found })
    }

    /// Every assistant of the workspace, with whether `user` holds a grant on
    /// each: one query, since grants live beside their assistant.
    async fn list_assistants_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Assistant>>, StoreError> {
        let (items, granted) = self
            .list_with_grants(ws, keys::ASSISTANT_PREFIX, user)
            .await?;
        items
            .iter()
            .map(|item| {
                let assistant = codec::assistant(item)?;
                Ok(WithGrant {
                    granted: granted.contains(&AccessTarget::Assistant(assistant.id.clone())),
                    item: assistant,
                })
            })
            .collect()
    }

    /// Writes only the fields a change names, in one conditional update, and
    /// returns the assistant as stored afterwards.
    async fn update_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        changes: &AssistantChanges,
    ) -> Result<Assistant, StoreError> {
        let (pk, sk) = keys::assistant(ws, id);
        let item = self
            .update_fields(
                key(pk, sk),
                codec::assistant_attributes(changes),
                "assistant",
            )
            .await?;
        codec::assistant(&item)
    }

    /// Deletes the assistant and uncounts it, atomically. What hangs off it
    /// (grants, connections, and later SMS and conversations) is removed by
    /// [`Store::delete_children`], from the cleanup queue.
    async fn delete_assistant(&self, ws: &WorkspaceId, id: &AssistantId) -> Result<(), StoreError> {
        let (apk, ask) = keys::assistant(ws, id);
        let (wpk, wsk) = keys::workspace(ws);
        // Its phone number is free the moment it is gone: the SMS
        // configuration and the number's claim go in the same write.
        let sms = self.sms_config(id).await?.filter(|c| &c.workspace_id == ws);
        let mut items = vec![
            self.delete_item(key(apk, ask), "attribute_exists(PK)"),
            self.update_item(UpdateSpec {
                key: key(wpk, wsk),
                expression: "SET assistantCount = assistantCount - :one",
                condition: Some("assistantCount >= :one"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
        ];
        if let Some(config) = &sms {
            items.extend(self.release_sms_items(config));
        }
        self.transact(items, |i| match i {
            0 => StoreError::NotFound("assistant"),
            1 => StoreError::Corrupt("assistantCount would go below zero".into()),
            _ => StoreError::Conflict("the SMS configuration changed meanwhile; try again".into()),
        })
        .await
    }
}
