//! The table's stream on the local AWS server, read as the event feed reads
//! it: what people do through the API comes back as committed changes,
//! which make the events the memory store's log makes; a record read again
//! makes the same events (the same ids), and an item no event is about
//! makes none.

use axum::http::{Method, StatusCode};
use devtools::change_stream::{StreamReader, stream_of};
use event_feed::handle_records;
use serde_json::json;
use shared::app::event_feed::EventFeed;
use shared::app::webhook_dispatch::EventDispatcher;
use shared::domain::ids::{WebhookId, WorkspaceId};
use shared::domain::webhook::change::Change;
use shared::domain::webhook::delivery::Event;
use shared::http::events::events_of;
use shared::ports::DeliveryStore;
use std::sync::Arc;
use testkit::TestStack;

/// Every change committed so far that makes events, read from the start.
async fn changes(stack: &TestStack) -> Vec<Change> {
    let arn = stream_of(&stack.local.aws, &stack.local.table)
        .await
        .unwrap();
    let mut reader = StreamReader::new(&stack.local.aws, arn);
    let mut found = Vec::new();
    // Until a read finds nothing new: the local server's shard never closes.
    loop {
        let mut new = 0;
        for (shard, records, next) in reader.read().await.unwrap() {
            new += records.len();
            for record in &records {
                if let Some(change) = stack.local.store.change_of(record).await.unwrap() {
                    found.push(change);
                }
            }
            reader.advance(shard, next);
        }
        if new == 0 {
            return found;
        }
    }
}

fn events(changes: &[Change]) -> Vec<Event> {
    changes.iter().flat_map(events_of).collect()
}

#[tokio::test]
async fn the_stream_gives_back_each_committed_change_as_the_events_it_makes() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    let (status, answer) = stack
        .call(
            Method::POST,
            &format!(
                "/api/workspaces/{}/conversations/{}/messages",
                f.ws(),
                f.member_conversation
            ),
            Some(f.key("member")),
            Some(json!({"content": "How long do refunds take?"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, _) = stack
        .call(
            Method::PATCH,
            &format!(
                "/api/workspaces/{}/assistants/{}",
                f.ws(),
                f.public_assistant
            ),
            Some(f.key("owner")),
            Some(json!({"temperature": 0.1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let read = changes(&stack).await;
    let made = events(&read);
    let of = |kind: &str| -> Vec<&Event> {
        made.iter()
            .filter(|e| e.kind.as_str() == kind && e.workspace_id.as_str() == f.ws())
            .collect()
    };
    assert_eq!(of("assistant.created").len(), 2, "the fixture's two");
    assert_eq!(of("conversation.created").len(), 2);
    let messages = of("message.created");
    assert_eq!(messages.len(), 2, "the question and its answer");
    assert_eq!(messages[0].data["role"], "user");
    assert_eq!(
        messages[0].data["assistantId"],
        f.private_assistant.as_str()
    );
    assert_eq!(messages[1].data["id"], answer["assistantMessage"]["id"]);
    let updated = of("assistant.updated");
    assert_eq!(updated.len(), 2, "{updated:?}");
    assert_eq!(
        updated[0].data["projectCount"], 1,
        "the fixture's connection counts on its assistant"
    );
    assert_eq!(updated[1].data["temperature"], 0.1);
    assert!(!of("member.joined").is_empty());

    // Read again from the start: the same changes, the same event ids.
    let again = events(&changes(&stack).await);
    let ids = |events: &[Event]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&made));
}

#[tokio::test]
async fn the_feeds_sample_batch_delivers_each_change_once_however_often_it_is_replayed() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    let (_, text) = testkit::events::event_files("event-feed")
        .into_iter()
        .find(|(name, _)| name == "assistant-created-updated-deleted.json")
        .unwrap();
    let text = text
        .replace(testkit::events::EVENT_WORKSPACE, f.ws())
        .replace(testkit::events::EVENT_USER, f.user("owner"));
    let feed = EventFeed {
        dispatcher: EventDispatcher {
            webhooks: stack.local.store.clone(),
            deliveries: stack.local.store.clone(),
            queue: stack.local.webhook_queue(),
            clock: Arc::new(shared::ports::SystemClock),
        },
        events_of,
    };
    let ws = WorkspaceId::parse(f.ws()).unwrap();
    let webhook = WebhookId::parse(&f.webhook).unwrap();
    let kinds = || async {
        let page = stack
            .local
            .store
            .deliveries(&ws, &webhook, 100, None)
            .await
            .unwrap();
        let mut kinds: Vec<&str> = page.deliveries.iter().map(|d| d.event.as_str()).collect();
        kinds.sort();
        kinds
    };
    for _ in 0..2 {
        let event = serde_json::from_str(&text).unwrap();
        let response = handle_records(&stack.local.store, &feed, event).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(
            kinds().await,
            [
                "assistant.created",
                "assistant.deleted",
                "assistant.updated",
                "webhook.test"
            ],
            "the fixture's test, and one delivery per change"
        );
    }
}
