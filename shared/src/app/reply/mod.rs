//! The reply worker: answers an inbound text (or the burst of texts it
//! closes), exactly once and within the customer's limits.
//!
//! Whether a text is answered is decided once, before the model is asked:
//! a text a later one merged into is answered by that one's job, and a
//! texter or an assistant over a limit gets no model call (at most one
//! notice a day). The answer is then decided and stored before anything is
//! sent, so a retry sends the same text, cut to the configured segment
//! budget.

use crate::app::answer::{self, HISTORY_MESSAGES, HISTORY_TOKEN_BUDGET, PASSAGES_PER_ANSWER};
use crate::app::retrieval::stored_passages;
use crate::domain::conversation::{Channel, history_within};
use crate::domain::sms::segments::{fit_to_segments, segments, to_last_sentence, tokens_that_fit};
use crate::domain::sms::{Credentials, OVER_LIMIT_NOTICE, SmsConfig, SmsLimit, SmsLimits};
use crate::jobs::{Job, MessageOutcome, ReplyJob};
use crate::ports::{
    Admission, ChatModel, Clock, Decided, InboundRecord, PartState, PassageSearch, ReplyDecision,
    ReplyDraft, SecretCipher, SecretContext, SmsGateway, Store,
};
use std::sync::Arc;
use std::time::Duration;

mod delivery;

use crate::app::job_error::JobError;

pub use delivery::{CLAIM_LEASE, SendRetry};

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
    /// A limit was reached: no model call (and the day's notice, if it was
    /// the texter's first).
    OverLimit(SmsLimit),
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
    /// The window the webhook merges a texter's texts in; their job comes
    /// after it (see [`crate::app::sms_webhook`]).
    pub burst_window: Duration,
    pub clock: Arc<dyn Clock>,
}

/// What an answer is made from (see `ReplyWorker::gather`).
struct Gathered {
    conversation: crate::domain::ids::ConversationId,
    assistant: crate::domain::assistant::Assistant,
    texts: Vec<crate::domain::conversation::Message>,
    earlier: Vec<crate::domain::conversation::Message>,
    projects: Vec<crate::domain::ids::ProjectId>,
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
            Err(JobError::Transient(reason)) => {
                tracing::warn!(assistant_id = %job.assistant_id, message_sid = %job.message_sid, reason, "reply failed; will retry");
                MessageOutcome::Retry
            }
            Err(JobError::Permanent(reason)) => {
                tracing::error!(assistant_id = %job.assistant_id, message_sid = %job.message_sid, reason, "reply abandoned");
                MessageOutcome::Poison
            }
        }
    }

    pub async fn reply(&self, job: &ReplyJob) -> Result<Replied, JobError> {
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
        if inbound.merged_into.is_some() {
            return Ok(Replied::Skipped(
                "a later text of the same burst answers it",
            ));
        }
        if let Some(reply) = existing {
            let settled =
                |p: &PartState| matches!(p, PartState::Sent { .. } | PartState::Failed { .. });
            if reply.parts.iter().all(|p| settled(&p.state)) {
                return Ok(Replied::AlreadyHandled);
            }
            let (credentials, opted_out) = tokio::try_join!(
                self.credentials(&config),
                self.opted_out_now(&config, &inbound)
            )?;
            if opted_out {
                return Ok(Replied::Skipped("the texter opted out"));
            }
            return self.deliver(&config, &credentials, &reply, false).await;
        }
        if inbound.opted_out {
            return Ok(Replied::Skipped("the texter opted out"));
        }
        self.wait_out_the_burst(&inbound).await;
        let now = self.clock.timestamp();
        // The answer's reads wait on nothing the decision writes, so they
        // share its round trips; only the model waits for the decision.
        let decide = async {
            let decided = self
                .store
                .decide_reply(
                    assistant,
                    &inbound.message_sid,
                    &config.limits.texter_windows(&inbound.texter, now),
                    &config.limits.assistant_window(now),
                    now,
                )
                .await?;
            Ok::<_, JobError>(decided)
        };
        let (decided, gathered) = tokio::try_join!(decide, self.gather(&config, &inbound))?;
        match decided {
            Decided::Merged => Ok(Replied::Skipped(
                "a later text of the same burst answers it",
            )),
            Decided::Decision(ReplyDecision::OverLimit(limit)) => {
                self.tell_over_limit(&config, &inbound, limit).await
            }
            Decided::Decision(ReplyDecision::Answer) => {
                let Some(gathered) = gathered else {
                    return Ok(Replied::Skipped("nothing to answer"));
                };
                // The token opens, and the texter's opt-out is read again
                // (a STOP may have come since), while the answer is composed.
                let (draft, credentials, opted_out) = tokio::try_join!(
                    self.compose(&config, &inbound, gathered),
                    self.credentials(&config),
                    self.opted_out_now(&config, &inbound),
                )?;
                if opted_out {
                    return Ok(Replied::Skipped("the texter opted out"));
                }
                let (reply, created) = self
                    .store
                    .create_reply(draft, self.clock.timestamp())
                    .await?;
                self.deliver(&config, &credentials, &reply, created).await
            }
        }
    }

    /// A job the queue handed over before the burst window closed (SQS
    /// delays are whole seconds, and not exact) waits out the rest, so a
    /// text still arriving can merge into this one.
    async fn wait_out_the_burst(&self, inbound: &InboundRecord) {
        let closes = inbound.received_at.plus(self.burst_window);
        let early = closes.millis() - self.clock.timestamp().millis();
        if early > 0 {
            let wait = Duration::from_millis(early as u64).min(self.burst_window);
            tokio::time::sleep(wait).await;
        }
    }

    /// A text over a limit: the texter's one notice of the day, if they
    /// have not had it, and nothing else.
    async fn tell_over_limit(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
        limit: SmsLimit,
    ) -> Result<Replied, JobError> {
        let now = self.clock.timestamp();
        tracing::info!(assistant_id = %config.assistant_id, message_sid = %inbound.message_sid, limit = limit.as_str(), "text over an SMS limit; not answered");
        let Some(conversation) = inbound.conversation_id.clone() else {
            return Ok(Replied::OverLimit(limit));
        };
        if self.opted_out_now(config, inbound).await? {
            return Ok(Replied::OverLimit(limit));
        }
        let notice = SmsLimits::notice_window(&inbound.texter, now);
        if self
            .store
            .count_sms_use(&config.assistant_id, &[notice])
            .await?
            != Admission::Admitted
        {
            return Ok(Replied::OverLimit(limit));
        }
        let draft = ReplyDraft {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            inbound: inbound.message_sid.clone(),
            conversation_id: conversation,
            to: inbound.from.clone(),
            answer: OVER_LIMIT_NOTICE.to_owned(),
            parts: vec![OVER_LIMIT_NOTICE.to_owned()],
            usage: Default::default(),
        };
        let credentials = self.credentials(config).await?;
        let (reply, created) = self.store.create_reply(draft, now).await?;
        self.deliver(config, &credentials, &reply, created).await?;
        Ok(Replied::OverLimit(limit))
    }

    async fn opted_out_now(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
    ) -> Result<bool, JobError> {
        Ok(self
            .store
            .contact(&config.assistant_id, &inbound.from)
            .await?
            .is_some_and(|c| c.opted_out))
    }

    async fn credentials(&self, config: &SmsConfig) -> Result<Credentials, JobError> {
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

    /// What an answer is made from, read by the texts' ids alone (so it
    /// runs beside the decision to answer): the assistant, the burst's
    /// texts by where they are, the history before the first of them
    /// (however many messages came since), and the connected projects.
    /// `None` when there is nothing to answer.
    async fn gather(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
    ) -> Result<Option<Gathered>, JobError> {
        let (Some(conversation), Some(message_id)) =
            (&inbound.conversation_id, &inbound.message_id)
        else {
            return Ok(None);
        };
        let burst = if inbound.burst.is_empty() {
            // Recorded before bursts were: the text alone.
            vec![crate::domain::conversation::MessageRef {
                id: message_id.clone(),
                at: inbound.received_at,
            }]
        } else {
            inbound.burst.clone()
        };
        let first = burst.first().map_or(inbound.received_at, |m| m.at);
        let (assistant, earlier, texts, projects) = tokio::try_join!(
            self.store
                .get_assistant(&config.workspace_id, &config.assistant_id),
            self.store
                .messages_before(conversation, first, HISTORY_MESSAGES),
            self.store.find_messages(conversation, &burst),
            self.store
                .connected_project_ids(&config.workspace_id, &config.assistant_id),
        )?;
        let Some(assistant) = assistant else {
            return Ok(None);
        };
        if !texts.iter().any(|m| &m.id == message_id) {
            return Err(JobError::Permanent(
                "the inbound message is not in its conversation".into(),
            ));
        }
        Ok(Some(Gathered {
            conversation: conversation.clone(),
            assistant,
            texts,
            earlier,
            projects,
        }))
    }

    /// Retrieval, prompt and model: the answer to the burst the text
    /// closes, cut to the configured segments. Asked only once the text is
    /// decided to be answered.
    async fn compose(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
        gathered: Gathered,
    ) -> Result<ReplyDraft, JobError> {
        let Gathered {
            conversation,
            assistant,
            texts,
            earlier,
            projects,
        } = gathered;
        let question = texts
            .iter()
            .map(|m| m.content.trim())
            .collect::<Vec<_>>()
            .join("\n");
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
        let mut request = answer::prompt(&assistant, Channel::Sms, &passages, &history, &question);
        // Tokens that would be cut off are never asked for.
        request.max_tokens = request
            .max_tokens
            .min(tokens_that_fit(config.max_segments_per_reply));
        let answer = self.chat.complete(&request).await?;
        // A model stopped by its token cap ends mid-sentence.
        let text = if answer.truncated {
            to_last_sentence(&answer.text)
        } else {
            &answer.text
        };
        let Some(body) = fit_to_segments(text, config.max_segments_per_reply) else {
            return Err(JobError::Permanent("the model answered nothing".into()));
        };
        tracing::info!(
            assistant_id = %config.assistant_id,
            passages = passages.len(),
            history = history.len(),
            texts = texts.len(),
            segments = segments(&body),
            cut = body.len() < answer.text.trim().len(),
            prompt_tokens = answer.usage.prompt_tokens,
            completion_tokens = answer.usage.completion_tokens,
            "answer composed"
        );
        Ok(ReplyDraft {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            inbound: inbound.message_sid.clone(),
            conversation_id: conversation,
            to: inbound.from.clone(),
            // What the texter reads is what the conversation keeps.
            answer: body.clone(),
            parts: vec![body],
            usage: answer.usage,
        })
    }
}
