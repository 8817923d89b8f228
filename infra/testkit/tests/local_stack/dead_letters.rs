//! `admin dlq` on the local server as on SQS: a job that fails five times
//! is listed in its dead-letter queue by its ids (never its body), sent
//! back by the message move task, and processed.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use devtools::dead_letters;
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::jobs::{Job, MessageOutcome, ReplyJob};
use std::time::Duration;
use testkit::TestStack;

const TEXTER: &str = "+15551234567";

#[tokio::test]
async fn a_poisoned_job_is_listed_without_its_body_then_redriven_and_processed() {
    let stack = TestStack::start().await;
    let sqs = &stack.local.sqs;
    let queue = &stack.local.reply_queue_url;
    let job = ReplyJob {
        workspace_id: WorkspaceId::generate(),
        assistant_id: AssistantId::generate(),
        message_sid: shared::domain::sms::MessageSid::parse("SM0123456789abcdef0123456789abcdef")
            .unwrap(),
    };
    // A job's body with what a listing must never show beside its ids.
    let mut body: serde_json::Value = serde_json::from_str(&job.to_message()).unwrap();
    body["from"] = TEXTER.into();
    body["content"] = "my card ends 4242".into();
    sqs.send_message()
        .queue_url(queue)
        .message_body(body.to_string())
        .send()
        .await
        .unwrap();
    // Received and never deleted, five times: then it is a dead letter.
    for _ in 0..6 {
        sqs.receive_message()
            .queue_url(queue)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }

    let prefix = queue.rsplit('/').next().unwrap();
    let listed = dead_letters::list(sqs, prefix).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let dead = &listed[0];
    assert_eq!(dead.sources, [prefix.to_owned()]);
    assert_eq!(dead.count, 1);
    let shown = &dead.messages[0];
    assert_eq!(shown.ids["workspaceId"], job.workspace_id.as_str());
    assert_eq!(shown.ids["assistantId"], job.assistant_id.as_str());
    assert_eq!(shown.ids["messageSid"], job.message_sid.as_str());
    assert!(shown.receives.unwrap() >= 5);
    let printed = serde_json::to_string(&listed).unwrap();
    assert!(
        !printed.contains(TEXTER) && !printed.contains("4242"),
        "{printed}"
    );

    let redriven = dead_letters::redrive(sqs, &dead.name, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!((redriven.moving, redriven.remaining), (1, 0));
    let back = sqs
        .receive_message()
        .queue_url(queue)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(back.len(), 1, "back on the queue it failed on");
    let (rig, _) = stack.sms_rig().await;
    let job = ReplyJob::from_message(back[0].body().unwrap()).unwrap();
    assert_eq!(
        rig.run(vec![job]).await,
        [MessageOutcome::Done],
        "processed (the assistant has no SMS configuration: nothing to answer)"
    );
    let no_longer = dead_letters::list(sqs, prefix).await.unwrap();
    assert_eq!(no_longer[0].count, 0);
    let refused = dead_letters::redrive(sqs, "no-such-queue", Duration::from_secs(1)).await;
    assert!(refused.is_err());
}
