//! Delivering events to webhooks, end to end in memory, to receivers on
//! loopback only: signed as the Standard Webhooks spec says, tried again on
//! the schedule (an injected clock moves through it), turned off by a 410,
//! signed with both secrets after a rotation, and never sent twice for a
//! job delivered twice.

use axum::http::StatusCode;
use secrecy::SecretString;
use serde_json::json;
use shared::app::webhook_delivery::Tried;
use shared::domain::ids::EventId;
use shared::domain::time::Timestamp;
use shared::domain::webhook::EventType;
use shared::domain::webhook::delivery::{Delivery, DeliveryStatus, Event};
use shared::domain::webhook::endpoint::{GONE, NewWebhook, Webhook};
use shared::domain::webhook::signature::WebhookSecret;
use shared::ports::webhook_sender::Outcome;
use shared::ports::{DeliveryStore, SecretCipher, SecretContext, ShiftedClock, WebhookStore};
use std::time::Duration;
use testkit::webhooks::{LOOPBACK, Seen, WebhookStack};

type Stack = WebhookStack;

fn stack() -> Stack {
    WebhookStack::new()
}

async fn receiver(status: StatusCode) -> (String, Seen) {
    testkit::webhooks::receiver(&[status]).await
}

trait Hooks {
    async fn webhook(&self, url: &str, events: &[&str], secret: &WebhookSecret) -> Webhook;
    async fn seal(&self, webhook: &Webhook, secret: &WebhookSecret) -> Vec<u8>;
    fn event(&self, webhook: &Webhook, kind: EventType) -> Event;
    async fn run_queue(&self) -> Vec<Tried>;
    async fn dispatched(&self, webhook: &Webhook, kind: EventType) -> Event;
    async fn latest(&self, webhook: &Webhook) -> Delivery;
}

impl Hooks for Stack {
    async fn webhook(&self, url: &str, events: &[&str], secret: &WebhookSecret) -> Webhook {
        let ws = self.workspace().await;
        let webhook = NewWebhook::from_json(
            json!({"url": url, "events": events}),
            ws,
            LOOPBACK,
            self.clock.timestamp(),
        )
        .unwrap()
        .webhook;
        self.store
            .create_webhook(&webhook, self.seal(&webhook, secret).await)
            .await
            .unwrap();
        webhook
    }

    async fn seal(&self, webhook: &Webhook, secret: &WebhookSecret) -> Vec<u8> {
        self.cipher
            .seal(
                &SecretString::from(secret.expose()),
                &SecretContext::webhook_secret(&webhook.workspace_id, &webhook.id),
            )
            .await
            .unwrap()
    }

    fn event(&self, webhook: &Webhook, kind: EventType) -> Event {
        Event {
            id: EventId::generate(),
            kind,
            workspace_id: webhook.workspace_id.clone(),
            at: self.clock.timestamp(),
            data: json!({"id": "msg_1"}),
        }
    }

    /// What the jobs on both lanes came to, leaving out the moves from
    /// one lane to the other.
    async fn run_queue(&self) -> Vec<Tried> {
        let mut tried = self.run_queues().await;
        tried.retain(|tried| *tried != Tried::Diverted);
        tried
    }

    /// An event of `kind` in the webhook's workspace, dispatched.
    async fn dispatched(&self, webhook: &Webhook, kind: EventType) -> Event {
        let event = self.event(webhook, kind);
        self.dispatcher.dispatch(&event, None).await.unwrap();
        event
    }

    /// The webhook's newest delivery.
    async fn latest(&self, webhook: &Webhook) -> Delivery {
        self.store
            .deliveries(&webhook.workspace_id, &webhook.id, 1, None)
            .await
            .unwrap()
            .deliveries
            .remove(0)
    }
}

trait ClockExt {
    fn timestamp(&self) -> Timestamp;
}

impl ClockExt for ShiftedClock {
    fn timestamp(&self) -> Timestamp {
        shared::ports::Clock::timestamp(self)
    }
}

#[tokio::test]
async fn an_event_reaches_each_webhook_that_wants_it_signed_to_the_standard() {
    let s = stack();
    let secret = WebhookSecret::generate();
    let (url, seen) = receiver(StatusCode::NO_CONTENT).await;
    let webhook = s.webhook(&url, &["message.created"], &secret).await;
    let event = s.event(&webhook, EventType::MessageCreated);
    assert_eq!(s.dispatcher.dispatch(&event, None).await.unwrap(), 1);
    let unwanted = s.event(&webhook, EventType::AssistantDeleted);
    assert_eq!(s.dispatcher.dispatch(&unwanted, None).await.unwrap(), 0);

    assert_eq!(
        s.run_queue().await,
        [Tried::Attempted(Outcome::Delivered { status: 204 })]
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(body, &event.body());
    assert_eq!(headers["webhook-id"], event.id.as_str());
    let timestamp: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        headers["webhook-signature"],
        secret
            .sign(event.id.as_str(), timestamp, body.as_bytes())
            .as_str()
    );
    let page = s
        .store
        .deliveries(&webhook.workspace_id, &webhook.id, 10, None)
        .await
        .unwrap();
    assert_eq!(page.deliveries.len(), 1);
    let delivery = &page.deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(delivery.attempts[0].response_status, Some(204));
    assert_eq!(delivery.attempts[0].error, None);
}

#[tokio::test]
async fn a_failing_endpoint_is_tried_on_the_schedule_until_it_fails_for_good() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let webhook = s.webhook(&url, &["*"], &WebhookSecret::generate()).await;
    let event = s.event(&webhook, EventType::MessageCreated);
    s.dispatcher.dispatch(&event, None).await.unwrap();
    let schedule = [60, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
    for (attempt, wait) in schedule.iter().enumerate() {
        let tried = s.run_queue().await;
        assert_eq!(
            tried,
            [Tried::Attempted(Outcome::Failed {
                status: Some(500),
                error: "the endpoint answered 500".into()
            })],
            "attempt {}",
            attempt + 1
        );
        // Not due a second early: the job comes back held for the rest.
        s.clock.advance(Duration::from_secs(wait - 1));
        assert_eq!(
            s.run_queue().await,
            [Tried::NotDue],
            "after {wait} s less one"
        );
        s.clock.advance(Duration::from_secs(1));
    }
    assert_eq!(
        s.run_queue().await,
        [Tried::Attempted(Outcome::Failed {
            status: Some(500),
            error: "the endpoint answered 500".into()
        })],
        "the eighth and last attempt"
    );
    assert!(
        s.queue.sent().is_empty() && s.failing_queue.sent().is_empty(),
        "nothing more is queued"
    );
    assert_eq!(seen.lock().unwrap().len(), 8);
    let delivery = s.latest(&webhook).await;
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(delivery.attempts.len(), 8);
    assert_eq!(delivery.next_attempt_at, None);
}

#[tokio::test]
async fn a_410_turns_the_webhook_off_and_its_later_deliveries_are_not_sent() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::GONE).await;
    let webhook = s.webhook(&url, &["*"], &WebhookSecret::generate()).await;
    s.dispatched(&webhook, EventType::MessageCreated).await;
    assert_eq!(s.run_queue().await, [Tried::Attempted(Outcome::Gone)]);
    let stored = s
        .store
        .get_webhook(&webhook.workspace_id, &webhook.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.webhook.active);
    assert_eq!(stored.webhook.disabled_reason.as_deref(), Some(GONE));
    assert_eq!(
        s.dispatcher
            .dispatch(&s.event(&webhook, EventType::MessageCreated), None)
            .await
            .unwrap(),
        0,
        "a webhook that is off gets no new deliveries"
    );
    // A test still reaches it on purpose, and is recorded as not sent.
    s.dispatcher
        .dispatch(
            &s.event(&webhook, EventType::WebhookTest),
            Some(&webhook.id),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.run_queue().await.as_slice(),
        [Tried::Attempted(Outcome::Failed { status: None, .. })]
    ));
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn after_a_rotation_deliveries_carry_both_signatures_for_a_day() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::OK).await;
    let old = WebhookSecret::generate();
    let webhook = s.webhook(&url, &["*"], &old).await;
    let new = WebhookSecret::generate();
    let until = s.clock.timestamp().plus(Duration::from_secs(24 * 60 * 60));
    s.store
        .rotate_secret(
            &webhook.workspace_id,
            &webhook.id,
            s.seal(&webhook, &new).await,
            until,
        )
        .await
        .unwrap();
    let signatures = |event: &Event| {
        let seen = seen.lock().unwrap();
        let (headers, body) = seen.last().unwrap();
        let timestamp: i64 = headers["webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        (
            headers["webhook-signature"].to_str().unwrap().to_owned(),
            new.sign(event.id.as_str(), timestamp, body.as_bytes()),
            old.sign(event.id.as_str(), timestamp, body.as_bytes()),
        )
    };
    let today = s.event(&webhook, EventType::MessageCreated);
    s.dispatcher.dispatch(&today, None).await.unwrap();
    s.run_queue().await;
    let (header, by_new, by_old) = signatures(&today);
    assert_eq!(header, format!("{by_new} {by_old}"));

    s.clock.advance(Duration::from_secs(24 * 60 * 60));
    let tomorrow = s.event(&webhook, EventType::MessageCreated);
    s.dispatcher.dispatch(&tomorrow, None).await.unwrap();
    s.run_queue().await;
    let (header, by_new, _) = signatures(&tomorrow);
    assert_eq!(header, by_new, "the next day, the new secret alone");
}

#[tokio::test]
async fn a_job_delivered_twice_sends_its_event_once() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::OK).await;
    let webhook = s.webhook(&url, &["*"], &WebhookSecret::generate()).await;
    s.dispatched(&webhook, EventType::MessageCreated).await;
    let job = s.queue.take().remove(0);
    assert!(matches!(
        s.deliverer.try_job(&job).await.unwrap(),
        Tried::Attempted(Outcome::Delivered { .. })
    ));
    assert_eq!(
        s.deliverer.try_job(&job).await.unwrap(),
        Tried::Nothing("the delivery is settled")
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    s.store
        .delete_webhook(&webhook.workspace_id, &webhook.id)
        .await
        .unwrap();
    assert_eq!(
        s.deliverer.try_job(&job).await.unwrap(),
        Tried::Nothing("the webhook is gone")
    );
}

#[tokio::test]
async fn a_manual_retry_supersedes_the_queued_attempt_so_one_job_sends_it() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::BAD_GATEWAY).await;
    let webhook = s.webhook(&url, &["*"], &WebhookSecret::generate()).await;
    s.dispatched(&webhook, EventType::MessageCreated).await;
    s.run_queue().await;
    let queued = s.failing_queue.take();
    assert_eq!(
        queued.len(),
        1,
        "the next attempt, a minute away, on the failing lane"
    );
    let delivery = s.latest(&webhook).await;
    let now = s.clock.timestamp();
    let retried = s
        .store
        .retry_delivery(&webhook.workspace_id, &webhook.id, &delivery.id, now)
        .await
        .unwrap();
    let retry = shared::app::webhook_dispatch::job_of(&retried, now);
    assert!(matches!(
        s.failing_deliverer.try_job(&retry).await.unwrap(),
        Tried::Attempted(_)
    ));
    s.clock.advance(Duration::from_secs(60));
    assert_eq!(
        s.failing_deliverer.try_job(&queued[0]).await.unwrap(),
        Tried::Nothing("a newer job holds the delivery")
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "the first attempt and the retry"
    );
}

#[tokio::test]
async fn a_failing_endpoints_jobs_wait_on_a_lane_of_their_own_until_it_answers_again() {
    let s = stack();
    let answers = [StatusCode::SERVICE_UNAVAILABLE, StatusCode::OK];
    let (url, seen) = testkit::webhooks::receiver(&answers).await;
    let webhook = s.webhook(&url, &["*"], &WebhookSecret::generate()).await;
    s.dispatched(&webhook, EventType::MessageCreated).await;
    let first = s.queue.take().remove(0);
    assert!(matches!(
        s.deliverer.try_job(&first).await.unwrap(),
        Tried::Attempted(Outcome::Failed { .. })
    ));
    assert!(s.queue.sent().is_empty());
    assert_eq!(s.failing_queue.sent().len(), 1, "its retry waits apart");

    // The next event's job is moved at once, without a request: the
    // healthy lane's workers never wait on this endpoint.
    s.dispatched(&webhook, EventType::MessageCreated).await;
    let second = s.queue.take().remove(0);
    assert_eq!(s.deliverer.try_job(&second).await.unwrap(), Tried::Diverted);
    assert_eq!(seen.lock().unwrap().len(), 1);
    let waiting = s.failing_queue.take();
    assert_eq!(waiting.len(), 2);
    assert!(matches!(
        s.failing_deliverer.try_job(&waiting[1]).await.unwrap(),
        Tried::Attempted(Outcome::Delivered { .. })
    ));

    // Answering again, it is back on the healthy lane.
    s.dispatched(&webhook, EventType::MessageCreated).await;
    let third = s.queue.take().remove(0);
    assert!(matches!(
        s.deliverer.try_job(&third).await.unwrap(),
        Tried::Attempted(Outcome::Delivered { .. })
    ));
}

#[tokio::test]
async fn a_burst_to_one_webhook_opens_its_secret_once_and_a_rotation_at_once() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::OK).await;
    let secret = WebhookSecret::generate();
    let webhook = s.webhook(&url, &["*"], &secret).await;
    for _ in 0..5 {
        s.dispatched(&webhook, EventType::MessageCreated).await;
    }
    let jobs = s.queue.take();
    let tried =
        futures_util::future::join_all(jobs.iter().map(|job| s.deliverer.try_job(job))).await;
    assert!(
        tried
            .iter()
            .all(|t| matches!(t, Ok(Tried::Attempted(Outcome::Delivered { .. }))))
    );
    assert_eq!(
        s.cipher.opened(),
        1,
        "one opening for five attempts at once"
    );

    let rotated = WebhookSecret::generate();
    let until = s.clock.timestamp().plus(Duration::from_secs(86_400));
    s.store
        .rotate_secret(
            &webhook.workspace_id,
            &webhook.id,
            s.seal(&webhook, &rotated).await,
            until,
        )
        .await
        .unwrap();
    s.dispatched(&webhook, EventType::MessageCreated).await;
    s.run_queue().await;
    let (headers, body) = seen.lock().unwrap().last().cloned().unwrap();
    let id = headers["webhook-id"].to_str().unwrap();
    let timestamp: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let signatures = headers["webhook-signature"].to_str().unwrap().to_owned();
    assert!(
        signatures.contains(&rotated.sign(id, timestamp, body.as_bytes())),
        "the new secret signs at once: {signatures}"
    );
}

#[tokio::test]
async fn a_dispatch_cut_off_between_its_write_and_its_send_is_delivered_when_dispatched_again() {
    let s = stack();
    let (url, seen) = receiver(StatusCode::OK).await;
    let webhook = s.webhook(&url, &["*"], &WebhookSecret::generate()).await;
    let event = s.event(&webhook, EventType::MessageCreated);
    s.queue.set_unavailable(true);
    assert!(s.dispatcher.dispatch(&event, None).await.is_err());
    assert_eq!(
        s.latest(&webhook).await.attempts.len(),
        0,
        "written, not sent"
    );
    s.queue.set_unavailable(false);
    // The feed reads the change again and dispatches its event once more.
    assert_eq!(s.dispatcher.dispatch(&event, None).await.unwrap(), 0);
    s.run_queue().await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(s.latest(&webhook).await.status, DeliveryStatus::Succeeded);
}
