//! The harness on the local AWS server: a fresh table, queues and bucket of
//! its own for each test, the provider emulators on loopback, and a counter
//! of DynamoDB round trips.

use crate::api::{Api, Fixture};
use crate::sms::{RigParts, SmsRig};
use devtools::emulators::chat::ChatEmulator;
use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::{
    self, Emulators, LOCAL_DIMENSIONS, Latency, local_retriever, local_sms_backends,
    serve_on_loopback,
};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::{Seed, seed_demo};
use shared::adapters::memory::MemoryQueue;
use shared::adapters::providers::embeddings::OpenAiEmbedder;
use shared::adapters::providers::pinecone::PineconeIndex;
use shared::adapters::retriever::Retriever;
use shared::adapters::round_trips::RoundTripCounter;
use shared::http::{Backends, all_routes_router};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::jobs::{MessageOutcome, ReplyJob};
use shared::ports::ShiftedClock;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct TestStack {
    pub api: Api,
    pub local: LocalStack,
    pub backends: Backends,
    pub round_trips: RoundTripCounter,
    pub retriever: Arc<Retriever>,
    pub ingestor: Arc<Ingestor<OpenAiEmbedder, PineconeIndex>>,
    pub pinecone: PineconeEmulator,
    pub twilio: devtools::emulators::twilio::TwilioEmulator,
    pub chat: ChatEmulator,
    /// Where the provider emulators are served.
    pub emulator_base: String,
}

impl std::ops::Deref for TestStack {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestStack {
    /// Provisions a table and queues of its own on the local server that
    /// `./infra/test` started.
    pub async fn start() -> Self {
        if let Err(problem) = require_loopback_endpoint() {
            panic!("{problem}");
        }
        let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
        let round_trips = RoundTripCounter::default();
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&aws)
                .interceptor(round_trips.clone())
                .build(),
        );
        let mut local = LocalStack::provision(aws, dynamo, &ResourceNames::unique("test"))
            .await
            .expect("the local stack accepts the resources");
        // Tests read the queues as soon as a route returns.
        local.longest_queue_delay = Duration::ZERO;
        let pinecone = PineconeEmulator::new(LOCAL_DIMENSIONS, Latency::default());
        let twilio = devtools::emulators::twilio::TwilioEmulator::with_demo_account();
        let chat_emulator = ChatEmulator::new(Latency::default());
        let base = serve_on_loopback(emulators::router(Emulators {
            embeddings: EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
            pinecone: pinecone.clone(),
            twilio: twilio.clone(),
            chat: chat_emulator.clone(),
            ..Emulators::local(Latency::default())
        }))
        .await;
        let retriever = Arc::new(local_retriever(&base));
        let ingestor = Ingestor {
            store: local.store.clone(),
            usage: local.store.clone(),
            projects: local.store.clone(),
            blobs: local.blobs.clone(),
            embedder: retriever.embedder.clone(),
            index: retriever.index.clone(),
            concurrency: DEFAULT_CONCURRENCY,
        };
        let sms = local_sms_backends(&base, local.cipher.clone(), "http://webhook.test");
        let chat = Arc::new(devtools::emulators::local_chat(&base));
        let backends = local.backends(retriever.clone(), chat, sms);
        Self {
            api: Api::new(all_routes_router(&backends)),
            local,
            backends,
            round_trips,
            retriever,
            ingestor: Arc::new(ingestor),
            pinecone,
            twilio,
            chat: chat_emulator,
            emulator_base: base,
        }
    }

    /// The SMS webhook on loopback and the reply worker, on this stack's
    /// table and keys; the reply jobs wait on a queue in memory, for
    /// [`SmsRig::run`].
    pub async fn sms_rig(&self) -> (SmsRig, Arc<MemoryQueue<ReplyJob>>) {
        let replies = Arc::new(MemoryQueue::new());
        let rig = SmsRig::start(
            &self.emulator_base,
            RigParts {
                twilio: self.twilio.clone(),
                chat: self.chat.clone(),
                store: self.local.store.clone(),
                cipher: self.local.cipher.clone(),
                replies: replies.clone(),
                search: self.retriever.clone(),
                clock: Arc::new(ShiftedClock::new()),
                burst_window: Duration::ZERO,
            },
        )
        .await;
        (rig, replies)
    }

    /// Runs the cleanup worker over every message waiting in the cleanup
    /// queue, as the event source mapping would; returns how many it took.
    pub async fn run_cleanup(&self) -> usize {
        self.drain(&self.local.cleanup_queue_url, |id, body| async move {
            let outcome =
                shared::app::cleanup::handle_message(self.local.store.as_ref(), &id, &body).await;
            assert_eq!(outcome, MessageOutcome::Done, "a cleanup job failed");
        })
        .await
    }

    /// Hands every message waiting in the queue at `url` to `handle` (its
    /// id and body), deleting each after; returns how many there were.
    async fn drain<F, Fut>(&self, url: &str, handle: F) -> usize
    where
        F: Fn(String, String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut handled = 0;
        loop {
            let received = self
                .local
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("the queue answers");
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return handled;
            }
            for message in messages {
                handle(
                    message.message_id().unwrap_or_default().to_owned(),
                    message.body().unwrap_or_default().to_owned(),
                )
                .await;
                self.local
                    .sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("the message is deleted");
                handled += 1;
            }
        }
    }

    /// Every item of the stack's table, as text: what a test of erasure
    /// reads.
    pub async fn raw_table(&self) -> String {
        let client = aws_sdk_dynamodb::Client::new(&self.local.aws);
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(&self.local.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("the table scans");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return format!("{items:?}");
            }
        }
    }

    /// The same stack with other backends behind the routes (say, a store
    /// that cannot be reached).
    pub fn with_backends(&self, backends: Backends) -> Self {
        Self {
            api: Api::new(all_routes_router(&backends)),
            backends,
            ..self.clone()
        }
    }

    pub async fn seed(&self) -> Seed {
        seed_demo(self.local.store.as_ref(), "http://test")
            .await
            .expect("the demo seed is written")
    }

    pub async fn fixture(&self) -> Fixture {
        let number = crate::sms::fresh_number_on(&self.twilio);
        self.api.fixture_for(self.seed().await, &number).await
    }

    /// Runs the ingest worker over every message waiting in the ingest
    /// queue, as the event source mapping would; returns how many it took.
    pub async fn run_ingest(&self) -> usize {
        self.drain(&self.local.ingest_queue_url, |id, body| async move {
            let outcome = self.ingestor.handle_message(&id, &body, 1).await;
            assert_ne!(outcome, MessageOutcome::Retry, "ingest asked for a retry");
        })
        .await
    }
}
