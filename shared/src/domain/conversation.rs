//! Conversations and their messages. An SMS session is a conversation on
//! the `sms` channel, with the texter as its contact; an API conversation
//! belongs to the member who started it; a widget conversation belongs to
//! a visitor's session and carries their lead once they leave one.

use super::fields::{FieldErrors, FieldReader, display_name, string};
use super::ids::{AssistantId, ConversationId, MessageId, UserId, WorkspaceId};
use super::passage::Passage;
use super::sms::PhoneNumber;
use super::time::Timestamp;
use super::visitor::{Feedback, Lead};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Api,
    Sms,
    Widget,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Sms => "sms",
            Self::Widget => "widget",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "api" => Some(Self::Api),
            "sms" => Some(Self::Sms),
            "widget" => Some(Self::Widget),
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
    /// The member who started it, on the API channel.
    pub created_by: Option<UserId>,
    pub title: Option<String>,
    /// The visitor's contact details, on the widget channel, once given.
    pub lead: Option<Lead>,
    pub message_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who wrote a message: the person asking, or the assistant answering
/// (a message's `role` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    User,
    Assistant,
}

impl Author {
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
    /// The provider reported none: counted with the tokenizer instead.
    pub estimated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub role: Author,
    pub content: String,
    pub status: MessageStatus,
    pub created_at: Timestamp,
    pub usage: Option<Usage>,
    /// For an answer: the documents it was grounded on.
    pub sources: Vec<Source>,
    /// For an answer: what the reader thought of it, if they said.
    pub feedback: Option<Feedback>,
}

/// Where a stored message is: enough to read it by its key, without a
/// query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRef {
    pub id: MessageId,
    pub at: Timestamp,
}

impl Message {
    pub fn reference(&self) -> MessageRef {
        MessageRef {
            id: self.id.clone(),
            at: self.created_at,
        }
    }

    pub fn new(
        conversation: &ConversationId,
        role: Author,
        content: String,
        at: Timestamp,
    ) -> Self {
        Self {
            id: MessageId::generate(),
            conversation_id: conversation.clone(),
            role,
            content,
            status: MessageStatus::Completed,
            created_at: at,
            usage: None,
            sources: Vec::new(),
            feedback: None,
        }
    }
}

/// A document an answer drew on, with its best passage's score.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub document_id: String,
    pub project_id: String,
    pub document_name: String,
    pub score: f32,
}

/// The documents behind these passages, each once with its best score,
/// best first.
pub fn sources_of(passages: &[Passage]) -> Vec<Source> {
    let mut sources: Vec<Source> = Vec::new();
    for passage in passages {
        match sources
            .iter_mut()
            .find(|s| s.document_id == passage.document_id)
        {
            Some(known) => known.score = known.score.max(passage.score),
            None => sources.push(Source {
                document_id: passage.document_id.clone(),
                project_id: passage.project_id.clone(),
                document_name: passage.document_name.clone(),
                score: passage.score,
            }),
        }
    }
    sources.sort_by(|a, b| b.score.total_cmp(&a.score));
    sources
}

/// Characters of the first question a conversation takes as its title.
pub const TITLE_CHARS: usize = 60;
/// The longest title a client may give.
pub const TITLE_MAX_CHARS: usize = 200;
/// The longest question a client may ask.
pub const CONTENT_MAX_CHARS: usize = 16_000;

/// A title from the first question: its words (white space collapsed) up
/// to [`TITLE_CHARS`] characters, cut at the last word boundary within
/// them (a single longer word is cut where the limit falls).
pub fn title_from(question: &str) -> String {
    let line = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= TITLE_CHARS {
        return line;
    }
    let cut: String = line.chars().take(TITLE_CHARS + 1).collect();
    let title = match cut.rfind(' ') {
        Some(space) if space > 0 => &cut[..space],
        _ => {
            let end = cut
                .char_indices()
                .nth(TITLE_CHARS)
                .map_or(cut.len(), |(i, _)| i);
            &cut[..end]
        }
    };
    title.trim_end().to_owned()
}

/// The body of `POST /conversations`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewConversationRequest {
    /// As sent: an id that names no assistant is a 404, not a 400.
    pub assistant_id: String,
    pub title: Option<String>,
}

impl NewConversationRequest {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let assistant_id = reader.required("assistantId", string);
        let title = reader
            .nullable("title", |v| display_name(v, 1, TITLE_MAX_CHARS))
            .flatten();
        reader.finish()?;
        let assistant_id =
            assistant_id.ok_or_else(|| FieldErrors::single("assistantId", "is required"))?;
        Ok(Self {
            assistant_id,
            title,
        })
    }
}

const READ_ONLY: &[&str] = &[
    "id",
    "channel",
    "messageCount",
    "createdAt",
    "updatedAt",
    "contact",
];

/// The body of `POST /conversations/{id}/messages`: the question, kept as
/// sent (white space and all) once it has something in it.
pub fn question_from_json(body: Value) -> Result<String, FieldErrors> {
    let mut reader = FieldReader::new(body, &["id", "role", "status", "createdAt"])?;
    let content = reader.required("content", |value| {
        let text = string(value)?;
        let length = text.chars().count();
        if text.trim().is_empty() {
            Err("must not be empty".into())
        } else if length > CONTENT_MAX_CHARS {
            Err(format!(
                "must be at most {CONTENT_MAX_CHARS} characters (it has {length})"
            ))
        } else {
            Ok(text)
        }
    });
    reader.finish()?;
    content.ok_or_else(|| FieldErrors::single("content", "is required"))
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
            role: Author::User,
            content: content.into(),
            status,
            created_at: Timestamp::from_millis(at),
            usage: None,
            sources: Vec::new(),
            feedback: None,
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

    #[test]
    fn a_short_question_is_its_own_title() {
        assert_eq!(
            title_from("  How long do\nrefunds take?  "),
            "How long do refunds take?"
        );
    }

    #[test]
    fn a_long_question_is_cut_at_the_last_word_within_sixty_characters() {
        let question =
            "Where can I find the warranty terms for the espresso machine I bought last spring?";
        let title = title_from(question);
        assert_eq!(
            title,
            "Where can I find the warranty terms for the espresso machine"
        );
        assert!(title.chars().count() <= TITLE_CHARS);
        let exact = "a".repeat(58) + " b";
        assert_eq!(title_from(&exact), exact, "sixty characters are kept whole");
        let one_more = "a".repeat(59) + " b";
        assert_eq!(title_from(&one_more), "a".repeat(59));
    }

    #[test]
    fn one_endless_word_is_cut_at_sixty_characters_on_a_character_boundary() {
        let word = "é".repeat(100);
        assert_eq!(title_from(&word), "é".repeat(60));
    }

    #[test]
    fn sources_name_each_document_once_with_its_best_score_best_first() {
        let passage = |doc: &str, score: f32| Passage {
            project_id: "proj_a".into(),
            document_id: doc.into(),
            document_name: format!("{doc}.md"),
            chunk_index: 0,
            text: String::new(),
            score,
        };
        let sources = sources_of(&[passage("a", 0.5), passage("b", 0.7), passage("a", 0.9)]);
        let found: Vec<(&str, f32)> = sources
            .iter()
            .map(|s| (s.document_id.as_str(), s.score))
            .collect();
        assert_eq!(found, vec![("a", 0.9), ("b", 0.7)]);
    }

    #[test]
    fn a_question_must_have_content_and_at_most_sixteen_thousand_characters() {
        use serde_json::json;
        assert_eq!(
            question_from_json(json!({"content": " hi "})).unwrap(),
            " hi "
        );
        for bad in [
            json!({}),
            json!({"content": "  "}),
            json!({"content": 3}),
            json!({"content": "x".repeat(16_001)}),
            json!({"content": "x", "role": "assistant"}),
        ] {
            assert!(question_from_json(bad).is_err());
        }
        assert!(question_from_json(json!({"content": "x".repeat(16_000)})).is_ok());
    }
}
