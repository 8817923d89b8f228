//! The reply worker: answers one inbound text, exactly once. The answer is
//! decided and stored before anything is sent (so a retry sends the same
//! text), and each part is marked `sending` before Twilio is called (so a
//! worker that dies after the send never sends it again).

use super::answer::{self, HISTORY_MESSAGES, HISTORY_TOKEN_BUDGET, PASSAGES_PER_ANSWER};
use crate::app::retrieval::{RetrievalError, stored_passages};
use crate::domain::conversation::{Channel, history_within};
use crate::domain::sms::segments::{segments, split_for_sms};
use crate::domain::sms::{Credentials, SmsConfig};
use crate::jobs::{Job, MessageOutcome, ReplyJob};
use crate::ports::sms_gateway::OPTED_OUT;
use crate::ports::{
    ChatModel, CipherError, GatewayError, InboundRecord, OutboundSms, PartState, PassageSearch,
    ProviderError, Reply, ReplyDraft, SecretCipher, SecretContext, SmsGateway, Store, StoreError,
};
use std::sync::Arc;
use std::time::Duration;

/// Retries of a send inside one delivery: a few seconds at most, then the
/// queue's own redelivery takes over.
#[derive(Clone, Copy, Debug)]
pub struct SendRetry {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for SendRetry {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// What answering a job came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replied {
    /// Every part sent, this many now.
    Sent(usize),
    /// Nothing left to send: already sent, or in another worker's hands.
    AlreadyHandled,
    /// Nothing to answer, for this reason.
    Skipped(&'static str),
    /// Twilio refused the send for good, with this code.
    Refused(Option<u32>),
}

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// Worth another delivery of the job.
    #[error("will retry: {0}")]
    Transient(String),
    /// Retrying cannot help: acknowledge the job.
    #[error("gave up: {0}")]
    Permanent(String),
}

impl From<StoreError> for ReplyError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Transient(_) => Self::Transient(error.to_string()),
            other => Self::Permanent(other.to_string()),
        }
    }
}

impl From<ProviderError> for ReplyError {
    fn from(error: ProviderError) -> Self {
        if error.is_transient() {
            Self::Transient(error.to_string())
        } else {
            Self::Permanent(error.to_string())
        }
    }
}

impl From<RetrievalError> for ReplyError {
    fn from(error: RetrievalError) -> Self {
        match error {
            RetrievalError::Search(error) => error.into(),
            RetrievalError::Store(error) => error.into(),
        }
    }
}

impl From<CipherError> for ReplyError {
    fn from(error: CipherError) -> Self {
        match error {
            CipherError::Transient(_) => Self::Transient(error.to_string()),
            CipherError::Refused(_) => Self::Permanent(error.to_string()),
        }
    }
}

pub struct ReplyWorker {
    pub store: Arc<dyn Store>,
    pub search: Arc<dyn PassageSearch>,
    pub chat: Arc<dyn ChatModel>,
    pub gateway: Arc<dyn SmsGateway>,
    pub cipher: Arc<dyn SecretCipher>,
    /// Where Twilio reports delivery: `{base}/api/sms/status/{assistant}`.
    pub public_base_url: String,
    pub retry: SendRetry,
}

/// Jobs answered at once per batch: each waits on the model for seconds.
pub const REPLY_CONCURRENCY: usize = 5;

impl ReplyWorker {
    /// One queue message, decoded on its own.
    pub async fn handle_message(&self, message_id: &str, body: &str) -> MessageOutcome {
        let job = match ReplyJob::from_message(body) {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(message_id, %error, "reply message is not a job; dropping it");
                return MessageOutcome::Poison;
            }
        };
        match self.reply(&job).await {
            Ok(replied) => {
                tracing::info!(
                    assistant_id = %job.assistant_id,
                    message_sid = %job.message_sid,
                    outcome = ?replied,
                    "reply handled"
                );
                MessageOutcome::Done
            }
            Err(ReplyError::Transient(reason)) => {
                tracing::warn!(assistant_id = %job.assistant_id, message_sid = %job.message_sid, reason, "reply failed; will retry");
                MessageOutcome::Retry
            }
            Err(ReplyError::Permanent(reason)) => {
                tracing::error!(assistant_id = %job.assistant_id, message_sid = %job.message_sid, reason, "reply abandoned");
                MessageOutcome::Poison
            }
        }
    }

    pub async fn reply(&self, job: &ReplyJob) -> Result<Replied, ReplyError> {
        let assistant = &job.assistant_id;
        // The three reads name only the job's ids: one round trip's wait.
        let (config, inbound, existing) = tokio::try_join!(
            self.store.sms_config(assistant),
            self.store.inbound(assistant, &job.message_sid),
            self.store.reply(assistant, &job.message_sid),
        )?;
        let Some(config) = config.filter(|c| c.workspace_id == job.workspace_id) else {
            return Ok(Replied::Skipped("the assistant has no SMS configuration"));
        };
        if !config.enabled {
            return Ok(Replied::Skipped("SMS is disabled"));
        }
        let Some(inbound) = inbound else {
            return Ok(Replied::Skipped("no such inbound message"));
        };
        if inbound.keyword.is_some() {
            return Ok(Replied::Skipped("a compliance keyword is never answered"));
        }
        let credentials = self.credentials(&config);
        let (reply, claimed_first) = match existing {
            Some(reply) => (reply, false),
            None => {
                if inbound.opted_out {
                    return Ok(Replied::Skipped("the texter opted out"));
                }
                // The token opens, and the texter's opt-out is read again
                // (a STOP may have come since), while the answer is composed.
                let (draft, credentials, opted_out) = tokio::try_join!(
                    self.compose(&config, &inbound),
                    credentials,
                    self.opted_out_now(&config, &inbound),
                )?;
                if opted_out {
                    return Ok(Replied::Skipped("the texter opted out"));
                }
                let Some(draft) = draft else {
                    return Ok(Replied::Skipped("nothing to answer"));
                };
                let (reply, created) = self.store.create_reply(draft).await?;
                return self.deliver(&config, &credentials, &reply, created).await;
            }
        };
        if !reply.parts.iter().any(|p| p.state == PartState::Pending) {
            return Ok(Replied::AlreadyHandled);
        }
        let (credentials, opted_out) =
            tokio::try_join!(credentials, self.opted_out_now(&config, &inbound))?;
        if opted_out {
            return Ok(Replied::Skipped("the texter opted out"));
        }
        self.deliver(&config, &credentials, &reply, claimed_first)
            .await
    }

    async fn opted_out_now(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
    ) -> Result<bool, ReplyError> {
        Ok(self
            .store
            .contact(&config.assistant_id, &inbound.from)
            .await?
            .is_some_and(|c| c.opted_out))
    }

    async fn credentials(&self, config: &SmsConfig) -> Result<Credentials, ReplyError> {
        let context = SecretContext::twilio_auth_token(&config.workspace_id, &config.assistant_id);
        Ok(Credentials {
            account_sid: config.account_sid.clone(),
            auth_token: self
                .cipher
                .open(&config.sealed_auth_token, &context)
                .await?,
            phone_number: config.phone_number.clone(),
        })
    }

    /// Retrieval, prompt and model: the answer, split for SMS.
    async fn compose(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
    ) -> Result<Option<ReplyDraft>, ReplyError> {
        let (Some(conversation), Some(message_id)) =
            (&inbound.conversation_id, &inbound.message_id)
        else {
            return Ok(None);
        };
        let (assistant, recent, projects) = tokio::try_join!(
            self.store
                .get_assistant(&config.workspace_id, &config.assistant_id),
            self.store
                .recent_messages(conversation, HISTORY_MESSAGES + 1),
            self.store
                .connected_project_ids(&config.workspace_id, &config.assistant_id),
        )?;
        let Some(assistant) = assistant else {
            return Ok(None);
        };
        let Some(question) = recent.iter().find(|m| &m.id == message_id) else {
            return Err(ReplyError::Permanent(
                "the inbound message is not in its conversation".into(),
            ));
        };
        let question = question.content.clone();
        // History is what came before the question.
        let earlier: Vec<_> = recent
            .iter()
            .filter(|m| &m.id != message_id && m.created_at <= inbound.received_at)
            .cloned()
            .collect();
        let history = history_within(&earlier, HISTORY_TOKEN_BUDGET);
        let passages = stored_passages(
            self.search.as_ref(),
            self.store.as_ref(),
            &config.workspace_id,
            &projects,
            &question,
            PASSAGES_PER_ANSWER,
        )
        .await?;
        let request = answer::prompt(&assistant, Channel::Sms, &passages, &history, &question);
        let answer = self.chat.complete(&request).await?;
        let parts = split_for_sms(&answer.text);
        if parts.is_empty() {
            return Err(ReplyError::Permanent("the model answered nothing".into()));
        }
        tracing::info!(
            assistant_id = %config.assistant_id,
            passages = passages.len(),
            history = history.len(),
            parts = parts.len(),
            prompt_tokens = answer.usage.prompt_tokens,
            completion_tokens = answer.usage.completion_tokens,
            "answer composed"
        );
        Ok(Some(ReplyDraft {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            inbound: inbound.message_sid.clone(),
            conversation_id: conversation.clone(),
            to: inbound.from.clone(),
            answer: answer.text.trim().to_owned(),
            parts,
            usage: answer.usage,
        }))
    }

    /// Sends every part still pending, in order. `claimed_first`: this
    /// worker created the reply, and with it the claim on its first part.
    async fn deliver(
        &self,
        config: &SmsConfig,
        credentials: &Credentials,
        reply: &Reply,
        claimed_first: bool,
    ) -> Result<Replied, ReplyError> {
        let assistant = &config.assistant_id;
        let mut sent = 0;
        for (index, part) in reply.parts.iter().enumerate() {
            let claimed = claimed_first && index == 0;
            match part.state {
                PartState::Sent { .. } => continue,
                PartState::Failed { code } => return Ok(Replied::Refused(code)),
                PartState::Sending if claimed => {}
                // Another worker is sending it, or one died while it did:
                // sending again could send it twice.
                PartState::Sending => return Ok(Replied::AlreadyHandled),
                PartState::Pending => {
                    if !self
                        .store
                        .move_part(
                            assistant,
                            &reply.inbound,
                            index,
                            "pending",
                            &PartState::Sending,
                        )
                        .await?
                    {
                        return Ok(Replied::AlreadyHandled);
                    }
                }
            }
            let message = OutboundSms {
                from: config.phone_number.clone(),
                to: reply.to.clone(),
                body: part.body.clone(),
                status_callback: format!(
                    "{}/api/sms/status/{assistant}",
                    self.public_base_url.trim_end_matches('/')
                ),
            };
            match self.send_with_retries(credentials, &message).await {
                Ok(accepted) => {
                    let state = PartState::Sent {
                        sid: accepted.sid,
                        segments: segments(&part.body),
                    };
                    self.store
                        .move_part(assistant, &reply.inbound, index, "sending", &state)
                        .await?;
                    sent += 1;
                }
                Err(GatewayError::Transient { detail, .. }) => {
                    // Twilio did not take it: the part may be sent again.
                    self.store
                        .move_part(
                            assistant,
                            &reply.inbound,
                            index,
                            "sending",
                            &PartState::Pending,
                        )
                        .await?;
                    return Err(ReplyError::Transient(format!("Twilio: {detail}")));
                }
                Err(GatewayError::Rejected { code, status }) => {
                    tracing::warn!(assistant_id = %assistant, status, code, "Twilio refused the reply");
                    for rest in index..reply.parts.len() {
                        let from = if rest == index { "sending" } else { "pending" };
                        self.store
                            .move_part(
                                assistant,
                                &reply.inbound,
                                rest,
                                from,
                                &PartState::Failed { code },
                            )
                            .await?;
                    }
                    if code == Some(OPTED_OUT) {
                        self.store.opt_out(assistant, &reply.to).await?;
                    }
                    return Ok(Replied::Refused(code));
                }
                Err(GatewayError::Malformed(detail)) => {
                    // Twilio answered 2xx in a shape we cannot read: it most
                    // likely took the message, so it is never sent again.
                    tracing::error!(assistant_id = %assistant, detail, "unreadable answer from Twilio");
                    return Err(ReplyError::Permanent(format!("Twilio: {detail}")));
                }
            }
        }
        Ok(Replied::Sent(sent))
    }

    /// One send, retried in-process on transient failures within a few
    /// seconds (honouring `Retry-After` within that budget).
    async fn send_with_retries(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
    ) -> Result<crate::ports::SentSms, GatewayError> {
        let mut backoff = self.retry.first_backoff;
        let mut attempt = 1;
        loop {
            match self.gateway.send(credentials, message).await {
                Err(GatewayError::Transient {
                    detail,
                    retry_after,
                }) if attempt < self.retry.attempts => {
                    let wait = retry_after
                        .filter(|w| *w <= self.retry.max_backoff)
                        .unwrap_or(backoff);
                    tracing::info!(
                        attempt,
                        detail,
                        wait_ms = wait.as_millis() as u64,
                        "Twilio send will be retried"
                    );
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}
