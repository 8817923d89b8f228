//! The ingest worker's job: one document from its bytes in S3 to vectors in
//! its project's namespace, with its status (`processing` with chunks done of
//! the total, then `completed` or `failed` with a reason) kept on the record.
//!
//! Re-delivery is harmless: vector ids are `{documentId}#{chunkIndex}`, so a
//! second run overwrites the same vectors, and a completed document is left
//! alone.

use super::batches::{
    EMBED_MAX_INPUTS, EMBED_MAX_TOKENS, UPSERT_MAX_BYTES, UPSERT_MAX_RECORDS, greedy,
};
use super::chunker::{Chunk, TextKind, chunk};
use super::extract::extract_text;
use crate::domain::document::{Document, DocumentKind, DocumentStatus};
use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::domain::usage::Charge;
use crate::jobs::{IngestJob, Job, MessageOutcome};
use crate::ports::retrieval::{metadata, namespace};
use crate::ports::{
    BlobError, BlobStore, DocumentStore, Embedded, Embedder, ProjectStore, ProviderError,
    StoreError, UsageStore, VectorIndex, VectorRecord,
};
use futures_util::TryFutureExt;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Requests to the providers in flight at once, per document.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Deliveries after which a transient failure is final (the queue's
/// `maxReceiveCount`): the document is marked failed rather than left
/// processing when the message goes to the dead-letter queue.
pub const LAST_DELIVERY: u32 = crate::jobs::LAST_DELIVERY;
/// How long reading one file's text may take. Far beyond a real 50 MB file;
/// a crafted file that loops gives up here instead of holding the message
/// until the Lambda timeout and every redelivery after it.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole of one message's work, reading included: well inside the
/// function's 150 s timeout (one message per invocation), so the worker
/// itself records the outcome rather than being stopped mid-write.
pub const MESSAGE_BUDGET: Duration = Duration::from_secs(120);
/// What a document says when its job reached the dead-letter queue: every
/// delivery ended without an outcome (the worker ran out of time or memory).
pub const DEAD_LETTER_REASON: &str = "indexing did not finish after 5 attempts (the file took too long or too much memory to process); split it into smaller files and upload them";

#[derive(Debug, thiserror::Error)]
enum IngestError {
    /// The file itself is the problem: record it, do not retry.
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("the message's {}-second budget ran out", MESSAGE_BUDGET.as_secs())]
    OutOfTime,
}

pub struct Ingestor<E, V> {
    pub store: Arc<dyn DocumentStore>,
    /// Where a document's embedding tokens are counted (its workspace's).
    pub usage: Arc<dyn UsageStore>,
    /// Only to see whether a project whose removal was queued still exists.
    pub projects: Arc<dyn ProjectStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub embedder: E,
    pub index: V,
    pub concurrency: usize,
}

/// Extracts and chunks a file off the async threads: both are CPU-bound, and
/// the PDF reader can panic or stall on a malformed file, which must end as a
/// `failed` document, not a crashed worker.
async fn read_chunks(kind: DocumentKind, bytes: Vec<u8>) -> Result<Vec<Chunk>, IngestError> {
    let reading = tokio::task::spawn_blocking(move || {
        extract_text(kind, &bytes).map(|text| chunk(&text, text_kind(kind)))
    });
    let chunks = match tokio::time::timeout(READ_TIMEOUT, reading).await {
        Ok(Ok(Ok(chunks))) => chunks,
        Ok(Ok(Err(reason))) => return Err(IngestError::Unusable(reason)),
        Ok(Err(_panicked)) => {
            return Err(IngestError::Unusable(format!(
                "the file is damaged and could not be read as {}",
                kind.label()
            )));
        }
        Err(_elapsed) => {
            return Err(IngestError::Unusable(format!(
                "reading the file took longer than {} s; it may be damaged",
                READ_TIMEOUT.as_secs()
            )));
        }
    };
    if chunks.is_empty() {
        return Err(IngestError::Unusable(match kind {
            DocumentKind::Pdf => {
                "the PDF has no text layer (a scan?); run it through OCR or upload the text".into()
            }
            _ => "the document contains no text".into(),
        }));
    }
    Ok(chunks)
}

fn text_kind(kind: DocumentKind) -> TextKind {
    match kind {
        DocumentKind::Markdown => TextKind::Markdown,
        _ => TextKind::Plain,
    }
}

/// A chunk as the index stores it: text, source and position, under 40 KB.
fn record(document: &Document, chunk: &Chunk, values: Vec<f32>) -> VectorRecord {
    VectorRecord {
        id: format!("{}#{}", document.id, chunk.index),
        values,
        metadata: BTreeMap::from([
            (
                metadata::DOCUMENT_ID.to_owned(),
                json!(document.id.as_str()),
            ),
            (metadata::DOCUMENT_NAME.to_owned(), json!(document.name)),
            (metadata::CHUNK_INDEX.to_owned(), json!(chunk.index)),
            (metadata::TEXT.to_owned(), json!(chunk.text)),
            (metadata::START.to_owned(), json!(chunk.start)),
            (metadata::END.to_owned(), json!(chunk.end)),
        ]),
    }
}

/// A message body as a job, or poison (recorded and acknowledged).
fn decode(message_id: &str, body: &str) -> Result<IngestJob, MessageOutcome> {
    IngestJob::from_message(body).map_err(|error| {
        tracing::error!(message_id, %error, "ingest message is not a job; dropping it");
        MessageOutcome::Poison
    })
}

impl<E: Embedder, V: VectorIndex> Ingestor<E, V> {
    /// One queue message, decoded on its own. `delivery` is SQS's
    /// `ApproximateReceiveCount`.
    pub async fn handle_message(
        &self,
        message_id: &str,
        body: &str,
        delivery: u32,
    ) -> MessageOutcome {
        match decode(message_id, body) {
            Ok(job) => self.run(message_id, job, delivery).await,
            Err(poison) => poison,
        }
    }

    async fn run(&self, message_id: &str, job: IngestJob, delivery: u32) -> MessageOutcome {
        let (workspace_id, project_id, document_id) = match job {
            IngestJob::Index {
                workspace_id,
                project_id,
                document_id,
            } => (workspace_id, project_id, document_id),
            IngestJob::Forget {
                project_id,
                document_id,
            } => return self.forget(message_id, &project_id, &document_id).await,
            IngestJob::ForgetProject {
                workspace_id,
                project_id,
            } => {
                return self
                    .forget_project(message_id, &workspace_id, &project_id)
                    .await;
            }
        };
        let document = match self
            .document_of(message_id, &workspace_id, &project_id, &document_id)
            .await
        {
            Ok(document) => document,
            Err(outcome) => return outcome,
        };
        if document.status == DocumentStatus::Completed {
            return MessageOutcome::Done;
        }
        let started = std::time::Instant::now();
        let ingested = tokio::time::timeout(MESSAGE_BUDGET, self.ingest(&document))
            .await
            .unwrap_or(Err(IngestError::OutOfTime));
        match ingested {
            Ok((chunks, tokens)) => {
                tracing::info!(message_id, document_id = %document.id, chunks, tokens, "document ingested");
                crate::metrics::record(crate::metrics::Metric::IngestDuration(
                    started.elapsed().as_secs_f64() * 1000.0,
                ));
                crate::metrics::record(crate::metrics::Metric::IngestChunks(chunks as u64));
                self.count(&document, tokens).await;
                MessageOutcome::Done
            }
            Err(IngestError::Unusable(reason)) => self.fail(&document, &reason).await,
            // Deleted while being indexed: take back what was already
            // written, since the delete's own cleanup may have run first.
            Err(IngestError::Store(StoreError::NotFound(_))) => {
                self.forget(message_id, &document.project_id, &document.id)
                    .await
            }
            Err(IngestError::Blob(error)) if !error.transient => {
                tracing::error!(message_id, %error, "the document's file cannot be read");
                self.fail(
                    &document,
                    "the uploaded file could not be read; upload it again",
                )
                .await
            }
            Err(IngestError::Provider(error)) if !error.is_transient() => {
                tracing::error!(message_id, %error, "a provider refused the document");
                self.fail(
                    &document,
                    "the embedding or index service refused this document",
                )
                .await
            }
            Err(IngestError::OutOfTime) if delivery >= LAST_DELIVERY => {
                tracing::error!(
                    message_id,
                    "ingest ran out of time on every delivery; giving up"
                );
                self.fail(&document, DEAD_LETTER_REASON).await
            }
            Err(error) if delivery >= LAST_DELIVERY => {
                tracing::error!(message_id, %error, "ingest kept failing; giving up");
                self.fail(
                    &document,
                    "indexing kept failing; upload the document again later",
                )
                .await
            }
            Err(error) => {
                tracing::warn!(message_id, %error, delivery, "ingest failed; will retry");
                MessageOutcome::Retry
            }
        }
    }

    /// One message from the dead-letter queue: its deliveries ran out,
    /// some perhaps cut off by the function's timeout or memory before the
    /// worker could record anything. An index job's document ends `failed`
    /// with the reason (unless it got indexed after all); a removal is
    /// tried again, since deleted must mean gone, and stays in the
    /// dead-letter queue while the index refuses it.
    pub async fn handle_dead_letter(&self, message_id: &str, body: &str) -> MessageOutcome {
        let job = match decode(message_id, body) {
            Ok(job) => job,
            Err(poison) => return poison,
        };
        let IngestJob::Index {
            workspace_id,
            project_id,
            document_id,
        } = job
        else {
            return self.run(message_id, job, LAST_DELIVERY).await;
        };
        match self
            .document_of(message_id, &workspace_id, &project_id, &document_id)
            .await
        {
            Ok(document) if document.status == DocumentStatus::Completed => MessageOutcome::Done,
            Ok(document) => {
                tracing::error!(message_id, %document_id, "ingest job dead-lettered; the document is marked failed");
                self.fail(&document, DEAD_LETTER_REASON).await
            }
            Err(outcome) => outcome,
        }
    }

    /// The job's document, or what the message comes to without it. Gone:
    /// an earlier delivery may have written vectors before the delete, and
    /// the delete's own cleanup may have run first, so this one takes them
    /// back. Deleted means never served again.
    async fn document_of(
        &self,
        message_id: &str,
        workspace_id: &WorkspaceId,
        project_id: &ProjectId,
        document_id: &DocumentId,
    ) -> Result<Document, MessageOutcome> {
        match self
            .store
            .get_document(workspace_id, project_id, document_id)
            .await
        {
            Ok(Some(document)) => Ok(document),
            Ok(None) => {
                tracing::info!(message_id, %document_id, "document deleted; forgetting its vectors");
                Err(self.forget(message_id, project_id, document_id).await)
            }
            Err(error) => {
                tracing::warn!(message_id, %error, "could not read the document record");
                Err(MessageOutcome::Retry)
            }
        }
    }

    /// Deletes every vector of a document from its project's namespace.
    async fn forget(
        &self,
        message_id: &str,
        project: &ProjectId,
        document: &DocumentId,
    ) -> MessageOutcome {
        let filter = json!({ metadata::DOCUMENT_ID: { "$eq": document.as_str() } });
        match self
            .index
            .delete_matching(&namespace(project), filter)
            .await
        {
            Ok(()) => MessageOutcome::Done,
            Err(error) if error.is_transient() => {
                tracing::warn!(message_id, %error, "forgetting a document failed; will retry");
                MessageOutcome::Retry
            }
            // Never dropped: retried until the dead-letter queue keeps it
            // (14 days) for a redrive once the index takes it.
            Err(error) => {
                tracing::error!(message_id, %error, "the index refused to forget a document; retrying, then the dead-letter queue");
                MessageOutcome::Retry
            }
        }
    }

    /// Deletes a deleted project's namespace and every file stored for it.
    async fn forget_project(
        &self,
        message_id: &str,
        workspace: &WorkspaceId,
        project: &ProjectId,
    ) -> MessageOutcome {
        // The job is queued before the project's delete: if the project is
        // still here, the delete did not happen.
        match self.projects.project_exists(workspace, project).await {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(message_id, "the project was not deleted; nothing to forget");
                return MessageOutcome::Done;
            }
            Err(error) => {
                tracing::warn!(message_id, %error, "could not read the project; will retry");
                return MessageOutcome::Retry;
            }
        }
        if let Err(error) = self.index.delete_namespace(&namespace(project)).await {
            if error.is_transient() {
                tracing::warn!(message_id, %error, "forgetting a project failed; will retry");
            } else {
                tracing::error!(message_id, %error, "the index refused to forget a project; retrying, then the dead-letter queue");
            }
            return MessageOutcome::Retry;
        }
        match self
            .blobs
            .delete_prefix(&format!("{workspace}/{project}/"))
            .await
        {
            Ok(removed) => {
                tracing::info!(message_id, removed, "project files removed");
                MessageOutcome::Done
            }
            Err(error) => {
                tracing::warn!(message_id, %error, "removing project files failed; will retry");
                MessageOutcome::Retry
            }
        }
    }

    async fn fail(&self, document: &Document, reason: &str) -> MessageOutcome {
        match self
            .store
            .set_document_progress(
                document,
                DocumentStatus::Failed,
                document.chunk_count,
                0,
                Some(reason),
            )
            .await
        {
            Ok(()) | Err(StoreError::NotFound(_)) => MessageOutcome::Done,
            Err(_) => MessageOutcome::Retry,
        }
    }

    /// Counts a document's embedding, charged to its workspace, once it is
    /// ingested (a redelivered job finds it completed and counts nothing).
    /// Never fails the document: counters not written are logged with
    /// their amount.
    async fn count(&self, document: &Document, tokens: u64) {
        let charge = Charge {
            document_embedding_tokens: tokens,
            ..Charge::new(document.workspace_id.clone(), Timestamp::now())
        };
        if let Err(error) = self.usage.count_usage(&charge).await {
            tracing::error!(
                workspace_id = %document.workspace_id,
                document_id = %document.id,
                document_embedding_tokens = tokens,
                %error,
                "usage not counted"
            );
        }
    }

    /// The document indexed: its chunks, and the tokens their embedding
    /// cost.
    async fn ingest(&self, document: &Document) -> Result<(usize, u64), IngestError> {
        let kind = document.kind.ok_or_else(|| {
            IngestError::Unusable("the upload was never completed; upload the file again".into())
        })?;
        // Status writes go beside the work rather than before it: each is a
        // round trip on the document's critical path otherwise.
        let blob_key = document.blob_key();
        let ((), bytes) = tokio::try_join!(
            self.store
                .set_document_progress(document, DocumentStatus::Processing, 0, 0, None)
                .err_into::<IngestError>(),
            self.blobs.get(&blob_key).err_into::<IngestError>(),
        )?;
        let chunks = read_chunks(kind, bytes).await?;
        let total = u32::try_from(chunks.len()).unwrap_or(u32::MAX);

        let tokens: Vec<usize> = chunks.iter().map(|c| c.tokens).collect();
        let batches = greedy(&tokens, EMBED_MAX_INPUTS, EMBED_MAX_TOKENS)
            .map_err(|e| IngestError::Unusable(format!("a passage is too long to index ({e})")))?;
        let embedding = stream::iter(batches.into_iter().map(|range| {
            let inputs: Vec<String> = chunks[range].iter().map(|c| c.text.clone()).collect();
            async move { self.embedder.embed_counted(&inputs).await }
        }))
        .buffered(self.concurrency.max(1))
        .try_collect::<Vec<Embedded>>();
        let ((), embedded) = tokio::try_join!(
            self.store
                .set_document_progress(document, DocumentStatus::Processing, total, 0, None)
                .err_into::<IngestError>(),
            embedding.err_into::<IngestError>(),
        )?;
        let tokens: u64 = embedded.iter().map(|e| e.tokens).sum();
        let records: Vec<VectorRecord> = chunks
            .iter()
            .zip(embedded.into_iter().flat_map(|e| e.vectors))
            .map(|(chunk, values)| record(document, chunk, values))
            .collect();

        // Each record's JSON and the comma after it.
        let sizes: Vec<usize> = records.iter().map(|r| r.json_len() + 1).collect();
        let upserts = greedy(&sizes, UPSERT_MAX_RECORDS, UPSERT_MAX_BYTES)
            .map_err(|e| IngestError::Unusable(format!("a passage is too large to index ({e})")))?;
        let ns = namespace(&document.project_id);
        // Progress is written by its own loop, latest count first, so a slow
        // write never holds up the upserts still streaming.
        let (progress, mut latest) = tokio::sync::watch::channel(0u32);
        let upserting = async move {
            let mut done = 0u32;
            let mut results = stream::iter(upserts.into_iter().map(|range| {
                let batch = &records[range];
                let ns = &ns;
                async move { self.index.upsert(ns, batch).await.map(|()| batch.len()) }
            }))
            .buffer_unordered(self.concurrency.max(1));
            while let Some(upserted) = results.next().await {
                done += u32::try_from(upserted?).unwrap_or(0);
                progress.send_replace(done);
            }
            Ok::<(), IngestError>(())
        };
        let reporting = async {
            while latest.changed().await.is_ok() {
                let done = *latest.borrow_and_update();
                // A failure here is not the document's: the final write
                // below reports a deleted document, and a lost progress
                // write is overtaken by the next one.
                if let Err(error) = self
                    .store
                    .set_document_progress(document, DocumentStatus::Processing, total, done, None)
                    .await
                {
                    tracing::debug!(%error, "progress not recorded");
                }
            }
        };
        let (upserted, ()) = tokio::join!(upserting, reporting);
        upserted?;
        self.store
            .set_document_progress(document, DocumentStatus::Completed, total, total, None)
            .await?;
        Ok((chunks.len(), tokens))
    }
}
