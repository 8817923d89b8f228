//! What one texter, or a campaign of them, can cost the customer: a reply
//! within its segment budget, a burst of texts answered once, and limits
//! per texter and per assistant past which texts are kept but not
//! answered (with one notice a day), STOP, START and HELP honoured all
//! the same.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::sms::OVER_LIMIT_NOTICE;
use shared::domain::sms::segments::{segments, tokens_that_fit};
use shared::domain::time::Timestamp;
use shared::jobs::MessageOutcome;
use std::time::Duration;
use testkit::sms::{TEXTER, message_sid};
use testkit::{Fixture, MemoryStack};

/// 2026-12-07T10:00:00Z: an hour, then the next, well inside one UTC day.
const TEN_AM: i64 = 1_796_637_600_000;
const HOUR: Duration = Duration::from_secs(3_600);

fn sms_path(f: &Fixture, assistant: &str) -> String {
    format!("/api/workspaces/{}/assistants/{assistant}/sms", f.ws())
}

/// Puts the demo configuration with `extra` fields on `assistant`.
async fn configure(stack: &MemoryStack, f: &Fixture, assistant: &str, extra: Value) -> Value {
    let mut body = testkit::sms::demo_settings();
    for (field, value) in extra.as_object().expect("an object") {
        body[field] = value.clone();
    }
    let (status, answer) = stack
        .call(
            Method::PUT,
            &sms_path(f, assistant),
            Some(f.key("owner")),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn analytics(stack: &MemoryStack, f: &Fixture, assistant: &str) -> Value {
    let (status, body) = stack
        .call(
            Method::GET,
            &format!("{}/analytics?period=7d", sms_path(f, assistant)),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn text(stack: &MemoryStack, assistant: &str, from: &str, body: &str) {
    let (status, _) = stack.sms.text(assistant, &message_sid(), from, body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_long_answer_is_cut_at_a_sentence_to_the_segment_budget_and_no_more_tokens_are_asked() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    configure(&stack, &f, &assistant, json!({"maxSegmentsPerReply": 2})).await;
    stack
        .sms
        .chat
        .answer_next(["Refunds reach the original card within days. ".repeat(40)]);
    text(&stack, &assistant, TEXTER, "How long do refunds take?").await;
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Done]);
    let sent = stack.sms.sent_to(TEXTER);
    assert_eq!(sent.len(), 1, "one message, never a split reply");
    assert!(segments(&sent[0]) <= 2, "{} segments", segments(&sent[0]));
    assert!(
        sent[0].ends_with("days."),
        "cut at a sentence: {:?}",
        sent[0]
    );
    let asked = stack.sms.chat.requests().pop().unwrap();
    assert_eq!(asked["max_tokens"], tokens_that_fit(2));
    let data = analytics(&stack, &f, &assistant).await;
    assert_eq!(data["segmentsOut"], segments(&sent[0]));
}

#[tokio::test]
async fn an_emoji_answer_is_budgeted_in_ucs2_segments() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .chat
        .answer_next(["Yes 😀 we ship to Canada. ".repeat(30)]);
    text(&stack, &assistant, TEXTER, "Do you ship to Canada?").await;
    stack.run_replies().await;
    let sent = stack.sms.sent_to(TEXTER);
    assert!(sent[0].contains('😀'), "characters are never changed");
    assert!(segments(&sent[0]) <= 3, "the default budget of three");
}

#[tokio::test]
async fn texts_typed_in_a_burst_are_answered_together_with_one_model_call() {
    let stack = MemoryStack::with_burst_window(Duration::from_secs(3)).await;
    let (_, assistant) = stack.sms_fixture().await;
    for (i, part) in ["Hi,", "do you ship", "to Canada?"].into_iter().enumerate() {
        if i > 0 {
            stack.sms.clock.advance(Duration::from_secs(2));
        }
        text(&stack, &assistant, TEXTER, part).await;
    }
    // The jobs run once the window after the last text has passed.
    stack.sms.clock.advance(Duration::from_secs(4));
    assert_eq!(
        stack.run_replies().await,
        vec![MessageOutcome::Done; 3],
        "the earlier texts' jobs end quietly"
    );
    let asked = stack.sms.chat.requests();
    assert_eq!(asked.len(), 1, "one model call");
    let turns = asked[0]["messages"].as_array().unwrap();
    assert_eq!(
        turns.last().unwrap()["content"],
        "Hi,\ndo you ship\nto Canada?"
    );
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1, "one reply");
}

#[tokio::test]
async fn eight_texts_in_a_second_from_one_number_cost_one_answer() {
    let stack = MemoryStack::with_burst_window(Duration::from_secs(3)).await;
    let (_, assistant) = stack.sms_fixture().await;
    for i in 0..8 {
        stack.sms.clock.advance(Duration::from_millis(120));
        text(&stack, &assistant, TEXTER, &format!("refunds? {i}")).await;
    }
    stack.sms.clock.advance(Duration::from_secs(4));
    stack.run_replies().await;
    assert_eq!(stack.sms.chat.requests().len(), 1);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    // Texted again after the window: a new question, answered on its own.
    text(&stack, &assistant, TEXTER, "And exchanges?").await;
    stack.sms.clock.advance(Duration::from_secs(4));
    stack.run_replies().await;
    assert_eq!(stack.sms.chat.requests().len(), 2);
    let last = stack.sms.chat.requests().pop().unwrap();
    let turns = last["messages"].as_array().unwrap();
    assert_eq!(turns.last().unwrap()["content"], "And exchanges?");
}

#[tokio::test]
async fn a_texter_over_their_hourly_limit_gets_one_notice_a_day_and_no_model_call_until_the_next_hour()
 {
    let stack = MemoryStack::start().await;
    stack.sms.clock.set(Timestamp::from_millis(TEN_AM));
    let (f, assistant) = stack.sms_fixture().await;
    configure(
        &stack,
        &f,
        &assistant,
        json!({"limits": {"perTexterPerHour": 1}}),
    )
    .await;
    text(&stack, &assistant, TEXTER, "How long do refunds take?").await;
    text(&stack, &assistant, TEXTER, "And exchanges?").await;
    text(&stack, &assistant, TEXTER, "Hello?").await;
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Done; 3]);
    assert_eq!(
        stack.sms.chat.requests().len(),
        1,
        "only the first was asked"
    );
    let sent = stack.sms.sent_to(TEXTER);
    assert_eq!(sent.len(), 2, "the answer and one notice: {sent:?}");
    assert_eq!(sent[1], OVER_LIMIT_NOTICE);
    // The next hour has room again; over the limit again the same day,
    // no second notice.
    stack.sms.clock.advance(HOUR);
    text(&stack, &assistant, TEXTER, "How long do refunds take?").await;
    text(&stack, &assistant, TEXTER, "Thanks!").await;
    stack.run_replies().await;
    assert_eq!(stack.sms.chat.requests().len(), 2);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 3);
    let data = analytics(&stack, &f, &assistant).await;
    assert_eq!(data["inbound"], 5, "every text recorded");
    assert_eq!(data["overLimit"], 3);
    assert_eq!(data["outbound"], 3);
}

#[tokio::test]
async fn stop_start_and_help_are_honoured_past_every_limit() {
    let stack = MemoryStack::start().await;
    stack.sms.clock.set(Timestamp::from_millis(TEN_AM));
    let (f, assistant) = stack.sms_fixture().await;
    configure(
        &stack,
        &f,
        &assistant,
        json!({"limits": {"perTexterPerHour": 1, "perAssistantPerDay": 1}}),
    )
    .await;
    text(&stack, &assistant, TEXTER, "How long do refunds take?").await;
    stack.run_replies().await;
    text(&stack, &assistant, TEXTER, "STOP").await;
    assert!(stack.replies.sent().is_empty(), "keywords queue no reply");
    let id = shared::domain::ids::AssistantId::parse(&assistant).unwrap();
    let texter = shared::domain::sms::PhoneNumber::parse(TEXTER).unwrap();
    use shared::ports::SmsStore;
    let opted_out = || async {
        stack
            .store
            .contact(&id, &texter)
            .await
            .unwrap()
            .unwrap()
            .opted_out
    };
    assert!(opted_out().await);
    // Over the limit and opted out: no notice either.
    text(&stack, &assistant, TEXTER, "Hello?").await;
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    text(&stack, &assistant, TEXTER, "START").await;
    assert!(!opted_out().await);
    text(&stack, &assistant, TEXTER, "HELP").await;
    assert!(stack.replies.sent().is_empty());
    assert_eq!(stack.sms.chat.requests().len(), 1);
}

#[tokio::test]
async fn the_assistants_daily_limit_holds_across_texters_until_the_next_day() {
    let stack = MemoryStack::start().await;
    stack.sms.clock.set(Timestamp::from_millis(TEN_AM));
    let (f, assistant) = stack.sms_fixture().await;
    configure(
        &stack,
        &f,
        &assistant,
        json!({"limits": {"perAssistantPerDay": 2}}),
    )
    .await;
    let texters = ["+15550102001", "+15550102002", "+15550102003"];
    for texter in texters {
        text(&stack, &assistant, texter, "How long do refunds take?").await;
    }
    stack.run_replies().await;
    assert_eq!(stack.sms.chat.requests().len(), 2);
    assert_eq!(stack.sms.sent_to(texters[2]), [OVER_LIMIT_NOTICE]);
    assert_eq!(analytics(&stack, &f, &assistant).await["overLimit"], 1);
    stack.sms.clock.advance(HOUR * 24);
    text(&stack, &assistant, texters[2], "How long do refunds take?").await;
    stack.run_replies().await;
    assert_eq!(stack.sms.chat.requests().len(), 3);
    assert_eq!(stack.sms.sent_to(texters[2]).len(), 2);
}

#[tokio::test]
async fn the_budget_and_the_limits_are_optional_in_put_and_returned_by_get() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let (_, stored) = stack
        .call(
            Method::GET,
            &sms_path(&f, &assistant),
            Some(f.key("admin")),
            None,
        )
        .await;
    assert_eq!(stored["data"]["maxSegmentsPerReply"], 3);
    assert_eq!(
        stored["data"]["limits"],
        json!({"perTexterPerHour": 30, "perTexterPerDay": 100, "perAssistantPerDay": 5000})
    );
    // A partial `limits` keeps the defaults for what it leaves out.
    let saved = configure(
        &stack,
        &f,
        &assistant,
        json!({"maxSegmentsPerReply": 10, "limits": {"perTexterPerDay": 7}}),
    )
    .await;
    assert_eq!(saved["data"]["maxSegmentsPerReply"], 10);
    assert_eq!(
        saved["data"]["limits"],
        json!({"perTexterPerHour": 30, "perTexterPerDay": 7, "perAssistantPerDay": 5000})
    );
    let (_, read) = stack
        .call(
            Method::GET,
            &sms_path(&f, &assistant),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(read, saved);
}

#[tokio::test]
async fn a_budget_or_a_limit_out_of_range_is_refused_by_name_and_nothing_changes() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let path = sms_path(&f, &assistant);
    let (_, before) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    for (extra, field, says) in [
        (
            json!({"maxSegmentsPerReply": 0}),
            "maxSegmentsPerReply",
            "from 1 to 10",
        ),
        (
            json!({"maxSegmentsPerReply": 11}),
            "maxSegmentsPerReply",
            "from 1 to 10",
        ),
        (
            json!({"maxSegmentsPerReply": "3"}),
            "maxSegmentsPerReply",
            "whole number",
        ),
        (json!({"limits": 5}), "limits", "object"),
        (
            json!({"limits": {"perTexterPerHour": 0}}),
            "limits",
            "perTexterPerHour",
        ),
        (
            json!({"limits": {"perAssistantPerDay": 1000001}}),
            "limits",
            "perAssistantPerDay",
        ),
        (json!({"limits": {"perWeek": 3}}), "limits", "perWeek"),
    ] {
        let mut body = testkit::sms::demo_settings();
        for (name, value) in extra.as_object().unwrap() {
            body[name] = value.clone();
        }
        let (status, answer) = stack
            .call(Method::PUT, &path, Some(f.key("owner")), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {answer}");
        let problem = answer["details"][field].as_str().unwrap_or_default();
        assert!(problem.contains(says), "{extra}: {answer}");
    }
    let (_, after) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(before, after);
}
