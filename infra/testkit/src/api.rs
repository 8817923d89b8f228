//! Requests through a router as a client would send them, and the fixture
//! every route test starts from: shared by the local-stack and in-memory
//! harnesses.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use devtools::seed::Seed;
use serde_json::Value;
use tower::ServiceExt;

/// One router and the calls a test makes through it.
#[derive(Clone)]
pub struct Api {
    router: Router,
}

impl Api {
    pub fn new(router: Router) -> Self {
        crate::logs::install();
        Self {
            router: crate::documented::held_to_the_document(router),
        }
    }

    pub fn router(&self) -> Router {
        self.router.clone()
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
        // As a JSON client asks: a question is answered as one body, not a
        // stream (see `Api::ask_streaming` for the stream).
        request = request.header("accept", "application/json");
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("a well-formed test request");
        self.send(request).await
    }

    /// Posts a question as a browser's `EventSource`-style client would
    /// (`Accept: text/event-stream`) and reads the answer with a real SSE
    /// parser: the status and, for a stream, each event's name and data
    /// (JSON), in order. A non-stream answer comes back as one `"json"`
    /// event holding its body.
    pub async fn ask_streaming(
        &self,
        path: &str,
        key: &str,
        content: &str,
    ) -> (StatusCode, Vec<(String, Value)>) {
        let response = self.open_stream(path, key, content).await;
        let status = response.status();
        (status, read_events(response, usize::MAX).await)
    }

    /// The response to a streamed question, unread.
    pub async fn open_stream(
        &self,
        path: &str,
        key: &str,
        content: &str,
    ) -> axum::response::Response {
        crate::logs::forbid("a question", content);
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(Body::from(
                serde_json::json!({ "content": content }).to_string(),
            ))
            .expect("a well-formed test request");
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("the router never fails")
    }

    /// Sends a request through the router; the body comes back as JSON
    /// (`Value::Null` when empty).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router never fails");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable");
        crate::logs::assert_no_secret_in_response(&String::from_utf8_lossy(&bytes));
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("the body is JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        // A key is shown once, when it is made: never again, anywhere.
        if let Some(key) = json["key"].as_str() {
            crate::logs::forbid("an API key", key);
        }
        crate::logs::assert_clean();
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
    /// The number of the private assistant's SMS configuration.
    pub sms_number: String,
    /// A conversation the member started with the private assistant.
    pub member_conversation: String,
    /// One the owner started with it.
    pub owner_conversation: String,
    /// A webhook of the workspace (to a name no test sends to), and the
    /// pending delivery of a test event to it.
    pub webhook: String,
    pub webhook_delivery: String,
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

impl Api {
    /// The fixture on top of a fresh seed.
    /// The fixture on `seed`, its private assistant texting from
    /// `sms_number` (a number the stack's Twilio holds).
    pub async fn fixture_for(&self, seed: Seed, sms_number: &str) -> Fixture {
        for (role, key) in &seed.keys {
            crate::logs::forbid(&format!("the {role}'s API key"), key);
        }
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
            (
                format!("assistants/{private_assistant}/sms"),
                Method::PUT,
                Some(crate::twilio_account::settings_for(sms_number)),
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
        let start_conversation = |role: &'static str| {
            let key = seed.keys[role].clone();
            let ws = ws.clone();
            let assistant = private_assistant.clone();
            async move {
                let (status, body) = self
                    .call(
                        Method::POST,
                        &format!("/api/workspaces/{ws}/conversations"),
                        Some(&key),
                        Some(serde_json::json!({"assistantId": assistant})),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                body["id"].as_str().expect("an id").to_owned()
            }
        };
        let member_conversation = start_conversation("member").await;
        let owner_conversation = start_conversation("owner").await;
        let webhooks = format!("/api/workspaces/{ws}/webhooks");
        let (status, made) = self
            .call(
                Method::POST,
                &webhooks,
                Some(&owner),
                Some(serde_json::json!({"url": "https://hooks.example.com/in", "events": ["*"]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let webhook = made["id"].as_str().expect("an id").to_owned();
        let (status, _) = self
            .call(
                Method::POST,
                &format!("{webhooks}/{webhook}/test"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (_, page) = self
            .call(
                Method::GET,
                &format!("{webhooks}/{webhook}/deliveries"),
                Some(&owner),
                None,
            )
            .await;
        let webhook_delivery = page["data"][0]["id"]
            .as_str()
            .expect("a delivery")
            .to_owned();
        Fixture {
            seed,
            public_assistant,
            private_assistant,
            project,
            spare_project,
            document,
            owner_key_id,
            sms_number: sms_number.to_owned(),
            member_conversation,
            owner_conversation,
            webhook,
            webhook_delivery,
        }
    }

    /// The fixture's owner sets `assistant` up to answer texts on the
    /// Twilio emulator's demo account and number.
    pub async fn set_up_sms(&self, fixture: &Fixture, assistant: &str) {
        let (status, body) = self
            .call(
                axum::http::Method::PUT,
                &format!(
                    "/api/workspaces/{}/assistants/{assistant}/sms",
                    fixture.ws()
                ),
                Some(fixture.key("owner")),
                Some(crate::twilio_account::demo_settings()),
            )
            .await;
        assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    }

    /// Everything an owner can read about the fixture's workspace, each
    /// read with its status, to show that a refused request changed nothing
    /// (the harnesses add what the API cannot show: files, queued jobs,
    /// vectors).
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
                "/api/workspaces/{ws}/assistants/{}/widget",
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
            format!(
                "/api/workspaces/{ws}/assistants/{}/sms",
                fixture.private_assistant
            ),
            format!(
                "/api/workspaces/{ws}/assistants/{}/sms/analytics",
                fixture.private_assistant
            ),
            format!(
                "/api/workspaces/{ws}/assistants/{}/conversations",
                fixture.private_assistant
            ),
            format!(
                "/api/workspaces/{ws}/conversations/{}/messages",
                fixture.member_conversation
            ),
            format!(
                "/api/workspaces/{ws}/conversations/{}/messages",
                fixture.owner_conversation
            ),
        ] {
            let (status, mut body) = self.call(Method::GET, &path, Some(owner), None).await;
            // The snapshot's own reads move the owner key's last use.
            if let Some(keys) = body["data"].as_array_mut() {
                for key in keys {
                    key.as_object_mut().map(|k| k.remove("lastUsedAt"));
                }
            }
            snapshot.insert(
                path,
                serde_json::json!({ "status": status.as_u16(), "body": body }),
            );
        }
        Value::Object(snapshot)
    }
}

/// Up to `limit` events of a response, read as they arrive with a real SSE
/// parser; a JSON body is one `"json"` event.
pub async fn read_events(response: axum::response::Response, limit: usize) -> Vec<(String, Value)> {
    use eventsource_stream2::Eventsource;
    use futures_util::StreamExt;
    let is_stream = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_stream {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable");
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        return vec![("json".into(), json)];
    }
    let mut events = response.into_body().into_data_stream().eventsource();
    let mut read = Vec::new();
    while read.len() < limit {
        match events.next().await {
            Some(Ok(event)) => {
                let data = serde_json::from_str(&event.data)
                    .unwrap_or_else(|_| panic!("event data is JSON: {}", event.data));
                read.push((event.event, data));
            }
            Some(Err(error)) => panic!("the stream is valid SSE: {error}"),
            None => break,
        }
    }
    read
}
