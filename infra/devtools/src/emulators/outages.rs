//! A provider having a bad day, on demand: the next requests to the
//! embeddings API or the index answer the statuses a test queues (429, 500,
//! 503...) in that provider's own error shape, before reaching the
//! emulator, so the production adapters' retries and budgets meet them as
//! they would the real thing.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Embeddings,
    Pinecone,
}

#[derive(Clone, Debug, Default)]
pub struct Outages(Arc<Mutex<HashMap<Provider, VecDeque<u16>>>>);

impl Outages {
    /// The next requests to `provider` answer these statuses, in order.
    pub fn fail_next(&self, provider: Provider, statuses: impl IntoIterator<Item = u16>) {
        self.lock().entry(provider).or_default().extend(statuses);
    }

    /// How many queued failures have not been answered yet.
    pub fn pending(&self, provider: Provider) -> usize {
        self.lock().get(&provider).map_or(0, VecDeque::len)
    }

    fn take(&self, provider: Provider) -> Option<u16> {
        self.lock().get_mut(&provider)?.pop_front()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Provider, VecDeque<u16>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn refusal(provider: Provider, status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = match provider {
        Provider::Embeddings => json!({"error": {
            "message": "The server is overloaded or not ready yet.",
            "type": "server_error", "param": null, "code": null
        }}),
        Provider::Pinecone => {
            json!({"error": {"code": "UNAVAILABLE", "message": "Service unavailable"}, "status": status})
        }
    };
    (code, Json(body)).into_response()
}

/// Middleware for the embeddings routes (the chat model has its own faults).
pub async fn embeddings(State(outages): State<Outages>, request: Request, next: Next) -> Response {
    if request.uri().path().ends_with("/embeddings")
        && let Some(status) = outages.take(Provider::Embeddings)
    {
        return refusal(Provider::Embeddings, status);
    }
    next.run(request).await
}

pub async fn pinecone(State(outages): State<Outages>, request: Request, next: Next) -> Response {
    match outages.take(Provider::Pinecone) {
        Some(status) => refusal(Provider::Pinecone, status),
        None => next.run(request).await,
    }
}
