//! An OpenAI-compatible `POST {base}/embeddings` client (OpenAI, and the
//! local emulator; Ollama, vLLM and llama.cpp speak it too).

use super::http::{RetryPolicy, send_json};
use crate::adapters::outbound_http::OutboundHttp;
use crate::ports::providers::Embedded;
use crate::ports::{Embedder, ProviderError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
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
    http: OutboundHttp,
    config: EmbeddingsConfig,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
    /// Absent from some compatible servers: then nothing is counted.
    #[serde(default)]
    usage: Option<EmbeddingsUsage>,
}

#[derive(Deserialize)]
struct EmbeddingsUsage {
    #[serde(default)]
    prompt_tokens: u64,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Encoded,
}

/// Vectors are asked for as base64 (little-endian f32s): a quarter of the
/// JSON of decimal floats, and far cheaper to parse. Servers that ignore the
/// request and send floats are understood too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Encoded {
    Floats(Vec<f32>),
    Base64(String),
}

impl Encoded {
    fn into_vector(self) -> Result<Vec<f32>, ProviderError> {
        let malformed = |detail: &str| ProviderError::Malformed {
            provider: PROVIDER,
            detail: detail.into(),
        };
        match self {
            Self::Floats(values) => Ok(values),
            Self::Base64(text) => {
                let bytes = BASE64
                    .decode(text)
                    .map_err(|_| malformed("an embedding is not valid base64"))?;
                if bytes.len() % 4 != 0 {
                    return Err(malformed("an embedding is not a whole number of floats"));
                }
                Ok(bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect())
            }
        }
    }
}

impl OpenAiEmbedder {
    pub fn new(http: OutboundHttp, config: EmbeddingsConfig, retry: RetryPolicy) -> Self {
        Self {
            http,
            config,
            retry,
        }
    }
}

impl Embedder for OpenAiEmbedder {
    async fn embed_counted(&self, inputs: &[String]) -> Result<Embedded, ProviderError> {
        if inputs.is_empty() {
            return Ok(Embedded::default());
        }
        let mut body = json!({
            "model": self.config.model,
            "input": inputs,
            "encoding_format": "base64",
        });
        if let Some(dimensions) = self.config.dimensions {
            body["dimensions"] = json!(dimensions);
        }
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let response: EmbeddingsResponse = send_json(PROVIDER, self.retry, || {
            self.http
                .reqwest()
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
                Some(slot @ None) => *slot = Some(item.embedding.into_vector()?),
                _ => {
                    return Err(ProviderError::Malformed {
                        provider: PROVIDER,
                        detail: format!("unexpected or repeated index {}", item.index),
                    });
                }
            }
        }
        let vectors =
            vectors
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or(ProviderError::Malformed {
                    provider: PROVIDER,
                    detail: "fewer embeddings than inputs".into(),
                })?;
        Ok(Embedded {
            vectors,
            tokens: response.usage.map_or(0, |u| u.prompt_tokens),
        })
    }
}
