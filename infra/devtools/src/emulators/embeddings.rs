//! An OpenAI-compatible `POST /embeddings` with a deterministic lexical
//! embedding: each word and each pair of neighbouring words is hashed to a
//! dimension (with a sign), and the vector is normalised. Texts sharing words
//! land close together, which is all retrieval tests need, with no model.

use super::{Latency, ServiceTimes};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The caps of the real API, enforced so tests catch a batcher that breaks them.
pub const MAX_INPUTS: usize = 2_048;
pub const MAX_TOKENS_PER_REQUEST: usize = 300_000;

#[derive(Clone, Debug)]
pub struct EmbeddingsEmulator {
    pub dimensions: usize,
    pub latency: Latency,
    pub service_times: ServiceTimes,
    requests: Arc<AtomicUsize>,
}

impl EmbeddingsEmulator {
    pub fn new(dimensions: usize, latency: Latency) -> Self {
        Self {
            dimensions,
            latency,
            service_times: ServiceTimes::default(),
            requests: Arc::default(),
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Routes under the base URL the adapter is given (`.../v1`).
    pub fn router(self) -> Router {
        Router::new()
            .route("/embeddings", post(embeddings))
            .with_state(self)
    }
}

#[derive(Deserialize)]
struct Request {
    model: String,
    input: Input,
    dimensions: Option<usize>,
    /// `float` (the default) or `base64`, as OpenAI's API takes it.
    encoding_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": "invalid_request_error"}})),
    )
        .into_response()
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between Rust
/// releases, and the vectors must not).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Words too common to say what a text is about.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "my", "of", "on", "or", "our", "the", "their", "this", "to", "what",
    "when", "where", "which", "who", "why", "will", "with", "you", "your",
];

pub fn embed(text: &str, dimensions: usize) -> Vec<f32> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect();
    // Counts first, then a sublinear weight (1 + ln count), so a word a
    // chunk repeats forty times does not drown the one it says once.
    let mut counts: std::collections::HashMap<String, (f32, f32)> = Default::default();
    for word in &words {
        counts.entry(word.clone()).or_insert((0.0, 1.0)).0 += 1.0;
    }
    for pair in words.windows(2) {
        counts
            .entry(format!("{} {}", pair[0], pair[1]))
            .or_insert((0.0, 0.5))
            .0 += 1.0;
    }
    let mut vector = vec![0f32; dimensions];
    for (feature, (count, weight)) in counts {
        let hash = fnv1a(&feature);
        let sign = if hash & (1 << 63) == 0 { 1.0 } else { -1.0 };
        vector[(hash % dimensions as u64) as usize] += sign * weight * (1.0 + count.ln());
    }
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
    vector
}

async fn embeddings(
    State(emulator): State<EmbeddingsEmulator>,
    Json(request): Json<Request>,
) -> Response {
    emulator.requests.fetch_add(1, Ordering::SeqCst);
    emulator.latency.wait().await;
    let _timer = emulator.service_times.start();
    let inputs = match request.input {
        Input::One(text) => vec![text],
        Input::Many(texts) => texts,
    };
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return error(StatusCode::BAD_REQUEST, "input must have 1 to 2048 items");
    }
    if inputs.iter().any(|i| i.is_empty()) {
        return error(StatusCode::BAD_REQUEST, "input items may not be empty");
    }
    let tokens: usize = inputs
        .iter()
        .map(|i| shared::ingest::chunker::count_tokens(i))
        .sum();
    if tokens > MAX_TOKENS_PER_REQUEST {
        return error(StatusCode::BAD_REQUEST, "too many tokens in one request");
    }
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "encoding_format must be float or base64",
            );
        }
    };
    let dimensions = request.dimensions.unwrap_or(emulator.dimensions);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = embed(text, dimensions);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
                json!(BASE64.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Json(json!({
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_same_text_always_embeds_the_same() {
        assert_eq!(
            embed("Refunds take 5 days", 64),
            embed("refunds TAKE 5 days", 64)
        );
    }

    #[test]
    fn texts_sharing_words_are_closer_than_unrelated_ones() {
        let question = embed("how long do refunds take", 256);
        let answer = embed("Refunds take five business days to reach your card.", 256);
        let other = embed("Our office is closed on public holidays.", 256);
        assert!(cosine(&question, &answer) > cosine(&question, &other));
    }

    #[test]
    fn vectors_are_unit_length() {
        let v = embed("a b c d", 32);
        assert!((v.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
