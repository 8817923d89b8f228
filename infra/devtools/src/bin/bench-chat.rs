//! The chat API's own cost on a streamed answer, through the API served
//! over loopback HTTP as the dev server serves it, with the local model at
//! a fixed time to first token and a fixed delay between tokens:
//!
//! - our overhead to the first word: the client's time to its first
//!   `delta` minus the model's own time to its first token (the store
//!   reads, the lease, retrieval against the emulators, storing the
//!   question, the SSE framing);
//! - what each delta adds between the model writing it and the client
//!   reading it.
//!
//! On the in-memory store (the code's own cost) and on the local AWS server
//! (moto, which serialises DynamoDB calls and dominates), each with no
//! budgets and with an assistant and workspace budget set (read before
//! every answer, in the read that finds the assistant). Run with
//! `./infra/bench`.

use devtools::emulators::chat::{ChatEmulator, StreamPace};
use devtools::emulators::{
    self, Emulators, Latency, local_chat, local_retriever, local_sms_backends, serve_on_loopback,
};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::seed_demo;
use eventsource_stream2::Eventsource;
use futures_util::StreamExt;
use shared::adapters::memory::{MemoryBlobs, MemoryCipher, MemoryQueue, MemoryStore};
use shared::app::authentication::Authenticator;
use shared::domain::widget_token::WidgetTokens;
use shared::http::{Backends, all_routes_router};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUESTIONS: usize = 40;
const WARMUP: usize = 5;
const FIRST_TOKEN: Duration = Duration::from_millis(200);
const BETWEEN_TOKENS: Duration = Duration::from_millis(20);

/// One answer as the client saw it, against the model's own clock.
struct Answer {
    first_byte: Duration,
    first_delta: Duration,
    model_first_token: Duration,
    delta_delays: Vec<Duration>,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn quantiles(mut values: Vec<Duration>) -> (Duration, Duration) {
    values.sort();
    let at = |q: f64| values[((values.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

async fn post(http: &reqwest::Client, url: &str, key: &str, body: serde_json::Value) -> String {
    let response = http
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await.expect("JSON");
    body["id"].as_str().unwrap_or_default().to_owned()
}

/// Replaces a budget (the answer holds no id).
async fn put(http: &reqwest::Client, url: &str, key: &str, body: serde_json::Value) {
    let response = http
        .put(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
}

/// Asks once, reading the stream as it arrives.
async fn ask(http: &reqwest::Client, chat: &ChatEmulator, url: &str, key: &str) -> Answer {
    let started = Instant::now();
    let response = http
        .post(url)
        .bearer_auth(key)
        .header("accept", "text/event-stream")
        .json(&serde_json::json!({"content": "How long do refunds take?"}))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status(), 200);
    // Each read timed as it arrives, then parsed.
    let first_byte = std::sync::OnceLock::new();
    let arrivals = futures_util::stream::unfold(response, |mut response| async move {
        match response.chunk().await {
            Ok(Some(bytes)) => Some((Ok::<_, reqwest::Error>(bytes), response)),
            Ok(None) => None,
            Err(error) => Some((Err(error), response)),
        }
    })
    .inspect(|_| {
        first_byte.get_or_init(|| started.elapsed());
    });
    let mut events = Box::pin(arrivals.eventsource());
    let mut deltas = Vec::new();
    while let Some(event) = events.next().await {
        let event = event.expect("the stream is valid SSE");
        match event.event.as_str() {
            "delta" => deltas.push(Instant::now()),
            "done" => break,
            "error" => panic!("the answer failed: {}", event.data),
            _ => {}
        }
    }
    drop(events);
    let timing = chat.timings().pop().expect("the model was asked");
    assert_eq!(
        timing.chunks.len(),
        deltas.len(),
        "one delta per model chunk"
    );
    Answer {
        first_byte: *first_byte.get().expect("a byte arrived"),
        first_delta: deltas[0] - started,
        model_first_token: timing.chunks[0] - timing.received,
        delta_delays: deltas
            .iter()
            .zip(&timing.chunks)
            .map(|(seen, sent)| seen.saturating_duration_since(*sent))
            .collect(),
    }
}

/// Whether the assistant and its workspace have monthly budgets (high
/// enough never to be reached): the check before each answer reads them.
#[derive(Clone, Copy, PartialEq)]
enum Budgets {
    None,
    Set,
}

async fn measure(label: &str, backends: Backends, chat: &ChatEmulator, budgets: Budgets) {
    let api = serve_on_loopback(all_routes_router(&backends)).await;
    let seed = seed_demo(backends.store.as_ref(), &api)
        .await
        .expect("the seed is written");
    let ws = format!("{api}/api/workspaces/{}", seed.workspace_id);
    let owner = seed.keys["owner"].clone();
    let member = seed.keys["member"].clone();
    let http = devtools::http_client();
    let assistant = post(
        &http,
        &format!("{ws}/assistants"),
        &owner,
        serde_json::json!({"name": "Bench", "visibility": "workspace"}),
    )
    .await;
    let project = post(
        &http,
        &format!("{ws}/projects"),
        &owner,
        serde_json::json!({"name": "Docs"}),
    )
    .await;
    post(
        &http,
        &format!("{ws}/assistants/{assistant}/projects"),
        &owner,
        serde_json::json!({"projectId": project}),
    )
    .await;
    if budgets == Budgets::Set {
        let cap = serde_json::json!({"monthlyTokenLimit": 1_000_000_000u64, "monthlySmsSegmentLimit": 1_000_000});
        put(&http, &format!("{ws}/budget"), &owner, cap.clone()).await;
        put(
            &http,
            &format!("{ws}/assistants/{assistant}/budget"),
            &owner,
            cap,
        )
        .await;
    }
    let mut answers = Vec::new();
    for i in 0..WARMUP + QUESTIONS {
        let conversation = post(
            &http,
            &format!("{ws}/conversations"),
            &member,
            serde_json::json!({"assistantId": assistant}),
        )
        .await;
        let answer = ask(
            &http,
            chat,
            &format!("{ws}/conversations/{conversation}/messages"),
            &member,
        )
        .await;
        if i >= WARMUP {
            answers.push(answer);
        }
    }
    let (ttfb50, ttfb99) = quantiles(answers.iter().map(|a| a.first_byte).collect());
    let (first50, first99) = quantiles(answers.iter().map(|a| a.first_delta).collect());
    let (model50, _) = quantiles(answers.iter().map(|a| a.model_first_token).collect());
    let (over50, over99) = quantiles(
        answers
            .iter()
            .map(|a| a.first_delta.saturating_sub(a.model_first_token))
            .collect(),
    );
    let delays: Vec<Duration> = answers
        .iter()
        .flat_map(|a| a.delta_delays.iter().copied())
        .collect();
    let count = delays.len();
    let (delta50, delta99) = quantiles(delays);
    println!("{label}: {QUESTIONS} answers, one at a time");
    println!(
        "  first byte (the question event)      p50 {}  p99 {}",
        ms(ttfb50),
        ms(ttfb99)
    );
    println!(
        "  first delta at the client            p50 {}  p99 {}  (the model's own first token: {})",
        ms(first50),
        ms(first99),
        ms(model50)
    );
    println!(
        "  our overhead to the first word       p50 {}  p99 {}",
        ms(over50),
        ms(over99)
    );
    println!(
        "  each delta, model to client ({count})  p50 {}  p99 {}",
        ms(delta50),
        ms(delta99)
    );
}

fn memory_backends(base: &str) -> Backends {
    let memory = Arc::new(MemoryStore::new());
    Backends {
        store: memory.clone(),
        blobs: Arc::new(MemoryBlobs::new()),
        cleanup: Arc::new(MemoryQueue::new()),
        ingest: Arc::new(MemoryQueue::new()),
        search: Arc::new(local_retriever(base)),
        chat: Arc::new(local_chat(base)),
        auth: Arc::new(Authenticator::new(memory.clone())),
        sms: local_sms_backends(base, Arc::new(MemoryCipher::new()), "http://bench"),
        widget_tokens: Arc::new(WidgetTokens::with_random_key()),
        webhooks: shared::http::WebhookBackends {
            queue: Arc::new(MemoryQueue::new()),
            policy: Default::default(),
            hosts: Arc::new(shared::adapters::memory::MemoryHosts::new()),
        },
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let chat = ChatEmulator::new(Latency::default()).with_pace(StreamPace {
        words_per_chunk: 1,
        first_token: FIRST_TOKEN,
        between: BETWEEN_TOKENS,
    });
    let base = serve_on_loopback(emulators::router(Emulators {
        chat: chat.clone(),
        ..Emulators::local(Latency::default())
    }))
    .await;
    println!(
        "Streamed answers through the API on loopback HTTP; the local model at {} to its first token, {} between tokens, one word per chunk",
        ms(FIRST_TOKEN),
        ms(BETWEEN_TOKENS)
    );

    // Each run seeds its own store (the seed's users are the same people).
    for (label, budgets) in [
        ("in-memory store", Budgets::None),
        ("in-memory store, budgets set", Budgets::Set),
    ] {
        measure(label, memory_backends(&base), &chat, budgets).await;
    }
    for (label, budgets) in [
        ("local AWS server", Budgets::None),
        ("local AWS server, budgets set", Budgets::Set),
    ] {
        let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let local =
            LocalStack::provision(aws, dynamo, &ResourceNames::unique("bench-chat")).await?;
        let sms = local_sms_backends(&base, local.cipher.clone(), "http://bench");
        let backends = local.backends(
            Arc::new(local_retriever(&base)),
            Arc::new(local_chat(&base)),
            sms,
        );
        measure(label, backends, &chat, budgets).await;
    }
    Ok(())
}
