//! The dev server: every API route and the workers on one port, the SMS
//! webhook on a port of its own, the widget's demo page on a third (a
//! second web origin), as API Gateway, the Function URL and the
//! event source mappings run them in AWS. Provisions the local resources,
//! seeds a demo workspace, prints how to call it.

use devtools::change_stream::{StreamReader, drive_stream, stream_of};
use devtools::emulators::chat::{ChatEmulator, StreamPace};
use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::twilio::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_NUMBER, TwilioEmulator};
use devtools::emulators::{Emulators, LOCAL_DIMENSIONS, Latency, local_retriever};
use devtools::lambda_env::{ProviderKeys, function_environment, set};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::queue_driver::{drive_queue, drive_queue_concurrently};
use devtools::seed::{
    chat_examples, curl_examples, seed_demo, sms_examples, webhook_examples, widget_examples,
};
use devtools::webhook_inbox::Inbox;
use devtools::widget_demo::{demo_site, disallowed_page, seed_widget_demo};
use shared::adapters::sqs::SqsQueue;
use shared::adapters::twilio::TwilioGateway;
use shared::adapters::webhook_sender::HttpWebhookSender;
use shared::app::cleanup::handle_message;
use shared::app::event_feed::EventFeed;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::app::sms_webhook::SmsWebhook;
use shared::app::webhook_delivery::{Lane, WebhookDeliverer};
use shared::app::webhook_dispatch::EventDispatcher;
use shared::domain::webhook::target::TargetPolicy;
use shared::domain::webhook::{ATTEMPT_TIMEOUT, RetrySchedule};
use shared::http::{SmsBackends, WebhookState, all_routes_router, sms_webhook_router};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn port_from_env(name: &str, default: u16) -> Result<u16, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{name}={value} is not a port number")),
        Err(_) => Ok(default),
    }
}

/// The API's OpenAPI document, as committed in `infra/openapi.json`.
async fn openapi_document() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        shared::http::api_document::document_json(),
    )
}

/// The interactive API reference: swagger-ui-dist's files, which
/// `./infra/dev` installs from the npm registry (`SWAGGER_UI_DIR`), reading
/// `/api/openapi.json`. Offline: nothing comes from a CDN.
const API_DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>IllumiChat API reference</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
</script>
</body>
</html>
"##;

async fn api_docs() -> axum::response::Html<&'static str> {
    axum::response::Html(API_DOCS_PAGE)
}

/// One of swagger-ui's two files, and nothing else of the disk.
async fn api_docs_asset(
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let kind = match name.as_str() {
        "swagger-ui.css" => "text/css; charset=utf-8",
        "swagger-ui-bundle.js" => "text/javascript; charset=utf-8",
        _ => return axum::http::StatusCode::NOT_FOUND.into_response(),
    };
    let folder = std::env::var("SWAGGER_UI_DIR").unwrap_or_else(|_| ".dev/tools/swagger-ui".into());
    match tokio::fs::read(std::path::Path::new(&folder).join(&name)).await {
        Ok(bytes) => ([(axum::http::header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(_) => (
            axum::http::StatusCode::NOT_FOUND,
            "the API reference's files are not installed: ./infra/dev installs them",
        )
            .into_response(),
    }
}

/// How the dev server delivers webhooks; never set in the template.
struct WebhookSettings {
    /// `WEBHOOK_ALLOW_LOOPBACK=1` (set by `./infra/dev`): webhooks may
    /// point at `http://127.0.0.1:...` and `http://localhost:...`, such as
    /// the local receiver; every other private range stays refused.
    policy: TargetPolicy,
    /// `WEBHOOK_LOOPBACK_ONLY=1` (the fuzz run): deliveries reach loopback
    /// and nothing else, whatever a webhook names.
    loopback_only: bool,
    /// `WEBHOOK_RETRY_SCHEDULE`: comma-separated seconds (`1,2,4`).
    schedule: RetrySchedule,
}

impl WebhookSettings {
    fn from_env() -> Result<Self, String> {
        let flag = |name: &str| std::env::var(name).is_ok_and(|v| v == "1");
        let schedule = match std::env::var("WEBHOOK_RETRY_SCHEDULE") {
            Ok(value) => RetrySchedule::parse(&value)
                .map_err(|problem| format!("WEBHOOK_RETRY_SCHEDULE={value} {problem}"))?,
            Err(_) => RetrySchedule::default(),
        };
        Ok(Self {
            policy: TargetPolicy {
                allow_loopback: flag("WEBHOOK_ALLOW_LOOPBACK"),
            },
            loopback_only: flag("WEBHOOK_LOOPBACK_ONLY"),
            schedule,
        })
    }
}

async fn listen(port: u16, setting: &str) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| {
            format!("cannot listen on 127.0.0.1:{port}: {e} (set {setting} to use another)")
        })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init();
    require_loopback_endpoint()?;
    let port = port_from_env("PORT", 3000)?;
    // Beside the API's port by default; with PORT=0, free ones as well.
    let beside = |offset: u16| {
        if port == 0 {
            0
        } else {
            port.saturating_add(offset)
        }
    };
    let webhook_port = port_from_env("WEBHOOK_PORT", beside(1))?;
    let demo_port = port_from_env("DEMO_PORT", beside(2))?;
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let mut local =
        LocalStack::provision(aws, dynamo, &ResourceNames::from_env_or_defaults()).await?;
    let webhooks = WebhookSettings::from_env()?;
    local.webhook_policy = webhooks.policy;

    let listener = listen(port, "PORT").await?;
    let webhook_listener = listen(webhook_port, "WEBHOOK_PORT").await?;
    let demo_listener = listen(demo_port, "DEMO_PORT").await?;
    // From what was bound rather than what was asked: port 0 (the tests)
    // is whichever free port the system hands out, with no window in which
    // another process can take it first.
    let url_of = |listener: &tokio::net::TcpListener| {
        listener
            .local_addr()
            .map(|address| format!("http://127.0.0.1:{}", address.port()))
    };
    let base_url = url_of(&listener)?;
    let webhook_base_url = url_of(&webhook_listener)?;
    // A second origin, so the widget's origin check is the browser's own.
    let demo_origin = url_of(&demo_listener)?;

    let seed = seed_demo(local.store.as_ref(), &base_url).await?;
    let seed_path =
        PathBuf::from(std::env::var("SEED_FILE").unwrap_or_else(|_| ".dev/seed.json".into()));
    if let Some(dir) = seed_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&seed_path, serde_json::to_string_pretty(&seed)?)?;

    // The providers' emulators live on this server under /_local, and the
    // production adapters reach them over HTTP like any real provider. Any
    // of them can be a real server instead, by configuration.
    let local_base = format!("{base_url}/_local");
    let retriever = Arc::new(local_retriever(&local_base));
    let twilio_base =
        std::env::var("TWILIO_API_BASE_URL").unwrap_or_else(|_| format!("{local_base}/twilio"));
    // The chat model: the local one unless CHAT_BASE_URL names another, with
    // CHAT_ROUTES for per-prefix servers, as the reply worker reads them.
    let mut chat_env: Vec<(String, String)> = vec![
        (
            "CHAT_BASE_URL".into(),
            std::env::var("CHAT_BASE_URL").unwrap_or_else(|_| format!("{local_base}/openai/v1")),
        ),
        (
            "CHAT_API_KEY".into(),
            std::env::var("CHAT_API_KEY").unwrap_or_else(|_| devtools::emulators::LOCAL_KEY.into()),
        ),
    ];
    if let Ok(routes) = std::env::var("CHAT_ROUTES") {
        chat_env.push(("CHAT_ROUTES".into(), routes));
    }
    let chat_settings = shared::config::ChatSettings::from_env(&shared::config::Env::from_pairs(
        chat_env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))?;
    let chat_base = chat_settings.base_url.clone();
    let chat = Arc::new(chat_settings.chat_model(
        shared::adapters::outbound_http::client(),
        shared::wiring::RetryBudget::Route,
    ));
    let gateway = Arc::new(TwilioGateway::new(
        shared::adapters::outbound_http::client(),
        &twilio_base,
        Duration::from_secs(10),
    ));
    let ingestor = Arc::new(Ingestor {
        store: local.store.clone(),
        usage: local.store.clone(),
        projects: local.store.clone(),
        blobs: local.blobs.clone(),
        embedder: retriever.embedder.clone(),
        index: retriever.index.clone(),
        concurrency: DEFAULT_CONCURRENCY,
    });
    // As the template sets it for the webhook and the reply worker.
    let burst_window = shared::config::sms_burst_window(&shared::config::Env::process())?;
    let replier = Arc::new(ReplyWorker {
        store: local.store.clone(),
        search: retriever.clone(),
        chat: chat.clone(),
        gateway: gateway.clone(),
        cipher: local.cipher.clone(),
        public_base_url: webhook_base_url.clone(),
        retry: SendRetry::default(),
        burst_window,
        clock: Arc::new(shared::ports::SystemClock),
    });

    let (stop, stopped) = watch::channel(false);
    let store = local.store.clone();
    let cleanup_worker = tokio::spawn(drive_queue(
        local.sqs.clone(),
        local.cleanup_queue_url.clone(),
        stopped.clone(),
        move |id, body, _| {
            let store = store.clone();
            async move { handle_message(store.as_ref(), &id, &body).await }
        },
    ));
    // Lambda's second event source mapping on the ingest worker.
    let dead_ingest_jobs = {
        let ingestor = Arc::clone(&ingestor);
        tokio::spawn(drive_queue(
            local.sqs.clone(),
            local.ingest_dead_letter_queue_url.clone(),
            stopped.clone(),
            move |id, body, _| {
                let ingestor = Arc::clone(&ingestor);
                async move { ingestor.handle_dead_letter(&id, &body).await }
            },
        ))
    };
    let ingest_worker = tokio::spawn(drive_queue(
        local.sqs.clone(),
        local.ingest_queue_url.clone(),
        stopped.clone(),
        move |id, body, delivery| {
            let ingestor = Arc::clone(&ingestor);
            async move { ingestor.handle_message(&id, &body, delivery).await }
        },
    ));
    let reply_worker = tokio::spawn(drive_queue(
        local.sqs.clone(),
        local.reply_queue_url.clone(),
        stopped.clone(),
        move |id, body, _| {
            let replier = Arc::clone(&replier);
            async move { replier.handle_message(&id, &body).await }
        },
    ));

    // Webhooks: the feed off the table's stream, the worker on both lanes'
    // queues, each message on a task of its own as Lambda scales out.
    let dispatcher = EventDispatcher {
        webhooks: local.store.clone(),
        deliveries: local.store.clone(),
        queue: local.webhook_queue(),
        clock: Arc::new(shared::ports::SystemClock),
    };
    let sender: Arc<HttpWebhookSender> = Arc::new(if webhooks.loopback_only {
        HttpWebhookSender::confined_to_loopback(ATTEMPT_TIMEOUT)
    } else {
        HttpWebhookSender::new(webhooks.policy)
    });
    let lane = |lane| {
        Arc::new(WebhookDeliverer {
            dispatcher: dispatcher.clone(),
            sender: sender.clone(),
            cipher: local.cipher.clone(),
            schedule: webhooks.schedule.clone(),
            failing_queue: local.webhook_failing_queue(),
            lane,
            opened: Default::default(),
        })
    };
    let lanes = [
        (lane(Lane::Healthy), local.webhook_queue_url.clone(), 64),
        // Enough for a dead endpoint's 10 s attempts at a few events a
        // second, as bench-webhooks runs them.
        (
            lane(Lane::Failing),
            local.webhook_failing_queue_url.clone(),
            64,
        ),
    ];
    let webhook_workers: Vec<_> = lanes
        .into_iter()
        .map(|(deliverer, queue_url, in_flight)| {
            tokio::spawn(drive_queue_concurrently(
                local.sqs.clone(),
                queue_url,
                stopped.clone(),
                in_flight,
                move |id, body, _| {
                    let deliverer = Arc::clone(&deliverer);
                    async move { deliverer.handle_message(&id, &body).await }
                },
            ))
        })
        .collect();
    let stream = stream_of(&local.aws, &local.table).await?;
    let event_feed = tokio::spawn(drive_stream(
        StreamReader::new(&local.aws, stream),
        local.store.clone(),
        Arc::new(EventFeed {
            dispatcher,
            events_of: shared::http::events::events_of,
        }),
        stopped.clone(),
    ));
    let inbox = Inbox::default();

    let webhook = SmsWebhook::new(
        local.store.clone(),
        local.cipher.clone(),
        Arc::new(SqsQueue::new(local.sqs.clone(), &local.reply_queue_url)),
    )
    .with_burst_window(burst_window);
    let webhook_app = sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: Some(webhook_base_url.clone()),
    });
    let sms = SmsBackends {
        cipher: local.cipher.clone(),
        gateway,
        public_base_url: webhook_base_url.clone(),
        clock: Arc::new(shared::ports::SystemClock),
    };
    let api = all_routes_router(&local.backends(retriever, chat, sms));
    let demo = seed_widget_demo(
        &api,
        seed.workspace_id.as_str(),
        &seed.keys["owner"],
        &demo_origin,
    )
    .await?;
    let app = api
        .route("/api/openapi.json", axum::routing::get(openapi_document))
        .route("/api/docs", axum::routing::get(api_docs))
        .route("/api/docs/{name}", axum::routing::get(api_docs_asset))
        .merge(disallowed_page(&base_url, &demo.assistant_id))
        .nest(
            "/_local",
            devtools::emulators::router(Emulators {
                embeddings: EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
                pinecone: PineconeEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
                chat: ChatEmulator::new(Latency::default()).with_pace(StreamPace::visible()),
                twilio: TwilioEmulator::with_demo_account(),
                outages: Default::default(),
            })
            .nest("/webhooks", inbox.router()),
        );
    // Where this stack lives, for the `text` command in another terminal.
    let stack = devtools::local::StackFile {
        aws_endpoint_url: require_loopback_endpoint()?,
        names: ResourceNames::from_env_or_defaults(),
        api_base_url: base_url.clone(),
        webhook_base_url: webhook_base_url.clone(),
        twilio_api_base_url: twilio_base.clone(),
        widget_demo_url: format!("{demo_origin}/"),
        widget_disallowed_url: format!("{base_url}/widget/demo"),
        widget_assistant_id: demo.assistant_id.clone(),
    };
    stack.write()?;
    write_lambda_env(&local, &stack, &local_base, &chat_env)?;

    println!("\nIllumiChat dev server on {base_url}");
    println!("SMS webhook (the Function URL) on {webhook_base_url}");
    println!(
        "demo workspace {} (seed written to {})\n",
        seed.workspace_id,
        seed_path.display()
    );
    println!("{}", curl_examples(&seed));
    println!(
        "Twilio: {twilio_base} (emulator account {DEMO_ACCOUNT_SID}, auth token {DEMO_AUTH_TOKEN}, number {DEMO_NUMBER})"
    );
    println!("chat model: {chat_base}");
    println!(
        "API reference: {base_url}/api/docs (the OpenAPI document: {base_url}/api/openapi.json)\n"
    );
    println!("{}", sms_examples(&seed));
    println!("{}", chat_examples(&seed));
    println!(
        "# the widget: open {demo_origin}/ in a browser and chat with Acme Help ({}), which answers from its FAQ project;\n# {base_url}/widget/demo is the same page on an origin the widget does not allow: no widget there",
        demo.assistant_id
    );
    println!("{}", widget_examples(&seed, &demo));
    println!("{}", webhook_examples(&seed));
    println!("Ctrl-C stops everything.");
    let demo_app = demo_site(&base_url, &demo.assistant_id);
    let mut demo_stopped = stopped.clone();
    let demo_server = tokio::spawn(async move {
        let _ = axum::serve(demo_listener, demo_app)
            .with_graceful_shutdown(async move {
                let _ = demo_stopped.changed().await;
            })
            .await;
    });
    let mut webhook_stopped = stopped;
    let webhook_server = tokio::spawn(async move {
        let _ = axum::serve(webhook_listener, webhook_app)
            .with_graceful_shutdown(async move {
                let _ = webhook_stopped.changed().await;
            })
            .await;
    });
    // The TCP peer is each request's client address (API Gateway's
    // sourceIp in AWS), which the widget's limits count by.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_requested())
    .await?;
    let _ = stop.send(true);
    let _ = cleanup_worker.await;
    let _ = ingest_worker.await;
    let _ = dead_ingest_jobs.await;
    let _ = reply_worker.await;
    for worker in webhook_workers {
        let _ = worker.await;
    }
    let _ = event_feed.await;
    let _ = webhook_server.await;
    let _ = demo_server.await;
    Ok(())
}

/// Ctrl-C in the terminal, or SIGTERM from the script that started us.
async fn stop_requested() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

/// The functions' settings on this stack, for one function's own binary
/// run under cargo-lambda's emulator (`cargo lambda watch --env-file`):
/// `.dev/lambda.env`, or `LAMBDA_ENV_FILE`. The chat model is the one this
/// server answers with.
fn write_lambda_env(
    local: &LocalStack,
    stack: &devtools::local::StackFile,
    providers: &str,
    chat_env: &[(String, String)],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut vars = function_environment(
        local,
        &stack.names,
        providers,
        &stack.webhook_base_url,
        ProviderKeys::Emulators,
    );
    for (name, value) in chat_env {
        set(&mut vars, name, value);
    }
    set(&mut vars, "TWILIO_API_BASE_URL", &stack.twilio_api_base_url);
    let path = PathBuf::from(
        std::env::var("LAMBDA_ENV_FILE").unwrap_or_else(|_| ".dev/lambda.env".into()),
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, devtools::lambda_env::env_file(&vars)?)?;
    Ok(())
}
