//! A scripted day of SMS traffic: what analytics reports, and what never
//! shows anywhere (the Auth Token, a texter's number, a message body).

use axum::http::Method;
use serde_json::json;
use testkit::MemoryStack;
use testkit::sms::{AUTH_TOKEN, message_sid};

const ALICE: &str = "+15550101001";
const BOB: &str = "+15550101002";
const CAROL: &str = "+15550101003";
const SECRET_QUESTION: &str = "How long do refunds take for order 99817?";

#[tokio::test]
async fn a_scripted_day_shows_in_analytics_and_no_secret_or_texter_reaches_a_log_line() {
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
                         "uniqueContacts": 3, "activeSessions": 2, "segmentsOut": 3,
                         "overLimit": 0, "period": "7d"}})
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

    // Every log line of this binary is checked against every number and
    // body texted here (and the Auth Token) as it is written.
    testkit::logs::assert_clean();
    assert!(
        !testkit::logs::lines_containing("inbound SMS").is_empty(),
        "the flow was logged"
    );
    // Words of the texts too, not only whole texts (digits alone could be
    // any random id's).
    for word in ["refunds", "Refunds"] {
        assert!(
            testkit::logs::lines_containing(word).is_empty(),
            "{word} reached the logs"
        );
    }
}
