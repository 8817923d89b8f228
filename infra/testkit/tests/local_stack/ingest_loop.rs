//! The whole knowledge loop on the local stack: upload -> pending -> the
//! ingest worker -> completed -> connected -> search finds the passage.

use axum::http::{Method, StatusCode};
use devtools::samples::{docx, pdf, pdf_with_a_broken_font};
use serde_json::{Value, json};
use shared::ports::{BlobStore, DocumentStore};
use testkit::{Fixture, TestStack};

const REFUNDS: &str = "Refunds are paid back to the original card within five business days.";

fn documents(fixture: &Fixture) -> String {
    format!(
        "/api/workspaces/{}/projects/{}/documents",
        fixture.ws(),
        fixture.spare_project
    )
}

fn filler(topic: &str, sentences: usize) -> String {
    (0..sentences)
        .map(|i| format!("Paragraph {i} explains {topic} in general terms for customers."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

async fn search(stack: &TestStack, fixture: &Fixture, assistant: &str, query: &str) -> Value {
    let (status, body) = stack
        .call(
            Method::POST,
            &format!(
                "/api/workspaces/{}/assistants/{assistant}/search",
                fixture.ws()
            ),
            // An admin reads every project (the raw search shows a caller
            // only the projects they may read).
            Some(fixture.key("admin")),
            Some(json!({"query": query, "topK": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn each_file_type_goes_from_pending_to_completed_and_is_found_by_search() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // The fixture's own document, out of the way.
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "refunds.md",
            format!(
                "# Refunds\n\n{REFUNDS}\n\n## Other\n\n{}",
                filler("shipping", 40)
            )
            .into_bytes(),
            "text/markdown",
        ),
        (
            "warranty.txt",
            format!(
                "{}\n\nThe warranty covers parts for two years.",
                filler("returns", 12)
            )
            .into_bytes(),
            "text/plain",
        ),
        (
            "opening-hours.docx",
            docx(&[
                "Opening hours",
                "The support desk opens at nine every weekday morning.",
            ]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "shipping.pdf",
            pdf(&[
                &filler("invoices", 6),
                "Shipping\nParcels to the islands travel by ferry and arrive within a week.",
            ]),
            "application/pdf",
        ),
    ];
    let mut ids = Vec::new();
    for (name, bytes, content_type) in &files {
        let (status, created) = stack.upload(admin, &documents(&fixture), name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {created}");
        assert!(created["id"].as_str().unwrap().starts_with("doc_"));
        assert_eq!(created["name"], *name);
        assert_eq!(created["status"], "pending");
        assert_eq!(created["contentType"], *content_type);
        assert_eq!(created["size"], bytes.len());
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(stack.run_ingest().await, files.len());
    for id in &ids {
        let (_, document) = stack
            .call(
                Method::GET,
                &format!("{}/{id}", documents(&fixture)),
                Some(admin),
                None,
            )
            .await;
        assert_eq!(document["status"], "completed", "{document}");
        assert!(document["chunkCount"].as_u64().unwrap() >= 1);
        assert_eq!(document["chunksDone"], document["chunkCount"]);
        assert_eq!(document["error"], Value::Null);
    }
    let (_, project) = stack
        .call(
            Method::GET,
            &format!(
                "/api/workspaces/{}/projects/{}",
                fixture.ws(),
                fixture.spare_project
            ),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(project["documentCount"], files.len());

    // Not connected yet: the assistant knows nothing.
    let before = search(
        &stack,
        &fixture,
        &fixture.public_assistant,
        "how long do refunds take",
    )
    .await;
    assert_eq!(before["data"], json!([]));

    let (status, _) = stack
        .call(
            Method::POST,
            &format!(
                "/api/workspaces/{}/assistants/{}/projects",
                fixture.ws(),
                fixture.public_assistant
            ),
            Some(admin),
            Some(json!({"projectId": fixture.spare_project})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for (query, document, phrase) in [
        (
            "how long do refunds take to reach my card",
            &ids[0],
            "five business days",
        ),
        ("what does the warranty cover", &ids[1], "two years"),
        ("when does the support desk open", &ids[2], "opens at nine"),
        ("how do parcels reach the islands", &ids[3], "by ferry"),
    ] {
        let found = search(&stack, &fixture, &fixture.public_assistant, query).await;
        let best = &found["data"][0];
        assert_eq!(best["documentId"], **document, "{query}: {found}");
        assert!(best["text"].as_str().unwrap().contains(phrase), "{best}");
        assert_eq!(best["projectId"], fixture.spare_project);
        assert!(best["score"].as_f64().unwrap() >= f64::from(devtools::emulators::LOCAL_MIN_SCORE));
        assert!(best["chunkIndex"].is_u64() && best["documentName"].is_string());
    }
}

#[tokio::test]
async fn an_unreadable_or_empty_document_ends_failed_with_a_reason() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // The fixture's own document, out of the way.
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let (status, broken) = stack
        .upload(
            admin,
            &documents(&fixture),
            "broken.docx",
            b"PK\x03\x04 word/document.xml but not a zip",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, blank) = stack
        .upload(admin, &documents(&fixture), "blank.docx", &docx(&[""]))
        .await;
    let (_, broken_pdf) = stack
        .upload(
            admin,
            &documents(&fixture),
            "broken.pdf",
            b"%PDF-1.7\nno objects here",
        )
        .await;
    let (_, scan) = stack
        .upload(admin, &documents(&fixture), "scan.pdf", &pdf(&[""]))
        .await;
    let (_, crashing) = stack
        .upload(
            admin,
            &documents(&fixture),
            "crashing.pdf",
            &pdf_with_a_broken_font(),
        )
        .await;
    stack.run_ingest().await;
    for (id, reason) in [
        (&broken["id"], "not a readable DOCX"),
        (&blank["id"], "no text"),
        (&broken_pdf["id"], "not a readable PDF"),
        (&scan["id"], "no text layer"),
        (&crashing["id"], "damaged and could not be read as PDF"),
    ] {
        let (_, document) = stack
            .call(
                Method::GET,
                &format!("{}/{}", documents(&fixture), id.as_str().unwrap()),
                Some(admin),
                None,
            )
            .await;
        assert_eq!(document["status"], "failed");
        assert!(
            document["error"].as_str().unwrap().contains(reason),
            "{document}"
        );
    }
}

#[tokio::test]
async fn uploads_of_the_wrong_kind_or_shape_are_refused_and_nothing_is_stored() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // The fixture's own document, out of the way.
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let (status, error) = stack
        .upload(
            admin,
            &documents(&fixture),
            "logo.png",
            &[0x89, b'P', b'N', b'G', 0, 0xff],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["details"]["file"]
            .as_str()
            .unwrap()
            .contains("PDF, DOCX, TXT or Markdown")
    );
    let (status, _) = stack
        .upload(admin, &documents(&fixture), "empty.txt", b"")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = stack
        .call_raw(
            Method::POST,
            &documents(&fixture),
            Some(admin),
            Some("{\"file\": 1}".into()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = stack
        .upload(
            fixture.key("member"),
            &documents(&fixture),
            "a.txt",
            b"hello",
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the member cannot see the spare project"
    );
    let too_big = vec![b'a'; shared::domain::document::MAX_UPLOAD_BYTES + 1];
    let (status, error) = stack
        .upload(admin, &documents(&fixture), "huge.txt", &too_big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("POST .../documents/uploads"),
        "a larger file is pointed to the direct upload: {error}"
    );
    let (_, listed) = stack
        .call(Method::GET, &documents(&fixture), Some(admin), None)
        .await;
    assert_eq!(listed["total"], 0);
    assert_eq!(stack.run_ingest().await, 0);
}

#[tokio::test]
async fn deleting_a_document_removes_its_vectors_and_uncounts_it() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // The fixture's own document, out of the way.
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let (_, created) = stack
        .upload(
            admin,
            &documents(&fixture),
            "refunds.txt",
            REFUNDS.as_bytes(),
        )
        .await;
    stack.run_ingest().await;
    assert_eq!(stack.pinecone.vector_count(&fixture.spare_project), 1);
    let path = format!(
        "{}/{}",
        documents(&fixture),
        created["id"].as_str().unwrap()
    );
    let (status, _) = stack.call(Method::DELETE, &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.call(Method::GET, &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    stack.run_ingest().await;
    assert_eq!(stack.pinecone.vector_count(&fixture.spare_project), 0);
    let (_, project) = stack
        .call(
            Method::GET,
            &format!(
                "/api/workspaces/{}/projects/{}",
                fixture.ws(),
                fixture.spare_project
            ),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(project["documentCount"], 0);
}

#[tokio::test]
async fn a_redelivered_job_produces_the_same_vectors_and_state() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    // The fixture's own document, out of the way.
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let text = filler("billing", 200);
    let (_, created) = stack
        .upload(admin, &documents(&fixture), "billing.txt", text.as_bytes())
        .await;
    let job = json!({"type": "index", "workspaceId": fixture.ws(), "projectId": fixture.spare_project, "documentId": created["id"]}).to_string();
    stack.run_ingest().await;
    let count = stack.pinecone.vector_count(&fixture.spare_project);
    let path = format!(
        "{}/{}",
        documents(&fixture),
        created["id"].as_str().unwrap()
    );
    let (_, first) = stack.call(Method::GET, &path, Some(admin), None).await;
    assert_eq!(
        stack.ingestor.handle_message("again", &job, 2).await,
        shared::jobs::MessageOutcome::Done
    );
    let (_, second) = stack.call(Method::GET, &path, Some(admin), None).await;
    assert_eq!(stack.pinecone.vector_count(&fixture.spare_project), count);
    assert_eq!(first, second);
}

#[tokio::test]
async fn deleting_a_project_removes_its_documents_files_and_vectors() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let (_, created) = stack
        .upload(
            admin,
            &documents(&fixture),
            "refunds.txt",
            REFUNDS.as_bytes(),
        )
        .await;
    stack.run_ingest().await;
    assert_eq!(stack.pinecone.vector_count(&fixture.spare_project), 1);
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!(
                "/api/workspaces/{}/projects/{}",
                fixture.ws(),
                fixture.spare_project
            ),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    stack.run_ingest().await;
    assert_eq!(stack.pinecone.vector_count(&fixture.spare_project), 0);
    let received = stack
        .local
        .sqs
        .receive_message()
        .queue_url(&stack.local.cleanup_queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    for message in received.messages.unwrap_or_default() {
        shared::app::cleanup::handle_message(
            stack.local.store.as_ref(),
            "m",
            message.body().unwrap(),
        )
        .await;
    }
    let ws = shared::domain::ids::WorkspaceId::parse(fixture.ws()).unwrap();
    let project = shared::domain::ids::ProjectId::parse(&fixture.spare_project).unwrap();
    let id = shared::domain::ids::DocumentId::parse(created["id"].as_str().unwrap()).unwrap();
    assert!(
        stack
            .local
            .store
            .get_document(&ws, &project, &id)
            .await
            .unwrap()
            .is_none()
    );
    let left = stack
        .local
        .blobs
        .delete_prefix(&format!("{}/{}/", fixture.ws(), fixture.spare_project))
        .await
        .unwrap();
    assert_eq!(left, 0, "no file of the project is left in the bucket");
}

#[tokio::test]
async fn a_document_deleted_before_its_job_runs_leaves_no_vectors() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    stack.run_ingest().await;
    let admin = fixture.key("admin");
    let (_, created) = stack
        .upload(
            admin,
            &documents(&fixture),
            "refunds.txt",
            REFUNDS.as_bytes(),
        )
        .await;
    let path = format!(
        "{}/{}",
        documents(&fixture),
        created["id"].as_str().unwrap()
    );
    let (status, _) = stack.call(Method::DELETE, &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Both the index job and the forget job run; nothing is left either way.
    stack.run_ingest().await;
    assert_eq!(stack.pinecone.vector_count(&fixture.spare_project), 0);
    let (status, _) = stack.call(Method::GET, &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
