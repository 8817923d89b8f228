//! Twilio's REST API (2010-04-01): the number check, the send, and the
//! message list a lost send is looked for in, with the customer's own
//! credentials. Base URL from configuration: Twilio itself in production,
//! the local emulator otherwise. A hand-written client because the Rust
//! Twilio crates are thin and unmaintained, and this is two GETs and one
//! form POST.

use crate::adapters::outbound_http::OutboundHttp;
use crate::domain::sms::{Credentials, PhoneNumber};
use crate::domain::time::Timestamp;
use crate::ports::{Capabilities, GatewayError, NumberCheck, OutboundSms, SentSms, SmsGateway};
use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct TwilioGateway {
    http: OutboundHttp,
    base_url: String,
    timeout: Duration,
}

impl TwilioGateway {
    /// `base_url`: `https://api.twilio.com` in production.
    pub fn new(http: OutboundHttp, base_url: impl Into<String>, timeout: Duration) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    fn account_url(&self, credentials: &Credentials, resource: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.base_url,
            credentials.account_sid.as_str()
        )
    }
}

#[derive(Deserialize)]
struct NumberList {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
}

#[derive(Deserialize)]
struct IncomingNumber {
    phone_number: String,
    #[serde(default)]
    capabilities: std::collections::HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct CreatedMessage {
    sid: String,
    #[serde(default)]
    status: Option<String>,
}

/// Twilio's legacy error body; only the code is read (its message text is
/// not stable, and may echo what we sent).
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<u32>,
}

#[derive(Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<ListedMessage>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Deserialize)]
struct ListedMessage {
    sid: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    date_created: Option<String>,
}

impl ListedMessage {
    /// When Twilio created it (RFC 2822, to the second).
    fn created(&self) -> Option<Timestamp> {
        let at = time::OffsetDateTime::parse(
            self.date_created.as_deref()?,
            &time::format_description::well_known::Rfc2822,
        )
        .ok()?;
        Some(Timestamp::from_millis(
            (at.unix_timestamp_nanos() / 1_000_000) as i64,
        ))
    }
}

/// Pages of a message list read at most when looking for a lost send: one
/// texter's recent messages from one number fit in the first.
const LOOKUP_PAGES: usize = 3;
const LOOKUP_PAGE_SIZE: &str = "50";

/// A read (a GET) that did not get through: reading again is harmless.
fn unreachable(error: &reqwest::Error) -> GatewayError {
    GatewayError::NotSent {
        detail: if error.is_timeout() {
            "timed out".into()
        } else {
            "could not connect".into()
        },
        retry_after: None,
    }
}

/// A send that failed before Twilio answered. Only a failure to connect
/// (refused, DNS, TLS, a connect timeout) proves the request never left;
/// after that, a timeout or a lost connection may have come after Twilio
/// took the message.
fn send_failed(error: &reqwest::Error) -> GatewayError {
    if error.is_connect() {
        GatewayError::NotSent {
            detail: "could not connect".into(),
            retry_after: None,
        }
    } else {
        GatewayError::Unknown {
            detail: if error.is_timeout() {
                "timed out waiting for the answer".into()
            } else {
                "the connection was lost before the answer".into()
            },
        }
    }
}

/// A non-success answer. 429 / 20429 are never processed ("safe to
/// retry", Twilio's error page), nor is a 503 in Twilio's own error shape
/// (its API refusing the request); any other 5xx may come from in front of
/// an API that acted, so a send's outcome is unknown. Any other status is
/// a refusal with Twilio's code.
async fn refusal(response: reqwest::Response) -> GatewayError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let code = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<ErrorBody>(&b).ok())
        .and_then(|e| e.code);
    let detail = format!("HTTP {}", status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS
        || code == Some(20429)
        || (status == StatusCode::SERVICE_UNAVAILABLE && code.is_some())
    {
        GatewayError::NotSent {
            detail,
            retry_after,
        }
    } else if status.is_server_error() {
        GatewayError::Unknown { detail }
    } else {
        GatewayError::Rejected {
            status: status.as_u16(),
            code,
        }
    }
}

/// The same for a read: any 5xx is worth reading again.
async fn read_refusal(response: reqwest::Response) -> GatewayError {
    match refusal(response).await {
        GatewayError::Unknown { detail } => GatewayError::NotSent {
            detail,
            retry_after: None,
        },
        other => other,
    }
}

impl TwilioGateway {
    async fn get(
        &self,
        credentials: &Credentials,
        url: String,
    ) -> Result<reqwest::Response, GatewayError> {
        self.http
            .reqwest()
            .get(url)
            .basic_auth(
                credentials.account_sid.as_str(),
                Some(credentials.auth_token.expose_secret()),
            )
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| unreachable(&e))
    }
}

#[async_trait]
impl SmsGateway for TwilioGateway {
    async fn check_number(
        &self,
        credentials: &Credentials,
        number: &PhoneNumber,
    ) -> Result<NumberCheck, GatewayError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("PhoneNumber", number.as_str())
            .finish();
        let url = format!(
            "{}?{query}",
            self.account_url(credentials, "IncomingPhoneNumbers.json")
        );
        let response = self.get(credentials, url).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Ok(NumberCheck::BadCredentials);
            }
            _ => return Err(read_refusal(response).await),
        }
        let bytes = response.bytes().await.map_err(|e| unreachable(&e))?;
        let list: NumberList = serde_json::from_slice(&bytes)
            .map_err(|e| GatewayError::Malformed(format!("a number list: {e}")))?;
        // `PhoneNumber` is a filter that also matches partial numbers: only
        // an exact match is the number.
        let capability = |found: &IncomingNumber, name: &str| {
            found
                .capabilities
                .get(name)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        };
        Ok(list
            .incoming_phone_numbers
            .iter()
            .find(|found| found.phone_number == number.as_str())
            .map_or(NumberCheck::NotOwned, |found| {
                NumberCheck::Owned(Capabilities {
                    sms: capability(found, "sms"),
                    mms: capability(found, "mms"),
                    voice: capability(found, "voice"),
                })
            }))
    }

    async fn send(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
    ) -> Result<SentSms, GatewayError> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("To", message.to.as_str())
            .append_pair("From", message.from.as_str())
            .append_pair("Body", &message.body)
            .append_pair("StatusCallback", &message.status_callback)
            .finish();
        let response = self
            .http
            .reqwest()
            .post(self.account_url(credentials, "Messages.json"))
            .basic_auth(
                credentials.account_sid.as_str(),
                Some(credentials.auth_token.expose_secret()),
            )
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| send_failed(&e))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        // Twilio took it: an answer we cannot read still leaves its sid to
        // be found.
        let bytes = response.bytes().await.map_err(|e| send_failed(&e))?;
        let created: CreatedMessage =
            serde_json::from_slice(&bytes).map_err(|e| GatewayError::Unknown {
                detail: format!("an unreadable created message: {e}"),
            })?;
        Ok(SentSms {
            sid: created.sid,
            status: created.status.unwrap_or_else(|| "queued".into()),
        })
    }

    async fn find_sent(
        &self,
        credentials: &Credentials,
        message: &OutboundSms,
        since: Timestamp,
    ) -> Result<Vec<SentSms>, GatewayError> {
        // Filtered by sender and recipient, newest first. Not by
        // `DateSent`: Twilio sets a message's `date_sent` only when it
        // hands it to the carrier, so a message still in Twilio's queue
        // (the likeliest state of one whose answer was just lost) has none,
        // and that filter would hide exactly the message looked for.
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("To", message.to.as_str())
            .append_pair("From", message.from.as_str())
            .append_pair("PageSize", LOOKUP_PAGE_SIZE)
            .finish();
        let mut url = format!("{}?{query}", self.account_url(credentials, "Messages.json"));
        let mut found = Vec::new();
        for _ in 0..LOOKUP_PAGES {
            let response = self.get(credentials, url).await?;
            if !response.status().is_success() {
                return Err(read_refusal(response).await);
            }
            let bytes = response.bytes().await.map_err(|e| unreachable(&e))?;
            let page: MessageList = serde_json::from_slice(&bytes)
                .map_err(|e| GatewayError::Malformed(format!("a message list: {e}")))?;
            let mut older_than_since = false;
            for listed in &page.messages {
                let created = listed.created();
                older_than_since |= created.is_some_and(|at| at < since);
                // A date that does not read counts as recent: taking an
                // older copy for the lost send risks one answer, never two.
                if listed.body.as_deref() == Some(message.body.as_str())
                    && created.is_none_or(|at| at >= since)
                {
                    found.push((
                        created,
                        SentSms {
                            sid: listed.sid.clone(),
                            status: listed.status.clone().unwrap_or_else(|| "queued".into()),
                        },
                    ));
                }
            }
            let next = page.next_page_uri.filter(|n| !n.is_empty());
            match next {
                Some(next) if !older_than_since => url = format!("{}{next}", self.base_url),
                _ => {
                    found.sort_by_key(|(created, _)| *created);
                    return Ok(found.into_iter().map(|(_, sent)| sent).collect());
                }
            }
        }
        Err(GatewayError::NotSent {
            detail: "the message list ran past the pages read".into(),
            retry_after: None,
        })
    }
}
