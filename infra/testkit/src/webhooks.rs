//! Webhooks under test, in memory: the deliverer over the memory store,
//! cipher and queue with a clock the test moves, and receivers that listen
//! on loopback only (no test sends a webhook anywhere else).

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::json;
use shared::adapters::memory::{MemoryCipher, MemoryQueue, MemoryStore};
use shared::adapters::webhook_sender::HttpWebhookSender;
use shared::app::webhook_delivery::WebhookDeliverer;
use shared::domain::ids::{UserId, WorkspaceId};
use shared::domain::member::Email;
use shared::domain::webhook::RetrySchedule;
use shared::domain::webhook::target::TargetPolicy;
use shared::domain::workspace::NewWorkspace;
use shared::jobs::WebhookJob;
use shared::ports::{ShiftedClock, WorkspaceStore};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where test webhooks may point: loopback, and nowhere else.
pub const LOOPBACK: TargetPolicy = TargetPolicy {
    allow_loopback: true,
};

pub struct WebhookStack {
    pub store: Arc<MemoryStore>,
    pub cipher: Arc<MemoryCipher>,
    pub queue: Arc<MemoryQueue<WebhookJob>>,
    pub clock: Arc<ShiftedClock>,
    pub deliverer: Arc<WebhookDeliverer>,
}

impl Default for WebhookStack {
    fn default() -> Self {
        Self::new()
    }
}

impl WebhookStack {
    pub fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let cipher = Arc::new(MemoryCipher::new());
        let queue = Arc::new(MemoryQueue::new());
        let clock = Arc::new(ShiftedClock::new());
        let deliverer = Arc::new(WebhookDeliverer {
            webhooks: store.clone(),
            deliveries: store.clone(),
            sender: Arc::new(HttpWebhookSender::with_timeout(
                LOOPBACK,
                Duration::from_secs(2),
            )),
            cipher: cipher.clone(),
            queue: queue.clone(),
            schedule: RetrySchedule::default(),
            clock: clock.clone(),
        });
        Self {
            store,
            cipher,
            queue,
            clock,
            deliverer,
        }
    }

    /// A new workspace, with its owner.
    pub async fn workspace(&self) -> WorkspaceId {
        let owner = self
            .store
            .create_user(
                Email::parse(&format!("{}@hooks.test", UserId::generate())).unwrap(),
                "Owner".into(),
            )
            .await
            .unwrap();
        self.store
            .create_workspace(
                NewWorkspace::from_json(json!({"name": "Hooks"})).unwrap(),
                &owner,
            )
            .await
            .unwrap()
            .id
    }
}

/// What a receiver was sent: each request's headers and body.
pub type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on loopback answering each request with the next of
/// `answers` (the last one from then on), recording what reaches it; its
/// URL.
pub async fn receiver(answers: &[StatusCode]) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let recorded = seen.clone();
    let answers = Arc::new(Mutex::new(answers.to_vec()));
    let router = Router::new().route(
        "/in",
        post(move |headers: HeaderMap, body: String| async move {
            let mut seen = recorded.lock().unwrap();
            seen.push((headers, body));
            let answers = answers.lock().unwrap();
            answers[(seen.len() - 1).min(answers.len() - 1)]
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{address}/in"), seen)
}
