//! The conversations API: starting one (with the assistant's welcome
//! message), listing and reading them, titles, deletion and the cascade
//! when the assistant goes, and SMS sessions read as conversations.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::ConversationId;
use shared::ports::ConversationStore;
use testkit::sms::{TEXTER, message_sid};
use testkit::{Fixture, MemoryStack};

fn conversations(f: &Fixture) -> String {
    format!("/api/workspaces/{}/conversations", f.ws())
}

fn conversation(f: &Fixture, id: &str) -> String {
    format!("{}/{id}", conversations(f))
}

fn messages(f: &Fixture, id: &str) -> String {
    format!("{}/messages", conversation(f, id))
}

async fn start(stack: &MemoryStack, f: &Fixture, role: &str, body: Value) -> Value {
    let (status, created) = stack
        .call(
            Method::POST,
            &conversations(f),
            Some(f.key(role)),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn ask(stack: &MemoryStack, f: &Fixture, role: &str, id: &str, content: &str) -> Value {
    let (status, answered) = stack
        .call(
            Method::POST,
            &messages(f, id),
            Some(f.key(role)),
            Some(json!({ "content": content })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answered}");
    answered
}

#[tokio::test]
async fn a_conversation_opens_with_the_assistants_welcome_message() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let (status, _) = stack
        .call(
            Method::PATCH,
            &format!(
                "/api/workspaces/{}/assistants/{}",
                f.ws(),
                f.public_assistant
            ),
            Some(f.key("owner")),
            Some(json!({"welcomeMessage": "Hi! Ask me about refunds."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let created = start(
        &stack,
        &f,
        "member",
        json!({"assistantId": f.public_assistant}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("conv_"), "{created}");
    assert_eq!(created["assistantId"], f.public_assistant.as_str());
    assert_eq!(created["channel"], "api");
    assert_eq!(created["title"], Value::Null);
    assert_eq!(created["messageCount"], 1);
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["updatedAt"], created["createdAt"]);
    assert!(created.get("contact").is_none(), "{created}");
    let (status, page) = stack
        .call(Method::GET, &messages(&f, id), Some(f.key("member")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 1);
    let welcome = &page["data"][0];
    assert!(welcome["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(welcome["role"], "assistant");
    assert_eq!(welcome["content"], "Hi! Ask me about refunds.");
    assert_eq!(welcome["status"], "completed");
    assert!(
        welcome.get("usage").is_none(),
        "no model wrote it: {welcome}"
    );
    // The model sees it as what the assistant said first.
    ask(&stack, &f, "member", id, "How long do refunds take?").await;
    let prompt = stack.sms.chat.requests().pop().unwrap();
    assert_eq!(prompt["messages"][1]["role"], "assistant");
    assert_eq!(
        prompt["messages"][1]["content"],
        "Hi! Ask me about refunds."
    );
}

#[tokio::test]
async fn each_member_lists_only_their_own_conversations_newest_first() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let later = start(
        &stack,
        &f,
        "member",
        json!({"assistantId": f.public_assistant, "title": "  Refund questions "}),
    )
    .await;
    assert_eq!(later["title"], "Refund questions");
    let (status, mine) = stack
        .call(Method::GET, &conversations(&f), Some(f.key("member")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            later["id"].as_str().unwrap(),
            f.member_conversation.as_str()
        ],
        "newest first, and never the owner's"
    );
    assert_eq!(mine["total"], 2);
    let (_, filtered) = stack
        .call(
            Method::GET,
            &format!("{}?assistantId={}", conversations(&f), f.private_assistant),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["data"][0]["id"], f.member_conversation.as_str());
    let (_, paged) = stack
        .call(
            Method::GET,
            &format!("{}?limit=1&offset=1", conversations(&f)),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(paged["data"][0]["id"], f.member_conversation.as_str());
    assert_eq!(
        (paged["total"].as_u64(), paged["limit"].as_u64()),
        (Some(2), Some(1))
    );
    // The owner reads the member's conversation but does not list it.
    let (_, owners) = stack
        .call(Method::GET, &conversations(&f), Some(f.key("owner")), None)
        .await;
    assert_eq!(owners["total"], 1);
    let (status, _) = stack
        .call(
            Method::GET,
            &conversation(&f, &f.member_conversation),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_first_question_titles_the_conversation_unless_it_has_a_title() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let question =
        "Where can I find the warranty terms for the espresso machine I bought last spring?";
    ask(&stack, &f, "member", &f.member_conversation, question).await;
    ask(
        &stack,
        &f,
        "member",
        &f.member_conversation,
        "And for the grinder?",
    )
    .await;
    let (_, read) = stack
        .call(
            Method::GET,
            &conversation(&f, &f.member_conversation),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(
        read["title"],
        "Where can I find the warranty terms for the espresso machine"
    );
    assert_eq!(read["messageCount"], 4);
    let titled = start(
        &stack,
        &f,
        "member",
        json!({"assistantId": f.public_assistant, "title": "Mine"}),
    )
    .await;
    let id = titled["id"].as_str().unwrap();
    ask(&stack, &f, "member", id, question).await;
    let (_, read) = stack
        .call(
            Method::GET,
            &conversation(&f, id),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(read["title"], "Mine");
}

#[tokio::test]
async fn bad_requests_name_the_problem_and_store_nothing() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let before = stack.snapshot(&f).await;
    for (body, field) in [
        (json!({}), "assistantId"),
        (json!({"assistantId": 7}), "assistantId"),
        (
            json!({"assistantId": f.public_assistant, "title": ""}),
            "title",
        ),
        (
            json!({"assistantId": f.public_assistant, "title": "x".repeat(201)}),
            "title",
        ),
        (
            json!({"assistantId": f.public_assistant, "channel": "sms"}),
            "channel",
        ),
        (
            json!({"assistantId": f.public_assistant, "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, error) = stack
            .call(
                Method::POST,
                &conversations(&f),
                Some(f.key("member")),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert!(error["details"][field].is_string(), "{field}: {error}");
    }
    let (status, error) = stack
        .call(
            Method::POST,
            &conversations(&f),
            Some(f.key("member")),
            Some(json!({"assistantId": "ast_nothing"})),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found:api"))
    );
    for body in [
        json!({}),
        json!({"content": "   "}),
        json!({"content": ["a"]}),
        json!({"content": "x".repeat(16_001)}),
        json!({"content": "hi", "role": "assistant"}),
    ] {
        let (status, error) = stack
            .call(
                Method::POST,
                &messages(&f, &f.member_conversation),
                Some(f.key("member")),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert!(error["details"].is_object(), "{error}");
    }
    let (status, error) = stack
        .call_raw(
            Method::POST,
            &messages(&f, &f.member_conversation),
            Some(f.key("member")),
            Some("{\"content\": ".into()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(messages(&f, &f.member_conversation))
        .header("authorization", format!("Bearer {}", f.key("member")))
        .header("content-type", "application/json")
        .header("accept", "text/html")
        .body(axum::body::Body::from(json!({"content": "hi"}).to_string()))
        .unwrap();
    let (status, error) = stack.send(request).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{error}");
    assert_eq!(error["code"], "not_acceptable:api");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("text/event-stream")
    );
    assert_eq!(stack.snapshot(&f).await, before, "nothing was stored");
    assert!(
        stack.sms.chat.requests().is_empty(),
        "the model was never asked"
    );
}

#[tokio::test]
async fn a_deleted_conversation_is_gone_at_once_and_its_messages_after_the_cleanup() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    ask(
        &stack,
        &f,
        "member",
        &f.member_conversation,
        "How long do refunds take?",
    )
    .await;
    let (status, _) = stack
        .call(
            Method::DELETE,
            &conversation(&f, &f.member_conversation),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for path in [
        conversation(&f, &f.member_conversation),
        messages(&f, &f.member_conversation),
    ] {
        let (status, _) = stack
            .call(Method::GET, &path, Some(f.key("owner")), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, mine) = stack
        .call(Method::GET, &conversations(&f), Some(f.key("member")), None)
        .await;
    assert_eq!(mine["total"], 0);
    let id = ConversationId::parse(&f.member_conversation).unwrap();
    assert_eq!(stack.store.messages(&id, 0, 10).await.unwrap().len(), 2);
    assert_eq!(stack.run_cleanup().await, 1);
    assert!(stack.store.messages(&id, 0, 10).await.unwrap().is_empty());
    let (status, _) = stack
        .call(
            Method::DELETE,
            &conversation(&f, &f.member_conversation),
            Some(f.key("member")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_assistants_conversations_include_its_sms_sessions_with_their_texter() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
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
    let path = format!(
        "/api/workspaces/{}/assistants/{assistant}/conversations",
        f.ws()
    );
    let (status, page) = stack
        .call(Method::GET, &path, Some(f.key("admin")), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page["total"], 3,
        "two API conversations and the texter's: {page}"
    );
    let sms = &page["data"][0];
    assert_eq!(sms["channel"], "sms", "newest first: {page}");
    assert_eq!(sms["contact"], TEXTER);
    assert_eq!(sms["title"], "How long do refunds take?");
    assert_eq!(sms["messageCount"], 2);
    assert_eq!(page["data"][1]["channel"], "api");
    let id = sms["id"].as_str().unwrap();
    let (status, read) = stack
        .call(Method::GET, &messages(&f, id), Some(f.key("owner")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let roles: Vec<&str> = read["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["user", "assistant"]);
    assert!(
        read["data"][1]["content"]
            .as_str()
            .unwrap()
            .contains("five business days")
    );
    // Only its creator may post, and an SMS session has none.
    let (status, error) = stack
        .call(
            Method::POST,
            &messages(&f, id),
            Some(f.key("owner")),
            Some(json!({"content": "hello"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    // An admin deleting the session closes it: the texter's next text
    // starts a new conversation.
    let (status, _) = stack
        .call(
            Method::DELETE,
            &conversation(&f, id),
            Some(f.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, "Still there?")
        .await;
    let (_, page) = stack
        .call(Method::GET, &path, Some(f.key("admin")), None)
        .await;
    assert_eq!(page["total"], 3);
    assert_ne!(page["data"][0]["id"], id);
    assert_eq!(page["data"][0]["messageCount"], 1);
}

#[tokio::test]
async fn deleting_an_assistant_hides_its_conversations_at_once_and_the_cascade_removes_them() {
    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(
            &assistant,
            &message_sid(),
            TEXTER,
            "How long do refunds take?",
        )
        .await;
    ask(
        &stack,
        &f,
        "member",
        &f.member_conversation,
        "How long do refunds take?",
    )
    .await;
    let (_, listed) = stack
        .call(
            Method::GET,
            &format!(
                "/api/workspaces/{}/assistants/{assistant}/conversations",
                f.ws()
            ),
            Some(f.key("owner")),
            None,
        )
        .await;
    let ids: Vec<String> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/api/workspaces/{}/assistants/{assistant}", f.ws()),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for id in &ids {
        for role in ["owner", "member"] {
            let (status, _) = stack
                .call(Method::GET, &messages(&f, id), Some(f.key(role)), None)
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{id} as {role}");
        }
    }
    let (_, mine) = stack
        .call(Method::GET, &conversations(&f), Some(f.key("member")), None)
        .await;
    assert_eq!(mine["total"], 0, "{mine}");
    stack.run_cleanup().await;
    for id in &ids {
        let id = ConversationId::parse(id).unwrap();
        assert!(stack.store.messages(&id, 0, 10).await.unwrap().is_empty());
        assert_eq!(
            stack
                .store
                .get_conversation(&f.seed.workspace_id, &id)
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn history_carries_the_earlier_turns_and_leaves_a_failed_answer_out() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let first = ask(
        &stack,
        &f,
        "member",
        &f.member_conversation,
        "How long do refunds take?",
    )
    .await;
    let first_answer = first["assistantMessage"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    stack.sms.chat.cut_off_after([1]);
    let (status, events) = stack
        .ask_streaming(
            &messages(&f, &f.member_conversation),
            f.key("member"),
            "Do refunds take long?",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.last().unwrap().0, "error", "{events:?}");
    let partial: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert!(!partial.is_empty());
    ask(
        &stack,
        &f,
        "member",
        &f.member_conversation,
        "Thanks, and exchanges?",
    )
    .await;
    let prompt = stack.sms.chat.requests().pop().unwrap();
    let turns: Vec<(&str, &str)> = prompt["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        turns[1..].to_vec(),
        vec![
            ("user", "How long do refunds take?"),
            ("assistant", first_answer.as_str()),
            ("user", "Do refunds take long?"),
            ("user", "Thanks, and exchanges?"),
        ],
        "the failed answer is not history"
    );
}
