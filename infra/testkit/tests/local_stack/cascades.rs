//! Deletion cascades through the real cleanup queue: the assistant is gone
//! at once, its grants when the queued job runs.

use axum::http::{Method, StatusCode};
use serde_json::Value;
use shared::app::cleanup::handle_message;
use shared::domain::access::AccessTarget;
use shared::jobs::MessageOutcome;
use shared::ports::GrantStore;
use testkit::{Fixture, TestStack};

fn assistants(fixture: &Fixture) -> String {
    format!("/api/workspaces/{}/assistants", fixture.ws())
}

#[tokio::test]
async fn deleting_an_assistant_hides_it_at_once_and_the_cleanup_removes_its_grants() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    let path = format!("{}/{}", assistants(&fixture), fixture.private_assistant);
    let (_, before) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}", fixture.ws()),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    let (status, body) = stack
        .call(Method::DELETE, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, _) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack
        .call(Method::DELETE, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, after) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}", fixture.ws()),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(
        after["assistantCount"].as_u64().unwrap() + 1,
        before["assistantCount"].as_u64().unwrap()
    );

    // The grant is still stored until the queued cleanup job runs.
    let ws = shared::domain::ids::WorkspaceId::parse(fixture.ws()).unwrap();
    let id = shared::domain::ids::AssistantId::parse(&fixture.private_assistant).unwrap();
    assert_eq!(
        stack
            .local
            .store
            .list_grants(&ws, &AccessTarget::Assistant(id.clone()))
            .await
            .unwrap()
            .len(),
        1
    );
    let received = stack
        .local
        .sqs
        .receive_message()
        .queue_url(&stack.local.cleanup_queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let messages = received.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let body = message.body.as_deref().unwrap();
    assert_eq!(
        handle_message(stack.local.store.as_ref(), "m1", body).await,
        MessageOutcome::Done
    );
    assert!(
        stack
            .local
            .store
            .list_grants(&ws, &AccessTarget::Assistant(id.clone()))
            .await
            .unwrap()
            .is_empty()
    );
    // A second delivery of the same job is harmless.
    assert_eq!(
        handle_message(stack.local.store.as_ref(), "m1", body).await,
        MessageOutcome::Done
    );
}
