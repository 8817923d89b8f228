//! The Twilio adapter against Twilio's wire format: which failures prove a
//! send never reached Twilio and which leave its outcome unknown, and the
//! message list a lost send is looked for in (its pages, its dates, and the
//! emulator's `DateSent` filter as Twilio documents it).

use devtools::emulators::twilio::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_NUMBER, TwilioEmulator};
use devtools::emulators::{local_twilio, serve_on_loopback};
use secrecy::SecretString;
use serde_json::json;
use shared::adapters::twilio::TwilioGateway;
use shared::domain::sms::{AccountSid, Credentials, PhoneNumber};
use shared::domain::time::Timestamp;
use shared::ports::{GatewayError, OutboundSms, SmsGateway};
use std::time::Duration;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn credentials() -> Credentials {
    Credentials {
        account_sid: AccountSid::parse(DEMO_ACCOUNT_SID).unwrap(),
        auth_token: SecretString::from(DEMO_AUTH_TOKEN),
        phone_number: PhoneNumber::parse(DEMO_NUMBER).unwrap(),
    }
}

fn message(to: &str, body: &str) -> OutboundSms {
    OutboundSms {
        from: PhoneNumber::parse(DEMO_NUMBER).unwrap(),
        to: PhoneNumber::parse(to).unwrap(),
        body: body.into(),
        status_callback: "http://127.0.0.1:9/status".into(),
    }
}

/// What one send meets when Twilio answers `response`.
async fn send_meeting(response: ResponseTemplate) -> GatewayError {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("/Messages.json$"))
        .respond_with(response)
        .mount(&twilio)
        .await;
    let gateway = TwilioGateway::new(
        shared::adapters::outbound_http::client(),
        twilio.uri(),
        Duration::from_millis(500),
    );
    gateway
        .send(&credentials(), &message("+15550105001", "Hello."))
        .await
        .expect_err("the send fails")
}

/// The Twilio emulator served on loopback at `base`, and the gateway over
/// it.
struct LoopbackTwilio {
    emulator: TwilioEmulator,
    base: String,
    gateway: TwilioGateway,
}

async fn twilio_on_loopback() -> LoopbackTwilio {
    let twilio = TwilioEmulator::with_demo_account();
    let base = serve_on_loopback(devtools::emulators::router(
        devtools::emulators::Emulators {
            twilio: twilio.clone(),
            ..devtools::emulators::Emulators::local(devtools::emulators::Latency::default())
        },
    ))
    .await;
    LoopbackTwilio {
        emulator: twilio,
        gateway: local_twilio(&base),
        base,
    }
}

fn twilio_error(status: u16, code: u32) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code, "message": "refused", "status": status,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
    }))
}

#[tokio::test]
async fn only_failures_that_prove_twilio_did_not_take_a_send_are_not_sent() {
    for (response, label) in [
        (twilio_error(429, 20429), "a 429"),
        (twilio_error(503, 20503), "Twilio's own 503"),
    ] {
        let error = send_meeting(response).await;
        assert!(
            matches!(error, GatewayError::NotSent { .. }),
            "{label}: {error:?}"
        );
    }
    let unreachable = TwilioGateway::new(
        shared::adapters::outbound_http::client(),
        "http://127.0.0.1:9",
        Duration::from_millis(500),
    )
    .send(&credentials(), &message("+15550105001", "Hello."))
    .await
    .unwrap_err();
    assert!(matches!(unreachable, GatewayError::NotSent { .. }));
}

#[tokio::test]
async fn a_send_whose_answer_is_lost_or_unreadable_has_an_unknown_outcome() {
    for (response, label) in [
        (twilio_error(500, 20500), "a 500"),
        (
            ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
            "a proxy's 502",
        ),
        (
            ResponseTemplate::new(503).set_body_string("unavailable"),
            "a 503 not in Twilio's shape",
        ),
        (
            ResponseTemplate::new(201).set_body_string("{not json"),
            "a 201 that does not read",
        ),
        (
            ResponseTemplate::new(201).set_delay(Duration::from_secs(2)),
            "an answer slower than the timeout",
        ),
    ] {
        let error = send_meeting(response).await;
        assert!(
            matches!(error, GatewayError::Unknown { .. }),
            "{label}: {error:?}"
        );
    }
    let refused = send_meeting(twilio_error(400, 21211)).await;
    assert!(matches!(
        refused,
        GatewayError::Rejected {
            status: 400,
            code: Some(21211)
        }
    ));
}

#[tokio::test]
async fn a_lost_send_is_found_past_the_first_page_and_older_copies_are_not_it() {
    let LoopbackTwilio {
        emulator: twilio,
        gateway,
        ..
    } = twilio_on_loopback().await;
    let texter = "+15550105002";
    let first = gateway
        .send(&credentials(), &message(texter, "The one looked for."))
        .await
        .unwrap();
    // Sixty newer messages push it past the list's first page of fifty.
    for i in 0..60 {
        gateway
            .send(&credentials(), &message(texter, &format!("Later {i}.")))
            .await
            .unwrap();
    }
    let an_hour_ago = Timestamp::from_millis(Timestamp::now().millis() - 3_600_000);
    let found = gateway
        .find_sent(
            &credentials(),
            &message(texter, "The one looked for."),
            an_hour_ago,
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|m| m.sid.clone()).collect::<Vec<_>>(),
        vec![first.sid]
    );
    // A copy created before the claim is not the send looked for.
    let in_a_minute = Timestamp::from_millis(Timestamp::now().millis() + 60_000);
    let none = gateway
        .find_sent(
            &credentials(),
            &message(texter, "The one looked for."),
            in_a_minute,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    // Another texter's identical text is not it either.
    let other = gateway
        .find_sent(
            &credentials(),
            &message("+15550105003", "The one looked for."),
            an_hour_ago,
        )
        .await
        .unwrap();
    assert!(other.is_empty());
    // The list failing is an error, never "not there".
    twilio.fail_next_lists([500]);
    assert!(
        gateway
            .find_sent(&credentials(), &message(texter, "Later 1."), an_hour_ago)
            .await
            .unwrap_err()
            .is_transient()
    );
}

#[tokio::test]
async fn the_emulators_list_filters_by_sender_recipient_and_date_sent_as_twilio_does() {
    let LoopbackTwilio { base, gateway, .. } = twilio_on_loopback().await;
    gateway
        .send(&credentials(), &message("+15550105004", "Hi."))
        .await
        .unwrap();
    let list = |query: &str| {
        let url =
            format!("{base}/twilio/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json?{query}");
        async move {
            let body: serde_json::Value = reqwest::Client::new()
                .get(url)
                .basic_auth(DEMO_ACCOUNT_SID, Some(DEMO_AUTH_TOKEN))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["messages"].as_array().unwrap().len()
        }
    };
    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| {
        d.format(&time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap()
    };
    let tomorrow = day(today.next_day().unwrap());
    let yesterday = day(today.previous_day().unwrap());
    let today = day(today);
    assert_eq!(list("To=%2B15550105004").await, 1);
    assert_eq!(list("To=%2B15550105005").await, 0);
    assert_eq!(
        list(&format!("From=%2B15005550006&DateSent={today}")).await,
        1
    );
    assert_eq!(list(&format!("DateSent%3E={yesterday}")).await, 1);
    assert_eq!(list(&format!("DateSent%3E={tomorrow}")).await, 0);
    assert_eq!(list(&format!("DateSent%3C={yesterday}")).await, 0);
}
