//! What a visitor does through the widget: a grounded answer streamed with
//! the chat API's events, the history, feedback on their own answers, a
//! lead the owners see; the limits (per address, per session, per month,
//! held under concurrent requests from several containers); and the
//! assistant's deletion taking the widget's conversations and sessions.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::{AssistantId, WidgetSessionId};
use shared::http::all_routes_router;
use shared::ports::{ConversationStore, WidgetStore};
use testkit::widget::{SHOP, START_OF_A_DAY, WidgetRequest};
use testkit::{Api, Fixture, MemoryStack};

const QUESTION: &str = "How long do refunds take?";
const GROUNDED: &str = "Refunds take five business days.";

/// The fixture with its FAQ indexed and the private assistant (connected
/// to the FAQ's project) opened to `SHOP` with `settings`.
async fn open(settings: Value) -> (MemoryStack, Fixture, String) {
    let stack = MemoryStack::start().await;
    stack.sms.clock.set(START_OF_A_DAY);
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let ast = f.private_assistant.clone();
    stack.open_widget(&f, &ast, &[SHOP], settings).await;
    (stack, f, ast)
}

async fn ask(stack: &MemoryStack, ast: &str, token: &str, content: &str) -> (StatusCode, Value) {
    let answer = stack
        .widget(
            WidgetRequest::new(Method::POST, ast, "chat")
                .token(token)
                .body(json!({ "content": content })),
        )
        .await;
    (answer.status, answer.body)
}

#[tokio::test]
async fn a_visitor_sees_the_grounded_answer_stream_in_and_then_in_the_history() {
    let (stack, _, ast) = open(json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    let (status, events) = stack
        .widget_stream(
            WidgetRequest::new(Method::POST, &ast, "chat")
                .token(&token)
                .body(json!({ "content": QUESTION })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..2], ["message", "sources"], "{names:?}");
    assert_eq!(names.last(), Some(&"done"));
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert!(text.contains(GROUNDED), "{text}");
    assert!(!events[1].1["sources"].as_array().unwrap().is_empty());
    let done = &events.last().unwrap().1;
    assert_eq!(done["content"], text.as_str());
    let history = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(&token))
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let data = history.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{}", history.body);
    assert_eq!(data[0]["content"], QUESTION);
    assert_eq!(data[1]["id"], done["id"]);
    // The JSON form, for a client that asks for it.
    let (status, exchange) = ask(&stack, &ast, &token, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "{exchange}");
    assert!(
        exchange["assistantMessage"]["content"]
            .as_str()
            .unwrap()
            .contains(GROUNDED)
    );
}

#[tokio::test]
async fn owners_see_widget_conversations_with_their_lead_and_visitors_give_valid_ones() {
    let (stack, f, ast) = open(json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    let (status, _) = ask(&stack, &ast, &token, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED);
    let listing = format!("/api/workspaces/{}/assistants/{ast}/conversations", f.ws());
    let (status, page) = stack
        .call(Method::GET, &listing, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let widget: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["channel"] == "widget")
        .collect();
    assert_eq!(widget.len(), 1, "{page}");
    assert_eq!(widget[0]["lead"], Value::Null);
    assert_eq!(widget[0]["title"], QUESTION);

    for (body, fields) in [
        (json!({}), vec!["email"]),
        (json!({"email": "ada"}), vec!["email"]),
        (
            json!({"email": "ada@example.com", "phone": "555-0100"}),
            vec!["phone"],
        ),
        (
            json!({"email": "ada@example.com", "name": "", "company": "Acme"}),
            vec!["company", "name"],
        ),
    ] {
        let answer = stack
            .widget(
                WidgetRequest::new(Method::POST, &ast, "lead")
                    .token(&token)
                    .body(body),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        let named: Vec<&String> = answer.body["details"].as_object().unwrap().keys().collect();
        assert_eq!(named, fields, "{}", answer.body);
    }
    let given = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "lead")
                .token(&token)
                .body(json!({"email": "Ada@Example.com", "name": "Ada", "phone": "+14155550100"})),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(given.body["email"], "ada@example.com");
    let (_, page) = stack
        .call(Method::GET, &listing, Some(f.key("admin")), None)
        .await;
    let lead = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "widget")
        .unwrap()["lead"]
        .clone();
    assert_eq!(lead["email"], "ada@example.com");
    assert_eq!(lead["name"], "Ada");
    assert_eq!(lead["phone"], "+14155550100");
    // API conversations carry no lead field at all.
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["channel"] == "api")
            .all(|c| c.get("lead").is_none())
    );
}

#[tokio::test]
async fn feedback_rates_only_the_visitors_own_answers() {
    let (stack, _, ast) = open(json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    let (_, exchange) = ask(&stack, &ast, &token, QUESTION).await;
    let answer_id = exchange["assistantMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let question_id = exchange["userMessage"]["id"].as_str().unwrap().to_owned();
    let (_, other_token) = stack.widget_session(&ast).await;
    let (_, theirs) = ask(&stack, &ast, &other_token, QUESTION).await;
    let their_answer = theirs["assistantMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rate = |id: String, token: String| {
        let stack = stack.clone();
        let ast = ast.clone();
        async move {
            stack
                .widget(
                    WidgetRequest::new(Method::POST, &ast, "feedback")
                        .token(&token)
                        .body(json!({"messageId": id, "rating": "down", "comment": "too vague"})),
                )
                .await
        }
    };
    for (id, why) in [
        (their_answer, "another session's answer"),
        (question_id, "the visitor's own question"),
        ("msg_aaaaaaaaaaaaaaaaaaaa".to_owned(), "no such message"),
    ] {
        let refused = rate(id, token.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::NOT_FOUND,
            "{why}: {}",
            refused.body
        );
    }
    let rated = rate(answer_id.clone(), token.clone()).await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.body);
    assert_eq!(rated.body["rating"], "down");
    assert_eq!(rated.body["comment"], "too vague");
    let history = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(&token))
        .await;
    let answer = history.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == answer_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(answer["feedback"]["rating"], "down");
    let bad = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "feedback")
                .token(&token)
                .body(json!({"messageId": answer_id, "rating": "meh"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["details"]["rating"].is_string());
}

#[tokio::test]
async fn inits_are_limited_per_address_per_minute_with_a_retry_after() {
    let (stack, _, ast) = open(json!({"limits": {"initsPerMinutePerIp": 3}})).await;
    for _ in 0..3 {
        stack.widget_session(&ast).await;
    }
    let limited = stack
        .widget(WidgetRequest::new(Method::POST, &ast, "init"))
        .await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert_eq!(limited.body["code"], "rate_limit:api");
    assert!(
        limited.body["error"]
            .as_str()
            .unwrap()
            .contains("try again")
    );
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(limited.header("access-control-allow-origin"), Some(SHOP));
    // Another address is another count; a header naming one changes nothing.
    let elsewhere = stack
        .widget(WidgetRequest::new(Method::POST, &ast, "init").ip("198.51.100.20"))
        .await;
    assert_eq!(elsewhere.status, StatusCode::CREATED);
    let spoofed = stack
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri(format!("/api/widget/{ast}/init"))
                .header("origin", SHOP)
                .header("x-forwarded-for", "192.0.2.99")
                .extension(axum::extract::ConnectInfo(
                    "203.0.113.7:40000".parse::<std::net::SocketAddr>().unwrap(),
                ))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(spoofed.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_init_limit_holds_for_concurrent_requests_through_several_containers() {
    let (stack, _, ast) = open(json!({"limits": {"initsPerMinutePerIp": 5}})).await;
    // Four routers over one store: four Lambda containers' worth.
    let containers: Vec<Api> = (0..4)
        .map(|_| Api::new(all_routes_router(&stack.backends)))
        .collect();
    let calls: Vec<_> = (0..24)
        .map(|i| {
            let api = containers[i % containers.len()].clone();
            let ast = ast.clone();
            tokio::spawn(async move {
                api.widget(WidgetRequest::new(Method::POST, &ast, "init"))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.unwrap());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, limited), (5, 19), "{statuses:?}");
}

#[tokio::test]
async fn messages_are_limited_per_session_per_hour_and_per_assistant_per_month() {
    let (stack, _, ast) = open(json!({
        "limits": {"messagesPerSessionPerHour": 2, "messagesPerMonth": 3}
    }))
    .await;
    let (_, first) = stack.widget_session(&ast).await;
    for _ in 0..2 {
        assert_eq!(
            ask(&stack, &ast, &first, QUESTION).await.0,
            StatusCode::CREATED
        );
    }
    let (status, hourly) = ask(&stack, &ast, &first, QUESTION).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{hourly}");
    assert!(
        hourly["error"]
            .as_str()
            .unwrap()
            .contains("this chat allows"),
        "{hourly}"
    );
    let (_, second) = stack.widget_session(&ast).await;
    assert_eq!(
        ask(&stack, &ast, &second, QUESTION).await.0,
        StatusCode::CREATED
    );
    let (status, monthly) = ask(&stack, &ast, &second, QUESTION).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{monthly}");
    assert!(
        monthly["error"].as_str().unwrap().contains("this month"),
        "{monthly}"
    );
    let history = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(&second))
        .await;
    assert_eq!(history.body["total"], 2, "a refused message is not stored");
}

#[tokio::test]
async fn deleting_the_assistant_closes_its_widget_at_once_and_removes_its_sessions() {
    let (stack, f, ast) = open(json!({})).await;
    let (session, token) = stack.widget_session(&ast).await;
    let (_, exchange) = ask(&stack, &ast, &token, QUESTION).await;
    let conversation = exchange["assistantMessage"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/api/workspaces/{}/assistants/{ast}", f.ws()),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let closed = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(&token))
        .await;
    assert_eq!(closed.status, StatusCode::NOT_FOUND);
    stack.run_cleanup().await;
    let id = AssistantId::parse(&ast).unwrap();
    assert!(stack.store.widget_site(&id).await.unwrap().is_none());
    let session = WidgetSessionId::parse(&session).unwrap();
    assert!(
        stack
            .store
            .widget_session(&id, &session)
            .await
            .unwrap()
            .is_none()
    );
    let conversation = shared::domain::ids::ConversationId::parse(&conversation).unwrap();
    assert!(
        stack
            .store
            .messages(&conversation, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_visitor_arriving_while_the_signing_key_cannot_be_read_is_told_to_retry_and_nothing_is_started()
 {
    use shared::adapters::on_first_use::OnFirstUse;
    use shared::domain::widget_token::WidgetTokens;
    use shared::http::{WidgetState, widget_router};
    use shared::ports::ProviderError;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (stack, f, ast) = open(json!({})).await;
    // The key is read on the first visitor's request, as in a deployed
    // widget function; Secrets Manager throttles until `readable` is set.
    let readable = Arc::new(AtomicBool::new(false));
    let flag = readable.clone();
    let signer = OnFirstUse::new(move || {
        let ready = flag.load(Ordering::SeqCst);
        async move {
            if ready {
                Ok(WidgetTokens::with_random_key())
            } else {
                Err(ProviderError::Unavailable {
                    provider: "Secrets Manager",
                    detail: "ThrottlingException: rate exceeded".into(),
                })
            }
        }
    });
    let b = &stack.backends;
    let widget = Api::new(widget_router(WidgetState::over(
        b.store.clone(),
        b.edge(),
        b.search.clone(),
        b.chat.clone(),
        Arc::new(signer),
    )));
    let conversations = || async {
        let listing = format!("/api/workspaces/{}/assistants/{ast}/conversations", f.ws());
        let (status, body) = stack
            .call(Method::GET, &listing, Some(f.key("owner")), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["total"].as_u64().unwrap()
    };

    let before = conversations().await;
    let refused = widget
        .widget(WidgetRequest::new(Method::POST, &ast, "init").body(json!({})))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["code"], "unavailable:api");
    assert!(refused.header("retry-after").is_some());
    let said = refused.body.to_string();
    assert!(
        !said.contains("Secrets") && !said.contains("Throttling"),
        "{said}"
    );
    assert_eq!(conversations().await, before, "no session was started");

    readable.store(true, Ordering::SeqCst);
    let (_, token) = widget.widget_session(&ast).await;
    assert_eq!(conversations().await, before + 1);
    let answer = widget
        .widget(
            WidgetRequest::new(Method::POST, &ast, "chat")
                .token(&token)
                .body(json!({"content": QUESTION})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}
