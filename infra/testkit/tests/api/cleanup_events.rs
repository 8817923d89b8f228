//! The sample SQS events, through the real `SqsEvent` deserialization and
//! the worker's batch handler.

use aws_lambda_events::event::sqs::SqsEvent;
use cleanup_worker::handle_batch;
use shared::adapters::memory::Fault;
use shared::domain::access::AccessTarget;
use shared::ports::{AssistantStore, GrantStore};
use testkit::MemoryStack;
use testkit::events::{EVENT_ASSISTANT, EVENT_WORKSPACE, event_files};

fn event(name: &str) -> String {
    event_files("cleanup-worker")
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("events/cleanup-worker/{name}"))
        .1
}

#[tokio::test]
async fn a_deleted_assistants_grants_are_removed_and_the_message_acknowledged() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let ws = shared::domain::ids::WorkspaceId::parse(fixture.ws()).unwrap();
    let id = shared::domain::ids::AssistantId::parse(&fixture.private_assistant).unwrap();
    stack.store.delete_assistant(&ws, &id).await.unwrap();
    let json = event("assistant-deleted.json")
        .replace(EVENT_WORKSPACE, fixture.ws())
        .replace(EVENT_ASSISTANT, &fixture.private_assistant);
    let sqs: SqsEvent = serde_json::from_str(&json).unwrap();
    let response = handle_batch(stack.store.as_ref(), sqs).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(
        stack
            .store
            .list_grants(&ws, &AccessTarget::Assistant(id.clone()))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_bodies_are_acknowledged_without_failing_the_batch() {
    let stack = MemoryStack::start().await;
    let sqs: SqsEvent = serde_json::from_str(&event("batch-with-malformed-bodies.json")).unwrap();
    assert_eq!(sqs.records.len(), 3);
    let response = handle_batch(stack.store.as_ref(), sqs).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "poison is dropped, the valid job (for an assistant with nothing left) succeeds"
    );
}

#[tokio::test]
async fn a_job_that_cannot_reach_the_database_is_reported_for_retry_alone() {
    let stack = MemoryStack::start().await;
    // The one valid job meets a database that cannot be reached; the
    // malformed ones never reach it.
    stack.store.faults().fail_next(1, Fault::Unavailable);
    let sqs: SqsEvent = serde_json::from_str(&event("batch-with-malformed-bodies.json")).unwrap();
    let valid_id = sqs.records[0].message_id.clone().unwrap();
    let response = handle_batch(stack.store.as_ref(), sqs).await;
    assert_eq!(stack.store.faults().remaining(), 0);
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, [valid_id.as_str()]);
}
