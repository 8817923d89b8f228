//! Reading JSON request bodies: a size cap (413), malformed JSON (400 with
//! where it broke), never a 500 and never the body echoed back.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

/// The largest body any JSON route accepts.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// A request body parsed as JSON, of any shape: the domain's field readers
/// decide what is valid, so every field error can be named.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = read_limited(&parts.headers, body, JSON_BODY_LIMIT).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("a JSON body is required"));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}

/// A body of up to `limit` bytes. A body its `headers` declare larger is
/// refused before any of it is read: a client that announces 100 MB and
/// sends nothing would otherwise hold the route until its deadline.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit, hint: "" });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge { limit, hint: "" })
        }
        Err(_) => Err(ApiError::bad_request("the request body could not be read")),
    }
}
