//! A delivery attempt's write resent after it landed, on DynamoDB: the SDK
//! sends an update again when the first answer was lost, and that resend
//! finds its own attempt already recorded. It is taken as written once;
//! another worker's attempt on the same stale delivery is still refused.

use serde_json::json;
use shared::domain::ids::EventId;
use shared::domain::member::Email;
use shared::domain::time::Timestamp;
use shared::domain::webhook::EventType;
use shared::domain::webhook::delivery::{AttemptRecord, Decision, Delivery, DeliveryStatus, Event};
use shared::domain::webhook::endpoint::NewWebhook;
use shared::domain::webhook::target::TargetPolicy;
use shared::domain::workspace::NewWorkspace;
use shared::ports::{Conflict, DeliveryStore, StoreError, WebhookStore, WorkspaceStore};
use std::time::Duration;
use testkit::TestStack;

fn attempt(at: Timestamp, status: u16, millis: u64) -> AttemptRecord {
    AttemptRecord {
        at,
        response_status: Some(status),
        duration: Duration::from_millis(millis),
        error: Some(format!("the endpoint answered {status}")),
    }
}

/// A retry a minute later that leaves the webhook's failing run as it is:
/// the path that writes the delivery alone.
fn retry(at: Timestamp) -> Decision {
    Decision {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(at.plus(Duration::from_secs(60))),
        failing_since: None,
        disable: None,
        changes_webhook: false,
    }
}

#[tokio::test]
async fn on_dynamodb_an_attempt_written_again_after_it_landed_is_recorded_once_and_another_workers_is_refused()
 {
    let stack = TestStack::start().await;
    let store = stack.local.store.clone();
    let unique = shared::domain::ids::UserId::generate();
    let owner = store
        .create_user(
            Email::parse(&format!("{unique}@example.com")).unwrap(),
            "Owner".into(),
        )
        .await
        .unwrap();
    let workspace = store
        .create_workspace(
            NewWorkspace::from_json(json!({ "name": format!("Resends {unique}") })).unwrap(),
            &owner,
        )
        .await
        .unwrap();
    let now = Timestamp::now();
    let webhook = NewWebhook::from_json(
        json!({"url": "https://hooks.example.com/in", "events": ["*"]}),
        workspace.id.clone(),
        TargetPolicy::default(),
        now,
    )
    .unwrap()
    .webhook;
    store.create_webhook(&webhook, vec![1]).await.unwrap();
    let event = Event {
        id: EventId::generate(),
        kind: EventType::MessageCreated,
        workspace_id: workspace.id.clone(),
        at: now,
        data: json!({"id": "msg_1"}),
    };
    let read = Delivery::of(&event, &webhook.id, now);
    store.record_delivery(&read).await.unwrap();

    let first = attempt(now, 500, 42);
    store
        .record_attempt(&read, &first, &retry(now))
        .await
        .unwrap();
    // The same write again, from the same delivery as read before it.
    store
        .record_attempt(&read, &first, &retry(now))
        .await
        .expect("a resend of a write that landed is taken as written");
    let stored = store
        .get_delivery(&workspace.id, &webhook.id, &read.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.attempts,
        std::slice::from_ref(&first),
        "recorded once"
    );

    // Another worker that read the delivery before the first attempt made
    // an attempt of its own: not a resend.
    let theirs = attempt(now.plus(Duration::from_millis(5)), 503, 40);
    let refused = store.record_attempt(&read, &theirs, &retry(now)).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict(Conflict::ChangedMeanwhile("delivery")))
        ),
        "{refused:?}"
    );
    let stored = store
        .get_delivery(&workspace.id, &webhook.id, &read.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attempts, [first]);
}
