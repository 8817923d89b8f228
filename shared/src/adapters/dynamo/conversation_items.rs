//! How a conversation, its messages and its listings are written as
//! items and read back (see the layout in [`keys`]).

use super::codec::{self, n, s, time};
use super::keys;
use super::{Item, key};
use crate::domain::conversation::{
    Author, Channel, Conversation, Message, MessageStatus, Source, Usage,
};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, UserId, WorkspaceId};
use crate::domain::member::Email;
use crate::domain::sms::PhoneNumber;
use crate::domain::visitor::{Feedback, Lead, Rating};
use crate::ports::{ConversationRef, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub(super) fn source_value(source: &Source) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("documentId".to_owned(), s(source.document_id.clone())),
        ("projectId".to_owned(), s(source.project_id.clone())),
        ("documentName".to_owned(), s(source.document_name.clone())),
        ("score".to_owned(), n(source.score)),
    ]))
}

pub(super) fn source_from(item: &Item, value: &AttributeValue) -> Result<Source, StoreError> {
    let map = value.as_m().map_err(|_| codec::corrupt(item, "sources"))?;
    Ok(Source {
        document_id: codec::text(map, "documentId")?.to_owned(),
        project_id: codec::text(map, "projectId")?.to_owned(),
        document_name: codec::text(map, "documentName")?.to_owned(),
        score: codec::number(map, "score")?,
    })
}

pub(super) fn lead_value(lead: &Lead) -> AttributeValue {
    let mut map = HashMap::from([
        ("email".to_owned(), s(lead.email.as_str())),
        ("at".to_owned(), time(lead.at)),
    ]);
    if let Some(name) = &lead.name {
        map.insert("name".to_owned(), s(name.clone()));
    }
    if let Some(phone) = &lead.phone {
        map.insert("phone".to_owned(), s(phone.as_str()));
    }
    AttributeValue::M(map)
}

pub(super) fn lead_from(item: &Item) -> Result<Option<Lead>, StoreError> {
    let Some(value) = item.get("lead") else {
        return Ok(None);
    };
    let map = value.as_m().map_err(|_| codec::corrupt(item, "lead"))?;
    Ok(Some(Lead {
        email: codec::parsed(map, "email", Email::parse)?,
        name: codec::optional_text(map, "name"),
        phone: codec::optional_text(map, "phone")
            .map(|p| PhoneNumber::parse(&p).ok_or_else(|| codec::corrupt(item, "lead")))
            .transpose()?,
        at: codec::timestamp(map, "at")?,
    }))
}

pub(super) fn feedback_value(feedback: &Feedback) -> AttributeValue {
    let mut map = HashMap::from([
        ("rating".to_owned(), s(feedback.rating.as_str())),
        ("at".to_owned(), time(feedback.at)),
    ]);
    if let Some(comment) = &feedback.comment {
        map.insert("comment".to_owned(), s(comment.clone()));
    }
    AttributeValue::M(map)
}

pub(super) fn feedback_from(item: &Item) -> Result<Option<Feedback>, StoreError> {
    let Some(value) = item.get("feedback") else {
        return Ok(None);
    };
    let map = value.as_m().map_err(|_| codec::corrupt(item, "feedback"))?;
    Ok(Some(Feedback {
        rating: codec::parsed(map, "rating", Rating::parse)?,
        comment: codec::optional_text(map, "comment"),
        at: codec::timestamp(map, "at")?,
    }))
}

pub(super) fn message_from(item: &Item) -> Result<Message, StoreError> {
    let usage = match (
        codec::number(item, "promptTokens"),
        codec::number(item, "completionTokens"),
    ) {
        (Ok(prompt_tokens), Ok(completion_tokens)) => Some(Usage {
            prompt_tokens,
            completion_tokens,
            estimated: item
                .get("tokensEstimated")
                .is_some_and(|v| v.as_bool() == Ok(&true)),
        }),
        _ => None,
    };
    let sources = match item.get("sources") {
        None => Vec::new(),
        Some(list) => list
            .as_l()
            .map_err(|_| codec::corrupt(item, "sources"))?
            .iter()
            .map(|value| source_from(item, value))
            .collect::<Result<_, _>>()?,
    };
    Ok(Message {
        id: codec::parsed(item, "id", MessageId::parse)?,
        conversation_id: codec::parsed(item, "conversationId", ConversationId::parse)?,
        role: codec::parsed(item, "role", Author::parse)?,
        content: codec::text(item, "content")?.to_owned(),
        status: codec::parsed(item, "status", MessageStatus::parse)?,
        created_at: codec::timestamp(item, "createdAt")?,
        usage,
        sources,
        feedback: feedback_from(item)?,
    })
}

pub(super) fn message_item(message: &Message) -> Item {
    let (pk, sk) = keys::conversation_message(
        &message.conversation_id,
        message.created_at.millis(),
        &message.id,
    );
    let mut item = key(pk, sk);
    item.extend([
        ("id".to_owned(), s(message.id.as_str())),
        (
            "conversationId".to_owned(),
            s(message.conversation_id.as_str()),
        ),
        ("role".to_owned(), s(message.role.as_str())),
        ("content".to_owned(), s(message.content.clone())),
        ("status".to_owned(), s(message.status.as_str())),
        ("createdAt".to_owned(), time(message.created_at)),
    ]);
    if let Some(usage) = message.usage {
        item.insert("promptTokens".to_owned(), n(usage.prompt_tokens));
        if usage.estimated {
            item.insert("tokensEstimated".to_owned(), AttributeValue::Bool(true));
        }
        item.insert("completionTokens".to_owned(), n(usage.completion_tokens));
    }
    if let Some(feedback) = &message.feedback {
        item.insert("feedback".to_owned(), feedback_value(feedback));
    }
    if !message.sources.is_empty() {
        item.insert(
            "sources".to_owned(),
            AttributeValue::L(message.sources.iter().map(source_value).collect()),
        );
    }
    item
}

pub(super) fn conversation_from(item: &Item) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: codec::parsed(item, "id", ConversationId::parse)?,
        workspace_id: codec::parsed(item, "workspaceId", WorkspaceId::parse)?,
        assistant_id: codec::parsed(item, "assistantId", AssistantId::parse)?,
        channel: codec::parsed(item, "channel", Channel::parse)?,
        contact: codec::optional_text(item, "contact")
            .map(|c| PhoneNumber::parse(&c).ok_or_else(|| codec::corrupt(item, "contact")))
            .transpose()?,
        created_by: codec::optional_text(item, "createdBy")
            .map(|u| UserId::parse(&u).ok_or_else(|| codec::corrupt(item, "createdBy")))
            .transpose()?,
        title: codec::optional_text(item, "title"),
        lead: lead_from(item)?,
        message_count: codec::number(item, "messageCount")?,
        created_at: codec::timestamp(item, "createdAt")?,
        updated_at: codec::timestamp(item, "updatedAt")?,
    })
}

pub(super) fn is_deleted(item: &Item) -> bool {
    item.contains_key("deletedAt")
}

/// A conversation's own item, as first written.
pub(super) fn conversation_item(conversation: &Conversation) -> Item {
    let (pk, sk) = keys::conversation(&conversation.id);
    let mut item = key(pk, sk);
    item.extend([
        ("id".to_owned(), s(conversation.id.as_str())),
        (
            "workspaceId".to_owned(),
            s(conversation.workspace_id.as_str()),
        ),
        (
            "assistantId".to_owned(),
            s(conversation.assistant_id.as_str()),
        ),
        ("channel".to_owned(), s(conversation.channel.as_str())),
        ("messageCount".to_owned(), n(conversation.message_count)),
        ("createdAt".to_owned(), time(conversation.created_at)),
        ("updatedAt".to_owned(), time(conversation.updated_at)),
    ]);
    if let Some(contact) = &conversation.contact {
        item.insert("contact".to_owned(), s(contact.as_str()));
    }
    if let Some(user) = &conversation.created_by {
        item.insert("createdBy".to_owned(), s(user.as_str()));
    }
    if let Some(title) = &conversation.title {
        item.insert("title".to_owned(), s(title.clone()));
    }
    if let Some(lead) = &conversation.lead {
        item.insert("lead".to_owned(), lead_value(lead));
    }
    item
}

pub(super) fn listing_keys(conversation: &Conversation) -> Vec<Item> {
    let created = conversation.created_at.millis();
    let (pk, sk) = keys::assistant_listing(&conversation.assistant_id, created, &conversation.id);
    let mut listings = vec![key(pk, sk)];
    if let Some(user) = &conversation.created_by {
        let (pk, sk) =
            keys::creator_listing(user, &conversation.workspace_id, created, &conversation.id);
        listings.push(key(pk, sk));
    }
    listings
}

/// The entries that list a new conversation: under its assistant, and
/// under its creator (API conversations).
pub(super) fn listing_items(conversation: &Conversation) -> Vec<Item> {
    listing_keys(conversation)
        .into_iter()
        .map(|mut item| {
            item.extend([
                ("conversationId".to_owned(), s(conversation.id.as_str())),
                (
                    "assistantId".to_owned(),
                    s(conversation.assistant_id.as_str()),
                ),
            ]);
            item
        })
        .collect()
}

pub(super) fn reference_from(item: &Item) -> Result<ConversationRef, StoreError> {
    Ok(ConversationRef {
        id: codec::parsed(item, "conversationId", ConversationId::parse)?,
        assistant_id: codec::parsed(item, "assistantId", AssistantId::parse)?,
    })
}
