//! The retriever behind [`PassageSearch`]: a question embedded once, each
//! connected project's namespace of the vector index queried, and the
//! matches merged into passages, best first. Every channel's answers (chat,
//! widget, SMS) and the search route read through it, by way of
//! `app::retrieval`, which drops the passages of deleted documents.

use crate::adapters::providers::embeddings::OpenAiEmbedder;
use crate::adapters::providers::pinecone::PineconeIndex;
use crate::domain::ids::ProjectId;
use crate::domain::passage::Passage;
use crate::ports::retrieval::{metadata, namespace};
use crate::ports::{Embedder, PassageSearch, ProviderError, VectorIndex, VectorMatch};
use async_trait::async_trait;
use futures_util::future::try_join_all;
use serde_json::Value;

/// Passages scoring under this cosine similarity are noise, not context.
pub const DEFAULT_MIN_SCORE: f32 = 0.2;

/// A match as a passage; `None` when the index lost its metadata.
fn passage_from_match(project: &ProjectId, found: VectorMatch) -> Option<Passage> {
    let text = |key: &str| {
        found
            .metadata
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Some(Passage {
        project_id: project.to_string(),
        document_id: text(metadata::DOCUMENT_ID)?,
        document_name: text(metadata::DOCUMENT_NAME).unwrap_or_default(),
        chunk_index: found
            .metadata
            .get(metadata::CHUNK_INDEX)
            .and_then(Value::as_f64)
            .map_or(0, |n| n as u64),
        text: text(metadata::TEXT)?,
        score: found.score,
    })
}

/// The production retriever: the configured embeddings API and index.
pub type Retriever = RetrieverOf<OpenAiEmbedder, PineconeIndex>;

#[derive(Clone, Debug)]
pub struct RetrieverOf<E, V> {
    pub embedder: E,
    pub index: V,
    pub min_score: f32,
}

impl<E: Embedder, V: VectorIndex> RetrieverOf<E, V> {
    /// Embeds the question once, queries every project's namespace in
    /// parallel, and merges the results best first.
    pub async fn search(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<Vec<Passage>, ProviderError> {
        Ok(self.search_counted(projects, question, top_k).await?.0)
    }

    /// [`Self::search`], with the tokens the question's embedding cost.
    pub async fn search_counted(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<(Vec<Passage>, u64), ProviderError> {
        if projects.is_empty() || question.trim().is_empty() {
            return Ok((Vec::new(), 0));
        }
        let mut embedded = self.embedder.embed_counted(&[question.to_owned()]).await?;
        let vector = embedded.vectors.pop().unwrap_or_default();
        let per_project = try_join_all(projects.iter().map(|project| {
            let vector = &vector;
            async move {
                let found = self
                    .index
                    .query(&namespace(project), vector, top_k, None)
                    .await?;
                Ok::<_, ProviderError>(
                    found
                        .into_iter()
                        .filter_map(|m| passage_from_match(project, m))
                        .collect::<Vec<_>>(),
                )
            }
        }))
        .await?;
        let mut passages: Vec<Passage> = per_project
            .into_iter()
            .flatten()
            .filter(|p| p.score >= self.min_score)
            .collect();
        passages.sort_by(|a, b| b.score.total_cmp(&a.score));
        passages.truncate(top_k);
        Ok((passages, embedded.tokens))
    }
}

#[async_trait]
impl<E: Embedder + 'static, V: VectorIndex + 'static> PassageSearch for RetrieverOf<E, V> {
    async fn search(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<Vec<Passage>, ProviderError> {
        RetrieverOf::search(self, projects, question, top_k).await
    }

    async fn search_counted(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<(Vec<Passage>, u64), ProviderError> {
        RetrieverOf::search_counted(self, projects, question, top_k).await
    }
}
