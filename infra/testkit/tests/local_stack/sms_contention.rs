//! On DynamoDB two transactions naming one item conflict, and an item
//! takes about 1,000 writes a second; the local server runs one request at
//! a time and hides both. So the SMS channel is held to this on the real
//! adapter: every transaction one texter's traffic sends (their texts, a
//! burst merging, a keyword, the decision to answer, the reply and its
//! part) names only that texter's items, and no item is named by two
//! texters' transactions.

use shared::adapters::memory::MemoryQueue;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::app::sms_webhook::SmsWebhook;
use shared::jobs::{Job, MessageOutcome, ReplyJob};
use shared::ports::ShiftedClock;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use testkit::TestStack;
use testkit::sms::{AUTH_TOKEN, WEBHOOK_BASE, configure_demo_sms, signed_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transactions_for_distinct_texters_share_no_item() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let assistant = configure_demo_sms(&stack, &f).await;
    let clock = Arc::new(ShiftedClock::new());
    let replies = Arc::new(MemoryQueue::<ReplyJob>::new());
    let webhook = SmsWebhook::new(
        stack.local.store.clone(),
        stack.local.cipher.clone(),
        replies.clone(),
    )
    .with_burst_window(Duration::from_secs(3))
    .with_clock(clock.clone());
    let worker = ReplyWorker {
        store: stack.local.store.clone(),
        search: stack.retriever.clone(),
        chat: Arc::new(devtools::emulators::local_chat(&stack.emulator_base)),
        gateway: Arc::new(devtools::emulators::local_twilio(&stack.emulator_base)),
        cipher: stack.local.cipher.clone(),
        public_base_url: WEBHOOK_BASE.into(),
        retry: SendRetry::default(),
        burst_window: Duration::from_secs(3),
        clock: clock.clone(),
    };

    let texters = ["+15550104001", "+15550104002", "+15550104003"];
    let mut named: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for texter in texters {
        stack.round_trips.reset();
        // A question typed in two texts, a keyword, then the reply.
        for text in ["How long do", "refunds take?", "HELP"] {
            webhook
                .inbound(
                    &assistant,
                    &signed_text(&assistant, texter, text, Some(AUTH_TOKEN)),
                )
                .await
                .unwrap();
        }
        clock.advance(Duration::from_secs(4));
        for (i, job) in replies.take().iter().enumerate() {
            let outcome = worker
                .handle_message(&format!("m{i}"), &job.to_message())
                .await;
            assert_eq!(outcome, MessageOutcome::Done);
        }
        let transactions = stack.round_trips.transactions();
        assert!(
            transactions.len() >= 5,
            "two texts, a keyword, a decision, a reply and its part: {transactions:?}"
        );
        named.insert(texter, transactions.into_iter().flatten().collect());
    }
    assert_eq!(stack.twilio.messages().len(), 3, "one answer each");
    for (i, a) in texters.iter().enumerate() {
        for b in &texters[i + 1..] {
            let shared: Vec<_> = named[a].intersection(&named[b]).collect();
            assert!(
                shared.is_empty(),
                "{a} and {b} both wrote {shared:?} in transactions"
            );
        }
    }
}
