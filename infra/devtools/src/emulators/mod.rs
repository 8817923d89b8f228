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
