//! The SMS channel under load, on the local stack: how fast the webhook
//! acknowledges 200 texts arriving at once (signature, one conditional
//! transaction, one SQS send each), and what one reply's critical path costs,
//! as a count of external calls and their time, against the four it cannot
//! do without (one embed, one query, one model call, one send).
//!
//! Run with `./infra/bench` (starts the local server, builds optimised).

use devtools::emulators::twilio::signed_webhook_request;
use devtools::emulators::{
    Emulators, Latency, local_chat, local_retriever, local_twilio, serve_on_loopback,
};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::seed_demo;
use secrecy::SecretString;
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::round_trips::RoundTripCounter;
use shared::adapters::sqs::SqsQueue;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::app::sms_config;
use shared::app::sms_webhook::SmsWebhook;
use shared::domain::assistant::AssistantChanges;
use shared::domain::project::ProjectChanges;
use shared::domain::sms::{Credentials, PhoneNumber};
use shared::http::{WebhookState, sms_webhook_router};
use shared::jobs::MessageOutcome;
use shared::ports::{
    AssistantStore, ChatAnswer, ChatModel, ChatRequest, CipherError, ConnectionStore, Embedder,
    GatewayError, NumberCheck, OutboundSms, ProjectStore, ProviderError, SecretCipher,
    SecretContext, SentSms, SmsGateway, VectorIndex, VectorMatch, VectorRecord, WorkspaceStore,
};
use shared::rag::RetrieverOf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TEXTS: usize = 200;
const PROVIDER_LATENCY: Duration = Duration::from_millis(50);
const WARMUP: usize = 20;
const ACCOUNT: &str = devtools::emulators::twilio::DEMO_ACCOUNT_SID;
const TOKEN: &str = devtools::emulators::twilio::DEMO_AUTH_TOKEN;
const NUMBER: &str = devtools::emulators::twilio::DEMO_NUMBER;

/// Every external call of the reply path, by kind: how many, how long.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<(&'static str, Duration)>>>);

impl Calls {
    async fn time<T>(&self, kind: &'static str, call: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = call.await;
        self.0.lock().unwrap().push((kind, started.elapsed()));
        out
    }

    fn of(&self, kind: &str) -> (usize, Duration) {
        let calls = self.0.lock().unwrap();
        let matching: Vec<_> = calls.iter().filter(|(k, _)| *k == kind).collect();
        (matching.len(), matching.iter().map(|(_, d)| *d).sum())
    }
}

struct Timed<T> {
    inner: T,
    calls: Calls,
}

impl<E: Embedder> Embedder for Timed<E> {
    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        self.calls
            .time("embeddings", self.inner.embed(inputs))
            .await
    }
}

impl<V: VectorIndex> VectorIndex for Timed<V> {
    async fn upsert(&self, ns: &str, records: &[VectorRecord]) -> Result<(), ProviderError> {
        self.inner.upsert(ns, records).await
    }
    async fn query(
        &self,
        ns: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<serde_json::Value>,
    ) -> Result<Vec<VectorMatch>, ProviderError> {
        self.calls
            .time("vector query", self.inner.query(ns, vector, top_k, filter))
            .await
    }
    async fn delete_ids(&self, ns: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.inner.delete_ids(ns, ids).await
    }
    async fn delete_matching(
        &self,
        ns: &str,
        filter: serde_json::Value,
    ) -> Result<(), ProviderError> {
        self.inner.delete_matching(ns, filter).await
    }
    async fn delete_namespace(&self, ns: &str) -> Result<(), ProviderError> {
        self.inner.delete_namespace(ns).await
    }
}

#[async_trait::async_trait]
impl<C: ChatModel> ChatModel for Timed<C> {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        self.calls
            .time("chat model", self.inner.complete(request))
            .await
    }
}

#[async_trait::async_trait]
impl<G: SmsGateway> SmsGateway for Timed<G> {
    async fn check_number(
        &self,
        credentials: &Credentials,
        number: &PhoneNumber,
    ) -> Result<NumberCheck, GatewayError> {
        self.inner.check_number(credentials, number).await
    }
    async fn send(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
    ) -> Result<SentSms, GatewayError> {
        self.calls
            .time("Twilio send", self.inner.send(credentials, message))
            .await
    }
    async fn find_sent(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
        since: shared::domain::time::Timestamp,
    ) -> Result<Vec<SentSms>, GatewayError> {
        self.calls
            .time(
                "Twilio list",
                self.inner.find_sent(credentials, message, since),
            )
            .await
    }
}

#[async_trait::async_trait]
impl<K: SecretCipher> SecretCipher for Timed<K> {
    async fn seal(
        &self,
        plaintext: &SecretString,
        context: &SecretContext,
    ) -> Result<Vec<u8>, CipherError> {
        self.inner.seal(plaintext, context).await
    }
    async fn open(
        &self,
        sealed: &[u8],
        context: &SecretContext,
    ) -> Result<SecretString, CipherError> {
        self.calls
            .time("KMS decrypt", self.inner.open(sealed, context))
            .await
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn inbound(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    devtools::emulators::twilio::inbound_params(sid, ACCOUNT, from, NUMBER, body)
}

fn sid(n: usize) -> String {
    format!("SM{n:032x}")
}

/// One signed text to `url`, which must be acknowledged.
async fn text_once(url: &str, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let params = inbound(
        &sid(n),
        &format!("+1666{:07}", n % 10_000_000),
        "How long do refunds take?",
    );
    let token = SecretString::from(TOKEN.to_owned());
    let response = signed_webhook_request(&devtools::http_client(), url, &token, &params)
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("the webhook answered {}", response.status()).into());
    }
    Ok(())
}

/// Posts 200 signed texts to `url` at once (after a warm-up) and prints
/// how fast each was acknowledged.
async fn flood(label: &str, url: &str, base: usize) -> Result<(), Box<dyn std::error::Error>> {
    let token = SecretString::from(TOKEN.to_owned());
    let url = url.to_owned();
    let http = devtools::http_client_builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let post = |n: usize| {
        let http = http.clone();
        let url = url.clone();
        let params = inbound(
            &sid(n),
            &format!("+1555{:07}", n),
            "When does the shop open?",
        );
        let request = signed_webhook_request(&http, &url, &token, &params);
        async move {
            let started = Instant::now();
            let response = request.send().await;
            let ok = match response {
                Ok(r) => {
                    r.status().is_success()
                        && r.text().await.is_ok_and(|t| t == "<Response></Response>")
                }
                Err(_) => false,
            };
            (ok, started.elapsed())
        }
    };
    // One at a time first: the warm-up, and what a text costs alone.
    let mut alone = Vec::new();
    for n in 0..WARMUP {
        alone.push(post(base + 1_000_000 + n).await.1);
    }
    alone.sort();
    let started = Instant::now();
    let results = futures_util::future::join_all((0..TEXTS).map(|n| post(base + n))).await;
    let wall = started.elapsed();
    let acknowledged = results.iter().filter(|(ok, _)| *ok).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!("{label:<20} alone: median {}", ms(alone[alone.len() / 2]));
    println!(
        "{label:<20} {TEXTS} at once: acknowledged {acknowledged}/{TEXTS}  p50 {}  p99 {}  slowest {}  {:.0} texts/s",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0)),
        TEXTS as f64 / wall.as_secs_f64()
    );
    Ok(())
}

/// The same webhook on the in-memory store, cipher and queue: what the
/// code itself costs, without the local AWS server.
async fn flood_in_memory() -> Result<(), Box<dyn std::error::Error>> {
    use shared::adapters::memory::{MemoryCipher, MemoryQueue, MemoryStore};
    let store = Arc::new(MemoryStore::new());
    let cipher = Arc::new(MemoryCipher::new());
    let owner = store
        .create_user(
            shared::domain::member::Email::parse("bench@sms.local").ok_or("email")?,
            "Bench".into(),
        )
        .await?;
    let new =
        shared::domain::workspace::NewWorkspace::from_json(serde_json::json!({"name": "Bench"}))
            .map_err(|e| format!("{e:?}"))?;
    let ws = store.create_workspace(new, &owner).await?;
    let assistant = store
        .create_assistant(
            &ws.id,
            AssistantChanges {
                name: Some("SMS bench".into()),
                ..AssistantChanges::default()
            }
            .into_new_config(&ws.models),
            &owner.id,
        )
        .await?;
    let emulators = serve_on_loopback(devtools::emulators::router(Emulators::local(
        Latency::default(),
    )))
    .await;
    sms_config::save(
        store.as_ref(),
        cipher.as_ref(),
        &local_twilio(&emulators),
        &ws.id,
        &assistant.id,
        devtools::emulators::twilio::demo_sms_settings(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = sms_webhook_router(WebhookState {
        webhook: Arc::new(SmsWebhook::new(
            store,
            cipher,
            Arc::new(MemoryQueue::<shared::jobs::ReplyJob>::new()),
        )),
        public_base_url: Some(url.clone()),
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    flood(
        "in-memory store",
        &format!("{url}/api/sms/webhook/{}", assistant.id),
        0,
    )
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let aws = shared::config::load_aws(&shared::adapters::outbound_http::client()).await;
    // The worker's own client, counted apart from the webhook's (which also
    // hears the emulator's delivery callbacks).
    let round_trips = RoundTripCounter::default();
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(round_trips.clone())
            .build(),
    );
    let local = LocalStack::provision(
        aws.clone(),
        aws_sdk_dynamodb::Client::new(&aws),
        &ResourceNames::unique("bench-sms"),
    )
    .await?;
    let store = local.store.clone();
    let seed = seed_demo(store.as_ref(), "http://bench").await?;
    let owner = store
        .get_user(&shared::domain::ids::UserId::parse(&seed.users["owner"]).ok_or("owner")?)
        .await?
        .ok_or("owner")?;
    let ws = seed.workspace_id.clone();
    let workspace = store
        .workspace_context(&ws, &owner.id)
        .await?
        .ok_or("workspace")?
        .workspace;
    let assistant = store
        .create_assistant(
            &ws,
            AssistantChanges {
                name: Some("SMS bench".into()),
                ..AssistantChanges::default()
            }
            .into_new_config(&workspace.models),
            &owner.id,
        )
        .await?;
    let project = store
        .create_project(
            &ws,
            ProjectChanges {
                name: Some("FAQ".into()),
                ..ProjectChanges::default()
            },
            &owner.id,
        )
        .await?;
    store.connect(&ws, &assistant.id, &project.id).await?;
    // Each provider answers after 50 ms, so the reply's critical path has
    // something real to be measured against.
    let emulators = serve_on_loopback(devtools::emulators::router(Emulators::local(Latency(
        PROVIDER_LATENCY,
    ))))
    .await;
    let settings = devtools::emulators::twilio::demo_sms_settings();
    sms_config::save(
        store.as_ref(),
        local.cipher.as_ref(),
        &local_twilio(&emulators),
        &ws,
        &assistant.id,
        settings,
    )
    .await
    .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let webhook_url = format!("http://{}", listener.local_addr()?);
    let webhook = SmsWebhook::new(
        store.clone(),
        local.cipher.clone(),
        Arc::new(SqsQueue::new(local.sqs.clone(), &local.reply_queue_url)),
    );
    let router = sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: Some(webhook_url.clone()),
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    // Two texts for the reply worker: one to warm it, one to measure.
    let url = format!("{webhook_url}/api/sms/webhook/{}", assistant.id);
    for n in [1, 2] {
        text_once(&url, 5_000_000 + n).await?;
    }
    // One reply, warm: the worker's every external call, timed.
    let calls = Calls::default();
    let retriever = local_retriever(&emulators);
    let search = Arc::new(RetrieverOf {
        embedder: Timed {
            inner: retriever.embedder,
            calls: calls.clone(),
        },
        index: Timed {
            inner: retriever.index,
            calls: calls.clone(),
        },
        min_score: retriever.min_score,
    });
    let worker = ReplyWorker {
        store: Arc::new(DynamoStore::new(dynamo, &local.table)),
        search,
        chat: Arc::new(Timed {
            inner: local_chat(&emulators),
            calls: calls.clone(),
        }),
        gateway: Arc::new(Timed {
            inner: local_twilio(&emulators),
            calls: calls.clone(),
        }),
        cipher: Arc::new(Timed {
            inner: (*local.cipher).clone(),
            calls: calls.clone(),
        }),
        public_base_url: webhook_url.clone(),
        retry: SendRetry::default(),
        burst_window: Duration::ZERO,
        clock: Arc::new(shared::ports::SystemClock),
    };
    let job = |n: usize| {
        format!(
            r#"{{"workspaceId":"{ws}","assistantId":"{}","messageSid":"{}"}}"#,
            assistant.id,
            sid(5_000_000 + n)
        )
    };
    // Warm the clients' connections on another text first.
    assert_eq!(
        worker.handle_message("warm", &job(1)).await,
        MessageOutcome::Done
    );
    calls.0.lock().unwrap().clear();
    round_trips.reset();
    let started = Instant::now();
    let outcome = worker.handle_message("bench", &job(2)).await;
    let total = started.elapsed();
    assert_eq!(outcome, MessageOutcome::Done);
    let kinds = [
        "embeddings",
        "vector query",
        "chat model",
        "Twilio send",
        "KMS decrypt",
    ];
    let mut count = 0;
    println!(
        "Reply critical path: one text, warm worker, embeddings, index and model answering after {} ms",
        PROVIDER_LATENCY.as_millis()
    );
    println!("{:<22}{:>6}{:>12}", "external call", "count", "time");
    for kind in kinds {
        let (n, d) = calls.of(kind);
        count += n;
        println!("{kind:<22}{n:>6}{:>12}", ms(d));
    }
    let dynamo_calls = round_trips.count();
    println!("{:<22}{dynamo_calls:>6}", "DynamoDB");
    let essential: Duration = ["embeddings", "vector query", "chat model", "Twilio send"]
        .iter()
        .map(|k| calls.of(k).1)
        .sum();
    // KMS opens the token while the answer is composed, so it is off the
    // critical path; what is left is DynamoDB's waits and the worker itself.
    println!(
        "rest of the worker's time (DynamoDB's waits, the worker's own work): {}",
        ms(total.saturating_sub(essential))
    );
    println!(
        "external calls {}: the 4 essential ones take {} of the worker's {} ({:.2}x)",
        count + dynamo_calls,
        ms(essential),
        ms(total),
        total.as_secs_f64() / essential.as_secs_f64()
    );
    println!("\nSMS webhook: {TEXTS} signed texts at once, each from its own number");
    flood("local stack (moto)", &url, 0).await?;
    flood_in_memory().await?;
    Ok(())
}
