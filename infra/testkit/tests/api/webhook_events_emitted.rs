//! Events from committed changes, end to end in memory: what people do
//! through the API becomes, once the store's log of changes is read, one
//! event per change with the thing as the API serves it, signed and
//! delivered to a receiver on loopback. A writer that dies before anything
//! is published loses nothing, a change read twice is delivered once, and a
//! write that failed sends nothing.

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use shared::adapters::memory::Fault;
use shared::domain::assistant::AssistantChanges;
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::domain::webhook::signature::WebhookSecret;
use shared::ports::AssistantStore;
use testkit::MemoryStack;
use testkit::api::Fixture;
use testkit::webhooks::{Seen, receiver};
use testkit::widget::{SHOP, WidgetRequest};

/// Each request the receiver got: its event type and body.
fn received(seen: &Seen) -> Vec<(String, Value)> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let body: Value = serde_json::from_str(body).unwrap();
            (body["event"].as_str().unwrap().to_owned(), body)
        })
        .collect()
}

fn of_type<'a>(received: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    received
        .iter()
        .filter(|(event, _)| event == kind)
        .map(|(_, body)| body)
        .collect()
}

/// The request verifies as the Standard Webhooks spec says, with `secret`.
fn verifies(headers: &HeaderMap, body: &str, secret: &WebhookSecret) -> bool {
    let id = headers["webhook-id"].to_str().unwrap();
    let timestamp: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = secret.sign(id, timestamp, body.as_bytes());
    headers["webhook-signature"]
        .to_str()
        .unwrap()
        .split(' ')
        .any(|signature| signature == expected)
}

async fn ask(stack: &MemoryStack, f: &Fixture, question: &str) -> Value {
    let (status, answer) = stack
        .call(
            Method::POST,
            &format!(
                "/api/workspaces/{}/conversations/{}/messages",
                f.ws(),
                f.member_conversation
            ),
            Some(f.key("member")),
            Some(json!({"content": question})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

#[tokio::test]
async fn a_question_and_its_answer_reach_the_webhook_as_signed_message_created_events() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let hooks = stack.hooks();
    hooks.skip_changes();
    let (url, seen) = receiver(&[StatusCode::OK]).await;
    let (_, secret) = hooks.webhook_to(&f, &url, &["message.created"]).await;

    let answer = ask(&stack, &f, "How long do refunds take?").await;
    assert_eq!(
        hooks.publish().await,
        4,
        "the question and the answer, to this webhook and the fixture's"
    );
    hooks.deliver().await;

    let got = received(&seen);
    assert_eq!(got.len(), 2, "{got:?}");
    let (question, reply) = (&got[0].1, &got[1].1);
    assert_eq!(question["data"]["role"], "user");
    assert_eq!(question["data"]["content"], "How long do refunds take?");
    assert_eq!(reply["data"]["role"], "assistant");
    assert_eq!(reply["data"]["id"], answer["assistantMessage"]["id"]);
    assert_eq!(
        reply["data"]["content"],
        answer["assistantMessage"]["content"]
    );
    for (_, body) in &got {
        assert_eq!(body["workspaceId"], f.ws());
        assert_eq!(
            body["data"]["conversationId"],
            f.member_conversation.as_str()
        );
        assert_eq!(body["data"]["assistantId"], f.private_assistant.as_str());
        assert_eq!(body["data"]["channel"], "api");
        assert!(body["id"].as_str().unwrap().starts_with("evt_"));
        assert!(body["timestamp"].is_string());
    }
    for (headers, body) in seen.lock().unwrap().iter() {
        assert!(verifies(headers, body, &secret), "signed with the secret");
        let envelope: Value = serde_json::from_str(body).unwrap();
        assert_eq!(headers["webhook-id"], envelope["id"].as_str().unwrap());
    }
}

#[tokio::test]
async fn each_kind_of_change_is_announced_once_with_the_thing_as_the_api_serves_it() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let hooks = stack.hooks();
    hooks.skip_changes();
    let (url, seen) = receiver(&[StatusCode::OK]).await;
    hooks.webhook_to(&f, &url, &["*"]).await;
    let owner = Some(f.key("owner"));
    let ws = format!("/api/workspaces/{}", f.ws());

    let (status, made) = stack
        .call(
            Method::POST,
            &format!("{ws}/assistants"),
            owner,
            Some(json!({"name": "Hooked", "instructions": "Be brief."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let assistant = made["id"].as_str().unwrap().to_owned();
    stack
        .call(
            Method::PATCH,
            &format!("{ws}/assistants/{assistant}"),
            owner,
            Some(json!({"temperature": 0.2})),
        )
        .await;
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("{ws}/assistants/{assistant}"),
            owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, joined) = stack
        .call(
            Method::POST,
            &format!("{ws}/members"),
            owner,
            Some(json!({"email": "grace@example.com", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    let newcomer = joined["userId"].as_str().unwrap().to_owned();
    stack
        .call(
            Method::DELETE,
            &format!("{ws}/members/{newcomer}"),
            owner,
            None,
        )
        .await;
    let (status, started) = stack
        .call(
            Method::POST,
            &format!("{ws}/conversations"),
            owner,
            Some(json!({"assistantId": f.public_assistant})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    stack.run_ingest().await;
    // A widget visitor rates an answer.
    let ast = f.private_assistant.clone();
    stack.open_widget(&f, &ast, &[SHOP], json!({})).await;
    let (_, token) = stack.widget_session(&ast).await;
    let answered = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "chat")
                .token(&token)
                .body(json!({"content": "How long do refunds take?"})),
        )
        .await;
    let rated = answered.body["assistantMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let feedback = stack
        .widget(
            WidgetRequest::new(Method::POST, &ast, "feedback")
                .token(&token)
                .body(json!({"messageId": rated, "rating": "up"})),
        )
        .await;
    assert_eq!(feedback.status, StatusCode::OK, "{}", feedback.body);
    // And leaves their details, then corrects them.
    for lead in [
        json!({"email": "ada@example.com"}),
        json!({"email": "ada@example.com"}),
        json!({"email": "ada@example.com", "name": "Ada"}),
    ] {
        let left = stack
            .widget(
                WidgetRequest::new(Method::POST, &ast, "lead")
                    .token(&token)
                    .body(lead),
            )
            .await;
        assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    }

    hooks.publish().await;
    hooks.deliver().await;
    let got = received(&seen);
    // Once for each thing that changed (opening the widget also changed
    // the fixture's assistant).
    let once = |kind: &str, id: &str| {
        let found: Vec<&Value> = of_type(&got, kind)
            .into_iter()
            .filter(|e| e["data"]["id"] == id || e["data"]["userId"] == id)
            .collect();
        assert_eq!(found.len(), 1, "{kind}: {got:?}");
        found[0].clone()
    };
    assert_eq!(
        once("assistant.created", &assistant)["data"]["name"],
        "Hooked"
    );
    assert_eq!(
        once("assistant.updated", &assistant)["data"]["temperature"],
        0.2
    );
    assert_eq!(
        once("assistant.deleted", &assistant)["data"]["name"],
        "Hooked"
    );
    assert_eq!(
        once("member.joined", &newcomer)["data"]["email"],
        "grace@example.com"
    );
    assert_eq!(once("member.left", &newcomer)["data"]["role"], "member");
    assert_eq!(
        once("document.completed", &f.document)["data"]["status"],
        "completed"
    );
    assert_eq!(
        once("message.updated", &rated)["data"]["feedback"]["rating"],
        "up"
    );
    let created = of_type(&got, "contact.created");
    assert_eq!(created.len(), 1, "{got:?}");
    assert_eq!(created[0]["data"]["email"], "ada@example.com");
    assert_eq!(created[0]["data"]["channel"], "widget");
    let updated = of_type(&got, "contact.updated");
    assert_eq!(updated.len(), 1, "the same details again change nothing");
    assert_eq!(updated[0]["data"]["name"], "Ada");
    let conversations = of_type(&got, "conversation.created");
    assert_eq!(conversations.len(), 2, "the API's and the widget's");
    assert!(
        conversations
            .iter()
            .any(|c| c["data"]["id"] == started["id"])
    );
    assert!(
        conversations
            .iter()
            .any(|c| c["data"]["channel"] == "widget")
    );
    let messages = of_type(&got, "message.created");
    assert!(
        messages
            .iter()
            .any(|m| m["data"]["channel"] == "widget" && m["data"]["role"] == "user"),
        "{messages:?}"
    );
    for (_, body) in &got {
        assert_eq!(body["workspaceId"], f.ws());
    }
}

#[tokio::test]
async fn a_change_whose_writer_died_is_delivered_when_the_feed_is_read_and_only_once() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let hooks = stack.hooks();
    hooks.skip_changes();
    let (url, seen) = receiver(&[StatusCode::OK]).await;
    hooks.webhook_to(&f, &url, &["assistant.created"]).await;
    // The write commits; the function that made it is gone before it
    // could do anything else. Nothing was sent by it.
    let (status, _) = stack
        .call(
            Method::POST,
            &format!("/api/workspaces/{}/assistants", f.ws()),
            Some(f.key("owner")),
            Some(json!({"name": "Orphan"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(seen.lock().unwrap().is_empty());
    // The feed reads the committed change, later, elsewhere.
    let changes = stack.store.take_changes();
    let feed = stack.hooks();
    for change in &changes {
        feed.feed_publish(change).await;
    }
    // And reads it again (a batch retried after a failure part way).
    for change in &changes {
        feed.feed_publish(change).await;
    }
    hooks.deliver().await;
    assert_eq!(received(&seen).len(), 1, "delivered, once");
}

#[tokio::test]
async fn a_write_that_failed_announces_nothing() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let hooks = stack.hooks();
    hooks.skip_changes();
    let (url, seen) = receiver(&[StatusCode::OK]).await;
    hooks.webhook_to(&f, &url, &["*"]).await;
    let ws = WorkspaceId::parse(f.ws()).unwrap();
    let assistant = AssistantId::parse(&f.private_assistant).unwrap();
    let renamed = AssistantChanges {
        name: Some("Never".into()),
        ..AssistantChanges::default()
    };
    stack.store.faults().fail_next(1, Fault::Unavailable);
    assert!(
        stack
            .store
            .update_assistant(&ws, &assistant, &renamed)
            .await
            .is_err()
    );
    let (status, _) = stack
        .call(
            Method::PATCH,
            &format!(
                "/api/workspaces/{}/assistants/ast_nosuchassistant00001",
                f.ws()
            ),
            Some(f.key("owner")),
            Some(json!({"name": "Nobody"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(hooks.publish().await, 0);
    hooks.deliver().await;
    assert!(seen.lock().unwrap().is_empty());
    let unchanged = stack
        .store
        .get_assistant(&ws, &assistant)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(unchanged.name, "Never");
}

#[tokio::test]
async fn an_sms_texter_is_a_contact_created_by_their_first_text_and_updated_by_stop() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    let hooks = stack.hooks();
    hooks.skip_changes();
    let (url, seen) = receiver(&[StatusCode::OK]).await;
    hooks
        .webhook_to(&f, &url, &["contact.created", "contact.updated"])
        .await;
    let texter = testkit::sms::fresh_number();
    for body in ["Do you ship to the islands?", "And on Sundays?", "STOP"] {
        let (status, _) = stack
            .sms
            .text(&assistant, &testkit::sms::message_sid(), &texter, body)
            .await;
        assert_eq!(status, 200);
    }
    hooks.publish().await;
    hooks.deliver().await;
    let got = received(&seen);
    let created = of_type(&got, "contact.created");
    assert_eq!(created.len(), 1, "{got:?}");
    assert_eq!(created[0]["data"]["phone"], texter.as_str());
    assert_eq!(created[0]["data"]["channel"], "sms");
    assert_eq!(created[0]["data"]["optedOut"], false);
    assert_eq!(created[0]["data"]["assistantId"], assistant.as_str());
    let updated = of_type(&got, "contact.updated");
    assert_eq!(
        updated.len(),
        1,
        "a second text changes nothing a contact shows"
    );
    assert_eq!(updated[0]["data"]["optedOut"], true);
}
