//! The backstop under every route's own budgets: API Gateway gives up on a
//! request after 29 s with a bare 504 that is not this API's JSON, so a
//! route that has not answered (its headers, for a stream) a few seconds
//! before that answers a JSON 503 with `Retry-After` itself. Every
//! dependency call is budgeted to finish well inside this; writes that take
//! several steps are safe to cut short, since each is completed by a retry.

use crate::app::error::AppError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// API Gateway's integration timeout, less room to send the answer.
pub const ROUTE_DEADLINE: Duration = Duration::from_secs(26);

#[derive(Debug, thiserror::Error)]
#[error("the route did not answer within {} s", ROUTE_DEADLINE.as_secs())]
struct OutOfTime;

/// When the route must have answered, in its request's extensions: work
/// the route owns past its answer (a JSON answer's model) stops before it.
#[derive(Clone, Copy, Debug)]
pub struct AnswerBy(pub tokio::time::Instant);

pub async fn within_deadline(mut request: Request, next: Next) -> Response {
    let by = tokio::time::Instant::now() + ROUTE_DEADLINE;
    request.extensions_mut().insert(AnswerBy(by));
    match tokio::time::timeout_at(by, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!("route ran out of time; answering 503");
            AppError::Unavailable(Box::new(OutOfTime)).into_response()
        }
    }
}
