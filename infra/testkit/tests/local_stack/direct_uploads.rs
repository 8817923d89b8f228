//! Files too large for the API go straight to S3 through a presigned URL:
//! start the upload, PUT the bytes, complete it, and the ingest worker takes
//! the document from there.

use axum::http::{Method, StatusCode};
use devtools::samples::docx_with_media;
use serde_json::{Value, json};
use testkit::{Fixture, TestStack};

fn documents(fixture: &Fixture) -> String {
    format!(
        "/api/workspaces/{}/projects/{}/documents",
        fixture.ws(),
        fixture.spare_project
    )
}

async fn start_upload(
    stack: &TestStack,
    fixture: &Fixture,
    name: &str,
    size: usize,
) -> (StatusCode, Value) {
    stack
        .call(
            Method::POST,
            &format!("{}/uploads", documents(fixture)),
            Some(fixture.key("admin")),
            Some(json!({"name": name, "size": size})),
        )
        .await
}

/// PUTs bytes to the presigned URL as a client would, with the signed
/// headers (the HTTP client sets Content-Length from the body itself).
async fn put(upload: &Value, bytes: Vec<u8>) -> reqwest::StatusCode {
    assert_eq!(upload["method"], "PUT");
    let mut request = devtools::http_client().put(upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value.as_str().unwrap());
        }
    }
    request.body(bytes).send().await.unwrap().status()
}

async fn complete(stack: &TestStack, fixture: &Fixture, document: &str) -> (StatusCode, Value) {
    stack
        .call(
            Method::POST,
            &format!("{}/{document}/complete", documents(fixture)),
            Some(fixture.key("admin")),
            None,
        )
        .await
}

async fn document(stack: &TestStack, fixture: &Fixture, id: &str) -> Value {
    let (status, body) = stack
        .call(
            Method::GET,
            &format!("{}/{id}", documents(fixture)),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Bytes that do not compress, like a photograph.
fn photo(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn a_file_over_the_api_limit_goes_straight_to_s3_and_is_indexed_and_found() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // The fixture's own document, out of the way.
    stack.run_ingest().await;
    let file = docx_with_media(
        &[
            "Returns",
            "Returned goods are inspected at the Leeds warehouse before any refund.",
        ],
        &photo(6 * 1024 * 1024),
    );
    assert!(file.len() > shared::domain::document::MAX_UPLOAD_BYTES);

    let (status, started) = start_upload(&stack, &fixture, "returns-policy.docx", file.len()).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["document"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("doc_"));
    assert_eq!(started["document"]["status"], "uploading");
    assert_eq!(started["document"]["contentType"], Value::Null);
    assert_eq!(started["document"]["size"], file.len());
    assert!(
        started["upload"]["expiresAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // The size is signed: S3 refuses a PUT of any other length.
    assert_eq!(
        started["upload"]["headers"]["content-length"],
        file.len().to_string()
    );
    assert!(
        started["upload"]["url"]
            .as_str()
            .unwrap()
            .contains("X-Amz-SignedHeaders=content-length%3Bhost")
    );

    assert!(put(&started["upload"], file.clone()).await.is_success());
    let (status, completed) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::OK, "{completed}");
    assert_eq!(completed["status"], "pending");
    assert_eq!(
        completed["contentType"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );

    assert_eq!(stack.run_ingest().await, 1);
    let indexed = document(&stack, &fixture, &id).await;
    assert_eq!(indexed["status"], "completed", "{indexed}");
    assert_eq!(indexed["size"], file.len());

    let (status, _) = stack
        .call(
            Method::POST,
            &format!(
                "/api/workspaces/{}/assistants/{}/projects",
                fixture.ws(),
                fixture.public_assistant
            ),
            Some(fixture.key("admin")),
            Some(json!({"projectId": fixture.spare_project})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, found) = stack
        .call(
            Method::POST,
            &format!(
                "/api/workspaces/{}/assistants/{}/search",
                fixture.ws(),
                fixture.public_assistant
            ),
            // The spare project is private: an admin may read it.
            Some(fixture.key("admin")),
            Some(json!({"query": "where are returned goods inspected?"})),
        )
        .await;
    assert_eq!(found["data"][0]["documentId"], id.as_str(), "{found}");
    assert!(
        found["data"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Leeds warehouse")
    );
}

#[tokio::test]
async fn completing_checks_what_arrived_and_a_wrong_file_can_be_replaced() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let text = b"Gift cards never expire and can be used online.".to_vec();
    let (_, started) = start_upload(&stack, &fixture, "gift-cards.txt", text.len()).await;
    let id = started["document"]["id"].as_str().unwrap().to_owned();

    // Nothing uploaded yet.
    let (status, body) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("PUT it"));

    // The wrong size, then the wrong kind of file: refused, still waiting.
    assert!(
        put(&started["upload"], b"short".to_vec())
            .await
            .is_success()
    );
    let (status, body) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["details"]["file"]
            .as_str()
            .unwrap()
            .contains("5 bytes")
    );
    let mut png = vec![0x89, b'P', b'N', b'G', 0, 0xff];
    png.resize(text.len(), 0);
    assert!(put(&started["upload"], png).await.is_success());
    let (status, body) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["details"]["file"]
            .as_str()
            .unwrap()
            .contains("PDF, DOCX, TXT or Markdown")
    );
    assert_eq!(document(&stack, &fixture, &id).await["status"], "uploading");
    assert_eq!(stack.run_ingest().await, 0, "nothing was queued");

    // The right file: completed once, and only once.
    assert!(put(&started["upload"], text).await.is_success());
    let (status, body) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["contentType"], "text/plain");
    let (status, _) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(stack.run_ingest().await, 1);
    assert_eq!(document(&stack, &fixture, &id).await["status"], "completed");
}

#[tokio::test]
async fn an_upload_must_name_the_file_and_its_size_within_50_mb() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    for (body, field) in [
        (json!({"size": 10}), "name"),
        (json!({"name": "a.pdf"}), "size"),
        (json!({"name": "a.pdf", "size": 0}), "size"),
        (
            json!({"name": "a.pdf", "size": 50 * 1024 * 1024 + 1}),
            "size",
        ),
        (
            json!({"name": "a.pdf", "size": 10, "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, error) = stack
            .call(
                Method::POST,
                &format!("{}/uploads", documents(&fixture)),
                Some(fixture.key("admin")),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert!(error["details"][field].is_string(), "{body}: {error}");
    }
    let (_, listed) = stack
        .call(
            Method::GET,
            &documents(&fixture),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(listed["total"], 0, "nothing was stored");
}

#[tokio::test]
async fn two_completes_at_once_queue_the_document_once() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let text = b"Store credit is issued within the hour.".to_vec();
    let (_, started) = start_upload(&stack, &fixture, "credit.txt", text.len()).await;
    let id = started["document"]["id"].as_str().unwrap().to_owned();
    assert!(put(&started["upload"], text).await.is_success());
    let (first, second) = tokio::join!(
        complete(&stack, &fixture, &id),
        complete(&stack, &fixture, &id)
    );
    let mut statuses = [first.0.as_u16(), second.0.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
    assert_eq!(stack.run_ingest().await, 1, "one ingest job");
    assert_eq!(document(&stack, &fixture, &id).await["status"], "completed");
}

#[tokio::test]
async fn a_file_put_to_the_upload_url_after_completing_is_never_indexed() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let checked = b"Parcels ship from the Leeds warehouse every weekday.".to_vec();
    let swapped = b"Parcels ship from the Paris warehouse every weekday.".to_vec();
    assert_eq!(checked.len(), swapped.len());
    let (_, started) = start_upload(&stack, &fixture, "shipping.txt", checked.len()).await;
    let id = started["document"]["id"].as_str().unwrap().to_owned();
    assert!(
        started["upload"]["url"]
            .as_str()
            .unwrap()
            .contains("/uploads/"),
        "the URL writes to the staging prefix"
    );
    assert!(put(&started["upload"], checked).await.is_success());
    let (status, body) = complete(&stack, &fixture, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The URL still accepts a PUT until it expires; the worker never
    // reads where it writes.
    assert!(put(&started["upload"], swapped).await.is_success());
    assert_eq!(stack.run_ingest().await, 1);
    assert_eq!(document(&stack, &fixture, &id).await["status"], "completed");
    let text: String = stack
        .pinecone
        .metadata(&fixture.spare_project)
        .values()
        .map(|metadata| metadata["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(text.contains("Leeds"), "{text}");
    assert!(!text.contains("Paris"), "{text}");
}

#[tokio::test]
async fn a_file_replaced_while_it_is_checked_is_neither_read_nor_copied() {
    use shared::ports::BlobStore;
    let stack = TestStack::start().await;
    let blobs = stack.local.blobs.as_ref();
    blobs
        .put("uploads/a/b/c", b"first version".to_vec(), "text/plain")
        .await
        .unwrap();
    let checked = blobs.version_of("uploads/a/b/c").await.unwrap().unwrap();
    assert_eq!(checked.size, 13);
    assert_eq!(
        blobs
            .get_range_of("uploads/a/b/c", &checked, 0, 5)
            .await
            .unwrap(),
        Some(b"first".to_vec())
    );
    blobs
        .put("uploads/a/b/c", b"other version".to_vec(), "text/plain")
        .await
        .unwrap();
    assert_eq!(
        blobs
            .get_range_of("uploads/a/b/c", &checked, 0, 5)
            .await
            .unwrap(),
        None
    );
    assert!(
        !blobs
            .copy_version("uploads/a/b/c", &checked, "a/b/c")
            .await
            .unwrap()
    );
    assert_eq!(blobs.version_of("a/b/c").await.unwrap(), None);
    let current = blobs.version_of("uploads/a/b/c").await.unwrap().unwrap();
    assert!(
        blobs
            .copy_version("uploads/a/b/c", &current, "a/b/c")
            .await
            .unwrap()
    );
    assert_eq!(blobs.get("a/b/c").await.unwrap(), b"other version");
}
