//! Usage and budgets on the DynamoDB adapter: an answer counted with it,
//! the caps read with the assistant stopping the chat API, the widget and
//! SMS, and concurrent questions at a nearly spent budget overshooting by
//! no more than the answers they began.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::ingest::chunker::count_tokens;
use std::sync::Arc;
use testkit::sms::{TEXTER, message_sid};
use testkit::widget::{SHOP, WidgetRequest};
use testkit::{Fixture, TestStack};

const QUESTION: &str = "How long do refunds take?";

fn path(f: &Fixture, tail: &str) -> String {
    format!("/api/workspaces/{}{tail}", f.ws())
}

async fn set_budget(stack: &TestStack, f: &Fixture, assistant: &str, body: Value) {
    let (status, answer) = stack
        .call(
            Method::PUT,
            &path(f, &format!("/assistants/{assistant}/budget")),
            Some(f.key("owner")),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn month_tokens(stack: &TestStack, f: &Fixture, assistant: &str) -> u64 {
    let (status, budget) = stack
        .call(
            Method::GET,
            &path(f, &format!("/assistants/{assistant}/budget")),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{budget}");
    budget["usage"]["tokens"].as_u64().unwrap()
}

async fn ask(stack: &TestStack, f: &Fixture, conversation: &str) -> (StatusCode, Value) {
    stack
        .call(
            Method::POST,
            &path(f, &format!("/conversations/{conversation}/messages")),
            Some(f.key("member")),
            Some(json!({ "content": QUESTION })),
        )
        .await
}

fn cost(answer: &Value) -> u64 {
    let usage = &answer["assistantMessage"]["usage"];
    usage["promptTokens"].as_u64().unwrap()
        + usage["completionTokens"].as_u64().unwrap()
        + count_tokens(QUESTION) as u64
}

#[tokio::test]
async fn on_dynamodb_an_answer_is_counted_and_the_chat_api_and_the_widget_stop_at_the_cap() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let ast = f.private_assistant.clone();
    let (status, answer) = ask(&stack, &f, &f.member_conversation).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(month_tokens(&stack, &f, &ast).await, cost(&answer));
    let (_, usage) = stack
        .call(Method::GET, &path(&f, "/usage"), Some(f.key("owner")), None)
        .await;
    assert_eq!(usage["data"]["totals"]["answers"]["api"], 1);
    assert!(
        usage["data"]["documents"]["embeddingTokens"]
            .as_u64()
            .unwrap()
            > 0
    );

    stack.open_widget(&f, &ast, &[SHOP], json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    set_budget(
        &stack,
        &f,
        &ast,
        json!({"monthlyTokenLimit": 1, "exhaustedMessage": "Back on the 1st."}),
    )
    .await;
    let (status, refused) = ask(&stack, &f, &f.member_conversation).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["details"]["budget"], "assistant");
    let widget = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "chat")
                .token(&token)
                .body(json!({ "content": QUESTION })),
        )
        .await;
    assert_eq!(widget.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(widget.body["error"], "Back on the 1st.");
}

#[tokio::test]
async fn on_dynamodb_a_texter_over_the_budget_gets_the_owners_message_once_and_no_model_call() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let ast = f.private_assistant.clone();
    stack.set_up_sms(&f, &ast).await;
    set_budget(
        &stack,
        &f,
        &ast,
        json!({"monthlySmsSegmentLimit": 1, "exhaustedMessage": "Resting until next month."}),
    )
    .await;
    let (rig, replies) = stack.sms_rig().await;
    for body in [QUESTION, "Hello?", "Anyone?"] {
        let (status, _) = rig.text(&ast, &message_sid(), TEXTER, body).await;
        assert_eq!(status, 200);
        rig.run(replies.take()).await;
    }
    let sent = rig.sent_to(TEXTER);
    assert_eq!(sent.len(), 2, "the answer, then one notice: {sent:?}");
    assert_eq!(sent[1], "Resting until next month.");
    assert_eq!(
        stack.chat.requests().len(),
        1,
        "one model call, the first text's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_dynamodb_concurrent_questions_at_a_nearly_spent_budget_overshoot_by_at_most_the_answers_begun()
 {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    let ast = f.private_assistant.clone();
    let (status, _) = ask(&stack, &f, &f.member_conversation).await;
    assert_eq!(status, StatusCode::CREATED);
    let used = month_tokens(&stack, &f, &ast).await;
    let cap = used + 1;
    set_budget(&stack, &f, &ast, json!({"monthlyTokenLimit": cap})).await;
    let mut conversations = Vec::new();
    for _ in 0..10 {
        let (status, made) = stack
            .call(
                Method::POST,
                &path(&f, "/conversations"),
                Some(f.key("member")),
                Some(json!({"assistantId": ast})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        conversations.push(made["id"].as_str().unwrap().to_owned());
    }
    let (stack, f) = (Arc::new(stack), Arc::new(f));
    let asked: Vec<_> = conversations
        .iter()
        .map(|c| {
            let (stack, f, c) = (Arc::clone(&stack), Arc::clone(&f), c.clone());
            tokio::spawn(async move { ask(&stack, &f, &c).await })
        })
        .collect();
    let mut begun = 0;
    for ask in asked {
        let (status, body) = ask.await.unwrap();
        match status {
            StatusCode::CREATED => begun += cost(&body),
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(body["details"]["budget"], "assistant"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(begun > 0, "the cap was not reached when they began");
    let now_used = month_tokens(&stack, &f, &ast).await;
    assert_eq!(
        now_used,
        used + begun,
        "every answer begun is counted, once"
    );
    assert!(
        now_used - cap < begun,
        "over the cap by less than the answers begun"
    );
    let (status, _) = ask(&stack, &f, &conversations[0]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}
