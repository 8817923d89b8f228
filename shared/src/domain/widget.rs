//! The embeddable widget's settings: which web origins may embed an
//! assistant, how the widget looks, and the limits that keep a public,
//! unauthenticated surface from being abused. Origins are parsed with the
//! `url` crate (WHATWG rules, the browser's own) and kept in the form a
//! browser sends in `Origin`, so matching is a plain comparison.

use super::fields::{FieldErrors, FieldReader, display_name};
use super::ids::WidgetSessionId;
use super::time::Timestamp;
use super::use_window::MINUTE_MS;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// An origin a widget may run on: `scheme://host[:port]`, `http` or
/// `https`, as a browser serialises it (lower-case host, punycode, no
/// default port).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AllowedOrigin(String);

impl AllowedOrigin {
    /// An entry of `allowedOrigins`: exactly an origin, nothing more (no
    /// path, not even `/`, no query, no credentials, no wildcard).
    pub fn parse(raw: &str) -> Result<Self, String> {
        const SHAPE: &str = "must be an origin, scheme://host[:port], with no path";
        let raw = raw.trim();
        if raw.contains('*') {
            return Err("must name one origin exactly; wildcards are not allowed".into());
        }
        let (scheme, rest) = raw.split_once("://").ok_or(SHAPE)?;
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(SHAPE.into());
        }
        if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
            return Err("must be an http or https origin".into());
        }
        let url = url::Url::parse(raw).map_err(|_| SHAPE.to_owned())?;
        Self::of(&url).ok_or_else(|| SHAPE.to_owned())
    }

    /// The origin a request came from: its `Origin` header, or without one
    /// the origin of its `Referer`. `None` when neither names an http(s)
    /// origin (an opaque `null` origin included).
    pub fn of_request(origin: Option<&str>, referer: Option<&str>) -> Option<Self> {
        let source = match origin {
            Some(origin) => origin,
            None => referer?,
        };
        let url = url::Url::parse(source.trim()).ok()?;
        Self::of(&url)
    }

    fn of(url: &url::Url) -> Option<Self> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let origin = url.origin();
        origin
            .is_tuple()
            .then(|| Self(origin.ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Left,
    Right,
}

impl Position {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Right => "right",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "left" => Some(Self::Left),
            "right" => Some(Self::Right),
            _ => None,
        }
    }
}

/// What keeps the public widget from being abused, per assistant. The
/// assistant's id and an allowed origin are on the customer's page and
/// `Origin` is only a header outside a browser, so what one client can
/// spend is counted by its network address too, not only by session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WidgetLimits {
    pub inits_per_minute_per_ip: u32,
    pub sessions_per_hour_per_ip: u32,
    pub messages_per_session_per_hour: u32,
    pub messages_per_hour_per_ip: u32,
    pub messages_per_day_per_ip: u32,
    pub messages_per_month: u32,
}

impl Default for WidgetLimits {
    /// The product's defaults.
    fn default() -> Self {
        Self {
            inits_per_minute_per_ip: 5,
            sessions_per_hour_per_ip: 20,
            messages_per_session_per_hour: 60,
            messages_per_hour_per_ip: 60,
            messages_per_day_per_ip: 300,
            messages_per_month: 10_000,
        }
    }
}

/// The most each limit may be set to.
pub const INITS_PER_MINUTE_PER_IP_MAX: u32 = 1_000;
pub const SESSIONS_PER_HOUR_PER_IP_MAX: u32 = 10_000;
pub const MESSAGES_PER_SESSION_PER_HOUR_MAX: u32 = 10_000;
pub const MESSAGES_PER_HOUR_PER_IP_MAX: u32 = 100_000;
pub const MESSAGES_PER_DAY_PER_IP_MAX: u32 = 1_000_000;
pub const MESSAGES_PER_MONTH_MAX: u32 = 100_000_000;

pub const DEFAULT_PRIMARY_COLOR: &str = "#2563eb";
pub const MAX_ORIGINS: usize = 50;
pub const TITLE_MAX_CHARS: usize = 100;

/// An assistant's widget settings. Before the first `PUT` they are the
/// defaults, with no origin allowed (so the widget runs nowhere).
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetSettings {
    pub allowed_origins: Vec<AllowedOrigin>,
    /// Shown in the panel's header; the assistant's name when absent.
    pub title: Option<String>,
    pub primary_color: String,
    pub position: Position,
    pub limits: WidgetLimits,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            title: None,
            primary_color: DEFAULT_PRIMARY_COLOR.into(),
            position: Position::Right,
            limits: WidgetLimits::default(),
        }
    }
}

fn parse_origins(value: Value) -> Result<Vec<AllowedOrigin>, String> {
    let Value::Array(entries) = value else {
        return Err("must be a list of origins".into());
    };
    if entries.len() > MAX_ORIGINS {
        return Err(format!("must list at most {MAX_ORIGINS} origins"));
    }
    let mut origins: Vec<AllowedOrigin> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let raw = entry
            .as_str()
            .ok_or_else(|| format!("entry {i} must be a string"))?;
        let origin = AllowedOrigin::parse(raw).map_err(|why| format!("entry {i} ({raw}) {why}"))?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

fn parse_color(value: Value) -> Result<String, String> {
    let text = value.as_str().unwrap_or_default();
    let hex = text.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("must be a colour as #rrggbb".into())
    }
}

fn parse_position(value: Value) -> Result<Position, String> {
    value
        .as_str()
        .and_then(Position::parse)
        .ok_or_else(|| "must be left or right".into())
}

fn limit(value: Value, max: u32) -> Result<u32, String> {
    super::fields::whole_number(&value)
        .filter(|n| (1..=u64::from(max)).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| format!("must be a whole number from 1 to {max}"))
}

fn parse_limits(value: Value) -> Result<WidgetLimits, String> {
    let mut reader = FieldReader::new(value, &[]).map_err(|_| "must be an object".to_owned())?;
    let defaults = WidgetLimits::default();
    let inits = reader.optional("initsPerMinutePerIp", |v| {
        limit(v, INITS_PER_MINUTE_PER_IP_MAX)
    });
    let sessions = reader.optional("sessionsPerHourPerIp", |v| {
        limit(v, SESSIONS_PER_HOUR_PER_IP_MAX)
    });
    let per_session = reader.optional("messagesPerSessionPerHour", |v| {
        limit(v, MESSAGES_PER_SESSION_PER_HOUR_MAX)
    });
    let per_ip_hour = reader.optional("messagesPerHourPerIp", |v| {
        limit(v, MESSAGES_PER_HOUR_PER_IP_MAX)
    });
    let per_ip_day = reader.optional("messagesPerDayPerIp", |v| {
        limit(v, MESSAGES_PER_DAY_PER_IP_MAX)
    });
    let per_month = reader.optional("messagesPerMonth", |v| limit(v, MESSAGES_PER_MONTH_MAX));
    reader.finish().map_err(|errors| {
        errors
            .iter()
            .map(|(field, problem)| format!("{field} {problem}"))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    Ok(WidgetLimits {
        inits_per_minute_per_ip: inits.unwrap_or(defaults.inits_per_minute_per_ip),
        sessions_per_hour_per_ip: sessions.unwrap_or(defaults.sessions_per_hour_per_ip),
        messages_per_session_per_hour: per_session
            .unwrap_or(defaults.messages_per_session_per_hour),
        messages_per_hour_per_ip: per_ip_hour.unwrap_or(defaults.messages_per_hour_per_ip),
        messages_per_day_per_ip: per_ip_day.unwrap_or(defaults.messages_per_day_per_ip),
        messages_per_month: per_month.unwrap_or(defaults.messages_per_month),
    })
}

impl WidgetSettings {
    /// The body of `PUT .../widget`: the settings whole (what is left out
    /// takes its default), every bad or unknown field named.
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &["assistantId", "updatedAt"])?;
        let origins = reader.required("allowedOrigins", parse_origins);
        let title = reader
            .nullable("title", |v| display_name(v, 1, TITLE_MAX_CHARS))
            .flatten();
        let color = reader.optional("primaryColor", parse_color);
        let position = reader.optional("position", parse_position);
        let limits = reader.optional("limits", parse_limits);
        reader.finish()?;
        let defaults = Self::default();
        Ok(Self {
            allowed_origins: origins
                .ok_or_else(|| FieldErrors::single("allowedOrigins", "is required"))?,
            title,
            primary_color: color.unwrap_or(defaults.primary_color),
            position: position.unwrap_or(defaults.position),
            limits: limits.unwrap_or(defaults.limits),
        })
    }

    /// Whether a request from `origin` may use the widget: listed exactly.
    pub fn allows(&self, origin: Option<&AllowedOrigin>) -> bool {
        origin.is_some_and(|o| self.allowed_origins.contains(o))
    }
}

/// What a page may tell about itself at `init` (the page's URL, a
/// locale): at most this many entries, strings only.
pub const METADATA_MAX_ENTRIES: usize = 20;
pub const METADATA_MAX_VALUE_CHARS: usize = 500;

/// The body of `POST /api/widget/{id}/init` (an empty body is `{}`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InitRequest {
    /// The session this browser holds, as sent: one that names no live
    /// session of this assistant and origin starts a new one.
    pub session_id: Option<String>,
    /// `metadata` as compact JSON, if any was sent.
    pub metadata: Option<String>,
}

fn parse_metadata(value: Value) -> Result<String, String> {
    let Value::Object(entries) = &value else {
        return Err("must be an object of strings".into());
    };
    if entries.len() > METADATA_MAX_ENTRIES {
        return Err(format!("must have at most {METADATA_MAX_ENTRIES} entries"));
    }
    for (name, entry) in entries {
        let text = entry
            .as_str()
            .ok_or_else(|| format!("{name} must be a string"))?;
        if name.chars().count() > 100 || text.chars().count() > METADATA_MAX_VALUE_CHARS {
            return Err(format!(
                "{name} must be at most {METADATA_MAX_VALUE_CHARS} characters"
            ));
        }
    }
    Ok(value.to_string())
}

impl InitRequest {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &[])?;
        let session_id = reader
            .nullable("sessionId", super::fields::string)
            .flatten();
        let metadata = reader.nullable("metadata", parse_metadata).flatten();
        reader.finish()?;
        Ok(Self {
            session_id,
            metadata,
        })
    }
}

/// Which of an assistant's widget limits a window counts toward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    InitsPerMinutePerIp,
    SessionsPerHourPerIp,
    MessagesPerSessionPerHour,
    MessagesPerHourPerIp,
    MessagesPerDayPerIp,
    MessagesPerMonth,
}

impl Limit {
    /// Its name in the settings' `limits`, which a 429 names too.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InitsPerMinutePerIp => "initsPerMinutePerIp",
            Self::SessionsPerHourPerIp => "sessionsPerHourPerIp",
            Self::MessagesPerSessionPerHour => "messagesPerSessionPerHour",
            Self::MessagesPerHourPerIp => "messagesPerHourPerIp",
            Self::MessagesPerDayPerIp => "messagesPerDayPerIp",
            Self::MessagesPerMonth => "messagesPerMonth",
        }
    }

    /// What the widget shows the visitor who reached it, as it is.
    pub fn message(self) -> &'static str {
        match self {
            Self::InitsPerMinutePerIp => {
                "Too many chats were started from your network just now. Please try again in a minute."
            }
            Self::SessionsPerHourPerIp => {
                "Too many chats were started from your network this hour. Please try again later."
            }
            Self::MessagesPerSessionPerHour => {
                "You have sent as many messages as this chat allows for now. Please try again later."
            }
            Self::MessagesPerHourPerIp => {
                "Your network has sent as many messages as this assistant takes in an hour. Please try again later."
            }
            Self::MessagesPerDayPerIp => {
                "Your network has sent as many messages as this assistant takes in a day. Please try again tomorrow."
            }
            Self::MessagesPerMonth => {
                "This assistant has answered all the questions it can this month. Please try again later."
            }
        }
    }
}

/// A client as the limits count it, by its network address: an IPv4
/// address, or an IPv6 address's /64 (one household or one server has a
/// whole /64 to pick addresses from, so counting whole addresses would let
/// it walk past any limit), IPv4-mapped IPv6 counted as its IPv4 address.
/// Kept only as a hash.
pub fn client_key(address: &str) -> String {
    use std::net::IpAddr;
    let counted = match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        // Not an address (a test's stand-in): counted as it is.
        Err(_) => address.to_owned(),
    };
    let hashed = Sha256::digest(counted.as_bytes());
    hashed[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// One of the widget's windows.
pub type UseWindow = super::use_window::UseWindow<Limit>;

impl WidgetLimits {
    /// The `init` window of this minute for one client.
    pub fn init_window(&self, client_ip: &str, now: Timestamp) -> UseWindow {
        let minute = now.millis().div_euclid(MINUTE_MS);
        UseWindow {
            limit: Limit::InitsPerMinutePerIp,
            key: format!("INIT#{}#{minute}", client_key(client_ip)),
            allowed: self.inits_per_minute_per_ip,
            ends_at: Timestamp::from_millis((minute + 1) * MINUTE_MS),
        }
    }

    /// The window a new session counts toward: its client's hour.
    pub fn session_window(&self, client_ip: &str, now: Timestamp) -> UseWindow {
        let (hour, ends_at) = super::use_window::hour_of(now);
        UseWindow {
            limit: Limit::SessionsPerHourPerIp,
            key: format!("SESSIONS#{}#{hour}", client_key(client_ip)),
            allowed: self.sessions_per_hour_per_ip,
            ends_at,
        }
    }

    /// The windows one more message counts toward, all or none: its
    /// session's hour, its client's hour and day, and its assistant's
    /// month.
    pub fn message_windows(
        &self,
        session: &WidgetSessionId,
        client_ip: &str,
        now: Timestamp,
    ) -> Vec<UseWindow> {
        let (hour, hour_ends) = super::use_window::hour_of(now);
        let (day, day_ends) = super::use_window::day_of(now);
        let month_ends = super::use_window::next_month(now);
        let client = client_key(client_ip);
        vec![
            UseWindow {
                limit: Limit::MessagesPerSessionPerHour,
                key: format!("SESSION#{session}#{hour}"),
                allowed: self.messages_per_session_per_hour,
                ends_at: hour_ends,
            },
            UseWindow {
                limit: Limit::MessagesPerHourPerIp,
                key: format!("IP#{client}#H#{hour}"),
                allowed: self.messages_per_hour_per_ip,
                ends_at: hour_ends,
            },
            UseWindow {
                limit: Limit::MessagesPerDayPerIp,
                key: format!("IP#{client}#D#{day}"),
                allowed: self.messages_per_day_per_ip,
                ends_at: day_ends,
            },
            UseWindow {
                limit: Limit::MessagesPerMonth,
                key: format!("MONTH#{}", month_ends.millis()),
                allowed: self.messages_per_month,
                ends_at: month_ends,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_origin_is_kept_as_a_browser_sends_it() {
        for (raw, kept) in [
            ("https://shop.example.com", "https://shop.example.com"),
            ("HTTPS://Shop.Example.COM", "https://shop.example.com"),
            ("https://shop.example.com:443", "https://shop.example.com"),
            ("http://localhost:8080", "http://localhost:8080"),
            ("http://127.0.0.1", "http://127.0.0.1"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
        ] {
            assert_eq!(AllowedOrigin::parse(raw).unwrap().as_str(), kept, "{raw}");
        }
    }

    #[test]
    fn anything_but_exactly_an_origin_is_refused_saying_why() {
        for raw in [
            "https://shop.example.com/",
            "https://shop.example.com/path",
            "https://shop.example.com?x=1",
            "https://*.example.com",
            "*",
            "shop.example.com",
            "ftp://shop.example.com",
            "javascript://alert(1)",
            "https://user:pw@shop.example.com",
            "https://",
            "null",
        ] {
            assert!(AllowedOrigin::parse(raw).is_err(), "{raw}");
        }
        assert!(
            AllowedOrigin::parse("https://*.example.com")
                .unwrap_err()
                .contains("wildcard")
        );
    }

    #[test]
    fn a_requests_origin_comes_from_origin_else_from_the_referers_origin() {
        let shop = AllowedOrigin::parse("https://shop.example.com").unwrap();
        let of = AllowedOrigin::of_request;
        assert_eq!(
            of(Some("https://shop.example.com"), None),
            Some(shop.clone())
        );
        assert_eq!(
            of(None, Some("https://shop.example.com/cart?item=3#top")),
            Some(shop.clone())
        );
        // An Origin header wins over the Referer, even when it is opaque.
        assert_eq!(of(Some("null"), Some("https://shop.example.com/")), None);
        assert_eq!(of(None, None), None);
        assert_eq!(of(Some("file:///tmp/page.html"), None), None);
    }

    #[test]
    fn only_listed_origins_are_allowed_and_an_empty_list_allows_nothing() {
        let settings = WidgetSettings::default();
        let shop = AllowedOrigin::parse("https://shop.example.com").unwrap();
        assert!(!settings.allows(Some(&shop)));
        let listed = WidgetSettings {
            allowed_origins: vec![shop.clone()],
            ..WidgetSettings::default()
        };
        assert!(listed.allows(Some(&shop)));
        assert!(!listed.allows(None));
        let other = AllowedOrigin::parse("http://shop.example.com").unwrap();
        assert!(
            !listed.allows(Some(&other)),
            "another scheme is another origin"
        );
        let port = AllowedOrigin::parse("https://shop.example.com:8443").unwrap();
        assert!(
            !listed.allows(Some(&port)),
            "another port is another origin"
        );
    }

    #[test]
    fn a_put_body_takes_defaults_for_what_it_leaves_out() {
        let settings = WidgetSettings::from_json(json!({
            "allowedOrigins": ["https://shop.example.com", "https://SHOP.example.com"],
        }))
        .unwrap();
        assert_eq!(settings.allowed_origins.len(), 1, "duplicates collapse");
        assert_eq!(settings.primary_color, DEFAULT_PRIMARY_COLOR);
        assert_eq!(settings.position, Position::Right);
        assert_eq!(settings.limits, WidgetLimits::default());
        assert_eq!(settings.title, None);
        let full = WidgetSettings::from_json(json!({
            "allowedOrigins": [],
            "title": " Ask Acme ",
            "primaryColor": "#FF8800",
            "position": "left",
            "limits": {"initsPerMinutePerIp": 10, "messagesPerMonth": 500},
        }))
        .unwrap();
        assert_eq!(full.title.as_deref(), Some("Ask Acme"));
        assert_eq!(full.primary_color, "#ff8800");
        assert_eq!(full.position, Position::Left);
        assert_eq!(full.limits.inits_per_minute_per_ip, 10);
        assert_eq!(full.limits.messages_per_session_per_hour, 60);
        assert_eq!(full.limits.messages_per_month, 500);
    }

    #[test]
    fn every_bad_field_of_a_put_body_is_named() {
        let errors = WidgetSettings::from_json(json!({
            "allowedOrigins": ["https://ok.example.com", "https://bad.example.com/path"],
            "primaryColor": "blue",
            "position": "top",
            "limits": {"initsPerMinutePerIp": 0, "burst": 3},
            "theme": "dark",
        }))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "allowedOrigins",
                "limits",
                "position",
                "primaryColor",
                "theme"
            ]
        );
        let map = errors.into_map();
        assert!(map["allowedOrigins"].contains("entry 1"), "{map:?}");
        assert!(map["limits"].contains("initsPerMinutePerIp"), "{map:?}");
        assert!(map["limits"].contains("burst"), "{map:?}");
        assert!(
            WidgetSettings::from_json(json!({})).is_err(),
            "origins are required"
        );
        let many: Vec<String> = (0..51)
            .map(|i| format!("https://s{i}.example.com"))
            .collect();
        assert!(WidgetSettings::from_json(json!({ "allowedOrigins": many })).is_err());
    }

    #[test]
    fn limits_count_in_fixed_windows_that_say_when_to_retry() {
        let limits = WidgetLimits::default();
        // 2026-12-31T23:59:30Z: the minute, the hour and the month all end
        // 30 seconds later.
        let now = Timestamp::from_millis(1_798_761_570_000);
        let init = limits.init_window("203.0.113.9", now);
        assert_eq!(init.allowed, 5);
        assert_eq!(init.retry_after(now), 30);
        assert!(!init.key.contains("203.0.113.9"), "no address in a key");
        assert_ne!(init.key, limits.init_window("203.0.113.10", now).key);
        let session = WidgetSessionId::generate();
        let windows = limits.message_windows(&session, "203.0.113.9", now);
        assert_eq!(
            windows.iter().map(|w| w.limit).collect::<Vec<_>>(),
            [
                Limit::MessagesPerSessionPerHour,
                Limit::MessagesPerHourPerIp,
                Limit::MessagesPerDayPerIp,
                Limit::MessagesPerMonth
            ]
        );
        assert!(windows.iter().all(|w| w.retry_after(now) == 30));
        assert_eq!(windows[3].ends_at.to_iso8601(), "2027-01-01T00:00:00Z");
        let mid_month = Timestamp::from_millis(1_796_083_200_000); // 2026-12-01
        assert_eq!(
            limits.message_windows(&session, "203.0.113.9", mid_month)[3]
                .ends_at
                .to_iso8601(),
            "2027-01-01T00:00:00Z"
        );
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_its_ipv4() {
        let one = client_key("2001:db8:1:2:aaaa::1");
        assert_eq!(one, client_key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(one, client_key("2001:db8:1:3::1"));
        assert_eq!(client_key("::ffff:203.0.113.9"), client_key("203.0.113.9"));
        assert_ne!(client_key("203.0.113.9"), client_key("203.0.113.10"));
    }
}
