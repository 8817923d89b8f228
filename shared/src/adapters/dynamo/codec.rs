//! Items to domain values and back. A stored item that does not parse is
//! reported as corrupt, never guessed at.

use super::{Item, StoreError};
use crate::domain::api_key::ApiKey;
use crate::domain::assistant::{Assistant, AssistantChanges, Visibility};
use crate::domain::document::{Document, DocumentKind, DocumentStatus};
use crate::domain::ids::{ApiKeyId, AssistantId, DocumentId, ProjectId, UserId, WorkspaceId};
use crate::domain::member::{Email, Membership, User};
use crate::domain::project::{Project, ProjectVisibility};
use crate::domain::role::{MemberStatus, Role};
use crate::domain::time::Timestamp;
use crate::domain::workspace::{ModelSettings, Workspace};
use aws_sdk_dynamodb::types::AttributeValue;
use std::str::FromStr;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn time(value: Timestamp) -> AttributeValue {
    n(value.millis())
}

pub fn corrupt(item: &Item, field: &str) -> StoreError {
    let where_ = item
        .get(super::keys::SK)
        .and_then(|v| v.as_s().ok())
        .map_or("?", String::as_str);
    StoreError::Corrupt(format!("{where_}: {field}"))
}

pub fn text<'a>(item: &'a Item, field: &str) -> Result<&'a str, StoreError> {
    item.get(field)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(item, field))
}

pub fn optional_text(item: &Item, field: &str) -> Option<String> {
    item.get(field).and_then(|v| v.as_s().ok()).cloned()
}

pub fn number<T: FromStr>(item: &Item, field: &str) -> Result<T, StoreError> {
    item.get(field)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(item, field))
}

pub fn timestamp(item: &Item, field: &str) -> Result<Timestamp, StoreError> {
    number(item, field).map(Timestamp::from_millis)
}

pub fn optional_timestamp(item: &Item, field: &str) -> Option<Timestamp> {
    number(item, field).ok().map(Timestamp::from_millis)
}

pub fn parsed<T>(
    item: &Item,
    field: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text(item, field)?).ok_or_else(|| corrupt(item, field))
}

pub fn workspace(item: &Item) -> Result<Workspace, StoreError> {
    let allowed: Vec<String> = item
        .get("allowedModels")
        .and_then(|v| v.as_l().ok())
        .ok_or_else(|| corrupt(item, "allowedModels"))?
        .iter()
        .filter_map(|m| m.as_s().ok().cloned())
        .collect();
    let models = ModelSettings::new(allowed, text(item, "defaultModel")?.to_owned())
        .ok_or_else(|| corrupt(item, "defaultModel"))?;
    Ok(Workspace {
        id: parsed(item, "id", WorkspaceId::parse)?,
        name: text(item, "name")?.to_owned(),
        slug: text(item, "slug")?.to_owned(),
        models,
        member_count: number(item, "memberCount")?,
        assistant_count: number(item, "assistantCount")?,
        created_at: timestamp(item, "createdAt")?,
        updated_at: timestamp(item, "updatedAt")?,
    })
}

pub fn models_list(models: &[String]) -> AttributeValue {
    AttributeValue::L(models.iter().map(|m| s(m.as_str())).collect())
}

pub fn membership(item: &Item) -> Result<Membership, StoreError> {
    Ok(Membership {
        workspace_id: parsed(item, "workspaceId", WorkspaceId::parse)?,
        user_id: parsed(item, "userId", UserId::parse)?,
        email: parsed(item, "email", Email::parse)?,
        name: text(item, "name")?.to_owned(),
        role: parsed(item, "role", Role::parse)?,
        status: parsed(item, "status", MemberStatus::parse)?,
        joined_at: timestamp(item, "joinedAt")?,
    })
}

pub fn user(item: &Item) -> Result<User, StoreError> {
    Ok(User {
        id: parsed(item, "id", UserId::parse)?,
        email: parsed(item, "email", Email::parse)?,
        name: text(item, "name")?.to_owned(),
        created_at: timestamp(item, "createdAt")?,
    })
}

pub fn api_key(item: &Item) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: parsed(item, "keyId", ApiKeyId::parse)?,
        user_id: parsed(item, "userId", UserId::parse)?,
        name: text(item, "name")?.to_owned(),
        prefix: text(item, "prefix")?.to_owned(),
        created_at: timestamp(item, "createdAt")?,
        last_used_at: optional_timestamp(item, "lastUsedAt"),
        revoked_at: optional_timestamp(item, "revokedAt"),
    })
}

pub fn assistant(item: &Item) -> Result<Assistant, StoreError> {
    Ok(Assistant {
        id: parsed(item, "id", AssistantId::parse)?,
        workspace_id: parsed(item, "workspaceId", WorkspaceId::parse)?,
        name: text(item, "name")?.to_owned(),
        instructions: text(item, "instructions")?.to_owned(),
        model: text(item, "model")?.to_owned(),
        visibility: parsed(item, "visibility", Visibility::parse)?,
        temperature: number(item, "temperature")?,
        max_tokens: number(item, "maxTokens")?,
        welcome_message: optional_text(item, "welcomeMessage"),
        widget_enabled: item
            .get("widgetEnabled")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .ok_or_else(|| corrupt(item, "widgetEnabled"))?,
        project_count: number(item, "projectCount")?,
        created_by: parsed(item, "createdBy", UserId::parse)?,
        created_at: timestamp(item, "createdAt")?,
        updated_at: timestamp(item, "updatedAt")?,
    })
}

pub fn project(item: &Item) -> Result<Project, StoreError> {
    Ok(Project {
        id: parsed(item, "id", ProjectId::parse)?,
        workspace_id: parsed(item, "workspaceId", WorkspaceId::parse)?,
        name: text(item, "name")?.to_owned(),
        description: text(item, "description")?.to_owned(),
        visibility: parsed(item, "visibility", ProjectVisibility::parse)?,
        document_count: number(item, "documentCount")?,
        created_by: parsed(item, "createdBy", UserId::parse)?,
        created_at: timestamp(item, "createdAt")?,
        updated_at: timestamp(item, "updatedAt")?,
    })
}

pub fn document(item: &Item) -> Result<Document, StoreError> {
    Ok(Document {
        id: parsed(item, "id", DocumentId::parse)?,
        workspace_id: parsed(item, "workspaceId", WorkspaceId::parse)?,
        project_id: parsed(item, "projectId", ProjectId::parse)?,
        name: text(item, "name")?.to_owned(),
        kind: match item.get("contentType") {
            None => None,
            Some(_) => Some(parsed(
                item,
                "contentType",
                DocumentKind::from_content_type,
            )?),
        },
        size: number(item, "size")?,
        status: parsed(item, "status", DocumentStatus::parse)?,
        chunk_count: number(item, "chunkCount")?,
        chunks_done: number(item, "chunksDone")?,
        error: optional_text(item, "error"),
        created_at: timestamp(item, "createdAt")?,
        updated_at: timestamp(item, "updatedAt")?,
    })
}

/// The stored attributes a change names: `Some` to set, `None` to remove.
pub fn assistant_attributes(
    changes: &AssistantChanges,
) -> Vec<(&'static str, Option<AttributeValue>)> {
    let mut attributes = Vec::new();
    if let Some(name) = &changes.name {
        attributes.push(("name", Some(s(name.as_str()))));
    }
    if let Some(instructions) = &changes.instructions {
        attributes.push(("instructions", Some(s(instructions.as_str()))));
    }
    if let Some(model) = &changes.model {
        attributes.push(("model", Some(s(model.as_str()))));
    }
    if let Some(visibility) = changes.visibility {
        attributes.push(("visibility", Some(s(visibility.as_str()))));
    }
    if let Some(temperature) = changes.temperature {
        attributes.push(("temperature", Some(n(temperature))));
    }
    if let Some(max_tokens) = changes.max_tokens {
        attributes.push(("maxTokens", Some(n(max_tokens))));
    }
    if let Some(welcome) = &changes.welcome_message {
        attributes.push(("welcomeMessage", welcome.as_deref().map(s)));
    }
    if let Some(enabled) = changes.widget_enabled {
        attributes.push(("widgetEnabled", Some(AttributeValue::Bool(enabled))));
    }
    attributes
}
