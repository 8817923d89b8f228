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
