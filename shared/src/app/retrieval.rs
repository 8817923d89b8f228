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
    let sources: Vec<Option<(ProjectId, DocumentId)>> = found
        .iter()
        .map(|p| {
            Some((
                ProjectId::parse(&p.project_id)?,
                DocumentId::parse(&p.document_id)?,
            ))
        })
        .collect();
    let named: Vec<(ProjectId, DocumentId)> = sources.iter().flatten().cloned().collect();
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let stored = documents.stored_documents(ws, &named).await?;
    Ok(found
        .into_iter()
        .zip(sources)
        .filter(|(_, source)| source.as_ref().is_some_and(|(_, id)| stored.contains(id)))
        .map(|(passage, _)| passage)
        .collect())
}
