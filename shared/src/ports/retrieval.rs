//! Retrieval as the application sees it: the passages an assistant would
//! read for a question, across the projects it is connected to, and how a
//! passage is laid out in the vector index (its namespace and metadata),
//! which the ingest worker writes and the retriever reads.

use super::providers::ProviderError;
use crate::domain::ids::ProjectId;
use crate::domain::passage::Passage;
use async_trait::async_trait;

#[async_trait]
pub trait PassageSearch: Send + Sync {
    /// The best `top_k` passages from `projects`, best first.
    async fn search(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<Vec<Passage>, ProviderError>;

    /// [`Self::search`], with the tokens embedding the question cost (none
    /// for a search that embeds nothing).
    async fn search_counted(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<(Vec<Passage>, u64), ProviderError> {
        Ok((self.search(projects, question, top_k).await?, 0))
    }
}

// How a passage is laid out in the vector index, as the ingest worker
// writes it and the retriever reads it.

/// Metadata keys every indexed chunk carries (see the ingest worker).
pub mod metadata {
    pub const DOCUMENT_ID: &str = "documentId";
    pub const DOCUMENT_NAME: &str = "documentName";
    pub const CHUNK_INDEX: &str = "chunkIndex";
    pub const TEXT: &str = "text";
    pub const START: &str = "start";
    pub const END: &str = "end";
}

/// Each project's vectors live in a namespace of its own.
pub fn namespace(project: &ProjectId) -> String {
    project.to_string()
}
