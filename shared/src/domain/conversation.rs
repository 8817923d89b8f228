//! Conversations and their messages. An SMS session is a conversation on
//! the `sms` channel, with the texter as its contact.

use super::ids::{AssistantId, ConversationId, MessageId, WorkspaceId};
use super::sms::PhoneNumber;
use super::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Api,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Sms => "sms",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "api" => Some(Self::Api),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub channel: Channel,
    /// The texter, on the SMS channel.
    pub contact: Option<PhoneNumber>,
    pub title: Option<String>,
    pub message_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageStatus {
    Completed,
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Tokens a model call used, as the provider reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub created_at: Timestamp,
    pub usage: Option<Usage>,
}

/// A history for the model: the newest messages that fit `budget` tokens,
/// oldest first, failed answers left out (they were never seen whole).
/// Tokens are estimated at four characters each, the usual rule of thumb
/// for English: the reply worker does not load a tokenizer for a budget.
pub fn history_within(newest_first: &[Message], budget_tokens: usize) -> Vec<&Message> {
    let mut spent = 0;
    let mut kept: Vec<&Message> = Vec::new();
    for message in newest_first {
        if message.status == MessageStatus::Failed {
            continue;
        }
        let cost = message.content.chars().count().div_ceil(4) + 4;
        if spent + cost > budget_tokens {
            break;
        }
        spent += cost;
        kept.push(message);
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(content: &str, status: MessageStatus, at: i64) -> Message {
        Message {
            id: MessageId::generate(),
            conversation_id: ConversationId::generate(),
            role: Role::User,
            content: content.into(),
            status,
            created_at: Timestamp::from_millis(at),
            usage: None,
        }
    }

    #[test]
    fn history_keeps_the_newest_that_fit_oldest_first_without_failed_answers() {
        let newest_first = vec![
            message("third", MessageStatus::Completed, 3),
            message("half an answer", MessageStatus::Failed, 2),
            message("second", MessageStatus::Completed, 2),
            message(&"x".repeat(400), MessageStatus::Completed, 1),
        ];
        let kept = history_within(&newest_first, 50);
        let contents: Vec<&str> = kept.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(contents, vec!["second", "third"]);
    }
}
