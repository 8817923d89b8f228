//! Local stand-ins for the providers, speaking their wire formats, so the
//! production adapters are what runs locally and in tests. The dev server
//! mounts them under `/_local/...` on its own port.

pub mod chat;
pub mod embeddings;
pub mod outages;
pub mod pinecone;
pub mod twilio;

use std::time::Duration;

/// An artificial delay per call, to measure batching and concurrency
/// against a provider that is not instant (the ingest benchmark).
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency(pub Duration);

impl Latency {
    pub async fn wait(self) {
        if !self.0.is_zero() {
            tokio::time::sleep(self.0).await;
        }
    }
}

/// How long an emulator worked on each call it answered, past its fixed
/// latency: the provider's own time, which a benchmark counts on its
/// critical path (here it runs on the benchmark's cores).
#[derive(Clone, Debug, Default)]
pub struct ServiceTimes(std::sync::Arc<std::sync::Mutex<Vec<Duration>>>);

impl ServiceTimes {
    /// Starts timing one call; the time is recorded when the guard drops,
    /// after the handler's response is built.
    pub fn start(&self) -> ServiceTimer {
        ServiceTimer {
            times: self.clone(),
            started: std::time::Instant::now(),
        }
    }

    /// Every call's time so far, in the order they finished.
    pub fn all(&self) -> Vec<Duration> {
        self.0.lock().expect("service times").clone()
    }
}

pub struct ServiceTimer {
    times: ServiceTimes,
    started: std::time::Instant,
}

impl Drop for ServiceTimer {
    fn drop(&mut self) {
        let took = self.started.elapsed();
        self.times.0.lock().expect("service times").push(took);
    }
}

/// Dimensions of the local lexical embedding (and of the local index).
pub const LOCAL_DIMENSIONS: usize = 1024;

/// Every emulator on one router, to mount under a prefix:
/// `/openai/v1/embeddings`, `/openai/v1/chat/completions`, `/pinecone/...`
/// and `/twilio/2010-04-01/...`.
pub struct Emulators {
    pub embeddings: embeddings::EmbeddingsEmulator,
    pub pinecone: pinecone::PineconeEmulator,
    pub chat: chat::ChatEmulator,
    pub twilio: twilio::TwilioEmulator,
    /// Failures queued for the embeddings API and the index.
    pub outages: outages::Outages,
}

impl Emulators {
    /// Every emulator, the search ones with `latency`, Twilio with its demo
    /// account.
    pub fn local(latency: Latency) -> Self {
        Self {
            embeddings: embeddings::EmbeddingsEmulator::new(LOCAL_DIMENSIONS, latency),
            pinecone: pinecone::PineconeEmulator::new(LOCAL_DIMENSIONS, latency),
            chat: chat::ChatEmulator::new(latency),
            twilio: twilio::TwilioEmulator::with_demo_account(),
            outages: outages::Outages::default(),
        }
    }
}

/// The SMS routes' dependencies against the Twilio emulator under `base`.
pub fn local_sms_backends(
    base: &str,
    cipher: std::sync::Arc<dyn shared::ports::SecretCipher>,
    webhook_base_url: &str,
) -> shared::http::SmsBackends {
    shared::http::SmsBackends {
        cipher,
        gateway: std::sync::Arc::new(local_twilio(base)),
        public_base_url: webhook_base_url.to_owned(),
        clock: std::sync::Arc::new(shared::ports::SystemClock),
    }
}

/// The key the local adapters send, and the only one the emulators take:
/// like their real counterparts, they refuse a request without it (401 in
/// each provider's own shape), so a client that forgets its key fails here
/// as it would in production.
pub const LOCAL_KEY: &str = "local-provider-key-0emulator";

async fn openai_key(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let expected = format!("Bearer {LOCAL_KEY}");
    let sent = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if sent == Some(expected.as_str()) {
        return next.run(request).await;
    }
    (
        axum::http::StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"
        }})),
    )
        .into_response()
}

async fn pinecone_key(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let sent = request
        .headers()
        .get("api-key")
        .and_then(|v| v.to_str().ok());
    if sent == Some(LOCAL_KEY) {
        return next.run(request).await;
    }
    (
        axum::http::StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401})),
    )
        .into_response()
}

pub fn router(emulators: Emulators) -> axum::Router {
    let outages = emulators.outages;
    axum::Router::new()
        .nest(
            "/openai/v1",
            emulators
                .embeddings
                .router()
                .merge(emulators.chat.router())
                .layer(axum::middleware::from_fn_with_state(
                    outages.clone(),
                    outages::embeddings,
                ))
                .layer(axum::middleware::from_fn(openai_key)),
        )
        .nest(
            "/pinecone",
            emulators
                .pinecone
                .router()
                .layer(axum::middleware::from_fn_with_state(
                    outages,
                    outages::pinecone,
                ))
                .layer(axum::middleware::from_fn(pinecone_key)),
        )
        .nest("/twilio", emulators.twilio.router())
}

/// The production adapters, pointed at emulators served under `base`
/// (e.g. `http://127.0.0.1:3000/_local`).
pub fn local_retriever(base: &str) -> shared::adapters::retriever::Retriever {
    use secrecy::SecretString;
    use shared::adapters::providers::RetryPolicy;
    use shared::adapters::providers::embeddings::{EmbeddingsConfig, OpenAiEmbedder};
    use shared::adapters::providers::pinecone::{PineconeConfig, PineconeIndex};
    let http = shared::adapters::outbound_http::client();
    shared::adapters::retriever::RetrieverOf {
        embedder: OpenAiEmbedder::new(
            http.clone(),
            EmbeddingsConfig {
                base_url: format!("{base}/openai/v1"),
                api_key: SecretString::from(LOCAL_KEY),
                model: "local-lexical".into(),
                dimensions: None,
                timeout: Duration::from_secs(30),
            },
            RetryPolicy::default(),
        ),
        index: PineconeIndex::new(
            http,
            PineconeConfig {
                index_host: format!("{base}/pinecone"),
                api_key: SecretString::from(LOCAL_KEY),
                timeout: Duration::from_secs(30),
            },
            RetryPolicy::default(),
        ),
        min_score: LOCAL_MIN_SCORE,
    }
}

/// Twilio through the production adapter, at the emulator under `base`.
pub fn local_twilio(base: &str) -> shared::adapters::twilio::TwilioGateway {
    local_twilio_timing_out_after(base, Duration::from_secs(10))
}

/// The same, giving up on an answer after `timeout`: tests whose Twilio
/// takes a message and never answers.
pub fn local_twilio_timing_out_after(
    base: &str,
    timeout: Duration,
) -> shared::adapters::twilio::TwilioGateway {
    shared::adapters::twilio::TwilioGateway::new(
        shared::adapters::outbound_http::client(),
        format!("{base}/twilio"),
        timeout,
    )
}

/// The production chat client, at the local model under `base`.
pub fn local_chat(base: &str) -> shared::adapters::providers::chat::OpenAiChat {
    use secrecy::SecretString;
    use shared::adapters::providers::RetryPolicy;
    use shared::adapters::providers::chat::{ChatConfig, OpenAiChat};
    OpenAiChat::new(
        shared::adapters::outbound_http::client(),
        ChatConfig {
            base_url: format!("{base}/openai/v1"),
            api_key: SecretString::from(LOCAL_KEY),
            timeout: Duration::from_secs(30),
            stream_timeout: Duration::from_secs(120),
        },
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            deadline: None,
        },
    )
}

/// Lexical vectors of a short question and a 500-token chunk share few
/// words, so their cosine is low even when the chunk holds the answer; the
/// local threshold is set for them, not for a real embedding model.
pub const LOCAL_MIN_SCORE: f32 = 0.05;

/// Serves a router on a free loopback port for the rest of the test; returns
/// its base URL.
pub async fn serve_on_loopback(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}")
}
