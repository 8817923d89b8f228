//! Every route, called by every kind of caller: owner, admin, member, guest,
//! a user of another workspace, no key, and a revoked key. Refused writes
//! leave everything as it was.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{Fixture, MemoryStack};

const ROLES: [&str; 5] = ["owner", "admin", "member", "guest", "outsider"];

struct Route {
    name: &'static str,
    method: Method,
    path: fn(&Fixture) -> String,
    body: Option<fn(&Fixture) -> Value>,
    /// Expected status for owner, admin, member, guest, outsider.
    expect: [u16; 5],
}

fn routes() -> Vec<Route> {
    vec![
        Route {
            name: "list workspaces",
            method: Method::GET,
            path: |_| "/api/workspaces".into(),
            body: None,
            expect: [200, 200, 200, 200, 200],
        },
        Route {
            name: "create workspace",
            method: Method::POST,
            path: |_| "/api/workspaces".into(),
            body: Some(|_| json!({"name": "Another"})),
            expect: [201, 201, 201, 201, 201],
        },
        Route {
            name: "get workspace",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}", f.ws()),
            body: None,
            expect: [200, 200, 200, 200, 404],
        },
        Route {
            name: "update workspace",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}", f.ws()),
            body: Some(|_| json!({"name": "Renamed"})),
            expect: [200, 200, 403, 403, 404],
        },
        Route {
            name: "list members",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/members", f.ws()),
            body: None,
            expect: [200, 200, 200, 200, 404],
        },
        Route {
            name: "add member",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/members", f.ws()),
            body: Some(|_| json!({"email": "newcomer@example.com", "role": "member"})),
            expect: [201, 201, 403, 403, 404],
        },
        Route {
            name: "change member",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}/members/{}", f.ws(), f.user("guest")),
            body: Some(|_| json!({"role": "member"})),
            expect: [200, 200, 403, 403, 404],
        },
        Route {
            name: "remove member",
            method: Method::DELETE,
            path: |f| format!("/api/workspaces/{}/members/{}", f.ws(), f.user("guest")),
            body: None,
            expect: [204, 204, 403, 403, 404],
        },
        Route {
            name: "list own keys",
            method: Method::GET,
            path: |_| "/api/api-keys".into(),
            body: None,
            expect: [200, 200, 200, 200, 200],
        },
        Route {
            name: "create own key",
            method: Method::POST,
            path: |_| "/api/api-keys".into(),
            body: Some(|_| json!({"name": "laptop"})),
            expect: [201, 201, 201, 201, 201],
        },
        Route {
            name: "revoke the owner's key",
            method: Method::DELETE,
            path: |f| format!("/api/api-keys/{}", f.owner_key_id),
            body: None,
            expect: [204, 404, 404, 404, 404],
        },
        Route {
            name: "list assistants",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/assistants", f.ws()),
            body: None,
            expect: [200, 200, 200, 200, 404],
        },
        Route {
            name: "create assistant",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/assistants", f.ws()),
            body: Some(|_| json!({"name": "Support Bot"})),
            expect: [201, 201, 403, 403, 404],
        },
        Route {
            name: "get public assistant",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: None,
            expect: [200, 200, 200, 200, 404],
        },
        Route {
            name: "get private assistant",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            expect: [200, 200, 200, 404, 404],
        },
        Route {
            name: "update public assistant",
            method: Method::PATCH,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: Some(|_| json!({"temperature": 0.3})),
            expect: [200, 200, 403, 403, 404],
        },
        Route {
            name: "update private assistant",
            method: Method::PATCH,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|_| json!({"temperature": 0.3})),
            expect: [200, 200, 403, 404, 404],
        },
        Route {
            name: "delete public assistant",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: None,
            expect: [204, 204, 403, 403, 404],
        },
        Route {
            name: "delete private assistant",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            expect: [204, 204, 403, 404, 404],
        },
        Route {
            name: "list access grants",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/access",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            expect: [200, 200, 403, 404, 404],
        },
        Route {
            name: "grant access",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/access/{}",
                    f.ws(),
                    f.private_assistant,
                    f.user("guest")
                )
            },
            body: None,
            expect: [200, 200, 403, 404, 404],
        },
        Route {
            name: "revoke access",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/access/{}",
                    f.ws(),
                    f.private_assistant,
                    f.user("member")
                )
            },
            body: None,
            expect: [204, 204, 403, 404, 404],
        },
        Route {
            name: "list projects",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects", f.ws()),
            body: None,
            expect: [200, 200, 200, 200, 404],
        },
        Route {
            name: "create project",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/projects", f.ws()),
            body: Some(|_| json!({"name": "Handbook"})),
            expect: [201, 201, 403, 403, 404],
        },
        Route {
            name: "get a private project the member was granted",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            body: None,
            expect: [200, 200, 200, 404, 404],
        },
        Route {
            name: "get a private project nobody was granted",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.spare_project),
            body: None,
            expect: [200, 200, 404, 404, 404],
        },
        Route {
            name: "update project",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            body: Some(|_| json!({"description": "Everything about the product"})),
            expect: [200, 200, 403, 404, 404],
        },
        Route {
            name: "delete project",
            method: Method::DELETE,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            body: None,
            expect: [204, 204, 403, 404, 404],
        },
        Route {
            name: "list project access grants",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects/{}/access", f.ws(), f.project),
            body: None,
            expect: [200, 200, 403, 404, 404],
        },
        Route {
            name: "grant project access",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/access/{}",
                    f.ws(),
                    f.project,
                    f.user("guest")
                )
            },
            body: None,
            expect: [200, 200, 403, 404, 404],
        },
        Route {
            name: "revoke project access",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/access/{}",
                    f.ws(),
                    f.project,
                    f.user("member")
                )
            },
            body: None,
            expect: [204, 204, 403, 404, 404],
        },
        Route {
            name: "list documents",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents",
                    f.ws(),
                    f.project
                )
            },
            body: None,
            expect: [200, 200, 200, 404, 404],
        },
        Route {
            name: "get document",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/{}",
                    f.ws(),
                    f.project,
                    f.document
                )
            },
            body: None,
            expect: [200, 200, 200, 404, 404],
        },
        Route {
            name: "delete document",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/{}",
                    f.ws(),
                    f.project,
                    f.document
                )
            },
            body: None,
            expect: [204, 204, 403, 404, 404],
        },
        Route {
            name: "start a direct upload",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/uploads",
                    f.ws(),
                    f.project
                )
            },
            body: Some(|_| json!({"name": "handbook.pdf", "size": 12_000_000})),
            expect: [201, 201, 403, 404, 404],
        },
        Route {
            // The fixture's document came through the API, so those allowed
            // to complete uploads hear that it is complete already.
            name: "complete a direct upload",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/{}/complete",
                    f.ws(),
                    f.project,
                    f.document
                )
            },
            body: None,
            expect: [409, 409, 403, 404, 404],
        },
        Route {
            name: "list an assistant's projects",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/projects",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            expect: [200, 200, 200, 404, 404],
        },
        Route {
            name: "connect a project",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/projects",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: Some(|f| json!({"projectId": f.spare_project})),
            expect: [201, 201, 403, 403, 404],
        },
        Route {
            name: "disconnect a project",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/projects/{}",
                    f.ws(),
                    f.private_assistant,
                    f.project
                )
            },
            body: None,
            expect: [204, 204, 403, 404, 404],
        },
        Route {
            name: "search an assistant's knowledge",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/search",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|_| json!({"query": "how long do refunds take?"})),
            expect: [200, 200, 200, 404, 404],
        },
    ]
}

/// Calls one route as every role. Roles expected to be refused, and reads,
/// share one workspace (a refusal must change nothing, which is checked);
/// each allowed write gets a fresh one, so it cannot affect the next role.
async fn check_route(stack: MemoryStack, route: Route) -> Vec<String> {
    let mut mismatches = Vec::new();
    let mut shared = None;
    for (role, expected) in ROLES.iter().zip(route.expect) {
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
        let (status, body) = stack
            .upload(fixture.key(role), &path, "notes.txt", b"some notes")
            .await;
        assert_eq!(status.as_u16(), expected, "{role}: {body}");
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
