//! The SMS channel's values and rules: Twilio account ids, E.164 numbers,
//! an assistant's SMS configuration, the compliance keywords, analytics
//! periods. Built by parsing, so a held value is valid.

pub mod contact_key;
pub mod segments;

pub use contact_key::{ContactKeys, TexterKey};
pub mod signature;

use super::fields::{FieldReader, boolean, string};
use super::ids::{AssistantId, WorkspaceId};
use super::time::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use std::fmt;

/// A Twilio Account SID: `AC` and 32 hexadecimal digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountSid(String);

impl AccountSid {
    pub fn parse(value: &str) -> Option<Self> {
        let hex = value.strip_prefix("AC")?;
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Twilio message SID: `SM` (SMS) or `MM` (MMS) and 32 hexadecimal
/// digits. Inbound messages are recorded once per SID.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageSid(String);

impl MessageSid {
    pub fn parse(value: &str) -> Option<Self> {
        let hex = value
            .strip_prefix("SM")
            .or_else(|| value.strip_prefix("MM"))?;
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for MessageSid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for MessageSid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = <String as serde::Deserialize>::deserialize(d)?;
        Self::parse(&value).ok_or_else(|| serde::de::Error::custom("not a Twilio message SID"))
    }
}

/// A phone number in E.164: `+`, a country code that does not start with
/// 0, at most 15 digits in all. Never logged: it identifies a person.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(value: &str) -> Option<Self> {
        let digits = value.strip_prefix('+')?;
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        valid.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Only the last two digits: enough to tell numbers apart in a debug dump,
/// never enough to identify anyone (but in an audit, see
/// [`super::redaction`]).
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if super::redaction::shown_whole() {
            return write!(f, "PhoneNumber({})", self.0);
        }
        let tail = &self.0[self.0.len().saturating_sub(2)..];
        write!(f, "PhoneNumber(+…{tail})")
    }
}

/// Minutes of silence after which the next message starts a new session.
pub const SESSION_TIMEOUT_DEFAULT: u32 = 30;
pub const SESSION_TIMEOUT_MAX: u32 = 1440;

/// Texts from one texter this close together are answered as one
/// question: what a person typing a question in three texts needs, and
/// what keeps eight texts in a second from costing eight answers.
pub const DEFAULT_BURST_WINDOW: std::time::Duration = std::time::Duration::from_secs(3);

/// Segments one reply may cost at most, and the default. Ten segments are
/// 1,530 GSM-7 characters (670 in UCS-2): always within Twilio's 1,600, so
/// a reply is one message, billed for what it holds and no more.
pub const MAX_SEGMENTS_PER_REPLY_DEFAULT: u32 = 3;
pub const MAX_SEGMENTS_PER_REPLY_MAX: u32 = 10;

/// What keeps one texter, or a campaign's worth of them, from running up
/// the customer's model and Twilio bills: answers per texter per hour and
/// per day, and replies per assistant per day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsLimits {
    pub per_texter_per_hour: u32,
    pub per_texter_per_day: u32,
    pub per_assistant_per_day: u32,
}

impl Default for SmsLimits {
    /// The product's defaults: a person in a real conversation stays far
    /// below them; a script texting every few seconds does not.
    fn default() -> Self {
        Self {
            per_texter_per_hour: 30,
            per_texter_per_day: 100,
            per_assistant_per_day: 5_000,
        }
    }
}

pub const PER_TEXTER_PER_HOUR_MAX: u32 = 1_000;
pub const PER_TEXTER_PER_DAY_MAX: u32 = 10_000;
pub const PER_ASSISTANT_PER_DAY_MAX: u32 = 1_000_000;

/// Which SMS limit a window counts toward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsLimit {
    PerTexterPerHour,
    PerTexterPerDay,
    PerAssistantPerDay,
    /// Not a configured limit: the one notice a day a limited texter gets.
    NoticePerTexterPerDay,
}

impl SmsLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerTexterPerHour => "perTexterPerHour",
            Self::PerTexterPerDay => "perTexterPerDay",
            Self::PerAssistantPerDay => "perAssistantPerDay",
            Self::NoticePerTexterPerDay => "noticePerTexterPerDay",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::PerTexterPerHour,
            Self::PerTexterPerDay,
            Self::PerAssistantPerDay,
            Self::NoticePerTexterPerDay,
        ]
        .into_iter()
        .find(|l| l.as_str() == value)
    }
}

/// What a texter over a limit is told, at most once a day: their texts are
/// kept, and the assistant answers again when the window ends.
pub const OVER_LIMIT_NOTICE: &str = "Thanks for your message. This assistant has answered as many texts as it can for now and will answer again later.";

/// A window of an SMS limit (see [`super::use_window`]).
pub type SmsWindow = super::use_window::UseWindow<SmsLimit>;

impl SmsLimits {
    /// The windows one more answer to `texter` counts toward, all or none:
    /// their hour and their day.
    pub fn texter_windows(&self, texter: &TexterKey, now: Timestamp) -> Vec<SmsWindow> {
        use super::use_window::{day_of, hour_of};
        let who = texter.as_str();
        let (hour, hour_ends) = hour_of(now);
        let (day, day_ends) = day_of(now);
        vec![
            SmsWindow {
                limit: SmsLimit::PerTexterPerHour,
                key: format!("TEXTER#{who}#H#{hour}"),
                allowed: self.per_texter_per_hour,
                ends_at: hour_ends,
            },
            SmsWindow {
                limit: SmsLimit::PerTexterPerDay,
                key: format!("TEXTER#{who}#D#{day}"),
                allowed: self.per_texter_per_day,
                ends_at: day_ends,
            },
        ]
    }

    /// Where the keys of every window counting `texter` begin (theirs and
    /// their notice's): what erasing them removes.
    pub fn texter_window_prefixes(texter: &TexterKey) -> [String; 2] {
        let who = texter.as_str();
        [format!("TEXTER#{who}#"), format!("NOTICE#{who}#")]
    }

    /// The assistant's day, which every texter's answers share.
    pub fn assistant_window(&self, now: Timestamp) -> SmsWindow {
        let (day, ends_at) = super::use_window::day_of(now);
        SmsWindow {
            limit: SmsLimit::PerAssistantPerDay,
            key: format!("ASSISTANT#D#{day}"),
            allowed: self.per_assistant_per_day,
            ends_at,
        }
    }

    /// The one over-limit notice `texter` may get today.
    pub fn notice_window(texter: &TexterKey, now: Timestamp) -> SmsWindow {
        let (day, ends_at) = super::use_window::day_of(now);
        SmsWindow {
            limit: SmsLimit::NoticePerTexterPerDay,
            key: format!("NOTICE#{}#D#{day}", texter.as_str()),
            allowed: 1,
            ends_at,
        }
    }
}

fn parse_limit(value: Value, max: u32) -> Result<u32, String> {
    crate::domain::fields::whole_number(&value)
        .filter(|n| (1..=u64::from(max)).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| format!("must be a whole number from 1 to {max}"))
}

fn parse_limits(value: Value) -> Result<SmsLimits, String> {
    let mut reader = FieldReader::new(value, &[]).map_err(|_| "must be an object".to_owned())?;
    let defaults = SmsLimits::default();
    let hour = reader.optional("perTexterPerHour", |v| {
        parse_limit(v, PER_TEXTER_PER_HOUR_MAX)
    });
    let day = reader.optional("perTexterPerDay", |v| {
        parse_limit(v, PER_TEXTER_PER_DAY_MAX)
    });
    let assistant = reader.optional("perAssistantPerDay", |v| {
        parse_limit(v, PER_ASSISTANT_PER_DAY_MAX)
    });
    reader.finish().map_err(|errors| {
        errors
            .iter()
            .map(|(field, problem)| format!("{field} {problem}"))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    Ok(SmsLimits {
        per_texter_per_hour: hour.unwrap_or(defaults.per_texter_per_hour),
        per_texter_per_day: day.unwrap_or(defaults.per_texter_per_day),
        per_assistant_per_day: assistant.unwrap_or(defaults.per_assistant_per_day),
    })
}

fn parse_max_segments(value: Value) -> Result<u32, String> {
    parse_limit(value, MAX_SEGMENTS_PER_REPLY_MAX)
}

/// An assistant's Twilio configuration as stored: the Auth Token only as
/// KMS ciphertext, bound to this workspace and assistant.
#[derive(Clone, Debug, PartialEq)]
pub struct SmsConfig {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub enabled: bool,
    pub account_sid: AccountSid,
    pub phone_number: PhoneNumber,
    pub session_timeout_minutes: u32,
    /// Segments one reply may cost at most (1 to 10).
    pub max_segments_per_reply: u32,
    pub limits: SmsLimits,
    pub sealed_auth_token: Vec<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SmsConfig {
    pub fn session_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.session_timeout_minutes) * 60)
    }
}

/// Whom deleting a channel at `deleted_at` leaves to forget, given the
/// channel there is now: everyone last seen before the answer. Nobody while
/// a channel set up before the delete is still there (the delete did not
/// happen); with one set up again since, only those seen before it was.
pub fn forget_texters_before(
    current: Option<&SmsConfig>,
    deleted_at: Timestamp,
) -> Option<Timestamp> {
    match current {
        None => Some(Timestamp::from_millis(i64::MAX)),
        Some(config) if config.created_at >= deleted_at => Some(config.created_at),
        Some(_) => None,
    }
}

/// The body of `PUT .../sms`, parsed; the token still in plaintext, held
/// as a secret so no `Debug` or log line can show it.
#[derive(Debug)]
pub struct SmsSettings {
    pub enabled: bool,
    pub credentials: Credentials,
    pub session_timeout_minutes: u32,
    pub max_segments_per_reply: u32,
    pub limits: SmsLimits,
}

/// What proves access to a Twilio account and names one of its numbers.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub account_sid: AccountSid,
    pub auth_token: SecretString,
    pub phone_number: PhoneNumber,
}

/// Fields a client may read but never set on an SMS configuration.
const READ_ONLY: &[&str] = &["webhookUrl", "createdAt", "updatedAt"];
/// Twilio Auth Tokens are 32 characters; a generous cap still keeps a
/// pasted document out of KMS (which takes at most 4 KB).
pub const AUTH_TOKEN_MAX: usize = 256;

fn parse_account_sid(value: Value) -> Result<AccountSid, String> {
    AccountSid::parse(&string(value)?)
        .ok_or_else(|| "must be 'AC' followed by 32 hexadecimal digits".into())
}

fn parse_auth_token(value: Value) -> Result<SecretString, String> {
    let sent = string(value)?;
    let token = sent.trim();
    if token.is_empty() {
        Err("must not be empty".into())
    } else if sent.chars().count() > AUTH_TOKEN_MAX {
        Err(format!("must be at most {AUTH_TOKEN_MAX} characters"))
    } else {
        Ok(SecretString::from(token.to_owned()))
    }
}

fn parse_phone_number(value: Value) -> Result<PhoneNumber, String> {
    PhoneNumber::parse(string(value)?.trim())
        .ok_or_else(|| "must be a phone number in E.164 format, e.g. +15551234567".into())
}

fn parse_session_timeout(value: Value) -> Result<u32, String> {
    crate::domain::fields::whole_number(&value)
        .filter(|m| (1..=u64::from(SESSION_TIMEOUT_MAX)).contains(m))
        .map(|m| m as u32)
        .ok_or_else(|| format!("must be a whole number of minutes from 1 to {SESSION_TIMEOUT_MAX}"))
}

fn read_credentials(reader: &mut FieldReader) -> Option<Credentials> {
    let account_sid = reader.required("twilioAccountSid", parse_account_sid);
    let auth_token = reader.required("twilioAuthToken", parse_auth_token);
    let phone_number = reader.required("phoneNumber", parse_phone_number);
    Some(Credentials {
        account_sid: account_sid?,
        auth_token: auth_token?,
        phone_number: phone_number?,
    })
}

impl SmsSettings {
    pub fn from_json(body: Value) -> Result<Self, super::fields::FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let enabled = reader.required("enabled", boolean);
        let credentials = read_credentials(&mut reader);
        let timeout = reader.optional("sessionTimeoutMinutes", parse_session_timeout);
        let max_segments = reader.optional("maxSegmentsPerReply", parse_max_segments);
        let limits = reader.optional("limits", parse_limits);
        reader.finish()?;
        // `finish` reported every missing or bad field, so these are set.
        match (enabled, credentials) {
            (Some(enabled), Some(credentials)) => Ok(Self {
                enabled,
                credentials,
                session_timeout_minutes: timeout.unwrap_or(SESSION_TIMEOUT_DEFAULT),
                max_segments_per_reply: max_segments.unwrap_or(MAX_SEGMENTS_PER_REPLY_DEFAULT),
                limits: limits.unwrap_or_default(),
            }),
            _ => Err(super::fields::FieldErrors::single(
                "body",
                "is missing required fields",
            )),
        }
    }
}

impl Credentials {
    /// The body of `POST .../sms/test`.
    pub fn from_json(body: Value) -> Result<Self, super::fields::FieldErrors> {
        let mut reader = FieldReader::new(body, &[])?;
        let credentials = read_credentials(&mut reader);
        reader.finish()?;
        credentials
            .ok_or_else(|| super::fields::FieldErrors::single("body", "is missing required fields"))
    }
}

/// A compliance keyword, matched as Twilio matches it on long codes: the
/// whole message, trimmed, in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
}

impl Keyword {
    pub fn of(body: &str) -> Option<Self> {
        const OPT_OUT: &[&str] = &[
            "STOP",
            "STOPALL",
            "UNSUBSCRIBE",
            "CANCEL",
            "END",
            "QUIT",
            "REVOKE",
            "OPTOUT",
        ];
        const OPT_IN: &[&str] = &["START", "YES", "UNSTOP"];
        const HELP: &[&str] = &["HELP", "INFO"];
        let word = body.trim().to_uppercase();
        if OPT_OUT.contains(&word.as_str()) {
            Some(Self::OptOut)
        } else if OPT_IN.contains(&word.as_str()) {
            Some(Self::OptIn)
        } else if HELP.contains(&word.as_str()) {
            Some(Self::Help)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptOut => "optOut",
            Self::OptIn => "optIn",
            Self::Help => "help",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::OptOut, Self::OptIn, Self::Help]
            .into_iter()
            .find(|k| k.as_str() == value)
    }
}

/// An analytics window: the last 7, 30 or 90 days, today included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnalyticsPeriod {
    Week,
    Month,
    Quarter,
}

impl AnalyticsPeriod {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "7d" => Some(Self::Week),
            "30d" => Some(Self::Month),
            "90d" => Some(Self::Quarter),
            _ => None,
        }
    }

    pub fn days(self) -> u32 {
        match self {
            Self::Week => 7,
            Self::Month => 30,
            Self::Quarter => 90,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
        }
    }
}

/// What the analytics route reports over a period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmsTraffic {
    pub inbound: u64,
    pub outbound: u64,
    /// Segments Twilio billed for what was sent.
    pub segments_out: u64,
    /// Texts recorded but not answered: a limit was reached.
    pub over_limit: u64,
    pub unique_contacts: u64,
    pub active_sessions: u64,
}

/// One day's counters as stored: counted by plain atomic additions, apart
/// from any texter's own writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub inbound: u64,
    pub outbound: u64,
    pub segments_out: u64,
    pub over_limit: u64,
}

impl SmsTraffic {
    /// A period's counters summed from its days, with the texters a store
    /// counted: those seen since the period began, and those whose session
    /// is open now.
    pub fn over(
        days: impl IntoIterator<Item = DayCounts>,
        unique_contacts: u64,
        active_sessions: u64,
    ) -> Self {
        let mut traffic = Self {
            unique_contacts,
            active_sessions,
            ..Self::default()
        };
        for day in days {
            traffic.inbound += day.inbound;
            traffic.outbound += day.outbound;
            traffic.segments_out += day.segments_out;
            traffic.over_limit += day.over_limit;
        }
        traffic
    }
}

/// Whether a message at `now` continues the session whose last message was
/// at `last`: only when it is at most `timeout` later.
pub fn continues_session(
    last: Option<Timestamp>,
    now: Timestamp,
    timeout: std::time::Duration,
) -> bool {
    last.is_some_and(|last| now.millis() - last.millis() <= timeout.as_millis() as i64)
}

/// A day as analytics counts it: days since the Unix epoch, in UTC.
pub fn day_of(at: Timestamp) -> i64 {
    super::use_window::day_of(at).0
}

/// The days of a period of `days` days up to `now`, today included, and
/// the instant the first of them began.
pub fn period_days(days: u32, now: Timestamp) -> (std::ops::RangeInclusive<i64>, Timestamp) {
    let today = day_of(now);
    let first = today - i64::from(days) + 1;
    (
        first..=today,
        Timestamp::from_millis(first * super::use_window::DAY_MS),
    )
}

/// Delivery states of an outbound message, in the order they can happen:
/// status callbacks arrive out of order and repeated, and only a move
/// forward is applied.
pub fn delivery_rank(status: &str) -> Option<u8> {
    Some(match status {
        "accepted" | "scheduled" | "queued" => 0,
        "sending" => 1,
        "sent" => 2,
        "delivered" | "undelivered" | "failed" | "canceled" => 3,
        "read" => 4,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_account_sid_is_ac_and_32_hex_digits() {
        assert!(AccountSid::parse(&format!("AC{}", "a1".repeat(16))).is_some());
        assert!(AccountSid::parse(&format!("AC{}", "a".repeat(31))).is_none());
        assert!(AccountSid::parse(&format!("SK{}", "a".repeat(32))).is_none());
        assert!(AccountSid::parse(&format!("AC{}", "g".repeat(32))).is_none());
    }

    #[test]
    fn a_phone_number_must_be_e164() {
        assert!(PhoneNumber::parse("+15551234567").is_some());
        assert!(PhoneNumber::parse("15551234567").is_none());
        assert!(PhoneNumber::parse("+0555123456").is_none());
        assert!(PhoneNumber::parse("+1555123456789012").is_none());
        assert!(PhoneNumber::parse("+1 555 123 4567").is_none());
    }

    #[test]
    fn a_phone_numbers_debug_form_hides_all_but_two_digits() {
        let number = PhoneNumber::parse("+15551234567").unwrap();
        assert_eq!(format!("{number:?}"), "PhoneNumber(+…67)");
    }

    #[test]
    fn settings_default_the_session_timeout_and_name_every_bad_field() {
        let sid = format!("AC{}", "0".repeat(32));
        let ok = SmsSettings::from_json(json!({
            "enabled": true, "twilioAccountSid": sid, "twilioAuthToken": "t",
            "phoneNumber": "+15551234567"
        }))
        .unwrap();
        assert_eq!(ok.session_timeout_minutes, 30);
        let errors = SmsSettings::from_json(json!({
            "enabled": "yes", "twilioAccountSid": "AC1", "twilioAuthToken": " ",
            "phoneNumber": "555", "sessionTimeoutMinutes": 1441, "webhookUrl": "x", "colour": 1
        }))
        .unwrap_err()
        .into_map();
        for field in [
            "enabled",
            "twilioAccountSid",
            "twilioAuthToken",
            "phoneNumber",
            "sessionTimeoutMinutes",
            "webhookUrl",
            "colour",
        ] {
            assert!(errors.contains_key(field), "{field} not reported");
        }
        assert_eq!(errors["webhookUrl"], "is read-only and cannot be set");
    }

    #[test]
    fn a_bad_token_is_never_echoed_in_an_error() {
        let errors = SmsSettings::from_json(json!({
            "enabled": true, "twilioAccountSid": "AC1",
            "twilioAuthToken": "x".repeat(300), "phoneNumber": "+15551234567"
        }))
        .unwrap_err();
        assert!(!format!("{errors:?}").contains("xxxx"));
    }

    #[test]
    fn keywords_match_the_whole_trimmed_body_in_any_case() {
        assert_eq!(Keyword::of("  stop "), Some(Keyword::OptOut));
        assert_eq!(Keyword::of("StopAll"), Some(Keyword::OptOut));
        assert_eq!(Keyword::of("unstop"), Some(Keyword::OptIn));
        assert_eq!(Keyword::of("YES"), Some(Keyword::OptIn));
        assert_eq!(Keyword::of("info"), Some(Keyword::Help));
        assert_eq!(Keyword::of("stop please"), None);
        assert_eq!(Keyword::of("what are your hours?"), None);
    }

    #[test]
    fn only_the_three_documented_periods_parse() {
        assert_eq!(AnalyticsPeriod::parse("7d").map(|p| p.days()), Some(7));
        assert_eq!(AnalyticsPeriod::parse("90d").map(|p| p.days()), Some(90));
        assert_eq!(AnalyticsPeriod::parse("14d"), None);
    }

    #[test]
    fn a_message_exactly_at_the_timeout_continues_the_session_and_one_later_does_not() {
        let last = Timestamp::from_millis(1_000_000);
        let timeout = std::time::Duration::from_secs(30 * 60);
        let at = |ms: i64| Timestamp::from_millis(1_000_000 + ms);
        assert!(continues_session(Some(last), at(30 * 60 * 1000), timeout));
        assert!(!continues_session(
            Some(last),
            at(30 * 60 * 1000 + 1),
            timeout
        ));
        assert!(!continues_session(None, at(0), timeout));
    }

    #[test]
    fn delivery_states_only_move_forward() {
        assert!(delivery_rank("delivered") > delivery_rank("sent"));
        assert!(delivery_rank("sent") > delivery_rank("queued"));
        assert_eq!(delivery_rank("bogus"), None);
    }
}
