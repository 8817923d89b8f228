//! A person's data after each way of deleting it, on both harnesses: the
//! raw store (every item of the DynamoDB table, every record of the memory
//! store with people shown whole) is read after the delete and its cleanup,
//! and must hold no number, email, body, answer or page of that person,
//! while a bystander's stay (so the read is seen to find what it looks for).

use crate::api::{Api, Fixture};
use crate::sms::SmsRig;
use crate::widget::{SHOP, WidgetRequest};
use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::adapters::memory::MemoryQueue;
use shared::jobs::{MessageOutcome, ReplyJob};
use std::time::Duration;

/// What the scenarios need of a harness.
#[async_trait]
pub trait Harness: Send + Sync {
    fn api(&self) -> &Api;
    /// The webhook and worker, and the queue their reply jobs wait on.
    fn sms(&self) -> (&SmsRig, &MemoryQueue<ReplyJob>);
    async fn fixture(&self) -> Fixture;
    /// Runs every cleanup job queued so far.
    async fn run_cleanup(&self);
    /// Everything the store holds, as text.
    async fn raw(&self) -> String;
}

/// Two texters of one assistant, and what each sent and was sent.
struct Texting<'a, H: Harness + ?Sized> {
    harness: &'a H,
    fixture: Fixture,
    assistant: String,
}

impl<'a, H: Harness + ?Sized> Texting<'a, H> {
    async fn start(harness: &'a H) -> Self {
        let fixture = harness.fixture().await;
        let assistant = fixture.private_assistant.clone();
        let texting = Self {
            harness,
            fixture,
            assistant,
        };
        texting.configure().await;
        texting
    }

    fn sms_path(&self) -> String {
        format!(
            "/api/workspaces/{}/assistants/{}/sms",
            self.fixture.ws(),
            self.assistant
        )
    }

    async fn owner_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.harness
            .api()
            .call(method, path, Some(self.fixture.key("owner")), body)
            .await
    }

    async fn configure(&self) {
        self.harness
            .api()
            .set_up_sms(&self.fixture, &self.assistant)
            .await;
    }

    /// A text from `from`, which the model answers `answer` if it is
    /// asked (a keyword, or a text of a texter who opted out, is never
    /// answered: then `None`, so no scripted answer waits for the next).
    async fn text(&self, from: &str, body: &str, answer: Option<&str>) {
        let (rig, replies) = self.harness.sms();
        if let Some(answer) = answer {
            rig.chat.answer_next([answer.to_owned()]);
        }
        let sid = crate::sms::message_sid();
        let (status, twiml) = rig.text(&self.assistant, &sid, from, body).await;
        assert_eq!(status, 200, "{twiml}");
        for outcome in rig.run(replies.take()).await {
            assert_eq!(outcome, MessageOutcome::Done);
        }
    }

    /// The conversations the assistant lists for `phone`.
    async fn conversations_of(&self, phone: &str) -> Vec<String> {
        let (status, page) = self
            .owner_call(
                Method::GET,
                &format!(
                    "/api/workspaces/{}/assistants/{}/conversations?limit=100",
                    self.fixture.ws(),
                    self.assistant
                ),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["contact"] == phone)
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    }

    fn sent_to(&self, phone: &str) -> Vec<String> {
        self.harness.sms().0.sent_to(phone)
    }
}

fn assert_holds(raw: &str, what: &str, values: &[&str]) {
    for value in values {
        assert!(raw.contains(value), "the store should hold {what} {value}");
    }
}

fn assert_forgot(raw: &str, what: &str, values: &[&str]) {
    for value in values {
        assert!(!raw.contains(value), "the store still holds {what} {value}");
    }
}

const A: &str = "+15550104401";
const B: &str = "+15550104402";

pub async fn deleting_an_sms_conversation_erases_its_texts_replies_and_number<
    H: Harness + ?Sized,
>(
    harness: &H,
) {
    let t = Texting::start(harness).await;
    t.text(
        A,
        "Where is parcel ALPHA-7Q1?",
        Some("Parcel answer ANS-A-1."),
    )
    .await;
    t.text(
        B,
        "Do you ship to BRAVO-LX2?",
        Some("Shipping answer ANS-B-1."),
    )
    .await;
    assert_eq!(t.sent_to(A), ["Parcel answer ANS-A-1."]);
    let before = harness.raw().await;
    assert_holds(&before, "", &[A, "ALPHA-7Q1", "ANS-A-1", B, "BRAVO-LX2"]);

    let listed = t.conversations_of(A).await;
    let [conversation] = &listed[..] else {
        panic!("one conversation for A: {listed:?}");
    };
    let (status, body) = t
        .owner_call(
            Method::DELETE,
            &format!(
                "/api/workspaces/{}/conversations/{conversation}",
                t.fixture.ws()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    harness.run_cleanup().await;

    let after = harness.raw().await;
    assert_forgot(
        &after,
        "the deleted conversation's",
        &[A, "ALPHA-7Q1", "ANS-A-1"],
    );
    assert_holds(&after, "the other texter's", &[B, "BRAVO-LX2", "ANS-B-1"]);
    // Their next text starts a conversation of its own, and is answered.
    t.text(A, "And parcel CHARLIE-3?", Some("Parcel answer ANS-A-2."))
        .await;
    assert_eq!(
        t.sent_to(A),
        ["Parcel answer ANS-A-1.", "Parcel answer ANS-A-2."]
    );
    assert_eq!(t.conversations_of(A).await.len(), 1);
}

pub async fn erasing_a_texter_leaves_nothing_of_them_but_their_opt_out<H: Harness + ?Sized>(
    harness: &H,
) {
    let t = Texting::start(harness).await;
    t.text(A, "First question ALPHA-ONE", Some("First answer ANS-A-1."))
        .await;
    // Past the session timeout: a second conversation.
    harness.sms().0.clock.advance(Duration::from_secs(31 * 60));
    t.text(
        A,
        "Second question ALPHA-TWO",
        Some("Second answer ANS-A-2."),
    )
    .await;
    t.text(B, "Question BRAVO-ONE", Some("Answer ANS-B-1."))
        .await;
    t.text(A, "STOP", None).await;
    assert_eq!(t.conversations_of(A).await.len(), 2);
    assert_eq!(t.sent_to(A).len(), 2);
    assert_holds(
        &harness.raw().await,
        "",
        &[A, "ALPHA-ONE", "ALPHA-TWO", "ANS-A-2"],
    );

    let erase = |number: &str| format!("{}/contacts/{number}", t.sms_path());
    let (status, body) = t
        .owner_call(Method::DELETE, &erase("%2B15550104401"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let after = harness.raw().await;
    assert_forgot(
        &after,
        "the erased texter's",
        &[A, "ALPHA-ONE", "ALPHA-TWO", "ANS-A-1", "ANS-A-2"],
    );
    assert_holds(&after, "the other texter's", &[B, "BRAVO-ONE", "ANS-B-1"]);
    assert!(t.conversations_of(A).await.is_empty());
    assert_eq!(t.conversations_of(B).await.len(), 1);
    // Erasing again, or a number never seen, erases nothing more.
    for again in ["%2B15550104401", "%2B15550109999"] {
        let (status, body) = t.owner_call(Method::DELETE, &erase(again), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    // An assistant that is not there has no texters to erase.
    let elsewhere = format!(
        "/api/workspaces/{}/assistants/ast_aaaaaaaaaaaaaaaaaaaa/sms/contacts/%2B15550104401",
        t.fixture.ws()
    );
    let (status, body) = t.owner_call(Method::DELETE, &elsewhere, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for bad in [
        "15550104401",
        "%2B1555",
        "%2B0155501044",
        "%20%2B15550104401",
    ] {
        let (status, body) = t.owner_call(Method::DELETE, &erase(bad), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["details"]["phoneNumber"].is_string(), "{body}");
    }
    // Their STOP still holds: a new text of theirs is recorded, not answered.
    t.text(A, "Still there? ALPHA-THREE", None).await;
    assert_eq!(t.sent_to(A).len(), 2, "an opted-out number is never texted");
    t.text(B, "Question BRAVO-TWO", Some("Answer ANS-B-2."))
        .await;
    assert_eq!(t.sent_to(B), ["Answer ANS-B-1.", "Answer ANS-B-2."]);
}

pub async fn deleting_the_sms_channel_forgets_its_texters_but_their_opt_outs<
    H: Harness + ?Sized,
>(
    harness: &H,
) {
    let t = Texting::start(harness).await;
    t.text(A, "Question ALPHA-ONE", Some("Answer ANS-A-1."))
        .await;
    t.text(B, "Question BRAVO-ONE", Some("Answer ANS-B-1."))
        .await;
    t.text(A, "STOP", None).await;
    let (status, body) = t.owner_call(Method::DELETE, &t.sms_path(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    harness.run_cleanup().await;
    let after = harness.raw().await;
    assert_forgot(
        &after,
        "a deleted channel's",
        &[A, B, "ALPHA-ONE", "BRAVO-ONE", "ANS-A-1", "ANS-B-1"],
    );
    assert!(t.conversations_of(A).await.is_empty());
    assert!(t.conversations_of(B).await.is_empty());

    // Set up again: A's STOP still holds, B is answered as anyone new.
    t.configure().await;
    t.text(A, "Back? ALPHA-TWO", None).await;
    assert_eq!(t.sent_to(A).len(), 1);
    t.text(B, "Back? BRAVO-TWO", Some("Answer ANS-B-2.")).await;
    assert_eq!(t.sent_to(B), ["Answer ANS-B-1.", "Answer ANS-B-2."]);

    // Deleted and set up again before its cleanup runs: the cleanup
    // forgets who texted before the delete and keeps who texted since.
    let (status, body) = t.owner_call(Method::DELETE, &t.sms_path(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    t.configure().await;
    let c = "+15550104403";
    t.text(c, "New here CHARLIE-ONE", Some("Answer ANS-C-1."))
        .await;
    assert_eq!(t.sent_to(c), ["Answer ANS-C-1."]);
    assert_holds(
        &harness.raw().await,
        "the new channel's",
        &[c, "CHARLIE-ONE", "ANS-C-1"],
    );
    harness.run_cleanup().await;
    let after = harness.raw().await;
    assert_forgot(
        &after,
        "the earlier channel's",
        &[B, "BRAVO-TWO", "ANS-B-2"],
    );
    assert_holds(&after, "the new channel's", &[c, "CHARLIE-ONE", "ANS-C-1"]);
    assert_eq!(t.conversations_of(c).await.len(), 1);
}

pub async fn deleting_a_widget_conversation_erases_its_visitors_words<H: Harness + ?Sized>(
    harness: &H,
) {
    let f = harness.fixture().await;
    let api = harness.api();
    let assistant = f.public_assistant.clone();
    api.open_widget(&f, &assistant, &[SHOP], json!({})).await;
    let visit = |page: &'static str| {
        let assistant = assistant.clone();
        async move {
            let answer = api
                .widget(
                    WidgetRequest::new(Method::POST, &assistant, "init")
                        .body(json!({"metadata": {"page": page}})),
                )
                .await;
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
            answer.body["token"].as_str().unwrap().to_owned()
        }
    };
    let ask = |token: String, question: &'static str, answer: &'static str| {
        let assistant = assistant.clone();
        async move {
            harness.sms().0.chat.answer_next([answer.to_owned()]);
            let asked = api
                .widget(
                    WidgetRequest::new(Method::POST, &assistant, "chat")
                        .token(&token)
                        .body(json!({"content": question})),
                )
                .await;
            assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
            token
        }
    };
    let visitor = ask(
        visit("/orders/PAGE-W51").await,
        "Is order DELTA-W51 late?",
        "Answer ANS-W-1.",
    )
    .await;
    let lead = api
        .widget(
            WidgetRequest::new(Method::POST, &assistant, "lead")
                .token(&visitor)
                .body(json!({"email": "erase.w51@example.com", "name": "Wendy Erasable", "phone": "+15550107751"})),
        )
        .await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    ask(
        visit("/orders/PAGE-W52").await,
        "Is order ECHO-W52 late?",
        "Answer ANS-W-2.",
    )
    .await;
    let visitor_data = [
        "PAGE-W51",
        "DELTA-W51",
        "ANS-W-1",
        "erase.w51@example.com",
        "Wendy Erasable",
        "+15550107751",
    ];
    assert_holds(&harness.raw().await, "", &visitor_data);

    let (status, page) = api
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
    assert_eq!(status, StatusCode::OK, "{page}");
    let with_lead: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["lead"].is_null())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let [conversation] = with_lead[..] else {
        panic!("one conversation with a lead: {page}");
    };
    let (status, body) = api
        .call(
            Method::DELETE,
            &format!("/api/workspaces/{}/conversations/{conversation}", f.ws()),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    harness.run_cleanup().await;
    let after = harness.raw().await;
    assert_forgot(&after, "the deleted visitor's", &visitor_data);
    assert_holds(
        &after,
        "the other visitor's",
        &["PAGE-W52", "ECHO-W52", "ANS-W-2"],
    );
}

/// The scenarios as tests, on the harness `$harness` (an expression that
/// awaits to one) builds: each harness's test file states it once.
#[macro_export]
macro_rules! erasure_tests {
    ($harness:expr) => {
        #[tokio::test]
        async fn deleting_an_sms_conversation_erases_its_texts_replies_and_number() {
            $crate::erasure::deleting_an_sms_conversation_erases_its_texts_replies_and_number(
                &$harness.await,
            )
            .await;
        }

        #[tokio::test]
        async fn erasing_a_texter_leaves_nothing_of_them_but_their_opt_out() {
            $crate::erasure::erasing_a_texter_leaves_nothing_of_them_but_their_opt_out(
                &$harness.await,
            )
            .await;
        }

        #[tokio::test]
        async fn deleting_the_sms_channel_forgets_its_texters_but_their_opt_outs() {
            $crate::erasure::deleting_the_sms_channel_forgets_its_texters_but_their_opt_outs(
                &$harness.await,
            )
            .await;
        }

        #[tokio::test]
        async fn deleting_a_widget_conversation_erases_its_visitors_words() {
            $crate::erasure::deleting_a_widget_conversation_erases_its_visitors_words(
                &$harness.await,
            )
            .await;
        }
    };
}
