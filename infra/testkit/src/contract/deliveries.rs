//! The delivery port: a webhook's deliveries kept whole with every attempt,
//! listed newest first a page at a time, an attempt recorded once however
//! many workers hold the job, its decision moving the webhook's state in
//! the same write, and the history gone with its webhook.

use super::fixtures::workspace;
use serde_json::json;
use shared::domain::ids::{DeliveryId, EventId, WebhookId, WorkspaceId};
use shared::domain::time::Timestamp;
use shared::domain::webhook::EventType;
use shared::domain::webhook::delivery::{AttemptRecord, Decision, Delivery, DeliveryStatus, Event};
use shared::domain::webhook::endpoint::{GONE, NewWebhook, Webhook, WebhookChanges};
use shared::domain::webhook::target::TargetPolicy;
use shared::ports::{Conflict, DeliveryStore, StoreError, WebhookStore, WorkspaceStore};
use std::sync::Arc;
use std::time::Duration;

async fn webhook_of<S: ?Sized + WorkspaceStore + WebhookStore>(store: &S) -> Webhook {
    let (ws, _) = workspace(store).await;
    let webhook = NewWebhook::from_json(
        json!({"url": "https://hooks.example.com/in", "events": ["*"]}),
        ws.id,
        TargetPolicy::default(),
        Timestamp::now(),
    )
    .unwrap()
    .webhook;
    store.create_webhook(&webhook, vec![1]).await.unwrap();
    webhook
}

fn delivery(ws: &WorkspaceId, webhook: &WebhookId, at: Timestamp) -> Delivery {
    let event = Event {
        id: EventId::generate(),
        kind: EventType::MessageCreated,
        workspace_id: ws.clone(),
        at,
        data: json!({"id": "msg_1", "content": "When do you open?"}),
    };
    Delivery::of(&event, webhook, at)
}

fn failed_attempt(at: Timestamp) -> AttemptRecord {
    AttemptRecord {
        at,
        response_status: Some(500),
        duration: Duration::from_millis(42),
        error: Some("the endpoint answered 500".into()),
    }
}

fn retry_at(at: Timestamp, since: Timestamp) -> Decision {
    Decision {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(at.plus(Duration::from_secs(60))),
        failing_since: Some(since),
        disable: None,
        changes_webhook: true,
    }
}

pub async fn a_delivery_is_kept_whole_and_only_for_a_webhook_that_is_there<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let ws = &webhook.workspace_id;
    let made = delivery(ws, &webhook.id, Timestamp::now());
    store.record_delivery(&made).await.unwrap();
    assert_eq!(
        store.get_delivery(ws, &webhook.id, &made.id).await.unwrap(),
        Some(made.clone())
    );
    let elsewhere = WorkspaceId::generate();
    assert_eq!(
        store
            .get_delivery(&elsewhere, &webhook.id, &made.id)
            .await
            .unwrap(),
        None,
        "not through another workspace"
    );
    let orphan = delivery(ws, &WebhookId::generate(), Timestamp::now());
    let refused = store.record_delivery(&orphan).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound("webhook"))),
        "{refused:?}"
    );
}

pub async fn deliveries_are_listed_newest_first_a_page_at_a_time_to_the_last<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let other = webhook_of(store.as_ref()).await;
    let ws = &webhook.workspace_id;
    let start = Timestamp::now();
    let mut made = Vec::new();
    for i in 0..5 {
        let one = delivery(ws, &webhook.id, start.plus(Duration::from_millis(i * 10)));
        store.record_delivery(&one).await.unwrap();
        made.push(one.id);
    }
    let theirs = delivery(&other.workspace_id, &other.id, start);
    store.record_delivery(&theirs).await.unwrap();

    let ids = |page: &shared::ports::DeliveryPage| {
        page.deliveries
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>()
    };
    let first = store.deliveries(ws, &webhook.id, 2, None).await.unwrap();
    assert_eq!(ids(&first), [made[4].clone(), made[3].clone()]);
    assert_eq!(first.next.as_ref(), Some(&made[3]));
    let second = store
        .deliveries(ws, &webhook.id, 2, first.next.as_ref())
        .await
        .unwrap();
    assert_eq!(ids(&second), [made[2].clone(), made[1].clone()]);
    let last = store
        .deliveries(ws, &webhook.id, 2, second.next.as_ref())
        .await
        .unwrap();
    assert_eq!(ids(&last), [made[0].clone()]);
    assert_eq!(last.next, None, "the last page says so");
    let whole = store.deliveries(ws, &webhook.id, 5, None).await.unwrap();
    assert_eq!(whole.deliveries.len(), 5);
    assert_eq!(
        whole.next, None,
        "exactly a page's worth leaves no next page"
    );
}

pub async fn an_attempt_is_recorded_once_however_many_workers_hold_the_job<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let ws = webhook.workspace_id.clone();
    let now = Timestamp::now();
    let made = delivery(&ws, &webhook.id, now);
    store.record_delivery(&made).await.unwrap();
    let workers = (0..5).map(|_| {
        let (store, made) = (store.clone(), made.clone());
        tokio::spawn(async move {
            store
                .record_attempt(&made, &failed_attempt(now), &retry_at(now, now))
                .await
        })
    });
    let results = futures_util::future::join_all(workers).await;
    let recorded = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    let lost = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Ok(Err(StoreError::Conflict(Conflict::ChangedMeanwhile(
                    "delivery"
                ))))
            )
        })
        .count();
    assert_eq!((recorded, lost), (1, 4), "{results:?}");
    let read = store
        .get_delivery(&ws, &webhook.id, &made.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.attempts, [failed_attempt(now)]);
    assert_eq!(read.status, DeliveryStatus::Pending);
    assert_eq!(
        read.next_attempt_at,
        Some(now.plus(Duration::from_secs(60)))
    );

    // The next attempt, read with the first, is recorded after it.
    let later = now.plus(Duration::from_secs(60));
    let done = Decision {
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        failing_since: None,
        disable: None,
        changes_webhook: true,
    };
    let delivered = AttemptRecord {
        at: later,
        response_status: Some(204),
        duration: Duration::from_millis(7),
        error: None,
    };
    store
        .record_attempt(&read, &delivered, &done)
        .await
        .unwrap();
    let read = store
        .get_delivery(&ws, &webhook.id, &made.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.attempts, [failed_attempt(now), delivered]);
    assert_eq!(read.status, DeliveryStatus::Succeeded);
    assert_eq!(read.next_attempt_at, None);
}

pub async fn an_attempts_decision_moves_its_webhooks_failing_run_and_can_turn_it_off<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let ws = webhook.workspace_id.clone();
    let since = Timestamp::now();
    let state = || async { store.get_webhook(&ws, &webhook.id).await.unwrap().unwrap() };

    let first = delivery(&ws, &webhook.id, since);
    store.record_delivery(&first).await.unwrap();
    store
        .record_attempt(&first, &failed_attempt(since), &retry_at(since, since))
        .await
        .unwrap();
    assert_eq!(state().await.failing_since, Some(since));
    assert!(state().await.webhook.active);

    let second = delivery(&ws, &webhook.id, since);
    store.record_delivery(&second).await.unwrap();
    let gone = Decision {
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        failing_since: Some(since),
        disable: Some(GONE),
        changes_webhook: true,
    };
    store
        .record_attempt(&second, &failed_attempt(since), &gone)
        .await
        .unwrap();
    let off = state().await;
    assert!(!off.webhook.active);
    assert_eq!(off.webhook.disabled_reason.as_deref(), Some(GONE));
    assert_eq!(off.failing_since, Some(since));

    // Turned on again, it starts afresh: its old failures count no more.
    let on = WebhookChanges::from_json(json!({"active": true}), TargetPolicy::default()).unwrap();
    store.update_webhook(&ws, &webhook.id, &on).await.unwrap();
    let on = state().await;
    assert!(on.webhook.active);
    assert_eq!(on.failing_since, None, "turning it on ends the failing run");

    let third = delivery(&ws, &webhook.id, since);
    store.record_delivery(&third).await.unwrap();
    let done = Decision {
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        failing_since: None,
        disable: None,
        changes_webhook: false,
    };
    store
        .record_attempt(&third, &failed_attempt(since), &done)
        .await
        .unwrap();
    assert_eq!(state().await.failing_since, None, "a success ends the run");

    store.delete_webhook(&ws, &webhook.id).await.unwrap();
    let fourth = delivery(&ws, &webhook.id, since);
    let refused = store
        .record_attempt(&fourth, &failed_attempt(since), &done)
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::NotFound("webhook"))
                | Err(StoreError::Conflict(Conflict::ChangedMeanwhile("delivery")))
        ),
        "{refused:?}"
    );
}

pub async fn deleting_a_webhook_deletes_its_deliveries<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let ws = webhook.workspace_id.clone();
    let made: Vec<Delivery> = (0..30)
        .map(|i| {
            delivery(
                &ws,
                &webhook.id,
                Timestamp::now().plus(Duration::from_millis(i)),
            )
        })
        .collect();
    for one in &made {
        store.record_delivery(one).await.unwrap();
    }
    let elsewhere = store
        .delete_webhook(&WorkspaceId::generate(), &webhook.id)
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::NotFound("webhook"))),
        "{elsewhere:?}"
    );
    assert_eq!(
        store
            .deliveries(&ws, &webhook.id, 100, None)
            .await
            .unwrap()
            .deliveries
            .len(),
        30,
        "a delete through another workspace purges nothing"
    );
    store.delete_webhook(&ws, &webhook.id).await.unwrap();
    for one in &made {
        assert_eq!(
            store.get_delivery(&ws, &webhook.id, &one.id).await.unwrap(),
            None
        );
    }
    let page = store.deliveries(&ws, &webhook.id, 100, None).await.unwrap();
    assert!(page.deliveries.is_empty());
}

pub async fn a_failed_delivery_can_be_retried_and_a_succeeded_one_cannot<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let ws = webhook.workspace_id.clone();
    let now = Timestamp::now();
    let made = delivery(&ws, &webhook.id, now);
    store.record_delivery(&made).await.unwrap();
    let failed = Decision {
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        failing_since: Some(now),
        disable: None,
        changes_webhook: true,
    };
    store
        .record_attempt(&made, &failed_attempt(now), &failed)
        .await
        .unwrap();
    let later = now.plus(Duration::from_secs(3_600));
    let retried = store
        .retry_delivery(&ws, &webhook.id, &made.id, later)
        .await
        .unwrap();
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(retried.next_attempt_at, Some(later));
    assert_eq!(retried.attempts, [failed_attempt(now)], "its attempts kept");
    assert_eq!(
        store
            .get_delivery(&ws, &webhook.id, &made.id)
            .await
            .unwrap()
            .unwrap(),
        retried
    );

    let done = Decision {
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        failing_since: None,
        disable: None,
        changes_webhook: true,
    };
    store
        .record_attempt(&retried, &failed_attempt(later), &done)
        .await
        .unwrap();
    let refused = store
        .retry_delivery(&ws, &webhook.id, &made.id, later)
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict(Conflict::DeliverySucceeded))
        ),
        "{refused:?}"
    );
    let missing = store
        .retry_delivery(&WorkspaceId::generate(), &webhook.id, &made.id, later)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("delivery"))),
        "not through another workspace: {missing:?}"
    );
}

pub async fn an_events_deliveries_are_recorded_all_at_once_or_not_at_all<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let first = webhook_of(store.as_ref()).await;
    let ws = first.workspace_id.clone();
    let second = NewWebhook::from_json(
        json!({"url": "https://hooks.example.com/two", "events": ["*"]}),
        ws.clone(),
        TargetPolicy::default(),
        Timestamp::now(),
    )
    .unwrap()
    .webhook;
    store.create_webhook(&second, vec![2]).await.unwrap();
    let event = Event {
        id: EventId::generate(),
        kind: EventType::AssistantCreated,
        workspace_id: ws.clone(),
        at: Timestamp::now(),
        data: json!({"id": "ast_1"}),
    };
    let now = Timestamp::now();
    let both = [
        Delivery::of(&event, &first.id, now),
        Delivery::of(&event, &second.id, now),
    ];
    let count = |webhook: WebhookId| {
        let (store, ws) = (store.clone(), ws.clone());
        async move {
            store
                .deliveries(&ws, &webhook, 10, None)
                .await
                .unwrap()
                .deliveries
                .len()
        }
    };

    // One already there: neither is written again.
    store.record_delivery(&both[1]).await.unwrap();
    let refused = store.record_deliveries(&both).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::IdCollision(_)))),
        "{refused:?}"
    );
    assert_eq!(count(first.id.clone()).await, 0, "all or nothing");

    // A webhook gone: none is written.
    let later = Event {
        id: EventId::generate(),
        ..event.clone()
    };
    let gone = delivery(&ws, &WebhookId::generate(), now);
    let with_gone = [Delivery::of(&later, &first.id, now), gone];
    let refused = store.record_deliveries(&with_gone).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound("webhook"))),
        "{refused:?}"
    );
    assert_eq!(count(first.id.clone()).await, 0);

    let fresh = Event {
        id: EventId::generate(),
        ..event
    };
    let all = [
        Delivery::of(&fresh, &first.id, now),
        Delivery::of(&fresh, &second.id, now),
    ];
    store.record_deliveries(&all).await.unwrap();
    assert_eq!(count(first.id.clone()).await, 1);
    assert_eq!(count(second.id.clone()).await, 2);
    assert_eq!(
        store
            .get_delivery(&ws, &second.id, &all[1].id)
            .await
            .unwrap(),
        Some(all[1].clone())
    );
}

pub async fn a_job_reads_its_webhook_and_delivery_at_once_and_only_in_their_workspace<
    S: ?Sized + WorkspaceStore + WebhookStore + DeliveryStore + 'static,
>(
    store: Arc<S>,
) {
    let webhook = webhook_of(store.as_ref()).await;
    let ws = webhook.workspace_id.clone();
    let made = delivery(&ws, &webhook.id, Timestamp::now());
    store.record_delivery(&made).await.unwrap();
    let (stored, read) = store
        .delivery_with_webhook(&ws, &webhook.id, &made.id)
        .await
        .unwrap();
    assert_eq!(stored.map(|s| s.webhook), Some(webhook.clone()));
    assert_eq!(read, Some(made.clone()));

    let missing = DeliveryId::at(Timestamp::now());
    let (stored, read) = store
        .delivery_with_webhook(&ws, &webhook.id, &missing)
        .await
        .unwrap();
    assert!(stored.is_some() && read.is_none());

    let elsewhere = WorkspaceId::generate();
    assert_eq!(
        store
            .delivery_with_webhook(&elsewhere, &webhook.id, &made.id)
            .await
            .unwrap(),
        (None, None),
        "nothing through another workspace"
    );
}
