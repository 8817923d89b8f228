//! The Twilio account every SMS test configures: the emulator's demo
//! account and number, and a texter. A leaf, so the harness, the SMS
//! support and the log capture (which forbids the token) share it without
//! importing each other.

use devtools::emulators::twilio::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_NUMBER};

pub const ACCOUNT_SID: &str = DEMO_ACCOUNT_SID;
pub const AUTH_TOKEN: &str = DEMO_AUTH_TOKEN;
pub const NUMBER: &str = DEMO_NUMBER;
pub const TEXTER: &str = "+15551234567";

/// The body of a `PUT .../sms` with the emulator's demo account and
/// `number`.
pub fn settings_for(number: &str) -> serde_json::Value {
    serde_json::json!({
        "enabled": true,
        "twilioAccountSid": ACCOUNT_SID,
        "twilioAuthToken": AUTH_TOKEN,
        "phoneNumber": number,
    })
}

/// The demo account with its own number (one assistant at a time).
pub fn demo_settings() -> serde_json::Value {
    settings_for(NUMBER)
}
