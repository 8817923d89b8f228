//! The SMS channel on the local AWS server: the Auth Token sealed by KMS
//! under its context and nowhere in the table, the webhook queueing on SQS,
//! the worker answering from an indexed project through the Twilio
//! emulator.

use axum::http::{Method, StatusCode};
use secrecy::ExposeSecret;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::app::sms_webhook::SmsWebhook;
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::domain::sms::signature;
use shared::http::{WebhookState, sms_webhook_router};
use shared::ports::{SecretCipher, SecretContext};
use std::sync::Arc;
use testkit::TestStack;
use testkit::sms::{AUTH_TOKEN, TEXTER, inbound_params, message_sid};

#[tokio::test]
async fn kms_opens_a_sealed_token_only_under_the_context_it_was_sealed_with() {
    let stack = TestStack::start().await;
    let ws = WorkspaceId::generate();
    let (one, two) = (AssistantId::generate(), AssistantId::generate());
    let own = SecretContext::twilio_auth_token(&ws, &one);
    let sealed = stack
        .local
        .cipher
        .seal(&AUTH_TOKEN.to_owned().into(), &own)
        .await
        .unwrap();
    let opened = stack.local.cipher.open(&sealed, &own).await.unwrap();
    assert_eq!(opened.expose_secret(), AUTH_TOKEN);
    let copied = SecretContext::twilio_auth_token(&ws, &two);
    assert!(stack.local.cipher.open(&sealed, &copied).await.is_err());
    let again = stack
        .local
        .cipher
        .seal(&AUTH_TOKEN.to_owned().into(), &own)
        .await
        .unwrap();
    assert_ne!(again, sealed, "every seal is a new ciphertext");
}

#[tokio::test]
async fn a_text_is_answered_from_the_project_and_the_token_is_in_no_stored_item() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    stack.set_up_sms(&f, &f.private_assistant).await;

    let queue = Arc::new(shared::adapters::sqs::SqsQueue::new(
        stack.local.sqs.clone(),
        &stack.local.reply_queue_url,
    ));
    let webhook = SmsWebhook::new(stack.local.store.clone(), stack.local.cipher.clone(), queue)
        .with_burst_window(std::time::Duration::ZERO);
    let router = sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: Some("https://hooks.example.com".into()),
    });
    let path = format!("/api/sms/webhook/{}", f.private_assistant);
    let params = inbound_params(&message_sid(), TEXTER, "How long do refunds take?");
    let signed = signature::sign(
        &AUTH_TOKEN.to_owned().into(),
        &format!("https://hooks.example.com{path}"),
        &params,
    );
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signed)
        .body(axum::body::Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter())
                .finish(),
        ))
        .unwrap();
    let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let received = stack
        .local
        .sqs
        .receive_message()
        .queue_url(&stack.local.reply_queue_url)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let messages = received.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let body = messages[0].body().unwrap();
    assert!(!body.contains(TEXTER), "the queue carries ids only: {body}");
    let worker = ReplyWorker {
        store: stack.local.store.clone(),
        search: stack.retriever.clone(),
        chat: Arc::new(devtools::emulators::local_chat(&stack.emulator_base)),
        gateway: Arc::new(devtools::emulators::local_twilio(&stack.emulator_base)),
        cipher: stack.local.cipher.clone(),
        public_base_url: "https://hooks.example.com".into(),
        retry: SendRetry::default(),
        burst_window: std::time::Duration::ZERO,
        clock: Arc::new(shared::ports::SystemClock),
    };
    let outcome = worker
        .handle_message(messages[0].message_id().unwrap(), body)
        .await;
    assert_eq!(outcome, shared::jobs::MessageOutcome::Done);
    let sent = stack.twilio.messages();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].body.contains("Refunds take five business days"),
        "{:?}",
        sent[0].body
    );

    // Nothing in the table holds the token in plaintext.
    let dynamo = aws_sdk_dynamodb::Client::new(&stack.local.aws);
    let scanned = dynamo
        .scan()
        .table_name(&stack.local.table)
        .send()
        .await
        .unwrap();
    let items = format!("{:?}", scanned.items.unwrap_or_default());
    assert!(items.contains("sealedAuthToken"));
    assert!(!items.contains(AUTH_TOKEN));
}
