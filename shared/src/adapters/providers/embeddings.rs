//! An OpenAI-compatible `POST {base}/embeddings` client (OpenAI, and the
//! local emulator; Ollama, vLLM and llama.cpp speak it too).

use super::http::{RetryPolicy, send_json};
use crate::ports::{Embedder, ProviderError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

const PROVIDER: &str = "the embeddings API";

#[derive(Clone, Debug)]
pub struct EmbeddingsConfig {
    /// e.g. `https://api.openai.com/v1`
    pub base_url: String,
    pub api_key: SecretString,
    pub model: String,
    /// Asked of models that can shorten their vectors; must match the index.
    pub dimensions: Option<u32>,
    pub timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct OpenAiEmbedder {
    http: reqwest::Client,
    config: EmbeddingsConfig,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    pub fn new(http: reqwest::Client, config: EmbeddingsConfig, retry: RetryPolicy) -> Self {
        Self {
            http,
            config,
            retry,
        }
    }
}

impl Embedder for OpenAiEmbedder {
    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let mut body = json!({ "model": self.config.model, "input": inputs });
        if let Some(dimensions) = self.config.dimensions {
            body["dimensions"] = json!(dimensions);
        }
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let response: EmbeddingsResponse = send_json(PROVIDER, self.retry, || {
            self.http
                .post(&url)
                .bearer_auth(self.config.api_key.expose_secret())
                .timeout(self.config.timeout)
                .json(&body)
        })
        .await?;
        // The API numbers its answers; put them back in input order and
        // make sure there is exactly one per input.
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; inputs.len()];
        for item in response.data {
            match vectors.get_mut(item.index) {
                Some(slot @ None) => *slot = Some(item.embedding),
                _ => {
                    return Err(ProviderError::Malformed {
                        provider: PROVIDER,
                        detail: format!("unexpected or repeated index {}", item.index),
                    });
                }
            }
        }
        vectors
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "fewer embeddings than inputs".into(),
            })
    }
}
