//! The reply worker: a grounded answer, texted back exactly once, whatever
//! Twilio, the model or the queue do.

use devtools::emulators::twilio::SendFault;
use shared::domain::ids::AssistantId;
use shared::jobs::MessageOutcome;
use shared::ports::SmsStore;
use std::time::Duration;
use testkit::MemoryStack;
use testkit::sms::{TEXTER, message_sid};

const QUESTION: &str = "How long do refunds take?";
const GROUNDED: &str = "Refunds take five business days.";

#[tokio::test]
async fn a_question_is_answered_from_the_connected_project_in_an_sms_prompt() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Done]);
    let sent = stack.sms.twilio.messages();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains(GROUNDED), "{:?}", sent[0].body);
    assert_eq!(sent[0].from, testkit::sms::NUMBER);
    assert_eq!(sent[0].to, TEXTER);
    let prompt = stack.sms.chat.requests().pop().unwrap();
    let system = prompt["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("SMS"), "{system}");
    assert!(
        system.contains("faq.md"),
        "passages carry their document's name"
    );
    assert_eq!(
        prompt["messages"].as_array().unwrap().last().unwrap()["content"],
        QUESTION
    );

    // The next question in the session carries the first exchange.
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, "And exchanges?")
        .await;
    stack.run_replies().await;
    let second = stack.sms.chat.requests().pop().unwrap();
    let turns: Vec<&str> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        turns.len(),
        4,
        "system, question, answer, question: {turns:?}"
    );
    assert_eq!(turns[1], QUESTION);
    assert!(turns[2].contains(GROUNDED));
}

#[tokio::test]
async fn duplicate_jobs_send_one_message() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    let job = stack.replies.take().pop().unwrap();
    let concurrent: Vec<_> = (0..6)
        .map(|_| {
            let sms = stack.sms.clone();
            let job = job.clone();
            tokio::spawn(async move { sms.run(vec![job]).await })
        })
        .collect();
    for run in concurrent {
        assert_eq!(run.await.unwrap(), vec![MessageOutcome::Done]);
    }
    stack.sms.run(vec![job]).await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn a_worker_killed_after_the_send_does_not_send_again() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    let job = stack.replies.take().pop().unwrap();
    // Twilio takes the message, and the worker dies before it hears so.
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::AcceptThenHang(Duration::from_secs(30))]);
    let sms = stack.sms.clone();
    let doomed = {
        let job = job.clone();
        tokio::spawn(async move { sms.run(vec![job]).await })
    };
    for _ in 0..100 {
        if !stack.sms.twilio.messages().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.abort();
    assert_eq!(stack.sms.twilio.messages().len(), 1);
    // SQS delivers the job again after the visibility timeout.
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.twilio.messages().len(), 1, "never sent twice");
    assert_eq!(stack.sms.twilio.sends(), 1);
}

#[tokio::test]
async fn twilio_500_then_429_then_success_gives_exactly_one_message() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::Status(500, 20500), SendFault::Status(429, 20429)]);
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.twilio.sends(), 3);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn a_twilio_outage_beyond_the_budget_leaves_the_job_to_the_queue_and_sends_once_later() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    let job = stack.replies.take().pop().unwrap();
    stack
        .sms
        .twilio
        .fail_next_sends((0..3).map(|_| SendFault::Status(503, 20503)));
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Retry]
    );
    assert!(stack.sms.sent_to(TEXTER).is_empty());
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    assert_eq!(
        stack.sms.chat.requests().len(),
        1,
        "the answer was decided once and resent as stored"
    );
}

#[tokio::test]
async fn permanent_twilio_errors_are_recorded_and_never_retried() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    for code in [21211, 21617, 21606, 20003] {
        let sid = message_sid();
        stack.sms.text(&assistant, &sid, TEXTER, QUESTION).await;
        let before = stack.sms.twilio.sends();
        let status = if code == 20003 { 401 } else { 400 };
        stack
            .sms
            .twilio
            .fail_next_sends([SendFault::Status(status, code)]);
        let job = stack.replies.take().pop().unwrap();
        assert_eq!(
            stack.sms.run(vec![job.clone()]).await,
            vec![MessageOutcome::Done]
        );
        assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
        assert_eq!(stack.sms.twilio.sends() - before, 1, "{code}: tried once");
        let reply = stack
            .store
            .reply(
                &AssistantId::parse(&assistant).unwrap(),
                &shared::domain::sms::MessageSid::parse(&sid).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            reply.parts[0].state,
            shared::ports::PartState::Failed { code: Some(code) }
        );
    }
    assert!(stack.sms.sent_to(TEXTER).is_empty());
}

#[tokio::test]
async fn a_texter_twilio_reports_as_opted_out_is_never_sent_to_again() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack.sms.twilio.opt_out(TEXTER, testkit::sms::NUMBER);
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    stack.run_replies().await;
    let sends = stack.sms.twilio.sends();
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    stack.run_replies().await;
    assert_eq!(
        stack.sms.twilio.sends(),
        sends,
        "21610 recorded the opt-out"
    );
    assert!(stack.sms.sent_to(TEXTER).is_empty());
}

#[tokio::test]
async fn a_failing_model_sends_nothing_and_the_job_is_retried_until_it_answers() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    let job = stack.replies.take().pop().unwrap();
    stack.sms.chat.fail_next([500, 503, 500]);
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Retry]
    );
    assert_eq!(stack.sms.twilio.sends(), 0, "no half answer is ever sent");
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
    // A refusal by the model is not retried.
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    stack.sms.chat.fail_next([400]);
    assert_eq!(stack.run_replies().await, vec![MessageOutcome::Poison]);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn a_malformed_reply_job_is_dropped_without_failing_its_batch() {
    let stack = MemoryStack::start().await;
    let outcome = stack
        .sms
        .worker
        .handle_message("m1", "{\"not\": \"a job\"}")
        .await;
    assert_eq!(outcome, MessageOutcome::Poison);
}

#[tokio::test]
async fn a_reply_out_of_deliveries_goes_to_the_dead_letter_queue_with_its_reason_logged() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    stack
        .sms
        .text(&assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    let job = stack.replies.take().pop().unwrap();
    stack
        .sms
        .twilio
        .fail_next_sends((0..3).map(|_| SendFault::Status(503, 20503)));
    let message_id = "dead-letter-bound-message";
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(serde_json::json!({
            "Records": [{
                "messageId": message_id,
                "body": shared::jobs::Job::to_message(&job),
                "attributes": {"ApproximateReceiveCount": shared::jobs::LAST_DELIVERY.to_string()},
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:illumichat-ReplyQueue-AbCdEf",
            }]
        }))
        .unwrap();
    let response = reply_worker::handle_batch(&stack.sms.worker, event).await;
    assert_eq!(
        response.batch_item_failures[0].item_identifier, message_id,
        "reported, so the queue moves it to its dead-letter queue"
    );
    let said = testkit::logs::lines_containing(message_id);
    assert!(
        said.iter().any(|l| l.contains("dead-letter queue")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|l| l.contains("will retry") && l.contains("503")),
        "the reason, with the message's id: {said:?}"
    );
    assert!(stack.sms.sent_to(TEXTER).is_empty());
}
