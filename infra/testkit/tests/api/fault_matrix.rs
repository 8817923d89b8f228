//! Every dependency down, one at a time, under a route that needs it: the
//! API answers a JSON 503 with `Retry-After` (never a 500, never the
//! dependency's own words), and reading everything back shows nothing was
//! half written.

use axum::http::{Method, StatusCode};
use devtools::emulators::outages::Provider;
use serde_json::{Value, json};
use shared::adapters::memory::Fault;
use testkit::{Fixture, MemoryStack};

/// What a dependency's outage is, as the test sets it up and clears it.
#[derive(Clone, Copy, Debug)]
enum Down {
    Database,
    FileStore,
    Queue,
    KeyService,
    Index,
    Embeddings,
    Model,
    Twilio,
}

const ALL: [Down; 8] = [
    Down::Database,
    Down::FileStore,
    Down::Queue,
    Down::KeyService,
    Down::Index,
    Down::Embeddings,
    Down::Model,
    Down::Twilio,
];

/// More failures than any adapter's retry budget takes.
const OUTAGE: [u16; 8] = [503; 8];

impl Down {
    async fn start(self, stack: &MemoryStack, fixture: &Fixture) {
        match self {
            Down::Database => {
                stack.aim_past_the_membership(fixture).await;
                stack.store.faults().fail_next(1, Fault::Unavailable);
            }
            Down::FileStore => stack.blobs.set_unavailable(true),
            Down::Queue => stack.ingest.set_unavailable(true),
            Down::KeyService => stack.cipher.set_unavailable(true),
            Down::Index => stack.outages.fail_next(Provider::Pinecone, OUTAGE),
            Down::Embeddings => stack.outages.fail_next(Provider::Embeddings, OUTAGE),
            Down::Model => stack.sms.chat.fail_next(OUTAGE),
            Down::Twilio => stack.sms.twilio.fail_next_lookups(OUTAGE),
        }
    }

    /// The switches back on (queued provider failures touch nothing the
    /// read-back calls).
    fn end(stack: &MemoryStack) {
        stack.blobs.set_unavailable(false);
        stack.ingest.set_unavailable(false);
        stack.cipher.set_unavailable(false);
    }

    /// A route that needs the dependency: method, path and body.
    fn request(self, f: &Fixture) -> (Method, String, Option<Value>) {
        let ws = f.ws();
        let ast = &f.private_assistant;
        match self {
            Down::Database => (
                Method::POST,
                format!("/api/workspaces/{ws}/assistants"),
                Some(json!({"name": "Later"})),
            ),
            Down::FileStore | Down::Queue => (Method::POST, documents(f), None),
            Down::KeyService => (
                Method::PUT,
                format!("/api/workspaces/{ws}/assistants/{ast}/sms"),
                Some(testkit::sms::demo_settings()),
            ),
            Down::Index | Down::Embeddings => (
                Method::POST,
                format!("/api/workspaces/{ws}/assistants/{ast}/search"),
                Some(json!({"query": "How long do refunds take?"})),
            ),
            Down::Model => (
                Method::POST,
                format!(
                    "/api/workspaces/{ws}/conversations/{}/messages",
                    f.owner_conversation
                ),
                Some(json!({"content": "How long do refunds take?"})),
            ),
            Down::Twilio => (
                Method::POST,
                format!("/api/workspaces/{ws}/assistants/{ast}/sms/test"),
                Some(json!({
                    "twilioAccountSid": testkit::sms::ACCOUNT_SID,
                    "twilioAuthToken": testkit::sms::AUTH_TOKEN,
                    "phoneNumber": testkit::sms::NUMBER,
                })),
            ),
        }
    }
}

fn documents(f: &Fixture) -> String {
    format!(
        "/api/workspaces/{}/projects/{}/documents",
        f.ws(),
        f.project
    )
}

/// Sends the request as the owner: status, `Retry-After`, body.
async fn send(stack: &MemoryStack, f: &Fixture, down: Down) -> (StatusCode, Option<String>, Value) {
    let (method, path, body) = down.request(f);
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", f.key("owner")))
        .header("accept", "application/json");
    let body = match (down, body) {
        (Down::FileStore | Down::Queue, _) => {
            let boundary = "----fault-matrix";
            request = request.header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            );
            axum::body::Body::from(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.md\"\r\nContent-Type: text/markdown\r\n\r\n# Notes\n\nText.\r\n--{boundary}--\r\n"
            ))
        }
        (_, Some(body)) => {
            request = request.header("content-type", "application/json");
            axum::body::Body::from(body.to_string())
        }
        (_, None) => axum::body::Body::empty(),
    };
    let response = tower::ServiceExt::oneshot(stack.router(), request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, retry_after, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn every_dependency_down_is_a_503_with_retry_after_and_nothing_half_written() {
    for down in ALL {
        let stack = MemoryStack::start().await;
        let f = stack.fixture().await;
        stack.run_ingest().await;
        let before = stack.snapshot(&f).await;
        down.start(&stack, &f).await;
        let (status, retry_after, body) = send(&stack, &f, down).await;
        Down::end(&stack);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{down:?}: {body}");
        assert!(retry_after.is_some(), "{down:?}: no Retry-After");
        assert_eq!(body["code"], "unavailable:api", "{down:?}: {body}");
        let text = body.to_string();
        for internal in [
            "injected",
            "Fault",
            "127.0.0.1",
            "overloaded",
            "UNAVAILABLE",
        ] {
            assert!(
                !text.contains(internal),
                "{down:?} leaks {internal}: {text}"
            );
        }
        assert_eq!(
            stack.snapshot(&f).await,
            before,
            "{down:?}: something was half written"
        );
    }
}
