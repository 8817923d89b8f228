//! `POST /api/sms/webhook/{id}` and `/api/sms/status/{id}`: only Twilio,
//! signing with the assistant's own token, gets anything recorded; each
//! `MessageSid` is recorded once; keywords are honoured.

use axum::http::Method;
use shared::domain::ids::AssistantId;
use shared::domain::sms::{MessageSid, signature};
use shared::ports::SmsStore;
use testkit::MemoryStack;
use testkit::sms::{AUTH_TOKEN, TEXTER, inbound_params, message_sid};

fn id(raw: &str) -> AssistantId {
    AssistantId::parse(raw).unwrap()
}

#[tokio::test]
async fn a_signed_text_is_recorded_queued_and_answered_with_empty_twiml_at_once() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let sid = message_sid();
    let (status, body) = stack
        .sms
        .text(&assistant, &sid, TEXTER, "How long do refunds take?")
        .await;
    assert_eq!((status, body.as_str()), (200, "<Response></Response>"));
    let jobs = stack.replies.sent();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].message_sid.as_str(), sid);
    let recorded = stack
        .store
        .inbound(&id(&assistant), &MessageSid::parse(&sid).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(recorded.conversation_id.is_some());
    assert!(
        stack.sms.twilio.messages().is_empty(),
        "nothing is sent before the worker runs"
    );
}

#[tokio::test]
async fn every_bad_signature_is_refused_and_nothing_is_stored_or_sent() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let before = stack.snapshot(&f).await;
    let path = format!("/api/sms/webhook/{assistant}");
    let sid = message_sid();
    let params = inbound_params(&sid, TEXTER, "hello");
    let url = format!("{}{path}", stack.sms.webhook_url);
    let good = signature::sign(&AUTH_TOKEN.to_owned().into(), &url, &params);
    let mut tampered = params.clone();
    tampered.iter_mut().find(|(k, _)| k == "Body").unwrap().1 = "hello!".into();
    let mut added = params.clone();
    added.push(("Injected".into(), "1".into()));
    let mut dropped_blank = params.clone();
    dropped_blank.retain(|(_, v)| !v.is_empty());
    let other_url = signature::sign(
        &AUTH_TOKEN.to_owned().into(),
        &format!("{}/api/sms/webhook/ast_other", stack.sms.webhook_url),
        &params,
    );
    let other_token = signature::sign(&"another-token".to_owned().into(), &url, &params);
    type Params = Vec<(String, String)>;
    let cases: Vec<(&str, Params, Option<String>)> = vec![
        ("no signature", params.clone(), None),
        ("empty signature", params.clone(), Some(String::new())),
        ("garbage", params.clone(), Some("not-a-signature".into())),
        ("another token", params.clone(), Some(other_token)),
        ("another URL", params.clone(), Some(other_url)),
        ("a changed body", tampered, Some(good.clone())),
        ("an added parameter", added, Some(good.clone())),
        ("blank values dropped", dropped_blank, Some(good.clone())),
    ];
    for (case, params, signature) in cases {
        let (status, _) = stack.sms.post(&path, &params, signature.as_deref()).await;
        assert_eq!(status, 403, "{case}");
    }
    // A shared-key signature cannot be verified with the token.
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let response = devtools::http_client()
        .post(&url)
        .header("X-Twilio-Signature", &good)
        .header(
            "X-Twilio-Webhooks-Signature-Settings",
            "key=KS123,algorithm=HMAC_SHA256",
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert!(stack.replies.sent().is_empty());
    assert!(
        stack
            .store
            .inbound(&id(&assistant), &MessageSid::parse(&sid).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stack.snapshot(&f).await, before);
    // The same request, signed right, goes through.
    let (status, _) = stack.sms.post(&path, &params, Some(&good)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_unconfigured_and_deleted_assistants_are_not_found() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let sid = message_sid();
    for target in [
        "ast_malformed",
        AssistantId::generate().as_str(),
        &f.spare_project,
    ] {
        let (status, _) = stack.sms.text(target, &sid, TEXTER, "hi").await;
        assert_eq!(status, 404, "{target}");
    }
    stack
        .call(
            Method::DELETE,
            &format!("/api/workspaces/{}/assistants/{assistant}", f.ws()),
            Some(f.key("owner")),
            None,
        )
        .await;
    let (status, _) = stack.sms.text(&assistant, &sid, TEXTER, "hi").await;
    assert_eq!(status, 404, "deleted at once");
    let (status, _) = stack
        .sms
        .post_signed(
            &format!("/api/sms/status/{assistant}"),
            &[
                ("MessageSid".into(), sid.clone()),
                ("MessageStatus".into(), "sent".into()),
            ],
            AUTH_TOKEN,
        )
        .await;
    assert_eq!(status, 404);
    assert!(stack.replies.sent().is_empty());
}

#[tokio::test]
async fn a_body_over_64_kb_is_refused_with_413() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let huge = format!("Body={}", "a".repeat(65 * 1024)).into_bytes();
    let (status, _) = stack
        .sms
        .post_body(&format!("/api/sms/webhook/{assistant}"), huge, Some("x"))
        .await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_disabled_config_answers_empty_twiml_and_records_nothing() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let mut settings = testkit::sms::demo_settings();
    settings["enabled"] = serde_json::json!(false);
    stack
        .call(
            Method::PUT,
            &format!("/api/workspaces/{}/assistants/{assistant}/sms", f.ws()),
            Some(f.key("owner")),
            Some(settings),
        )
        .await;
    let sid = message_sid();
    let (status, body) = stack.sms.text(&assistant, &sid, TEXTER, "hello?").await;
    assert_eq!((status, body.as_str()), (200, "<Response></Response>"));
    assert!(stack.replies.sent().is_empty());
    assert!(
        stack
            .store
            .inbound(&id(&assistant), &MessageSid::parse(&sid).unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_repeated_delivery_sequential_or_concurrent_gets_one_reply() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let sid = message_sid();
    let (status, _) = stack
        .sms
        .text(&assistant, &sid, TEXTER, "How long do refunds take?")
        .await;
    assert_eq!(status, 200);
    let concurrent = (0..10).map(|_| {
        let sms = stack.sms.clone();
        let (assistant, sid) = (assistant.clone(), sid.clone());
        tokio::spawn(async move {
            sms.text(&assistant, &sid, TEXTER, "How long do refunds take?")
                .await
        })
    });
    for attempt in concurrent.collect::<Vec<_>>() {
        assert_eq!(attempt.await.unwrap().0, 200, "a duplicate is acknowledged");
    }
    // Duplicates that arrive before the reply exists queue it again (a
    // first enqueue may have failed); the worker answers once.
    let outcomes = stack.run_replies().await;
    assert!(!outcomes.is_empty());
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    let (status, _) = stack
        .sms
        .text(&assistant, &sid, TEXTER, "How long do refunds take?")
        .await;
    assert_eq!(status, 200);
    assert!(
        stack.replies.sent().is_empty(),
        "once answered, a duplicate queues nothing"
    );
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn stop_start_and_help_are_honoured_and_never_answered_or_sent_to_the_model() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    for keyword in ["STOP", " help ", "Info"] {
        let (status, body) = stack
            .sms
            .text(&assistant, &message_sid(), TEXTER, keyword)
            .await;
        assert_eq!((status, body.as_str()), (200, "<Response></Response>"));
    }
    assert!(stack.replies.sent().is_empty(), "keywords queue no reply");
    // Opted out: a question is recorded, but nothing is sent.
    stack
        .sms
        .text(
            &assistant,
            &message_sid(),
            TEXTER,
            "How long do refunds take?",
        )
        .await;
    stack.run_replies().await;
    assert!(stack.sms.sent_to(TEXTER).is_empty());
    // START opts back in.
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, "start")
        .await;
    stack
        .sms
        .text(
            &assistant,
            &message_sid(),
            TEXTER,
            "How long do refunds take?",
        )
        .await;
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    for request in stack.sms.chat.requests() {
        let text = request.to_string();
        for keyword in ["\"STOP\"", "help", "Info", "\"start\""] {
            assert!(
                !text.contains(keyword),
                "{keyword} reached the model: {text}"
            );
        }
    }
}

#[tokio::test]
async fn the_status_callback_records_delivery_as_twilio_reports_it() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(
            &assistant,
            &message_sid(),
            TEXTER,
            "How long do refunds take?",
        )
        .await;
    stack.run_replies().await;
    let sent = stack.sms.twilio.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].status_callback.as_deref(),
        Some(format!("{}/api/sms/status/{assistant}", stack.sms.webhook_url).as_str())
    );
    // The emulator posts `sent`, then `delivered`, signed with the token.
    let mut status = None;
    for _ in 0..50 {
        status = stack.store.delivery_status(&id(&assistant), &sent[0].sid);
        if status.as_deref() == Some("delivered") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status.as_deref(), Some("delivered"));
    // A late `sent` does not move it back; an unsigned callback is refused.
    let late = [
        ("MessageSid".to_owned(), sent[0].sid.clone()),
        ("MessageStatus".to_owned(), "sent".to_owned()),
    ];
    let path = format!("/api/sms/status/{assistant}");
    assert_eq!(stack.sms.post_signed(&path, &late, AUTH_TOKEN).await.0, 200);
    assert_eq!(stack.sms.post(&path, &late, None).await.0, 403);
    assert_eq!(
        stack
            .store
            .delivery_status(&id(&assistant), &sent[0].sid)
            .as_deref(),
        Some("delivered")
    );
}

#[tokio::test]
async fn the_token_is_opened_once_per_container_and_a_new_token_applies_at_once() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let opened = stack.cipher.opened();
    for _ in 0..5 {
        stack
            .sms
            .text(&assistant, &message_sid(), TEXTER, "hello")
            .await;
    }
    assert_eq!(
        stack.cipher.opened() - opened,
        1,
        "cached after the first text"
    );
    // The customer rotates the token in Twilio, then here.
    testkit::logs::forbid("the rotated Twilio token", ROTATED);
    stack
        .sms
        .twilio
        .add_account(testkit::sms::ACCOUNT_SID, ROTATED);
    let mut settings = testkit::sms::demo_settings();
    settings["twilioAuthToken"] = serde_json::json!(ROTATED);
    let (status, _) = stack
        .call(
            Method::PUT,
            &format!("/api/workspaces/{}/assistants/{assistant}/sms", f.ws()),
            Some(f.key("owner")),
            Some(settings),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, "hello")
        .await;
    assert_eq!(status, 403, "the old token no longer verifies");
    let (status, _) = stack
        .sms
        .post_signed(
            &format!("/api/sms/webhook/{assistant}"),
            &inbound_params(&message_sid(), TEXTER, "hello"),
            ROTATED,
        )
        .await;
    assert_eq!(status, 200);
}

const ROTATED: &str = "a0rotated0token0for0the0emulator";

/// The key service as slow as a real one: opening takes a while, so
/// requests arriving together overlap.
struct SlowCipher(std::sync::Arc<shared::adapters::memory::MemoryCipher>);

#[async_trait::async_trait]
impl shared::ports::SecretCipher for SlowCipher {
    async fn seal(
        &self,
        plaintext: &secrecy::SecretString,
        context: &shared::ports::SecretContext,
    ) -> Result<Vec<u8>, shared::ports::CipherError> {
        self.0.seal(plaintext, context).await
    }

    async fn open(
        &self,
        sealed: &[u8],
        context: &shared::ports::SecretContext,
    ) -> Result<secrecy::SecretString, shared::ports::CipherError> {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.0.open(sealed, context).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_on_a_cold_container_opens_the_token_once_and_unsigned_requests_never() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    // A container of its own: nothing opened yet.
    let webhook = std::sync::Arc::new(shared::app::sms_webhook::SmsWebhook::new(
        stack.store.clone(),
        std::sync::Arc::new(SlowCipher(stack.cipher.clone())),
        stack.replies.clone(),
    ));
    let request = |signature: Option<&str>| shared::app::sms_webhook::SignedRequest {
        urls: vec![format!(
            "https://hooks.example.com/api/sms/webhook/{assistant}"
        )],
        params: inbound_params(&message_sid(), TEXTER, "hello"),
        signature: signature.map(str::to_owned),
        shared_key_signature: false,
    };
    let opened = stack.cipher.opened();
    let unsigned: Vec<_> = (0..50)
        .map(|_| {
            let (webhook, assistant, request) = (webhook.clone(), assistant.clone(), request(None));
            tokio::spawn(async move { webhook.inbound(&assistant, &request).await.is_err() })
        })
        .collect();
    for refused in unsigned {
        assert!(refused.await.unwrap());
    }
    assert_eq!(stack.cipher.opened(), opened, "unsigned: no key opened");
    let forged: Vec<_> = (0..50)
        .map(|_| {
            let (webhook, assistant) = (webhook.clone(), assistant.clone());
            let request = request(Some("bm90IGEgc2lnbmF0dXJl"));
            tokio::spawn(async move { webhook.inbound(&assistant, &request).await.is_err() })
        })
        .collect();
    for refused in forged {
        assert!(refused.await.unwrap());
    }
    assert_eq!(
        stack.cipher.opened() - opened,
        1,
        "fifty forged signatures, one opening"
    );
}
