//! Test support: a fresh, isolated set of resources on the local server for
//! each test, a counter of DynamoDB round trips, and a one-call client for
//! routers.

use crate::emulators::embeddings::EmbeddingsEmulator;
use crate::emulators::pinecone::PineconeEmulator;
use crate::emulators::{self, LOCAL_DIMENSIONS, Latency, local_retriever};
use crate::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use crate::seed::{Seed, seed_demo};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use shared::adapters::providers::embeddings::OpenAiEmbedder;
use shared::adapters::providers::pinecone::PineconeIndex;
use shared::adapters::round_trips::RoundTripCounter;
use shared::cleanup::MessageOutcome;
use shared::http::{AppState, all_routes, finish, search};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::rag::Retriever;
use std::sync::Arc;
use tower::ServiceExt;

#[derive(Clone)]
pub struct TestStack {
    pub local: LocalStack,
    pub round_trips: RoundTripCounter,
    pub state: AppState,
    pub retriever: Arc<Retriever>,
    pub ingestor: Arc<Ingestor<OpenAiEmbedder, PineconeIndex>>,
    pub pinecone: PineconeEmulator,
}

impl TestStack {
    /// Provisions a table and queues of its own on the local server that
    /// `./infra/test` started.
    pub async fn start() -> Self {
        if let Err(problem) = require_loopback_endpoint() {
            panic!("{problem}");
        }
        let aws = shared::config::load_aws().await;
        let round_trips = RoundTripCounter::default();
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&aws)
                .interceptor(round_trips.clone())
                .build(),
        );
        let local = LocalStack::provision(aws, dynamo, &ResourceNames::unique("test"))
            .await
            .expect("the local stack accepts the resources");
        let state = local.app_state();
        let pinecone = PineconeEmulator::new(LOCAL_DIMENSIONS, Latency::default());
        let base = serve_on_loopback(emulators::router(
            EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
            pinecone.clone(),
        ))
        .await;
        let retriever = local_retriever(&base);
        let ingestor = Ingestor {
            store: local.store.clone(),
            blobs: local.blobs.clone(),
            embedder: retriever.embedder.clone(),
            index: retriever.index.clone(),
            concurrency: DEFAULT_CONCURRENCY,
        };
        Self {
            local,
            round_trips,
            state,
            retriever: Arc::new(retriever),
            ingestor: Arc::new(ingestor),
            pinecone,
        }
    }

    pub fn router(&self) -> Router {
        finish(
            all_routes().merge(search::routes(Arc::clone(&self.retriever))),
            self.state.clone(),
        )
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

    /// Uploads a file through the router as `multipart/form-data`.
    pub async fn upload(
        &self,
        key: &str,
        path: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let boundary = "----illumichat-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("a well-formed upload");
        self.send(request).await
    }

    pub async fn seed(&self) -> Seed {
        seed_demo(&self.local.store, "http://test")
            .await
            .expect("the demo seed is written")
    }

    /// Sends one request through the router and returns the status and the
    /// body as JSON (`Value::Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let raw = body.map(|b| b.to_string());
        self.call_raw(method, path, key, raw).await
    }

    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("a well-formed test request");
        self.send(request).await
    }

    /// Sends a request through the router; the body comes back as JSON
    /// (`Value::Null` when empty).
    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self
            .router()
            .oneshot(request)
            .await
            .expect("the router never fails");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("the body is JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        (status, json)
    }
}

/// A seeded workspace with a public assistant and a private one, a private
/// project connected to that assistant (the member holds a grant on both),
/// and a spare project connected to nothing.
pub struct Fixture {
    pub seed: Seed,
    pub public_assistant: String,
    pub private_assistant: String,
    pub project: String,
    pub spare_project: String,
    /// A Markdown document uploaded to `project` (not yet ingested).
    pub document: String,
    /// The id of the owner's key (for routes about keys).
    pub owner_key_id: String,
}

impl Fixture {
    pub fn key(&self, role: &str) -> &str {
        &self.seed.keys[role]
    }

    pub fn user(&self, role: &str) -> &str {
        &self.seed.users[role]
    }

    pub fn ws(&self) -> &str {
        self.seed.workspace_id.as_str()
    }
}

impl TestStack {
    pub async fn fixture(&self) -> Fixture {
        let seed = self.seed().await;
        let owner = seed.keys["owner"].clone();
        let ws = seed.workspace_id.to_string();
        let create = |visibility: &'static str| {
            let owner = owner.clone();
            let ws = ws.clone();
            async move {
                let (status, body) = self
                    .call(
                        Method::POST,
                        &format!("/api/workspaces/{ws}/assistants"),
                        Some(&owner),
                        Some(serde_json::json!({"name": format!("{visibility} bot"), "visibility": visibility})),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                body["id"].as_str().expect("an id").to_owned()
            }
        };
        let public_assistant = create("public").await;
        let private_assistant = create("private").await;
        let create_project = |name: &'static str| {
            let owner = owner.clone();
            let ws = ws.clone();
            async move {
                let (status, body) = self
                    .call(
                        Method::POST,
                        &format!("/api/workspaces/{ws}/projects"),
                        Some(&owner),
                        Some(serde_json::json!({"name": name, "visibility": "private"})),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                body["id"].as_str().expect("an id").to_owned()
            }
        };
        let project = create_project("Product Documentation").await;
        let spare_project = create_project("Spare").await;
        let member = seed.users["member"].clone();
        for (path, method, body) in [
            (
                format!("assistants/{private_assistant}/access/{member}"),
                Method::PUT,
                None,
            ),
            (
                format!("projects/{project}/access/{member}"),
                Method::PUT,
                None,
            ),
            (
                format!("assistants/{private_assistant}/projects"),
                Method::POST,
                Some(serde_json::json!({"projectId": project})),
            ),
        ] {
            let (status, response) = self
                .call(
                    method,
                    &format!("/api/workspaces/{ws}/{path}"),
                    Some(&owner),
                    body,
                )
                .await;
            assert!(status.is_success(), "{path}: {status} {response}");
        }
        let (status, uploaded) = self
            .upload(
                &owner,
                &format!("/api/workspaces/{ws}/projects/{project}/documents"),
                "faq.md",
                b"# FAQ\n\nRefunds take five business days.",
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{uploaded}");
        let document = uploaded["id"].as_str().expect("an id").to_owned();
        let (_, keys) = self
            .call(Method::GET, "/api/api-keys", Some(&owner), None)
            .await;
        let owner_key_id = keys["data"][0]["id"].as_str().expect("a key").to_owned();
        Fixture {
            seed,
            public_assistant,
            private_assistant,
            project,
            spare_project,
            document,
            owner_key_id,
        }
    }

    /// Everything an owner can read about the fixture's workspace, to show
    /// that a refused request changed nothing.
    pub async fn snapshot(&self, fixture: &Fixture) -> Value {
        let ws = fixture.ws();
        let owner = fixture.key("owner");
        let mut snapshot = serde_json::Map::new();
        for path in [
            format!("/api/workspaces/{ws}"),
            format!("/api/workspaces/{ws}/members"),
            format!("/api/workspaces/{ws}/assistants"),
            format!(
                "/api/workspaces/{ws}/assistants/{}",
                fixture.public_assistant
            ),
            format!(
                "/api/workspaces/{ws}/assistants/{}",
                fixture.private_assistant
            ),
            format!(
                "/api/workspaces/{ws}/assistants/{}/access",
                fixture.private_assistant
            ),
            "/api/api-keys".to_owned(),
            format!("/api/workspaces/{ws}/projects"),
            format!("/api/workspaces/{ws}/projects/{}/access", fixture.project),
            format!(
                "/api/workspaces/{ws}/projects/{}/access",
                fixture.spare_project
            ),
            format!(
                "/api/workspaces/{ws}/projects/{}/documents",
                fixture.project
            ),
            format!(
                "/api/workspaces/{ws}/projects/{}/documents",
                fixture.spare_project
            ),
            format!(
                "/api/workspaces/{ws}/assistants/{}/projects",
                fixture.public_assistant
            ),
            format!(
                "/api/workspaces/{ws}/assistants/{}/projects",
                fixture.private_assistant
            ),
        ] {
            let (_, mut body) = self.call(Method::GET, &path, Some(owner), None).await;
            // The snapshot's own reads move the owner key's last use.
            if let Some(keys) = body["data"].as_array_mut() {
                for key in keys {
                    key.as_object_mut().map(|k| k.remove("lastUsedAt"));
                }
            }
            snapshot.insert(path, body);
        }
        Value::Object(snapshot)
    }
}

/// The placeholder ids and key in `events/*.json`, and what a test swaps in.
pub const EVENT_WORKSPACE: &str = "ws_wwwwwwwwwwwwwwww0001";
pub const EVENT_ASSISTANT: &str = "ast_aaaaaaaaaaaaaaaa0001";
pub const EVENT_USER: &str = "usr_uuuuuuuuuuuuuuuu0001";
pub const EVENT_KEY_ID: &str = "key_kkkkkkkkkkkkkkkk0001";
pub const EVENT_PROJECT: &str = "proj_pppppppppppppppp0001";
pub const EVENT_SPARE_PROJECT: &str = "proj_pppppppppppppppp0002";
pub const EVENT_DOCUMENT: &str = "doc_dddddddddddddddd0001";
pub const EVENT_API_KEY: &str = "ic_EXAMPLEkeyEXAMPLEkeyEXAMPLEkeyEXAMPLEkey";

impl TestStack {
    /// Feeds an API Gateway event file through `lambda_http`'s own
    /// deserialization and the function's router, as Lambda would, with the
    /// placeholders pointing at the fixture: the private assistant and
    /// project, the member (who holds grants on both), the owner's key.
    pub async fn replay_event(
        &self,
        router: Router,
        event: &str,
        fixture: &Fixture,
    ) -> (StatusCode, Value) {
        let event = event
            .replace(EVENT_WORKSPACE, fixture.ws())
            .replace(EVENT_ASSISTANT, &fixture.private_assistant)
            .replace(EVENT_USER, fixture.user("member"))
            .replace(EVENT_KEY_ID, &fixture.owner_key_id)
            .replace(EVENT_PROJECT, &fixture.project)
            .replace(EVENT_SPARE_PROJECT, &fixture.spare_project)
            .replace(EVENT_DOCUMENT, &fixture.document)
            .replace(EVENT_API_KEY, fixture.key("owner"));
        let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
        let response = shared::http::lambda::handle(router, request)
            .await
            .expect("the router never fails");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("the body is JSON")
        };
        (status, json)
    }
}

/// Every `*.json` file in `events/<function>/`, by file name.
pub fn event_files(function: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(function);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("readable event"),
            )
        })
        .collect();
    files.sort();
    files
}

/// Replays every event of `events/<folder>/` through `router`, each on a
/// fresh fixture, and checks it against `expected` (file name, status),
/// which must name every file.
pub async fn assert_every_event_answers(
    folder: &str,
    router: fn(&TestStack) -> Router,
    expected: &[(&str, u16)],
) {
    let stack = TestStack::start().await;
    let files = event_files(folder);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, expected_names, "every event file has an expectation");
    for ((name, event), (_, status)) in files.iter().zip(expected) {
        let fixture = stack.fixture().await;
        let (got, body) = stack.replay_event(router(&stack), event, &fixture).await;
        assert_eq!(got.as_u16(), *status, "{name}: {body}");
    }
}

/// Serves a router on a free loopback port for the rest of the test; returns
/// its base URL.
pub async fn serve_on_loopback(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}")
}
