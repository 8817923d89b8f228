//! Timestamps: stored as milliseconds (so "newest first" orders things created
//! within one second), shown as ISO-8601 UTC with `Z` to the second, the
//! format of every example in the API documentation.

use serde::Serialize;
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;
use time::macros::format_description;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// The last instant `now()` handed out in this process.
static LAST: AtomicI64 = AtomicI64::new(0);

impl Timestamp {
    /// The current time, strictly increasing within a process: two things
    /// one container creates in a row keep that order even within one
    /// millisecond ("newest first" is then exact; across containers a tie
    /// falls back to the id). A container makes a handful of timestamps per
    /// request that does work, so the clock never runs measurably ahead
    /// (see [`Self::wall`] for the paths that do none).
    pub fn now() -> Self {
        let clock = Self::wall().0;
        let mut last = LAST.load(Ordering::Relaxed);
        loop {
            let next = clock.max(last + 1);
            match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Self(next),
                Err(current) => last = current,
            }
        }
    }

    /// The current time as the clock has it, not made unique: what a
    /// check against a window or an expiry reads. `now()` hands out at most
    /// one instant per millisecond, so a path a flood can call thousands of
    /// times a second (a refusal answered from memory) must read this
    /// instead, or it would run the process's clock ahead and roll every
    /// window over early.
    pub fn wall() -> Self {
        Self((OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus(self, span: std::time::Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(span.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    pub fn to_iso8601(self) -> String {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&format).ok())
            // Only reachable for instants outside years -9999..9999, which
            // `now()` cannot produce; show the raw value rather than fail.
            .unwrap_or_else(|| self.0.to_string())
    }
}

/// ISO-8601 UTC to the second, as every timestamp is answered.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso8601())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_taken_in_a_row_never_tie() {
        let taken: Vec<Timestamp> = (0..1000).map(|_| Timestamp::now()).collect();
        assert!(taken.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn timestamps_are_shown_as_utc_seconds_with_a_z() {
        assert_eq!(
            Timestamp::from_millis(1_751_360_400_123).to_iso8601(),
            "2025-07-01T09:00:00Z"
        );
    }
}
