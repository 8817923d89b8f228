//! The chat client's streamed answers: against the local model (the real
//! wire format), and against scripted streams that fail part way, that a
//! server sends in odd shapes, or that are refused before they start.

use devtools::emulators::chat::ChatEmulator;
use devtools::emulators::{Emulators, Latency, serve_on_loopback};
use futures_util::StreamExt;
use secrecy::SecretString;
use shared::adapters::providers::RetryPolicy;
use shared::adapters::providers::chat::{ChatConfig, OpenAiChat};
use shared::app::answer::PASSAGE_MARKER;
use shared::ports::{ChatEvent, ChatModel, ChatRequest, ProviderError, Speaker, Turn};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base_url: String) -> OpenAiChat {
    client_with_key(base_url, "sk-never-shown")
}

fn client_with_key(base_url: String, key: &str) -> OpenAiChat {
    OpenAiChat::new(
        shared::adapters::outbound_http::client(),
        ChatConfig {
            base_url,
            api_key: SecretString::from(key.to_owned()),
            timeout: Duration::from_secs(5),
            stream_timeout: Duration::from_secs(5),
        },
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            deadline: None,
        },
    )
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "local".into(),
        turns: vec![
            Turn {
                speaker: Speaker::System,
                content: format!(
                    "Answer from these.\n{PASSAGE_MARKER} 1 from \"hours.md\"]\nThe shop opens at nine every weekday morning.\n"
                ),
            },
            Turn {
                speaker: Speaker::User,
                content: "When does the shop open on a weekday?".into(),
            },
        ],
        temperature: 0.2,
        max_tokens: 200,
    }
}

async fn collect(chat: &OpenAiChat) -> Vec<Result<ChatEvent, ProviderError>> {
    chat.stream(&request()).await.unwrap().collect().await
}

#[tokio::test]
async fn a_streamed_answer_adds_up_to_the_whole_answer_and_ends_with_its_usage() {
    let base = serve_on_loopback(devtools::emulators::router(Emulators {
        chat: ChatEmulator::new(Latency::default()),
        ..Emulators::local(Latency::default())
    }))
    .await;
    let chat = client_with_key(format!("{base}/openai/v1"), devtools::emulators::LOCAL_KEY);
    let whole = chat.complete(&request()).await.unwrap();
    let events = collect(&chat).await;
    let mut text = String::new();
    let mut deltas = 0;
    for event in &events[..events.len() - 1] {
        match event {
            Ok(ChatEvent::Delta(piece)) => {
                text.push_str(piece);
                deltas += 1;
            }
            other => panic!("a delta before the end: {other:?}"),
        }
    }
    assert!(deltas > 1, "the answer came in pieces");
    assert_eq!(text, whole.text);
    match events.last() {
        Some(Ok(ChatEvent::Done { usage, truncated })) => {
            assert_eq!(*usage, whole.usage);
            assert!(!truncated);
        }
        other => panic!("the stream ends with Done: {other:?}"),
    }
}

fn sse(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_string(body)
}

async fn server_streaming(body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(body_partial_json(
            serde_json::json!({"stream": true, "stream_options": {"include_usage": true}}),
        ))
        .respond_with(sse(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn usage_on_the_finish_chunk_and_null_choices_are_understood() {
    let server = server_streaming(concat!(
        ": keep-alive\r\n\r\n",
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\r\n\r\n",
        "data: {\"choices\":null,\"usage\":null}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1}}\n\n",
        "data: [DONE]\n\n",
    ))
    .await;
    let events = collect(&client(server.uri())).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(&events[0], Ok(ChatEvent::Delta(t)) if t == "Hi"));
    assert!(matches!(
        &events[1],
        Ok(ChatEvent::Done { usage, truncated: true }) if usage.prompt_tokens == 9 && usage.completion_tokens == 1
    ));
}

#[tokio::test]
async fn a_stream_that_stops_mid_answer_or_reports_an_error_ends_in_an_error() {
    for body in [
        "data: {\"choices\":[{\"delta\":{\"content\":\"Half an\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"Half an\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded: secret detail\",\"type\":\"server_error\"}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"Half an\"}}]}\n\nevent: error\ndata: {}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"Half an\"}}]}\n\ndata: not json\n\n",
    ] {
        let server = server_streaming(body).await;
        let events = collect(&client(server.uri())).await;
        assert!(
            matches!(&events[0], Ok(ChatEvent::Delta(t)) if t == "Half an"),
            "{body}"
        );
        let last = events.last().unwrap();
        let error = last
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("{body}: {events:?}"));
        assert!(!error.to_string().contains("secret detail"));
        assert_eq!(events.len(), 2, "nothing after the error: {body}");
    }
}

#[tokio::test]
async fn a_refusal_before_the_stream_starts_is_retried_only_when_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse(
            "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\n",
        ))
        .mount(&server)
        .await;
    let events = collect(&client(server.uri())).await;
    assert!(matches!(&events[0], Ok(ChatEvent::Delta(t)) if t == "ok"));
    assert!(
        matches!(events.last(), Some(Ok(ChatEvent::Done { .. }))),
        "a finish reason ends it cleanly without [DONE]"
    );

    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400))
        .expect(1)
        .mount(&refusing)
        .await;
    let refused = client(refusing.uri()).stream(&request()).await.err();
    assert!(matches!(
        refused,
        Some(ProviderError::Rejected { status: 400, .. })
    ));
}
