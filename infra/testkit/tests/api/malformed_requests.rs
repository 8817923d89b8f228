//! Hostile and broken input gets a 4xx, never a 500, on every write route.

use axum::http::Method;
use testkit::MemoryStack;

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

#[tokio::test]
async fn no_malformed_body_on_any_write_route_is_answered_with_a_5xx() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let ws = fixture.ws();
    let routes = [
        (Method::POST, "/api/workspaces".to_owned()),
        (Method::PATCH, format!("/api/workspaces/{ws}")),
        (Method::POST, format!("/api/workspaces/{ws}/members")),
        (
            Method::PATCH,
            format!("/api/workspaces/{ws}/members/{}", fixture.user("guest")),
        ),
        (Method::POST, "/api/api-keys".to_owned()),
        (Method::POST, format!("/api/workspaces/{ws}/assistants")),
        (
            Method::PATCH,
            format!(
                "/api/workspaces/{ws}/assistants/{}",
                fixture.public_assistant
            ),
        ),
    ];
    for (method, path) in routes {
        for body in nasty_bodies() {
            let (status, response) = stack
                .call_raw(
                    method.clone(),
                    &path,
                    Some(fixture.key("owner")),
                    Some(body.clone()),
                )
                .await;
            assert!(
                status.is_client_error() || status.is_success(),
                "{method} {path} with {:?}: {status} {response}",
                body.chars().take(60).collect::<String>()
            );
        }
    }
}

#[tokio::test]
async fn odd_query_strings_and_headers_are_client_errors_at_worst() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let base = format!("/api/workspaces/{}/assistants", fixture.ws());
    for query in [
        "?limit=",
        "?limit=1e3",
        "?offset=%FF",
        "?limit=99999999999999999999999",
        "?limit=5&limit=6",
        "?&&=&",
    ] {
        let (status, body) = stack
            .call(
                Method::GET,
                &format!("{base}{query}"),
                Some(fixture.key("owner")),
                None,
            )
            .await;
        assert!(
            status.as_u16() == 200 || status.as_u16() == 400,
            "{query}: {status} {body}"
        );
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
