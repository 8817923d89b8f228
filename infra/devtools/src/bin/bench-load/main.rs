//! The API and the SMS webhook under load on the local stack, each served
//! over loopback HTTP as the dev server serves them: many clients at once
//! (200 by default) for a while (60 s), each going round a mix of read and
//! write routes (assistants, projects, documents, connections,
//! conversations, signed texts). Prints throughput and p50 / p99 per route,
//! counts every error, and then checks that every counter the writes moved
//! is exact: the workspace's `assistantCount` and `memberCount`, the
//! project's `documentCount` (against its list's `total`), each assistant's
//! `projectCount`, and the SMS analytics' inbound count.
//!
//! Then the widget with one address flooding it (see `widget_flood`),
//! `LOAD_WIDGET_SECONDS` (120) each without and with the flood, the flood at
//! `LOAD_FLOOD_RPS` (1,000; 0 unpaced).
//!
//! Run with `./infra/bench-load` (starts the local AWS server, builds
//! optimised). `LOAD_CLIENTS` and `LOAD_SECONDS` change the load.

mod widget_flood;

use devtools::emulators::twilio::{inbound_params, signed_webhook_request};
use devtools::emulators::{
    Emulators, Latency, local_chat, local_retriever, local_sms_backends, serve_on_loopback,
};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::seed_demo;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::adapters::sqs::SqsQueue;
use shared::app::sms_config;
use shared::app::sms_webhook::SmsWebhook;
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::http::{WebhookState, all_routes_router, sms_webhook_router};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ACCOUNT: &str = devtools::emulators::twilio::DEMO_ACCOUNT_SID;
const TOKEN: &str = devtools::emulators::twilio::DEMO_AUTH_TOKEN;
const NUMBER: &str = devtools::emulators::twilio::DEMO_NUMBER;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What every client shares: where things are, and who it is.
struct Target {
    http: reqwest::Client,
    api: String,
    webhook: String,
    key: String,
    ws: WorkspaceId,
    assistant: AssistantId,
    sms_assistant: AssistantId,
    project: String,
    texts: AtomicUsize,
}

/// Each route's latencies and its unexpected answers.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<&'static str, Vec<String>>,
    /// Successful creates and deletes, by counter they move.
    assistants: i64,
    documents: i64,
    texts: i64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (route, values) in other.latencies {
            self.latencies.entry(route).or_default().extend(values);
        }
        for (route, values) in other.errors {
            self.errors.entry(route).or_default().extend(values);
        }
        self.assistants += other.assistants;
        self.documents += other.documents;
        self.texts += other.texts;
    }
}

impl Target {
    /// One API call, timed under `route`; the body when the status is the
    /// expected one, otherwise an error recorded against the route.
    async fn call(
        &self,
        tally: &mut Tally,
        route: &'static str,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Option<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let started = Instant::now();
        let answer = async {
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes))
        }
        .await;
        tally
            .latencies
            .entry(route)
            .or_default()
            .push(started.elapsed());
        match answer {
            Ok((status, bytes)) if status == expected => {
                Some(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
            }
            Ok((status, bytes)) => {
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                tally
                    .errors
                    .entry(route)
                    .or_default()
                    .push(format!("{status}: {text}"));
                None
            }
            Err(error) => {
                tally
                    .errors
                    .entry(route)
                    .or_default()
                    .push(error.to_string());
                None
            }
        }
    }

    fn ws_path(&self, rest: &str) -> String {
        format!("/api/workspaces/{}{rest}", self.ws)
    }

    /// `GET` of a path under the workspace, which must answer 200.
    async fn get(&self, tally: &mut Tally, route: &'static str, rest: &str) -> Option<Value> {
        let path = self.ws_path(rest);
        self.call(tally, route, Method::GET, &path, None, StatusCode::OK)
            .await
    }

    /// `POST` under the workspace, which must answer 201.
    async fn post(
        &self,
        tally: &mut Tally,
        route: &'static str,
        rest: &str,
        body: Value,
    ) -> Option<Value> {
        let path = self.ws_path(rest);
        self.call(
            tally,
            route,
            Method::POST,
            &path,
            Some(body),
            StatusCode::CREATED,
        )
        .await
    }

    /// `DELETE` under the workspace; whether it answered 204.
    async fn delete(&self, tally: &mut Tally, route: &'static str, rest: &str) -> bool {
        let path = self.ws_path(rest);
        self.call(
            tally,
            route,
            Method::DELETE,
            &path,
            None,
            StatusCode::NO_CONTENT,
        )
        .await
        .is_some()
    }

    /// One turn of the mix, the `step`th, by a client that owns `own`.
    async fn step(&self, tally: &mut Tally, step: usize, own: &AssistantId) {
        let (a, p) = (&self.assistant, &self.project);
        let id_of = |created: Option<Value>, at: &[&str]| {
            let mut value = created?;
            for name in at {
                value = value.get(*name)?.clone();
            }
            value.as_str().map(str::to_owned)
        };
        match step % 8 {
            0 => {
                self.get(tally, "get assistant", &format!("/assistants/{a}"))
                    .await;
            }
            1 => {
                self.get(tally, "list assistants", "/assistants").await;
            }
            2 => {
                let body = json!({"name": format!("load {step}"), "temperature": 0.3});
                let created = self
                    .post(tally, "create assistant", "/assistants", body)
                    .await;
                if let Some(id) = id_of(created, &["id"]) {
                    tally.assistants += 1;
                    let rest = format!("/assistants/{id}");
                    if self.delete(tally, "delete assistant", &rest).await {
                        tally.assistants -= 1;
                    }
                }
            }
            3 => {
                self.get(tally, "get project", &format!("/projects/{p}"))
                    .await;
            }
            4 => {
                let documents = format!("/projects/{p}/documents");
                self.get(tally, "list documents", &documents).await;
                let body = json!({"name": format!("load-{step}.pdf"), "size": 120_000});
                let rest = format!("{documents}/uploads");
                let started = self.post(tally, "start an upload", &rest, body).await;
                if let Some(id) = id_of(started, &["document", "id"]) {
                    tally.documents += 1;
                    let rest = format!("{documents}/{id}");
                    if self.delete(tally, "delete document", &rest).await {
                        tally.documents -= 1;
                    }
                }
            }
            5 => {
                let rest = format!("/assistants/{own}/projects");
                let body = json!({"projectId": p});
                if self.post(tally, "connect", &rest, body).await.is_some() {
                    self.delete(tally, "disconnect", &format!("{rest}/{p}"))
                        .await;
                }
            }
            6 => {
                let body = json!({"assistantId": a});
                let created = self
                    .post(tally, "start conversation", "/conversations", body)
                    .await;
                if let Some(id) = id_of(created, &["id"]) {
                    let rest = format!("/conversations/{id}");
                    self.get(tally, "list messages", &format!("{rest}/messages"))
                        .await;
                    self.delete(tally, "delete conversation", &rest).await;
                }
            }
            _ => self.text(tally).await,
        }
    }

    /// A signed text from a number of its own, to the SMS assistant.
    async fn text(&self, tally: &mut Tally) {
        let n = self.texts.fetch_add(1, Ordering::Relaxed);
        let params = inbound_params(
            &format!("SM{n:032x}"),
            ACCOUNT,
            &format!("+1555{:07}", n % 10_000_000),
            NUMBER,
            "When does the shop open?",
        );
        let url = format!("{}/api/sms/webhook/{}", self.webhook, self.sms_assistant);
        let token = SecretString::from(TOKEN.to_owned());
        let started = Instant::now();
        let answer = signed_webhook_request(&self.http, &url, &token, &params)
            .send()
            .await;
        let elapsed = started.elapsed();
        tally
            .latencies
            .entry("SMS webhook")
            .or_default()
            .push(elapsed);
        match answer {
            Ok(response) if response.status().is_success() => tally.texts += 1,
            Ok(response) => tally
                .errors
                .entry("SMS webhook")
                .or_default()
                .push(response.status().to_string()),
            Err(error) => tally
                .errors
                .entry("SMS webhook")
                .or_default()
                .push(error.to_string()),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Serves `router` on loopback, telling it each request's TCP peer (the
/// widget counts its limits by client address).
async fn serve(router: axum::Router) -> Result<String, Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// Reads a JSON answer the check needs.
async fn read(target: &Target, path: &str) -> Result<Value, Failure> {
    let response = target
        .http
        .get(format!("{}{path}", target.api))
        .bearer_auth(&target.key)
        .send()
        .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("{path} answered {}", response.status()).into());
    }
    Ok(response.json().await?)
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    require_loopback_endpoint()?;
    let clients: usize = std::env::var("LOAD_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(60);

    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let local = LocalStack::provision(aws, dynamo, &ResourceNames::unique("load")).await?;
    let seed = seed_demo(local.store.as_ref(), "http://load").await?;
    let emulators = serve_on_loopback(devtools::emulators::router(Emulators::local(
        Latency::default(),
    )))
    .await;
    let sms = local_sms_backends(&emulators, local.cipher.clone(), "http://load");
    let backends = local.backends(
        Arc::new(local_retriever(&emulators)),
        Arc::new(local_chat(&emulators)),
        sms,
    );
    let api = serve(all_routes_router(&backends)).await?;
    let webhook = SmsWebhook::new(
        local.store.clone(),
        local.cipher.clone(),
        Arc::new(SqsQueue::new(local.sqs.clone(), &local.reply_queue_url)),
    );
    // Twilio signs the URL it posts to, which the webhook rebuilds from
    // its public base URL: the listener's own, known once it is bound.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let webhook_url = format!("http://{}", listener.local_addr()?);
    let router = sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: Some(webhook_url.clone()),
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let http = devtools::http_client_builder()
        .pool_max_idle_per_host(clients + 16)
        .timeout(Duration::from_secs(30))
        .build()?;

    let mut target = Target {
        http,
        api,
        webhook: webhook_url,
        key: seed.keys["owner"].clone(),
        ws: seed.workspace_id.clone(),
        assistant: AssistantId::generate(),
        sms_assistant: AssistantId::generate(),
        project: String::new(),
        texts: AtomicUsize::new(0),
    };
    // The shared fixtures, and an assistant of each client's own to
    // connect and disconnect (two clients connecting one pair would be a
    // conflict, not load).
    let mut setup = Tally::default();
    let create = |name: String| json!({"name": name});
    let path = target.ws_path("/assistants");
    let mut ids = Vec::new();
    for i in 0..clients + 2 {
        let created = target
            .call(
                &mut setup,
                "setup",
                Method::POST,
                &path,
                Some(create(format!("fixture {i}"))),
                StatusCode::CREATED,
            )
            .await
            .ok_or("creating a fixture assistant failed")?;
        ids.push(AssistantId::parse(created["id"].as_str().unwrap_or_default()).ok_or("id")?);
    }
    target.sms_assistant = ids.pop().ok_or("fixtures")?;
    target.assistant = ids.pop().ok_or("fixtures")?;
    let project = target
        .call(
            &mut setup,
            "setup",
            Method::POST,
            &target.ws_path("/projects"),
            Some(json!({"name": "Load FAQ", "visibility": "workspace"})),
            StatusCode::CREATED,
        )
        .await
        .ok_or("creating the project failed")?;
    target.project = project["id"].as_str().unwrap_or_default().to_owned();
    sms_config::save(
        local.store.as_ref(),
        local.cipher.as_ref(),
        &devtools::emulators::local_twilio(&emulators),
        &target.ws,
        &target.sms_assistant,
        devtools::emulators::twilio::demo_sms_settings(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let before = read(&target, &target.ws_path("")).await?;
    let documents_before = read(
        &target,
        &target.ws_path(&format!("/projects/{}", target.project)),
    )
    .await?["documentCount"]
        .as_i64()
        .unwrap_or_default();

    let target = Arc::new(target);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for (client, own) in ids.into_iter().enumerate() {
        let target = target.clone();
        running.spawn(async move {
            let mut tally = Tally::default();
            let mut step = client;
            while Instant::now() < deadline {
                target.step(&mut tally, step, &own).await;
                step += 1;
            }
            (tally, own)
        });
    }
    let mut total = Tally::default();
    let mut owned = Vec::new();
    while let Some(done) = running.join_next().await {
        let (tally, own) = done?;
        total.merge(tally);
        owned.push(own);
    }
    let wall = started.elapsed();

    let calls: usize = total.latencies.values().map(Vec::len).sum();
    let errors: usize = total.errors.values().map(Vec::len).sum();
    println!(
        "Load: {clients} clients for {seconds} s on the local stack (API and webhook over loopback HTTP): {calls} calls, {:.0} calls/s, {errors} errors",
        calls as f64 / wall.as_secs_f64()
    );
    println!(
        "{:<20} {:>8} {:>9} {:>10} {:>10} {:>7}",
        "route", "calls", "calls/s", "p50", "p99", "errors"
    );
    for (route, latencies) in &mut total.latencies {
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{:<20} {:>8} {:>9.1} {:>10} {:>10} {:>7}",
            route,
            latencies.len(),
            latencies.len() as f64 / wall.as_secs_f64(),
            ms(at(0.5)),
            ms(at(0.99)),
            total.errors.get(route).map_or(0, Vec::len)
        );
    }
    for (route, errors) in &total.errors {
        println!("  {route}: first error: {}", errors[0]);
    }

    // The counters, once everything has answered.
    let mut wrong = Vec::new();
    let after = read(&target, &target.ws_path("")).await?;
    let expected_assistants =
        before["assistantCount"].as_i64().unwrap_or_default() + total.assistants;
    let listed = read(&target, &target.ws_path("/assistants?limit=1")).await?["total"].as_i64();
    for (name, value) in [
        ("assistantCount", after["assistantCount"].as_i64()),
        ("assistants listed", listed),
    ] {
        if value != Some(expected_assistants) {
            wrong.push(format!("{name} {value:?}, expected {expected_assistants}"));
        }
    }
    if after["memberCount"] != before["memberCount"] {
        wrong.push(format!(
            "memberCount {} became {}",
            before["memberCount"], after["memberCount"]
        ));
    }
    let project_path = target.ws_path(&format!("/projects/{}", target.project));
    let expected_documents = documents_before + total.documents;
    let counted = read(&target, &project_path).await?["documentCount"].as_i64();
    let listed =
        read(&target, &format!("{project_path}/documents?limit=1")).await?["total"].as_i64();
    for (name, value) in [("documentCount", counted), ("documents listed", listed)] {
        if value != Some(expected_documents) {
            wrong.push(format!("{name} {value:?}, expected {expected_documents}"));
        }
    }
    for own in &owned {
        let count =
            read(&target, &target.ws_path(&format!("/assistants/{own}"))).await?["projectCount"]
                .as_i64();
        if count != Some(0) {
            wrong.push(format!(
                "assistant {own}: projectCount {count:?} after connect and disconnect"
            ));
        }
    }
    let analytics = read(
        &target,
        &target.ws_path(&format!(
            "/assistants/{}/sms/analytics?period=7d",
            target.sms_assistant
        )),
    )
    .await?;
    let inbound = analytics["data"]["inbound"]
        .as_i64()
        .or_else(|| analytics["inbound"].as_i64());
    if inbound != Some(total.texts) {
        wrong.push(format!(
            "SMS inbound {inbound:?}, expected {} acknowledged",
            total.texts
        ));
    }
    if wrong.is_empty() {
        println!(
            "counters exact: assistantCount {expected_assistants}, documentCount {expected_documents}, memberCount {}, {} assistants' projectCount 0, SMS inbound {}",
            after["memberCount"],
            owned.len(),
            total.texts
        );
    } else {
        println!("counters WRONG:");
        for line in &wrong {
            println!("  {line}");
        }
    }
    if errors > 0 || !wrong.is_empty() {
        return Err("the load run had errors or wrong counters".into());
    }

    let widget_seconds: u64 = std::env::var("LOAD_WIDGET_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(120);
    if widget_seconds > 0 {
        println!();
        let flood_rps = std::env::var("LOAD_FLOOD_RPS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000);
        let widget = open_widget(&target).await?;
        widget_flood::run(widget, widget_seconds, (flood_rps > 0).then_some(flood_rps)).await?;
    }
    Ok(())
}

/// The fixture's assistant, public with its widget on the flood's origin.
async fn open_widget(target: &Target) -> Result<widget_flood::Widget, Failure> {
    let mut setup = Tally::default();
    let assistant = target.assistant.to_string();
    let path = target.ws_path(&format!("/assistants/{assistant}"));
    let opened = json!({"visibility": "public", "widgetEnabled": true});
    target
        .call(
            &mut setup,
            "setup",
            Method::PATCH,
            &path,
            Some(opened),
            StatusCode::OK,
        )
        .await
        .ok_or("opening the assistant failed")?;
    let settings = json!({"allowedOrigins": [widget_flood::ORIGIN]});
    target
        .call(
            &mut setup,
            "setup",
            Method::PUT,
            &format!("{path}/widget"),
            Some(settings),
            StatusCode::OK,
        )
        .await
        .ok_or("saving the widget's settings failed")?;
    Ok(widget_flood::Widget {
        api: target.api.clone(),
        assistant,
    })
}
