//! An OpenAI-compatible `POST /chat/completions` that answers from the
//! passages in its prompt, deterministically: the sentences of the passages
//! that share the most words with the question, quoted. No model, and an
//! answer that is grounded by construction, so a test can tell retrieval
//! worked from the reply alone. Streams (`stream: true`) as OpenAI does, a
//! few words per chunk at a set pace, and can fail part way on purpose.

use super::Latency;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::answer::PASSAGE_MARKER;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the local model says when no passage shares a word with the
/// question.
pub const NO_ANSWER: &str = "I could not find that in the documents I have.";

#[derive(Clone, Debug, Default)]
pub struct ChatEmulator {
    pub latency: Latency,
    pace: Arc<Mutex<StreamPace>>,
    faults: Arc<Mutex<VecDeque<u16>>>,
    /// Streams that fail after this many text chunks, next first.
    cut_offs: Arc<Mutex<VecDeque<usize>>>,
    /// What the next answers say instead of the passages' best sentences.
    scripted: Arc<Mutex<VecDeque<String>>>,
    /// Answers still to come that report no usage, as some compatible
    /// servers do.
    without_usage: Arc<Mutex<usize>>,
    timings: Arc<Mutex<Vec<StreamTiming>>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

/// When a streamed request arrived and when each of its text chunks was
/// handed to the connection: what a benchmark subtracts to find the time
/// spent between the model and the client.
#[derive(Clone, Debug)]
pub struct StreamTiming {
    pub received: Instant,
    pub chunks: Vec<Instant>,
}

/// How a streamed answer comes out: `words_per_chunk` words per chunk, the
/// first after `first_token`, each next one `between` later.
#[derive(Clone, Copy, Debug)]
pub struct StreamPace {
    pub words_per_chunk: usize,
    pub first_token: Duration,
    pub between: Duration,
}

impl Default for StreamPace {
    /// One word per chunk, at once: what tests want.
    fn default() -> Self {
        Self {
            words_per_chunk: 1,
            first_token: Duration::ZERO,
            between: Duration::ZERO,
        }
    }
}

impl StreamPace {
    /// Slow enough to watch an answer arrive in a terminal.
    pub fn visible() -> Self {
        Self {
            words_per_chunk: 3,
            first_token: Duration::from_millis(300),
            between: Duration::from_millis(120),
        }
    }
}

#[derive(Deserialize)]
struct Request {
    model: String,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    stream: bool,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    content: String,
}

impl ChatEmulator {
    pub fn new(latency: Latency) -> Self {
        Self {
            latency,
            ..Self::default()
        }
    }

    /// The next calls answer these HTTP statuses instead.
    pub fn fail_next(&self, statuses: impl IntoIterator<Item = u16>) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(statuses);
    }

    /// The next answers say these texts (cut at `max_tokens` as any answer
    /// is), rather than the passages' best sentences: a model that runs
    /// long, or writes emoji.
    pub fn answer_next(&self, answers: impl IntoIterator<Item = String>) {
        self.scripted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(answers);
    }

    /// The next `count` answers report no usage (no usage chunk in a
    /// stream, no `usage` in a whole answer).
    pub fn withhold_usage_next(&self, count: usize) {
        *self.without_usage.lock().unwrap_or_else(|p| p.into_inner()) += count;
    }

    /// The next streams send this many text chunks, then an error event
    /// (OpenAI's shape), then close.
    pub fn cut_off_after(&self, chunks: impl IntoIterator<Item = usize>) {
        self.cut_offs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(chunks);
    }

    pub fn with_pace(self, pace: StreamPace) -> Self {
        self.set_pace(pace);
        self
    }

    /// How streams come out from now on.
    pub fn set_pace(&self, pace: StreamPace) {
        *self.pace.lock().unwrap_or_else(|p| p.into_inner()) = pace;
    }

    /// Every stream's timing, oldest first.
    pub fn timings(&self) -> Vec<StreamTiming> {
        self.timings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every request body received, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/chat/completions", post(complete))
            .with_state(self)
    }
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 3)
        .map(str::to_lowercase)
        .collect()
}

/// Sentences of a passage: a line break ends one too, and Markdown
/// headings are titles, not answers.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut current = String::new();
        for c in line.chars() {
            current.push(c);
            if matches!(c, '.' | '!' | '?') {
                out.push(current.trim().to_owned());
                current.clear();
            }
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_owned());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The passages' text, from the system prompt our answer engine builds.
fn passages(system: &str) -> Vec<String> {
    system
        .split(PASSAGE_MARKER)
        .skip(1)
        .map(|block| {
            block
                .split_once('\n')
                .map_or("", |(_, text)| text)
                .trim()
                .to_owned()
        })
        .collect()
}

/// The best two sentences by words shared with the question.
pub fn extractive_answer(system: &str, question: &str) -> String {
    let asked = words(question);
    let mut scored: Vec<(usize, usize, String)> = passages(system)
        .iter()
        .flat_map(|p| sentences(p))
        .enumerate()
        .map(|(order, sentence)| {
            (
                words(&sentence).intersection(&asked).count(),
                order,
                sentence,
            )
        })
        .filter(|(score, _, _)| *score > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    if scored.is_empty() {
        return NO_ANSWER.to_owned();
    }
    let mut best: Vec<(usize, String)> = scored
        .into_iter()
        .take(2)
        .map(|(_, order, s)| (order, s))
        .collect();
    best.sort();
    best.into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(" ")
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": kind, "param": null, "code": null}})),
    )
        .into_response()
}

async fn complete(State(chat): State<ChatEmulator>, body: axum::body::Bytes) -> Response {
    let received = Instant::now();
    chat.latency.wait().await;
    if let Some(status) = chat
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
    {
        return error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "server_error",
            "injected by the emulator",
        );
    }
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "the body is not JSON",
        );
    };
    chat.requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(raw.clone());
    let Ok(request) = serde_json::from_value::<Request>(raw) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "model and messages are required",
        );
    };
    let system = request
        .messages
        .iter()
        .filter(|m| m.role == "system")
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let Some(question) = request.messages.iter().rev().find(|m| m.role == "user") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "no user message",
        );
    };
    let scripted = chat
        .scripted
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front();
    let mut answer = scripted.unwrap_or_else(|| extractive_answer(&system, &question.content));
    let mut finish = "stop";
    if let Some(max) = request.max_tokens {
        let limit = (max as usize).saturating_mul(4);
        if answer.chars().count() > limit {
            answer = answer.chars().take(limit).collect();
            finish = "length";
        }
    }
    let prompt_chars: usize = request
        .messages
        .iter()
        .map(|m| m.content.chars().count())
        .sum();
    let withheld = {
        let mut left = chat.without_usage.lock().unwrap_or_else(|p| p.into_inner());
        let withheld = *left > 0;
        *left = left.saturating_sub(1);
        withheld
    };
    let usage = if withheld {
        Value::Null
    } else {
        json!({
            "prompt_tokens": prompt_chars.div_ceil(4),
            "completion_tokens": answer.chars().count().div_ceil(4),
            "total_tokens": prompt_chars.div_ceil(4) + answer.chars().count().div_ceil(4),
        })
    };
    if request.stream {
        let cut_off = chat
            .cut_offs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        let pace = *chat.pace.lock().unwrap_or_else(|p| p.into_inner());
        let timing = {
            let mut timings = chat.timings.lock().unwrap_or_else(|p| p.into_inner());
            timings.push(StreamTiming {
                received,
                chunks: Vec::new(),
            });
            Timing {
                log: Arc::clone(&chat.timings),
                index: timings.len() - 1,
            }
        };
        let shape = Shape {
            pace,
            cut_off,
            timing,
        };
        return stream(&request.model, &answer, finish, usage, shape);
    }
    Json(json!({
        "id": "chatcmpl-local", "object": "chat.completion", "created": 0,
        "model": request.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": null},
                     "logprobs": null, "finish_reason": finish}],
        "usage": usage,
    }))
    .into_response()
}

/// The answer as OpenAI streams it: a role chunk, a chunk per few words,
/// the finish chunk, the usage chunk, `[DONE]`; or, cut off, an error
/// event after `cut_off` text chunks.
/// Where a stream's chunk times go.
struct Timing {
    log: Arc<Mutex<Vec<StreamTiming>>>,
    index: usize,
}

/// How one stream comes out: its pace, where it is cut off, where its
/// timing is recorded.
struct Shape {
    pace: StreamPace,
    cut_off: Option<usize>,
    timing: Timing,
}

fn stream(model: &str, answer: &str, finish: &str, usage: Value, shape: Shape) -> Response {
    let Shape {
        pace,
        cut_off,
        timing,
    } = shape;
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": 0,
               "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
               "usage": null})
    };
    let mut texts = Vec::new();
    let mut rest = answer;
    while !rest.is_empty() {
        // The chunk ends before the space that starts its next word.
        let mut end = rest.len();
        let mut words = 0;
        for (i, c) in rest.char_indices().skip(1) {
            if c == ' ' {
                words += 1;
                if words == pace.words_per_chunk.max(1) {
                    end = i;
                    break;
                }
            }
        }
        texts.push(&rest[..end]);
        rest = &rest[end..];
    }
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let mut failed = false;
    let mut text_frames = 0;
    for (i, text) in texts.iter().enumerate() {
        if cut_off == Some(i) {
            failed = true;
            break;
        }
        events.push(chunk(json!({"content": text}), Value::Null));
        text_frames += 1;
    }
    let mut frames: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    if failed || cut_off.is_some_and(|n| n >= texts.len()) {
        frames.push(format!(
            "data: {}\n\n",
            json!({"error": {"message": "injected by the emulator", "type": "server_error", "param": null, "code": null}})
        ));
    } else {
        frames.push(format!("data: {}\n\n", chunk(json!({}), json!(finish))));
        if !usage.is_null() {
            frames.push(format!(
                "data: {}\n\n",
                json!({"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": 0,
                       "model": model, "choices": [], "usage": usage})
            ));
        }
        frames.push("data: [DONE]\n\n".to_owned());
    }
    // The role chunk and the closing frames go at once; each text chunk
    // waits its turn.
    let paced = futures_util::stream::unfold(
        (frames.into_iter().enumerate(), timing),
        move |(mut frames, timing)| async move {
            let (i, frame) = frames.next()?;
            let wait = match i {
                1 if text_frames > 0 => pace.first_token,
                i if i > 1 && i <= text_frames => pace.between,
                _ => Duration::ZERO,
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            if (1..=text_frames).contains(&i) {
                let mut log = timing.log.lock().unwrap_or_else(|p| p.into_inner());
                log[timing.index].chunks.push(Instant::now());
            }
            Some((Ok::<_, std::convert::Infallible>(frame), (frames, timing)))
        },
    );
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(paced),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_passage_sentence_that_shares_the_most_words() {
        let system = format!(
            "Rules.\n\n{PASSAGE_MARKER} 1 from \"hours.md\"]\nWe sell bicycles. The shop opens at nine every weekday morning.\n"
        );
        assert_eq!(
            extractive_answer(&system, "When does the shop open on a weekday?"),
            "The shop opens at nine every weekday morning."
        );
        assert_eq!(
            extractive_answer(&system, "Quantum chromodynamics?"),
            NO_ANSWER
        );
    }
}
