//! The webhooks function's sample events (API Gateway REST) through its
//! router, and the webhook worker's sample SQS batches through its batch
//! handling: a job on the failing lane's queue is tried there, and a body
//! that is no job is dropped without failing its batch.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shared::app::webhook_delivery::{Lane, WebhookDeliverer};
use shared::domain::ids::UserId;
use shared::domain::policy::Actor;
use shared::domain::role::Role;
use shared::domain::webhook::RetrySchedule;
use shared::domain::webhook::delivery::DeliveryStatus;
use shared::http::webhooks_router;
use shared::ports::DeliveryStore;
use testkit::events::{
    EVENT_DELIVERY, EVENT_WEBHOOK, EVENT_WORKSPACE, Expected, assert_every_event_answers,
    event_files,
};
use testkit::webhooks::{WebhookStack, receiver};
use webhook_worker::{Lanes, handle_batch};

#[tokio::test]
async fn every_webhooks_api_event_reaches_its_route_and_answers_as_expected() {
    assert_every_event_answers(
        "webhooks-api",
        |stack| webhooks_router(stack.backends.webhooks()),
        &[
            Expected::new(
                "create-webhook.json",
                201,
                &[
                    ("/url", r#""https://crm.example.com/hooks/illumichat""#),
                    ("/events/1", r#""contact.created""#),
                    ("/active", "true"),
                ],
            ),
            Expected::new("delete-webhook.json", 204, &[]),
            Expected::new(
                "get-webhook-delivery.json",
                200,
                &[
                    ("/event", r#""webhook.test""#),
                    ("/status", r#""pending""#),
                    ("/payload/workspaceId", r#""{workspace}""#),
                ],
            ),
            Expected::new("get-webhook.json", 200, &[("/active", "true")]),
            Expected::new(
                "list-webhook-deliveries.json",
                200,
                &[
                    ("/data/0/event", r#""webhook.test""#),
                    ("/nextCursor", "null"),
                ],
            ),
            Expected::new(
                "list-webhooks.json",
                200,
                &[("/total", "1"), ("/data/0/events/0", r#""*""#)],
            ),
            Expected::new(
                "retry-webhook-delivery.json",
                202,
                &[("/status", r#""pending""#), ("/attempts", "0")],
            ),
            Expected::new("rotate-webhook-secret.json", 200, &[]),
            Expected::new("test-webhook.json", 202, &[]),
            Expected::new(
                "update-webhook.json",
                200,
                &[
                    ("/events", r#"["*"]"#),
                    ("/description", r#""Everything, to the CRM""#),
                ],
            ),
        ],
    )
    .await;
}

/// The worker's batch file, with the placeholders pointing at `delivery`
/// of `webhook` in `ws`, due when it is.
fn batch(name: &str, ws: &str, webhook: &str, delivery: &str, due_ms: i64) -> Value {
    let (_, text) = event_files("webhook-worker")
        .into_iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("events/webhook-worker/{name}"));
    let text = text
        .replace(EVENT_WORKSPACE, ws)
        .replace(EVENT_WEBHOOK, webhook)
        .replace(EVENT_DELIVERY, delivery)
        .replace("1796126400000", &due_ms.to_string());
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_workers_sample_batches_try_each_job_on_its_lane_and_drop_what_is_no_job() {
    let s = WebhookStack::new();
    let ws = s.workspace().await;
    let owner = Actor {
        user_id: UserId::generate(),
        role: Role::Owner,
    };
    let answers = [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK];
    let (url, seen) = receiver(&answers).await;
    let (webhook, _) = s
        .webhooks()
        .create(&ws, &owner, json!({"url": url, "events": ["*"]}))
        .await
        .unwrap();
    let lane = |lane| WebhookDeliverer {
        dispatcher: s.dispatcher.clone(),
        sender: s.deliverer.sender.clone(),
        cipher: s.cipher.clone(),
        schedule: RetrySchedule::default(),
        failing_queue: s.failing_queue.clone(),
        lane,
        opened: Default::default(),
    };
    let lanes = Lanes {
        healthy: lane(Lane::Healthy),
        failing: lane(Lane::Failing),
        failing_queue_arn:
            "arn:aws:sqs:us-east-1:123456789012:illumichat-WebhookFailingQueue-AbCdEf".into(),
    };
    let run = |file: &'static str| {
        let lanes = &lanes;
        let s = &s;
        let ws = ws.clone();
        let webhook = webhook.id.clone();
        let owner = owner.clone();
        async move {
            s.webhooks()
                .test(&ws, &owner, webhook.as_str())
                .await
                .unwrap();
            let job = s.queue.take().remove(0);
            let event = batch(
                file,
                ws.as_str(),
                webhook.as_str(),
                job.delivery_id.as_str(),
                job.due_at_ms,
            );
            let response = handle_batch(lanes, serde_json::from_value(event).unwrap()).await;
            assert!(response.batch_item_failures.is_empty(), "{file}");
            s.store
                .get_delivery(&ws, &webhook, &job.delivery_id)
                .await
                .unwrap()
                .unwrap()
        }
    };

    let first = run("deliver.json").await;
    assert_eq!(
        first.status,
        DeliveryStatus::Pending,
        "a 500: retried later"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    // The endpoint is failing now: the healthy lane moves its job, unsent.
    let moved = run("deliver.json").await;
    assert_eq!(moved.attempts.len(), 0);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(
        s.failing_queue.take().len(),
        2,
        "the retry and the moved job"
    );
    // The failing lane's queue tries it; the malformed body beside it is
    // dropped, not retried.
    let tried = run("failing-lane-batch-with-malformed-body.json").await;
    assert_eq!(tried.status, DeliveryStatus::Succeeded);
    assert_eq!(seen.lock().unwrap().len(), 2);
}
