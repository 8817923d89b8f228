//! The Function URL Twilio calls: `POST /api/sms/webhook/{assistantId}`
//! (inbound texts) and `POST /api/sms/status/{assistantId}` (delivery
//! status), form-encoded. No API key: the signature is the authentication.

use super::body::read_limited;
use super::error::ApiError;
use super::path::ApiPath;
use crate::app::sms_webhook::{SignedRequest, SmsWebhook};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;

/// Where Twilio posts a text sent to an assistant's number.
pub const INBOUND: &str = "/api/sms/webhook/{assistant_id}";
/// Where Twilio reports what became of a reply.
pub const STATUS: &str = "/api/sms/status/{assistant_id}";

/// Twilio sends at most 1,600 characters of body and a few dozen fields;
/// anything near this is not Twilio.
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct WebhookState {
    pub webhook: Arc<SmsWebhook>,
    /// The URL Twilio is given (`https://…`, no trailing slash), when known:
    /// behind a custom domain the request's own host is not it.
    pub public_base_url: Option<String>,
}

pub fn routes() -> Router<WebhookState> {
    Router::new()
        .route(INBOUND, post(inbound))
        .route(STATUS, post(status))
}

/// An empty TwiML answer: Twilio sends nothing back on our behalf.
fn empty_twiml() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<Response></Response>",
    )
        .into_response()
}

async fn signed_request(state: &WebhookState, request: Request) -> Result<SignedRequest, ApiError> {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let headers: &HeaderMap = &parts.headers;
    let mut urls = Vec::new();
    if let Some(base) = &state.public_base_url {
        urls.push(format!("{}{path_and_query}", base.trim_end_matches('/')));
    }
    // A Function URL is reached over HTTPS at its own host.
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        urls.push(format!("https://{host}{path_and_query}"));
    }
    let bytes = read_limited(headers, body, WEBHOOK_BODY_LIMIT).await?;
    Ok(SignedRequest {
        urls,
        params: form_urlencoded::parse(&bytes).into_owned().collect(),
        signature: headers
            .get("x-twilio-signature")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
        shared_key_signature: headers.contains_key("x-twilio-webhooks-signature-settings"),
    })
}

async fn inbound(
    State(state): State<WebhookState>,
    ApiPath(assistant_id): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let signed = signed_request(&state, request).await?;
    state.webhook.inbound(&assistant_id, &signed).await?;
    Ok(empty_twiml())
}

async fn status(
    State(state): State<WebhookState>,
    ApiPath(assistant_id): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let signed = signed_request(&state, request).await?;
    state.webhook.status(&assistant_id, &signed).await?;
    Ok(empty_twiml())
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use utoipa::openapi::HttpMethod::Post;

    vec![
        Op::new(
            Post,
            INBOUND,
            "smsInbound",
            "Twilio's inbound text (signed with the account's Auth Token)",
        )
        .twilio()
        .twiml("Recorded: the reply is texted by the reply worker"),
        Op::new(
            Post,
            STATUS,
            "smsStatus",
            "Twilio's delivery status callback (signed)",
        )
        .twilio()
        .twiml("Recorded"),
    ]
}
