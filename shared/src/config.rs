//! Typed configuration from the environment, read once at cold start. A
//! missing setting stops the function there, with its name, rather than
//! failing a request later.

use aws_config::BehaviorVersion;

#[derive(Debug, thiserror::Error)]
#[error("the environment variable {0} must be set")]
pub struct MissingSetting(pub &'static str);

pub fn required(name: &'static str) -> Result<String, MissingSetting> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(MissingSetting(name))
}

/// What every API function needs.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub table_name: String,
    pub cleanup_queue_url: String,
}

impl ApiConfig {
    pub fn from_env() -> Result<Self, MissingSetting> {
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            cleanup_queue_url: required("CLEANUP_QUEUE_URL")?,
        })
    }
}

/// The AWS settings from the standard chain (region, credentials, and
/// `AWS_ENDPOINT_URL` for the local stack). Loaded once per process.
pub async fn load_aws() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The embeddings API and the vector index, from the environment: base URL,
/// key, model (and optional dimensions) of an OpenAI-compatible API, and the
/// Pinecone index host and key. Keys are secrets: they come from the
/// deployment's secret store, never from the template.
#[cfg(feature = "rag")]
pub fn retriever_from_env(
    http: reqwest::Client,
) -> Result<crate::rag::Retriever, Box<dyn std::error::Error + Send + Sync>> {
    use crate::adapters::providers::RetryPolicy;
    use crate::adapters::providers::embeddings::{EmbeddingsConfig, OpenAiEmbedder};
    use crate::adapters::providers::pinecone::{PineconeConfig, PineconeIndex};
    use secrecy::SecretString;
    use std::time::Duration;

    let dimensions = match std::env::var("EMBEDDINGS_DIMENSIONS") {
        Ok(value) if !value.trim().is_empty() => Some(
            value
                .trim()
                .parse()
                .map_err(|_| format!("EMBEDDINGS_DIMENSIONS={value} is not a whole number"))?,
        ),
        _ => None,
    };
    let embedder = OpenAiEmbedder::new(
        http.clone(),
        EmbeddingsConfig {
            base_url: required("EMBEDDINGS_BASE_URL")?,
            api_key: SecretString::from(required("EMBEDDINGS_API_KEY")?),
            model: required("EMBEDDINGS_MODEL")?,
            dimensions,
            timeout: Duration::from_secs(20),
        },
        RetryPolicy::default(),
    );
    let index = PineconeIndex::new(
        http,
        PineconeConfig {
            index_host: required("PINECONE_INDEX_HOST")?,
            api_key: SecretString::from(required("PINECONE_API_KEY")?),
            timeout: Duration::from_secs(10),
        },
        RetryPolicy::default(),
    );
    Ok(crate::rag::RetrieverOf {
        embedder,
        index,
        min_score: crate::rag::DEFAULT_MIN_SCORE,
    })
}
