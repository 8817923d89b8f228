//! Local stand-ins for the providers, speaking their wire formats, so the
//! production adapters are what runs locally and in tests. The dev server
//! mounts them under `/_local/...` on its own port.

pub mod embeddings;
pub mod pinecone;

use std::time::Duration;

/// An artificial delay per call, to measure batching and concurrency
/// against a provider that is not instant (the ingest benchmark).
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency(pub Duration);

impl Latency {
    pub async fn wait(self) {
        if !self.0.is_zero() {
            tokio::time::sleep(self.0).await;
        }
    }
}

/// Dimensions of the local lexical embedding (and of the local index).
pub const LOCAL_DIMENSIONS: usize = 1024;

/// Both emulators on one router: `/openai/v1/embeddings` and
/// `/pinecone/...`, to mount under a prefix.
pub fn router(
    embeddings: embeddings::EmbeddingsEmulator,
    pinecone: pinecone::PineconeEmulator,
) -> axum::Router {
    axum::Router::new()
        .nest("/openai/v1", embeddings.router())
        .nest("/pinecone", pinecone.router())
}

/// The production adapters, pointed at emulators served under `base`
/// (e.g. `http://127.0.0.1:3000/_local`).
pub fn local_retriever(base: &str) -> shared::rag::Retriever {
    use secrecy::SecretString;
    use shared::adapters::providers::RetryPolicy;
    use shared::adapters::providers::embeddings::{EmbeddingsConfig, OpenAiEmbedder};
    use shared::adapters::providers::pinecone::{PineconeConfig, PineconeIndex};
    let http = reqwest::Client::new();
    shared::rag::RetrieverOf {
        embedder: OpenAiEmbedder::new(
            http.clone(),
            EmbeddingsConfig {
                base_url: format!("{base}/openai/v1"),
                api_key: SecretString::from("local"),
                model: "local-lexical".into(),
                dimensions: None,
                timeout: Duration::from_secs(30),
            },
            RetryPolicy::default(),
        ),
        index: PineconeIndex::new(
            http,
            PineconeConfig {
                index_host: format!("{base}/pinecone"),
                api_key: SecretString::from("local"),
                timeout: Duration::from_secs(30),
            },
            RetryPolicy::default(),
        ),
        min_score: LOCAL_MIN_SCORE,
    }
}

/// Lexical vectors of a short question and a 500-token chunk share few
/// words, so their cosine is low even when the chunk holds the answer; the
/// local threshold is set for them, not for a real embedding model.
pub const LOCAL_MIN_SCORE: f32 = 0.05;

/// Serves a router on a free loopback port for the rest of the test; returns
/// its base URL.
pub async fn serve_on_loopback(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}")
}
