//! Retrieval as every path serves it (answers on each channel and the raw
//! search): a deleted document's vectors can outlive its record for as long
//! as their removal job takes, or is retried, so each passage's document is
//! checked against the store, in one read, and deleted means never served.

use super::error::AppError;
use super::guard;
use crate::domain::fields::{FieldErrors, FieldReader, trimmed_text, whole_number};
use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::domain::passage::Passage;
use crate::domain::policy::Actor;
use crate::ports::{
    AssistantStore, ConnectionStore, DocumentStore, PassageSearch, ProjectStore, ProviderError,
    StoreError,
};
use serde_json::Value;

/// The longest question a raw search takes, in characters.
pub const QUERY_MAX: usize = 2_000;
/// Passages a raw search answers unless it asks for another number.
pub const DEFAULT_TOP_K: usize = 5;
pub const MAX_TOP_K: usize = 50;

/// A raw search: what the assistant would read for `query`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    pub query: String,
    pub top_k: usize,
}

impl SearchRequest {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &[])?;
        let query = reader.required("query", |v| trimmed_text(v, 1, QUERY_MAX));
        let top_k = reader.optional("topK", |v| match whole_number(&v) {
            Some(n) if (1..=MAX_TOP_K as u64).contains(&n) => Ok(n as usize),
            _ => Err(format!("must be an integer between 1 and {MAX_TOP_K}")),
        });
        reader.finish()?;
        Ok(Self {
            query: query.unwrap_or_default(),
            top_k: top_k.unwrap_or(DEFAULT_TOP_K),
        })
    }
}

/// The stores and the index a raw search reads.
pub struct SearchPorts<'a> {
    pub assistants: &'a dyn AssistantStore,
    pub projects: &'a dyn ProjectStore,
    pub connections: &'a dyn ConnectionStore,
    pub documents: &'a dyn DocumentStore,
    pub search: &'a dyn PassageSearch,
}

/// What the assistant `raw_assistant_id` would read for the search `body`,
/// as `actor` may see it: the assistant must be visible to them (before
/// the body is read: a hidden assistant is a 404 whatever is asked), and
/// only the passages of its projects they may read are searched.
pub async fn search_as(
    ports: SearchPorts<'_>,
    ws: &WorkspaceId,
    actor: &Actor,
    raw_assistant_id: &str,
    body: Value,
) -> Result<Vec<Passage>, AppError> {
    let assistant = guard::visible_assistant(ports.assistants, ws, raw_assistant_id, actor).await?;
    let request = SearchRequest::from_json(body).map_err(AppError::invalid)?;
    let (connected, readable) = tokio::try_join!(
        async {
            Ok::<_, AppError>(
                ports
                    .connections
                    .connected_project_ids(ws, &assistant.id)
                    .await?,
            )
        },
        guard::readable_projects(ports.projects, ws, actor),
    )?;
    let projects: Vec<_> = connected
        .into_iter()
        .filter(|p| readable.includes(p))
        .collect();
    Ok(stored_passages(
        ports.search,
        ports.documents,
        ws,
        &projects,
        &request.query,
        request.top_k,
    )
    .await?)
}

#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    #[error(transparent)]
    Search(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RetrievalError> for AppError {
    fn from(error: RetrievalError) -> Self {
        match error {
            RetrievalError::Search(error) => error.into(),
            RetrievalError::Store(error) => error.into(),
        }
    }
}

/// Passages found for a question, and the tokens embedding it cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Retrieved {
    pub passages: Vec<Passage>,
    pub embedding_tokens: u64,
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
    Ok(retrieve(search, documents, ws, projects, question, top_k)
        .await?
        .passages)
}

/// [`stored_passages`], with what embedding the question cost.
pub async fn retrieve(
    search: &dyn PassageSearch,
    documents: &dyn DocumentStore,
    ws: &WorkspaceId,
    projects: &[ProjectId],
    question: &str,
    top_k: usize,
) -> Result<Retrieved, RetrievalError> {
    let (found, embedding_tokens) = search.search_counted(projects, question, top_k).await?;
    let passages = still_stored(documents, ws, found).await?;
    Ok(Retrieved {
        passages,
        embedding_tokens,
    })
}

/// The passages of `found` whose documents are still stored, in order.
async fn still_stored(
    documents: &dyn DocumentStore,
    ws: &WorkspaceId,
    found: Vec<Passage>,
) -> Result<Vec<Passage>, RetrievalError> {
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
