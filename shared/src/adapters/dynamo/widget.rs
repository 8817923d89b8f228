//! The widget's items (see the layout in [`keys`]): settings found by
//! assistant alone, sessions written with their conversation in one
//! transaction, use counters updated conditionally so a limit holds across
//! every container, and a visitor's lead and feedback on the conversation's
//! own items.

use super::codec::{self, n, s, time};
use super::conversation_items::{
    conversation_from, feedback_value, lead_value, message_from, message_item,
};
use super::keys;
use super::requests::UpdateSpec;
use super::{BATCH_WRITE_MAX, DynamoStore, Item, key};
use crate::domain::conversation::{Author, Conversation, Message};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WidgetSessionId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{Feedback, Lead};
use crate::domain::widget::{AllowedOrigin, Position, UseWindow, WidgetLimits, WidgetSettings};
use crate::ports::{
    Admission, Conflict, NewWidgetSession, StoreError, WidgetSession, WidgetSite, WidgetStore,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

/// The settings item of a new assistant: where it lives, and the defaults.
pub(super) fn default_site_item(ws: &WorkspaceId, assistant: &AssistantId) -> Item {
    let (pk, sk) = keys::widget_site(assistant);
    let mut item = key(pk, sk);
    item.extend([
        ("workspaceId".to_owned(), s(ws.as_str())),
        ("assistantId".to_owned(), s(assistant.as_str())),
    ]);
    item
}

fn site_item(site: &WidgetSite) -> Item {
    let mut item = default_site_item(&site.workspace_id, &site.assistant_id);
    let settings = &site.settings;
    item.extend([
        (
            "allowedOrigins".to_owned(),
            AttributeValue::L(
                settings
                    .allowed_origins
                    .iter()
                    .map(|o| s(o.as_str()))
                    .collect(),
            ),
        ),
        ("primaryColor".to_owned(), s(settings.primary_color.clone())),
        ("position".to_owned(), s(settings.position.as_str())),
        (
            "initsPerMinutePerIp".to_owned(),
            n(settings.limits.inits_per_minute_per_ip),
        ),
        (
            "messagesPerSessionPerHour".to_owned(),
            n(settings.limits.messages_per_session_per_hour),
        ),
        (
            "messagesPerMonth".to_owned(),
            n(settings.limits.messages_per_month),
        ),
        (
            "sessionsPerHourPerIp".to_owned(),
            n(settings.limits.sessions_per_hour_per_ip),
        ),
        (
            "messagesPerHourPerIp".to_owned(),
            n(settings.limits.messages_per_hour_per_ip),
        ),
        (
            "messagesPerDayPerIp".to_owned(),
            n(settings.limits.messages_per_day_per_ip),
        ),
    ]);
    if let Some(title) = &settings.title {
        item.insert("title".to_owned(), s(title.clone()));
    }
    if let Some(at) = site.updated_at {
        item.insert("updatedAt".to_owned(), time(at));
    }
    item
}

/// An item without settings (as first written) reads as the defaults.
fn site_from(item: &Item) -> Result<WidgetSite, StoreError> {
    let defaults = WidgetSettings::default();
    let origins = match item.get("allowedOrigins") {
        None => Vec::new(),
        Some(list) => list
            .as_l()
            .map_err(|_| codec::corrupt(item, "allowedOrigins"))?
            .iter()
            .map(|v| {
                v.as_s()
                    .ok()
                    .and_then(|o| AllowedOrigin::parse(o).ok())
                    .ok_or_else(|| codec::corrupt(item, "allowedOrigins"))
            })
            .collect::<Result<_, _>>()?,
    };
    let limit = |field: &str, default: u32| {
        if item.contains_key(field) {
            codec::number(item, field)
        } else {
            Ok(default)
        }
    };
    let default_limits = WidgetLimits::default();
    Ok(WidgetSite {
        workspace_id: codec::parsed(item, "workspaceId", WorkspaceId::parse)?,
        assistant_id: codec::parsed(item, "assistantId", AssistantId::parse)?,
        settings: WidgetSettings {
            allowed_origins: origins,
            title: codec::optional_text(item, "title"),
            primary_color: codec::optional_text(item, "primaryColor")
                .unwrap_or(defaults.primary_color),
            position: match codec::optional_text(item, "position") {
                None => defaults.position,
                Some(p) => Position::parse(&p).ok_or_else(|| codec::corrupt(item, "position"))?,
            },
            limits: WidgetLimits {
                inits_per_minute_per_ip: limit(
                    "initsPerMinutePerIp",
                    default_limits.inits_per_minute_per_ip,
                )?,
                messages_per_session_per_hour: limit(
                    "messagesPerSessionPerHour",
                    default_limits.messages_per_session_per_hour,
                )?,
                messages_per_month: limit("messagesPerMonth", default_limits.messages_per_month)?,
                sessions_per_hour_per_ip: limit(
                    "sessionsPerHourPerIp",
                    default_limits.sessions_per_hour_per_ip,
                )?,
                messages_per_hour_per_ip: limit(
                    "messagesPerHourPerIp",
                    default_limits.messages_per_hour_per_ip,
                )?,
                messages_per_day_per_ip: limit(
                    "messagesPerDayPerIp",
                    default_limits.messages_per_day_per_ip,
                )?,
            },
        },
        updated_at: codec::optional_timestamp(item, "updatedAt"),
    })
}

fn session_item(session: &WidgetSession) -> Item {
    let (pk, sk) = keys::widget_session(&session.assistant_id, &session.id);
    let mut item = key(pk, sk);
    item.extend([
        ("id".to_owned(), s(session.id.as_str())),
        ("workspaceId".to_owned(), s(session.workspace_id.as_str())),
        ("assistantId".to_owned(), s(session.assistant_id.as_str())),
        (
            "conversationId".to_owned(),
            s(session.conversation_id.as_str()),
        ),
        ("origin".to_owned(), s(session.origin.as_str())),
        ("createdAt".to_owned(), time(session.created_at)),
    ]);
    if let Some(metadata) = &session.metadata {
        item.insert("metadata".to_owned(), s(metadata.clone()));
    }
    item
}

fn session_from(item: &Item) -> Result<WidgetSession, StoreError> {
    Ok(WidgetSession {
        id: codec::parsed(item, "id", WidgetSessionId::parse)?,
        workspace_id: codec::parsed(item, "workspaceId", WorkspaceId::parse)?,
        assistant_id: codec::parsed(item, "assistantId", AssistantId::parse)?,
        conversation_id: codec::parsed(item, "conversationId", ConversationId::parse)?,
        origin: codec::parsed(item, "origin", |o| AllowedOrigin::parse(o).ok())?,
        metadata: codec::optional_text(item, "metadata"),
        created_at: codec::timestamp(item, "createdAt")?,
    })
}

impl DynamoStore {
    /// Every item of the assistant's widget partition: the cascade's share.
    pub(super) async fn delete_widget(&self, assistant: &AssistantId) -> Result<usize, StoreError> {
        let items = self
            .query_partition(&keys::widget_partition(assistant), "")
            .await?;
        let doomed: Vec<Item> = items
            .iter()
            .map(|item| {
                Ok(key(
                    codec::text(item, keys::PK)?.to_owned(),
                    codec::text(item, keys::SK)?.to_owned(),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        for chunk in doomed.chunks(BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(doomed.len())
    }
}

#[async_trait]
impl WidgetStore for DynamoStore {
    async fn widget_site(&self, assistant: &AssistantId) -> Result<Option<WidgetSite>, StoreError> {
        let (pk, sk) = keys::widget_site(assistant);
        self.get(pk, sk).await?.as_ref().map(site_from).transpose()
    }

    async fn save_widget_settings(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        settings: WidgetSettings,
        at: Timestamp,
    ) -> Result<WidgetSite, StoreError> {
        let site = WidgetSite {
            workspace_id: ws.clone(),
            assistant_id: assistant.clone(),
            settings,
            updated_at: Some(at),
        };
        let (apk, ask) = keys::assistant(ws, assistant);
        let items = vec![
            self.require_exists(key(apk, ask)),
            // The settings stay with the assistant's own workspace.
            self.put_if(
                site_item(&site),
                "attribute_not_exists(PK) OR workspaceId = :ws",
                vec![(":ws", s(ws.as_str()))],
            ),
        ];
        self.transact(items, |_| StoreError::NotFound("assistant"))
            .await?;
        Ok(site)
    }

    async fn start_widget_session(
        &self,
        new: NewWidgetSession,
    ) -> Result<(WidgetSession, Conversation, Option<Message>), StoreError> {
        let (session, conversation, welcome) = new.start();
        let (apk, ask) = keys::assistant(&conversation.workspace_id, &conversation.assistant_id);
        let mut items = vec![self.require_exists(key(apk, ask))];
        // The session is named on the conversation, so deleting the
        // conversation finds it.
        items.extend(self.new_conversation_items_with(
            &conversation,
            [("widgetSession".to_owned(), s(session.id.as_str()))],
        ));
        if let Some(message) = &welcome {
            items.push(self.put_fresh(message_item(message)));
        }
        items.push(self.put_fresh(session_item(&session)));
        self.transact(items, |i| match i {
            0 => StoreError::NotFound("assistant"),
            _ => Conflict::IdCollision("widget session").into(),
        })
        .await?;
        Ok((session, conversation, welcome))
    }

    async fn widget_session(
        &self,
        assistant: &AssistantId,
        id: &WidgetSessionId,
    ) -> Result<Option<WidgetSession>, StoreError> {
        let (pk, sk) = keys::widget_session(assistant, id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(session_from)
            .transpose()
    }

    async fn count_use(
        &self,
        assistant: &AssistantId,
        windows: &[UseWindow],
    ) -> Result<Admission, StoreError> {
        self.count_all(
            windows
                .iter()
                .map(|w| (keys::widget_use(assistant, &w.key), w))
                .collect(),
        )
        .await
    }

    async fn save_lead(
        &self,
        conversation: &ConversationId,
        lead: &Lead,
    ) -> Result<Conversation, StoreError> {
        let (pk, sk) = keys::conversation(conversation);
        self.transact(
            vec![self.update_item(UpdateSpec {
                key: key(pk.clone(), sk.clone()),
                expression: "SET #lead = :lead, updatedAt = :at",
                condition: Some("attribute_exists(PK) AND attribute_not_exists(deletedAt)"),
                // A reserved word in DynamoDB's expressions.
                names: &[("#lead", "lead")],
                values: vec![(":lead", lead_value(lead)), (":at", time(lead.at))],
            })],
            |_| StoreError::NotFound("conversation"),
        )
        .await?;
        let item = self
            .get(pk, sk)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        conversation_from(&item)
    }

    async fn rate_answer(
        &self,
        conversation: &ConversationId,
        message: &MessageId,
        feedback: &Feedback,
    ) -> Result<Message, StoreError> {
        // A message's key holds its time, which the client does not send:
        // the conversation's messages are read to find it (a conversation
        // is one partition, so this is one query of pages).
        let items = self
            .query_partition(&keys::conversation_partition(conversation), "MSG#")
            .await?;
        let found = items
            .iter()
            .find(|item| codec::text(item, "id").is_ok_and(|id| id == message.as_str()))
            .ok_or(StoreError::NotFound("message"))?;
        let mut rated = message_from(found)?;
        if rated.role != Author::Assistant {
            return Err(StoreError::NotFound("message"));
        }
        self.transact(
            vec![self.update_item(UpdateSpec {
                key: key(
                    codec::text(found, keys::PK)?.to_owned(),
                    codec::text(found, keys::SK)?.to_owned(),
                ),
                expression: "SET #feedback = :feedback",
                condition: Some("attribute_exists(PK)"),
                names: &[("#feedback", "feedback")],
                values: vec![(":feedback", feedback_value(feedback))],
            })],
            |_| StoreError::NotFound("message"),
        )
        .await?;
        rated.feedback = Some(feedback.clone());
        Ok(rated)
    }
}
