//! The webhook port: a workspace's webhooks with their sealed secrets,
//! listed newest first and only in their workspace, at most twenty however
//! many are created at once, changed field by field, a rotated secret kept
//! for its day, and a deleted one's place freed.

use super::fixtures::workspace;
use serde_json::json;
use shared::domain::ids::{WebhookId, WorkspaceId};
use shared::domain::time::Timestamp;
use shared::domain::webhook::WEBHOOKS_PER_WORKSPACE;
use shared::domain::webhook::endpoint::{NewWebhook, Webhook, WebhookChanges};
use shared::domain::webhook::target::TargetPolicy;
use shared::ports::{Conflict, StoreError, WebhookStore, WorkspaceStore};
use std::sync::Arc;
use std::time::Duration;

fn new_webhook(ws: &WorkspaceId, path: &str, at: Timestamp) -> Webhook {
    NewWebhook::from_json(
        json!({"url": format!("https://hooks.example.com/{path}"), "events": ["message.created"]}),
        ws.clone(),
        TargetPolicy::default(),
        at,
    )
    .unwrap()
    .webhook
}

pub async fn a_webhook_is_stored_with_its_secret_and_listed_newest_first_in_its_workspace_only<
    S: ?Sized + WorkspaceStore + WebhookStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let (other, _) = workspace(store.as_ref()).await;
    let now = Timestamp::now();
    let first = new_webhook(&ws.id, "first", now);
    let second = new_webhook(&ws.id, "second", now.plus(Duration::from_millis(5)));
    let theirs = new_webhook(&other.id, "theirs", now);
    store
        .create_webhook(&first, b"sealed-1".to_vec())
        .await
        .unwrap();
    store
        .create_webhook(&second, b"sealed-2".to_vec())
        .await
        .unwrap();
    store
        .create_webhook(&theirs, b"sealed-3".to_vec())
        .await
        .unwrap();

    let listed = store.webhooks(&ws.id).await.unwrap();
    assert_eq!(listed, [second.clone(), first.clone()]);
    let stored = store.get_webhook(&ws.id, &first.id).await.unwrap().unwrap();
    assert_eq!(stored.webhook, first);
    assert_eq!(stored.secrets.current, b"sealed-1");
    assert_eq!(stored.secrets.previous, None);
    assert_eq!(
        store.get_webhook(&ws.id, &theirs.id).await.unwrap(),
        None,
        "another workspace's webhook is not there"
    );
    let again = store.create_webhook(&first, b"again".to_vec()).await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict(Conflict::IdCollision("webhook")))
        ),
        "{again:?}"
    );
}

pub async fn a_workspace_holds_twenty_webhooks_however_many_are_created_at_once<
    S: ?Sized + WorkspaceStore + WebhookStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let attempts = WEBHOOKS_PER_WORKSPACE + 10;
    let creates = (0..attempts).map(|i| {
        let store = store.clone();
        let webhook = new_webhook(&ws.id, &format!("hook-{i}"), Timestamp::now());
        tokio::spawn(async move { store.create_webhook(&webhook, vec![1]).await })
    });
    let results = futures_util::future::join_all(creates).await;
    let made = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    let refused = results
        .iter()
        .filter(|r| {
            matches!(r, Ok(Err(StoreError::Conflict(Conflict::TooManyWebhooks(n)))) if *n == WEBHOOKS_PER_WORKSPACE)
        })
        .count();
    assert_eq!((made, refused), (WEBHOOKS_PER_WORKSPACE, 10), "{results:?}");
    let listed = store.webhooks(&ws.id).await.unwrap();
    assert_eq!(listed.len(), WEBHOOKS_PER_WORKSPACE);

    store.delete_webhook(&ws.id, &listed[0].id).await.unwrap();
    let another = new_webhook(&ws.id, "one-more", Timestamp::now());
    store.create_webhook(&another, vec![1]).await.unwrap();
    let full = new_webhook(&ws.id, "too-many", Timestamp::now());
    let refused = store.create_webhook(&full, vec![1]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::TooManyWebhooks(n))) if n == WEBHOOKS_PER_WORKSPACE),
        "{refused:?}"
    );
}

pub async fn a_change_writes_only_what_it_names_and_a_missing_webhook_is_not_found<
    S: ?Sized + WorkspaceStore + WebhookStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let mut webhook = new_webhook(&ws.id, "in", Timestamp::now());
    webhook.active = false;
    webhook.disabled_reason = Some("the endpoint answered 410 Gone".into());
    store.create_webhook(&webhook, vec![1]).await.unwrap();

    let described =
        WebhookChanges::from_json(json!({"description": "CRM"}), TargetPolicy::default()).unwrap();
    let changed = store
        .update_webhook(&ws.id, &webhook.id, &described)
        .await
        .unwrap();
    assert_eq!(changed.description, "CRM");
    assert!(!changed.active);
    assert_eq!(changed.disabled_reason, webhook.disabled_reason);
    assert_eq!(changed.url, webhook.url);
    assert!(changed.updated_at >= webhook.updated_at);

    let on = WebhookChanges::from_json(
        json!({"active": true, "url": "https://crm.example.com/hooks", "events": ["*"]}),
        TargetPolicy::default(),
    )
    .unwrap();
    let changed = store
        .update_webhook(&ws.id, &webhook.id, &on)
        .await
        .unwrap();
    assert!(changed.active);
    assert_eq!(changed.disabled_reason, None);
    assert_eq!(changed.url.as_str(), "https://crm.example.com/hooks");
    assert_eq!(changed.subscription.names(), ["*"]);
    assert_eq!(changed.description, "CRM");
    let read = store
        .get_webhook(&ws.id, &webhook.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.webhook, changed);

    let missing = WebhookId::generate();
    let not_found = |result: Result<(), StoreError>| {
        assert!(
            matches!(result, Err(StoreError::NotFound("webhook"))),
            "{result:?}"
        );
    };
    not_found(
        store
            .update_webhook(&ws.id, &missing, &on)
            .await
            .map(|_| ()),
    );
    not_found(
        store
            .rotate_secret(&ws.id, &missing, vec![2], Timestamp::now())
            .await,
    );
    not_found(store.delete_webhook(&ws.id, &missing).await);
}

pub async fn a_rotated_secret_signs_beside_the_new_one_until_its_day_ends<
    S: ?Sized + WorkspaceStore + WebhookStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let webhook = new_webhook(&ws.id, "in", Timestamp::now());
    store
        .create_webhook(&webhook, b"first".to_vec())
        .await
        .unwrap();
    let now = Timestamp::now();
    let until = now.plus(Duration::from_secs(24 * 60 * 60));
    store
        .rotate_secret(&ws.id, &webhook.id, b"second".to_vec(), until)
        .await
        .unwrap();
    let secrets = store
        .get_webhook(&ws.id, &webhook.id)
        .await
        .unwrap()
        .unwrap()
        .secrets;
    assert_eq!(secrets.current, b"second");
    assert_eq!(secrets.signing_at(now), [&b"second"[..], &b"first"[..]]);
    let just_before = Timestamp::from_millis(until.millis() - 1);
    assert_eq!(secrets.signing_at(just_before).len(), 2);
    assert_eq!(secrets.signing_at(until), [&b"second"[..]], "the next day");
}

pub async fn deleting_a_webhook_forgets_it_and_frees_its_place<
    S: ?Sized + WorkspaceStore + WebhookStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let kept = new_webhook(&ws.id, "kept", Timestamp::now());
    let gone = new_webhook(&ws.id, "gone", Timestamp::now());
    store.create_webhook(&kept, vec![1]).await.unwrap();
    store.create_webhook(&gone, vec![2]).await.unwrap();
    store.delete_webhook(&ws.id, &gone.id).await.unwrap();
    assert_eq!(store.get_webhook(&ws.id, &gone.id).await.unwrap(), None);
    assert_eq!(store.webhooks(&ws.id).await.unwrap(), [kept]);
    let again = store.delete_webhook(&ws.id, &gone.id).await;
    assert!(
        matches!(again, Err(StoreError::NotFound("webhook"))),
        "a second delete finds nothing: {again:?}"
    );
}
