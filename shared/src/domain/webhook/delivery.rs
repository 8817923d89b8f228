//! Events and their deliveries: the envelope every delivery of an event
//! sends, a delivery's attempts, and what one attempt's outcome decides
//! (done, tried again on the schedule, failed; the webhook turned off by a
//! 410, or by five days of nothing but failures).

use super::endpoint::{FAILING, GONE};
use super::{EventType, FAILING_FOR, RetrySchedule};
use crate::domain::ids::{DeliveryId, EventId, WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use serde_json::{Value, json};
use std::time::Duration;

/// Something that happened in a workspace, as its webhooks are told.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub kind: EventType,
    pub workspace_id: WorkspaceId,
    pub at: Timestamp,
    /// The thing the event is about, as the API serves it.
    pub data: Value,
}

impl Event {
    /// The body every delivery of the event sends (the product's envelope).
    pub fn body(&self) -> String {
        json!({
            "id": self.id,
            "event": self.kind.as_str(),
            "timestamp": self.at.to_iso8601(),
            "workspaceId": self.workspace_id,
            "data": self.data,
        })
        .to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

/// One attempt as kept: when, the receiver's status if it answered, how
/// long it took, and what went wrong in our words (never its body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    pub at: Timestamp,
    pub response_status: Option<u16>,
    pub duration: Duration,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub workspace_id: WorkspaceId,
    pub webhook_id: WebhookId,
    pub event_id: EventId,
    pub event: EventType,
    /// The body, exactly as every attempt sends it.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<AttemptRecord>,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Delivery {
    /// A delivery of `event` to `webhook`, due at once.
    pub fn of(event: &Event, webhook: &WebhookId, now: Timestamp) -> Self {
        Self {
            id: DeliveryId::of_event(event.at, &event.id, webhook),
            workspace_id: event.workspace_id.clone(),
            webhook_id: webhook.clone(),
            event_id: event.id.clone(),
            event: event.kind,
            payload: event.body(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
            created_at: now,
        }
    }
}

/// How an attempt ended, as the delivery rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    Gone,
    Failed,
}

/// What an attempt decides, for the delivery and for its webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub status: DeliveryStatus,
    /// When the next attempt is due, if there is one.
    pub next_attempt_at: Option<Timestamp>,
    /// Since when every delivery to the webhook has failed (`None` once one
    /// succeeds).
    pub failing_since: Option<Timestamp>,
    /// Why the webhook is to be turned off, if it is.
    pub disable: Option<&'static str>,
    /// Whether the webhook's stored state changes (its failing run starts
    /// or ends, or it is turned off): most attempts leave it as it was, and
    /// a store writes only the delivery for them, so a burst to one webhook
    /// does not make every attempt write (and contend on) the webhook.
    pub changes_webhook: bool,
}

/// What the attempt numbered `attempt` (1 for the first) that ended as
/// `result` at `now` decides, for a webhook whose deliveries have all
/// failed since `failing_since`.
pub fn decide(
    result: AttemptResult,
    attempt: usize,
    now: Timestamp,
    failing_since: Option<Timestamp>,
    schedule: &RetrySchedule,
) -> Decision {
    let mut decision = match result {
        AttemptResult::Delivered => Decision {
            status: DeliveryStatus::Succeeded,
            next_attempt_at: None,
            failing_since: None,
            disable: None,
            changes_webhook: false,
        },
        AttemptResult::Gone => Decision {
            status: DeliveryStatus::Failed,
            next_attempt_at: None,
            failing_since: Some(failing_since.unwrap_or(now)),
            disable: Some(GONE),
            changes_webhook: false,
        },
        AttemptResult::Failed => {
            let since = failing_since.unwrap_or(now);
            let for_too_long = now.millis() - since.millis() >= FAILING_FOR.as_millis() as i64;
            let next = (!for_too_long)
                .then(|| schedule.after(attempt))
                .flatten()
                .map(|wait| now.plus(wait));
            Decision {
                status: if next.is_some() {
                    DeliveryStatus::Pending
                } else {
                    DeliveryStatus::Failed
                },
                next_attempt_at: next,
                failing_since: Some(since),
                disable: for_too_long.then_some(FAILING),
                changes_webhook: false,
            }
        }
    };
    decision.changes_webhook =
        decision.failing_since != failing_since || decision.disable.is_some();
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);

    fn start() -> Timestamp {
        Timestamp::from_millis(1_614_265_330_000)
    }

    #[test]
    fn the_envelope_is_the_products() {
        let event = Event {
            id: EventId::generate(),
            kind: EventType::MessageCreated,
            workspace_id: WorkspaceId::generate(),
            at: start(),
            data: json!({"id": "msg_1"}),
        };
        let body: Value = serde_json::from_str(&event.body()).unwrap();
        assert_eq!(
            body,
            json!({
                "id": event.id,
                "event": "message.created",
                "timestamp": "2021-02-25T15:02:10Z",
                "workspaceId": event.workspace_id,
                "data": {"id": "msg_1"},
            })
        );
    }

    #[test]
    fn a_failure_is_tried_again_on_the_schedule_and_fails_after_the_last() {
        let schedule = RetrySchedule::default();
        let mut now = start();
        let mut since = None;
        let mut waits = Vec::new();
        for attempt in 1..=8 {
            let decision = decide(AttemptResult::Failed, attempt, now, since, &schedule);
            assert_eq!(decision.failing_since, Some(start()));
            assert_eq!(decision.disable, None);
            since = decision.failing_since;
            match decision.next_attempt_at {
                Some(next) => {
                    assert_eq!(decision.status, DeliveryStatus::Pending);
                    waits.push((next.millis() - now.millis()) / 1000);
                    now = next;
                }
                None => {
                    assert_eq!(attempt, 8);
                    assert_eq!(decision.status, DeliveryStatus::Failed);
                }
            }
        }
        assert_eq!(waits, [60, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
    }

    #[test]
    fn a_success_ends_the_delivery_and_the_webhooks_failing_run() {
        let decision = decide(
            AttemptResult::Delivered,
            3,
            start(),
            Some(start()),
            &RetrySchedule::default(),
        );
        assert_eq!(decision.status, DeliveryStatus::Succeeded);
        assert_eq!(decision.failing_since, None);
        assert_eq!(decision.next_attempt_at, None);
    }

    #[test]
    fn a_410_fails_the_delivery_and_turns_the_webhook_off() {
        let decision = decide(
            AttemptResult::Gone,
            1,
            start(),
            None,
            &RetrySchedule::default(),
        );
        assert_eq!(decision.status, DeliveryStatus::Failed);
        assert_eq!(decision.next_attempt_at, None);
        assert_eq!(decision.disable, Some(GONE));
    }

    #[test]
    fn five_days_of_failures_turn_the_webhook_off_and_a_minute_less_does_not() {
        let schedule = RetrySchedule::default();
        let almost = start().plus(5 * DAY - MINUTE);
        let decision = decide(AttemptResult::Failed, 1, almost, Some(start()), &schedule);
        assert_eq!(decision.disable, None);
        assert_eq!(decision.status, DeliveryStatus::Pending);
        let five_days = start().plus(5 * DAY);
        let decision = decide(
            AttemptResult::Failed,
            1,
            five_days,
            Some(start()),
            &schedule,
        );
        assert_eq!(decision.disable, Some(FAILING));
        assert_eq!(decision.status, DeliveryStatus::Failed);
        assert_eq!(decision.next_attempt_at, None);
    }

    #[test]
    fn only_an_attempt_that_starts_or_ends_a_failing_run_or_turns_the_webhook_off_changes_it() {
        let schedule = RetrySchedule::default();
        let now = start().plus(MINUTE);
        let changes = |result, since| decide(result, 1, now, since, &schedule).changes_webhook;
        assert!(!changes(AttemptResult::Delivered, None), "healthy stays");
        assert!(changes(AttemptResult::Delivered, Some(start())), "run ends");
        assert!(changes(AttemptResult::Failed, None), "run starts");
        assert!(
            !changes(AttemptResult::Failed, Some(start())),
            "run goes on"
        );
        assert!(changes(AttemptResult::Gone, Some(start())), "turned off");
        let late = start().plus(5 * DAY);
        assert!(decide(AttemptResult::Failed, 1, late, Some(start()), &schedule).changes_webhook);
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::Succeeded,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
    }
}
