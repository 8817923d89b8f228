//! Deleting a project is durable: its background jobs are queued before the
//! visible delete, a delete cut short is finished by its retry (the
//! tombstone answers 204, not 404), and a job whose delete never happened
//! removes nothing.

use axum::http::{Method, StatusCode};
use serde_json::Value;
use shared::adapters::memory::Fault;
use testkit::{Fixture, MemoryStack};

fn project(fixture: &Fixture) -> String {
    format!(
        "/api/workspaces/{}/projects/{}",
        fixture.ws(),
        fixture.project
    )
}

/// Deletes the fixture's project as its owner: the status and the
/// `Retry-After` header, if any.
async fn delete(stack: &MemoryStack, fixture: &Fixture) -> (StatusCode, Option<String>) {
    let request = axum::http::Request::builder()
        .method(Method::DELETE)
        .uri(project(fixture))
        .header("authorization", format!("Bearer {}", fixture.key("owner")))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(stack.router(), request)
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry_after)
}

async fn connected_count(stack: &MemoryStack, fixture: &Fixture) -> u64 {
    let path = format!(
        "/api/workspaces/{}/assistants/{}",
        fixture.ws(),
        fixture.private_assistant
    );
    let (_, assistant) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    assistant["projectCount"].as_u64().unwrap()
}

fn project_files(stack: &MemoryStack, fixture: &Fixture) -> Vec<String> {
    stack
        .blobs
        .keys()
        .into_iter()
        .filter(|key| key.contains(&fixture.project))
        .collect()
}

#[tokio::test]
async fn a_project_delete_whose_jobs_cannot_be_queued_is_a_503_and_changes_nothing() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let before = stack.snapshot(&fixture).await;
    stack.ingest.set_unavailable(true);
    assert_eq!(
        delete(&stack, &fixture).await,
        (StatusCode::SERVICE_UNAVAILABLE, Some("2".to_owned()))
    );
    stack.ingest.set_unavailable(false);
    assert_eq!(stack.snapshot(&fixture).await, before);
}

#[tokio::test]
async fn the_jobs_of_a_project_delete_that_failed_remove_nothing() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let files = project_files(&stack, &fixture);
    assert!(!files.is_empty());
    // The ingest job is queued, then the cleanup job cannot be.
    stack.cleanup.set_unavailable(true);
    assert_eq!(
        delete(&stack, &fixture).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    stack.cleanup.set_unavailable(false);
    let before = stack.snapshot(&fixture).await;
    assert_eq!(stack.run_ingest().await, 1, "the project's removal");
    let after = stack.snapshot(&fixture).await;
    assert_eq!(after["api"], before["api"]);
    assert_eq!(after["vectors"], before["vectors"]);
    assert_eq!(project_files(&stack, &fixture), files);
}

#[tokio::test]
async fn a_project_delete_cut_short_while_disconnecting_is_finished_by_its_retry() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    assert_eq!(connected_count(&stack, &fixture).await, 1);
    // The existence check, then the delete and its tombstone land; the
    // disconnection meets an unreachable database.
    stack.aim_past_the_membership(&fixture).await;
    stack.store.faults().pass_next(2);
    stack.store.faults().fail_next(1, Fault::Unavailable);
    assert_eq!(
        delete(&stack, &fixture).await,
        (StatusCode::SERVICE_UNAVAILABLE, Some("2".to_owned()))
    );
    let (status, _) = stack
        .call(
            Method::GET,
            &project(&fixture),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the visible delete happened");
    assert_eq!(connected_count(&stack, &fixture).await, 1, "cut short");

    // The client retries, as the 503 told it to: 204, and the assistant no
    // longer counts the project.
    assert_eq!(
        delete(&stack, &fixture).await,
        (StatusCode::NO_CONTENT, None)
    );
    assert_eq!(connected_count(&stack, &fixture).await, 0);
    // Both deliveries' jobs run; the second set finds nothing more.
    stack.run_cleanup().await;
    stack.run_ingest().await;
    assert!(project_files(&stack, &fixture).is_empty());
    let snapshot = stack.snapshot(&fixture).await;
    assert_eq!(snapshot["vectors"][0], Value::Array(vec![]));
    let grants = format!(
        "/api/workspaces/{}/projects/{}/access",
        fixture.ws(),
        fixture.project
    );
    let (status, _) = stack
        .call(Method::GET, &grants, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Deleting it again is still a 204; a project that never was is a 404.
    assert_eq!(delete(&stack, &fixture).await.0, StatusCode::NO_CONTENT);
    let never = format!(
        "/api/workspaces/{}/projects/{}",
        fixture.ws(),
        shared::domain::ids::ProjectId::generate()
    );
    let (status, body) = stack
        .call(Method::DELETE, &never, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
