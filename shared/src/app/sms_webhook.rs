//! Twilio's calls to us: inbound texts and delivery status. Each is
//! authenticated by its signature against the assistant's own Auth Token,
//! recorded once, and answered at once; the reply is left to the queue.

use super::error::AppError;
use super::opened_secrets::OpenedSecrets;
use crate::domain::ids::AssistantId;
use crate::domain::sms::{
    DEFAULT_BURST_WINDOW, Keyword, MessageSid, PhoneNumber, SmsConfig, signature,
};
use crate::jobs::ReplyJob;
use crate::ports::{
    Clock, InboundOutcome, InboundSms, JobQueue, SecretCipher, SecretContext, SmsStore, SystemClock,
};
use std::sync::Arc;
use std::time::Duration;

/// A request as Twilio signed it.
pub struct SignedRequest {
    /// The URLs the request may have been signed for (as configured, and as
    /// the request arrived); each is also tried with and without its port.
    pub urls: Vec<String>,
    /// Every POST parameter, blank values and repeats included.
    pub params: Vec<(String, String)>,
    pub signature: Option<String>,
    /// Signed with a Webhooks shared key (HMAC-SHA256) rather than the
    /// Auth Token: we hold no shared keys, so it cannot be verified.
    pub shared_key_signature: bool,
}

impl SignedRequest {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What an inbound text came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// Recorded; a reply is queued.
    Queued,
    /// Recorded, and nothing to answer (a keyword, an empty body).
    Recorded,
    /// A repeated delivery: nothing changed.
    Duplicate,
    /// SMS is disabled for this assistant: nothing recorded or sent.
    Disabled,
}

pub struct SmsWebhook {
    pub store: Arc<dyn SmsStore>,
    pub cipher: Arc<dyn SecretCipher>,
    pub replies: Arc<dyn JobQueue<ReplyJob>>,
    tokens: OpenedSecrets<AssistantId>,
    burst_window: Duration,
    clock: Arc<dyn Clock>,
}

const BAD_SIGNATURE: &str = "the X-Twilio-Signature header does not verify for this request";

impl SmsWebhook {
    pub fn new(
        store: Arc<dyn SmsStore>,
        cipher: Arc<dyn SecretCipher>,
        replies: Arc<dyn JobQueue<ReplyJob>>,
    ) -> Self {
        Self {
            store,
            cipher,
            replies,
            tokens: OpenedSecrets::default(),
            burst_window: DEFAULT_BURST_WINDOW,
            clock: Arc::new(SystemClock),
        }
    }

    /// Texts within `window` of the texter's previous one join its answer
    /// (zero: every text is answered alone); each reply job is queued to
    /// run once the window has passed.
    pub fn with_burst_window(mut self, window: Duration) -> Self {
        self.burst_window = window;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A reply job, after the burst window: by then any text that joins
    /// this one has been recorded, and its own job answers them all.
    async fn queue_reply(&self, job: &ReplyJob) -> Result<(), AppError> {
        if self.burst_window.is_zero() {
            self.replies.enqueue(job).await?;
        } else {
            // SQS delays in whole seconds; the worker waits out any rest.
            self.replies.enqueue_delayed(job, self.burst_window).await?;
        }
        Ok(())
    }

    /// The assistant's configuration, once the request proves it comes
    /// from Twilio with this assistant's Auth Token.
    async fn authenticate(
        &self,
        assistant: &str,
        request: &SignedRequest,
    ) -> Result<SmsConfig, AppError> {
        // An unsigned request costs no read: only a signature is worth
        // checking against a configuration.
        let Some(sent) = request.signature.as_deref() else {
            return Err(AppError::Forbidden(
                "an X-Twilio-Signature header is required",
            ));
        };
        if request.shared_key_signature {
            return Err(AppError::Forbidden(BAD_SIGNATURE));
        }
        let id = AssistantId::parse(assistant).ok_or(AppError::NotFound("assistant"))?;
        let config = self
            .store
            .sms_config(&id)
            .await?
            .ok_or(AppError::NotFound("SMS configuration"))?;
        let context = SecretContext::twilio_auth_token(&config.workspace_id, &config.assistant_id);
        let token = self
            .tokens
            .open(
                self.cipher.as_ref(),
                &config.assistant_id,
                &config.sealed_auth_token,
                &context,
            )
            .await?;
        let verified = request
            .urls
            .iter()
            .any(|url| signature::verify(&token, url, &request.params, sent));
        if verified {
            Ok(config)
        } else {
            Err(AppError::Forbidden(BAD_SIGNATURE))
        }
    }

    pub async fn inbound(
        &self,
        assistant: &str,
        request: &SignedRequest,
    ) -> Result<Received, AppError> {
        let config = self.authenticate(assistant, request).await?;
        if !config.enabled {
            tracing::info!(assistant_id = %config.assistant_id, "SMS disabled; inbound ignored");
            return Ok(Received::Disabled);
        }
        let sid = request
            .param("MessageSid")
            .and_then(MessageSid::parse)
            .ok_or_else(|| AppError::bad_request("MessageSid is missing or malformed"))?;
        let from = request
            .param("From")
            .and_then(PhoneNumber::parse)
            .ok_or_else(|| AppError::bad_request("From is missing or not an E.164 number"))?;
        let body = request.param("Body").unwrap_or_default().to_owned();
        let keyword = Keyword::of(&body);
        let answerable = keyword.is_none() && !body.trim().is_empty();
        let inbound = InboundSms {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            message_sid: sid.clone(),
            from,
            body,
            keyword,
            received_at: self.clock.timestamp(),
            session_timeout: config.session_timeout(),
            burst_window: self.burst_window,
        };
        let outcome = self.store.record_inbound(&inbound).await?;
        let job = ReplyJob {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            message_sid: sid.clone(),
        };
        // The day's count waits on nothing and nothing waits on it but the
        // answer to Twilio: beside the job's queueing, off the ack's path.
        let counted = self
            .store
            .count_received(&config.assistant_id, inbound.received_at);
        if matches!(outcome, InboundOutcome::Recorded(_))
            && keyword == Some(crate::domain::sms::Keyword::OptOut)
        {
            crate::metrics::record(crate::metrics::Metric::OptOuts);
        }
        let received = match outcome {
            InboundOutcome::Recorded(_) if answerable => {
                let ((), queued) = tokio::join!(counted, self.queue_reply(&job));
                queued?;
                Received::Queued
            }
            InboundOutcome::Recorded(_) => {
                counted.await;
                Received::Recorded
            }
            // A delivery after a failed enqueue queues the reply again; the
            // worker answers each inbound message once however many jobs
            // name it.
            InboundOutcome::Duplicate(_) => {
                if answerable
                    && self
                        .store
                        .reply(&config.assistant_id, &sid)
                        .await?
                        .is_none()
                {
                    self.queue_reply(&job).await?;
                }
                Received::Duplicate
            }
        };
        tracing::info!(
            assistant_id = %config.assistant_id,
            message_sid = %sid,
            keyword = keyword.map(Keyword::as_str),
            outcome = ?received,
            "inbound SMS"
        );
        Ok(received)
    }

    /// A delivery-status callback for one of our outbound messages.
    pub async fn status(&self, assistant: &str, request: &SignedRequest) -> Result<(), AppError> {
        let config = self.authenticate(assistant, request).await?;
        let sid = request
            .param("MessageSid")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AppError::bad_request("MessageSid is missing"))?;
        let status = request
            .param("MessageStatus")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AppError::bad_request("MessageStatus is missing"))?;
        let error_code = request.param("ErrorCode").and_then(|c| c.parse().ok());
        self.store
            .record_delivery(&config.assistant_id, sid, status, error_code)
            .await?;
        tracing::info!(
            assistant_id = %config.assistant_id,
            message_sid = sid,
            status,
            error_code,
            "SMS delivery status"
        );
        Ok(())
    }
}
