//! Refusals a container remembers for a few seconds. Once an address has
//! met a full window (or the assistant its month), the same kind of
//! request from it is refused from memory, with the same 429 and
//! `Retry-After`, before anything is read: a flood of requests the store
//! would refuse anyway costs the store nothing but one full check every
//! [`RECHECK_AFTER`] per container, so it cannot slow everyone else's
//! answers (measured by `bench-load`'s widget flood). A window only fills
//! until it ends, so the memory holds until then; the recheck bounds how
//! long a limit an owner raised, or an assistant taken off the web, is
//! answered from memory.
//!
//! Hand-written: a map under a lock, bounded, with the windows' own ends
//! as expiry; a cache crate would add nothing but a dependency.

use super::error::AppError;
use crate::domain::ids::AssistantId;
use crate::domain::time::Timestamp;
use crate::domain::widget::{AllowedOrigin, Limit, UseWindow, client_key};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a refusal is answered from memory before the store is asked
/// again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(10);

/// The most refusals one container keeps (an address, or an IPv6 /64, per
/// kind of request and assistant): a few hundred kilobytes.
const MOST_REMEMBERED: usize = 10_000;

/// What a refusal applies to: every request of one kind from one client,
/// or every question to the assistant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Inits(String),
    NewSessions(String),
    Questions(String),
    AllQuestions,
}

impl Scope {
    pub fn inits(client_ip: &str) -> Self {
        Self::Inits(client_key(client_ip))
    }

    pub fn new_sessions(client_ip: &str) -> Self {
        Self::NewSessions(client_key(client_ip))
    }

    /// What a question from `client_ip` may meet.
    pub fn questions(client_ip: &str) -> [Self; 2] {
        [Self::Questions(client_key(client_ip)), Self::AllQuestions]
    }

    /// What a full `window` refuses; `None` for one session's window,
    /// which the client's other sessions do not share.
    fn of(limit: Limit, client_ip: &str) -> Option<Self> {
        match limit {
            Limit::InitsPerMinutePerIp => Some(Self::inits(client_ip)),
            Limit::SessionsPerHourPerIp => Some(Self::new_sessions(client_ip)),
            Limit::MessagesPerHourPerIp | Limit::MessagesPerDayPerIp => {
                Some(Self::Questions(client_key(client_ip)))
            }
            Limit::MessagesPerMonth => Some(Self::AllQuestions),
            Limit::MessagesPerSessionPerHour => None,
        }
    }
}

struct Remembered {
    window: UseWindow,
    /// The page it was refused on: only a request from the same origin is
    /// answered from memory (with that origin's CORS headers).
    origin: AllowedOrigin,
    until: Timestamp,
}

/// The 429 for a full window: which one, and when to try again.
pub fn refused(window: &UseWindow, now: Timestamp) -> AppError {
    AppError::TooManyRequests {
        message: window.limit.message(),
        limit: window.limit.as_str(),
        retry_after: window.retry_after(now),
    }
}

#[derive(Default)]
pub struct RecentRefusals {
    remembered: Mutex<HashMap<(AssistantId, Scope), Remembered>>,
}

impl std::fmt::Debug for RecentRefusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentRefusals").finish_non_exhaustive()
    }
}

impl RecentRefusals {
    /// The 429 remembered for any of `scopes`, for a request from
    /// `origin` at `now`.
    pub fn refusal(
        &self,
        assistant: &AssistantId,
        origin: &AllowedOrigin,
        scopes: &[Scope],
        now: Timestamp,
    ) -> Option<AppError> {
        let remembered = self.remembered.lock().expect("never poisoned");
        scopes.iter().find_map(|scope| {
            let found = remembered.get(&(assistant.clone(), scope.clone()))?;
            (found.until > now && &found.origin == origin).then(|| refused(&found.window, now))
        })
    }

    /// Remembers that `window` was full for a request from `client_ip` on
    /// `origin` at `now`.
    pub fn remember(
        &self,
        assistant: &AssistantId,
        origin: &AllowedOrigin,
        window: &UseWindow,
        client_ip: &str,
        now: Timestamp,
    ) {
        let Some(scope) = Scope::of(window.limit, client_ip) else {
            return;
        };
        let until = Timestamp::from_millis(
            window
                .ends_at
                .millis()
                .min(now.plus(RECHECK_AFTER).millis()),
        );
        let mut remembered = self.remembered.lock().expect("never poisoned");
        if remembered.len() >= MOST_REMEMBERED {
            remembered.retain(|_, r| r.until > now);
            if remembered.len() >= MOST_REMEMBERED {
                return;
            }
        }
        remembered.insert(
            (assistant.clone(), scope),
            Remembered {
                window: window.clone(),
                origin: origin.clone(),
                until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::widget::WidgetLimits;

    fn shop() -> AllowedOrigin {
        AllowedOrigin::parse("https://shop.example.com").unwrap()
    }

    #[test]
    fn a_refusal_is_remembered_for_its_client_and_origin_until_the_recheck() {
        let refusals = RecentRefusals::default();
        let assistant = AssistantId::generate();
        let now = Timestamp::from_millis(1_796_000_000_000);
        let window = WidgetLimits::default().init_window("203.0.113.7", now);
        refusals.remember(&assistant, &shop(), &window, "203.0.113.7", now);
        let from = |ip: &str, origin: &AllowedOrigin, at: Timestamp| {
            refusals.refusal(&assistant, origin, &[Scope::inits(ip)], at)
        };
        match from("203.0.113.7", &shop(), now) {
            Some(AppError::TooManyRequests { limit, .. }) => {
                assert_eq!(limit, "initsPerMinutePerIp")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            from("203.0.113.8", &shop(), now).is_none(),
            "another client"
        );
        let elsewhere = AllowedOrigin::parse("https://other.example.com").unwrap();
        assert!(from("203.0.113.7", &elsewhere, now).is_none());
        let later = now.plus(RECHECK_AFTER);
        assert!(from("203.0.113.7", &shop(), later).is_none(), "rechecked");
    }

    #[test]
    fn one_sessions_window_is_never_held_against_the_clients_other_sessions() {
        let refusals = RecentRefusals::default();
        let assistant = AssistantId::generate();
        let now = Timestamp::from_millis(1_796_000_000_000);
        let session = crate::domain::ids::WidgetSessionId::generate();
        for window in WidgetLimits::default().message_windows(&session, "203.0.113.7", now) {
            if window.limit == Limit::MessagesPerSessionPerHour {
                refusals.remember(&assistant, &shop(), &window, "203.0.113.7", now);
            }
        }
        let scopes = Scope::questions("203.0.113.7");
        assert!(
            refusals
                .refusal(&assistant, &shop(), &scopes, now)
                .is_none()
        );
    }
}
