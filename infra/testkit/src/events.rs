//! The sample events in `events/`, fed through `lambda_http`'s own
//! deserialization as Lambda would feed them.

use crate::api::Fixture;
use crate::memory::MemoryStack;
use axum::Router;
use axum::http::StatusCode;
use serde_json::Value;

pub use devtools::sample_events::{
    EVENT_API_KEY, EVENT_ASSISTANT, EVENT_CONVERSATION, EVENT_DELIVERY, EVENT_DOCUMENT,
    EVENT_KEY_ID, EVENT_MESSAGE, EVENT_PROJECT, EVENT_SIGNATURE, EVENT_SPARE_PROJECT, EVENT_USER,
    EVENT_WEBHOOK, EVENT_WIDGET_TOKEN, EVENT_WORKSPACE,
};

/// What a replay swaps into an event beyond the fixture's ids.
pub type Substitutions = Vec<(&'static str, String)>;
/// Prepares a fixture for a folder's events, answering what to swap in.
pub type Prepare =
    for<'a> fn(&'a MemoryStack, &'a Fixture) -> futures_util::future::BoxFuture<'a, Substitutions>;

/// Feeds an API Gateway event file through `lambda_http`'s own
/// deserialization and the function's router, as Lambda would, with the
/// placeholders pointing at the fixture: the private assistant and
/// project, the member (who holds grants on both), the owner's key.
pub async fn replay_event(router: Router, event: &str, fixture: &Fixture) -> (StatusCode, Value) {
    let event = event
        .replace(EVENT_WORKSPACE, fixture.ws())
        .replace(EVENT_ASSISTANT, &fixture.private_assistant)
        .replace(EVENT_USER, fixture.user("member"))
        .replace(EVENT_KEY_ID, &fixture.owner_key_id)
        .replace(EVENT_PROJECT, &fixture.project)
        .replace(EVENT_SPARE_PROJECT, &fixture.spare_project)
        .replace(EVENT_DOCUMENT, &fixture.document)
        .replace(EVENT_CONVERSATION, &fixture.owner_conversation)
        .replace(EVENT_WEBHOOK, &fixture.webhook)
        .replace(EVENT_DELIVERY, &fixture.webhook_delivery)
        .replace(EVENT_API_KEY, fixture.key("owner"));
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
    let response = shared::http::lambda::handle(router, request)
        .await
        .expect("the router never fails");
    let status = response.status();
    if response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
    {
        // A stream reads as its events: `[{"event", "data"}, ...]`.
        let events = crate::api::read_events(response, usize::MAX).await;
        let events = events
            .into_iter()
            .map(|(event, data)| serde_json::json!({ "event": event, "data": data }))
            .collect();
        return (status, Value::Array(events));
    }
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

/// What replaying one event file must answer: its status, and for each
/// JSON pointer into the answer the JSON it must hold, where `{workspace}`,
/// `{assistant}`, `{project}`, `{spare_project}`, `{document}` and
/// `{member}` stand for the fixture's ids.
pub struct Expected {
    pub file: &'static str,
    pub status: u16,
    pub body: &'static [(&'static str, &'static str)],
}

impl Expected {
    pub const fn new(
        file: &'static str,
        status: u16,
        body: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { file, status, body }
    }
}

fn with_fixture(text: &str, fixture: &Fixture) -> String {
    text.replace("{workspace}", fixture.ws())
        .replace("{assistant}", &fixture.private_assistant)
        .replace("{project}", &fixture.project)
        .replace("{spare_project}", &fixture.spare_project)
        .replace("{document}", &fixture.document)
        .replace("{member}", fixture.user("member"))
}

/// Replays every event of `events/<folder>/` through `router`, each on a
/// fresh fixture, and checks the answer against `expected`, which must name
/// every file. An empty answer (204) must be empty.
pub async fn assert_every_event_answers(
    folder: &str,
    router: fn(&MemoryStack) -> Router,
    expected: &[Expected],
) {
    assert_every_prepared_event_answers(folder, router, expected, |_, _| {
        Box::pin(async { Vec::new() })
    })
    .await;
}

/// [`assert_every_event_answers`], with each fixture prepared first and
/// what `prepare` answers swapped into every event.
pub async fn assert_every_prepared_event_answers(
    folder: &str,
    router: fn(&MemoryStack) -> Router,
    expected: &[Expected],
    prepare: Prepare,
) {
    let stack = MemoryStack::start().await;
    let files = event_files(folder);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|e| e.file).collect();
    assert_eq!(names, expected_names, "every event file has an expectation");
    for ((name, event), expect) in files.iter().zip(expected) {
        let fixture = stack.fixture().await;
        // The fixture's document indexed, so that search finds it.
        stack.run_ingest().await;
        let mut event = event.clone();
        for (placeholder, value) in prepare(&stack, &fixture).await {
            event = event.replace(placeholder, &value);
        }
        let (got, body) = replay_event(router(&stack), &event, &fixture).await;
        assert_eq!(got.as_u16(), expect.status, "{name}: {body}");
        if got == StatusCode::NO_CONTENT {
            assert_eq!(body, Value::Null, "{name}");
        }
        for (pointer, wanted) in expect.body {
            let wanted: Value = serde_json::from_str(&with_fixture(wanted, &fixture))
                .unwrap_or_else(|e| panic!("{name}: {wanted} is not JSON: {e}"));
            assert_eq!(
                body.pointer(pointer),
                Some(&wanted),
                "{name} at {pointer}: {body}"
            );
        }
    }
}

/// Feeds a Function URL event (payload 2.0) through `lambda_http`'s own
/// deserialization and the webhook's router, signed with `token`, for
/// `assistant`. Answers the status and the body as text.
pub async fn replay_webhook_event(
    router: Router,
    event: &str,
    assistant: &str,
    token: &str,
) -> (StatusCode, String) {
    let event = devtools::sample_events::sign_webhook_event(
        &event.replace(EVENT_ASSISTANT, assistant),
        token,
    )
    .expect("a sample Function URL event");
    let request = lambda_http::request::from_str(&event).expect("a valid Function URL event");
    let response = shared::http::lambda::handle(router, request)
        .await
        .expect("the router never fails");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body is readable");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
