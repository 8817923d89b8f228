//! DynamoDB round trips per warm request, counted by an SDK interceptor.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{Fixture, TestStack};

fn assistants(fixture: &Fixture) -> String {
    format!("/api/workspaces/{}/assistants", fixture.ws())
}

#[tokio::test]
async fn a_warm_request_makes_at_most_two_dynamodb_round_trips() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    let list = assistants(&fixture);
    let one = format!("{list}/{}", fixture.public_assistant);
    // Warm the key cache.
    stack.call(Method::GET, &list, owner, None).await;
    let requests: [(Method, &str, Option<Value>); 4] = [
        (Method::GET, &list, None),
        (Method::GET, &one, None),
        (Method::POST, &list, Some(json!({"name": "counted"}))),
        (Method::PATCH, &one, Some(json!({"temperature": 1.0}))),
    ];
    for (method, path, body) in requests {
        stack.round_trips.reset();
        let (status, _) = stack.call(method.clone(), path, owner, body).await;
        assert!(status.is_success());
        assert!(
            stack.round_trips.count() <= 2,
            "{method} {path} made {} round trips",
            stack.round_trips.count()
        );
    }
    stack.round_trips.reset();
    let (status, _) = stack.call(Method::DELETE, &one, owner, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        stack.round_trips.count(),
        2,
        "membership, then the delete transaction"
    );
}
