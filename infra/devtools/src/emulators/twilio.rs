//! Twilio's REST API (2010-04-01) as far as the product uses it: Accounts,
//! IncomingPhoneNumbers, Messages (send, and the list filtered by `To`,
//! `From` and `DateSent`, newest first, in pages). It checks Basic auth
//! like Twilio (401 / 20003), refuses what Twilio refuses (21211, 21606,
//! 21610, 21617), records every accepted message with its creation time
//! (on a clock a test can move), and reports delivery to the message's
//! `StatusCallback`, signed with the account's token, as Twilio does.
//! Tests can make the next sends fail, hang, or be taken with their answer
//! lost, and the next lists fail.

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::domain::sms::PhoneNumber;
use shared::domain::sms::segments::segments;
use shared::domain::sms::signature;
use shared::domain::time::Timestamp;
use shared::ports::{Capabilities, Clock, SystemClock};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The account the dev server's emulator starts with, so the README's
/// walkthrough can name it. Local only: no real account has these.
pub const DEMO_ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const DEMO_AUTH_TOKEN: &str = "local0auth0token0f0r0the0emulator";
pub const DEMO_NUMBER: &str = "+15005550006";

/// SMS settings on the emulator's demo account and number, enabled, with a
/// 30-minute session.
pub fn demo_sms_settings() -> shared::domain::sms::SmsSettings {
    use shared::domain::sms::{AccountSid, Credentials, PhoneNumber, SmsSettings};
    SmsSettings {
        enabled: true,
        credentials: Credentials {
            account_sid: AccountSid::parse(DEMO_ACCOUNT_SID).expect("a valid Account SID"),
            auth_token: SecretString::from(DEMO_AUTH_TOKEN.to_owned()),
            phone_number: PhoneNumber::parse(DEMO_NUMBER).expect("a valid E.164 number"),
        },
        session_timeout_minutes: 30,
        max_segments_per_reply: shared::domain::sms::MAX_SEGMENTS_PER_REPLY_DEFAULT,
        limits: Default::default(),
    }
}

/// A message the emulator accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedMessage {
    pub sid: String,
    pub account_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub segments: u32,
    pub status_callback: Option<String>,
    pub created_at: Timestamp,
}

/// What the next send meets instead of success.
#[derive(Clone, Debug)]
pub enum SendFault {
    /// No fault: taken and answered as usual (so a test can fail a later
    /// send of a sequence, say a reply's second part).
    Accept,
    /// An HTTP error with Twilio's code, as Twilio answers it.
    Status(u16, u32),
    /// The answer comes only after this long (a client timeout).
    Hang(Duration),
    /// Twilio takes the message, then the answer never arrives: the message
    /// is recorded but the client times out.
    AcceptThenHang(Duration),
}

#[derive(Debug, Default)]
struct Account {
    token: String,
    numbers: BTreeMap<String, Capabilities>,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: HashMap<String, Account>,
    messages: Vec<RecordedMessage>,
    /// (recipient, sender) pairs where the recipient replied STOP.
    opted_out: HashSet<(String, String)>,
    faults: VecDeque<SendFault>,
    /// Statuses the next number lookups answer (a Twilio outage).
    lookup_faults: VecDeque<u16>,
    /// Statuses the next message lists answer.
    list_faults: VecDeque<u16>,
    sends: usize,
    lists: usize,
}

#[derive(Clone, Debug)]
pub struct TwilioEmulator {
    inner: Arc<Mutex<Inner>>,
    http: reqwest::Client,
    /// Delay before the `sent` and `delivered` callbacks.
    pub callback_delay: Duration,
    /// Stamps each message's `date_created`, as Twilio's own clock would.
    clock: Arc<dyn Clock>,
}

impl Default for TwilioEmulator {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            http: shared::adapters::outbound_http::client().reqwest().clone(),
            callback_delay: Duration::from_millis(200),
            clock: Arc::new(SystemClock),
        }
    }
}

impl TwilioEmulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// An emulator holding the demo account and its SMS-capable number.
    pub fn with_demo_account() -> Self {
        let twilio = Self::new();
        twilio.add_account(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN);
        twilio.add_number(
            DEMO_ACCOUNT_SID,
            DEMO_NUMBER,
            Capabilities {
                sms: true,
                mms: true,
                voice: true,
            },
        );
        twilio
    }

    /// The same emulator, its messages stamped by `clock` (a test's moved
    /// clock, so Twilio and the worker agree on the time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_account(&self, sid: &str, token: &str) {
        self.lock()
            .accounts
            .entry(sid.to_owned())
            .or_default()
            .token = token.to_owned();
    }

    pub fn add_number(&self, account: &str, number: &str, capabilities: Capabilities) {
        self.lock()
            .accounts
            .entry(account.to_owned())
            .or_default()
            .numbers
            .insert(number.to_owned(), capabilities);
    }

    /// Another SMS-capable number on the demo account.
    pub fn add_demo_number(&self, number: &str) {
        self.add_number(
            DEMO_ACCOUNT_SID,
            number,
            Capabilities {
                sms: true,
                mms: false,
                voice: true,
            },
        );
    }

    /// Sends from `sender` to `recipient` fail with 21610 from now on, as
    /// after the recipient texted STOP.
    pub fn opt_out(&self, recipient: &str, sender: &str) {
        self.lock()
            .opted_out
            .insert((recipient.to_owned(), sender.to_owned()));
    }

    pub fn fail_next_sends(&self, faults: impl IntoIterator<Item = SendFault>) {
        self.lock().faults.extend(faults);
    }

    /// The next number lookups (a credential check) answer these statuses.
    pub fn fail_next_lookups(&self, statuses: impl IntoIterator<Item = u16>) {
        self.lock().lookup_faults.extend(statuses);
    }

    /// The next message lists answer these statuses (Twilio's 5xx).
    pub fn fail_next_lists(&self, statuses: impl IntoIterator<Item = u16>) {
        self.lock().list_faults.extend(statuses);
    }

    /// Message lists read so far.
    pub fn lists(&self) -> usize {
        self.lock().lists
    }

    /// Every accepted message, oldest first.
    pub fn messages(&self) -> Vec<RecordedMessage> {
        self.lock().messages.clone()
    }

    /// Every send request, accepted or not.
    pub fn sends(&self) -> usize {
        self.lock().sends
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/2010-04-01/Accounts/{account}", get(account))
            .route(
                "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
                get(numbers),
            )
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                get(list_messages).post(send),
            )
            .with_state(self)
    }

    /// Twilio's 401, unless the Basic credentials are the account's own.
    fn refusal(&self, account: &str, headers: &HeaderMap) -> Option<Response> {
        let credentials = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|v| BASE64.decode(v).ok())
            .and_then(|v| String::from_utf8(v).ok());
        let Some(credentials) = credentials else {
            return Some(twilio_error(
                StatusCode::UNAUTHORIZED,
                20003,
                "Authentication Error - No credentials provided",
            ));
        };
        let (user, token) = credentials.split_once(':').unwrap_or((&credentials, ""));
        let inner = self.lock();
        match inner.accounts.get(user) {
            Some(found) if found.token == token && user == account => None,
            Some(_) => Some(twilio_error(
                StatusCode::UNAUTHORIZED,
                20003,
                "Authenticate",
            )),
            None => Some(twilio_error(
                StatusCode::UNAUTHORIZED,
                20003,
                "Authentication Error - invalid username",
            )),
        }
    }

    /// Posts `sent` then `delivered` to the message's callback, signed with
    /// the account's token.
    fn report_delivery(&self, message: RecordedMessage) {
        let Some(url) = message.status_callback.clone() else {
            return;
        };
        let token = self
            .lock()
            .accounts
            .get(&message.account_sid)
            .map(|a| SecretString::from(a.token.clone()));
        let Some(token) = token else { return };
        let http = self.http.clone();
        let delay = self.callback_delay;
        tokio::spawn(async move {
            for status in ["sent", "delivered"] {
                tokio::time::sleep(delay).await;
                let params: Vec<(String, String)> = [
                    ("AccountSid", message.account_sid.as_str()),
                    ("ApiVersion", "2010-04-01"),
                    ("From", message.from.as_str()),
                    ("To", message.to.as_str()),
                    ("MessageSid", message.sid.as_str()),
                    ("SmsSid", message.sid.as_str()),
                    ("MessageStatus", status),
                    ("SmsStatus", status),
                ]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
                let sent = signed_webhook_request(&http, &url, &token, &params)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                if sent.is_err() {
                    return;
                }
            }
        });
    }
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        })),
    )
        .into_response()
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// A fresh SID: `prefix` and 32 random hexadecimal digits, as Twilio's.
pub fn random_sid(prefix: &str) -> String {
    use rand::Rng;
    let hex: String = (0..32)
        .map(|_| char::from_digit(rand::rng().random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!("{prefix}{hex}")
}

/// The fields Twilio posts to a number's webhook for an inbound text,
/// blank geo fields included, as Twilio sends them.
/// A webhook request as Twilio sends one: `params` as the form body, and
/// their `X-Twilio-Signature` for `url` under the account's `token`.
pub fn signed_webhook_request(
    http: &reqwest::Client,
    url: &str,
    token: &SecretString,
    params: &[(String, String)],
) -> reqwest::RequestBuilder {
    http.post(url)
        .header("X-Twilio-Signature", signature::sign(token, url, params))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter())
                .finish(),
        )
}

pub fn inbound_params(
    sid: &str,
    account: &str,
    from: &str,
    to: &str,
    body: &str,
) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", to),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", account),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

async fn account(
    State(twilio): State<TwilioEmulator>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(account) = account.strip_suffix(".json").map(str::to_owned) else {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    };
    if let Some(refused) = twilio.refusal(&account, &headers) {
        return refused;
    }
    Json(json!({
        "sid": account, "owner_account_sid": account, "friendly_name": "Local emulator",
        "status": "active", "type": "Full",
        "uri": format!("/2010-04-01/Accounts/{account}.json"),
    }))
    .into_response()
}

async fn numbers(
    State(twilio): State<TwilioEmulator>,
    Path(account): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = twilio.refusal(&account, &headers) {
        return refused;
    }
    let fault = twilio.lock().lookup_faults.pop_front();
    if let Some(status) = fault {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return twilio_error(code, 20000 + u32::from(status), "Service unavailable");
    }
    let wanted = query_param(query.as_deref(), "PhoneNumber");
    let inner = twilio.lock();
    let listed: Vec<Value> = inner
        .accounts
        .get(&account)
        .map(|a| {
            a.numbers
                .iter()
                // Twilio's filter matches partial numbers too.
                .filter(|(n, _)| wanted.as_deref().is_none_or(|w| n.contains(w)))
                .map(|(number, caps)| {
                    json!({
                        "account_sid": account, "phone_number": number,
                        "friendly_name": number, "sid": random_sid("PN"),
                        "capabilities": {"sms": caps.sms, "mms": caps.mms, "voice": caps.voice, "fax": false},
                        "sms_url": "", "status": "in-use",
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Json(json!({
        "incoming_phone_numbers": listed, "page": 0, "page_size": 50, "start": 0, "end": 0,
        "next_page_uri": null, "previous_page_uri": null,
        "uri": format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json"),
    }))
    .into_response()
}

/// A time as Twilio writes it: RFC 2822, to the second.
fn rfc2822(at: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.millis().div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default()
}

fn message_json(m: &RecordedMessage, status: &str) -> Value {
    json!({
        "sid": m.sid, "account_sid": m.account_sid, "api_version": "2010-04-01",
        "from": m.from, "to": m.to, "body": m.body, "status": status,
        "num_segments": m.segments.to_string(), "num_media": "0", "direction": "outbound-api",
        "error_code": null, "error_message": null, "price": null,
        "date_created": rfc2822(m.created_at), "date_updated": rfc2822(m.created_at),
        "date_sent": rfc2822(m.created_at),
        "uri": format!("/2010-04-01/Accounts/{}/Messages/{}.json", m.account_sid, m.sid),
    })
}

/// Twilio's `DateSent` filter: a UTC day, as `DateSent` (that day),
/// `DateSent<` (on or before it) or `DateSent>` (on or after it), which is
/// how `DateSent<=` and `DateSent>=` arrive once the query is decoded.
fn sent_on_filter(query: Option<&str>) -> impl Fn(Timestamp) -> bool {
    let day = |name: &str| {
        query_param(query, name).and_then(|value| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(&value, &format)
                .ok()
                .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
        })
    };
    let (on, before, after) = (day("DateSent"), day("DateSent<"), day("DateSent>"));
    const DAY_MS: i64 = 86_400_000;
    move |at: Timestamp| {
        let at = at.millis();
        on.is_none_or(|d| (d..d + DAY_MS).contains(&at))
            && before.is_none_or(|d| at < d + DAY_MS)
            && after.is_none_or(|d| at >= d)
    }
}

async fn list_messages(
    State(twilio): State<TwilioEmulator>,
    Path(account): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = twilio.refusal(&account, &headers) {
        return refused;
    }
    let fault = {
        let mut inner = twilio.lock();
        inner.lists += 1;
        inner.list_faults.pop_front()
    };
    if let Some(status) = fault {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return twilio_error(code, 20000 + u32::from(status), "Service unavailable");
    }
    let query = query.as_deref();
    let (to, from) = (query_param(query, "To"), query_param(query, "From"));
    let sent_on = sent_on_filter(query);
    let page_size: usize = query_param(query, "PageSize")
        .and_then(|p| p.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let page: usize = query_param(query, "Page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let matching: Vec<Value> = twilio
        .lock()
        .messages
        .iter()
        .rev()
        .filter(|m| {
            m.account_sid == account
                && to.as_deref().is_none_or(|t| m.to == t)
                && from.as_deref().is_none_or(|f| m.from == f)
                && sent_on(m.created_at)
        })
        .map(|m| message_json(m, "delivered"))
        .collect();
    let shown: Vec<Value> = matching
        .iter()
        .skip(page * page_size)
        .take(page_size)
        .cloned()
        .collect();
    let next_page_uri = (matching.len() > (page + 1) * page_size).then(|| {
        let mut next = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if name != "Page" {
                next.append_pair(&name, &value);
            }
        }
        next.append_pair("Page", &(page + 1).to_string());
        format!(
            "/2010-04-01/Accounts/{account}/Messages.json?{}",
            next.finish()
        )
    });
    Json(json!({
        "messages": shown, "page": page, "page_size": page_size,
        "next_page_uri": next_page_uri,
    }))
    .into_response()
}

async fn send(
    State(twilio): State<TwilioEmulator>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let fault = {
        let mut inner = twilio.lock();
        inner.sends += 1;
        inner.faults.pop_front()
    };
    match fault {
        Some(SendFault::Status(status, code)) => {
            return twilio_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code,
                "injected by the emulator",
            );
        }
        Some(SendFault::Hang(duration)) => tokio::time::sleep(duration).await,
        _ => {}
    }
    if let Some(refused) = twilio.refusal(&account, &headers) {
        return refused;
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let (to, from, text) = (field("To"), field("From"), field("Body"));
    if PhoneNumber::parse(&to).is_none() || to == from {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let sms_capable = twilio
        .lock()
        .accounts
        .get(&account)
        .and_then(|a| a.numbers.get(&from))
        .is_some_and(|c| c.sms);
    if !sms_capable {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21606,
            "The From phone number is not a valid, SMS-capable inbound phone number or short code for your account.",
        );
    }
    if text.is_empty() {
        return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    }
    if text.encode_utf16().count() > 1600 {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    if twilio
        .lock()
        .opted_out
        .contains(&(to.clone(), from.clone()))
    {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21610,
            "Attempt to send to unsubscribed recipient",
        );
    }
    let message = RecordedMessage {
        sid: random_sid("SM"),
        account_sid: account,
        segments: segments(&text),
        from,
        to,
        body: text,
        status_callback: form.get("StatusCallback").cloned(),
        created_at: twilio.clock.timestamp(),
    };
    twilio.lock().messages.push(message.clone());
    twilio.report_delivery(message.clone());
    if let Some(SendFault::AcceptThenHang(duration)) = fault {
        tokio::time::sleep(duration).await;
    }
    (StatusCode::CREATED, Json(message_json(&message, "queued"))).into_response()
}
