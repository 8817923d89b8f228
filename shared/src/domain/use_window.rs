//! Fixed windows of a limit (a minute, an hour, a UTC day, a calendar
//! month): what the widget's and the SMS channel's limits count uses in.
//! A store counts each window under its key and refuses the use that would
//! pass `allowed`; the key holds no personal data (addresses and numbers
//! only as hashes).

use super::time::Timestamp;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// One fixed window of one limit of kind `L`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseWindow<L> {
    pub limit: L,
    pub key: String,
    pub allowed: u32,
    pub ends_at: Timestamp,
}

impl<L> UseWindow<L> {
    /// Whole seconds until the window ends, at least one.
    pub fn retry_after(&self, now: Timestamp) -> u64 {
        let left = self.ends_at.millis().saturating_sub(now.millis()).max(0) as u64;
        left.div_ceil(1000).max(1)
    }
}

/// The hour `now` is in, counted from the Unix epoch, and when it ends.
pub fn hour_of(now: Timestamp) -> (i64, Timestamp) {
    let hour = now.millis().div_euclid(HOUR_MS);
    (hour, Timestamp::from_millis((hour + 1) * HOUR_MS))
}

/// The UTC day `now` is in, counted from the Unix epoch, and when it ends.
pub fn day_of(now: Timestamp) -> (i64, Timestamp) {
    let day = now.millis().div_euclid(DAY_MS);
    (day, Timestamp::from_millis((day + 1) * DAY_MS))
}

/// The first instant of the calendar month (UTC) after the one `now` is in.
pub fn next_month(now: Timestamp) -> Timestamp {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now.millis()) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (year, month) = match at.month() {
        time::Month::December => (at.year() + 1, time::Month::January),
        month => (at.year(), month.next()),
    };
    let start = time::Date::from_calendar_date(year, month, 1)
        .map(|d| d.midnight().assume_utc())
        .unwrap_or(at);
    Timestamp::from_millis((start.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_days_end_on_their_boundaries() {
        // 2026-12-31T23:59:30Z
        let now = Timestamp::from_millis(1_798_761_570_000);
        assert_eq!(hour_of(now).1.to_iso8601(), "2027-01-01T00:00:00Z");
        assert_eq!(day_of(now).1.to_iso8601(), "2027-01-01T00:00:00Z");
        let next = Timestamp::from_millis(1_798_761_600_000);
        assert_eq!(day_of(next).0, day_of(now).0 + 1);
        assert_eq!(hour_of(next).0, hour_of(now).0 + 1);
        assert_eq!(next_month(now).to_iso8601(), "2027-01-01T00:00:00Z");
    }
}
