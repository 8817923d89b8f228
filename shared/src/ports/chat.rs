//! A chat model (an OpenAI-compatible `/chat/completions`), in the domain's
//! words.

use super::providers::ProviderError;
use crate::domain::conversation::Usage;
use async_trait::async_trait;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    System,
    User,
    Assistant,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub speaker: Speaker,
    pub content: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub turns: Vec<Turn>,
    pub temperature: f64,
    pub max_tokens: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatAnswer {
    pub text: String,
    pub usage: Usage,
    /// The model stopped at `max_tokens` rather than at its own end.
    pub truncated: bool,
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError>;
}
