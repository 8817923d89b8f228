//! Retrieval as the API sees it: the passages an assistant would read for a
//! question, across the projects it is connected to.

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
}
