//! The sample SQS events, through the real `SqsEvent` deserialization and
//! the worker's batch handler, against the local stack and emulators.

use aws_lambda_events::event::sqs::SqsEvent;
use axum::http::Method;
use ingest_worker::handle_batch;
use testkit::events::{EVENT_DOCUMENT, EVENT_PROJECT, EVENT_WORKSPACE, event_files};
use testkit::{Fixture, MemoryStack};

/// The dead-letter queue's ARN, as the function is configured with it (the
/// one in `dead-lettered-index-job.json`).
const DEAD_LETTERS: &str =
    "arn:aws:sqs:us-east-1:123456789012:illumichat-IngestDeadLetterQueue-GhIjKl";

fn event(name: &str, fixture: &Fixture) -> SqsEvent {
    let (_, text) = event_files("ingest-worker")
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("events/ingest-worker/{name}"));
    let text = text
        .replace(EVENT_WORKSPACE, fixture.ws())
        .replace(EVENT_PROJECT, &fixture.project)
        .replace(EVENT_DOCUMENT, &fixture.document);
    serde_json::from_str(&text).expect("a valid SQS event")
}

async fn status(stack: &MemoryStack, fixture: &Fixture) -> serde_json::Value {
    let path = format!(
        "/api/workspaces/{}/projects/{}/documents/{}",
        fixture.ws(),
        fixture.project,
        fixture.document
    );
    let (_, document) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    document
}

#[tokio::test]
async fn an_index_job_completes_the_document() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    assert_eq!(status(&stack, &fixture).await["status"], "pending");
    let response = handle_batch(
        &stack.ingestor,
        event("index-document.json", &fixture),
        DEAD_LETTERS,
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let document = status(&stack, &fixture).await;
    assert_eq!(document["status"], "completed", "{document}");
    assert_eq!(stack.pinecone.vector_count(&fixture.project), 1);
}

#[tokio::test]
async fn a_malformed_body_does_not_fail_its_batch() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let sqs = event("batch-with-malformed-body.json", &fixture);
    assert_eq!(sqs.records.len(), 3);
    let response = handle_batch(&stack.ingestor, sqs, DEAD_LETTERS).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "poison is acknowledged, the rest done"
    );
    // The batch indexed the document, then its forget job removed the vectors.
    assert_eq!(status(&stack, &fixture).await["status"], "completed");
    assert_eq!(stack.pinecone.vector_count(&fixture.project), 0);
}

#[tokio::test]
async fn a_dead_lettered_index_job_marks_its_document_failed_with_the_reason() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    // Every delivery was cut off before the worker could record anything:
    // the document still says it is waiting.
    let response = handle_batch(
        &stack.ingestor,
        event("dead-lettered-index-job.json", &fixture),
        DEAD_LETTERS,
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let document = status(&stack, &fixture).await;
    assert_eq!(document["status"], "failed", "{document}");
    assert_eq!(
        document["error"],
        shared::ingest::worker::DEAD_LETTER_REASON,
        "the reason says what to do"
    );
    assert_eq!(stack.pinecone.vector_count(&fixture.project), 0);
}

#[tokio::test]
async fn a_dead_letter_for_a_document_indexed_after_all_changes_nothing() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    handle_batch(
        &stack.ingestor,
        event("index-document.json", &fixture),
        DEAD_LETTERS,
    )
    .await;
    let response = handle_batch(
        &stack.ingestor,
        event("dead-lettered-index-job.json", &fixture),
        DEAD_LETTERS,
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(status(&stack, &fixture).await["status"], "completed");
    assert_eq!(stack.pinecone.vector_count(&fixture.project), 1);
}
