//! When a dependency fails: a transient failure (after the retries it
//! deserves) is a 503 with `Retry-After` and nothing half-written; a
//! provider's refusal is a 502 naming the provider; nothing is ever a 500,
//! and no answer carries the dependency's own words.

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::adapters::contention::WRITE_ATTEMPTS;
use shared::adapters::memory::Fault;
use shared::domain::ids::ProjectId;
use shared::domain::passage::Passage;
use shared::ports::{PassageSearch, ProviderError};
use std::sync::Arc;
use testkit::{Fixture, MemoryStack};

fn assistants(fixture: &Fixture) -> String {
    format!("/api/workspaces/{}/assistants", fixture.ws())
}

fn documents(fixture: &Fixture) -> String {
    format!(
        "/api/workspaces/{}/projects/{}/documents",
        fixture.ws(),
        fixture.project
    )
}

fn assert_unavailable(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "unavailable:api");
    assert!(
        !body.to_string().contains("injected") && !body.to_string().contains("Fault"),
        "no internals leak: {body}"
    );
}

/// The workspace's assistant count and names, as the owner reads them.
async fn assistants_seen(stack: &MemoryStack, fixture: &Fixture) -> (u64, Vec<String>) {
    let owner = Some(fixture.key("owner"));
    let ws = format!("/api/workspaces/{}", fixture.ws());
    let (_, workspace) = stack.call(Method::GET, &ws, owner, None).await;
    let (_, listed) = stack
        .call(Method::GET, &assistants(fixture), owner, None)
        .await;
    let names = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    (workspace["assistantCount"].as_u64().unwrap(), names)
}

#[tokio::test]
async fn a_create_that_meets_two_transaction_conflicts_succeeds() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let before = assistants_seen(&stack, &fixture).await;
    // Reads pass a conflict by: only the create's transaction meets them.
    stack
        .store
        .faults()
        .fail_next(2, Fault::TransactionConflict);
    let (status, created) = stack
        .call(
            Method::POST,
            &assistants(&fixture),
            Some(fixture.key("owner")),
            Some(json!({"name": "Persistent"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(stack.store.faults().remaining(), 0);
    let (count, names) = assistants_seen(&stack, &fixture).await;
    assert_eq!(count, before.0 + 1);
    assert_eq!(names.iter().filter(|n| *n == "Persistent").count(), 1);
}

#[tokio::test]
async fn a_create_that_keeps_meeting_conflicts_answers_503_and_writes_nothing() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let before = assistants_seen(&stack, &fixture).await;
    stack
        .store
        .faults()
        .fail_next(WRITE_ATTEMPTS as usize, Fault::TransactionConflict);
    let (status, body) = stack
        .call(
            Method::POST,
            &assistants(&fixture),
            Some(fixture.key("owner")),
            Some(json!({"name": "Unlucky"})),
        )
        .await;
    assert_unavailable(status, &body);
    assert_eq!(
        stack.store.faults().remaining(),
        0,
        "every attempt was made"
    );
    assert_eq!(assistants_seen(&stack, &fixture).await, before);
}

#[tokio::test]
async fn a_503_says_when_to_try_again() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    stack.aim_past_the_membership(&fixture).await;
    stack
        .store
        .faults()
        .fail_next(WRITE_ATTEMPTS as usize, Fault::TransactionConflict);
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(assistants(&fixture))
        .header("authorization", format!("Bearer {}", fixture.key("owner")))
        .body(axum::body::Body::from(r#"{"name": "Later"}"#))
        .unwrap();
    let response = tower::ServiceExt::oneshot(stack.router(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "2");
}

#[tokio::test]
async fn a_throttled_store_is_retried_and_only_persistent_throttling_is_a_503() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    stack.store.faults().fail_next(2, Fault::Throttled);
    let (status, _) = stack
        .call(Method::GET, &assistants(&fixture), owner, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    stack
        .store
        .faults()
        .fail_next(WRITE_ATTEMPTS as usize, Fault::Throttled);
    let (status, body) = stack
        .call(Method::GET, &assistants(&fixture), owner, None)
        .await;
    assert_unavailable(status, &body);
}

#[tokio::test]
async fn an_unreachable_store_fails_authentication_membership_and_writes_alike_with_503() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let guest = Some(fixture.key("guest"));
    // The guest's key is not cached yet: authentication itself fails.
    stack.store.faults().fail_next(1, Fault::Unavailable);
    let (status, body) = stack
        .call(Method::GET, "/api/workspaces", guest, None)
        .await;
    assert_unavailable(status, &body);
    let (status, _) = stack
        .call(Method::GET, "/api/workspaces", guest, None)
        .await;
    assert_eq!(status, StatusCode::OK, "the key is cached from here on");
    // The membership read.
    stack.store.faults().fail_next(1, Fault::Unavailable);
    let (status, body) = stack
        .call(Method::GET, &assistants(&fixture), guest, None)
        .await;
    assert_unavailable(status, &body);
    // The operation's own write, after the membership read.
    let before = assistants_seen(&stack, &fixture).await;
    stack.aim_past_the_membership(&fixture).await;
    stack.store.faults().fail_next(1, Fault::Unavailable);
    let (status, body) = stack
        .call(
            Method::POST,
            &assistants(&fixture),
            Some(fixture.key("owner")),
            Some(json!({"name": "Unwritten"})),
        )
        .await;
    assert_unavailable(status, &body);
    assert_eq!(assistants_seen(&stack, &fixture).await, before);
}

#[tokio::test]
async fn an_upload_while_the_file_store_is_down_is_a_503_and_stores_nothing() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = fixture.key("owner");
    let (_, before) = stack
        .call(Method::GET, &documents(&fixture), Some(owner), None)
        .await;
    let (files, jobs) = (stack.blobs.keys(), stack.ingest.sent().len());
    stack.blobs.set_unavailable(true);
    let (status, body) = stack
        .upload(owner, &documents(&fixture), "notes.md", b"# Notes\n\nText.")
        .await;
    assert_unavailable(status, &body);
    stack.blobs.set_unavailable(false);
    let (_, after) = stack
        .call(Method::GET, &documents(&fixture), Some(owner), None)
        .await;
    assert_eq!(after, before);
    assert_eq!(stack.blobs.keys(), files);
    assert_eq!(stack.ingest.sent().len(), jobs);
}

#[tokio::test]
async fn an_upload_that_cannot_be_queued_is_a_503_and_leaves_nothing_behind() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = fixture.key("owner");
    let before = stack.snapshot(&fixture).await;
    stack.ingest.set_unavailable(true);
    let (status, body) = stack
        .upload(owner, &documents(&fixture), "notes.md", b"# Notes\n\nText.")
        .await;
    assert_unavailable(status, &body);
    stack.ingest.set_unavailable(false);
    assert_eq!(stack.snapshot(&fixture).await, before);
}

#[tokio::test]
async fn an_upload_that_can_be_neither_queued_nor_undone_says_why_on_its_document() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = fixture.key("owner");
    stack.ingest.set_unavailable(true);
    // The project's read and the record's write pass; taking the record
    // back meets an unreachable database.
    stack.aim_past_the_membership(&fixture).await;
    stack.store.faults().pass_next(2);
    stack.store.faults().fail_next(1, Fault::Unavailable);
    let (status, body) = stack
        .upload(owner, &documents(&fixture), "notes.md", b"# Notes\n\nText.")
        .await;
    assert_unavailable(status, &body);
    assert_eq!(stack.store.faults().remaining(), 0);
    let (_, listed) = stack
        .call(Method::GET, &documents(&fixture), Some(owner), None)
        .await;
    let notes = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "notes.md")
        .expect("the document is recorded")
        .clone();
    assert_eq!(notes["status"], "failed");
    assert!(
        notes["error"]
            .as_str()
            .unwrap()
            .contains("could not be queued")
    );
}

#[tokio::test]
async fn deleting_an_assistant_succeeds_even_when_its_cleanup_cannot_be_queued() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    stack.cleanup.set_unavailable(true);
    let path = format!("{}/{}", assistants(&fixture), fixture.public_assistant);
    let (status, _) = stack
        .call(Method::DELETE, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A search port that fails as it is told.
struct FailingSearch(fn() -> ProviderError);

#[async_trait]
impl PassageSearch for FailingSearch {
    async fn search(
        &self,
        _projects: &[ProjectId],
        _question: &str,
        _top_k: usize,
    ) -> Result<Vec<Passage>, ProviderError> {
        Err((self.0)())
    }
}

async fn search_with(failure: fn() -> ProviderError) -> (StatusCode, Value) {
    let stack = MemoryStack::with_search(Arc::new(FailingSearch(failure))).await;
    let fixture = stack.fixture().await;
    stack
        .call(
            Method::POST,
            &format!(
                "{}/{}/search",
                assistants(&fixture),
                fixture.private_assistant
            ),
            Some(fixture.key("owner")),
            Some(json!({"query": "refunds"})),
        )
        .await
}

#[tokio::test]
async fn a_provider_that_refuses_a_search_is_a_502_naming_it_and_nothing_more() {
    let (status, body) = search_with(|| ProviderError::Rejected {
        provider: "the vector index",
        status: 400,
    })
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["code"], "bad_gateway:api");
    assert_eq!(
        body["error"],
        "the vector index could not handle this request"
    );
    let (status, body) = search_with(|| ProviderError::Malformed {
        provider: "the embeddings API",
        detail: "sk-secret-in-a-garbled-answer".into(),
    })
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(!body.to_string().contains("sk-secret"), "{body}");
}

#[tokio::test]
async fn a_provider_that_is_down_is_a_503() {
    let (status, body) = search_with(|| ProviderError::Unavailable {
        provider: "the embeddings API",
        detail: "timed out".into(),
    })
    .await;
    assert_unavailable(status, &body);
    assert!(!body.to_string().contains("timed out"));
}

/// A search port that answers long after API Gateway would have given up.
struct HangingSearch;

#[async_trait]
impl PassageSearch for HangingSearch {
    async fn search(
        &self,
        _projects: &[ProjectId],
        _question: &str,
        _top_k: usize,
    ) -> Result<Vec<Passage>, ProviderError> {
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_route_whose_dependency_hangs_answers_a_json_503_before_api_gateway_gives_up() {
    let stack = MemoryStack::with_search(Arc::new(HangingSearch)).await;
    let fixture = stack.fixture().await;
    // Virtual time from here: the wait costs the test nothing.
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!(
            "{}/{}/search",
            assistants(&fixture),
            fixture.private_assistant
        ))
        .header("authorization", format!("Bearer {}", fixture.key("owner")))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"query": "refunds"}"#))
        .unwrap();
    let response = tower::ServiceExt::oneshot(stack.router(), request)
        .await
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(29),
        "answered inside API Gateway's 29 s"
    );
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "2");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_unavailable(StatusCode::SERVICE_UNAVAILABLE, &body);
}

#[tokio::test]
async fn a_direct_upload_whose_job_cannot_be_queued_can_be_completed_again() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    let text = b"Gift cards never expire.".to_vec();
    let (status, started) = stack
        .call(
            Method::POST,
            &format!("{}/uploads", documents(&fixture)),
            owner,
            Some(json!({"name": "gift-cards.txt", "size": text.len()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["document"]["id"].as_str().unwrap();
    // The client's PUT to the presigned URL.
    stack.blobs.upload(
        &format!("uploads/{}/{}/{id}", fixture.ws(), fixture.project),
        text,
    );
    let path = format!("{}/{id}", documents(&fixture));
    let complete = format!("{path}/complete");
    stack.ingest.set_unavailable(true);
    let (status, body) = stack.call(Method::POST, &complete, owner, None).await;
    assert_unavailable(status, &body);
    stack.ingest.set_unavailable(false);
    let (_, document) = stack.call(Method::GET, &path, owner, None).await;
    assert_eq!(document["status"], "uploading", "{document}");
    assert_eq!(document["contentType"], Value::Null);
    // The retry the 503 asked for.
    let (status, body) = stack.call(Method::POST, &complete, owner, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending");
    stack.run_ingest().await;
    let (_, document) = stack.call(Method::GET, &path, owner, None).await;
    assert_eq!(document["status"], "completed", "{document}");
}
