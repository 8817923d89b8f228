//! Every route, called by every kind of caller: owner, admin, member, guest,
//! a user of another workspace, no key, and a revoked key. Refused writes
//! leave everything as it was.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::routes::{ROLES, Route, routes};
use testkit::{Fixture, MemoryStack};

/// Calls one route as every role. Roles expected to be refused, and reads,
/// share one workspace (a refusal must change nothing, which is checked);
/// each allowed write gets a fresh one, so it cannot affect the next role.
async fn check_route(stack: MemoryStack, route: Route) -> Vec<String> {
    let mut mismatches = Vec::new();
    let mut shared = None;
    for (role, expected) in ROLES.iter().zip(route.statuses) {
        let changes_things = expected < 300 && route.method != Method::GET;
        let fixture = if changes_things {
            stack.fixture().await
        } else {
            match shared.take() {
                Some(fixture) => fixture,
                None => stack.fixture().await,
            }
        };
        let before = stack.snapshot(&fixture).await;
        let (status, body) = stack
            .call(
                route.method.clone(),
                &(route.path)(&fixture),
                Some(fixture.key(role)),
                route.body.map(|b| b(&fixture)),
            )
            .await;
        if status.as_u16() != expected {
            mismatches.push(format!(
                "{} as {role}: expected {expected}, got {status} {body}",
                route.name
            ));
        } else if status.is_client_error() {
            if stack.snapshot(&fixture).await != before {
                mismatches.push(format!(
                    "{} as {role} was refused but changed something",
                    route.name
                ));
            }
            if !(body["error"].is_string() && body["code"].is_string()) {
                mismatches.push(format!("{} as {role}: error body {body}", route.name));
            }
        }
        if !changes_things {
            shared = Some(fixture);
        }
    }
    mismatches
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_every_role_as_the_policy_says_and_refusals_change_nothing() {
    // A table per route: the local server copies a whole table on every
    // transaction and is not safe under concurrent transactions on one table.
    let mut checks = tokio::task::JoinSet::new();
    for route in routes() {
        checks.spawn(async move { check_route(MemoryStack::start().await, route).await });
    }
    let mut mismatches = Vec::new();
    while let Some(result) = checks.join_next().await {
        mismatches.extend(result.expect("a route check does not panic"));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn every_route_refuses_a_missing_a_malformed_and_a_revoked_key() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let (status, created) = stack
        .call(
            Method::POST,
            "/api/api-keys",
            Some(fixture.key("admin")),
            Some(json!({"name": "soon revoked"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let revoked = created["key"].as_str().unwrap().to_owned();
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/api/api-keys/{}", created["id"].as_str().unwrap()),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let unknown = format!("ic_{}", "A".repeat(40));
    let before = stack.snapshot(&fixture).await;
    for route in routes() {
        let path = (route.path)(&fixture);
        for key in [
            None,
            Some("not-a-key"),
            Some(unknown.as_str()),
            Some(revoked.as_str()),
        ] {
            let (status, body) = stack
                .call(
                    route.method.clone(),
                    &path,
                    key,
                    route.body.map(|b| b(&fixture)),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} with {key:?}: {body}",
                route.name
            );
            assert_eq!(body["code"], "unauthorized:api");
        }
        assert_eq!(stack.snapshot(&fixture).await, before, "{}", route.name);
    }
}

#[tokio::test]
async fn a_suspended_member_is_treated_as_an_outsider() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
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
            Some(json!({"status": "suspended"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}/assistants", fixture.ws()),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = stack
        .call(
            Method::GET,
            "/api/workspaces",
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(listed["total"], 0);
}

#[tokio::test]
async fn only_owners_and_admins_upload_documents() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let path = format!(
        "/api/workspaces/{}/projects/{}/documents",
        fixture.ws(),
        fixture.project
    );
    for (role, expected) in ROLES.iter().zip([201, 201, 403, 404, 404]) {
        let before = stack.snapshot(&fixture).await;
        let (status, body) = stack
            .upload(fixture.key(role), &path, "notes.txt", b"some notes")
            .await;
        assert_eq!(status.as_u16(), expected, "{role}: {body}");
        if status.is_client_error() {
            assert_eq!(stack.snapshot(&fixture).await, before, "{role}");
        }
    }
    let (status, _) = stack
        .call_raw(Method::POST, &path, None, Some("x".into()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, listed) = stack
        .call(Method::GET, &path, Some(fixture.key("owner")), None)
        .await;
    assert_eq!(
        listed["total"], 3,
        "the fixture's document and the two allowed uploads"
    );
}

/// The names a list route shows to `role`, or its status if refused.
async fn names_seen(stack: &MemoryStack, fixture: &Fixture, path: &str, role: &str) -> Value {
    let (status, body) = stack
        .call(Method::GET, path, Some(fixture.key(role)), None)
        .await;
    if status != StatusCode::OK {
        return json!(status.as_u16());
    }
    let mut names: Vec<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(body["total"], names.len(), "{path} as {role}");
    json!(names)
}

#[tokio::test]
async fn each_role_lists_exactly_the_assistants_projects_and_documents_it_may_see() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let ws = fixture.ws();
    let (status, _) = stack
        .call(
            Method::POST,
            &format!("/api/workspaces/{ws}/projects"),
            Some(fixture.key("admin")),
            Some(json!({"name": "Handbook", "visibility": "workspace"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let lists = [
        (
            format!("/api/workspaces/{ws}/assistants"),
            [
                json!(["private bot", "public bot"]),
                json!(["private bot", "public bot"]),
                // The member holds a grant on the private one.
                json!(["private bot", "public bot"]),
                json!(["public bot"]),
                json!(404),
            ],
        ),
        (
            format!("/api/workspaces/{ws}/projects"),
            [
                json!(["Handbook", "Product Documentation", "Spare"]),
                json!(["Handbook", "Product Documentation", "Spare"]),
                // Private projects: only the one the member was granted.
                json!(["Handbook", "Product Documentation"]),
                json!(["Handbook"]),
                json!(404),
            ],
        ),
        (
            format!(
                "/api/workspaces/{ws}/projects/{}/documents",
                fixture.project
            ),
            [
                json!(["faq.md"]),
                json!(["faq.md"]),
                json!(["faq.md"]),
                json!(404),
                json!(404),
            ],
        ),
    ];
    for (path, expected) in lists {
        for (role, seen) in ROLES.iter().zip(expected) {
            assert_eq!(
                names_seen(&stack, &fixture, &path, role).await,
                seen,
                "{path} as {role}"
            );
        }
    }
}

#[tokio::test]
async fn a_user_of_another_workspace_cannot_reach_this_ones_items_through_their_own() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let theirs = fixture.seed.other_workspace_id.to_string();
    let outsider = Some(fixture.key("outsider"));
    let before = stack.snapshot(&fixture).await;
    let ast = &fixture.private_assistant;
    let project = &fixture.project;
    let document = &fixture.document;
    let member = fixture.user("member");
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("assistants/{ast}"), None),
        (
            Method::PATCH,
            format!("assistants/{ast}"),
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, format!("assistants/{ast}"), None),
        (Method::GET, format!("assistants/{ast}/access"), None),
        (
            Method::PUT,
            format!("assistants/{ast}/access/{member}"),
            None,
        ),
        (Method::GET, format!("assistants/{ast}/projects"), None),
        (
            Method::POST,
            format!("assistants/{ast}/projects"),
            Some(json!({"projectId": fixture.spare_project})),
        ),
        (
            Method::DELETE,
            format!("assistants/{ast}/projects/{project}"),
            None,
        ),
        (
            Method::POST,
            format!("assistants/{ast}/search"),
            Some(json!({"query": "refunds"})),
        ),
        (Method::GET, format!("projects/{project}"), None),
        (Method::DELETE, format!("projects/{project}"), None),
        (
            Method::GET,
            format!("projects/{project}/documents/{document}"),
            None,
        ),
        (
            Method::DELETE,
            format!("projects/{project}/documents/{document}"),
            None,
        ),
        (
            Method::POST,
            format!("projects/{project}/documents/{document}/complete"),
            None,
        ),
        (
            Method::PATCH,
            format!("members/{member}"),
            Some(json!({"role": "guest"})),
        ),
        (Method::DELETE, format!("members/{member}"), None),
    ];
    for (method, path, body) in calls {
        let path = format!("/api/workspaces/{theirs}/{path}");
        let (status, answer) = stack.call(method.clone(), &path, outsider, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    assert_eq!(stack.snapshot(&fixture).await, before);
}

#[tokio::test]
async fn an_admin_can_neither_change_nor_remove_an_owner_nor_make_one() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let ws = fixture.ws();
    let admin = Some(fixture.key("admin"));
    let owner_path = format!("/api/workspaces/{ws}/members/{}", fixture.user("owner"));
    let member_path = format!("/api/workspaces/{ws}/members/{}", fixture.user("member"));
    let before = stack.snapshot(&fixture).await;
    for (method, path, body) in [
        (Method::PATCH, &owner_path, Some(json!({"role": "member"}))),
        (
            Method::PATCH,
            &owner_path,
            Some(json!({"status": "suspended"})),
        ),
        (Method::DELETE, &owner_path, None),
        (Method::PATCH, &member_path, Some(json!({"role": "owner"}))),
    ] {
        let (status, body) = stack.call(method.clone(), path, admin, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert!(body["error"].as_str().unwrap().contains("only owners"));
    }
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/api/workspaces/{ws}/members"),
            admin,
            Some(json!({"email": "new@demo.test", "role": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(stack.snapshot(&fixture).await, before);
    // The owner may, except leave the workspace without an owner.
    let (status, body) = stack
        .call(
            Method::PATCH,
            &owner_path,
            Some(fixture.key("owner")),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = stack
        .call(
            Method::PATCH,
            &member_path,
            admin,
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
