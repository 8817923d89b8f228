//! A scripted day of SMS traffic: what analytics reports, and what never
//! shows anywhere (the Auth Token, a texter's number, a message body).

use axum::http::Method;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use testkit::MemoryStack;
use testkit::sms::{AUTH_TOKEN, message_sid};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const ALICE: &str = "+15550101001";
const BOB: &str = "+15550101002";
const CAROL: &str = "+15550101003";
const SECRET_QUESTION: &str = "How long do refunds take for order 99817?";

#[tokio::test]
async fn a_scripted_day_shows_in_analytics_and_no_secret_or_texter_reaches_a_log_line() {
    // A process-wide subscriber: a thread's own is not reliably consulted
    // while other tests' threads register the same call sites. So this
    // reads every test's log lines in this binary, which must all be clean.
    let logs = LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "shared=debug,devtools=debug,info",
            ))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a subscriber");
        logs
    });

    let stack = MemoryStack::start().await;
    let (f, assistant) = stack.sms_fixture().await;
    // Alice asks twice, Bob asks once and opts out, Carol only asks for help.
    for (from, body) in [
        (ALICE, SECRET_QUESTION),
        (BOB, "How long do refunds take?"),
        (ALICE, "And how long do refunds take abroad?"),
        (BOB, "STOP"),
        (CAROL, "HELP"),
    ] {
        let (status, _) = stack.sms.text(&assistant, &message_sid(), from, body).await;
        assert_eq!(status, 200);
    }
    let sid = message_sid();
    stack.sms.text(&assistant, &sid, ALICE, "again?").await;
    stack.sms.text(&assistant, &sid, ALICE, "again?").await;
    stack.run_replies().await;
    assert_eq!(stack.sms.sent_to(ALICE).len(), 3);
    assert_eq!(
        stack.sms.sent_to(BOB).len(),
        0,
        "Bob opted out before his reply went"
    );

    let (status, analytics) = stack
        .call(
            Method::GET,
            &format!(
                "/api/workspaces/{}/assistants/{assistant}/sms/analytics?period=7d",
                f.ws()
            ),
            Some(f.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        analytics,
        json!({"data": {"totalMessages": 9, "inbound": 6, "outbound": 3,
                         "uniqueContacts": 3, "activeSessions": 2, "period": "7d"}})
    );

    let (_, config) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}/assistants/{assistant}/sms", f.ws()),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert!(!config.to_string().contains(AUTH_TOKEN));

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("inbound SMS"), "the flow was logged: {logs}");
    for secret in [AUTH_TOKEN, ALICE, BOB, CAROL, "99817", "refunds", "Refunds"] {
        assert!(!logs.contains(secret), "{secret} reached the logs");
    }
    // Nor in a URL-encoded form (a request line or a form body).
    assert!(
        !logs.contains("%2B1555"),
        "an encoded number reached the logs"
    );
}
