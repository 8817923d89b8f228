//! The sample SQS events, through the real `SqsEvent` deserialization and
//! the worker's batch handler.

use aws_lambda_events::event::sqs::SqsEvent;
use cleanup_worker::handle_batch;
use shared::adapters::memory::Fault;
use shared::domain::access::AccessTarget;
use shared::ports::{AssistantStore, CascadeStore, GrantStore, SmsStore};
use testkit::MemoryStack;
use testkit::events::{EVENT_ASSISTANT, EVENT_CONVERSATION, EVENT_WORKSPACE, event_files};

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
async fn a_deleted_conversations_messages_are_purged_and_the_message_acknowledged() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let (status, _) = stack
        .call(
            axum::http::Method::DELETE,
            &format!(
                "/api/workspaces/{}/conversations/{}",
                fixture.ws(),
                fixture.owner_conversation
            ),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::NO_CONTENT);
    let json = event("conversation-deleted.json")
        .replace(EVENT_WORKSPACE, fixture.ws())
        .replace(EVENT_CONVERSATION, &fixture.owner_conversation);
    let sqs: SqsEvent = serde_json::from_str(&json).unwrap();
    let response = handle_batch(stack.store.as_ref(), sqs).await;
    assert!(response.batch_item_failures.is_empty());
    let id = shared::domain::ids::ConversationId::parse(&fixture.owner_conversation).unwrap();
    assert_eq!(
        stack.store.purge_conversation(&id).await.unwrap(),
        0,
        "nothing is left of it"
    );
}

#[tokio::test]
async fn a_deleted_sms_channels_texters_are_forgotten_and_the_message_acknowledged() {
    let stack = MemoryStack::start().await;
    let (fixture, assistant) = stack.sms_fixture().await;
    let sid = testkit::sms::message_sid();
    let (status, _) = stack
        .sms
        .text(
            &assistant,
            &sid,
            testkit::sms::TEXTER,
            "Anyone there at all?",
        )
        .await;
    assert_eq!(status, 200);
    stack.run_replies().await;
    assert!(stack.store.audit_dump().contains(testkit::sms::TEXTER));
    let ws = shared::domain::ids::WorkspaceId::parse(fixture.ws()).unwrap();
    let id = shared::domain::ids::AssistantId::parse(&assistant).unwrap();
    stack.store.delete_sms_config(&ws, &id).await.unwrap();
    let json = event("sms-channel-deleted.json")
        .replace(EVENT_WORKSPACE, fixture.ws())
        .replace(EVENT_ASSISTANT, &assistant);
    let sqs: SqsEvent = serde_json::from_str(&json).unwrap();
    let response = handle_batch(stack.store.as_ref(), sqs).await;
    assert!(response.batch_item_failures.is_empty());
    let left = stack.store.audit_dump();
    assert!(!left.contains(testkit::sms::TEXTER));
    assert!(!left.contains("Anyone there at all?"));
}

#[tokio::test]
async fn a_purge_of_a_live_conversation_is_refused_and_dropped() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let json = event("conversation-deleted.json")
        .replace(EVENT_WORKSPACE, fixture.ws())
        .replace(EVENT_CONVERSATION, &fixture.owner_conversation);
    let sqs: SqsEvent = serde_json::from_str(&json).unwrap();
    let response = handle_batch(stack.store.as_ref(), sqs).await;
    assert!(response.batch_item_failures.is_empty(), "not retried");
    let (status, _) = stack
        .call(
            axum::http::Method::GET,
            &format!(
                "/api/workspaces/{}/conversations/{}/messages",
                fixture.ws(),
                fixture.owner_conversation
            ),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(
        status,
        axum::http::StatusCode::OK,
        "the conversation is untouched"
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
