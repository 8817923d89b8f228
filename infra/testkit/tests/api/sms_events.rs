//! The SMS functions' sample events: API Gateway events through the SMS
//! API, Function URL events (form and base64 bodies) through the webhook,
//! SQS events through the reply worker's batch handler.

use aws_lambda_events::event::sqs::SqsEvent;
use reply_worker::handle_batch;
use shared::app::sms_webhook::SmsWebhook;
use shared::http::{WebhookState, sms_router, sms_webhook_router};
use std::sync::Arc;
use testkit::MemoryStack;
use testkit::events::{
    EVENT_ASSISTANT, EVENT_WORKSPACE, Expected, assert_every_event_answers, event_files,
    replay_webhook_event,
};
use testkit::sms::{AUTH_TOKEN, TEXTER};

#[tokio::test]
async fn every_sms_api_event_reaches_its_route_and_answers_as_expected() {
    assert_every_event_answers(
        "sms-api",
        |stack| sms_router(stack.backends.sms()),
        &[
            Expected::new("delete-sms-config.json", 204, &[]),
            Expected::new("erase-sms-contact.json", 204, &[]),
            Expected::new("get-sms-config.json", 200, &[("/data/enabled", "true")]),
            Expected::new("sms-analytics.json", 200, &[("/data/period", "\"30d\"")]),
            Expected::new("test-sms-credentials.json", 200, &[("/data/valid", "true")]),
            Expected::new(
                "update-sms-config.json",
                200,
                &[("/data/phoneNumber", "\"+15005550006\"")],
            ),
        ],
    )
    .await;
}

/// The webhook as the Function URL runs it: no configured public URL, so
/// the signed URL is rebuilt from the request's own host.
fn function_url_router(stack: &MemoryStack) -> axum::Router {
    let webhook = SmsWebhook::new(
        stack.store.clone(),
        stack.cipher.clone(),
        stack.replies.clone(),
    )
    .with_burst_window(std::time::Duration::ZERO);
    sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: None,
    })
}

#[tokio::test]
async fn every_webhook_event_verifies_and_is_acknowledged_with_empty_twiml() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let files = event_files("sms-webhook");
    assert_eq!(files.len(), 3);
    for (name, event) in &files {
        let (status, body) =
            replay_webhook_event(function_url_router(&stack), event, &assistant, AUTH_TOKEN).await;
        assert_eq!(status.as_u16(), 200, "{name}: {body}");
        assert_eq!(body, "<Response></Response>", "{name}");
        // Signed with another token, the same event is refused.
        let (status, _) =
            replay_webhook_event(function_url_router(&stack), event, &assistant, "wrong").await;
        assert_eq!(status.as_u16(), 403, "{name}");
    }
    let jobs = stack.replies.sent();
    assert_eq!(
        jobs.len(),
        2,
        "the two inbound texts, not the status callback"
    );
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 2);
}

fn reply_event(name: &str, ws: &str, assistant: &str) -> SqsEvent {
    let (_, text) = event_files("reply-worker")
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("events/reply-worker/{name}"));
    let text = text
        .replace(EVENT_WORKSPACE, ws)
        .replace(EVENT_ASSISTANT, assistant);
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_reply_event_answers_its_text_and_poison_never_fails_the_batch() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    // The text the sample job names.
    let (status, _) = stack
        .sms
        .text(
            &assistant,
            "SM11111111111111111111111111111111",
            TEXTER,
            "How long do refunds take?",
        )
        .await;
    assert_eq!(status, 200);
    stack.replies.take();
    let response = handle_batch(
        &stack.sms.worker,
        reply_event("reply-to-text.json", f.ws(), &assistant),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    let response = handle_batch(
        &stack.sms.worker,
        reply_event("batch-with-malformed-bodies.json", f.ws(), &assistant),
    )
    .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "poison is dropped, the job is done already"
    );
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1, "and not sent again");
}
