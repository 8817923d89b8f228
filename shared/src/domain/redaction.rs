//! Whether a `Debug` rendering may show a person whole. Never, but for an
//! audit of what a store holds (the erasure tests read the memory store
//! as they read the DynamoDB table): a number or a lead redacted in every
//! dump would hide exactly what such a test looks for. The switch is per
//! thread and per call, so no log line written meanwhile elsewhere shows
//! anyone.

use std::cell::Cell;

thread_local! {
    static SHOWN_WHOLE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `render` with people shown whole in `Debug` on this thread.
pub fn unredacted<T>(render: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHOWN_WHOLE.with(|shown| shown.set(self.0));
        }
    }
    let _restore = Restore(SHOWN_WHOLE.with(|shown| shown.replace(true)));
    render()
}

/// Whether `Debug` may show a person whole here and now.
pub fn shown_whole() -> bool {
    SHOWN_WHOLE.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sms::PhoneNumber;

    #[test]
    fn a_number_is_redacted_in_a_dump_but_for_an_audit() {
        let phone = PhoneNumber::parse("+15551234567").unwrap();
        assert!(!format!("{phone:?}").contains("5551234567"));
        assert!(unredacted(|| format!("{phone:?}")).contains("+15551234567"));
        assert!(
            !format!("{phone:?}").contains("5551234567"),
            "only for the audit"
        );
    }
}
