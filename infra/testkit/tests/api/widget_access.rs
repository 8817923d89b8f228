//! Who reaches the widget: its settings (owners and admins), the
//! assistant's state (public and enabled, at once after a change), the
//! page's origin (listed exactly), the visitor's token (bound to its
//! assistant, session and origin), and CORS as browsers need it.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::{AssistantId, WidgetSessionId};
use shared::domain::time::Timestamp;
use shared::domain::widget::AllowedOrigin;
use testkit::widget::{SHOP, WidgetRequest};
use testkit::{Fixture, MemoryStack};

fn settings(f: &Fixture, assistant: &str) -> String {
    format!("/api/workspaces/{}/assistants/{assistant}/widget", f.ws())
}

/// Every public route, as a browser on `SHOP` with `token` calls it.
fn every_route<'a>(assistant: &'a str, token: &'a str) -> Vec<WidgetRequest<'a>> {
    vec![
        WidgetRequest::new(Method::GET, assistant, "config"),
        WidgetRequest::new(Method::POST, assistant, "init").body(json!({})),
        WidgetRequest::new(Method::GET, assistant, "history").token(token),
        WidgetRequest::new(Method::POST, assistant, "chat")
            .token(token)
            .body(json!({"content": "Hello?"})),
        WidgetRequest::new(Method::POST, assistant, "feedback")
            .token(token)
            .body(json!({"messageId": "msg_x", "rating": "up"})),
        WidgetRequest::new(Method::POST, assistant, "lead")
            .token(token)
            .body(json!({"email": "ada@example.com"})),
    ]
}

async fn patch(stack: &MemoryStack, f: &Fixture, assistant: &str, body: Value) {
    let (status, answer) = stack
        .call(
            Method::PATCH,
            &format!("/api/workspaces/{}/assistants/{assistant}", f.ws()),
            Some(f.key("owner")),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn widget_settings_start_as_defaults_with_no_origin_and_a_put_replaces_them() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = settings(&f, &f.public_assistant);
    let (status, defaults) = stack
        .call(Method::GET, &path, Some(f.key("admin")), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(
        defaults,
        json!({
            "assistantId": f.public_assistant,
            "allowedOrigins": [],
            "title": null,
            "primaryColor": "#2563eb",
            "position": "right",
            "limits": {"initsPerMinutePerIp": 5, "sessionsPerHourPerIp": 20,
                       "messagesPerSessionPerHour": 60, "messagesPerHourPerIp": 60,
                       "messagesPerDayPerIp": 300, "messagesPerMonth": 10000},
            "updatedAt": null,
        })
    );
    let (status, saved) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("admin")),
            Some(json!({
                "allowedOrigins": ["https://Shop.Example.com:443", "http://localhost:8080"],
                "title": "Ask Acme",
                "primaryColor": "#FF8800",
                "position": "left",
                "limits": {"messagesPerMonth": 500},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["allowedOrigins"],
        json!(["https://shop.example.com", "http://localhost:8080"])
    );
    assert_eq!(saved["primaryColor"], "#ff8800");
    assert_eq!(saved["limits"]["messagesPerMonth"], 500);
    assert_eq!(saved["limits"]["initsPerMinutePerIp"], 5);
    assert!(saved["updatedAt"].is_string());
    let (_, read) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(read, saved);
    let (status, refused) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some(json!({"allowedOrigins": ["https://*.example.com"], "position": "top"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["details"]["allowedOrigins"]
            .as_str()
            .unwrap()
            .contains("wildcard")
    );
    assert!(refused["details"]["position"].is_string());
    let (_, unchanged) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(unchanged, saved, "a refused PUT changes nothing");
    let (status, _) = stack
        .call(
            Method::GET,
            &settings(&f, &AssistantId::generate().to_string()),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_config_tells_the_page_how_to_draw_the_widget() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    patch(
        &stack,
        &f,
        &f.public_assistant,
        json!({"welcomeMessage": "Hi! Ask me anything."}),
    )
    .await;
    stack
        .open_widget(
            &f,
            &f.public_assistant,
            &[SHOP],
            json!({"primaryColor": "#112233"}),
        )
        .await;
    let answer = stack
        .widget(WidgetRequest::new(
            Method::GET,
            &f.public_assistant,
            "config",
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["assistantId"], f.public_assistant.as_str());
    assert_eq!(answer.body["welcomeMessage"], "Hi! Ask me anything.");
    assert_eq!(
        answer.body["title"], answer.body["name"],
        "the name when no title is set"
    );
    assert_eq!(answer.body["primaryColor"], "#112233");
    assert_eq!(answer.body["position"], "right");
    assert!(answer.body.get("instructions").is_none(), "{}", answer.body);
}

#[tokio::test]
async fn every_widget_route_is_not_found_unless_the_assistant_is_public_and_enabled() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let ast = f.public_assistant.clone();
    stack.open_widget(&f, &ast, &[SHOP], json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    for (change, state) in [
        (json!({"widgetEnabled": false}), "public, widget disabled"),
        (
            json!({"widgetEnabled": true, "visibility": "workspace"}),
            "workspace, enabled",
        ),
        (json!({"visibility": "private"}), "private, enabled"),
    ] {
        patch(&stack, &f, &ast, change).await;
        for request in every_route(&ast, &token) {
            let path = request.path.clone();
            let answer = stack.widget(request).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{state}: {path}");
            assert_eq!(answer.header("access-control-allow-origin"), None);
        }
    }
    patch(&stack, &f, &ast, json!({"visibility": "public"})).await;
    let back = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "config"))
        .await;
    assert_eq!(back.status, StatusCode::OK, "open again at once");
    for missing in [AssistantId::generate().to_string(), "not-an-id".to_owned()] {
        for request in every_route(&missing, &token) {
            assert_eq!(stack.widget(request).await.status, StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn a_page_whose_origin_is_missing_or_not_listed_is_forbidden_on_every_route() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let ast = f.public_assistant.clone();
    // Enabled, but no origin listed yet: the widget runs nowhere.
    patch(&stack, &f, &ast, json!({"widgetEnabled": true})).await;
    for request in every_route(&ast, "t") {
        let answer = stack.widget(request).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    }
    stack.open_widget(&f, &ast, &[SHOP], json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    for origin in [
        None,
        Some("null"),
        Some("http://shop.example.com"),
        Some("https://shop.example.com:8443"),
        Some("https://evil.example.com"),
    ] {
        for request in every_route(&ast, &token) {
            let path = request.path.clone();
            let answer = stack.widget(request.origin(origin)).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{origin:?} {path}");
            assert_eq!(answer.header("access-control-allow-origin"), None);
            assert_eq!(answer.body["code"], "forbidden:api");
        }
    }
    // Without an Origin header, the Referer's origin counts.
    let referred = stack
        .send(
            axum::http::Request::builder()
                .uri(format!("/api/widget/{ast}/config"))
                .header("referer", format!("{SHOP}/pricing?x=1"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(referred.0, StatusCode::OK, "{}", referred.1);
}

#[tokio::test]
async fn cors_answers_a_preflight_and_echoes_only_the_allowed_origin() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let ast = f.public_assistant.clone();
    stack.open_widget(&f, &ast, &[SHOP], json!({})).await;
    for route in ["config", "init", "history", "chat", "feedback", "lead"] {
        let answer = stack
            .widget(WidgetRequest::new(Method::OPTIONS, &ast, route))
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{route}");
        assert_eq!(answer.header("access-control-allow-origin"), Some(SHOP));
        let methods = answer.header("access-control-allow-methods").unwrap();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = answer
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(headers.contains("authorization") && headers.contains("content-type"));
        assert_eq!(answer.header("vary"), Some("Origin"));
        assert!(answer.header("access-control-max-age").is_some());
        assert_eq!(answer.header("access-control-allow-credentials"), None);
    }
    let refused = stack
        .widget(
            WidgetRequest::new(Method::OPTIONS, &ast, "chat")
                .origin(Some("https://evil.example.com")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(refused.header("vary"), Some("Origin"));
    // Answers and errors past the gate carry the origin, so the page can
    // read them (a 401 included), never `*`.
    let config = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "config"))
        .await;
    assert_eq!(config.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(config.header("vary"), Some("Origin"));
    let unauthorized = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history"))
        .await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthorized.header("access-control-allow-origin"),
        Some(SHOP)
    );
    assert_eq!(unauthorized.header("www-authenticate"), Some("Widget"));
}

#[tokio::test]
async fn a_forged_expired_or_misdirected_token_is_unauthorized_on_every_visitor_route() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let ast = f.public_assistant.clone();
    let other = f.private_assistant.clone();
    let second_site = "https://second.example.com";
    stack
        .open_widget(&f, &ast, &[SHOP, second_site], json!({}))
        .await;
    stack.open_widget(&f, &other, &[SHOP], json!({})).await;
    let (session, token) = stack.widget_session(&ast).await;
    let (_, other_token) = stack.widget_session(&other).await;
    let tokens = &stack.backends.widget_tokens;
    let ast_id = AssistantId::parse(&ast).unwrap();
    let session_id = WidgetSessionId::parse(&session).unwrap();
    let shop = AllowedOrigin::parse(SHOP).unwrap();
    let long_ago = Timestamp::from_millis(Timestamp::now().millis() - 31 * 60 * 1000);
    let (expired, _) = tokens.issue(&ast_id, &session_id, &shop, long_ago);
    let (unknown_session, _) = tokens.issue(
        &ast_id,
        &WidgetSessionId::generate(),
        &shop,
        Timestamp::now(),
    );
    let forged = format!("{}x", &token[..token.len() - 1]);
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("no token", None, SHOP),
        ("forged", Some(&forged), SHOP),
        ("expired", Some(&expired), SHOP),
        ("another assistant's", Some(&other_token), SHOP),
        ("another origin's", Some(&token), second_site),
        ("for no session", Some(&unknown_session), SHOP),
        ("not a token", Some("Bearer"), SHOP),
    ];
    for (case, token, origin) in cases {
        for route in ["history", "chat", "feedback", "lead"] {
            let method = if route == "history" {
                Method::GET
            } else {
                Method::POST
            };
            let mut request = WidgetRequest::new(method, &ast, route)
                .origin(Some(origin))
                .body(json!({}));
            if let Some(token) = token {
                request = request.token(token);
            }
            let answer = stack.widget(request).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case} on {route}");
            assert_eq!(answer.body["code"], "unauthorized:api");
        }
    }
    let fine = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(&token))
        .await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.body);
    let bearer = stack
        .send(
            axum::http::Request::builder()
                .uri(format!("/api/widget/{ast}/history"))
                .header("origin", SHOP)
                .header("authorization", format!("Bearer {}", f.key("owner")))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        bearer.0,
        StatusCode::UNAUTHORIZED,
        "an API key is no widget token"
    );
}

#[tokio::test]
async fn init_starts_a_session_then_resumes_it_from_the_same_origin_only() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let ast = f.public_assistant.clone();
    let second_site = "https://second.example.com";
    patch(&stack, &f, &ast, json!({"welcomeMessage": "Welcome!"})).await;
    stack
        .open_widget(&f, &ast, &[SHOP, second_site], json!({}))
        .await;
    let first = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "init")
                .body(json!({"metadata": {"page": "/pricing"}})),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let session = first.body["sessionId"].as_str().unwrap().to_owned();
    assert!(session.starts_with("wss_"));
    assert_eq!(first.body["resumed"], false);
    assert!(first.body["expiresAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first.body["config"]["welcomeMessage"], "Welcome!");
    let token = first.body["token"].as_str().unwrap();
    assert!(!token.contains(f.key("owner")));
    let history = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(token))
        .await;
    assert_eq!(history.body["total"], 1);
    assert_eq!(history.body["data"][0]["content"], "Welcome!");
    assert_eq!(history.body["data"][0]["role"], "assistant");

    let resumed = stack
        .widget(WidgetRequest::new(Method::POST, &ast, "init").body(json!({"sessionId": session})))
        .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert_eq!(resumed.body["sessionId"], session.as_str());
    assert_eq!(resumed.body["resumed"], true);
    // A bodiless init and an unknown session both start afresh; so does a
    // session held on another site.
    for request in [
        WidgetRequest::new(Method::POST, &ast, "init"),
        WidgetRequest::new(Method::POST, &ast, "init").body(json!({"sessionId": "wss_nope"})),
        WidgetRequest::new(Method::POST, &ast, "init")
            .origin(Some(second_site))
            .body(json!({"sessionId": session})),
    ] {
        let answer = stack.widget(request).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        assert_ne!(answer.body["sessionId"], session.as_str());
    }
    let bad = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "init")
                .body(json!({"metadata": "page", "colour": 1})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["details"]["metadata"].is_string());
    assert!(bad.body["details"]["colour"].is_string());
}
