//! A local stand-in for the Lambda Runtime API (`2018-06-01`), so a
//! function's own release binary (its bootstrap, configuration and
//! runtime loop, not only its router) runs here as Lambda runs it: the
//! binary is started with `AWS_LAMBDA_RUNTIME_API` pointing at this server,
//! asks it for the next event, and posts the response (buffered or
//! streamed) or the error. `sam local` would do the same in a container
//! image this machine cannot pull; cargo-lambda's emulator would add a
//! build tool to CI. This is the four endpoints the runtime uses, no more.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";
/// What a streamed response's prelude (its status and headers) and its
/// body are separated by, as Lambda's streaming protocol defines it.
const PRELUDE_END: [u8; 8] = [0; 8];

/// How one invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The handler's answer: its bytes, and whether it was streamed.
    Response { body: Vec<u8>, streamed: bool },
    /// `invocation/{id}/error`: the runtime's `errorType` and message.
    Error(String),
}

/// An API Gateway answer read out of a response, either form.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
}

impl Outcome {
    /// The HTTP answer an API Gateway (or Function URL) response holds:
    /// `{statusCode, headers, body, isBase64Encoded}` when buffered, the
    /// JSON prelude, eight zero bytes, then the body when streamed.
    pub fn http(&self) -> Result<HttpAnswer, String> {
        use base64::Engine;
        let Outcome::Response { body, streamed } = self else {
            return Err(format!("the function failed: {self:?}"));
        };
        if *streamed {
            let split = body
                .windows(PRELUDE_END.len())
                .position(|w| w == PRELUDE_END)
                .ok_or("a streamed response without its prelude")?;
            let prelude: serde_json::Value =
                serde_json::from_slice(&body[..split]).map_err(|e| e.to_string())?;
            return Ok(HttpAnswer {
                status: prelude["statusCode"].as_u64().unwrap_or(200) as u16,
                headers: prelude["headers"].clone(),
                body: body[split + PRELUDE_END.len()..].to_vec(),
            });
        }
        let response: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let text = response["body"].as_str().unwrap_or_default();
        let body = if response["isBase64Encoded"].as_bool() == Some(true) {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| e.to_string())?
        } else {
            text.as_bytes().to_vec()
        };
        Ok(HttpAnswer {
            status: response["statusCode"].as_u64().unwrap_or(0) as u16,
            headers: response["headers"].clone(),
            body,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("the function did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("the function failed to start: {0}")]
    InitFailed(String),
}

struct Invocation {
    id: String,
    event: Vec<u8>,
}

#[derive(Clone)]
struct Shared {
    next: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
    init_error: Arc<Mutex<Option<String>>>,
    /// When the function first asked for an event: its init ended there.
    first_asked: Arc<Mutex<Option<Instant>>>,
    function_arn: String,
}

/// The server, on a loopback port, for one function.
pub struct RuntimeApi {
    address: String,
    invocations: mpsc::UnboundedSender<Invocation>,
    shared: Shared,
    served: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.served.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl RuntimeApi {
    pub async fn start(function_name: &str) -> std::io::Result<Self> {
        let (invocations, next) = mpsc::unbounded_channel();
        let shared = Shared {
            next: Arc::new(tokio::sync::Mutex::new(next)),
            waiting: Arc::default(),
            init_error: Arc::default(),
            first_asked: Arc::default(),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
        };
        let router = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next_invocation))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let served = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            address,
            invocations,
            shared,
            served,
        })
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` takes it.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Hands `event` to the function's next `invocation/next` and waits for
    /// its answer.
    pub async fn invoke(&self, event: &[u8], within: Duration) -> Result<Outcome, InvokeError> {
        let id = format!("{:032x}", rand::random::<u128>());
        let (answered, answer) = oneshot::channel();
        lock(&self.shared.waiting).insert(id.clone(), answered);
        let _ = self.invocations.send(Invocation {
            id,
            event: event.to_vec(),
        });
        match tokio::time::timeout(within, answer).await {
            Ok(Ok(outcome)) => Ok(outcome),
            _ => Err(match lock(&self.shared.init_error).clone() {
                Some(reason) => InvokeError::InitFailed(reason),
                None => InvokeError::TimedOut(within),
            }),
        }
    }

    /// When the function first asked for an event, which is when Lambda
    /// counts its init as done.
    pub fn first_asked(&self) -> Option<Instant> {
        *lock(&self.shared.first_asked)
    }

    /// What the function reported to `init/error`, if it failed to start.
    pub fn init_error(&self) -> Option<String> {
        lock(&self.shared.init_error).clone()
    }
}

async fn next_invocation(State(shared): State<Shared>) -> Response {
    lock(&shared.first_asked).get_or_insert_with(Instant::now);
    let Some(invocation) = shared.next.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 900_000;
    let mut response = Response::new(Body::from(invocation.event));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", invocation.id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set("lambda-runtime-invoked-function-arn", shared.function_arn);
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    response
}

fn answer(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match lock(&shared.waiting).remove(id) {
        Some(waiting) => {
            let _ = waiting.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let streamed = headers
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|mode| mode.as_bytes().eq_ignore_ascii_case(b"streaming"));
    answer(
        &shared,
        &id,
        Outcome::Response {
            body: body.to_vec(),
            streamed,
        },
    )
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(
        &shared,
        &id,
        Outcome::Error(String::from_utf8_lossy(&body).into_owned()),
    )
}

async fn init_error(State(shared): State<Shared>, body: Bytes) -> StatusCode {
    *lock(&shared.init_error) = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime's side of one invocation, as `lambda_runtime` speaks it.
    async fn serve_one(
        address: &str,
        answer: impl FnOnce(&str, Vec<u8>) -> reqwest::RequestBuilder,
    ) {
        let client = crate::http_client();
        let next = client
            .get(format!("http://{address}{PREFIX}/invocation/next"))
            .send()
            .await
            .unwrap();
        let id = next.headers()["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(next.headers().contains_key("lambda-runtime-deadline-ms"));
        let event = next.bytes().await.unwrap().to_vec();
        let status = answer(&id, event).send().await.unwrap().status();
        assert_eq!(status, 202);
    }

    #[tokio::test]
    async fn an_event_goes_to_the_runtime_and_its_buffered_answer_comes_back() {
        let api = RuntimeApi::start("demo").await.unwrap();
        let address = api.address().to_owned();
        let runtime = tokio::spawn(async move {
            serve_one(&address, |id, event| {
                assert_eq!(event, br#"{"ping":1}"#);
                crate::http_client()
                    .post(format!("http://{address}{PREFIX}/invocation/{id}/response"))
                    .body(r#"{"statusCode":201,"headers":{"a":"b"},"body":"eyJvayI6dHJ1ZX0=","isBase64Encoded":true}"#)
            })
            .await;
        });
        let outcome = api
            .invoke(br#"{"ping":1}"#, Duration::from_secs(5))
            .await
            .unwrap();
        runtime.await.unwrap();
        let http = outcome.http().unwrap();
        assert_eq!(http.status, 201);
        assert_eq!(http.headers["a"], "b");
        assert_eq!(http.body, br#"{"ok":true}"#);
    }

    #[tokio::test]
    async fn a_streamed_answer_is_read_past_its_prelude_and_an_error_is_reported() {
        let api = RuntimeApi::start("demo").await.unwrap();
        let address = api.address().to_owned();
        let runtime = tokio::spawn(async move {
            serve_one(&address, |id, _| {
                let mut body =
                    br#"{"statusCode":200,"headers":{"content-type":"text/event-stream"}}"#
                        .to_vec();
                body.extend_from_slice(&PRELUDE_END);
                body.extend_from_slice(b"event: done\ndata: {}\n\n");
                crate::http_client()
                    .post(format!("http://{address}{PREFIX}/invocation/{id}/response"))
                    .header("Lambda-Runtime-Function-Response-Mode", "streaming")
                    .body(body)
            })
            .await;
            serve_one(&address, |id, _| {
                crate::http_client()
                    .post(format!("http://{address}{PREFIX}/invocation/{id}/error"))
                    .body(r#"{"errorType":"Panic","errorMessage":"boom"}"#)
            })
            .await;
        });
        let streamed = api.invoke(b"{}", Duration::from_secs(5)).await.unwrap();
        let http = streamed.http().unwrap();
        assert_eq!(http.status, 200);
        assert_eq!(http.body, b"event: done\ndata: {}\n\n");
        let failed = api.invoke(b"{}", Duration::from_secs(5)).await.unwrap();
        assert!(matches!(&failed, Outcome::Error(e) if e.contains("boom")));
        assert!(failed.http().is_err());
        runtime.await.unwrap();
    }

    #[tokio::test]
    async fn a_function_that_never_asks_times_out_and_an_init_error_is_named() {
        let api = RuntimeApi::start("demo").await.unwrap();
        assert!(matches!(
            api.invoke(b"{}", Duration::from_millis(100)).await,
            Err(InvokeError::TimedOut(_))
        ));
        crate::http_client()
            .post(format!("http://{}{PREFIX}/init/error", api.address()))
            .body(r#"{"errorType":"Config","errorMessage":"TABLE_NAME is not set"}"#)
            .send()
            .await
            .unwrap();
        match api.invoke(b"{}", Duration::from_millis(100)).await {
            Err(InvokeError::InitFailed(reason)) => assert!(reason.contains("TABLE_NAME")),
            other => panic!("{other:?}"),
        }
    }
}
