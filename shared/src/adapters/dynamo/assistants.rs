//! Assistants and their access grants.

use super::codec::{self, n, s, time};
use super::keys::{self, SortKey};
use super::workspaces::UpdateSpec;
use super::{Store, StoreError, classify, key};
use crate::domain::assistant::{Assistant, AssistantChanges, AssistantConfig};
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::domain::time::Timestamp;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use std::collections::{HashMap, HashSet};

/// An assistant, and whether the asking user holds an access grant on it.
#[derive(Clone, Debug)]
pub struct AssistantWithGrant {
    pub assistant: Assistant,
    pub granted: bool,
}

impl Store {
    /// Stores a new assistant and counts it on its workspace, atomically.
    pub async fn create_assistant(
        &self,
        ws: &WorkspaceId,
        config: AssistantConfig,
        creator: &UserId,
    ) -> Result<Assistant, StoreError> {
        let now = Timestamp::now();
        let assistant = Assistant {
            id: AssistantId::generate(),
            workspace_id: ws.clone(),
            name: config.name.clone(),
            instructions: config.instructions.clone(),
            model: config.model.clone(),
            visibility: config.visibility,
            temperature: config.temperature,
            max_tokens: config.max_tokens,
            welcome_message: config.welcome_message.clone(),
            widget_enabled: config.widget_enabled,
            project_count: 0,
            created_by: creator.clone(),
            created_at: now,
            updated_at: now,
        };
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
            self.put_item(item, "attribute_not_exists(PK)"),
            self.update_item(UpdateSpec {
                key: key(wpk, wsk),
                expression: "SET assistantCount = assistantCount + :one",
                condition: Some("attribute_exists(PK)"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
        ];
        self.transact(items, |i| match i {
            0 => StoreError::Conflict("assistant id collision".into()),
            _ => StoreError::NotFound("workspace"),
        })
        .await?;
        Ok(assistant)
    }

    /// One assistant and whether `user` holds a grant on it, in one round trip.
    pub async fn get_assistant_for(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<Option<AssistantWithGrant>, StoreError> {
        let (item, granted) = self
            .get_with_grant(ws, &keys::AccessTarget::Assistant(id.clone()), user)
            .await?;
        item.as_ref()
            .map(|item| {
                Ok(AssistantWithGrant {
                    assistant: codec::assistant(item)?,
                    granted,
                })
            })
            .transpose()
    }

    /// Every assistant of the workspace, with whether `user` holds a grant on
    /// each: one query, since grants live beside their assistant.
    pub async fn list_assistants_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<AssistantWithGrant>, StoreError> {
        let items = self
            .query_partition(&keys::workspace_partition(ws), keys::ASSISTANT_PREFIX)
            .await?;
        let mut assistants = Vec::new();
        let mut granted = HashSet::new();
        for item in &items {
            match keys::parse_sort_key(codec::text(item, keys::SK)?) {
                SortKey::Assistant => assistants.push(codec::assistant(item)?),
                SortKey::Grant(keys::AccessTarget::Assistant(assistant), grantee)
                    if &grantee == user =>
                {
                    granted.insert(assistant);
                }
                _ => {}
            }
        }
        Ok(assistants
            .into_iter()
            .map(|assistant| AssistantWithGrant {
                granted: granted.contains(&assistant.id),
                assistant,
            })
            .collect())
    }

    /// Writes only the fields a change names, in one conditional update, and
    /// returns the assistant as stored afterwards.
    pub async fn update_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        changes: &AssistantChanges,
    ) -> Result<Assistant, StoreError> {
        let mut sets = vec!["updatedAt = :updatedAt".to_owned()];
        let mut removes = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":updatedAt".to_owned(), time(Timestamp::now()))]);
        for (field, value) in codec::assistant_attributes(changes) {
            match value {
                Some(value) => {
                    sets.push(format!("#{field} = :{field}"));
                    values.insert(format!(":{field}"), value);
                }
                None => removes.push(format!("#{field}")),
            }
            names.insert(format!("#{field}"), field.to_owned());
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let (pk, sk) = keys::assistant(ws, id);
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK)")
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => codec::assistant(&output.attributes.unwrap_or_default()),
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Err(StoreError::NotFound("assistant"))
            }
            Err(err) => Err(classify(err)),
        }
    }

    /// Deletes the assistant and uncounts it, atomically. What hangs off it
    /// (grants, connections, and later SMS and conversations) is removed by
    /// [`Store::delete_children`], from the cleanup queue.
    pub async fn delete_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<(), StoreError> {
        let (apk, ask) = keys::assistant(ws, id);
        let (wpk, wsk) = keys::workspace(ws);
        let items = vec![
            self.delete_item(key(apk, ask), "attribute_exists(PK)"),
            self.update_item(UpdateSpec {
                key: key(wpk, wsk),
                expression: "SET assistantCount = assistantCount - :one",
                condition: Some("assistantCount >= :one"),
                names: &[],
                values: vec![(":one", n(1))],
            }),
        ];
        self.transact(items, |i| match i {
            0 => StoreError::NotFound("assistant"),
            _ => StoreError::Corrupt("assistantCount would go below zero".into()),
        })
        .await
    }
}
