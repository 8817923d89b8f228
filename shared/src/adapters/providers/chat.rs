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

/// Every model through the chat API its id's prefix names (`gpt-` to
/// OpenAI, `grok-` to xAI, ...), the longest matching prefix first, and
/// any other model through the default API.
#[derive(Clone, Debug)]
pub struct ChatRouter {
    routes: Vec<(String, OpenAiChat)>,
    default: OpenAiChat,
}

impl ChatRouter {
    pub fn new(default: OpenAiChat, mut routes: Vec<(String, OpenAiChat)>) -> Self {
        routes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Self { routes, default }
    }

    fn client_for(&self, model: &str) -> &OpenAiChat {
        self.routes
            .iter()
            .find(|(prefix, _)| model.starts_with(prefix.as_str()))
            .map_or(&self.default, |(_, client)| client)
    }
}

#[async_trait]
impl ChatModel for ChatRouter {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        self.client_for(&request.model).complete(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> OpenAiChat {
        OpenAiChat::new(
            reqwest::Client::new(),
            ChatConfig {
                base_url: base.into(),
                api_key: SecretString::from("k".to_owned()),
                timeout: Duration::from_secs(1),
            },
            RetryPolicy::default(),
        )
    }

    #[test]
    fn a_model_goes_to_its_longest_matching_prefix_else_to_the_default() {
        let router = ChatRouter::new(
            client("https://default"),
            vec![
                ("gpt-".into(), client("https://openai")),
                ("gpt-4o-mini".into(), client("https://mini")),
                ("grok-".into(), client("https://xai")),
            ],
        );
        let base = |model: &str| router.client_for(model).config.base_url.clone();
        assert_eq!(base("gpt-4o"), "https://openai");
        assert_eq!(base("gpt-4o-mini"), "https://mini");
        assert_eq!(base("grok-2"), "https://xai");
        assert_eq!(base("llama3"), "https://default");
    }
}
