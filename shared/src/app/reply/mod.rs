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
use crate::app::retrieval::{Retrieved, retrieve};
use crate::domain::conversation::{Channel, history_within};
use crate::domain::sms::segments::{fit_to_segments, segments, to_last_sentence, tokens_that_fit};
use crate::domain::sms::{Credentials, OVER_LIMIT_NOTICE, SmsConfig, SmsLimit, SmsLimits};
use crate::domain::usage::{Allowance, Charge, Exhausted, Month};
use crate::jobs::{Job, MessageOutcome, ReplyJob};
use crate::metrics::{self, Metric};
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
    /// A monthly budget (the assistant's or the workspace's) is used up: no
    /// model call, and the owner's message once a day, if they set one.
    OverBudget(&'static str),
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
    allowance: Allowance,
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
                if let Err(exhausted) = gathered.allowance.check(Channel::Sms) {
                    return self.tell_over_budget(&config, &inbound, exhausted).await;
                }
                let allowance = gathered.allowance.clone();
                // The token opens, and the texter's opt-out is read again
                // (a STOP may have come since), while the answer is composed.
                let ((draft, charge), credentials, opted_out) = tokio::try_join!(
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
                // Sent first (the texter waits on no counter), then
                // counted whatever the send came to: a retried job finds
                // the reply created and counts it no more.
                let delivered = self.deliver(&config, &credentials, &reply, created).await;
                if created {
                    metrics::record(Metric::Answers(Channel::Sms));
                    metrics::record(Metric::ModelTokens(
                        Channel::Sms,
                        charge.prompt_tokens + charge.completion_tokens,
                    ));
                    self.count(&charge).await;
                    crate::app::usage::alert(self.store.as_ref(), &allowance, &charge).await;
                }
                delivered
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
        tracing::info!(assistant_id = %config.assistant_id, message_sid = %inbound.message_sid, limit = limit.as_str(), "text over an SMS limit; not answered");
        self.notify(config, inbound, OVER_LIMIT_NOTICE).await?;
        Ok(Replied::OverLimit(limit))
    }

    /// A text to an assistant over a monthly budget: no model call, and
    /// the owner's message (if they set one) as the texter's one notice of
    /// the day.
    async fn tell_over_budget(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
        exhausted: Exhausted,
    ) -> Result<Replied, JobError> {
        tracing::info!(
            assistant_id = %config.assistant_id,
            message_sid = %inbound.message_sid,
            budget = exhausted.scope,
            metric = exhausted.metric.as_str(),
            "text to an assistant over its monthly budget; not answered"
        );
        metrics::record(Metric::BudgetRefusals(Channel::Sms, exhausted.scope));
        if let Some(message) = &exhausted.message {
            self.notify(config, inbound, message).await?;
        }
        Ok(Replied::OverBudget(exhausted.scope))
    }

    /// Sends `notice` as the reply to `inbound`, if the texter has had no
    /// notice today and has not opted out.
    async fn notify(
        &self,
        config: &SmsConfig,
        inbound: &InboundRecord,
        notice: &str,
    ) -> Result<(), JobError> {
        let now = self.clock.timestamp();
        let Some(conversation) = inbound.conversation_id.clone() else {
            return Ok(());
        };
        if self.opted_out_now(config, inbound).await? {
            return Ok(());
        }
        let window = SmsLimits::notice_window(&inbound.texter, now);
        if self
            .store
            .count_sms_use(&config.assistant_id, &[window])
            .await?
            != Admission::Admitted
        {
            return Ok(());
        }
        let draft = ReplyDraft {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            inbound: inbound.message_sid.clone(),
            conversation_id: conversation,
            to: inbound.from.clone(),
            answer: notice.to_owned(),
            parts: vec![notice.to_owned()],
            usage: Default::default(),
        };
        let credentials = self.credentials(config).await?;
        let (reply, created) = self.store.create_reply(draft, now).await?;
        let delivered = self.deliver(config, &credentials, &reply, created).await;
        if created {
            self.count(&Charge {
                assistant_id: Some(config.assistant_id.clone()),
                segments_out: u64::from(segments(notice)),
                ..Charge::new(config.workspace_id.clone(), now)
            })
            .await;
        }
        delivered.map(|_| ())
    }

    /// Counts a reply just created, apart from its own write (every reply
    /// of the workspace adds to the same counters, so they never sit in a
    /// texter's transaction). Counting never fails the reply: counters that
    /// could not be written are logged with their amounts.
    async fn count(&self, charge: &Charge) {
        if let Err(error) = self.store.count_usage(charge).await {
            tracing::error!(
                workspace_id = %charge.workspace_id,
                assistant_id = ?charge.assistant_id.as_ref().map(ToString::to_string),
                tokens = charge.tokens(),
                segments_in = charge.segments_in,
                segments_out = charge.segments_out,
                %error,
                "usage not counted"
            );
        }
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
        let month = Month::of(self.clock.timestamp());
        let ((assistant, allowance), earlier, texts, projects) = tokio::try_join!(
            self.store.assistant_with_allowance(
                &config.workspace_id,
                &config.assistant_id,
                None,
                month
            ),
            self.store
                .messages_before(conversation, first, HISTORY_MESSAGES),
            self.store.find_messages(conversation, &burst),
            self.store
                .connected_project_ids(&config.workspace_id, &config.assistant_id),
        )?;
        let Some(assistant) = assistant.map(|found| found.item) else {
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
            allowance,
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
    ) -> Result<(ReplyDraft, Charge), JobError> {
        let Gathered {
            conversation,
            assistant,
            texts,
            earlier,
            projects,
            allowance: _,
        } = gathered;
        let question = texts
            .iter()
            .map(|m| m.content.trim())
            .collect::<Vec<_>>()
            .join("\n");
        let history = history_within(&earlier, HISTORY_TOKEN_BUDGET);
        let Retrieved {
            passages,
            embedding_tokens,
        } = retrieve(
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
        let charge = Charge {
            assistant_id: Some(config.assistant_id.clone()),
            answered_on: Some(Channel::Sms),
            model: Some(assistant.model.clone()),
            prompt_tokens: u64::from(answer.usage.prompt_tokens),
            completion_tokens: u64::from(answer.usage.completion_tokens),
            estimated: answer.usage.estimated,
            question_embedding_tokens: embedding_tokens,
            segments_in: texts.iter().map(|m| u64::from(segments(&m.content))).sum(),
            segments_out: u64::from(segments(&body)),
            ..Charge::new(config.workspace_id.clone(), self.clock.timestamp())
        };
        let draft = ReplyDraft {
            workspace_id: config.workspace_id.clone(),
            assistant_id: config.assistant_id.clone(),
            inbound: inbound.message_sid.clone(),
            conversation_id: conversation,
            to: inbound.from.clone(),
            // What the texter reads is what the conversation keeps.
            answer: body.clone(),
            parts: vec![body],
            usage: answer.usage,
        };
        Ok((draft, charge))
    }
}
