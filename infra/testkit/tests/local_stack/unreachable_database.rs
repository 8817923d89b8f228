//! The DynamoDB adapter, when the database cannot be reached at all: a 503
//! with Retry-After, never a 500 and never the SDK's own words.

use axum::http::{Method, StatusCode};
use shared::adapters::dynamo::DynamoStore;
use shared::http::Backends;
use std::sync::Arc;
use testkit::TestStack;

#[tokio::test]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // Port 9 on loopback: nothing listens there, so every call is refused.
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let unreachable = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let store = Arc::new(DynamoStore::new(unreachable, &stack.local.table));
    let broken = stack.with_backends(Backends {
        store: store.clone(),
        auth: Arc::new(shared::app::authentication::Authenticator::new(store)),
        ..stack.backends.clone()
    });
    let request = axum::http::Request::builder()
        .uri(format!("/api/workspaces/{}/assistants", fixture.ws()))
        .header("authorization", format!("Bearer {}", fixture.key("owner")))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(broken.router(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = broken
        .call(
            Method::GET,
            "/api/workspaces",
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "unavailable:api");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internals leak: {body}"
    );
}
