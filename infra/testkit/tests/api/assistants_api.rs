//! The Assistants API as the documentation describes it: shapes, defaults,
//! validation, visibility, ordering and paging, deletion with its cascade.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{Fixture, MemoryStack};

fn assistants(fixture: &Fixture) -> String {
    format!("/api/workspaces/{}/assistants", fixture.ws())
}

async fn create(stack: &MemoryStack, fixture: &Fixture, body: Value) -> Value {
    let (status, created) = stack
        .call(
            Method::POST,
            &assistants(fixture),
            Some(fixture.key("admin")),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

#[tokio::test]
async fn creating_the_documented_example_returns_the_full_object() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let created = create(
        &stack,
        &fixture,
        json!({
            "name": "Support Bot",
            "instructions": "You are a helpful customer support assistant for Acme Corp.",
            "model": "grok-2",
            "visibility": "public",
            "temperature": 0.5,
            "maxTokens": 2048,
            "welcomeMessage": "Hello! How can I help you today?"
        }),
    )
    .await;
    assert!(created["id"].as_str().unwrap().starts_with("ast_"));
    assert_eq!(created["name"], "Support Bot");
    assert_eq!(created["model"], "grok-2");
    assert_eq!(created["visibility"], "public");
    assert_eq!(created["temperature"], 0.5);
    assert_eq!(created["maxTokens"], 2048);
    assert_eq!(
        created["welcomeMessage"],
        "Hello! How can I help you today?"
    );
    assert_eq!(created["widgetEnabled"], false);
    assert_eq!(created["projectCount"], 0);
    let created_at = created["createdAt"].as_str().unwrap();
    assert_eq!(created_at.len(), "2025-07-01T09:00:00Z".len());
    assert!(created_at.ends_with('Z'));
    let (status, fetched) = stack
        .call(
            Method::GET,
            &format!(
                "{}/{}",
                assistants(&fixture),
                created["id"].as_str().unwrap()
            ),
            Some(fixture.key("member")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn an_assistant_created_with_only_a_name_gets_the_documented_defaults() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let created = create(&stack, &fixture, json!({"name": "  Minimal  "})).await;
    assert_eq!(created["name"], "Minimal");
    assert_eq!(created["instructions"], "");
    assert_eq!(created["model"], "grok-2", "the workspace's default model");
    assert_eq!(created["visibility"], "workspace");
    assert_eq!(created["temperature"], 0.7);
    assert_eq!(created["maxTokens"], 4096);
    assert_eq!(created["welcomeMessage"], Value::Null);
    assert_eq!(created["widgetEnabled"], false);
}

#[tokio::test]
async fn invalid_fields_are_refused_with_a_400_naming_each_one_and_nothing_is_stored() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let cases = [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "a", "instructions": "x".repeat(32_001)}),
            "instructions",
        ),
        (json!({"name": "a", "model": "claude-9"}), "model"),
        (json!({"name": "a", "visibility": "everyone"}), "visibility"),
        (json!({"name": "a", "temperature": 2.5}), "temperature"),
        (json!({"name": "a", "temperature": "hot"}), "temperature"),
        (json!({"name": "a", "maxTokens": 0}), "maxTokens"),
        (json!({"name": "a", "maxTokens": 128_001}), "maxTokens"),
        (json!({"name": "a", "maxTokens": 10.5}), "maxTokens"),
        (json!({"name": "a", "welcomeMessage": 5}), "welcomeMessage"),
        (
            json!({"name": "a", "welcomeMessage": "x".repeat(2001)}),
            "welcomeMessage",
        ),
        (
            json!({"name": "a", "widgetEnabled": "true"}),
            "widgetEnabled",
        ),
        (json!({"name": "a", "id": "ast_x"}), "id"),
        (json!({"name": "a", "projectCount": 3}), "projectCount"),
        (
            json!({"name": "a", "createdAt": "2025-01-01T00:00:00Z"}),
            "createdAt",
        ),
        (json!({"name": "a", "systemPrompt": "hi"}), "systemPrompt"),
        (json!(["name"]), "body"),
    ];
    for (body, field) in cases {
        let (status, error) = stack
            .call(
                Method::POST,
                &assistants(&fixture),
                Some(fixture.key("owner")),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["code"], "bad_request:api");
        assert!(
            error["details"][field].is_string(),
            "{field} not named in {error}"
        );
    }
    let (_, listed) = stack
        .call(
            Method::GET,
            &assistants(&fixture),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(
        listed["total"], 2,
        "only the fixture's two assistants exist"
    );
}

#[tokio::test]
async fn malformed_empty_and_oversized_bodies_get_4xx_never_500() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let path = assistants(&fixture);
    let owner = Some(fixture.key("owner"));
    for raw in [
        "{",
        "",
        "   ",
        "null",
        "\"name\"",
        "{\"name\": \"a\",}",
        "\u{feff}{}",
    ] {
        let (status, body) = stack
            .call_raw(Method::POST, &path, owner, Some(raw.into()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw:?}: {body}");
    }
    let huge = json!({"name": "a", "instructions": "x".repeat(70_000)}).to_string();
    let (status, body) = stack.call_raw(Method::POST, &path, owner, Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large:api");
    let patch = format!("{path}/{}", fixture.public_assistant);
    let (status, _) = stack
        .call_raw(Method::PATCH, &patch, owner, Some("[".into()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    for path in [
        format!("{}/ast_abc123", assistants(&fixture)),
        format!("{}/ast_00000000000000000000", assistants(&fixture)),
        format!("{}/{}", assistants(&fixture), fixture.ws()),
        "/api/workspaces/ws_abc123/assistants".to_owned(),
        "/api/workspaces/ws_00000000000000000000/assistants".to_owned(),
        "/api/workspaces/%FF%FE/assistants".to_owned(),
        format!("{}/%C0", assistants(&fixture)),
    ] {
        let (status, body) = stack.call(Method::GET, &path, owner, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "not_found:api");
    }
    let (status, _) = stack
        .call(
            Method::PATCH,
            &format!("{}/ast_00000000000000000000", assistants(&fixture)),
            owner,
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_update_changes_only_the_fields_it_names() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let created = create(
        &stack,
        &fixture,
        json!({"name": "Bot", "instructions": "Be brief.", "welcomeMessage": "Hi", "temperature": 0.9}),
    )
    .await;
    let path = format!(
        "{}/{}",
        assistants(&fixture),
        created["id"].as_str().unwrap()
    );
    let (status, updated) = stack
        .call(
            Method::PATCH,
            &path,
            Some(fixture.key("owner")),
            Some(json!({"instructions": "You are a technical support specialist.", "temperature": 0.3, "welcomeMessage": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        updated["instructions"],
        "You are a technical support specialist."
    );
    assert_eq!(updated["temperature"], 0.3);
    assert_eq!(updated["welcomeMessage"], Value::Null);
    assert_eq!(updated["name"], "Bot");
    assert_eq!(updated["createdAt"], created["createdAt"]);
    let (_, fetched) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(fetched, updated);
    let (status, error) = stack
        .call(
            Method::PATCH,
            &path,
            Some(fixture.key("owner")),
            Some(json!({"model": "not-allowed"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["details"]["model"]
            .as_str()
            .unwrap()
            .contains("grok-2")
    );
}

#[tokio::test]
async fn the_list_is_newest_first_paged_and_counts_only_what_the_caller_may_see() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let mut names = Vec::new();
    for i in 0..5 {
        let name = format!("bot {i}");
        create(
            &stack,
            &fixture,
            json!({"name": name, "visibility": "workspace"}),
        )
        .await;
        names.push(name);
    }
    create(
        &stack,
        &fixture,
        json!({"name": "secret", "visibility": "private"}),
    )
    .await;

    let (_, as_owner) = stack
        .call(
            Method::GET,
            &format!("{}?limit=3", assistants(&fixture)),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(as_owner["total"], 8);
    assert_eq!(as_owner["limit"], 3);
    assert_eq!(as_owner["offset"], 0);
    let first: Vec<&str> = as_owner["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["secret", "bot 4", "bot 3"]);
    let keys: Vec<&String> = as_owner["data"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "createdAt",
            "id",
            "model",
            "name",
            "projectCount",
            "visibility",
            "widgetEnabled"
        ],
        "list items carry exactly the documented fields"
    );

    let (_, as_guest) = stack
        .call(
            Method::GET,
            &format!("{}?offset=4&limit=100", assistants(&fixture)),
            Some(fixture.key("guest")),
            None,
        )
        .await;
    assert_eq!(
        as_guest["total"], 6,
        "five workspace assistants and the public one"
    );
    assert_eq!(as_guest["offset"], 4);
    assert_eq!(as_guest["data"].as_array().unwrap().len(), 2);

    let (_, as_member) = stack
        .call(
            Method::GET,
            &assistants(&fixture),
            Some(fixture.key("member")),
            None,
        )
        .await;
    assert_eq!(
        as_member["total"], 7,
        "plus the private one the member was granted"
    );

    let (_, clamped) = stack
        .call(
            Method::GET,
            &format!("{}?limit=1000", assistants(&fixture)),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(clamped["limit"], 100);
}

#[tokio::test]
async fn a_list_larger_than_one_query_page_is_complete() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    // 40 assistants of ~30 KB each pass DynamoDB's 1 MB query page.
    for i in 0..40 {
        create(
            &stack,
            &fixture,
            json!({"name": format!("big {i}"), "instructions": "x".repeat(30_000)}),
        )
        .await;
    }
    let (_, listed) = stack
        .call(
            Method::GET,
            &format!("{}?limit=100", assistants(&fixture)),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(listed["total"], 42);
    assert_eq!(listed["data"].as_array().unwrap().len(), 42);
}

#[tokio::test]
async fn access_grants_open_a_private_assistant_to_one_member_until_revoked() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let private = format!("{}/{}", assistants(&fixture), fixture.private_assistant);
    let guest = fixture.user("guest");
    let (status, _) = stack
        .call(Method::GET, &private, Some(fixture.key("guest")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, grant) = stack
        .call(
            Method::PUT,
            &format!("{private}/access/{guest}"),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grant["userId"], guest);
    let (status, _) = stack
        .call(Method::GET, &private, Some(fixture.key("guest")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, grants) = stack
        .call(
            Method::GET,
            &format!("{private}/access"),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(grants["total"], 2);

    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("{private}/access/{guest}"),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .call(Method::GET, &private, Some(fixture.key("guest")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("{private}/access/{guest}"),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "revoking twice finds nothing"
    );

    let outsider = fixture.user("outsider");
    let (status, body) = stack
        .call(
            Method::PUT,
            &format!("{private}/access/{outsider}"),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only members can be granted access: {body}"
    );
}

#[tokio::test]
async fn the_creator_of_a_private_assistant_keeps_seeing_it() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let created = create(
        &stack,
        &fixture,
        json!({"name": "mine", "visibility": "private"}),
    )
    .await;
    let path = format!(
        "/api/workspaces/{}/members/{}",
        fixture.ws(),
        fixture.user("admin")
    );
    let (status, _) = stack
        .call(
            Method::PATCH,
            &path,
            Some(fixture.key("owner")),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack
        .call(
            Method::GET,
            &format!(
                "{}/{}",
                assistants(&fixture),
                created["id"].as_str().unwrap()
            ),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_temperature_in_range_is_stored_and_read_back_as_answered() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    let one = format!("{}/{}", assistants(&fixture), fixture.public_assistant);
    for (sent, kept) in [
        (json!(0), 0.0),
        (json!(2), 2.0),
        (json!(1e-200), 0.0),
        (json!(5e-324), 0.0),
        (json!(1.9999999999999998), 2.0),
        (json!(0.12345), 0.1235),
    ] {
        let created = create(
            &stack,
            &fixture,
            json!({"name": "Edge", "temperature": sent.clone()}),
        )
        .await;
        assert_eq!(created["temperature"], json!(kept), "create {sent}");
        let path = format!(
            "{}/{}",
            assistants(&fixture),
            created["id"].as_str().unwrap()
        );
        let (_, read) = stack.call(Method::GET, &path, owner, None).await;
        assert_eq!(read["temperature"], json!(kept), "read {sent}");
        let (status, patched) = stack
            .call(
                Method::PATCH,
                &one,
                owner,
                Some(json!({"temperature": sent.clone()})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!(patched["temperature"], json!(kept), "update {sent}");
    }
    for refused in [json!(-1e-200), json!(2.0000001), json!("1")] {
        let (status, body) = stack
            .call(
                Method::PATCH,
                &one,
                owner,
                Some(json!({"temperature": refused})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["details"]["temperature"].is_string());
    }
}
