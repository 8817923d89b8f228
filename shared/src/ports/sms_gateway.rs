//! The SMS provider (Twilio's REST API), in the domain's words: does this
//! account own this number, send one message, and find a message that was
//! sent when the answer to its send was lost.

use crate::domain::sms::{Credentials, PhoneNumber};
use crate::domain::time::Timestamp;
use async_trait::async_trait;
use std::time::Duration;

/// What the account says about the number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberCheck {
    Owned(Capabilities),
    /// The credentials are good, but the number is not on this account.
    NotOwned,
    /// Twilio refused the Account SID and Auth Token (401, code 20003).
    BadCredentials,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub sms: bool,
    pub mms: bool,
    pub voice: bool,
}

#[derive(Clone, Debug)]
pub struct OutboundSms {
    pub from: PhoneNumber,
    pub to: PhoneNumber,
    pub body: String,
    /// Where Twilio reports delivery status.
    pub status_callback: String,
}

/// What Twilio answered for an accepted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentSms {
    pub sid: String,
    pub status: String,
}

/// Why a call to Twilio did not succeed. A send has three ways to fail,
/// and only one of them may be tried again blindly: Twilio has no
/// idempotency key for creating a message, so a send whose outcome is
/// unknown is looked for ([`SmsGateway::find_sent`]) before any second try.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Twilio did not take the request: no connection (refused, DNS, TLS),
    /// a 429 / 20429, or Twilio's own 503 saying it did not process it.
    /// Sending again cannot send twice.
    #[error("Twilio did not take the request: {detail}")]
    NotSent {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// The request may have reached Twilio and been acted on, but its
    /// answer was lost: a timeout after it was written, a connection lost
    /// while reading the answer, any other 5xx, a success we cannot read.
    #[error("Twilio's answer was lost: {detail}")]
    Unknown { detail: String },
    /// Twilio refused the request (a 4xx with its error code): retrying the
    /// same request will not help.
    #[error("Twilio refused the request (HTTP {status}, code {code:?})")]
    Rejected { status: u16, code: Option<u32> },
    /// A read (a number check, a message list) answered in a shape we
    /// cannot read.
    #[error("Twilio answered in an unexpected format: {0}")]
    Malformed(String),
}

impl GatewayError {
    /// Whether Twilio may answer another try (now, or after a while).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::NotSent { .. } | Self::Unknown { .. })
    }
}

/// Twilio's code for a recipient who replied STOP.
pub const OPTED_OUT: u32 = 21610;

#[async_trait]
pub trait SmsGateway: Send + Sync {
    async fn check_number(
        &self,
        credentials: &Credentials,
        number: &PhoneNumber,
    ) -> Result<NumberCheck, GatewayError>;

    /// One attempt; the caller owns the retry policy, because only it knows
    /// whether a retry could send twice.
    async fn send(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
    ) -> Result<SentSms, GatewayError>;

    /// Messages Twilio holds from `message.from` to `message.to` with
    /// exactly `message.body`, created at or after `since`, oldest first:
    /// where a send whose answer was lost is found if it went through. An
    /// error means the list could not be read, which proves nothing.
    async fn find_sent(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
        since: Timestamp,
    ) -> Result<Vec<SentSms>, GatewayError>;
}
