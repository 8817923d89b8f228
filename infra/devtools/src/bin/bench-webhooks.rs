//! Webhook delivery on the local stack: 1,000 events, each to 10 endpoints
//! on loopback, dispatched at a steady pace through the real dispatcher,
//! SQS queues, DynamoDB table, KMS-sealed secrets and worker lanes (each
//! message on a task of its own, as the dev server and Lambda run them).
//! Printed side by side: the healthy endpoints' event-to-delivery time
//! (from the dispatch of the event to its request reaching the endpoint)
//! when one endpoint hangs for the 10 s timeout and one answers 500, and
//! when all ten are healthy.
//!
//! `BENCH_EVENTS` (default 1,000) and `BENCH_EVENTS_PER_SECOND` (default
//! 2) set the load; `BENCH_DEBUG=1` also prints the 15 latest deliveries
//! and when their events were sent. Run with `./infra/bench-webhooks`.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::queue_driver::drive_queue_concurrently;
use secrecy::SecretString;
use serde_json::json;
use shared::adapters::webhook_sender::HttpWebhookSender;
use shared::app::webhook_delivery::{Lane, WebhookDeliverer};
use shared::app::webhook_dispatch::EventDispatcher;
use shared::domain::ids::EventId;
use shared::domain::member::Email;
use shared::domain::time::Timestamp;
use shared::domain::webhook::delivery::Event;
use shared::domain::webhook::endpoint::NewWebhook;
use shared::domain::webhook::target::TargetPolicy;
use shared::domain::webhook::{EventType, RetrySchedule};
use shared::domain::workspace::NewWorkspace;
use shared::ports::{SecretCipher, SecretContext, WebhookStore, WorkspaceStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const ENDPOINTS: usize = 10;
const LOOPBACK: TargetPolicy = TargetPolicy {
    allow_loopback: true,
};

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    Healthy,
    Hangs,
    Fails,
}

/// When each event first reached one endpoint.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn endpoint(behaviour: Behaviour) -> (String, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let router = Router::new().route(
        "/in",
        post(move |headers: HeaderMap| async move {
            let id = headers["webhook-id"]
                .to_str()
                .unwrap_or_default()
                .to_owned();
            seen.lock().unwrap().entry(id).or_insert_with(Instant::now);
            match behaviour {
                Behaviour::Healthy => StatusCode::NO_CONTENT,
                Behaviour::Hangs => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    StatusCode::OK
                }
                Behaviour::Fails => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{address}/in"), arrivals)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
    delivered: usize,
    expected: usize,
    elapsed: Duration,
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(label: &str, behaviours: &[Behaviour], events: usize, per_second: usize) -> Figures {
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let mut local = LocalStack::provision(aws, dynamo, &ResourceNames::unique("bench-hooks"))
        .await
        .expect("the local stack is provisioned");
    local.webhook_policy = LOOPBACK;
    // As SQS holds a job back, so a retry a minute away waits on the queue
    // rather than coming back every few seconds as the dev server's do.
    local.longest_queue_delay = Duration::from_secs(900);

    let owner = local
        .store
        .create_user(Email::parse("bench@hooks.test").unwrap(), "Bench".into())
        .await
        .unwrap();
    let ws = local
        .store
        .create_workspace(
            NewWorkspace::from_json(json!({"name": "Hooks"})).unwrap(),
            &owner,
        )
        .await
        .unwrap()
        .id;
    let mut healthy = Vec::new();
    for behaviour in behaviours {
        let (url, arrivals) = endpoint(*behaviour).await;
        let new = NewWebhook::from_json(
            json!({"url": url, "events": ["*"]}),
            ws.clone(),
            LOOPBACK,
            Timestamp::now(),
        )
        .unwrap();
        let sealed = local
            .cipher
            .seal(
                &SecretString::from(new.secret.expose()),
                &SecretContext::webhook_secret(&ws, &new.webhook.id),
            )
            .await
            .unwrap();
        local
            .store
            .create_webhook(&new.webhook, sealed)
            .await
            .unwrap();
        if *behaviour == Behaviour::Healthy {
            healthy.push(arrivals);
        }
    }

    let dispatcher = EventDispatcher {
        webhooks: local.store.clone(),
        deliveries: local.store.clone(),
        queue: local.webhook_queue(),
        clock: Arc::new(shared::ports::SystemClock),
    };
    let sender = Arc::new(HttpWebhookSender::new(LOOPBACK));
    let (stop, stopped) = watch::channel(false);
    for (lane, url, in_flight) in [
        (Lane::Healthy, local.webhook_queue_url.clone(), 64),
        (Lane::Failing, local.webhook_failing_queue_url.clone(), 64),
    ] {
        let deliverer = Arc::new(WebhookDeliverer {
            dispatcher: dispatcher.clone(),
            sender: sender.clone(),
            cipher: local.cipher.clone(),
            schedule: RetrySchedule::default(),
            failing_queue: local.webhook_failing_queue(),
            lane,
            opened: Default::default(),
        });
        tokio::spawn(drive_queue_concurrently(
            local.sqs.clone(),
            url,
            stopped.clone(),
            in_flight,
            move |id, body, _| {
                let deliverer = Arc::clone(&deliverer);
                async move { deliverer.handle_message(&id, &body).await }
            },
        ));
    }

    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let pace = Duration::from_secs_f64(1.0 / per_second as f64);
    let mut dispatches = Vec::new();
    for n in 0..events {
        tokio::time::sleep_until((started + pace * n as u32).into()).await;
        let event = Event {
            id: EventId::generate(),
            kind: EventType::MessageCreated,
            workspace_id: ws.clone(),
            at: Timestamp::now(),
            data: json!({"id": format!("msg_{n}"), "content": "When do you open?"}),
        };
        sent.lock()
            .unwrap()
            .insert(event.id.to_string(), Instant::now());
        let dispatcher = dispatcher.clone();
        dispatches.push(tokio::spawn(async move {
            dispatcher.dispatch(&event, None).await.expect(
                "a dispatch failed: the local server is overloaded; lower BENCH_EVENTS_PER_SECOND",
            )
        }));
    }
    for dispatch in dispatches {
        dispatch.await.unwrap();
    }
    let expected = events * healthy.len();
    let deadline = Instant::now() + Duration::from_secs(180);
    let delivered = || {
        healthy
            .iter()
            .map(|a| a.lock().unwrap().len())
            .sum::<usize>()
    };
    while delivered() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);

    let sent = sent.lock().unwrap();
    let mut latencies: Vec<Duration> = healthy
        .iter()
        .flat_map(|arrivals| {
            arrivals
                .lock()
                .unwrap()
                .iter()
                .filter_map(|(id, at)| sent.get(id).map(|s| at.saturating_duration_since(*s)))
                .collect::<Vec<_>>()
        })
        .collect();
    if std::env::var("BENCH_DEBUG").is_ok() {
        let mut late: Vec<(Duration, Duration)> = healthy
            .iter()
            .flat_map(|arrivals| {
                arrivals
                    .lock()
                    .unwrap()
                    .iter()
                    .filter_map(|(id, at)| {
                        sent.get(id)
                            .map(|s| (at.saturating_duration_since(*s), s.duration_since(started)))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        late.sort();
        for (latency, sent_at) in late.iter().rev().take(15) {
            eprintln!("late: {latency:?} for an event sent at {sent_at:?}");
        }
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    let figures = Figures {
        p50: at(0.5),
        p99: at(0.99),
        max: *latencies.last().unwrap(),
        delivered: latencies.len(),
        expected,
        elapsed,
    };
    println!(
        "  {label:<34} p50 {:>7}  p99 {:>7}  max {:>7}  {}/{} healthy deliveries in {:.1} s",
        ms(figures.p50),
        ms(figures.p99),
        ms(figures.max),
        figures.delivered,
        figures.expected,
        figures.elapsed.as_secs_f64()
    );
    figures
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let events = env_number("BENCH_EVENTS", 1_000);
    // The local server takes DynamoDB calls one at a time (some 90 a
    // second); a delivery costs two (its job's read, its attempt's write)
    // and an event two more, so ten endpoints at 2 events a second keep it
    // half busy, and 5 a second overload it within minutes.
    let per_second = env_number("BENCH_EVENTS_PER_SECOND", 2);
    println!(
        "Webhook delivery: {events} events at {per_second}/s, each to {ENDPOINTS} endpoints on loopback; event-to-delivery time at the healthy endpoints"
    );
    let mut with_bad = vec![Behaviour::Healthy; ENDPOINTS - 2];
    with_bad.extend([Behaviour::Hangs, Behaviour::Fails]);
    let bad = run(
        "one hangs 10 s, one answers 500:",
        &with_bad,
        events,
        per_second,
    )
    .await;
    let good = run(
        "all ten healthy:",
        &[Behaviour::Healthy; ENDPOINTS],
        events,
        per_second,
    )
    .await;
    println!(
        "  the bad endpoints' cost to the healthy ones: p50 x{:.2}, p99 x{:.2}",
        bad.p50.as_secs_f64() / good.p50.as_secs_f64(),
        bad.p99.as_secs_f64() / good.p99.as_secs_f64()
    );
    Ok(())
}
