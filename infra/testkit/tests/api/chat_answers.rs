//! Answers on the chat API, read by a real SSE client: the events in
//! order, deltas that add up to the stored answer, the JSON form, the
//! model failing before and during the answer, one answer at a time, and
//! a client that leaves before the end.

use axum::http::{Method, StatusCode};
use devtools::emulators::chat::StreamPace;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::api::read_events;
use testkit::{Api, Fixture, MemoryStack};

const QUESTION: &str = "How long do refunds take?";
const GROUNDED: &str = "Refunds take five business days.";

fn messages(f: &Fixture) -> String {
    format!(
        "/api/workspaces/{}/conversations/{}/messages",
        f.ws(),
        f.member_conversation
    )
}

/// The fixture, with its FAQ indexed for the private assistant.
async fn grounded() -> (MemoryStack, Fixture) {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    (stack, f)
}

fn deltas(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["text"].as_str().expect("a delta has text"))
        .collect()
}

/// The member asks `content` in the fixture's conversation.
async fn ask(api: &Api, f: &Fixture, content: &str) -> (StatusCode, Value) {
    api.call(
        Method::POST,
        &messages(f),
        Some(f.key("member")),
        Some(json!({ "content": content })),
    )
    .await
}

async fn stored(stack: &MemoryStack, f: &Fixture) -> Vec<Value> {
    let (status, page) = stack
        .call(Method::GET, &messages(f), Some(f.key("member")), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_answer_streams_its_question_sources_words_then_the_stored_answer() {
    let (stack, f) = grounded().await;
    let response = stack
        .open_stream(&messages(&f), f.key("member"), QUESTION)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("text/event-stream"));
    assert_eq!(header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(header("x-accel-buffering").as_deref(), Some("no"));
    let events = read_events(response, usize::MAX).await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..2], ["message", "sources"], "{names:?}");
    assert_eq!(names.last(), Some(&"done"));
    assert!(
        names[2..names.len() - 1].iter().all(|n| *n == "delta") && names.len() > 4,
        "words arrive one delta at a time: {names:?}"
    );
    let question = &events[0].1;
    assert_eq!(question["role"], "user");
    assert_eq!(question["content"], QUESTION);
    assert_eq!(question["status"], "completed");
    let sources = events[1].1["sources"].as_array().unwrap();
    assert_eq!(sources[0]["documentName"], "faq.md");
    assert_eq!(sources[0]["projectId"], f.project.as_str());
    assert!(
        sources[0]["documentId"]
            .as_str()
            .unwrap()
            .starts_with("doc_")
    );
    assert!(sources[0]["score"].as_f64().unwrap() > 0.0);
    let done = &events.last().unwrap().1;
    let text = deltas(&events);
    assert!(text.contains(GROUNDED), "{text}");
    assert_eq!(
        done["content"],
        text.as_str(),
        "the stored answer is the deltas"
    );
    assert_eq!(done["role"], "assistant");
    assert_eq!(done["status"], "completed");
    assert!(done["usage"]["promptTokens"].as_u64().unwrap() > 0);
    assert!(done["usage"]["completionTokens"].as_u64().unwrap() > 0);
    assert_eq!(done["sources"], events[1].1["sources"]);
    let history = stored(&stack, &f).await;
    assert_eq!(history.len(), 2);
    assert_eq!(&history[0], question);
    assert_eq!(&history[1], done);
    let prompt = stack.sms.chat.requests().pop().unwrap();
    assert_eq!(prompt["stream"], true);
    assert_eq!(prompt["stream_options"]["include_usage"], true);
    assert!(
        prompt["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Markdown"),
        "the web channel's rules"
    );
}

#[tokio::test]
async fn the_json_form_answers_both_messages_once_the_answer_is_complete() {
    let (stack, f) = grounded().await;
    let (status, body) = ask(&stack, &f, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["userMessage"]["content"], QUESTION);
    let answer = &body["assistantMessage"];
    assert_eq!(answer["status"], "completed");
    assert!(answer["content"].as_str().unwrap().contains(GROUNDED));
    assert_eq!(
        stored(&stack, &f).await,
        vec![body["userMessage"].clone(), answer.clone()]
    );
}

#[tokio::test]
async fn a_model_down_before_the_first_word_is_a_503_and_stores_nothing() {
    let (stack, f) = grounded().await;
    stack.sms.chat.fail_next([500, 503, 500]);
    let (status, events) = stack
        .ask_streaming(&messages(&f), f.key("member"), QUESTION)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{events:?}");
    assert_eq!(events[0].1["code"], "unavailable:api");
    assert!(stored(&stack, &f).await.is_empty(), "not even the question");
    // One 429 is retried within the answer; the lease was given back.
    stack.sms.chat.fail_next([429]);
    let (status, events) = stack
        .ask_streaming(&messages(&f), f.key("member"), QUESTION)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.last().unwrap().0, "done", "{events:?}");
    assert_eq!(stored(&stack, &f).await.len(), 2);
}

#[tokio::test]
async fn a_model_that_fails_mid_answer_ends_the_stream_with_an_error_and_keeps_what_it_said() {
    let (stack, f) = grounded().await;
    stack.sms.chat.cut_off_after([2]);
    let (status, events) = stack
        .ask_streaming(&messages(&f), f.key("member"), QUESTION)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["message", "sources", "delta", "delta", "error"]);
    let error = &events[4].1;
    assert_eq!(error["code"], "unavailable:api");
    assert!(
        error["error"].as_str().unwrap().contains("part way"),
        "{error}"
    );
    let history = stored(&stack, &f).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["status"], "failed");
    assert_eq!(history[1]["content"], deltas(&events).as_str());
    assert!(history[1].get("usage").is_none());
    // The JSON form says the same with a 503.
    stack.sms.chat.cut_off_after([1]);
    let (status, body) = ask(&stack, &f, QUESTION).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(stored(&stack, &f).await.len(), 4);
}

#[tokio::test]
async fn a_second_question_while_an_answer_streams_is_a_409() {
    let (stack, f) = grounded().await;
    stack.sms.chat.set_pace(StreamPace {
        words_per_chunk: 1,
        first_token: Duration::from_millis(50),
        between: Duration::from_millis(40),
    });
    let streaming = stack
        .open_stream(&messages(&f), f.key("member"), QUESTION)
        .await;
    assert_eq!(streaming.status(), StatusCode::OK);
    let (status, body) = ask(&stack, &f, "And exchanges?").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "conflict:api");
    let events = read_events(streaming, usize::MAX).await;
    assert_eq!(events.last().unwrap().0, "done");
    let (status, _) = ask(&stack, &f, "And exchanges?").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "free again once the answer is stored"
    );
    assert_eq!(stored(&stack, &f).await.len(), 4);
}

#[tokio::test]
async fn a_client_that_leaves_mid_answer_still_gets_the_whole_answer_stored() {
    let (stack, f) = grounded().await;
    stack.sms.chat.set_pace(StreamPace {
        words_per_chunk: 1,
        first_token: Duration::ZERO,
        between: Duration::from_millis(30),
    });
    let response = stack
        .open_stream(&messages(&f), f.key("member"), QUESTION)
        .await;
    let seen = read_events(response, 3).await;
    assert_eq!(seen.last().unwrap().0, "delta", "{seen:?}");
    // The response is dropped here: the client has gone.
    let mut history = Vec::new();
    for _ in 0..200 {
        history = stored(&stack, &f).await;
        if history.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(history.len(), 2, "the answer was stored");
    assert_eq!(history[1]["status"], "completed");
    let content = history[1]["content"].as_str().unwrap();
    assert!(content.contains(GROUNDED), "{content}");
    assert!(content.starts_with(seen[2].1["text"].as_str().unwrap()));
}

#[tokio::test]
async fn an_answer_names_only_the_sources_its_reader_may_open_in_every_form() {
    let (stack, f) = grounded().await;
    // The member loses their grant on the private project; the assistant
    // still answers from it, as designed.
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!(
                "/api/workspaces/{}/projects/{}/access/{}",
                f.ws(),
                f.project,
                f.user("member")
            ),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the member may not read it");
    // Streamed: neither the sources event nor the stored answer names it.
    let (status, events) = stack
        .ask_streaming(&messages(&f), f.key("member"), QUESTION)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(deltas(&events).contains(GROUNDED), "the words still use it");
    let sources = &events[1].1["sources"];
    assert_eq!(sources, &json!([]), "{sources}");
    let done = &events.last().unwrap().1;
    assert_eq!(done["sources"], json!([]), "{done}");
    // As one JSON body too.
    let (status, body) = ask(&stack, &f, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["assistantMessage"]["sources"], json!([]));
    let text = body.to_string();
    assert!(
        !text.contains(&f.project) && !text.contains("faq.md"),
        "{text}"
    );
    // And as stored, served back: the member sees none, the owner all.
    let member_view = stored(&stack, &f).await;
    assert!(
        member_view
            .iter()
            .all(|m| m["sources"].as_array().is_none_or(Vec::is_empty))
    );
    let (_, owners) = stack
        .call(Method::GET, &messages(&f), Some(f.key("owner")), None)
        .await;
    let named = owners["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sources"].as_array().is_some_and(|s| !s.is_empty()))
        .count();
    assert_eq!(named, 2, "both answers keep their sources for the owner");
}

/// A model whose first answer stalls after its first words for a minute;
/// every later one answers at once.
#[derive(Default)]
struct StallsOnce(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl shared::ports::ChatModel for StallsOnce {
    async fn complete(
        &self,
        _: &shared::ports::ChatRequest,
    ) -> Result<shared::ports::ChatAnswer, shared::ports::ProviderError> {
        Ok(shared::ports::ChatAnswer {
            text: GROUNDED.into(),
            usage: Default::default(),
            truncated: false,
        })
    }

    async fn stream(
        &self,
        request: &shared::ports::ChatRequest,
    ) -> Result<shared::ports::ChatStream, shared::ports::ProviderError> {
        use shared::ports::ChatEvent;
        if self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
            let answer = self.complete(request).await?;
            return Ok(Box::pin(futures_util::stream::iter([
                Ok(ChatEvent::Delta(answer.text)),
                Ok(ChatEvent::Done {
                    usage: answer.usage,
                    truncated: false,
                }),
            ])));
        }
        Ok(Box::pin(futures_util::stream::unfold(
            0,
            |step| async move {
                match step {
                    0 => Some((Ok(ChatEvent::Delta("Refunds take".into())), 1)),
                    1 => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Some((Ok(ChatEvent::Delta(" five business days.".into())), 2))
                    }
                    _ => None,
                }
            },
        )))
    }
}

#[tokio::test]
async fn a_json_answer_past_the_route_deadline_is_stopped_stored_failed_and_the_retry_is_answered()
{
    let (stack, f) = grounded().await;
    let backends = shared::http::Backends {
        chat: std::sync::Arc::new(StallsOnce::default()),
        ..stack.backends.clone()
    };
    let api = testkit::Api::new(shared::http::all_routes_router(&backends));
    // Virtual time from here: the minute costs the test nothing.
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let (status, body) = ask(&api, &f, QUESTION).await;
    assert!(
        started.elapsed() < Duration::from_secs(29),
        "answered inside API Gateway's 29 s"
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "unavailable:api");
    // What the client was told is what is stored: a failed answer, and the
    // conversation free for the retry.
    let stored = stored(&stack, &f).await;
    let last = stored.last().unwrap();
    assert_eq!(
        (last["role"].as_str(), last["status"].as_str()),
        (Some("assistant"), Some("failed"))
    );
    assert_eq!(last["content"], "Refunds take");
    let (status, retried) = ask(&api, &f, QUESTION).await;
    assert_eq!(status, StatusCode::CREATED, "never a 409: {retried}");
    assert_eq!(retried["assistantMessage"]["content"], GROUNDED);
}
