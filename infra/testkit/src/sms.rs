//! The SMS channel under test: the Twilio emulator and the local chat
//! model on loopback, the webhook router served on loopback too (so the
//! emulator's status callbacks reach it), the reply worker, and a phone
//! that signs its texts with the assistant's token.

use crate::api::{Api, Fixture};
use axum::http::{Method, StatusCode};
use devtools::emulators::chat::ChatEmulator;
use devtools::emulators::twilio::TwilioEmulator;
use devtools::emulators::{local_chat, local_twilio_timing_out_after};
use rand::Rng;
use secrecy::SecretString;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::app::sms_webhook::{SignedRequest, SmsWebhook};
use shared::domain::sms::signature;
use shared::http::{WebhookState, sms_webhook_router};
use shared::jobs::{Job, MessageOutcome, ReplyJob};
use shared::ports::{JobQueue, PassageSearch, SecretCipher, ShiftedClock, Store};
use std::sync::Arc;
use std::time::Duration;

pub use crate::twilio_account::{
    ACCOUNT_SID, AUTH_TOKEN, NUMBER, TEXTER, demo_settings, settings_for,
};

/// A number no other fixture uses: one number serves one assistant.
pub fn fresh_number() -> String {
    format!("+1555{:07}", rand::rng().random_range(0..10_000_000))
}

/// A fresh number that `twilio`'s demo account holds, so a configuration
/// naming it passes Twilio's check.
pub fn fresh_number_on(twilio: &TwilioEmulator) -> String {
    let number = fresh_number();
    twilio.add_demo_number(&number);
    number
}

/// A fresh `MessageSid`.
pub fn message_sid() -> String {
    devtools::emulators::twilio::random_sid("SM")
}

/// The fields Twilio posts for a text from `from` to the demo number.
pub fn inbound_params(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    devtools::emulators::twilio::inbound_params(sid, ACCOUNT_SID, from, NUMBER, body)
}

/// Where the webhook tests say Twilio posted: the Function URL's host as
/// the signature covers it.
pub const WEBHOOK_BASE: &str = "https://hooks.example.com";

/// Twilio's request to the assistant's webhook `route` (`webhook` or
/// `status`) with `params`, signed with `token` (unsigned when `None`).
pub fn signed_request(
    route: &str,
    assistant: &str,
    params: Vec<(String, String)>,
    token: Option<&str>,
) -> SignedRequest {
    let url = format!("{WEBHOOK_BASE}/api/sms/{route}/{assistant}");
    SignedRequest {
        signature: token.map(|t| signature::sign(&SecretString::from(t.to_owned()), &url, &params)),
        urls: vec![url],
        params,
        shared_key_signature: false,
    }
}

/// A text `body` from `from` to the assistant, as Twilio posts it, signed
/// with `token` (unsigned when `None`).
pub fn signed_text(assistant: &str, from: &str, body: &str, token: Option<&str>) -> SignedRequest {
    signed_request(
        "webhook",
        assistant,
        inbound_params(&message_sid(), from, body),
        token,
    )
}

/// The fixture's private assistant, given the demo Twilio account by its
/// owner through the API (its id).
pub async fn configure_demo_sms(api: &Api, fixture: &Fixture) -> String {
    let assistant = fixture.private_assistant.clone();
    let (status, body) = api
        .call(
            Method::PUT,
            &format!(
                "/api/workspaces/{}/assistants/{assistant}/sms",
                fixture.ws()
            ),
            Some(fixture.key("owner")),
            Some(demo_settings()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assistant
}

/// How long the rig's worker waits for Twilio's answer to a send: short,
/// since the tests make Twilio take a message and never answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// What the rig's webhook and worker share with the stack around them.
pub struct RigParts {
    pub twilio: TwilioEmulator,
    pub chat: ChatEmulator,
    pub store: Arc<dyn Store>,
    pub cipher: Arc<dyn SecretCipher>,
    pub replies: Arc<dyn JobQueue<ReplyJob>>,
    pub search: Arc<dyn PassageSearch>,
    /// The clock the webhook, the worker and the Twilio emulator read.
    pub clock: Arc<ShiftedClock>,
    /// Zero answers every text alone, as most tests want.
    pub burst_window: Duration,
}

#[derive(Clone)]
pub struct SmsRig {
    pub twilio: TwilioEmulator,
    pub chat: ChatEmulator,
    pub worker: Arc<ReplyWorker>,
    /// The webhook's base URL on loopback (`http://127.0.0.1:port`).
    pub webhook_url: String,
    /// Moves time for the webhook, the worker and Twilio at once.
    pub clock: Arc<ShiftedClock>,
    http: reqwest::Client,
}

impl SmsRig {
    /// The emulators must already be served under `emulator_base`, the
    /// Twilio emulator on `parts.clock`.
    pub async fn start(emulator_base: &str, parts: RigParts) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let webhook_url = format!("http://{}", listener.local_addr().expect("an address"));
        let webhook = SmsWebhook::new(parts.store.clone(), parts.cipher.clone(), parts.replies)
            .with_burst_window(parts.burst_window)
            .with_clock(parts.clock.clone());
        let router = crate::documented::held_to_the_document(sms_webhook_router(WebhookState {
            webhook: Arc::new(webhook),
            public_base_url: Some(webhook_url.clone()),
        }));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let worker = Arc::new(ReplyWorker {
            store: parts.store,
            search: parts.search,
            chat: Arc::new(local_chat(emulator_base)),
            gateway: Arc::new(local_twilio_timing_out_after(emulator_base, SEND_TIMEOUT)),
            cipher: parts.cipher,
            public_base_url: webhook_url.clone(),
            // Quick retries: the tests make Twilio fail on purpose.
            retry: SendRetry {
                attempts: 3,
                first_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
            },
            burst_window: parts.burst_window,
            clock: parts.clock.clone(),
        });
        Self {
            twilio: parts.twilio,
            chat: parts.chat,
            worker,
            webhook_url,
            clock: parts.clock,
            http: shared::adapters::outbound_http::client().reqwest().clone(),
        }
    }

    /// Posts `params` to `path` on the webhook, signed with `token` for the
    /// URL Twilio would use; the status and body.
    pub async fn post_signed(
        &self,
        path: &str,
        params: &[(String, String)],
        token: &str,
    ) -> (u16, String) {
        let url = format!("{}{path}", self.webhook_url);
        let signed = signature::sign(&SecretString::from(token.to_owned()), &url, params);
        self.post(path, params, Some(&signed)).await
    }

    /// Posts form `params` with the signature header as given (or none).
    pub async fn post(
        &self,
        path: &str,
        params: &[(String, String)],
        signature: Option<&str>,
    ) -> (u16, String) {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        self.post_body(path, body.into_bytes(), signature).await
    }

    pub async fn post_body(
        &self,
        path: &str,
        body: Vec<u8>,
        signature: Option<&str>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.webhook_url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        let response = request.send().await.expect("the webhook answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// A text from `from` to the assistant, as Twilio delivers it.
    pub async fn text(&self, assistant: &str, sid: &str, from: &str, body: &str) -> (u16, String) {
        crate::logs::forbid("a texter's number", from);
        crate::logs::forbid("a texter's number, encoded", &from.replace('+', "%2B"));
        // Keywords (STOP, HELP) are words a log may name; what people
        // write is not.
        if body.len() > 8 {
            crate::logs::forbid("a text's body", body);
        }
        self.post_signed(
            &format!("/api/sms/webhook/{assistant}"),
            &inbound_params(sid, from, body),
            AUTH_TOKEN,
        )
        .await
    }

    /// Runs the reply worker over `jobs`, as the event source mapping would.
    pub async fn run(&self, jobs: Vec<ReplyJob>) -> Vec<MessageOutcome> {
        let mut outcomes = Vec::new();
        for (i, job) in jobs.iter().enumerate() {
            outcomes.push(
                self.worker
                    .handle_message(&format!("r{i}"), &job.to_message())
                    .await,
            );
        }
        outcomes
    }

    /// Bodies the emulator accepted for `to`, oldest first.
    pub fn sent_to(&self, to: &str) -> Vec<String> {
        self.twilio
            .messages()
            .into_iter()
            .filter(|m| m.to == to)
            .map(|m| m.body)
            .collect()
    }
}
