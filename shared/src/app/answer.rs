//! The answer engine's prompt: the assistant's instructions, what the
//! channel asks of an answer, the passages retrieval found (with their
//! documents' names), the history, then the question. Shared by every
//! channel.

use crate::domain::assistant::Assistant;
use crate::domain::conversation::{Author, Channel, Message};
use crate::domain::passage::Passage;
use crate::ports::{ChatRequest, Speaker, Turn};

/// How many passages an answer reads.
pub const PASSAGES_PER_ANSWER: usize = 5;
/// Tokens of history an answer carries (estimated; see `history_within`).
pub const HISTORY_TOKEN_BUDGET: usize = 2_000;
/// Messages read back to fill that budget.
pub const HISTORY_MESSAGES: usize = 20;

/// Marks each passage in the system prompt; the local model reads them back
/// by this marker.
pub const PASSAGE_MARKER: &str = "[passage";

fn channel_rules(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => {
            "You are answering a text message (SMS). Keep the answer short: a few \
             sentences, under 320 characters when you can. Plain text only: no \
             Markdown, no lists, no headings, no links unless asked."
        }
        Channel::Api => "Answer in Markdown when it helps the reader.",
        // The widget draws plain text: a visitor would see the asterisks.
        Channel::Widget => {
            "You are answering a visitor in a chat window on a website. Be concise \
             and friendly. Plain text only: no Markdown, no headings, no tables."
        }
    }
}

pub fn prompt(
    assistant: &Assistant,
    channel: Channel,
    passages: &[Passage],
    history: &[&Message],
    question: &str,
) -> ChatRequest {
    let mut system = String::new();
    if !assistant.instructions.trim().is_empty() {
        system.push_str(assistant.instructions.trim());
        system.push_str("\n\n");
    }
    system.push_str(channel_rules(channel));
    if passages.is_empty() {
        system.push_str(
            "\n\nNo passage of the knowledge base matches this question: say so \
             rather than guess.",
        );
    } else {
        system.push_str(
            "\n\nAnswer from these passages of the knowledge base; if they do not \
             cover the question, say you do not know.\n",
        );
        for (i, passage) in passages.iter().enumerate() {
            system.push_str(&format!(
                "\n{PASSAGE_MARKER} {} from \"{}\"]\n{}\n",
                i + 1,
                passage.document_name,
                passage.text.trim()
            ));
        }
    }
    let mut turns = vec![Turn {
        speaker: Speaker::System,
        content: system,
    }];
    turns.extend(history.iter().map(|m| Turn {
        speaker: match m.role {
            Author::User => Speaker::User,
            Author::Assistant => Speaker::Assistant,
        },
        content: m.content.clone(),
    }));
    turns.push(Turn {
        speaker: Speaker::User,
        content: question.to_owned(),
    });
    ChatRequest {
        model: assistant.model.clone(),
        turns,
        temperature: assistant.temperature,
        max_tokens: assistant.max_tokens,
    }
}
