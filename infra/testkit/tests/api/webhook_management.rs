//! Managing webhooks as the application decides it (the routes come with
//! the webhooks function): owners and admins only, every bad field named
//! and nothing stored, the secret shown when made and when rotated and
//! sealed otherwise, a test to one webhook alone, twenty at most, another
//! workspace's not there, and a failed delivery retried.

use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use shared::app::error::AppError;
use shared::app::webhook_delivery::Tried;
use shared::app::webhooks::{MANAGERS_ONLY, Webhooks};
use shared::domain::ids::UserId;
use shared::domain::policy::Actor;
use shared::domain::role::Role;
use shared::domain::webhook::WEBHOOKS_PER_WORKSPACE;
use shared::domain::webhook::delivery::DeliveryStatus;
use shared::ports::{Conflict, SecretCipher, SecretContext, WebhookStore};
use testkit::webhooks::{WebhookStack, receiver};

struct Stack {
    hooks: WebhookStack,
    webhooks: Webhooks,
}

impl std::ops::Deref for Stack {
    type Target = WebhookStack;
    fn deref(&self) -> &WebhookStack {
        &self.hooks
    }
}

fn stack() -> Stack {
    let hooks = WebhookStack::new();
    let webhooks = hooks.webhooks();
    Stack { hooks, webhooks }
}

fn actor(role: Role) -> Actor {
    Actor {
        user_id: UserId::generate(),
        role,
    }
}

fn hook(path: &str) -> Value {
    json!({"url": format!("https://hooks.example.com/{path}"), "events": ["*"]})
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, AppError>) {
    assert!(
        matches!(&result, Err(AppError::Forbidden(m)) if *m == MANAGERS_ONLY),
        "{result:?}"
    );
}

#[tokio::test]
async fn only_owners_and_admins_manage_webhooks_and_a_refusal_changes_nothing() {
    let s = stack();
    let ws = s.workspace().await;
    let owner = actor(Role::Owner);
    let (made, _) = s.webhooks.create(&ws, &owner, hook("in")).await.unwrap();
    let (by_admin, _) = s
        .webhooks
        .create(&ws, &actor(Role::Admin), hook("admin"))
        .await
        .unwrap();
    let id = made.id.as_str();
    for role in [Role::Member, Role::Guest] {
        let who = actor(role);
        forbidden(s.webhooks.create(&ws, &who, hook("theirs")).await);
        forbidden(s.webhooks.list(&ws, &who).await);
        forbidden(s.webhooks.get(&ws, &who, id).await);
        forbidden(
            s.webhooks
                .update(&ws, &who, id, json!({"active": false}))
                .await,
        );
        forbidden(s.webhooks.rotate(&ws, &who, id).await);
        forbidden(s.webhooks.test(&ws, &who, id).await);
        forbidden(s.webhooks.deliveries(&ws, &who, id, 25, None).await);
        forbidden(
            s.webhooks
                .delivery(&ws, &who, id, "dlv_00000000000000000000")
                .await,
        );
        forbidden(
            s.webhooks
                .retry(&ws, &who, id, "dlv_00000000000000000000")
                .await,
        );
        forbidden(s.webhooks.delete(&ws, &who, id).await);
    }
    assert_eq!(
        s.webhooks.list(&ws, &owner).await.unwrap(),
        [by_admin, made.clone()],
        "nothing changed"
    );
    assert!(s.queue.sent().is_empty(), "no test was queued");
    let stored = s.store.get_webhook(&ws, &made.id).await.unwrap().unwrap();
    assert!(stored.webhook.active);
    assert_eq!(stored.secrets.previous, None, "no rotation");
}

#[tokio::test]
async fn another_workspaces_webhook_is_not_there() {
    let s = stack();
    let ours = s.workspace().await;
    let theirs = s.workspace().await;
    let owner = actor(Role::Owner);
    let (made, _) = s
        .webhooks
        .create(&theirs, &owner, hook("in"))
        .await
        .unwrap();
    let not_found = |result: Result<_, AppError>| {
        assert!(
            matches!(result, Err(AppError::NotFound("webhook"))),
            "{result:?}"
        )
    };
    not_found(
        s.webhooks
            .get(&ours, &owner, made.id.as_str())
            .await
            .map(|_| ()),
    );
    not_found(s.webhooks.delete(&ours, &owner, made.id.as_str()).await);
    not_found(
        s.webhooks
            .rotate(&ours, &owner, made.id.as_str())
            .await
            .map(|_| ()),
    );
    not_found(
        s.webhooks
            .get(&ours, &owner, "wh_not-an-id")
            .await
            .map(|_| ()),
    );
    assert_eq!(s.webhooks.list(&ours, &owner).await.unwrap(), []);
}

#[tokio::test]
async fn the_secret_is_shown_when_made_and_when_rotated_and_sealed_at_rest() {
    let s = stack();
    let ws = s.workspace().await;
    let owner = actor(Role::Owner);
    let brought = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let mut body = hook("in");
    body["secret"] = json!(brought);
    let (made, secret) = s.webhooks.create(&ws, &owner, body).await.unwrap();
    assert_eq!(secret.expose(), brought);
    let stored = s.store.get_webhook(&ws, &made.id).await.unwrap().unwrap();
    assert!(
        !String::from_utf8_lossy(&stored.secrets.current).contains(&brought[6..]),
        "sealed, not kept in the clear"
    );
    let context = SecretContext::webhook_secret(&ws, &made.id);
    let opened = s
        .cipher
        .open(&stored.secrets.current, &context)
        .await
        .unwrap();
    assert_eq!(opened.expose_secret(), brought);

    let (rotated, _) = s
        .webhooks
        .rotate(&ws, &owner, made.id.as_str())
        .await
        .unwrap();
    assert_ne!(rotated.expose(), brought);
    let stored = s.store.get_webhook(&ws, &made.id).await.unwrap().unwrap();
    let opened = s
        .cipher
        .open(&stored.secrets.current, &context)
        .await
        .unwrap();
    assert_eq!(opened.expose_secret(), rotated.expose());
    assert!(
        stored.secrets.previous.is_some(),
        "the old one signs for a day"
    );
    let shown = format!(
        "{:?}",
        s.webhooks.get(&ws, &owner, made.id.as_str()).await.unwrap()
    );
    assert!(!shown.contains(&brought[6..]) && !shown.contains(&rotated.expose()[6..]));
}

#[tokio::test]
async fn a_bad_webhook_is_refused_naming_each_field_and_nothing_is_stored() {
    let s = stack();
    let ws = s.workspace().await;
    let owner = actor(Role::Owner);
    let refused = s
        .webhooks
        .create(
            &ws,
            &owner,
            json!({"url": "https://169.254.169.254/latest", "events": ["message.sent"]}),
        )
        .await;
    match refused {
        Err(AppError::BadRequest {
            details: Some(details),
            ..
        }) => {
            assert_eq!(details["url"], "must not name a link-local address");
            assert_eq!(
                details["events"],
                "has an unknown event type: \"message.sent\""
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.webhooks.list(&ws, &owner).await.unwrap(), []);
}

#[tokio::test]
async fn a_twenty_first_webhook_is_a_conflict() {
    let s = stack();
    let ws = s.workspace().await;
    let owner = actor(Role::Owner);
    for i in 0..WEBHOOKS_PER_WORKSPACE {
        s.webhooks
            .create(&ws, &owner, hook(&i.to_string()))
            .await
            .unwrap();
    }
    let refused = s.webhooks.create(&ws, &owner, hook("more")).await;
    let expected = Conflict::TooManyWebhooks(WEBHOOKS_PER_WORKSPACE).to_string();
    assert!(
        matches!(&refused, Err(AppError::Conflict(m)) if *m == expected),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_test_reaches_its_webhook_alone_and_a_failed_delivery_can_be_retried() {
    let s = stack();
    let ws = s.workspace().await;
    let owner = actor(Role::Owner);
    // A 410 first, then 200s.
    let (url, _) = receiver(&[StatusCode::GONE, StatusCode::OK]).await;
    let (tested, _) = s
        .webhooks
        .create(&ws, &owner, json!({"url": url, "events": ["*"]}))
        .await
        .unwrap();
    let (other, _) = s.webhooks.create(&ws, &owner, hook("other")).await.unwrap();

    s.webhooks
        .test(&ws, &owner, tested.id.as_str())
        .await
        .unwrap();
    let jobs = s.queue.take();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].webhook_id, tested.id, "to the tested webhook alone");
    // The receiver answers 410 first: the delivery fails, the webhook is off.
    s.deliverer.try_job(&jobs[0]).await.unwrap();
    let page = s
        .webhooks
        .deliveries(&ws, &owner, tested.id.as_str(), 25, None)
        .await
        .unwrap();
    let delivery = &page.deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(delivery.event.as_str(), "webhook.test");
    assert!(
        s.webhooks
            .deliveries(&ws, &owner, other.id.as_str(), 25, None)
            .await
            .unwrap()
            .deliveries
            .is_empty()
    );

    // Turned on again and retried: the next answer is a 200.
    s.webhooks
        .update(&ws, &owner, tested.id.as_str(), json!({"active": true}))
        .await
        .unwrap();
    let retried = s
        .webhooks
        .retry(&ws, &owner, tested.id.as_str(), delivery.id.as_str())
        .await
        .unwrap();
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert!(matches!(
        s.run_queues().await.as_slice(),
        [Tried::Attempted(_)]
    ));
    let done = s
        .webhooks
        .delivery(&ws, &owner, tested.id.as_str(), delivery.id.as_str())
        .await
        .unwrap();
    assert_eq!(done.status, DeliveryStatus::Succeeded);
    assert_eq!(done.attempts.len(), 2);
    let again = s
        .webhooks
        .retry(&ws, &owner, tested.id.as_str(), delivery.id.as_str())
        .await;
    assert!(
        matches!(&again, Err(AppError::Conflict(m)) if m == "this delivery succeeded already"),
        "{again:?}"
    );
    let bad_cursor = s
        .webhooks
        .deliveries(&ws, &owner, tested.id.as_str(), 25, Some("nope"))
        .await;
    assert!(
        matches!(bad_cursor, Err(AppError::BadRequest { .. })),
        "{bad_cursor:?}"
    );
}
