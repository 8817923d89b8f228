//! Outbound webhooks: the events a workspace can subscribe an endpoint to,
//! how each delivery is signed ([`signature`]), where one may be sent
//! ([`target`]), and when a failed one is tried again.

pub mod change;
pub mod delivery;
pub mod endpoint;
pub mod signature;
pub mod target;

use std::fmt;
use std::time::Duration;

/// The events an endpoint can subscribe to (or `"*"`, every one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    ConversationCreated,
    MessageCreated,
    MessageUpdated,
    ContactCreated,
    ContactUpdated,
    AssistantCreated,
    AssistantUpdated,
    AssistantDeleted,
    MemberJoined,
    MemberLeft,
    DocumentCompleted,
    DocumentFailed,
    UsageThresholdReached,
    WebhookTest,
}

impl EventType {
    pub const ALL: [Self; 14] = [
        Self::ConversationCreated,
        Self::MessageCreated,
        Self::MessageUpdated,
        Self::ContactCreated,
        Self::ContactUpdated,
        Self::AssistantCreated,
        Self::AssistantUpdated,
        Self::AssistantDeleted,
        Self::MemberJoined,
        Self::MemberLeft,
        Self::DocumentCompleted,
        Self::DocumentFailed,
        Self::UsageThresholdReached,
        Self::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConversationCreated => "conversation.created",
            Self::MessageCreated => "message.created",
            Self::MessageUpdated => "message.updated",
            Self::ContactCreated => "contact.created",
            Self::ContactUpdated => "contact.updated",
            Self::AssistantCreated => "assistant.created",
            Self::AssistantUpdated => "assistant.updated",
            Self::AssistantDeleted => "assistant.deleted",
            Self::MemberJoined => "member.joined",
            Self::MemberLeft => "member.left",
            Self::DocumentCompleted => "document.completed",
            Self::DocumentFailed => "document.failed",
            Self::UsageThresholdReached => "usage.threshold_reached",
            Self::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == value)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an endpoint asked for: every event, or the ones it listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscription {
    Every,
    Only(std::collections::BTreeSet<EventType>),
}

impl Subscription {
    /// The `events` a request lists: not empty, each a known type or `"*"`.
    pub fn parse(events: &[String]) -> Result<Self, String> {
        if events.is_empty() {
            return Err("must list at least one event type, or \"*\"".into());
        }
        if events.iter().any(|e| e == "*") {
            return Ok(Self::Every);
        }
        events
            .iter()
            .map(|e| EventType::parse(e).ok_or_else(|| format!("has an unknown event type: {e:?}")))
            .collect::<Result<_, _>>()
            .map(Self::Only)
    }

    /// `webhook.test` goes to the one endpoint it is sent to, whatever it
    /// subscribed to.
    pub fn wants(&self, event: EventType) -> bool {
        match self {
            Self::Every => true,
            Self::Only(events) => event == EventType::WebhookTest || events.contains(&event),
        }
    }

    /// The list as the API shows it.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::Every => vec!["*".into()],
            Self::Only(events) => events.iter().map(|e| e.as_str().to_owned()).collect(),
        }
    }
}

/// The most endpoints one workspace may have.
pub const WEBHOOKS_PER_WORKSPACE: usize = 20;
/// How long one attempt may take, connecting included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A rotated secret still signs, beside the new one, for this long.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);
/// An endpoint whose every delivery has failed for this long is turned off.
pub const FAILING_FOR: Duration = Duration::from_secs(5 * 24 * 60 * 60);

/// When a delivery is tried again after each failed attempt; after the
/// last, it has failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    /// 1 min, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: eight attempts over
    /// about 28 hours.
    fn default() -> Self {
        Self(
            [60, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// A schedule as `WEBHOOK_RETRY_SCHEDULE` writes it: comma-separated
    /// seconds (`1,2,4` for a local run), at least one.
    pub fn parse(value: &str) -> Result<Self, String> {
        let delays = value
            .split(',')
            .map(|s| s.trim().parse::<u64>().map(Duration::from_secs))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "must be comma-separated whole seconds, e.g. 1,2,4".to_owned())?;
        if delays.is_empty() {
            return Err("must list at least one delay".into());
        }
        Ok(Self(delays))
    }

    /// The wait before the attempt after `failed` attempts have failed, or
    /// `None` once the schedule is spent.
    pub fn after(&self, failed: usize) -> Option<Duration> {
        failed.checked_sub(1).and_then(|i| self.0.get(i)).copied()
    }

    /// Every attempt a delivery gets: the first and one per delay.
    pub fn attempts(&self) -> usize {
        self.0.len() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_back_from_its_name() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
        }
        assert_eq!(EventType::parse("message.deleted"), None);
    }

    #[test]
    fn a_subscription_is_every_event_or_the_known_ones_listed() {
        let listed = |events: &[&str]| {
            Subscription::parse(&events.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(listed(&["message.created", "*"]), Ok(Subscription::Every));
        let only = listed(&["message.created", "contact.created"]).unwrap();
        assert!(only.wants(EventType::MessageCreated));
        assert!(!only.wants(EventType::AssistantDeleted));
        assert!(
            only.wants(EventType::WebhookTest),
            "a test reaches whoever is tested"
        );
        assert_eq!(only.names(), ["message.created", "contact.created"]);
        assert_eq!(
            listed(&[]).unwrap_err(),
            "must list at least one event type, or \"*\""
        );
        assert_eq!(
            listed(&["message.created", "message.deleted"]).unwrap_err(),
            "has an unknown event type: \"message.deleted\""
        );
    }

    #[test]
    fn the_default_schedule_tries_eight_times_over_a_day_and_then_stops() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 8);
        assert_eq!(schedule.after(1), Some(Duration::from_secs(60)));
        assert_eq!(schedule.after(2), Some(Duration::from_secs(300)));
        assert_eq!(schedule.after(7), Some(Duration::from_secs(36_000)));
        assert_eq!(schedule.after(8), None);
        assert_eq!(schedule.after(0), None);
        let total: u64 = (1..8)
            .filter_map(|n| schedule.after(n))
            .map(|d| d.as_secs())
            .sum();
        assert_eq!(total, 99_360, "about 28 hours");
    }

    #[test]
    fn a_local_schedule_is_read_from_seconds_and_a_bad_one_is_named() {
        let schedule = RetrySchedule::parse("1, 2,4").unwrap();
        assert_eq!(schedule.attempts(), 4);
        assert_eq!(schedule.after(3), Some(Duration::from_secs(4)));
        for bad in ["", "1,,2", "1,two", "-1"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad:?}");
        }
    }
}
