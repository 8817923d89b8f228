//! The harness on the local AWS server: a fresh table, queues and bucket of
//! its own for each test, the provider emulators on loopback, and a counter
//! of DynamoDB round trips.

use crate::api::{Api, Fixture};
use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::{
    self, Emulators, LOCAL_DIMENSIONS, Latency, local_retriever, local_sms_backends,
    serve_on_loopback,
};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::{Seed, seed_demo};
use shared::adapters::providers::embeddings::OpenAiEmbedder;
use shared::adapters::providers::pinecone::PineconeIndex;
use shared::adapters::round_trips::RoundTripCounter;
use shared::http::{Backends, all_routes_router};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::jobs::MessageOutcome;
use shared::rag::Retriever;
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
        let aws = shared::config::load_aws(&shared::adapters::outbound_http::client()).await;
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
        let base = serve_on_loopback(emulators::router(Emulators {
            embeddings: EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
            pinecone: pinecone.clone(),
            twilio: twilio.clone(),
            ..Emulators::local(Latency::default())
        }))
        .await;
        let retriever = Arc::new(local_retriever(&base));
        let ingestor = Ingestor {
            store: local.store.clone(),
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
            emulator_base: base,
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
        let mut handled = 0;
        loop {
            let received = self
                .local
                .sqs
                .receive_message()
                .queue_url(&self.local.ingest_queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("the ingest queue answers");
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return handled;
            }
            for message in messages {
                let outcome = self
                    .ingestor
                    .handle_message(
                        message.message_id().unwrap_or_default(),
                        message.body().unwrap_or_default(),
                        1,
                    )
                    .await;
                assert_ne!(outcome, MessageOutcome::Retry, "ingest asked for a retry");
                self.local
                    .sqs
                    .delete_message()
                    .queue_url(&self.local.ingest_queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("the message is deleted");
                handled += 1;
            }
        }
    }
}
