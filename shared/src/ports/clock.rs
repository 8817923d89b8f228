//! Time as the code sees it, so a test can move it: the monotonic clock
//! caches read, and the wall clock that stamps what is stored (sessions,
//! limit windows, analytics days, claims on a send).

use crate::domain::time::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Instant;
    /// The wall-clock time, as stored and compared with stored times.
    fn timestamp(&self) -> Timestamp;
    /// The wall-clock time for a path that stores nothing (a refusal
    /// answered from memory): a plain read, which does not take one of
    /// the process's unique milliseconds the way [`Self::timestamp`] does.
    fn wall(&self) -> Timestamp;
}

/// The machine's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn timestamp(&self) -> Timestamp {
        Timestamp::now()
    }

    fn wall(&self) -> Timestamp {
        Timestamp::wall()
    }
}

/// The machine's clocks moved by an offset a test sets: to the next
/// minute, day or month without waiting, or back to a day weeks ago to
/// leave traffic there. Time still flows from wherever it is set.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_ms: AtomicI64,
}

impl ShiftedClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `span`.
    pub fn advance(&self, span: Duration) {
        let by = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the clock so it reads `at` now.
    pub fn set(&self, at: Timestamp) {
        self.offset_ms
            .store(at.millis() - Timestamp::now().millis(), Ordering::SeqCst);
    }

    fn offset(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Instant {
        // An `Instant` cannot go before the machine's boot: a clock set in
        // the past reads the present for the caches.
        let ahead = u64::try_from(self.offset()).unwrap_or(0);
        Instant::now() + Duration::from_millis(ahead)
    }

    fn timestamp(&self) -> Timestamp {
        Timestamp::from_millis(Timestamp::now().millis() + self.offset())
    }

    fn wall(&self) -> Timestamp {
        Timestamp::from_millis(Timestamp::wall().millis() + self.offset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_reads_where_it_was_set_and_moves_on() {
        let clock = ShiftedClock::new();
        let day = Duration::from_secs(86_400);
        let before = clock.timestamp();
        clock.advance(day);
        let after = clock.timestamp();
        assert!(after.millis() - before.millis() >= 86_400_000);
        clock.set(Timestamp::from_millis(1_000_000_000_000));
        let set = clock.timestamp().millis();
        assert!((1_000_000_000_000..1_000_000_060_000).contains(&set));
    }
}
