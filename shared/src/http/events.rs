//! The events a committed change makes, each carrying in `data` the thing
//! as the API serves it (a message also names its conversation's assistant
//! and channel). Decided from what the thing was and what it is, so the
//! same rules hold on every store and however the change was read.

use super::views::{
    AssistantView, ConversationView, DocumentView, LeadView, MemberView, MessageView,
};
use crate::domain::conversation::{Author, Conversation, Message, MessageStatus};
use crate::domain::document::DocumentStatus;
use crate::domain::ids::{EventId, WorkspaceId};
use crate::domain::role::MemberStatus;
use crate::domain::visitor::Lead;
use crate::domain::webhook::EventType;
use crate::domain::webhook::change::{Change, Entity};
use crate::domain::webhook::delivery::Event;
use serde_json::Value;

fn json(view: impl serde::Serialize) -> Value {
    serde_json::to_value(view).expect("views serialise")
}

fn message_data(conversation: &Conversation, message: &Message) -> Value {
    let mut data = json(MessageView::from(message));
    if let Value::Object(fields) = &mut data {
        fields.insert(
            "assistantId".into(),
            Value::String(conversation.assistant_id.to_string()),
        );
        fields.insert(
            "channel".into(),
            Value::String(conversation.channel.as_str().to_owned()),
        );
    }
    data
}

fn same_person(one: &Lead, other: &Lead) -> bool {
    (&one.email, &one.name, &one.phone) == (&other.email, &other.name, &other.phone)
}

/// A lead as the API serves it, with where it was given.
fn contact_data(conversation: &Conversation, lead: &Lead) -> Value {
    let mut data = json(LeadView::from(lead));
    if let Value::Object(fields) = &mut data {
        for (name, value) in [
            ("conversationId", conversation.id.to_string()),
            ("assistantId", conversation.assistant_id.to_string()),
            ("channel", conversation.channel.as_str().to_owned()),
        ] {
            fields.insert(name.into(), Value::String(value));
        }
    }
    data
}

/// A texter: their number, whether they opted out, and where they text.
fn texter_data(conversation: &Conversation, opted_out: bool) -> Value {
    serde_json::json!({
        "phone": conversation.contact.as_ref().map(|p| p.as_str()),
        "optedOut": opted_out,
        "conversationId": conversation.id,
        "assistantId": conversation.assistant_id,
        "channel": conversation.channel.as_str(),
    })
}

/// What one change announces: its type, the workspace, and `data`.
fn announced(change: &Change) -> Vec<(EventType, WorkspaceId, Value)> {
    use Entity::*;
    match (&change.before, &change.after) {
        (None, Some(Assistant(made))) => vec![(
            EventType::AssistantCreated,
            made.workspace_id.clone(),
            json(AssistantView::from(made)),
        )],
        (Some(Assistant(was)), Some(Assistant(now))) if was != now => vec![(
            EventType::AssistantUpdated,
            now.workspace_id.clone(),
            json(AssistantView::from(now)),
        )],
        (Some(Assistant(gone)), None) => vec![(
            EventType::AssistantDeleted,
            gone.workspace_id.clone(),
            json(AssistantView::from(gone)),
        )],
        (None, Some(Conversation(started))) => vec![(
            EventType::ConversationCreated,
            started.workspace_id.clone(),
            json(ConversationView::from(started)),
        )],
        // A widget visitor's contact details: given, or given otherwise.
        (Some(Conversation(was)), Some(Conversation(now))) => {
            let (Some(lead), kind) = (
                &now.lead,
                match &was.lead {
                    None => EventType::ContactCreated,
                    Some(_) => EventType::ContactUpdated,
                },
            ) else {
                return Vec::new();
            };
            if was.lead.as_ref().is_some_and(|old| same_person(old, lead)) {
                return Vec::new();
            }
            vec![(kind, now.workspace_id.clone(), contact_data(now, lead))]
        }
        // A question when it is stored; an answer once it is complete (a
        // failed one is no message anyone was sent).
        (None, Some(Message(conversation, message)))
            if message.role == Author::User || message.status == MessageStatus::Completed =>
        {
            vec![(
                EventType::MessageCreated,
                conversation.workspace_id.clone(),
                message_data(conversation, message),
            )]
        }
        (Some(Message(_, was)), Some(Message(conversation, now)))
            if was.feedback != now.feedback =>
        {
            vec![(
                EventType::MessageUpdated,
                conversation.workspace_id.clone(),
                message_data(conversation, now),
            )]
        }
        // An SMS texter's first text, and their opting out or back in.
        (
            was,
            Some(Texter {
                conversation,
                opted_out,
            }),
        ) if !matches!(was, Some(Texter { opted_out: before, .. }) if before == opted_out) => {
            let kind = if was.is_none() {
                EventType::ContactCreated
            } else {
                EventType::ContactUpdated
            };
            vec![(
                kind,
                conversation.workspace_id.clone(),
                texter_data(conversation, *opted_out),
            )]
        }
        (None, Some(UsageAlert(alert))) => vec![(
            EventType::UsageThresholdReached,
            alert.workspace_id.clone(),
            serde_json::json!({
                "scope": alert.scope.as_str(),
                "assistantId": alert.scope.assistant_id(),
                "metric": alert.metric.as_str(),
                "threshold": alert.threshold,
                "limit": alert.limit,
                "used": alert.used,
                "month": alert.month.to_string(),
            }),
        )],
        (was, Some(Member(now)))
            if now.status == MemberStatus::Active
                && !matches!(was, Some(Member(m)) if m.status == MemberStatus::Active) =>
        {
            vec![(
                EventType::MemberJoined,
                now.workspace_id.clone(),
                json(MemberView::from(now.clone())),
            )]
        }
        (Some(Member(was)), now)
            if was.status == MemberStatus::Active
                && !matches!(now, Some(Member(m)) if m.status == MemberStatus::Active) =>
        {
            vec![(
                EventType::MemberLeft,
                was.workspace_id.clone(),
                json(MemberView::from(was.clone())),
            )]
        }
        (was, Some(Document(now))) => {
            let kind = match now.status {
                DocumentStatus::Completed => EventType::DocumentCompleted,
                DocumentStatus::Failed => EventType::DocumentFailed,
                _ => return Vec::new(),
            };
            if matches!(was, Some(Document(d)) if d.status == now.status) {
                return Vec::new();
            }
            vec![(
                kind,
                now.workspace_id.clone(),
                json(DocumentView::from(now)),
            )]
        }
        _ => Vec::new(),
    }
}

/// The events `change` makes, with ids derived from the change's, so the
/// same change read twice makes the same events.
pub fn events_of(change: &Change) -> Vec<Event> {
    announced(change)
        .into_iter()
        .map(|(kind, workspace_id, data)| Event {
            id: EventId::derived(&format!("{}/{}", change.id, kind.as_str())),
            kind,
            workspace_id,
            at: change.at,
            data,
        })
        .collect()
}
