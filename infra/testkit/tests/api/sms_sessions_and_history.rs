//! A texter's conversation over time: sessions that run from the last
//! text, questions answered however much piled up behind them, every
//! compliance keyword, a reply queue that was down, and analytics over
//! traffic left on older days (on a clock the test moves).

use axum::http::{Method, StatusCode};
use serde_json::json;
use shared::domain::ids::{AssistantId, ConversationId};
use shared::domain::sms::{MessageSid, PhoneNumber};
use shared::domain::time::Timestamp;
use shared::jobs::MessageOutcome;
use shared::ports::SmsStore;
use std::time::Duration;
use testkit::MemoryStack;
use testkit::sms::{TEXTER, message_sid};

const MINUTE: Duration = Duration::from_secs(60);

async fn conversation_of(stack: &MemoryStack, assistant: &str, sid: &str) -> ConversationId {
    stack
        .store
        .inbound(
            &AssistantId::parse(assistant).unwrap(),
            &MessageSid::parse(sid).unwrap(),
        )
        .await
        .unwrap()
        .and_then(|record| record.conversation_id)
        .expect("the text joined a conversation")
}

/// Texts `body` now; its `MessageSid`.
async fn text(stack: &MemoryStack, assistant: &str, from: &str, body: &str) -> String {
    let sid = message_sid();
    let (status, _) = stack.sms.text(assistant, &sid, from, body).await;
    assert_eq!(status, 200);
    sid
}

#[tokio::test]
async fn a_session_refreshed_at_nine_tenths_of_its_timeout_continues_at_eighteen_tenths() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let mut settings = testkit::sms::demo_settings();
    settings["sessionTimeoutMinutes"] = json!(10);
    let (status, _) = stack
        .call(
            Method::PUT,
            &format!("/api/workspaces/{}/assistants/{assistant}/sms", f.ws()),
            Some(f.key("owner")),
            Some(settings),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = text(&stack, &assistant, TEXTER, "Hello").await;
    stack.sms.clock.advance(MINUTE * 9);
    let refresh = text(&stack, &assistant, TEXTER, "Still there?").await;
    // 18 minutes after the first text, 9 after the last: the timeout
    // counts from the last.
    stack.sms.clock.advance(MINUTE * 9);
    let later = text(&stack, &assistant, TEXTER, "And now?").await;
    let session = conversation_of(&stack, &assistant, &first).await;
    assert_eq!(conversation_of(&stack, &assistant, &refresh).await, session);
    assert_eq!(conversation_of(&stack, &assistant, &later).await, session);
    // Ten minutes and a second of silence end it.
    stack
        .sms
        .clock
        .advance(MINUTE * 10 + Duration::from_secs(1));
    let next = text(&stack, &assistant, TEXTER, "Back again").await;
    assert_ne!(conversation_of(&stack, &assistant, &next).await, session);
}

#[tokio::test]
async fn a_question_behind_more_than_twenty_newer_texts_is_still_answered_in_its_own_words() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    // A model outage: 25 texts pile up before any reply is composed.
    for i in 0..25 {
        text(
            &stack,
            &assistant,
            TEXTER,
            &format!("Question {i}: how long do refunds take?"),
        )
        .await;
    }
    let jobs = stack.replies.take();
    assert_eq!(jobs.len(), 25);
    assert_eq!(
        stack.sms.run(vec![jobs[0].clone()]).await,
        vec![MessageOutcome::Done]
    );
    let asked = stack.sms.chat.requests().pop().unwrap();
    let turns = asked["messages"].as_array().unwrap();
    assert_eq!(
        turns.last().unwrap()["content"],
        "Question 0: how long do refunds take?"
    );
    assert_eq!(turns.len(), 2, "nothing after the question is its history");
    // The last one's history is the texts before it.
    stack.sms.run(vec![jobs[24].clone()]).await;
    let asked = stack.sms.chat.requests().pop().unwrap();
    let turns = asked["messages"].as_array().unwrap();
    assert_eq!(
        turns.last().unwrap()["content"],
        "Question 24: how long do refunds take?"
    );
    assert!(turns.len() > 2);
}

#[tokio::test]
async fn with_the_reply_queue_down_the_delivery_twilio_repeats_queues_the_reply_sent_once() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let sid = message_sid();
    stack.replies.set_unavailable(true);
    let (status, _) = stack
        .sms
        .text(&assistant, &sid, TEXTER, "How long do refunds take?")
        .await;
    assert_eq!(status, 503, "Twilio is told to deliver it again");
    assert!(stack.replies.sent().is_empty());
    stack.replies.set_unavailable(false);
    let (status, _) = stack
        .sms
        .text(&assistant, &sid, TEXTER, "How long do refunds take?")
        .await;
    assert_eq!(status, 200);
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    // Delivered once more: recorded once, answered once.
    stack
        .sms
        .text(&assistant, &sid, TEXTER, "How long do refunds take?")
        .await;
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn every_keyword_of_twilios_lists_is_honoured_in_any_case() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let id = AssistantId::parse(&assistant).unwrap();
    let texter = PhoneNumber::parse(TEXTER).unwrap();
    let opted_out = || async {
        stack
            .store
            .contact(&id, &texter)
            .await
            .unwrap()
            .is_some_and(|c| c.opted_out)
    };
    let opt_out = [
        "STOP",
        "stopall",
        "Unsubscribe",
        "CANCEL",
        "end",
        "QUIT",
        "revoke",
        "OPTOUT",
    ];
    let opt_in = ["START", "yes", "Unstop"];
    for (out, back_in) in opt_out.iter().zip(opt_in.iter().cycle()) {
        text(&stack, &assistant, TEXTER, &format!(" {out} ")).await;
        assert!(opted_out().await, "{out} opts out");
        text(&stack, &assistant, TEXTER, "How long do refunds take?").await;
        stack.run_replies().await;
        assert!(stack.sms.sent_to(TEXTER).is_empty(), "{out}: nothing sent");
        text(&stack, &assistant, TEXTER, back_in).await;
        assert!(!opted_out().await, "{back_in} opts back in");
    }
    for help in ["HELP", "info"] {
        text(&stack, &assistant, TEXTER, help).await;
        assert!(!opted_out().await);
    }
    assert!(stack.replies.sent().is_empty(), "no keyword queues a reply");
    text(&stack, &assistant, TEXTER, "How long do refunds take?").await;
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    let asked = stack.sms.chat.requests();
    assert_eq!(asked.len(), 1, "keywords never reach the model");
}

#[tokio::test]
async fn analytics_over_7_30_and_90_days_count_traffic_left_on_older_days() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let now = Timestamp::now();
    let days_ago = |d: u64| Timestamp::from_millis(now.millis() - (d * 86_400_000) as i64);
    for (texter, ago) in [
        ("+15550103001", 80),
        ("+15550103002", 20),
        ("+15550103003", 3),
        ("+15550103001", 0),
    ] {
        stack.sms.clock.set(days_ago(ago));
        text(&stack, &assistant, texter, "How long do refunds take?").await;
        stack.run_replies().await;
    }
    let period = |p: &'static str| {
        let stack = stack.clone();
        let path = format!(
            "/api/workspaces/{}/assistants/{assistant}/sms/analytics?period={p}",
            f.ws()
        );
        let key = f.key("owner").to_owned();
        async move {
            let (status, body) = stack.call(Method::GET, &path, Some(&key), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["data"].clone()
        }
    };
    let week = period("7d").await;
    assert_eq!(
        (&week["inbound"], &week["outbound"], &week["uniqueContacts"]),
        (&json!(2), &json!(2), &json!(2))
    );
    let month = period("30d").await;
    assert_eq!(
        (
            &month["inbound"],
            &month["outbound"],
            &month["uniqueContacts"]
        ),
        (&json!(3), &json!(3), &json!(3))
    );
    let quarter = period("90d").await;
    assert_eq!(
        (&quarter["inbound"], &quarter["uniqueContacts"]),
        (&json!(4), &json!(3)),
        "the texter of 80 days ago and today counts once"
    );
    assert_eq!(quarter["totalMessages"], 8);
    assert_eq!(quarter["activeSessions"], 1);
}
