//! `.../assistants/{id}/sms`, `/sms/test`, `/sms/analytics`: the seed's SMS
//! configuration, as an admin uses it.

use axum::http::{Method, StatusCode};
use serde_json::json;
use shared::domain::ids::AssistantId;
use shared::ports::{SecretCipher, SecretContext, SmsStore};
use testkit::MemoryStack;
use testkit::sms::{ACCOUNT_SID, AUTH_TOKEN, NUMBER, demo_settings, fresh_number, settings_for};

fn sms_path(ws: &str, assistant: &str) -> String {
    format!("/api/workspaces/{ws}/assistants/{assistant}/sms")
}

#[tokio::test]
async fn before_any_put_the_config_is_not_found() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let (status, body) = stack
        .call(
            Method::GET,
            &sms_path(f.ws(), &f.public_assistant),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "not_found:api");
}

#[tokio::test]
async fn put_answers_the_stored_config_in_the_data_envelope_and_never_the_token() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = sms_path(f.ws(), &f.public_assistant);
    let mut settings = demo_settings();
    settings["sessionTimeoutMinutes"] = json!(45);
    let (status, put) = stack
        .call(Method::PUT, &path, Some(f.key("admin")), Some(settings))
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    let data = &put["data"];
    assert_eq!(data["enabled"], true);
    assert_eq!(data["phoneNumber"], NUMBER);
    assert_eq!(data["twilioAccountSid"], ACCOUNT_SID);
    assert_eq!(data["sessionTimeoutMinutes"], 45);
    assert_eq!(
        data["webhookUrl"],
        format!(
            "{}/api/sms/webhook/{}",
            stack.sms.webhook_url, f.public_assistant
        )
    );
    assert!(data["createdAt"].as_str().unwrap().ends_with('Z'));
    let (status, got) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, put);
    for body in [&put, &got] {
        assert!(!body.to_string().contains(AUTH_TOKEN), "{body}");
        assert!(body["data"].get("twilioAuthToken").is_none());
    }
    // Saving again keeps createdAt and the default timeout comes back.
    let (_, again) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some(demo_settings()),
        )
        .await;
    assert_eq!(again["data"]["createdAt"], put["data"]["createdAt"]);
    assert_eq!(again["data"]["sessionTimeoutMinutes"], 30);
}

#[tokio::test]
async fn the_token_is_stored_only_sealed_and_opens_only_for_its_own_assistant() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = sms_path(f.ws(), &f.public_assistant);
    stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some(demo_settings()),
        )
        .await;
    let id = AssistantId::parse(&f.public_assistant).unwrap();
    let stored = stack.store.sms_config(&id).await.unwrap().unwrap();
    assert!(!format!("{stored:?}").contains(AUTH_TOKEN));
    let sealed = &stored.sealed_auth_token;
    assert!(
        !sealed
            .windows(AUTH_TOKEN.len())
            .any(|w| w == AUTH_TOKEN.as_bytes()),
        "the ciphertext holds no plaintext"
    );
    let own = SecretContext::twilio_auth_token(&stored.workspace_id, &id);
    assert!(stack.cipher.open(sealed, &own).await.is_ok());
    let other = AssistantId::parse(&f.private_assistant).unwrap();
    let copied = SecretContext::twilio_auth_token(&stored.workspace_id, &other);
    assert!(
        stack.cipher.open(sealed, &copied).await.is_err(),
        "a ciphertext copied to another assistant does not open"
    );
}

#[tokio::test]
async fn bad_fields_are_refused_by_name_and_nothing_is_stored() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = sms_path(f.ws(), &f.public_assistant);
    let cases = [
        (
            json!({}),
            vec![
                "enabled",
                "twilioAccountSid",
                "twilioAuthToken",
                "phoneNumber",
            ],
        ),
        (
            json!({"enabled": "yes", "twilioAccountSid": "AC123", "twilioAuthToken": "",
                   "phoneNumber": "555-1234", "sessionTimeoutMinutes": 0}),
            vec![
                "enabled",
                "twilioAccountSid",
                "twilioAuthToken",
                "phoneNumber",
                "sessionTimeoutMinutes",
            ],
        ),
        (
            {
                let mut body = demo_settings();
                body["webhookUrl"] = json!("https://evil.example");
                body["colour"] = json!("red");
                body["sessionTimeoutMinutes"] = json!(1441);
                body
            },
            vec!["webhookUrl", "colour", "sessionTimeoutMinutes"],
        ),
    ];
    for (body, fields) in cases {
        let (status, answer) = stack
            .call(Method::PUT, &path, Some(f.key("owner")), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        for field in fields {
            assert!(
                answer["details"].get(field).is_some(),
                "{field} not named: {answer}"
            );
        }
    }
    let (status, _) = stack
        .call_raw(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some("{not json".into()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
}

#[tokio::test]
async fn a_number_serving_another_assistant_is_a_conflict_and_changes_nothing() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let owner = f.key("owner");
    let taken = settings_for(&f.sms_number);
    let private = sms_path(f.ws(), &f.public_assistant);
    let (status, body) = stack
        .call(Method::PUT, &private, Some(owner), Some(taken.clone()))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "conflict:api");
    let (status, _) = stack.call(Method::GET, &private, Some(owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let public = sms_path(f.ws(), &f.private_assistant);
    let (_, still) = stack.call(Method::GET, &public, Some(owner), None).await;
    assert_eq!(still["data"]["phoneNumber"], f.sms_number.as_str());

    // Deleting the config frees the number at once...
    let (status, _) = stack.call(Method::DELETE, &public, Some(owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.call(Method::DELETE, &public, Some(owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleting twice");
    let (status, body) = stack
        .call(Method::PUT, &private, Some(owner), Some(taken.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ...and so does deleting the assistant.
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!(
                "/api/workspaces/{}/assistants/{}",
                f.ws(),
                f.public_assistant
            ),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = stack
        .call(Method::PUT, &public, Some(owner), Some(taken))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = stack.call(Method::GET, &private, Some(owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_credential_test_reports_what_twilio_says_and_never_saves() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = format!("{}/test", sms_path(f.ws(), &f.public_assistant));
    let check = |token: &str, number: &str| json!({"twilioAccountSid": ACCOUNT_SID, "twilioAuthToken": token, "phoneNumber": number});
    let (status, valid) = stack
        .call(
            Method::POST,
            &path,
            Some(f.key("admin")),
            Some(check(AUTH_TOKEN, NUMBER)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{valid}");
    assert_eq!(
        valid,
        json!({"data": {"valid": true, "phoneNumberCapabilities": {"sms": true, "mms": true, "voice": true}}})
    );
    let (status, wrong) = stack
        .call(
            Method::POST,
            &path,
            Some(f.key("admin")),
            Some(check("wrong-token", NUMBER)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wrong["data"]["valid"], false);
    assert!(wrong["data"]["reason"].as_str().unwrap().contains("20003"));
    assert!(!wrong.to_string().contains("wrong-token"));
    let (_, not_owned) = stack
        .call(
            Method::POST,
            &path,
            Some(f.key("admin")),
            Some(check(AUTH_TOKEN, &fresh_number())),
        )
        .await;
    assert_eq!(not_owned["data"]["valid"], false);
    assert!(
        not_owned["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("not one of")
    );
    // A partial match is not the number: Twilio's filter is a prefix search.
    let (_, partial) = stack
        .call(
            Method::POST,
            &path,
            Some(f.key("admin")),
            Some(check(AUTH_TOKEN, "+150055500")),
        )
        .await;
    assert_eq!(partial["data"]["valid"], false);
    let (status, malformed) = stack
        .call(
            Method::POST,
            &path,
            Some(f.key("admin")),
            Some(json!({"twilioAccountSid": "nope", "phoneNumber": 5, "extra": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in [
        "twilioAccountSid",
        "twilioAuthToken",
        "phoneNumber",
        "extra",
    ] {
        assert!(
            malformed["details"].get(field).is_some(),
            "{field}: {malformed}"
        );
    }
    let (status, _) = stack
        .call(
            Method::GET,
            &sms_path(f.ws(), &f.public_assistant),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "testing saves nothing");
    // An assistant that is not there is a 404, even for an owner.
    let missing = format!(
        "{}/test",
        sms_path(f.ws(), AssistantId::generate().as_str())
    );
    let (status, _) = stack
        .call(
            Method::POST,
            &missing,
            Some(f.key("owner")),
            Some(check(AUTH_TOKEN, NUMBER)),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn twilio_down_during_a_credential_test_is_a_503_with_retry_after() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let sms = shared::http::SmsBackends {
        gateway: std::sync::Arc::new(devtools::emulators::local_twilio("http://127.0.0.1:9")),
        ..stack.backends.sms.clone()
    };
    let backends = shared::http::Backends {
        sms,
        ..stack.backends.clone()
    };
    let api = testkit::Api::new(shared::http::all_routes_router(&backends));
    let path = format!("{}/test", sms_path(f.ws(), &f.public_assistant));
    let body = json!({"twilioAccountSid": ACCOUNT_SID, "twilioAuthToken": AUTH_TOKEN, "phoneNumber": NUMBER});
    let (status, answer) = api
        .call(Method::POST, &path, Some(f.key("owner")), Some(body))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["code"], "unavailable:api");
}

#[tokio::test]
async fn the_key_service_down_is_a_503_and_nothing_is_stored() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let path = sms_path(f.ws(), &f.public_assistant);
    stack.cipher.set_unavailable(true);
    let request = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(&path)
        .header("authorization", format!("Bearer {}", f.key("owner")))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(demo_settings().to_string()))
        .unwrap();
    let response = tower::ServiceExt::oneshot(stack.router(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    stack.cipher.set_unavailable(false);
    let (status, _) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn analytics_take_only_the_three_periods_and_need_a_config() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let base = format!("{}/analytics", sms_path(f.ws(), &f.private_assistant));
    let (status, default) = stack
        .call(Method::GET, &base, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{default}");
    assert_eq!(
        default,
        json!({"data": {"totalMessages": 0, "inbound": 0, "outbound": 0,
                         "uniqueContacts": 0, "activeSessions": 0, "segmentsOut": 0,
                         "overLimit": 0, "period": "30d"}})
    );
    for period in ["7d", "90d"] {
        let (_, body) = stack
            .call(
                Method::GET,
                &format!("{base}?period={period}"),
                Some(f.key("admin")),
                None,
            )
            .await;
        assert_eq!(body["data"]["period"], period);
    }
    for bad in ["14d", "30", ""] {
        let (status, body) = stack
            .call(
                Method::GET,
                &format!("{base}?period={bad}"),
                Some(f.key("owner")),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["details"].get("period").is_some());
    }
    let none = format!("{}/analytics", sms_path(f.ws(), &f.public_assistant));
    let (status, _) = stack
        .call(Method::GET, &none, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// An attacker's own workspace and assistant, from the seed's outsider.
async fn outsiders_assistant(stack: &MemoryStack, f: &testkit::Fixture) -> (String, String) {
    let key = f.key("outsider").to_owned();
    let (_, workspaces) = stack
        .call(Method::GET, "/api/workspaces", Some(&key), None)
        .await;
    let ws = workspaces["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, assistant) = stack
        .call(
            Method::POST,
            &format!("/api/workspaces/{ws}/assistants"),
            Some(&key),
            Some(json!({"name": "Not yours"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{assistant}");
    (ws, assistant["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn made_up_credentials_for_a_businesss_number_claim_nothing_and_its_owner_can_claim_it() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let (ws, squatter) = outsiders_assistant(&stack, &f).await;
    let business_number = testkit::sms::fresh_number_on(&stack.sms.twilio);
    let path = sms_path(&ws, &squatter);
    let made_up = json!({
        "enabled": true, "twilioAccountSid": format!("AC{}", "f".repeat(32)),
        "twilioAuthToken": "made-up", "phoneNumber": business_number,
    });
    let (status, refused) = stack
        .call(Method::PUT, &path, Some(f.key("outsider")), Some(made_up))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["details"]["twilioAuthToken"].is_string(),
        "{refused}"
    );
    assert!(refused["details"]["twilioAccountSid"].is_string());
    assert!(!refused.to_string().contains("made-up"));
    // A real account of their own does not hold the business's number.
    let own_account = format!("AC{}", "e".repeat(32));
    stack
        .sms
        .twilio
        .add_account(&own_account, "their0own0token0for0this0account");
    let (status, refused) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("outsider")),
            Some(json!({
                "enabled": true, "twilioAccountSid": own_account,
                "twilioAuthToken": "their0own0token0for0this0account",
                "phoneNumber": business_number,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["details"]["phoneNumber"],
        "is not one of this Twilio account's numbers"
    );
    let (status, _) = stack
        .call(Method::GET, &path, Some(f.key("outsider")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored");
    // The business claims its own number.
    let (status, claimed) = stack
        .call(
            Method::PUT,
            &sms_path(f.ws(), &f.public_assistant),
            Some(f.key("owner")),
            Some(settings_for(&business_number)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
}

#[tokio::test]
async fn a_number_that_cannot_text_is_refused_naming_the_phone_number() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let landline = testkit::sms::fresh_number();
    stack.sms.twilio.add_number(
        ACCOUNT_SID,
        &landline,
        shared::ports::Capabilities {
            sms: false,
            mms: false,
            voice: true,
        },
    );
    let path = sms_path(f.ws(), &f.public_assistant);
    let (status, refused) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some(settings_for(&landline)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["details"]["phoneNumber"]
            .as_str()
            .unwrap()
            .contains("cannot send or receive SMS")
    );
    let (status, _) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn twilio_down_while_saving_is_a_503_and_nothing_is_stored_or_claimed() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let number = testkit::sms::fresh_number_on(&stack.sms.twilio);
    let path = sms_path(f.ws(), &f.public_assistant);
    stack.sms.twilio.fail_next_lookups([503]);
    let (status, answer) = stack
        .call(
            Method::PUT,
            &path,
            Some(f.key("owner")),
            Some(settings_for(&number)),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let (status, _) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored");
    // Nor claimed: another assistant of the account can take the number.
    let (status, _) = stack
        .call(
            Method::PUT,
            &sms_path(f.ws(), &f.private_assistant),
            Some(f.key("owner")),
            Some(settings_for(&number)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_change_twilio_refuses_leaves_the_stored_configuration_as_it_was() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let path = sms_path(f.ws(), &assistant);
    let (_, before) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    let mut wrong = demo_settings();
    wrong["twilioAuthToken"] = json!("not-the-token");
    wrong["sessionTimeoutMinutes"] = json!(5);
    let (status, _) = stack
        .call(Method::PUT, &path, Some(f.key("owner")), Some(wrong))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, after) = stack
        .call(Method::GET, &path, Some(f.key("owner")), None)
        .await;
    assert_eq!(before, after);
    // The stored token still verifies the webhook.
    let (status, _) = stack
        .sms
        .text(
            &assistant,
            &testkit::sms::message_sid(),
            testkit::sms::TEXTER,
            "hello",
        )
        .await;
    assert_eq!(status, 200);
}
