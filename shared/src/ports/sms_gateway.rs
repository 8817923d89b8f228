//! The SMS provider (Twilio's REST API), in the domain's words: does this
//! account own this number, and send one message.

use crate::domain::sms::{Credentials, PhoneNumber};
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

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// 5xx, 429 / 20429, a timeout or no connection: the message was not
    /// accepted, and another try may succeed.
    #[error("Twilio is unavailable: {detail}")]
    Transient {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Twilio refused the request (a 4xx with its error code): retrying the
    /// same request will not help.
    #[error("Twilio refused the request (HTTP {status}, code {code:?})")]
    Rejected { status: u16, code: Option<u32> },
    #[error("Twilio answered in an unexpected format: {0}")]
    Malformed(String),
}

impl GatewayError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
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
}
