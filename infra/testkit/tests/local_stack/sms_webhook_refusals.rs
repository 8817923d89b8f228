//! What a refused request costs the webhook on the real adapter: an
//! unsigned one no read, an unknown assistant or a bad signature one.

use shared::adapters::memory::MemoryQueue;
use shared::app::sms_webhook::SmsWebhook;
use shared::domain::ids::AssistantId;
use shared::jobs::ReplyJob;
use std::sync::Arc;
use testkit::TestStack;
use testkit::sms::{AUTH_TOKEN, TEXTER, configure_demo_sms, signed_text};

#[tokio::test]
async fn a_refused_request_costs_the_webhook_at_most_one_read() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    let assistant = configure_demo_sms(&stack, &f).await;
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
                .inbound(target, &signed_text(target, TEXTER, "hello", token))
                .await
                .is_err(),
            "{label} is refused"
        );
        assert_eq!(stack.round_trips.count(), reads, "{label}");
    }
}
