//! A job that failed half way, delivered again, leaves exactly the vectors
//! a clean run leaves: same ids, same metadata, nothing extra.

use axum::http::Method;
use serde_json::{Map, Value};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::jobs::{Job, MessageOutcome};
use shared::ports::{ProviderError, VectorIndex, VectorMatch, VectorRecord};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use testkit::{Fixture, MemoryStack};

/// An index whose first upsert writes half its records and then fails as a
/// dropped connection would (after the adapter's retries).
struct HalfThenFail<V> {
    inner: V,
    failed: AtomicBool,
}

impl<V: VectorIndex> VectorIndex for HalfThenFail<V> {
    async fn upsert(&self, namespace: &str, records: &[VectorRecord]) -> Result<(), ProviderError> {
        if self.failed.swap(true, Ordering::SeqCst) {
            return self.inner.upsert(namespace, records).await;
        }
        self.inner
            .upsert(namespace, &records[..records.len() / 2])
            .await?;
        Err(ProviderError::Unavailable {
            provider: "the vector index",
            detail: "connection reset".into(),
        })
    }

    async fn query(
        &self,
        namespace: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<Value>,
    ) -> Result<Vec<VectorMatch>, ProviderError> {
        self.inner.query(namespace, vector, top_k, filter).await
    }

    async fn delete_ids(&self, namespace: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.inner.delete_ids(namespace, ids).await
    }

    async fn delete_matching(&self, namespace: &str, filter: Value) -> Result<(), ProviderError> {
        self.inner.delete_matching(namespace, filter).await
    }

    async fn delete_namespace(&self, namespace: &str) -> Result<(), ProviderError> {
        self.inner.delete_namespace(namespace).await
    }
}

/// The stack's ingest worker, writing to `index` instead.
fn over<V: VectorIndex>(
    stack: &MemoryStack,
    index: V,
) -> Ingestor<shared::adapters::providers::embeddings::OpenAiEmbedder, V> {
    Ingestor {
        store: stack.store.clone(),
        usage: stack.store.clone(),
        projects: stack.store.clone(),
        blobs: stack.blobs.clone(),
        embedder: stack.retriever.embedder.clone(),
        index,
        concurrency: DEFAULT_CONCURRENCY,
    }
}

fn filler(sentences: usize) -> String {
    (0..sentences)
        .map(|i| format!("Paragraph {i} explains billing in general terms for customers."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

async fn document(stack: &MemoryStack, fixture: &Fixture, project: &str, id: &str) -> Value {
    let path = format!(
        "/api/workspaces/{}/projects/{project}/documents/{id}",
        fixture.ws()
    );
    let (_, body) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    body
}

/// A namespace's vectors of one document, by chunk index, without the two
/// fields that name the document itself.
fn chunks_of(
    vectors: &BTreeMap<String, Map<String, Value>>,
    document: &str,
) -> BTreeMap<u64, Map<String, Value>> {
    vectors
        .iter()
        .filter(|(_, m)| m["documentId"] == document)
        .map(|(id, metadata)| {
            let index = metadata["chunkIndex"].as_u64().unwrap();
            assert_eq!(id, &format!("{document}#{index}"), "ids are deterministic");
            let mut kept = metadata.clone();
            kept.remove("documentId");
            kept.remove("documentName");
            (index, kept)
        })
        .collect()
}

#[tokio::test]
async fn a_job_redelivered_after_failing_half_way_leaves_the_vectors_of_a_clean_run() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let owner = fixture.key("owner");
    let text = filler(300);
    let upload = |project: &str| {
        let path = format!(
            "/api/workspaces/{}/projects/{project}/documents",
            fixture.ws()
        );
        let text = text.clone();
        let stack = stack.clone();
        async move {
            let (_, created) = stack
                .upload(owner, &path, "billing.txt", text.as_bytes())
                .await;
            created["id"].as_str().unwrap().to_owned()
        }
    };

    // A clean run, in the other project, for comparison.
    let clean = upload(&fixture.project).await;
    assert_eq!(stack.run_ingest().await, 1);

    let flaky_id = upload(&fixture.spare_project).await;
    let [job] = stack.ingest.take().try_into().unwrap();
    let flaky = over(
        &stack,
        HalfThenFail {
            inner: stack.retriever.index.clone(),
            failed: AtomicBool::new(false),
        },
    );
    assert_eq!(
        flaky.handle_message("first", &job.to_message(), 1).await,
        MessageOutcome::Retry
    );
    let halfway = document(&stack, &fixture, &fixture.spare_project, &flaky_id).await;
    assert_eq!(halfway["status"], "processing");
    let total = halfway["chunkCount"].as_u64().unwrap();
    assert!(total >= 4, "enough chunks to fail half way: {total}");
    let written = stack.pinecone.vector_count(&fixture.spare_project) as u64;
    assert!(written > 0 && written < total, "{written} of {total}");

    assert_eq!(
        stack
            .ingestor
            .handle_message("again", &job.to_message(), 2)
            .await,
        MessageOutcome::Done
    );
    let done = document(&stack, &fixture, &fixture.spare_project, &flaky_id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["chunksDone"], total);

    let redelivered = chunks_of(&stack.pinecone.metadata(&fixture.spare_project), &flaky_id);
    let expected = chunks_of(&stack.pinecone.metadata(&fixture.project), &clean);
    assert_eq!(redelivered.len() as u64, total);
    assert_eq!(redelivered, expected);
}

#[tokio::test]
async fn a_job_redelivered_after_its_document_was_deleted_takes_back_the_vectors_it_wrote() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let path = format!(
        "/api/workspaces/{}/projects/{}/documents",
        fixture.ws(),
        fixture.spare_project
    );
    let (_, created) = stack
        .upload(
            fixture.key("owner"),
            &path,
            "billing.txt",
            filler(300).as_bytes(),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let [job] = stack.ingest.take().try_into().unwrap();
    let flaky = over(
        &stack,
        HalfThenFail {
            inner: stack.retriever.index.clone(),
            failed: AtomicBool::new(false),
        },
    );
    assert_eq!(
        flaky.handle_message("first", &job.to_message(), 1).await,
        MessageOutcome::Retry
    );
    assert!(stack.pinecone.vector_count(&fixture.spare_project) > 0);
    // The record goes while the job waits to be redelivered, and the
    // delete's own cleanup is lost (a crash).
    let ws = shared::domain::ids::WorkspaceId::parse(fixture.ws()).unwrap();
    let project = shared::domain::ids::ProjectId::parse(&fixture.spare_project).unwrap();
    let document_id = shared::domain::ids::DocumentId::parse(&id).unwrap();
    use shared::ports::DocumentStore;
    let record = stack
        .store
        .get_document(&ws, &project, &document_id)
        .await
        .unwrap()
        .unwrap();
    stack.store.delete_document(&record).await.unwrap();
    assert_eq!(
        stack
            .ingestor
            .handle_message("again", &job.to_message(), 2)
            .await,
        MessageOutcome::Done
    );
    assert_eq!(
        stack.pinecone.vector_count(&fixture.spare_project),
        0,
        "nothing of a deleted document stays searchable"
    );
}

/// An index that refuses to delete, as a misconfigured one would.
struct RefusesDeletes<V>(V);

impl<V: VectorIndex> VectorIndex for RefusesDeletes<V> {
    async fn upsert(&self, namespace: &str, records: &[VectorRecord]) -> Result<(), ProviderError> {
        self.0.upsert(namespace, records).await
    }

    async fn query(
        &self,
        namespace: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<Value>,
    ) -> Result<Vec<VectorMatch>, ProviderError> {
        self.0.query(namespace, vector, top_k, filter).await
    }

    async fn delete_ids(&self, namespace: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.0.delete_ids(namespace, ids).await
    }

    async fn delete_matching(&self, _: &str, _: Value) -> Result<(), ProviderError> {
        Err(ProviderError::Rejected {
            provider: "the vector index",
            status: 400,
        })
    }

    async fn delete_namespace(&self, namespace: &str) -> Result<(), ProviderError> {
        self.0.delete_namespace(namespace).await
    }
}

#[tokio::test]
async fn a_refused_vector_delete_is_retried_into_the_dead_letter_queue_not_dropped() {
    let stack = MemoryStack::start().await;
    let refusing = over(&stack, RefusesDeletes(stack.retriever.index.clone()));
    let forget = shared::jobs::IngestJob::Forget {
        project_id: shared::domain::ids::ProjectId::generate(),
        document_id: shared::domain::ids::DocumentId::generate(),
    };
    for delivery in [1, 5] {
        assert_eq!(
            refusing
                .handle_message("m", &forget.to_message(), delivery)
                .await,
            MessageOutcome::Retry
        );
    }
}

#[tokio::test]
async fn a_deleted_documents_passages_are_never_served_while_its_vectors_await_removal() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let search = format!(
        "/api/workspaces/{}/assistants/{}/search",
        f.ws(),
        f.private_assistant
    );
    let query = Some(serde_json::json!({"query": "How long do refunds take?"}));
    let (_, found) = stack
        .call(Method::POST, &search, Some(f.key("member")), query.clone())
        .await;
    assert_eq!(
        found["data"][0]["documentId"],
        f.document.as_str(),
        "{found}"
    );

    // Deleted; its removal job is queued but has not run (or keeps failing).
    let document = format!(
        "/api/workspaces/{}/projects/{}/documents/{}",
        f.ws(),
        f.project,
        f.document
    );
    let (status, _) = stack
        .call(Method::DELETE, &document, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, axum::http::StatusCode::NO_CONTENT);
    assert_eq!(stack.pinecone.vector_count(&f.project), 1, "still indexed");

    let (_, found) = stack
        .call(Method::POST, &search, Some(f.key("member")), query)
        .await;
    assert_eq!(found["data"], serde_json::json!([]), "{found}");
    let messages = format!(
        "/api/workspaces/{}/conversations/{}/messages",
        f.ws(),
        f.member_conversation
    );
    let (_, events) = stack
        .ask_streaming(&messages, f.key("member"), "How long do refunds take?")
        .await;
    let sources = events
        .iter()
        .find(|(name, _)| name == "sources")
        .map(|(_, data)| data["sources"].clone());
    assert_eq!(sources, Some(serde_json::json!([])), "{events:?}");
}
