//! Twilio's REST API (2010-04-01): the number check and the send, with the
//! customer's own credentials. Base URL from configuration: Twilio itself in
//! production, the local emulator otherwise. A hand-written client because
//! the Rust Twilio crates are thin and unmaintained, and this is one GET and
//! one form POST.

use crate::adapters::outbound_http::OutboundHttp;
use crate::domain::sms::{Credentials, PhoneNumber};
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

fn unreachable(error: &reqwest::Error) -> GatewayError {
    GatewayError::Transient {
        detail: if error.is_timeout() {
            "timed out".into()
        } else {
            "could not connect".into()
        },
        retry_after: None,
    }
}

/// 429 and 5xx are worth another try (Twilio does not process a 429);
/// any other non-success is a refusal with Twilio's code.
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
    if status == StatusCode::TOO_MANY_REQUESTS || code == Some(20429) || status.is_server_error() {
        GatewayError::Transient {
            detail: format!("HTTP {}", status.as_u16()),
            retry_after,
        }
    } else {
        GatewayError::Rejected {
            status: status.as_u16(),
            code,
        }
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
        let response = self
            .http
            .reqwest()
            .get(url)
            .basic_auth(
                credentials.account_sid.as_str(),
                Some(credentials.auth_token.expose_secret()),
            )
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Ok(NumberCheck::BadCredentials);
            }
            _ => return Err(refusal(response).await),
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
            .map_err(|e| unreachable(&e))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let bytes = response.bytes().await.map_err(|e| unreachable(&e))?;
        let created: CreatedMessage = serde_json::from_slice(&bytes)
            .map_err(|e| GatewayError::Malformed(format!("a created message: {e}")))?;
        Ok(SentSms {
            sid: created.sid,
            status: created.status.unwrap_or_else(|| "queued".into()),
        })
    }
}
