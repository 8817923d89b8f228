//! Webhooks under test, in memory: the deliverer over the memory store,
//! cipher and queue with a clock the test moves, and receivers that listen
//! on loopback only (no test sends a webhook anywhere else).

use crate::memory::MemoryStack;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::json;
use shared::adapters::memory::{MemoryCipher, MemoryHosts, MemoryQueue, MemoryStore};
use shared::adapters::webhook_sender::HttpWebhookSender;
use shared::app::event_feed::EventFeed;
use shared::app::webhook_delivery::{Lane, Tried, WebhookDeliverer};
use shared::app::webhook_dispatch::EventDispatcher;
use shared::app::webhooks::Webhooks;
use shared::domain::ids::WebhookId;
use shared::domain::ids::{UserId, WorkspaceId};
use shared::domain::member::Email;
use shared::domain::policy::Actor;
use shared::domain::role::Role;
use shared::domain::webhook::RetrySchedule;
use shared::domain::webhook::signature::WebhookSecret;
use shared::domain::webhook::target::TargetPolicy;
use shared::domain::workspace::NewWorkspace;
use shared::jobs::WebhookJob;
use shared::ports::{JobQueue, ShiftedClock, WorkspaceStore};
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
    pub dispatcher: EventDispatcher,
    /// The healthy lane's worker (its queue is `queue`).
    pub deliverer: Arc<WebhookDeliverer>,
    /// The failing lane: its queue and its worker.
    pub failing_queue: Arc<MemoryQueue<WebhookJob>>,
    pub failing_deliverer: Arc<WebhookDeliverer>,
    /// Host names as the test points them.
    pub hosts: Arc<MemoryHosts>,
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
        let dispatcher = EventDispatcher {
            webhooks: store.clone(),
            deliveries: store.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
        };
        let failing_queue = Arc::new(MemoryQueue::new());
        let lane = |lane| {
            Arc::new(WebhookDeliverer {
                dispatcher: dispatcher.clone(),
                sender: Arc::new(HttpWebhookSender::confined_to_loopback(
                    Duration::from_secs(2),
                )),
                cipher: cipher.clone(),
                schedule: RetrySchedule::default(),
                failing_queue: failing_queue.clone(),
                lane,
                opened: Default::default(),
            })
        };
        let deliverer = lane(Lane::Healthy);
        let failing_deliverer = lane(Lane::Failing);
        Self {
            store,
            cipher,
            queue,
            clock,
            dispatcher,
            deliverer,
            failing_queue,
            failing_deliverer,
            hosts: Arc::new(MemoryHosts::new()),
        }
    }

    /// Runs every job queued on either lane, each by its lane's worker, as
    /// the two workers would, and then the jobs moved to the failing lane
    /// meanwhile; what each came to. A job either queues for later stays
    /// queued.
    pub async fn run_queues(&self) -> Vec<Tried> {
        let (healthy, failing) = (self.queue.take(), self.failing_queue.take());
        let mut tried = Vec::new();
        for job in healthy {
            let outcome = self.deliverer.try_job(&job).await.unwrap();
            if outcome == Tried::Diverted {
                let mut queued = self.failing_queue.take();
                let moved = queued.pop().expect("the job moved");
                for earlier in queued {
                    self.failing_queue.enqueue(&earlier).await.unwrap();
                }
                tried.push(self.failing_deliverer.try_job(&moved).await.unwrap());
            }
            tried.push(outcome);
        }
        for job in failing {
            tried.push(self.failing_deliverer.try_job(&job).await.unwrap());
        }
        tried
    }

    /// The management service over this stack, for webhooks on loopback.
    pub fn webhooks(&self) -> Webhooks {
        Webhooks {
            dispatcher: self.dispatcher.clone(),
            cipher: self.cipher.clone(),
            policy: LOOPBACK,
            hosts: self.hosts.clone(),
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

/// Webhooks on a [`MemoryStack`]: made to receivers on loopback, fed by
/// the store's log of committed changes, delivered by the worker over the
/// stack's own store, cipher and queue.
pub struct StackHooks<'a> {
    stack: &'a MemoryStack,
    feed: EventFeed,
    healthy: WebhookDeliverer,
    failing: WebhookDeliverer,
    failing_queue: Arc<MemoryQueue<WebhookJob>>,
}

impl MemoryStack {
    pub fn hooks(&self) -> StackHooks<'_> {
        let dispatcher = EventDispatcher {
            webhooks: self.store.clone(),
            deliveries: self.store.clone(),
            queue: self.webhook_jobs.clone(),
            clock: Arc::new(shared::ports::SystemClock),
        };
        let failing_queue = Arc::new(MemoryQueue::new());
        let lane = |lane| WebhookDeliverer {
            dispatcher: dispatcher.clone(),
            sender: Arc::new(HttpWebhookSender::confined_to_loopback(
                Duration::from_secs(2),
            )),
            cipher: self.cipher.clone(),
            schedule: RetrySchedule::default(),
            failing_queue: failing_queue.clone(),
            lane,
            opened: Default::default(),
        };
        StackHooks {
            stack: self,
            feed: EventFeed {
                dispatcher: dispatcher.clone(),
                events_of: shared::http::events::events_of,
            },
            healthy: lane(Lane::Healthy),
            failing: lane(Lane::Failing),
            failing_queue,
        }
    }
}

impl StackHooks<'_> {
    /// A webhook of the fixture's workspace to `url` (on loopback), made
    /// by its owner; its id and secret.
    pub async fn webhook_to(
        &self,
        f: &crate::api::Fixture,
        url: &str,
        events: &[&str],
    ) -> (WebhookId, WebhookSecret) {
        let service = Webhooks {
            dispatcher: self.feed.dispatcher.clone(),
            cipher: self.stack.cipher.clone(),
            policy: LOOPBACK,
            hosts: self.stack.hosts.clone(),
        };
        let owner = Actor {
            user_id: UserId::parse(f.user("owner")).unwrap(),
            role: Role::Owner,
        };
        let ws = WorkspaceId::parse(f.ws()).unwrap();
        let (webhook, secret) = service
            .create(&ws, &owner, json!({"url": url, "events": events}))
            .await
            .unwrap();
        (webhook.id, secret)
    }

    /// Reads the changes committed since the last read and dispatches
    /// their events, as the feed's function does; the deliveries made.
    pub async fn publish(&self) -> usize {
        let mut made = 0;
        for change in self.stack.store.take_changes() {
            made += self.feed.publish(&change).await.unwrap();
        }
        made
    }

    /// Dispatches one change's events, as the feed's function does for
    /// each record it reads; the deliveries made.
    pub async fn feed_publish(&self, change: &shared::domain::webhook::change::Change) -> usize {
        self.feed.publish(change).await.unwrap()
    }

    /// Forgets what was committed so far: the fixture's own changes,
    /// before the webhooks a test makes.
    pub fn skip_changes(&self) {
        self.stack.store.take_changes();
    }

    /// Runs every queued delivery job on its lane, and then the jobs that
    /// moved lanes meanwhile; what each came to. A job not yet due is
    /// queued again for the next call.
    pub async fn deliver(&self) -> Vec<Tried> {
        let mut tried = Vec::new();
        // The healthy lane, the jobs it moved, and nothing more: a job
        // moves at most once.
        for _ in 0..2 {
            let (healthy, failing) = (self.stack.webhook_jobs.take(), self.failing_queue.take());
            let mut round = Vec::new();
            for job in healthy {
                round.push(self.healthy.try_job(&job).await.unwrap());
            }
            for job in failing {
                round.push(self.failing.try_job(&job).await.unwrap());
            }
            let moved = round.contains(&Tried::Diverted);
            tried.extend(round);
            if !moved {
                break;
            }
        }
        tried
    }
}
