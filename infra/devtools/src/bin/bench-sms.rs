//! The SMS channel under real traffic, on the local stack: what one
//! reply's critical path costs (its external calls against the four it
//! cannot do without: one embed, one query, one model call, one send); how
//! fast the webhook acknowledges 1,000 texts from 1,000 texters, 50 at a
//! time, and whether any two of their transactions named one item (on
//! DynamoDB they would contend); a day of 12,000 texters through the real
//! webhook with analytics read back exact; and a burst of five texts from
//! one texter answered with one model call and one reply.
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
use shared::adapters::retriever::RetrieverOf;
use shared::adapters::round_trips::RoundTripCounter;
use shared::adapters::sqs::SqsQueue;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::app::sms_config;
use shared::app::sms_webhook::SmsWebhook;
use shared::domain::assistant::AssistantChanges;
use shared::domain::project::ProjectChanges;
use shared::domain::sms::{ContactKeys, Credentials, PhoneNumber};
use shared::http::{WebhookState, sms_webhook_router};
use shared::jobs::MessageOutcome;
use shared::ports::{
    AssistantStore, ChatAnswer, ChatModel, ChatRequest, CipherError, ConnectionStore, Embedded,
    Embedder, GatewayError, NumberCheck, OutboundSms, ProjectStore, ProviderError, SecretCipher,
    SecretContext, SentSms, SmsGateway, VectorIndex, VectorMatch, VectorRecord, WorkspaceStore,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TEXTS: usize = 1_000;
const CONCURRENT: usize = 50;
const DAY_OF_TEXTERS: usize = 12_000;
const BURST: usize = 5;
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
    async fn embed_counted(&self, inputs: &[String]) -> Result<Embedded, ProviderError> {
        self.calls
            .time("embeddings", self.inner.embed_counted(inputs))
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

/// What one run of texts came to: how fast each was acknowledged.
struct Acknowledged {
    ok: usize,
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Acknowledged {
    fn at(&self, q: f64) -> Duration {
        self.latencies[((self.latencies.len() as f64 - 1.0) * q).round() as usize]
    }

    fn print(&self, label: &str, what: &str) {
        let total = self.latencies.len();
        println!(
            "{label:<20} {what}: acknowledged {}/{total} ({} errors)  p50 {}  p99 {}  slowest {}  {:.0} texts/s",
            self.ok,
            total - self.ok,
            ms(self.at(0.5)),
            ms(self.at(0.99)),
            ms(self.at(1.0)),
            total as f64 / self.wall.as_secs_f64()
        );
    }
}

/// Posts a signed text to `url` from texter `n` for each `n` of `texters`,
/// `CONCURRENT` at a time; `body` of each.
async fn send_texts(
    url: &str,
    texters: std::ops::Range<usize>,
    body: &str,
) -> Result<Acknowledged, Box<dyn std::error::Error>> {
    use futures_util::StreamExt;
    let token = SecretString::from(TOKEN.to_owned());
    let http = devtools::http_client_builder()
        .pool_max_idle_per_host(CONCURRENT * 2)
        .build()?;
    let post = |n: usize| {
        let params = inbound(&sid(n), &texter(n), body);
        let request = signed_webhook_request(&http, url, &token, &params);
        async move {
            let started = Instant::now();
            let ok = match request.send().await {
                Ok(r) => {
                    r.status().is_success()
                        && r.text().await.is_ok_and(|t| t == "<Response></Response>")
                }
                Err(_) => false,
            };
            (ok, started.elapsed())
        }
    };
    let started = Instant::now();
    let results: Vec<(bool, Duration)> = futures_util::stream::iter(texters.map(post))
        .buffer_unordered(CONCURRENT)
        .collect()
        .await;
    let wall = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    Ok(Acknowledged {
        ok: results.iter().filter(|(ok, _)| *ok).count(),
        latencies,
        wall,
    })
}

/// The texter of text `n`: its own number.
fn texter(n: usize) -> String {
    format!("+1555{:07}", n % 10_000_000)
}

/// Items named by more than one of `transactions`.
fn shared_items(transactions: &[Vec<String>]) -> usize {
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for transaction in transactions {
        for item in transaction {
            *seen.entry(item.as_str()).or_default() += 1;
        }
    }
    seen.values().filter(|n| **n > 1).count()
}

/// The same webhook on the in-memory store, cipher and queue: what the
/// code itself costs, without the local AWS server.
async fn texts_in_memory() -> Result<(), Box<dyn std::error::Error>> {
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
    let webhook = SmsWebhook::new(
        store,
        cipher,
        Arc::new(MemoryQueue::<shared::jobs::ReplyJob>::new()),
    );
    let url = serve_webhook(webhook).await?;
    let url = format!("{url}/api/sms/webhook/{}", assistant.id);
    send_texts(&url, 0..WARMUP, "When does the shop open?").await?;
    send_texts(&url, WARMUP..WARMUP + TEXTS, "When does the shop open?")
        .await?
        .print(
            "in-memory store",
            &format!("{TEXTS} texters, {CONCURRENT} at a time"),
        );
    Ok(())
}

/// Serves `webhook` on loopback, signing for its own URL; that URL.
async fn serve_webhook(webhook: SmsWebhook) -> Result<String, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: Some(url.clone()),
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(url)
}

/// A DynamoDB store whose every request `counter` sees.
fn counted_store(
    aws: &aws_config::SdkConfig,
    table: &str,
    counter: &RoundTripCounter,
) -> Arc<DynamoStore> {
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(aws)
            .interceptor(counter.clone())
            .build(),
    );
    Arc::new(DynamoStore::new(dynamo, table).with_contact_keys(ContactKeys::random()))
}

/// Every job on the reply queue, handed to `worker` as the event source
/// mapping would, until `expected` were handled (delayed jobs included).
async fn drain_replies(
    local: &LocalStack,
    worker: &ReplyWorker,
    expected: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut handled = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while handled < expected && Instant::now() < deadline {
        let received = local
            .sqs
            .receive_message()
            .queue_url(&local.reply_queue_url)
            .max_number_of_messages((expected - handled).min(10) as i32)
            .wait_time_seconds(2)
            .send()
            .await?;
        for message in received.messages.unwrap_or_default() {
            let outcome = worker
                .handle_message(
                    message.message_id().unwrap_or_default(),
                    message.body().unwrap_or_default(),
                )
                .await;
            if outcome != MessageOutcome::Done {
                return Err(format!("a reply job ended {outcome:?}").into());
            }
            local
                .sqs
                .delete_message()
                .queue_url(&local.reply_queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await?;
            handled += 1;
        }
    }
    if handled < expected {
        return Err(format!("only {handled} of {expected} reply jobs arrived").into());
    }
    Ok(())
}

/// The next reply job's body, taken off the queue.
async fn next_reply_job(local: &LocalStack) -> Result<String, Box<dyn std::error::Error>> {
    let received = local
        .sqs
        .receive_message()
        .queue_url(&local.reply_queue_url)
        .wait_time_seconds(5)
        .send()
        .await?;
    let message = received
        .messages
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or("no reply job arrived")?;
    local
        .sqs
        .delete_message()
        .queue_url(&local.reply_queue_url)
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .send()
        .await?;
    Ok(message.body.unwrap_or_default())
}

/// A new assistant of the workspace texting from `number` (a number the
/// emulator's demo account holds), connected to `project`.
async fn sms_assistant(
    local: &LocalStack,
    gateway: &dyn SmsGateway,
    ws: &shared::domain::workspace::Workspace,
    owner: &shared::domain::ids::UserId,
    project: &shared::domain::ids::ProjectId,
    number: &str,
) -> Result<shared::domain::ids::AssistantId, Box<dyn std::error::Error>> {
    let store = &local.store;
    let assistant = store
        .create_assistant(
            &ws.id,
            AssistantChanges {
                name: Some("SMS bench".into()),
                ..AssistantChanges::default()
            }
            .into_new_config(&ws.models),
            owner,
        )
        .await?;
    store.connect(&ws.id, &assistant.id, project).await?;
    let mut settings = devtools::emulators::twilio::demo_sms_settings();
    settings.credentials.phone_number = PhoneNumber::parse(number).ok_or("a number")?;
    // A day of 12,000 texters is a campaign: no texter or day limit in the
    // way of what is measured.
    settings.limits.per_assistant_per_day = 1_000_000;
    sms_config::save(
        store.as_ref(),
        local.cipher.as_ref(),
        gateway,
        &ws.id,
        &assistant.id,
        settings,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(assistant.id)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
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
    let workspace = store
        .workspace_context(&seed.workspace_id, &owner.id)
        .await?
        .ok_or("workspace")?
        .workspace;
    let project = store
        .create_project(
            &workspace.id,
            ProjectChanges {
                name: Some("FAQ".into()),
                ..ProjectChanges::default()
            },
            &owner.id,
        )
        .await?;
    // Each provider answers after 50 ms, so the reply's critical path has
    // something real to be measured against.
    let twilio = devtools::emulators::twilio::TwilioEmulator::with_demo_account();
    let emulators = serve_on_loopback(devtools::emulators::router(Emulators {
        twilio: twilio.clone(),
        ..Emulators::local(Latency(PROVIDER_LATENCY))
    }))
    .await;
    let gateway = local_twilio(&emulators);
    let assistant =
        sms_assistant(&local, &gateway, &workspace, &owner.id, &project.id, NUMBER).await?;

    // The webhook's requests are counted apart from the worker's (which
    // also hears the emulator's delivery callbacks).
    let webhook_calls = RoundTripCounter::default();
    let replies = || Arc::new(SqsQueue::new(local.sqs.clone(), &local.reply_queue_url));
    let webhook_url = serve_webhook(
        SmsWebhook::new(
            counted_store(&aws, &local.table, &webhook_calls),
            local.cipher.clone(),
            replies(),
        )
        .with_burst_window(Duration::ZERO),
    )
    .await?;
    // The worker's every external call, timed.
    let round_trips = RoundTripCounter::default();
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
    let worker = |burst_window: Duration| ReplyWorker {
        store: counted_store(&aws, &local.table, &round_trips),
        search: search.clone(),
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
        burst_window,
        clock: Arc::new(shared::ports::SystemClock),
    };
    let alone = worker(Duration::ZERO);

    // Two texts for the reply worker: one to warm it, one to measure.
    let url = format!("{webhook_url}/api/sms/webhook/{assistant}");
    for n in [1, 2] {
        text_once(&url, 5_000_000 + n).await?;
    }
    drain_replies(&local, &alone, 1).await?;
    let job = next_reply_job(&local).await?;
    calls.0.lock().unwrap().clear();
    round_trips.reset();
    let started = Instant::now();
    let outcome = alone.handle_message("bench", &job).await;
    let total = started.elapsed();
    assert_eq!(outcome, MessageOutcome::Done);
    print_critical_path(&calls, &round_trips, total);

    println!("\nSMS webhook: {TEXTS} signed texts from {TEXTS} texters, {CONCURRENT} at a time");
    send_texts(&url, 0..WARMUP, "When does the shop open?").await?;
    webhook_calls.reset();
    send_texts(&url, WARMUP..WARMUP + TEXTS, "When does the shop open?")
        .await?
        .print(
            "local stack (moto)",
            &format!("{TEXTS} texters, {CONCURRENT} at a time"),
        );
    // Their reply jobs are not what is measured here.
    local
        .sqs
        .purge_queue()
        .queue_url(&local.reply_queue_url)
        .send()
        .await?;
    let transactions = webhook_calls.transactions();
    println!(
        "{:<20} {} transactions, items named by more than one: {}",
        "",
        transactions.len(),
        shared_items(&transactions)
    );
    texts_in_memory().await?;

    println!(
        "\nA day of {DAY_OF_TEXTERS} texters (HELP texts) through the webhook, {CONCURRENT} at a time"
    );
    let day_number = "+15005550007";
    twilio.add_demo_number(day_number);
    let day_assistant = sms_assistant(
        &local,
        &gateway,
        &workspace,
        &owner.id,
        &project.id,
        day_number,
    )
    .await?;
    let day_url = format!("{webhook_url}/api/sms/webhook/{day_assistant}");
    let day = send_texts(&day_url, 10_000_000..10_000_000 + DAY_OF_TEXTERS, "HELP").await?;
    day.print("local stack (moto)", &format!("{DAY_OF_TEXTERS} texters"));
    let config = shared::ports::SmsStore::sms_config(store.as_ref(), &day_assistant)
        .await?
        .ok_or("config")?;
    let read = Instant::now();
    let traffic = sms_config::traffic(
        store.as_ref(),
        &config,
        shared::domain::sms::AnalyticsPeriod::Week,
        shared::domain::time::Timestamp::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "{:<20} analytics (7d) in {}: inbound {}  uniqueContacts {}  ({})",
        "",
        ms(read.elapsed()),
        traffic.inbound,
        traffic.unique_contacts,
        if traffic.inbound == day.ok as u64 && traffic.unique_contacts == day.ok as u64 {
            "exact"
        } else {
            "NOT EXACT"
        }
    );

    println!(
        "\nA burst: {BURST} texts from one texter, 300 ms apart, through SQS and the reply worker"
    );
    let burst_number = "+15005550008";
    twilio.add_demo_number(burst_number);
    let burst_assistant = sms_assistant(
        &local,
        &gateway,
        &workspace,
        &owner.id,
        &project.id,
        burst_number,
    )
    .await?;
    let burst_url = serve_webhook(SmsWebhook::new(
        store.clone(),
        local.cipher.clone(),
        replies(),
    ))
    .await?;
    let burst_url = format!("{burst_url}/api/sms/webhook/{burst_assistant}");
    let (model_before, _) = calls.of("chat model");
    let burst_texter = texter(20_000_000);
    let started = Instant::now();
    for (i, words) in ["Hi,", "how long", "do refunds", "take", "for orders?"]
        .iter()
        .enumerate()
    {
        let params = inbound(&sid(20_000_000 + i), &burst_texter, words);
        let token = SecretString::from(TOKEN.to_owned());
        signed_webhook_request(&devtools::http_client(), &burst_url, &token, &params)
            .send()
            .await?
            .error_for_status()?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drain_replies(
        &local,
        &worker(shared::domain::sms::DEFAULT_BURST_WINDOW),
        BURST,
    )
    .await?;
    let (model_after, _) = calls.of("chat model");
    let replies_sent = twilio
        .messages()
        .iter()
        .filter(|m| m.to == burst_texter)
        .count();
    println!(
        "{BURST} texts: {} model call(s), {replies_sent} reply(ies), the reply out {} after the first text",
        model_after - model_before,
        ms(started.elapsed())
    );
    Ok(())
}

fn print_critical_path(calls: &Calls, round_trips: &RoundTripCounter, total: Duration) {
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
}
