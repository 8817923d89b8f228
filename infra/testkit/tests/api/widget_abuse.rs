//! One client cannot spend a widget's budget for everyone: the assistant's
//! id and an allowed origin are public, and `Origin` is only a header
//! outside a browser, so what one network address can start and ask is
//! counted too (an IPv6 client by its /64); a question costs quota only
//! once its answer holds the conversation; a session idle for 30 days is
//! not resumed. Tried through the router, and over real TCP from several
//! loopback addresses.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::app::widget::{SESSION_IDLE_LIMIT, WidgetService};
use shared::domain::time::Timestamp;
use shared::domain::widget::{AllowedOrigin, InitRequest};
use shared::ports::WidgetSigner;
use std::sync::Arc;
use std::time::Duration;
use testkit::widget::{SHOP, START_OF_A_DAY, WidgetRequest};
use testkit::{Fixture, MemoryStack};

const QUESTION: &str = "How long do refunds take?";

async fn open(limits: Value) -> (MemoryStack, Fixture, String) {
    let stack = MemoryStack::start().await;
    stack.sms.clock.set(START_OF_A_DAY);
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let ast = f.private_assistant.clone();
    stack
        .open_widget(&f, &ast, &[SHOP], json!({ "limits": limits }))
        .await;
    (stack, f, ast)
}

/// A new session from `ip`: its token, or the refusal.
async fn init_from(
    stack: &MemoryStack,
    ast: &str,
    ip: &str,
) -> Result<String, (StatusCode, Value)> {
    let answer = stack
        .widget(WidgetRequest::new(Method::POST, ast, "init").ip(ip))
        .await;
    if answer.status == StatusCode::CREATED {
        Ok(answer.body["token"].as_str().unwrap().to_owned())
    } else {
        Err((answer.status, answer.body))
    }
}

async fn ask_from(stack: &MemoryStack, ast: &str, token: &str, ip: &str) -> (StatusCode, Value) {
    let answer = stack
        .widget(
            WidgetRequest::new(Method::POST, ast, "chat")
                .token(token)
                .ip(ip)
                .body(json!({ "content": QUESTION })),
        )
        .await;
    if answer.status == StatusCode::TOO_MANY_REQUESTS {
        let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
        assert!(wait >= 1, "a 429 says when to try again");
    }
    (answer.status, answer.body)
}

#[tokio::test]
async fn one_address_spending_its_hourly_messages_across_sessions_leaves_another_answered() {
    let (stack, _, ast) = open(json!({"messagesPerHourPerIp": 3})).await;
    let script = "203.0.113.50";
    // A script opens a fresh session for every question.
    for _ in 0..3 {
        let token = init_from(&stack, &ast, script).await.unwrap();
        assert_eq!(
            ask_from(&stack, &ast, &token, script).await.0,
            StatusCode::CREATED
        );
    }
    let token = init_from(&stack, &ast, script).await.unwrap();
    let (status, refused) = ask_from(&stack, &ast, &token, script).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["details"]["limit"], "messagesPerHourPerIp");
    // A real visitor elsewhere is still answered.
    let visitor = "198.51.100.51";
    let token = init_from(&stack, &ast, visitor).await.unwrap();
    assert_eq!(
        ask_from(&stack, &ast, &token, visitor).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_address_is_limited_per_day_and_in_the_sessions_it_starts_per_hour() {
    let (stack, _, ast) = open(json!({"messagesPerDayPerIp": 2, "sessionsPerHourPerIp": 2})).await;
    let ip = "203.0.113.60";
    let first = init_from(&stack, &ast, ip).await.unwrap();
    let second = init_from(&stack, &ast, ip).await.unwrap();
    let (status, refused) = init_from(&stack, &ast, ip).await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused["details"]["limit"], "sessionsPerHourPerIp");
    for token in [&first, &second] {
        assert_eq!(
            ask_from(&stack, &ast, token, ip).await.0,
            StatusCode::CREATED
        );
    }
    let (status, refused) = ask_from(&stack, &ast, &first, ip).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused["details"]["limit"], "messagesPerDayPerIp");
    let history = stack
        .widget(
            WidgetRequest::new(Method::GET, &ast, "history")
                .token(&first)
                .ip(ip),
        )
        .await;
    assert_eq!(
        history.body["total"], 2,
        "a refused question stores nothing"
    );
}

#[tokio::test]
async fn an_ipv6_client_is_counted_by_its_64() {
    let (stack, _, ast) = open(json!({"messagesPerHourPerIp": 1})).await;
    let one = "2001:db8:1:2::1";
    let token = init_from(&stack, &ast, one).await.unwrap();
    assert_eq!(
        ask_from(&stack, &ast, &token, one).await.0,
        StatusCode::CREATED
    );
    // Another address of the same /64 is the same client.
    let same = "2001:db8:1:2:ffff::7";
    let token = init_from(&stack, &ast, same).await.unwrap();
    assert_eq!(
        ask_from(&stack, &ast, &token, same).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = "2001:db8:1:3::1";
    let token = init_from(&stack, &ast, other).await.unwrap();
    assert_eq!(
        ask_from(&stack, &ast, &token, other).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_question_refused_before_the_model_is_asked_costs_no_quota() {
    let (stack, _, ast) = open(json!({"messagesPerSessionPerHour": 2})).await;
    let ip = "203.0.113.70";
    let token = init_from(&stack, &ast, ip).await.unwrap();
    // An answer holds the conversation while it streams.
    stack
        .sms
        .chat
        .set_pace(devtools::emulators::chat::StreamPace {
            words_per_chunk: 1,
            first_token: Duration::from_millis(600),
            between: Duration::ZERO,
        });
    let holding = {
        let (stack, ast, token) = (stack.clone(), ast.clone(), token.clone());
        tokio::spawn(async move {
            stack
                .widget_stream(
                    WidgetRequest::new(Method::POST, &ast, "chat")
                        .token(&token)
                        .ip(ip)
                        .body(json!({ "content": QUESTION })),
                )
                .await
                .0
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        ask_from(&stack, &ast, &token, ip).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(holding.await.unwrap(), StatusCode::OK);
    stack.sms.chat.set_pace(Default::default());
    // The embeddings API down: 503s before the model, no quota spent
    // either, however many.
    use devtools::emulators::outages::Provider::Embeddings;
    let attempts = shared::adapters::providers::RetryPolicy::default().attempts as usize;
    stack.outages.fail_next(Embeddings, vec![503; 3 * attempts]);
    for _ in 0..3 {
        assert_eq!(
            ask_from(&stack, &ast, &token, ip).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(stack.outages.pending(Embeddings), 0);
    // So the second question of the hour is still there, and the third
    // is not.
    assert_eq!(
        ask_from(&stack, &ast, &token, ip).await.0,
        StatusCode::CREATED
    );
    let (status, refused) = ask_from(&stack, &ast, &token, ip).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused["details"]["limit"], "messagesPerSessionPerHour");
}

#[tokio::test]
async fn a_session_idle_for_thirty_days_is_not_resumed_and_its_conversation_stays() {
    let (stack, f, ast) = open(json!({})).await;
    let service = WidgetService {
        widgets: stack.store.clone(),
        assistants: stack.store.clone(),
        conversations: stack.store.clone(),
        tokens: stack.backends.widget_tokens.clone() as Arc<dyn WidgetSigner>,
        refusals: Default::default(),
        clock: stack.sms.clock.clone(),
    };
    let open = service
        .open(&ast, Some(AllowedOrigin::parse(SHOP).unwrap()))
        .await
        .unwrap();
    let now = Timestamp::now();
    let first = service
        .init(&open, "203.0.113.80", InitRequest::default(), now)
        .await
        .unwrap();
    let resume = || InitRequest {
        session_id: Some(first.session.id.to_string()),
        metadata: None,
    };
    let day_before = now.plus(SESSION_IDLE_LIMIT - Duration::from_secs(86_400));
    let resumed = service
        .init(&open, "203.0.113.80", resume(), day_before)
        .await
        .unwrap();
    assert_eq!(
        resumed.session.id, first.session.id,
        "29 days idle: resumed"
    );
    let day_after = now.plus(SESSION_IDLE_LIMIT + Duration::from_secs(86_400));
    let fresh = service
        .init(&open, "203.0.113.80", resume(), day_after)
        .await
        .unwrap();
    assert_ne!(
        fresh.session.id, first.session.id,
        "31 days idle: a new one"
    );
    let (status, _) = stack
        .call(
            Method::GET,
            &format!(
                "/api/workspaces/{}/conversations/{}",
                f.ws(),
                first.session.conversation_id
            ),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the old conversation stays");
}

#[tokio::test]
async fn over_tcp_one_loopback_address_exhausted_leaves_a_second_answered() {
    let (stack, _, ast) = open(json!({"messagesPerHourPerIp": 2})).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = stack.api.router();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    // 127.0.0.2 and up are local on Linux: each client its own TCP peer.
    let client = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap()
    };
    let ask = |http: reqwest::Client| {
        let (base, ast) = (base.clone(), ast.clone());
        async move {
            let init: Value = http
                .post(format!("{base}/api/widget/{ast}/init"))
                .header("origin", SHOP)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let token = init["token"].as_str().unwrap().to_owned();
            http.post(format!("{base}/api/widget/{ast}/chat"))
                .header("origin", SHOP)
                .header("authorization", format!("Widget {token}"))
                .header("accept", "application/json")
                .json(&json!({ "content": QUESTION }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (flooding, visiting) = (client(2), client(3));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(ask(flooding.clone()).await);
    }
    assert_eq!(statuses, [201, 201, 429, 429]);
    assert_eq!(ask(visiting).await, 201);
}

#[tokio::test]
async fn a_client_refused_is_refused_again_from_memory_without_touching_the_store() {
    use shared::adapters::memory::Fault;
    let (stack, _, ast) = open(json!({"initsPerMinutePerIp": 2, "messagesPerHourPerIp": 1})).await;
    let script = "203.0.113.60";
    let token = init_from(&stack, &ast, script).await.unwrap();
    assert_eq!(
        ask_from(&stack, &ast, &token, script).await.0,
        StatusCode::CREATED
    );
    init_from(&stack, &ast, script).await.unwrap();
    let (status, first) = init_from(&stack, &ast, script).await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{first}");
    let (status, _) = ask_from(&stack, &ast, &token, script).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Any read or write now fails: what is answered from memory never
    // reaches the store.
    stack.store.faults().fail_next(50, Fault::Unavailable);
    for _ in 0..20 {
        let answer = stack
            .widget(WidgetRequest::new(Method::POST, &ast, "init").ip(script))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            answer.body
        );
        assert_eq!(answer.body["details"]["limit"], "initsPerMinutePerIp");
        assert_eq!(answer.header("access-control-allow-origin"), Some(SHOP));
        assert!(answer.header("retry-after").is_some());
        let (status, refused) = ask_from(&stack, &ast, &token, script).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
        assert_eq!(refused["details"]["limit"], "messagesPerHourPerIp");
    }
    assert_eq!(
        stack.store.faults().remaining(),
        50,
        "no store call was made"
    );
    // Another address, or the same one from a page the widget was never
    // refused on, goes to the store (and meets its outage).
    let other = stack
        .widget(WidgetRequest::new(Method::POST, &ast, "init").ip("203.0.113.61"))
        .await;
    assert_eq!(other.status, StatusCode::SERVICE_UNAVAILABLE);
    let elsewhere = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "init")
                .ip(script)
                .origin(Some("https://other.example.com")),
        )
        .await;
    assert_ne!(elsewhere.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_answered_from_memory_does_not_run_the_clock_ahead_of_its_windows() {
    // Sixteen connections asking as fast as they can, for two seconds: a
    // few hundred thousand refusals. Were each to take one of the
    // process's unique milliseconds, its clock would run minutes ahead and
    // each "minute" would let another init through.
    let (stack, _, ast) = open(json!({"initsPerMinutePerIp": 1})).await;
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (stack, ast) = (stack.clone(), ast.clone());
        flood.spawn(async move {
            let mut admitted = 0;
            let until = std::time::Instant::now() + Duration::from_secs(2);
            while std::time::Instant::now() < until {
                admitted += usize::from(init_from(&stack, &ast, "203.0.113.99").await.is_ok());
            }
            admitted
        });
    }
    let mut admitted = 0;
    while let Some(n) = flood.join_next().await {
        admitted += n.unwrap();
    }
    // One a minute; two if the run straddles a minute's end.
    assert!(admitted <= 2, "{admitted} inits let through");
    let ahead = Timestamp::now().millis() - Timestamp::wall().millis();
    assert!(ahead < 1_000, "the clock ran {ahead} ms ahead");
}
