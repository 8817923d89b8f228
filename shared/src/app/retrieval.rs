//! Retrieval as every path serves it (answers on each channel and the raw
//! search): a deleted document's vectors can outlive its record for as long
//! as their removal job takes, or is retried, so each passage's document is
//! checked against the store, in one read, and deleted means never served.

use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::domain::passage::Passage;
use crate::ports::{DocumentStore, PassageSearch, ProviderError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    #[error(transparent)]
    Search(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The best `top_k` passages of `projects` whose documents are still stored,
/// best first (fewer when some belonged to deleted documents).
pub async fn stored_passages(
    search: &dyn PassageSearch,
    documents: &dyn DocumentStore,
    ws: &WorkspaceId,
    projects: &[ProjectId],
    question: &str,
    top_k: usize,
) -> Result<Vec<Passage>, RetrievalError> {
    let found = search.search(projects, question, top_k).await?;
    let sources: Vec<(ProjectId, DocumentId)> = found
        .iter()
        .filter_map(|p| {
            Some((
                ProjectId::parse(&p.project_id)?,
                DocumentId::parse(&p.document_id)?,
            ))
        })
        .collect();
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let stored = documents.stored_documents(ws, &sources).await?;
    let served: Vec<Passage> = found
        .into_iter()
        .filter(|p| DocumentId::parse(&p.document_id).is_some_and(|id| stored.contains(&id)))
        .collect();
    Ok(served)
}
