//! What a refused request costs the webhook on the real adapter: an
//! unsigned one no read, an unknown assistant or a bad signature one.

use axum::http::{Method, StatusCode};
use shared::adapters::memory::MemoryQueue;
use shared::app::sms_webhook::{SignedRequest, SmsWebhook};
use shared::domain::ids::AssistantId;
use shared::domain::sms::signature;
use shared::jobs::ReplyJob;
use std::sync::Arc;
use testkit::TestStack;
use testkit::sms::{AUTH_TOKEN, TEXTER, demo_settings, inbound_params, message_sid};

fn signed(assistant: &str, token: Option<&str>) -> SignedRequest {
    let url = format!("https://hooks.example.com/api/sms/webhook/{assistant}");
    let params = inbound_params(&message_sid(), TEXTER, "hello");
    SignedRequest {
        signature: token.map(|t| signature::sign(&t.to_owned().into(), &url, &params)),
        urls: vec![url],
        params,
        shared_key_signature: false,
    }
}

#[tokio::test]
async fn a_refused_request_costs_the_webhook_at_most_one_read() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    let assistant = f.private_assistant.clone();
    let (status, _) = stack
        .call(
            Method::PUT,
            &format!("/api/workspaces/{}/assistants/{assistant}/sms", f.ws()),
            Some(f.key("owner")),
            Some(demo_settings()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let webhook = SmsWebhook::new(
        stack.local.store.clone(),
        stack.local.cipher.clone(),
        Arc::new(MemoryQueue::<ReplyJob>::new()),
    );
    let unknown = AssistantId::generate().to_string();
    for (label, target, token, reads) in [
        ("unsigned", &assistant, None, 0),
        ("an unknown assistant", &unknown, Some(AUTH_TOKEN), 1),
        ("a wrong token", &assistant, Some("not-the-token"), 1),
    ] {
        stack.round_trips.reset();
        assert!(
            webhook
                .inbound(target, &signed(target, token))
                .await
                .is_err(),
            "{label} is refused"
        );
        assert_eq!(stack.round_trips.count(), reads, "{label}");
    }
}
