//! Sending a stored reply's parts.
//!
//! Each part is claimed (`sending`, with the time) before Twilio is called.
//! Twilio has no idempotency key for creating a message, so a send is
//! tried again only when it provably did not reach Twilio; when its answer
//! was lost, the part is looked for in Twilio's message list first, and
//! sent again only if the list answers and it is not there. A claim older
//! than any live worker can hold one ([`CLAIM_LEASE`]) is a worker that
//! died mid-send: its part is looked for the same way, never sent blindly.

use super::{Replied, ReplyWorker};
use crate::app::job_error::JobError;
use crate::domain::sms::segments::segments;
use crate::domain::sms::{Credentials, SmsConfig};
use crate::domain::time::Timestamp;
use crate::metrics::{self, Metric};
use crate::ports::sms_gateway::OPTED_OUT;
use crate::ports::{GatewayError, OutboundSms, PartState, Reply, SentSms};
use std::time::Duration;

/// How long a live worker can hold a claim on a part: more than the reply
/// worker's whole invocation (60 s in the template), so a claim older than
/// this belongs to a worker that is gone. The reply queue's visibility
/// timeout (360 s) is longer than the invocation and this together, so a
/// job redelivered after its worker died always finds the claim lapsed.
pub const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// Twilio stamps a message to the second, by its own clock: a message
/// created this long before the claim may still be the claimed send.
const LOOKUP_SKEW: Duration = Duration::from_secs(5);

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

/// How one claimed send ended.
enum SendOutcome {
    Sent(SentSms),
    /// Twilio did not take it, or its list shows it is not there: the part
    /// may be sent again later.
    NotSent(String),
    /// It may have been sent, and the list could not be read to tell.
    Lost(String),
    Refused {
        status: u16,
        code: Option<u32>,
    },
}

/// Whether a lost send is on Twilio.
enum Lookup {
    Found(SentSms),
    NotThere,
    Unreadable(String),
}

impl ReplyWorker {
    fn outbound(&self, config: &SmsConfig, reply: &Reply, body: &str) -> OutboundSms {
        OutboundSms {
            from: config.phone_number.clone(),
            to: reply.to.clone(),
            body: body.to_owned(),
            status_callback: format!(
                "{}/api/sms/status/{}",
                self.public_base_url.trim_end_matches('/'),
                config.assistant_id
            ),
        }
    }

    /// Sends every part not sent yet, in order. `claimed_first`: this
    /// worker created the reply, and with it the claim on its first part.
    pub(super) async fn deliver(
        &self,
        config: &SmsConfig,
        credentials: &Credentials,
        reply: &Reply,
        claimed_first: bool,
    ) -> Result<Replied, JobError> {
        let assistant = &config.assistant_id;
        let mut sent = 0;
        for (index, part) in reply.parts.iter().enumerate() {
            let message = self.outbound(config, reply, &part.body);
            let now = self.clock.timestamp();
            let mine = claimed_first && index == 0;
            let claimed = match &part.state {
                PartState::Sent { .. } => continue,
                PartState::Failed { code } => return Ok(Replied::Refused(*code)),
                PartState::Sending { .. } if mine => Some(part.state.clone()),
                // Another worker is sending it right now.
                PartState::Sending { since }
                    if now.millis() - since.millis() < CLAIM_LEASE.as_millis() as i64 =>
                {
                    return Ok(Replied::AlreadyHandled);
                }
                // A worker died holding it, or its answer was lost: it may
                // have been sent, so it is looked for before anything else.
                PartState::Sending { since } | PartState::Unknown { since } => {
                    match self
                        .look_for(credentials, assistant, &message, *since)
                        .await?
                    {
                        Lookup::Found(found) => {
                            self.record_sent(
                                assistant,
                                reply,
                                index,
                                &part.state,
                                found,
                                &part.body,
                            )
                            .await?;
                            sent += 1;
                            continue;
                        }
                        Lookup::Unreadable(detail) => {
                            return Err(JobError::Transient(format!(
                                "Twilio's message list: {detail}"
                            )));
                        }
                        Lookup::NotThere => {
                            self.claim(assistant, reply, index, &part.state, now)
                                .await?
                        }
                    }
                }
                PartState::Pending => {
                    self.claim(assistant, reply, index, &part.state, now)
                        .await?
                }
            };
            let Some(claimed) = claimed else {
                // Another worker moved it first.
                return Ok(Replied::AlreadyHandled);
            };
            let since = claimed.since().unwrap_or(now);
            match self
                .send_claimed(credentials, assistant, &message, since)
                .await?
            {
                SendOutcome::Sent(accepted) => {
                    self.record_sent(assistant, reply, index, &claimed, accepted, &part.body)
                        .await?;
                    sent += 1;
                }
                SendOutcome::NotSent(detail) => {
                    // Twilio does not have it: the part may be sent again.
                    self.store
                        .move_part(
                            assistant,
                            &reply.inbound,
                            index,
                            &claimed,
                            &PartState::Pending,
                            now,
                        )
                        .await?;
                    return Err(JobError::Transient(format!("Twilio: {detail}")));
                }
                SendOutcome::Lost(detail) => {
                    let unknown = PartState::Unknown { since };
                    self.store
                        .move_part(assistant, &reply.inbound, index, &claimed, &unknown, now)
                        .await?;
                    return Err(JobError::Transient(format!(
                        "Twilio's answer was lost and its list could not be read: {detail}"
                    )));
                }
                SendOutcome::Refused { status, code } => {
                    tracing::warn!(assistant_id = %assistant, status, code, "Twilio refused the reply");
                    metrics::record(Metric::SmsSendFailures(code));
                    let mut from = claimed;
                    for rest in index..reply.parts.len() {
                        self.store
                            .move_part(
                                assistant,
                                &reply.inbound,
                                rest,
                                &from,
                                &PartState::Failed { code },
                                now,
                            )
                            .await?;
                        from = PartState::Pending;
                    }
                    if code == Some(OPTED_OUT) {
                        self.store.opt_out(assistant, &reply.to).await?;
                    }
                    return Ok(Replied::Refused(code));
                }
            }
        }
        Ok(Replied::Sent(sent))
    }

    /// Claims a part for this worker from exactly the state it was read
    /// in; `None` when another worker moved it first.
    async fn claim(
        &self,
        assistant: &crate::domain::ids::AssistantId,
        reply: &Reply,
        index: usize,
        from: &PartState,
        now: Timestamp,
    ) -> Result<Option<PartState>, JobError> {
        let claimed = PartState::Sending { since: now };
        let moved = self
            .store
            .move_part(assistant, &reply.inbound, index, from, &claimed, now)
            .await?;
        Ok(moved.then_some(claimed))
    }

    async fn record_sent(
        &self,
        assistant: &crate::domain::ids::AssistantId,
        reply: &Reply,
        index: usize,
        from: &PartState,
        accepted: SentSms,
        body: &str,
    ) -> Result<(), JobError> {
        let state = PartState::Sent {
            sid: accepted.sid,
            segments: segments(body),
        };
        metrics::record(Metric::SmsSegmentsSent(u64::from(segments(body))));
        self.store
            .move_part(
                assistant,
                &reply.inbound,
                index,
                from,
                &state,
                self.clock.timestamp(),
            )
            .await?;
        Ok(())
    }

    /// One claimed part, sent: tried again in-process only when Twilio
    /// provably did not take it (honouring `Retry-After` within the
    /// budget), or when its answer was lost and its list shows it is not
    /// there.
    async fn send_claimed(
        &self,
        credentials: &Credentials,
        assistant: &crate::domain::ids::AssistantId,
        message: &OutboundSms,
        since: Timestamp,
    ) -> Result<SendOutcome, JobError> {
        let mut backoff = self.retry.first_backoff;
        let mut attempt = 1;
        loop {
            let wait = match self.gateway.send(credentials, message).await {
                Ok(accepted) => return Ok(SendOutcome::Sent(accepted)),
                Err(GatewayError::Rejected { status, code }) => {
                    return Ok(SendOutcome::Refused { status, code });
                }
                Err(GatewayError::NotSent {
                    detail,
                    retry_after,
                }) => {
                    if attempt >= self.retry.attempts {
                        return Ok(SendOutcome::NotSent(detail));
                    }
                    tracing::info!(
                        attempt,
                        detail,
                        "Twilio did not take the send; it will be tried again"
                    );
                    retry_after
                        .filter(|w| *w <= self.retry.max_backoff)
                        .unwrap_or(backoff)
                }
                Err(error @ (GatewayError::Unknown { .. } | GatewayError::Malformed(_))) => {
                    tracing::warn!(attempt, %error, "Twilio's answer to a send was lost; looking for it");
                    match self
                        .look_for(credentials, assistant, message, since)
                        .await?
                    {
                        Lookup::Found(found) => return Ok(SendOutcome::Sent(found)),
                        Lookup::Unreadable(detail) => return Ok(SendOutcome::Lost(detail)),
                        Lookup::NotThere if attempt >= self.retry.attempts => {
                            return Ok(SendOutcome::NotSent(error.to_string()));
                        }
                        Lookup::NotThere => backoff,
                    }
                }
            };
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(self.retry.max_backoff);
            attempt += 1;
        }
    }

    /// Looks for a send claimed at `since` in Twilio's message list: the
    /// earliest message with its body, sender and recipient created since
    /// then that no other part already recorded as its own.
    async fn look_for(
        &self,
        credentials: &Credentials,
        assistant: &crate::domain::ids::AssistantId,
        message: &OutboundSms,
        since: Timestamp,
    ) -> Result<Lookup, JobError> {
        let from = Timestamp::from_millis(since.millis() - LOOKUP_SKEW.as_millis() as i64);
        let candidates = match self.gateway.find_sent(credentials, message, from).await {
            Ok(candidates) => candidates,
            Err(error) => return Ok(Lookup::Unreadable(error.to_string())),
        };
        for candidate in candidates {
            if !self
                .store
                .outbound_recorded(assistant, &candidate.sid)
                .await?
            {
                tracing::info!(assistant_id = %assistant, message_sid = candidate.sid, "a lost send was found on Twilio");
                return Ok(Lookup::Found(candidate));
            }
        }
        Ok(Lookup::NotThere)
    }
}
