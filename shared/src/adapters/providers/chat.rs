//! An OpenAI-compatible `POST {base}/chat/completions` client: OpenAI, xAI,
//! Ollama, vLLM, llama.cpp, and the local model. Only the subset every one
//! of them accepts is sent (`model`, `messages`, `temperature`,
//! `max_tokens`).

use super::http::{RetryPolicy, send_json};
use crate::domain::conversation::Usage;
use crate::ports::{ChatAnswer, ChatModel, ChatRequest, ProviderError, Speaker};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

const PROVIDER: &str = "the chat model";

#[derive(Clone, Debug)]
pub struct ChatConfig {
    /// e.g. `https://api.openai.com/v1`
    pub base_url: String,
    pub api_key: SecretString,
    pub timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct OpenAiChat {
    http: reqwest::Client,
    config: ChatConfig,
    retry: RetryPolicy,
}

impl OpenAiChat {
    pub fn new(http: reqwest::Client, config: ChatConfig, retry: RetryPolicy) -> Self {
        Self {
            http,
            config,
            retry,
        }
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<ReportedUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct ReportedUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

fn role(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::System => "system",
        Speaker::User => "user",
        Speaker::Assistant => "assistant",
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let body = json!({
            "model": request.model,
            "messages": request.turns.iter().map(|t| json!({
                "role": role(t.speaker),
                "content": t.content,
            })).collect::<Vec<_>>(),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        });
        let completion: Completion = send_json(PROVIDER, self.retry, || {
            self.http
                .post(&url)
                .bearer_auth(self.config.api_key.expose_secret())
                .timeout(self.config.timeout)
                .json(&body)
        })
        .await?;
        let choice = completion
            .choices
            .and_then(|c| c.into_iter().next())
            .ok_or_else(|| ProviderError::Malformed {
                provider: PROVIDER,
                detail: "no choices in the answer".into(),
            })?;
        let text = choice.message.content.unwrap_or_default();
        if text.trim().is_empty() {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "the answer is empty".into(),
            });
        }
        let usage = completion.usage.map_or_else(Usage::default, |u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        });
        Ok(ChatAnswer {
            text,
            usage,
            truncated: choice.finish_reason.as_deref() == Some("length"),
        })
    }
}
