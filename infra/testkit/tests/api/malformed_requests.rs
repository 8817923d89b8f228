//! Hostile and broken input gets a 4xx, never a 500, on every write route.

use axum::http::Method;
use testkit::{Fixture, MemoryStack};

fn nasty_bodies() -> Vec<String> {
    vec![
        "{".into(),
        "}".into(),
        "null".into(),
        "true".into(),
        "12".into(),
        "\"text\"".into(),
        "[]".into(),
        "[{}]".into(),
        "{}".into(),
        r#"{"name": 1e400}"#.into(),
        r#"{"name": "a", "temperature": 1e400}"#.into(),
        r#"{"name": "a", "maxTokens": 18446744073709551616}"#.into(),
        r#"{"name": "a", "maxTokens": -0}"#.into(),
        r#"{"name": {"nested": true}}"#.into(),
        r#"{"name": "\ud800"}"#.into(),
        r#"{"name": "a\u0000b"}"#.into(),
        r#"{"email": ["a@b.co"], "role": null}"#.into(),
        r#"{"allowedModels": [null], "defaultModel": 3}"#.into(),
        r#"{"name": "a", "name": "b"}"#.into(),
        "[".repeat(500),
        format!("{{\"name\": \"{}\"}}", "é".repeat(20_000)),
        String::from_utf8_lossy(&[0xff, 0xfe, 0x7b]).into_owned(),
    ]
}

/// Every route that takes a JSON body, with the path it is called on.
fn json_routes(fixture: &Fixture) -> Vec<(&'static str, Method, String)> {
    let ws = fixture.ws();
    let ast = &fixture.public_assistant;
    let project = &fixture.project;
    vec![
        (
            "create workspace",
            Method::POST,
            "/api/workspaces".to_owned(),
        ),
        (
            "update workspace",
            Method::PATCH,
            format!("/api/workspaces/{ws}"),
        ),
        (
            "add member",
            Method::POST,
            format!("/api/workspaces/{ws}/members"),
        ),
        (
            "change member",
            Method::PATCH,
            format!("/api/workspaces/{ws}/members/{}", fixture.user("guest")),
        ),
        ("create key", Method::POST, "/api/api-keys".to_owned()),
        (
            "create assistant",
            Method::POST,
            format!("/api/workspaces/{ws}/assistants"),
        ),
        (
            "update assistant",
            Method::PATCH,
            format!("/api/workspaces/{ws}/assistants/{ast}"),
        ),
        (
            "create project",
            Method::POST,
            format!("/api/workspaces/{ws}/projects"),
        ),
        (
            "update project",
            Method::PATCH,
            format!("/api/workspaces/{ws}/projects/{project}"),
        ),
        (
            "connect project",
            Method::POST,
            format!("/api/workspaces/{ws}/assistants/{ast}/projects"),
        ),
        (
            "start upload",
            Method::POST,
            format!("/api/workspaces/{ws}/projects/{project}/documents/uploads"),
        ),
        (
            "search",
            Method::POST,
            format!("/api/workspaces/{ws}/assistants/{ast}/search"),
        ),
    ]
}

/// The one status each body gets on each route. Everything is a 400 naming
/// the problem, but for three bodies that are valid JSON objects a route
/// may accept: `{}` (an update that changes nothing), a name with a NUL in
/// it, and a duplicated key (the last one counts, as in every JSON parser
/// the clients use).
fn expected(route: &str, body: &str) -> u16 {
    let creates = [
        "create workspace",
        "create key",
        "create assistant",
        "create project",
    ];
    let updates = ["update workspace", "update assistant", "update project"];
    match body {
        "{}" if updates.contains(&route) || route == "change member" => 200,
        // A NUL is refused like every control character in a name.
        r#"{"name": "a", "name": "b"}"# if creates.contains(&route) => 201,
        r#"{"name": "a", "name": "b"}"# if updates.contains(&route) => 200,
        _ => 400,
    }
}

#[tokio::test]
async fn every_malformed_body_on_every_json_route_gets_its_one_status_and_never_a_5xx() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let routes = json_routes(&fixture);
    assert_eq!(routes.len(), 12, "every route that reads a JSON body");
    let mut wrong = Vec::new();
    for (name, method, path) in routes {
        for body in nasty_bodies() {
            let (status, response) = stack
                .call_raw(
                    method.clone(),
                    &path,
                    Some(fixture.key("owner")),
                    Some(body.clone()),
                )
                .await;
            let shown: String = body.chars().take(40).collect();
            if status.as_u16() != expected(name, &body) {
                wrong.push(format!("{name} with {shown:?}: {status} {response}"));
            } else if status.is_client_error()
                && !(response["error"].is_string() && response["code"] == "bad_request:api")
            {
                wrong.push(format!("{name} with {shown:?}: body {response}"));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn odd_query_strings_and_headers_are_client_errors_at_worst() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let base = format!("/api/workspaces/{}/assistants", fixture.ws());
    for (query, expected) in [
        ("?limit=", 400),
        ("?limit=1e3", 400),
        ("?offset=%FF", 400),
        ("?limit=99999999999999999999999", 400),
        // Repeated: the last one counts.
        ("?limit=5&limit=6", 200),
        ("?&&=&", 200),
    ] {
        let (status, body) = stack
            .call(
                Method::GET,
                &format!("{base}{query}"),
                Some(fixture.key("owner")),
                None,
            )
            .await;
        assert_eq!(status.as_u16(), expected, "{query}: {body}");
    }
    let (status, _) = stack
        .call(
            Method::GET,
            &format!("{base}?offset=1000"),
            Some(fixture.key("owner")),
            None,
        )
        .await;
    assert_eq!(
        status.as_u16(),
        200,
        "an offset past the end is an empty page"
    );
}

#[tokio::test]
async fn names_no_one_can_read_are_refused_naming_the_field_and_nothing_is_stored() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let owner = f.key("owner");
    let ws = f.ws();
    let before = stack.snapshot(&f).await;
    let routes = [
        (Method::POST, "/api/workspaces".to_owned(), "name"),
        (Method::PATCH, format!("/api/workspaces/{ws}"), "name"),
        (
            Method::POST,
            format!("/api/workspaces/{ws}/assistants"),
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/workspaces/{ws}/assistants/{}", f.public_assistant),
            "name",
        ),
        (
            Method::POST,
            format!("/api/workspaces/{ws}/projects"),
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/workspaces/{ws}/projects/{}", f.project),
            "name",
        ),
        (Method::POST, "/api/api-keys".to_owned(), "name"),
        (
            Method::POST,
            format!("/api/workspaces/{ws}/conversations"),
            "title",
        ),
    ];
    for unreadable in [
        "\u{200B}\u{200B}",
        "\u{FEFF}\u{3164}",
        "bell\u{0007}",
        "nul\u{0000}",
        "invoice\u{202E}fdp.exe",
    ] {
        for (method, path, field) in &routes {
            let mut body = serde_json::json!({ *field: unreadable });
            if *field == "title" {
                body["assistantId"] = serde_json::json!(f.public_assistant);
            }
            let (status, answer) = stack
                .call(method.clone(), path, Some(owner), Some(body))
                .await;
            assert_eq!(status, 400, "{method} {path} {unreadable:?}: {answer}");
            assert!(answer["details"][field].is_string(), "{answer}");
        }
    }
    assert_eq!(stack.snapshot(&f).await, before, "nothing was stored");
}

#[tokio::test]
async fn a_body_declared_larger_than_the_limit_is_refused_before_any_of_it_is_sent() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    // A client that announces 100 MB and never sends a byte.
    let never = || {
        Body::from_stream(futures_util::stream::pending::<
            Result<axum::body::Bytes, std::io::Error>,
        >())
    };
    let request = Request::post(format!("/api/workspaces/{}/assistants", fixture.ws()))
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", fixture.key("owner")),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, "100000000")
        .body(never())
        .unwrap();
    let (status, body) =
        tokio::time::timeout(std::time::Duration::from_secs(5), stack.send(request))
            .await
            .expect("answered without waiting for the body");
    assert_eq!(status.as_u16(), 413, "{body}");
    assert_eq!(body["code"], "payload_too_large:api");
}
