//! Sending one delivery attempt of an event to a webhook's endpoint.

use crate::domain::webhook::target::WebhookUrl;
use async_trait::async_trait;
use std::time::Duration;

/// One attempt, signed and ready: the event's id (`webhook-id`, the same on
/// every retry), the second it was sent (`webhook-timestamp`), its
/// `webhook-signature` header and its JSON body.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub url: &'a WebhookUrl,
    pub event_id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
    pub body: &'a [u8],
}

/// How an attempt ended. A receiver's answer is kept only as its status:
/// its body may hold anything, and is never read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Any 2xx.
    Delivered { status: u16 },
    /// 410 Gone: the receiver asks for no more; the webhook is turned off.
    Gone,
    /// Worth another attempt on the schedule: another status, a timeout,
    /// a connection that failed, or an address that may not be reached.
    Failed { status: Option<u16>, error: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptReport {
    pub outcome: Outcome,
    pub duration: Duration,
}

#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Posts the attempt, within the attempt timeout, following no
    /// redirect and reaching no refused address.
    async fn attempt(&self, attempt: Attempt<'_>) -> AttemptReport;
}

/// What a host name resolves to now, for refusing a webhook whose name
/// points inside when it is created or changed (each delivery checks again,
/// since a name can be pointed elsewhere later). A name that does not
/// resolve answers nothing: it may be set up after the webhook.
#[async_trait]
pub trait HostResolver: Send + Sync {
    async fn addresses(&self, host: &str) -> Vec<std::net::IpAddr>;
}
