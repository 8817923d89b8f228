//! An OpenAI-compatible `POST {base}/chat/completions` client: OpenAI, xAI,
//! Ollama, vLLM, llama.cpp, and the local model. Only the subset every one
//! of them accepts is sent (`model`, `messages`, `temperature`,
//! `max_tokens`).

use super::http::{RetryPolicy, open_stream, send_json};
use crate::adapters::outbound_http::OutboundHttp;
use crate::domain::conversation::Usage;
use crate::ports::{
    ChatAnswer, ChatEvent, ChatModel, ChatRequest, ChatStream, ProviderError, Speaker,
};
use async_trait::async_trait;
use eventsource_stream2::Eventsource;
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::collections::VecDeque;
use std::time::Duration;

const PROVIDER: &str = "the chat model";

#[derive(Clone, Debug)]
pub struct ChatConfig {
    /// e.g. `https://api.openai.com/v1`
    pub base_url: String,
    pub api_key: SecretString,
    /// For a whole answer, asked for at once.
    pub timeout: Duration,
    /// For a whole streamed answer, first byte to last.
    pub stream_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct OpenAiChat {
    http: OutboundHttp,
    config: ChatConfig,
    retry: RetryPolicy,
}

impl OpenAiChat {
    pub fn new(http: OutboundHttp, config: ChatConfig, retry: RetryPolicy) -> Self {
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

impl OpenAiChat {
    /// The completions request with `body`, ready to send (again).
    fn post(&self, body: &serde_json::Value, timeout: Duration) -> reqwest::RequestBuilder {
        self.http
            .reqwest()
            .post(format!(
                "{}/chat/completions",
                self.config.base_url.trim_end_matches('/')
            ))
            .bearer_auth(self.config.api_key.expose_secret())
            .timeout(timeout)
            .json(body)
    }
}

/// The request every OpenAI-compatible server takes.
fn request_body(request: &ChatRequest) -> serde_json::Value {
    json!({
        "model": request.model,
        "messages": request.turns.iter().map(|t| json!({
            "role": role(t.speaker),
            "content": t.content,
        })).collect::<Vec<_>>(),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    })
}

/// One streamed chunk. `choices` may be empty (the usage chunk) or null
/// (some servers); usage may come on any chunk.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<ChunkChoice>>,
    #[serde(default)]
    usage: Option<ReportedUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<ChoiceMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

/// The response body as bytes, read as they arrive.
type Body = futures_util::stream::BoxStream<'static, Result<bytes::Bytes, reqwest::Error>>;

/// A stream being read: its events as the SSE parser finds them, what is
/// decoded but not yet handed out, and what the end will report.
struct Reading {
    events: eventsource_stream2::EventStream<Body>,
    ready: VecDeque<Result<ChatEvent, ProviderError>>,
    /// What the provider reported, if it did.
    usage: Option<Usage>,
    /// Counted with the tokenizer, for a provider that reports nothing.
    estimate: Usage,
    finish: Option<String>,
    ended: bool,
}

/// A prompt's tokens as the tokenizer counts them, with the few each
/// message's framing adds (as OpenAI's chat format does).
fn prompt_tokens(request: &ChatRequest) -> u32 {
    const PER_MESSAGE: usize = 3;
    let counted: usize = request
        .turns
        .iter()
        .map(|turn| crate::tokenizer::cl100k::count(&turn.content) + PER_MESSAGE)
        .sum();
    u32::try_from(counted + PER_MESSAGE).unwrap_or(u32::MAX)
}

fn text_tokens(text: &str) -> u32 {
    u32::try_from(crate::tokenizer::cl100k::count(text)).unwrap_or(u32::MAX)
}

/// What the provider reported, else the tokenizer's count, marked so.
fn reported_or_estimated(reported: Option<Usage>, request: &ChatRequest, answer: &str) -> Usage {
    reported.unwrap_or_else(|| Usage {
        prompt_tokens: prompt_tokens(request),
        completion_tokens: text_tokens(answer),
        estimated: true,
    })
}

fn cut_off(detail: &str) -> ProviderError {
    ProviderError::Unavailable {
        provider: PROVIDER,
        detail: detail.into(),
    }
}

impl Reading {
    fn end(&mut self) {
        self.ended = true;
        self.ready.push_back(Ok(ChatEvent::Done {
            usage: self.usage.unwrap_or(self.estimate),
            truncated: self.finish.as_deref() == Some("length"),
        }));
    }

    fn take(&mut self, data: &str) {
        if data.trim() == "[DONE]" {
            return self.end();
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                self.ended = true;
                self.ready.push_back(Err(ProviderError::Malformed {
                    provider: PROVIDER,
                    detail: format!("a stream chunk: {e}"),
                }));
                return;
            }
        };
        if chunk.error.is_some() {
            // The provider's words stay out of our errors.
            self.ended = true;
            self.ready
                .push_back(Err(cut_off("the model failed mid-answer")));
            return;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(Usage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                estimated: false,
            });
        }
        for choice in chunk.choices.unwrap_or_default() {
            if let Some(text) = choice
                .delta
                .and_then(|d| d.content)
                .filter(|t| !t.is_empty())
            {
                self.estimate.completion_tokens = self
                    .estimate
                    .completion_tokens
                    .saturating_add(text_tokens(&text));
                self.ready.push_back(Ok(ChatEvent::Delta(text)));
            }
            if choice.finish_reason.is_some() {
                self.finish = choice.finish_reason;
            }
        }
    }

    async fn next(mut self) -> Option<(Result<ChatEvent, ProviderError>, Self)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some((event, self));
            }
            if self.ended {
                return None;
            }
            match self.events.next().await {
                // An `event: error` or an `error` object in the data: the
                // provider failed part way.
                Some(Ok(event)) if event.event == "error" => {
                    self.ended = true;
                    self.ready
                        .push_back(Err(cut_off("the model failed mid-answer")));
                }
                Some(Ok(event)) => self.take(&event.data),
                Some(Err(error)) if error.is_transport() => {
                    self.ended = true;
                    self.ready.push_back(Err(cut_off("the stream was cut off")));
                }
                Some(Err(error)) => {
                    self.ended = true;
                    self.ready.push_back(Err(ProviderError::Malformed {
                        provider: PROVIDER,
                        detail: format!("the stream is not valid SSE: {error}"),
                    }));
                }
                // A body that ends without `[DONE]` still ended cleanly if
                // the model said why it stopped.
                None if self.finish.is_some() => self.end(),
                None => {
                    self.ended = true;
                    self.ready
                        .push_back(Err(cut_off("the stream ended mid-answer")));
                }
            }
        }
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let mut body = request_body(request);
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        let response = open_stream(PROVIDER, self.retry, || {
            self.post(&body, self.config.stream_timeout)
        })
        .await?;
        let body: Body = Box::pin(futures_util::stream::unfold(
            response,
            |mut response| async move {
                match response.chunk().await {
                    Ok(Some(bytes)) => Some((Ok(bytes), response)),
                    Ok(None) => None,
                    Err(error) => Some((Err(error), response)),
                }
            },
        ));
        let reading = Reading {
            events: body.eventsource(),
            ready: VecDeque::new(),
            usage: None,
            estimate: Usage {
                prompt_tokens: prompt_tokens(request),
                completion_tokens: 0,
                estimated: true,
            },
            finish: None,
            ended: false,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            reading,
            Reading::next,
        )))
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        let body = request_body(request);
        let completion: Completion = send_json(PROVIDER, self.retry, || {
            self.post(&body, self.config.timeout)
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
        let reported = completion.usage.map(|u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            estimated: false,
        });
        let usage = reported_or_estimated(reported, request, &text);
        Ok(ChatAnswer {
            text,
            usage,
            truncated: choice.finish_reason.as_deref() == Some("length"),
        })
    }
}

/// The chat APIs, one picked per request by its model: the API whose
/// prefix the model id starts with (`gpt-` to OpenAI, `grok-` to xAI, ...),
/// the longest matching prefix first, and any other model through the
/// default API.
#[derive(Clone, Debug)]
pub struct ChatApis {
    routes: Vec<(String, OpenAiChat)>,
    default: OpenAiChat,
}

impl ChatApis {
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
impl ChatModel for ChatApis {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        self.client_for(&request.model).complete(request).await
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        self.client_for(&request.model).stream(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> OpenAiChat {
        OpenAiChat::new(
            crate::adapters::outbound_http::client(),
            ChatConfig {
                base_url: base.into(),
                api_key: SecretString::from("k".to_owned()),
                timeout: Duration::from_secs(1),
                stream_timeout: Duration::from_secs(1),
            },
            RetryPolicy::default(),
        )
    }

    #[test]
    fn a_model_goes_to_its_longest_matching_prefix_else_to_the_default() {
        let router = ChatApis::new(
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
