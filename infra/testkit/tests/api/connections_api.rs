//! Project connections as the seed documents them, and counts that stay
//! exact under concurrency and cascades.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::access::AccessTarget;
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::ports::{AssistantStore, CascadeStore, ProjectStore};
use testkit::{Fixture, MemoryStack};

fn connections(fixture: &Fixture, assistant: &str) -> String {
    format!(
        "/api/workspaces/{}/assistants/{assistant}/projects",
        fixture.ws()
    )
}

async fn project_count(stack: &MemoryStack, fixture: &Fixture, assistant: &str) -> u64 {
    let (status, body) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}/assistants/{assistant}", fixture.ws()),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["projectCount"].as_u64().unwrap()
}

#[tokio::test]
async fn connecting_lists_the_project_as_documented_and_counts_it_once() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let path = connections(&fixture, &fixture.public_assistant);
    let owner = Some(fixture.key("owner"));
    let (status, connected) = stack
        .call(
            Method::POST,
            &path,
            owner,
            Some(json!({"projectId": fixture.project})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{connected}");
    let (status, again) = stack
        .call(
            Method::POST,
            &path,
            owner,
            Some(json!({"projectId": fixture.project})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(
        project_count(&stack, &fixture, &fixture.public_assistant).await,
        1
    );

    // As the member, who may read the (private) project.
    let (status, listed) = stack
        .call(Method::GET, &path, Some(fixture.key("member")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["data"]
    );
    let item = &listed["data"][0];
    assert_eq!(
        item.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["connectedAt", "documentCount", "id", "name"]
    );
    assert_eq!(item["id"], fixture.project);
    assert_eq!(item["name"], "Product Documentation");
    assert_eq!(
        item["documentCount"], 1,
        "the fixture uploaded one document"
    );
    assert_eq!(item, &connected);

    let (status, body) = stack
        .call(
            Method::DELETE,
            &format!("{path}/{}", fixture.project),
            owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("{path}/{}", fixture.project),
            owner,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "disconnecting twice finds nothing"
    );
    assert_eq!(
        project_count(&stack, &fixture, &fixture.public_assistant).await,
        0
    );
}

#[tokio::test]
async fn connecting_a_missing_or_malformed_project_is_refused() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let path = connections(&fixture, &fixture.public_assistant);
    let owner = Some(fixture.key("owner"));
    let (status, _) = stack
        .call(
            Method::POST,
            &path,
            owner,
            Some(json!({"projectId": "proj_00000000000000000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for body in [
        json!({}),
        json!({"projectId": 5}),
        json!({"projectId": "p1"}),
        json!({"projectId": fixture.project, "x": 1}),
    ] {
        let (status, error) = stack
            .call(Method::POST, &path, owner, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
    }
    assert_eq!(
        project_count(&stack, &fixture, &fixture.public_assistant).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_connects_and_disconnects_leave_the_count_exact() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    testkit::scenarios::fifty_concurrent_connects_and_disconnects(&stack.api, &fixture).await;
}

#[tokio::test]
async fn deleting_a_project_disconnects_it_everywhere_and_fixes_the_counts() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    let (status, _) = stack
        .call(
            Method::POST,
            &connections(&fixture, &fixture.public_assistant),
            owner,
            Some(json!({"projectId": fixture.project})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        project_count(&stack, &fixture, &fixture.private_assistant).await,
        1
    );
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!(
                "/api/workspaces/{}/projects/{}",
                fixture.ws(),
                fixture.project
            ),
            owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for assistant in [&fixture.public_assistant, &fixture.private_assistant] {
        assert_eq!(project_count(&stack, &fixture, assistant).await, 0);
        let (_, listed) = stack
            .call(Method::GET, &connections(&fixture, assistant), owner, None)
            .await;
        assert_eq!(listed["data"], json!([]));
    }
    let (status, _) = stack
        .call(
            Method::GET,
            &format!(
                "/api/workspaces/{}/projects/{}",
                fixture.ws(),
                fixture.project
            ),
            owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_an_assistant_leaves_no_half_connection_behind() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let ws = WorkspaceId::parse(fixture.ws()).unwrap();
    let assistant = AssistantId::parse(&fixture.private_assistant).unwrap();
    let store = &stack.store;
    store.delete_assistant(&ws, &assistant).await.unwrap();
    // member grant + the connection's two halves + its widget's settings
    // + the fixture's two conversations, each with its two listings
    let removed = store
        .delete_children(&ws, &AccessTarget::Assistant(assistant.clone()))
        .await
        .unwrap();
    assert_eq!(removed, 4 + 2 * 3);
    let project = shared::domain::ids::ProjectId::parse(&fixture.project).unwrap();
    store.delete_project(&ws, &project).await.unwrap();
    let removed = store
        .delete_children(&ws, &AccessTarget::Project(project))
        .await
        .unwrap();
    assert_eq!(removed, 2, "the project's grant and its document's record");
}

#[tokio::test]
async fn a_private_project_stays_hidden_through_an_assistant_its_reader_may_not_read_it_by() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let ws = f.ws();
    let public = format!("/api/workspaces/{ws}/assistants/{}", f.public_assistant);
    let (status, _) = stack
        .call(
            Method::POST,
            &format!("{public}/projects"),
            Some(f.key("owner")),
            Some(json!({"projectId": f.project})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // The guest sees the public assistant but holds no grant on the private
    // project; the member does.
    for (role, sees) in [
        ("owner", true),
        ("admin", true),
        ("member", true),
        ("guest", false),
    ] {
        let (status, listed) = stack
            .call(
                Method::GET,
                &format!("{public}/projects"),
                Some(f.key(role)),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let shown = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == f.project.as_str());
        assert_eq!(shown, sees, "{role} listing: {listed}");
        let (status, found) = stack
            .call(
                Method::POST,
                &format!("{public}/search"),
                Some(f.key(role)),
                Some(json!({"query": "How long do refunds take?"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let passages = found["data"].as_array().unwrap();
        assert_eq!(!passages.is_empty(), sees, "{role} search: {found}");
        assert!(
            passages
                .iter()
                .all(|p| sees || p["projectId"] != f.project.as_str())
        );
    }
}
