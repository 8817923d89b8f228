//! When a dependency fails, callers get a 503 with Retry-After, never a 500
//! and never the dependency's own words.

use axum::http::{Method, StatusCode};
use devtools::testing::TestStack;
use shared::adapters::dynamo::Store;
use shared::http::AppState;

#[tokio::test]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // Port 9 on loopback: nothing listens there, so every call is refused.
    let aws = shared::config::load_aws().await;
    let unreachable = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let broken = TestStack {
        state: AppState::new(
            Store::new(unreachable, stack.local.store.table_name()),
            stack.state.cleanup.clone(),
        ),
        ..stack.clone()
    };
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
