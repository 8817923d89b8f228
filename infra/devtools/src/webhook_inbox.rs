//! The dev server's local webhook receiver (`/_local/webhooks/inbox`): it
//! keeps the newest requests a webhook sends it, headers and body, and
//! shows them on a GET, so a developer can point a webhook at it and see
//! what their own receiver would get. It verifies nothing: that is the
//! receiver's job, with the webhook's secret.

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The most requests kept; older ones are dropped.
const KEPT: usize = 200;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub webhook_id: String,
    pub webhook_timestamp: String,
    pub webhook_signature: String,
    pub user_agent: String,
    /// The body, parsed when it is JSON (as a webhook's always is).
    pub body: serde_json::Value,
}

#[derive(Clone, Default)]
pub struct Inbox {
    received: Arc<Mutex<VecDeque<Received>>>,
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl Inbox {
    /// What was received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .expect("inbox lock")
            .iter()
            .cloned()
            .collect()
    }

    fn keep(&self, headers: &HeaderMap, body: &str) {
        let mut received = self.received.lock().expect("inbox lock");
        if received.len() == KEPT {
            received.pop_front();
        }
        received.push_back(Received {
            webhook_id: header(headers, "webhook-id"),
            webhook_timestamp: header(headers, "webhook-timestamp"),
            webhook_signature: header(headers, "webhook-signature"),
            user_agent: header(headers, "user-agent"),
            body: serde_json::from_str(body)
                .unwrap_or_else(|_| serde_json::Value::String(body.to_owned())),
        });
    }

    /// `POST` records a request and answers 204; `GET` lists what was
    /// received, `{data: [...]}` oldest first; `DELETE` empties it.
    pub fn router(&self) -> Router {
        let (kept, shown, emptied) = (self.clone(), self.clone(), self.clone());
        Router::new().route(
            "/inbox",
            post(move |headers: HeaderMap, body: String| async move {
                kept.keep(&headers, &body);
                StatusCode::NO_CONTENT
            })
            .get(move || async move { Json(serde_json::json!({"data": shown.received()})) })
            .delete(move || async move {
                emptied.received.lock().expect("inbox lock").clear();
                StatusCode::NO_CONTENT
            }),
        )
    }
}
