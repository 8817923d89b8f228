//! Usage and budgets as an owner sees them: every answer counted as its
//! provider reported it on each channel, monthly caps that stop the chat
//! API, the widget and SMS at once (the assistant's and the workspace's),
//! a bounded overshoot under concurrent questions, one alert per threshold
//! per month, and a cap that lifts when the UTC month turns.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::sms::segments::segments;
use shared::domain::time::Timestamp;
use shared::ingest::chunker::count_tokens;
use shared::jobs::MessageOutcome;
use std::time::Duration;
use testkit::sms::{TEXTER, message_sid};
use testkit::webhooks::receiver;
use testkit::widget::{SHOP, WidgetRequest};
use testkit::{Fixture, MemoryStack};

const QUESTION: &str = "How long do refunds take?";

fn ws_path(f: &Fixture, tail: &str) -> String {
    format!("/api/workspaces/{}{tail}", f.ws())
}

fn assistant_budget(f: &Fixture, assistant: &str) -> String {
    ws_path(f, &format!("/assistants/{assistant}/budget"))
}

async fn put_budget(stack: &MemoryStack, f: &Fixture, path: &str, body: Value) -> Value {
    let (status, answer) = stack
        .call(Method::PUT, path, Some(f.key("owner")), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn get(stack: &MemoryStack, f: &Fixture, path: &str) -> Value {
    let (status, answer) = stack
        .call(Method::GET, path, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn ask_in(
    stack: &MemoryStack,
    f: &Fixture,
    conversation: &str,
    content: &str,
) -> (StatusCode, Value) {
    stack
        .call(
            Method::POST,
            &ws_path(f, &format!("/conversations/{conversation}/messages")),
            Some(f.key("member")),
            Some(json!({ "content": content })),
        )
        .await
}

async fn messages(stack: &MemoryStack, f: &Fixture, conversation: &str) -> Vec<Value> {
    get(
        stack,
        f,
        &ws_path(f, &format!("/conversations/{conversation}/messages")),
    )
    .await["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// A new conversation of the member's with the private assistant.
async fn conversation(stack: &MemoryStack, f: &Fixture) -> String {
    let (status, made) = stack
        .call(
            Method::POST,
            &ws_path(f, "/conversations"),
            Some(f.key("member")),
            Some(json!({"assistantId": f.private_assistant})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

/// The member asks in every one of `conversations` at once.
async fn ask_at_once(
    stack: &MemoryStack,
    f: &std::sync::Arc<Fixture>,
    conversations: &[String],
) -> Vec<(StatusCode, Value)> {
    let asked: Vec<_> = conversations
        .iter()
        .map(|c| {
            let (stack, f, c) = (stack.clone(), std::sync::Arc::clone(f), c.clone());
            tokio::spawn(async move { ask_in(&stack, &f, &c, QUESTION).await })
        })
        .collect();
    let mut answers = Vec::new();
    for ask in asked {
        answers.push(ask.await.unwrap());
    }
    answers
}

/// The member asks in the fixture's conversation, for a stream.
async fn ask_streamed(stack: &MemoryStack, f: &Fixture) -> axum::response::Response {
    stack
        .open_stream(
            &ws_path(
                f,
                &format!("/conversations/{}/messages", f.member_conversation),
            ),
            f.key("member"),
            QUESTION,
        )
        .await
}

fn tokens_of(message: &Value) -> u64 {
    message["usage"]["promptTokens"].as_u64().unwrap()
        + message["usage"]["completionTokens"].as_u64().unwrap()
}

/// The month's tokens of the private assistant.
async fn month_tokens(stack: &MemoryStack, f: &Fixture) -> u64 {
    get(stack, f, &assistant_budget(f, &f.private_assistant)).await["usage"]["tokens"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn every_answer_is_counted_as_its_provider_reported_it_on_each_channel() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let ingested =
        get(&stack, &f, &ws_path(&f, "/usage")).await["data"]["documents"]["embeddingTokens"]
            .as_u64()
            .unwrap();
    assert!(ingested > 0, "the FAQ's embedding is the workspace's");

    let mut reported = 0;
    let mut questions = Vec::new();
    for question in [QUESTION, "Do you ship abroad?"] {
        let (status, answer) = ask_in(&stack, &f, &f.member_conversation, question).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        reported += tokens_of(&answer["assistantMessage"]);
        questions.push(question);
    }
    stack.open_widget(&f, &assistant, &[SHOP], json!({})).await;
    let (_, token) = stack.widget_session(&assistant).await;
    let widget = stack
        .widget(
            WidgetRequest::new(Method::POST, &assistant, "chat")
                .token(&token)
                .body(json!({ "content": QUESTION })),
        )
        .await;
    assert_eq!(widget.status, StatusCode::CREATED, "{}", widget.body);
    reported += tokens_of(&widget.body["assistantMessage"]);
    questions.push(QUESTION);
    let text = "Can I return a gift? 🎁";
    let (status, _) = stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, text)
        .await;
    assert_eq!(status, 200);
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Done]);
    questions.push(text);
    let sent = stack.sms.sent_to(TEXTER);
    assert_eq!(sent.len(), 1);
    let (_, listed) = stack
        .call(
            Method::GET,
            &ws_path(&f, &format!("/assistants/{assistant}/conversations")),
            Some(f.key("owner")),
            None,
        )
        .await;
    let sms = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "sms")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = messages(&stack, &f, &sms).await.pop().unwrap();
    assert_eq!(reply["role"], "assistant");
    reported += tokens_of(&reply);

    let usage = get(&stack, &f, &ws_path(&f, "/usage")).await["data"].clone();
    let totals = &usage["totals"];
    let counted =
        totals["promptTokens"].as_u64().unwrap() + totals["completionTokens"].as_u64().unwrap();
    assert_eq!(counted, reported, "the model's tokens, as it reported them");
    assert_eq!(totals["estimatedTokens"], 0);
    assert_eq!(totals["answers"], json!({"api": 2, "widget": 1, "sms": 1}));
    let embedded: u64 = questions.iter().map(|q| count_tokens(q) as u64).sum();
    assert_eq!(totals["questionEmbeddingTokens"], embedded);
    assert_eq!(totals["smsSegmentsIn"], segments(text));
    assert_eq!(totals["smsSegmentsOut"], segments(&sent[0]));
    let models = totals["byModel"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(
        models[0]["promptTokens"].as_u64().unwrap()
            + models[0]["completionTokens"].as_u64().unwrap(),
        reported
    );
    assert_eq!(usage["byAssistant"].as_array().unwrap().len(), 1);
    assert_eq!(usage["byAssistant"][0]["assistantId"], assistant.as_str());
    let today = shared::domain::usage::Day::of(Timestamp::now()).to_string();
    let days = usage["byDay"].as_array().unwrap();
    let counted_today = days.iter().find(|d| d["date"] == today.as_str()).unwrap();
    assert_eq!(counted_today["answers"], totals["answers"]);
    assert!(
        days.iter()
            .filter(|d| d["date"] != today.as_str())
            .all(|d| d["promptTokens"] == 0),
        "nothing on the other days"
    );

    let month = month_tokens(&stack, &f).await;
    assert_eq!(month, reported + embedded, "the assistant's month");
    let workspace = get(&stack, &f, &ws_path(&f, "/budget")).await;
    assert_eq!(
        workspace["usage"]["tokens"].as_u64().unwrap(),
        reported + embedded + ingested,
        "the workspace's month counts the documents too"
    );
    assert_eq!(
        workspace["usage"]["smsSegments"].as_u64().unwrap(),
        u64::from(segments(text) + segments(&sent[0]))
    );
}

#[tokio::test]
async fn an_assistant_over_its_token_budget_is_refused_on_the_chat_api_and_nothing_is_stored() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &f.private_assistant),
        json!({"monthlyTokenLimit": 1}),
    )
    .await;
    let (status, _) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "under the cap when asked");
    let before = messages(&stack, &f, &f.member_conversation).await.len();
    let asked = stack.sms.chat.requests().len();

    let (status, refused) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["code"], "rate_limit:api");
    assert_eq!(refused["details"]["budget"], "assistant");
    assert_eq!(refused["details"]["metric"], "tokens");
    assert_eq!(
        messages(&stack, &f, &f.member_conversation).await.len(),
        before
    );
    assert_eq!(stack.sms.chat.requests().len(), asked, "no model call");
    let response = ask_streamed(&stack, &f).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let next_month = shared::domain::usage::Month::of(Timestamp::now()).ends_at();
    let left = (next_month.millis() - Timestamp::now().millis()) as u64 / 1000;
    assert!(retry_after.abs_diff(left) <= 2, "{retry_after} vs {left}");

    // Lifted, it answers again.
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &f.private_assistant),
        json!({"monthlyTokenLimit": null}),
    )
    .await;
    let (status, _) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_widget_visitor_is_shown_the_owners_message_once_the_budget_is_used_up() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let assistant = f.private_assistant.clone();
    stack.open_widget(&f, &assistant, &[SHOP], json!({})).await;
    let (_, token) = stack.widget_session(&assistant).await;
    let chat = |content: &'static str| {
        stack.widget(
            WidgetRequest::new(Method::POST, &assistant, "chat")
                .token(&token)
                .body(json!({ "content": content })),
        )
    };
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &assistant),
        json!({"monthlyTokenLimit": 1}),
    )
    .await;
    assert_eq!(chat(QUESTION).await.status, StatusCode::CREATED);
    let refused = chat(QUESTION).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.body["error"],
        shared::domain::usage::DEFAULT_EXHAUSTED_MESSAGE
    );
    assert_eq!(refused.body["details"]["budget"], "assistant");
    assert!(refused.header("retry-after").is_some());
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &assistant),
        json!({"monthlyTokenLimit": 1, "exhaustedMessage": "We are closed until the 1st. Call us!"}),
    )
    .await;
    let refused = chat(QUESTION).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.body["error"],
        "We are closed until the 1st. Call us!"
    );
}

#[tokio::test]
async fn a_texter_gets_the_owners_message_once_a_day_and_no_model_call_once_the_budget_is_used_up()
{
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let notice = "Our assistant is resting until next month.";
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &assistant),
        json!({"monthlySmsSegmentLimit": 1, "exhaustedMessage": notice}),
    )
    .await;
    let text = |body: &'static str| {
        let stack = stack.clone();
        let assistant = assistant.clone();
        async move {
            let (status, _) = stack
                .sms
                .text(&assistant, &message_sid(), TEXTER, body)
                .await;
            assert_eq!(status, 200);
            stack.run_replies().await
        }
    };
    assert_eq!(text(QUESTION).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1, "answered under the cap");
    let asked = stack.sms.chat.requests().len();
    for _ in 0..3 {
        assert_eq!(text("Hello?").await, vec![MessageOutcome::Done]);
    }
    let sent = stack.sms.sent_to(TEXTER);
    assert_eq!(sent.len(), 2, "one notice for three texts: {sent:?}");
    assert_eq!(sent[1], notice);
    assert_eq!(stack.sms.chat.requests().len(), asked, "no model call");
    let analytics = get(
        &stack,
        &f,
        &ws_path(
            &f,
            &format!("/assistants/{assistant}/sms/analytics?period=7d"),
        ),
    )
    .await;
    assert_eq!(
        analytics["data"]["inbound"], 4,
        "every text is kept and counted"
    );

    // The next day, one more notice; without a message, none at all.
    stack.sms.clock.advance(Duration::from_secs(24 * 3_600));
    text("Still there?").await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 3);
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &assistant),
        json!({"monthlySmsSegmentLimit": 1}),
    )
    .await;
    stack.sms.clock.advance(Duration::from_secs(24 * 3_600));
    text("Anyone?").await;
    assert_eq!(
        stack.sms.sent_to(TEXTER).len(),
        3,
        "no message set, no text"
    );
}

#[tokio::test]
async fn the_workspace_budget_caps_every_assistant() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    // The documents' embedding alone uses up a cap of one token.
    put_budget(
        &stack,
        &f,
        &ws_path(&f, "/budget"),
        json!({"monthlyTokenLimit": 1}),
    )
    .await;
    let (status, refused) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["details"]["budget"], "workspace");
    let (status, started) = stack
        .call(
            Method::POST,
            &ws_path(&f, "/conversations"),
            Some(f.key("owner")),
            Some(json!({"assistantId": f.public_assistant})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, refused) = stack
        .call(
            Method::POST,
            &ws_path(
                &f,
                &format!(
                    "/conversations/{}/messages",
                    started["id"].as_str().unwrap()
                ),
            ),
            Some(f.key("owner")),
            Some(json!({ "content": QUESTION })),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["details"]["budget"], "workspace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_questions_at_a_nearly_exhausted_budget_overshoot_by_at_most_the_answers_begun()
 {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let (status, first) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let used = month_tokens(&stack, &f).await;
    let cap = used + 1;
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &f.private_assistant),
        json!({"monthlyTokenLimit": cap}),
    )
    .await;
    let mut conversations = Vec::new();
    for _ in 0..20 {
        conversations.push(conversation(&stack, &f).await);
    }
    let f = std::sync::Arc::new(f);
    let mut answered = Vec::new();
    for (status, body) in ask_at_once(&stack, &f, &conversations).await {
        match status {
            StatusCode::CREATED => answered.push(body),
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(body["details"]["budget"], "assistant"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        !answered.is_empty(),
        "the cap was not reached when they began"
    );
    let answers_cost: u64 = answered
        .iter()
        .map(|a| tokens_of(&a["assistantMessage"]) + count_tokens(QUESTION) as u64)
        .sum();
    let now_used = month_tokens(&stack, &f).await;
    assert_eq!(
        now_used,
        used + answers_cost,
        "each answer begun is counted"
    );
    assert!(
        now_used - cap < answers_cost,
        "over the cap by less than the answers begun before it was reached"
    );
    let (status, _) = ask_in(&stack, &f, &conversations[0], QUESTION).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "and then no more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_threshold_is_announced_once_a_month_however_many_answers_cross_it_at_once() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let hooks = stack.hooks();
    let (url, seen) = receiver(&[StatusCode::OK]).await;
    hooks
        .webhook_to(&f, &url, &["usage.threshold_reached"])
        .await;
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &f.private_assistant),
        json!({"monthlyTokenLimit": 100, "alertThresholds": [50, 80, 100]}),
    )
    .await;
    let mut conversations = Vec::new();
    for _ in 0..10 {
        conversations.push(conversation(&stack, &f).await);
    }
    let f = std::sync::Arc::new(f);
    ask_at_once(&stack, &f, &conversations).await;
    hooks.publish().await;
    hooks.deliver().await;
    let got: Vec<Value> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    let mut thresholds: Vec<u64> = got
        .iter()
        .map(|event| {
            assert_eq!(event["event"], "usage.threshold_reached");
            assert_eq!(event["data"]["scope"], "assistant");
            assert_eq!(event["data"]["assistantId"], f.private_assistant.as_str());
            assert_eq!(event["data"]["metric"], "tokens");
            assert_eq!(event["data"]["limit"], 100);
            assert!(
                event["data"]["used"].as_u64().unwrap()
                    >= event["data"]["threshold"].as_u64().unwrap()
            );
            event["data"]["threshold"].as_u64().unwrap()
        })
        .collect();
    thresholds.sort();
    assert_eq!(thresholds, [50, 80, 100], "{got:?}");

    // Answers past every threshold tell nothing more this month.
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &f.private_assistant),
        json!({"monthlyTokenLimit": 1_000_000, "alertThresholds": [50, 80, 100]}),
    )
    .await;
    let (status, _) = ask_in(&stack, &f, &conversations[0], QUESTION).await;
    assert_eq!(status, StatusCode::CREATED);
    hooks.publish().await;
    hooks.deliver().await;
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_cap_lifts_at_the_first_midnight_of_the_next_utc_month() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    // 2026-12-31T23:59:30Z
    stack
        .sms
        .clock
        .set(Timestamp::from_millis(1_798_761_570_000));
    put_budget(
        &stack,
        &f,
        &assistant_budget(&f, &f.private_assistant),
        json!({"monthlyTokenLimit": 1}),
    )
    .await;
    let (status, _) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED);
    let budget = get(&stack, &f, &assistant_budget(&f, &f.private_assistant)).await;
    assert_eq!(budget["usage"]["month"], "2026-12");
    let response = ask_streamed(&stack, &f).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "30", "to midnight UTC");

    stack.sms.clock.advance(Duration::from_secs(30));
    let budget = get(&stack, &f, &assistant_budget(&f, &f.private_assistant)).await;
    assert_eq!(
        budget["usage"],
        json!({"month": "2027-01", "tokens": 0, "smsSegments": 0})
    );
    let (status, answer) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let usage = get(
        &stack,
        &f,
        &ws_path(&f, "/usage?from=2026-12-31&to=2027-01-01"),
    )
    .await;
    let days = usage["data"]["byDay"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0]["answers"]["api"], 1, "the old year's answer");
    assert_eq!(days[1]["answers"]["api"], 1, "and the new one's");
}

#[tokio::test]
async fn answers_from_a_provider_that_reports_no_usage_are_counted_with_the_tokenizer_and_say_so() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.sms.chat.withhold_usage_next(1);
    let (status, answer) = ask_in(&stack, &f, &f.member_conversation, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let text = answer["assistantMessage"]["content"].as_str().unwrap();
    let totals = get(&stack, &f, &ws_path(&f, "/usage")).await["data"]["totals"].clone();
    assert_eq!(totals["completionTokens"], count_tokens(text) as u64);
    assert!(totals["promptTokens"].as_u64().unwrap() > count_tokens(QUESTION) as u64);
    assert_eq!(
        totals["estimatedTokens"].as_u64().unwrap(),
        totals["promptTokens"].as_u64().unwrap() + totals["completionTokens"].as_u64().unwrap(),
        "every token of it estimated"
    );
}

#[tokio::test]
async fn a_budget_names_every_bad_field_and_a_put_replaces_the_whole_of_it() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = assistant_budget(&f, &f.private_assistant);
    let fresh = get(&stack, &f, &path).await;
    assert_eq!(fresh["monthlyTokenLimit"], Value::Null);
    assert_eq!(fresh["monthlySmsSegmentLimit"], Value::Null);
    assert_eq!(fresh["alertThresholds"], json!([80, 100]));
    assert_eq!(fresh["exhaustedMessage"], Value::Null);
    let (status, refused) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some(json!({
                "monthlyTokenLimit": -5,
                "monthlySmsSegmentLimit": 1.5,
                "alertThresholds": [0, 150],
                "exhaustedMessage": "",
                "usage": {},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let named: Vec<&str> = refused["details"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        named,
        [
            "alertThresholds",
            "exhaustedMessage",
            "monthlySmsSegmentLimit",
            "monthlyTokenLimit",
            "usage"
        ]
    );
    assert_eq!(get(&stack, &f, &path).await, fresh, "nothing stored");
    put_budget(
        &stack,
        &f,
        &path,
        json!({"monthlyTokenLimit": 5000, "exhaustedMessage": "Later!"}),
    )
    .await;
    let replaced = put_budget(&stack, &f, &path, json!({"monthlySmsSegmentLimit": 50})).await;
    assert_eq!(replaced["monthlyTokenLimit"], Value::Null, "a PUT replaces");
    assert_eq!(replaced["exhaustedMessage"], Value::Null);
    assert_eq!(replaced["monthlySmsSegmentLimit"], 50);
    assert_eq!(get(&stack, &f, &path).await, replaced);
}

#[tokio::test]
async fn a_usage_query_names_each_bad_parameter() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    for (query, field) in [
        ("from=2026-12-31&to=2026-12-01", "to"),
        ("from=2026-01-01&to=2026-04-03", "to"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("assistantId=bob", "assistantId"),
        ("colour=red", "colour"),
    ] {
        let (status, refused) = stack
            .call(
                Method::GET,
                &ws_path(&f, &format!("/usage?{query}")),
                Some(f.key("owner")),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {refused}");
        assert!(
            refused["details"].get(field).is_some(),
            "{query}: {refused}"
        );
    }
    let (status, _) = stack
        .call(
            Method::GET,
            &ws_path(&f, "/usage?assistantId=ast_00000000000000000000"),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such assistant");
    let ninety_two = get(
        &stack,
        &f,
        &ws_path(&f, "/usage?from=2026-01-01&to=2026-04-02"),
    )
    .await;
    assert_eq!(ninety_two["data"]["byDay"].as_array().unwrap().len(), 92);
}
