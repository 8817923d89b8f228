//! The model providers, in the domain's words: text to vectors, and a vector
//! index with one namespace per project. The adapters speak the real wire
//! formats; the local emulators speak the same, so the adapters are what runs
//! locally.

use std::collections::BTreeMap;

/// A vector and what it points at. It serializes as an index's upsert takes
/// it, so a batch can be sized by the bytes it will send.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VectorRecord {
    pub id: String,
    pub values: Vec<f32>,
    /// Flat string or number metadata (the index refuses nulls).
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl VectorRecord {
    /// Its length as JSON, counted without building the text.
    pub fn json_len(&self) -> usize {
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0 += bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut counter = Counter(0);
        // Writing to a counter cannot fail, and every field serializes.
        let _ = serde_json::to_writer(&mut counter, self);
        counter.0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatch {
    pub id: String,
    pub score: f32,
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// Why a call to a provider (embeddings, vector index, chat) failed, sorted
/// by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Rate limited, overloaded, timed out or unreachable, after the
    /// adapter's own retries: try again later.
    #[error("{provider} is unavailable: {detail}")]
    Unavailable {
        provider: &'static str,
        detail: String,
    },
    /// The provider refused the request itself: retrying will not help.
    #[error("{provider} refused the request ({status})")]
    Rejected { provider: &'static str, status: u16 },
    /// The provider answered something that is not its documented format.
    #[error("{provider} answered in an unexpected format: {detail}")]
    Malformed {
        provider: &'static str,
        detail: String,
    },
    /// The deployment's settings for a provider could not be made into a
    /// client (a secret that is not there, or holds no usable keys): a bug
    /// of the deployment, which no retry of the request fixes.
    #[error("the provider settings are unusable: {detail}")]
    Unconfigured { detail: String },
}

impl ProviderError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// Vectors, and the tokens the provider counted for them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Embedded {
    /// One per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    pub tokens: u64,
}

/// Text to vectors (an OpenAI-compatible `/embeddings`).
pub trait Embedder: Send + Sync {
    /// One vector per input, in input order, with the tokens they cost.
    /// Callers batch within the provider's caps (see `ingest::batches`).
    fn embed_counted(
        &self,
        inputs: &[String],
    ) -> impl Future<Output = Result<Embedded, ProviderError>> + Send;

    /// The vectors alone.
    fn embed(
        &self,
        inputs: &[String],
    ) -> impl Future<Output = Result<Vec<Vec<f32>>, ProviderError>> + Send {
        async move { Ok(self.embed_counted(inputs).await?.vectors) }
    }
}

/// A vector index with one namespace per project (Pinecone's data plane).
pub trait VectorIndex: Send + Sync {
    fn upsert(
        &self,
        namespace: &str,
        records: &[VectorRecord],
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    fn query(
        &self,
        namespace: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<serde_json::Value>,
    ) -> impl Future<Output = Result<Vec<VectorMatch>, ProviderError>> + Send;

    fn delete_ids(
        &self,
        namespace: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    fn delete_matching(
        &self,
        namespace: &str,
        filter: serde_json::Value,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    fn delete_namespace(
        &self,
        namespace: &str,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}
