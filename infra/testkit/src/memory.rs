//! The harness in memory: every store port, the file store and the queues
//! in this process, so route and worker tests need no local server and can
//! make any dependency fail on purpose. The provider emulators still speak
//! HTTP on loopback, so the production adapters are what searches.

use crate::api::{Api, Fixture};
use crate::sms::{RigParts, SmsRig};
use devtools::emulators::chat::ChatEmulator;
use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::outages::Outages;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::twilio::TwilioEmulator;
use devtools::emulators::{
    self, Emulators, LOCAL_DIMENSIONS, Latency, local_retriever, local_sms_backends,
    serve_on_loopback,
};
use devtools::seed::{Seed, seed_demo};
use shared::adapters::memory::{MemoryBlobs, MemoryCipher, MemoryHosts, MemoryQueue, MemoryStore};
use shared::adapters::providers::embeddings::OpenAiEmbedder;
use shared::adapters::providers::pinecone::PineconeIndex;
use shared::adapters::retriever::Retriever;
use shared::app::authentication::Authenticator;
use shared::domain::widget_token::WidgetTokens;
use shared::http::{Backends, all_routes_router};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::jobs::{CleanupJob, IngestJob, Job, MessageOutcome, ReplyJob, WebhookJob};
use shared::ports::PassageSearch;
use std::sync::Arc;

#[derive(Clone)]
pub struct MemoryStack {
    pub api: Api,
    pub store: Arc<MemoryStore>,
    pub blobs: Arc<MemoryBlobs>,
    pub cleanup: Arc<MemoryQueue<CleanupJob>>,
    pub ingest: Arc<MemoryQueue<IngestJob>>,
    pub backends: Backends,
    pub retriever: Arc<Retriever>,
    pub ingestor: Arc<Ingestor<OpenAiEmbedder, PineconeIndex>>,
    pub pinecone: PineconeEmulator,
    /// Failures to queue for the embeddings API and the index.
    pub outages: Outages,
    pub cipher: Arc<MemoryCipher>,
    pub replies: Arc<MemoryQueue<ReplyJob>>,
    pub sms: SmsRig,
    /// Webhook deliveries queued by the API, and host names as a test
    /// points them.
    pub webhook_jobs: Arc<MemoryQueue<WebhookJob>>,
    pub hosts: Arc<MemoryHosts>,
}

impl std::ops::Deref for MemoryStack {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl MemoryStack {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A stack whose search route uses `search` (say, one that fails)
    /// rather than the emulators.
    pub async fn with_search(search: Arc<dyn PassageSearch>) -> Self {
        Self::start_with(Some(search)).await
    }

    /// A stack whose webhook answers a texter's texts within `window` of
    /// each other together (every other stack answers each alone).
    pub async fn with_burst_window(window: std::time::Duration) -> Self {
        Self::start_configured(None, window).await
    }

    async fn start_with(search: Option<Arc<dyn PassageSearch>>) -> Self {
        Self::start_configured(search, std::time::Duration::ZERO).await
    }

    async fn start_configured(
        search: Option<Arc<dyn PassageSearch>>,
        burst_window: std::time::Duration,
    ) -> Self {
        let pinecone = PineconeEmulator::new(LOCAL_DIMENSIONS, Latency::default());
        let clock = Arc::new(shared::ports::ShiftedClock::new());
        let twilio = TwilioEmulator::with_demo_account().with_clock(clock.clone());
        let chat = ChatEmulator::new(Latency::default());
        let outages = Outages::default();
        let base = serve_on_loopback(emulators::router(Emulators {
            embeddings: EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
            pinecone: pinecone.clone(),
            chat: chat.clone(),
            twilio: twilio.clone(),
            outages: outages.clone(),
        }))
        .await;
        let retriever = Arc::new(local_retriever(&base));
        let search = search.unwrap_or_else(|| retriever.clone());
        let store = Arc::new(MemoryStore::new());
        let blobs = Arc::new(MemoryBlobs::new());
        let cleanup = Arc::new(MemoryQueue::new());
        let ingest = Arc::new(MemoryQueue::new());
        let cipher = Arc::new(MemoryCipher::new());
        let replies = Arc::new(MemoryQueue::new());
        let sms = SmsRig::start(
            &base,
            RigParts {
                twilio,
                chat,
                store: store.clone(),
                cipher: cipher.clone(),
                replies: replies.clone(),
                search: search.clone(),
                clock,
                burst_window,
            },
        )
        .await;
        let webhook_jobs = Arc::new(MemoryQueue::new());
        let hosts = Arc::new(MemoryHosts::new());
        let backends = Backends {
            store: store.clone(),
            blobs: blobs.clone(),
            cleanup: cleanup.clone(),
            ingest: ingest.clone(),
            search,
            chat: Arc::new(devtools::emulators::local_chat(&base)),
            auth: Arc::new(Authenticator::new(store.clone())),
            sms: shared::http::SmsBackends {
                clock: sms.clock.clone(),
                ..local_sms_backends(&base, cipher.clone(), &sms.webhook_url)
            },
            widget_tokens: Arc::new(WidgetTokens::with_random_key()),
            webhooks: shared::http::WebhookBackends {
                queue: webhook_jobs.clone(),
                policy: Default::default(),
                hosts: hosts.clone(),
            },
        };
        let ingestor = Ingestor {
            store: store.clone(),
            usage: store.clone(),
            projects: store.clone(),
            blobs: blobs.clone(),
            embedder: retriever.embedder.clone(),
            index: retriever.index.clone(),
            concurrency: DEFAULT_CONCURRENCY,
        };
        Self {
            api: Api::new(all_routes_router(&backends)),
            store,
            blobs,
            cleanup,
            ingest,
            backends,
            retriever,
            ingestor: Arc::new(ingestor),
            pinecone,
            outages,
            cipher,
            replies,
            sms,
            webhook_jobs,
            hosts,
        }
    }

    /// The fixture, with its private assistant (connected to the project,
    /// whose FAQ is indexed) answering SMS on the emulator's demo number.
    /// Answers the fixture and that assistant's id.
    pub async fn sms_fixture(&self) -> (Fixture, String) {
        let fixture = self.fixture().await;
        self.run_ingest().await;
        self.set_up_sms(&fixture, &fixture.private_assistant).await;
        let assistant = fixture.private_assistant.clone();
        (fixture, assistant)
    }

    /// Runs the reply worker over every reply job queued so far.
    pub async fn run_replies(&self) -> Vec<MessageOutcome> {
        self.sms.run(self.replies.take()).await
    }

    /// The same backends behind another container's router: a key cache
    /// of its own.
    pub fn another_container(&self) -> Self {
        let backends = Backends {
            auth: Arc::new(Authenticator::new(self.store.clone())),
            ..self.backends.clone()
        };
        Self {
            api: Api::new(all_routes_router(&backends)),
            backends,
            ..self.clone()
        }
    }

    pub async fn seed(&self) -> Seed {
        seed_demo(self.store.as_ref(), "http://test")
            .await
            .expect("the demo seed is written")
    }

    /// The owner's key is cached and the membership read let through, so
    /// the next fault lands on the operation itself.
    pub async fn aim_past_the_membership(&self, fixture: &Fixture) {
        self.call(
            axum::http::Method::GET,
            "/api/workspaces",
            Some(fixture.key("owner")),
            None,
        )
        .await;
        self.store.faults().pass_next(1);
    }

    pub async fn fixture(&self) -> Fixture {
        let number = crate::sms::fresh_number_on(&self.sms.twilio);
        self.api.fixture_for(self.seed().await, &number).await
    }

    /// What the API shows of the fixture (see [`Api::snapshot`]), and what
    /// it cannot: every stored file, every queued job, every vector.
    pub async fn snapshot(&self, fixture: &Fixture) -> serde_json::Value {
        let namespaces = [&fixture.project, &fixture.spare_project];
        serde_json::json!({
            "api": self.api.snapshot(fixture).await,
            "files": self.blobs.keys(),
            "cleanupJobs": self.cleanup.sent().iter().map(Job::to_message).collect::<Vec<_>>(),
            "ingestJobs": self.ingest.sent().iter().map(Job::to_message).collect::<Vec<_>>(),
            "vectors": namespaces.map(|ns| self.pinecone.metadata(ns).into_keys().collect::<Vec<_>>()),
        })
    }

    /// Runs the ingest worker over every job queued so far, as the event
    /// source mapping would; returns how many it took.
    pub async fn run_ingest(&self) -> usize {
        let jobs = self.ingest.take();
        for (i, job) in jobs.iter().enumerate() {
            let outcome = self
                .ingestor
                .handle_message(&format!("m{i}"), &job.to_message(), 1)
                .await;
            assert_ne!(outcome, MessageOutcome::Retry, "ingest asked for a retry");
        }
        jobs.len()
    }

    /// Runs the cleanup worker over every job queued so far.
    pub async fn run_cleanup(&self) -> usize {
        let jobs = self.cleanup.take();
        for (i, job) in jobs.iter().enumerate() {
            let outcome = shared::app::cleanup::handle_message(
                self.store.as_ref(),
                &format!("m{i}"),
                &job.to_message(),
            )
            .await;
            assert_eq!(outcome, MessageOutcome::Done, "cleanup of {job:?}");
        }
        jobs.len()
    }
}
