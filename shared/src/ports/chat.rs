//! A chat model (an OpenAI-compatible `/chat/completions`), in the domain's
//! words.

use super::providers::ProviderError;
use crate::domain::conversation::Usage;
use async_trait::async_trait;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// What a streamed answer yields: text as the model produces it, then its
/// end with what it cost.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    Delta(String),
    Done { usage: Usage, truncated: bool },
}

/// A streamed answer; an `Err` ends it (the model failed part way).
pub type ChatStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

/// Events already known, as a stream.
struct Known(VecDeque<Result<ChatEvent, ProviderError>>);

impl futures_core::Stream for Known {
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front())
    }
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError>;

    /// The answer as it is produced. A model that cannot stream answers it
    /// whole, as one delta.
    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let answer = self.complete(request).await?;
        Ok(Box::pin(Known(VecDeque::from([
            Ok(ChatEvent::Delta(answer.text)),
            Ok(ChatEvent::Done {
                usage: answer.usage,
                truncated: answer.truncated,
            }),
        ]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    struct Whole;

    #[async_trait]
    impl ChatModel for Whole {
        async fn complete(&self, _: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
            Ok(ChatAnswer {
                text: "All of it.".into(),
                usage: Usage {
                    prompt_tokens: 3,
                    completion_tokens: 2,
                    estimated: false,
                },
                truncated: false,
            })
        }
    }

    #[tokio::test]
    async fn a_model_that_cannot_stream_streams_its_whole_answer_as_one_delta() {
        let request = ChatRequest {
            model: "m".into(),
            turns: Vec::new(),
            temperature: 0.0,
            max_tokens: 10,
        };
        let mut stream = Whole.stream(&request).await.unwrap();
        let mut events = Vec::new();
        while let Some(event) = poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            events.push(event.unwrap());
        }
        assert_eq!(
            events,
            vec![
                ChatEvent::Delta("All of it.".into()),
                ChatEvent::Done {
                    usage: Usage {
                        prompt_tokens: 3,
                        completion_tokens: 2,
                        estimated: false
                    },
                    truncated: false
                }
            ]
        );
    }
}
