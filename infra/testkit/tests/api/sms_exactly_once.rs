//! One text per answer whatever Twilio does with a send: taken with its
//! answer lost, taken by a worker that then dies, refused, or not taken at
//! all; and a reply in parts sent whole, in order, each part once.

use devtools::emulators::twilio::SendFault;
use shared::app::reply::CLAIM_LEASE;
use shared::domain::conversation::Usage;
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::domain::sms::{MessageSid, PhoneNumber};
use shared::jobs::{MessageOutcome, ReplyJob};
use shared::ports::{Clock, PartState, ReplyDraft, SmsStore};
use std::time::Duration;
use testkit::MemoryStack;
use testkit::sms::{SEND_TIMEOUT, TEXTER, message_sid};

const QUESTION: &str = "How long do refunds take?";

/// A stack whose assistant was texted once, and that text's job.
async fn one_text() -> (MemoryStack, ReplyJob) {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let job = texted(&stack, &assistant).await;
    (stack, job)
}

/// A text from the texter, its job taken from the queue.
async fn texted(stack: &MemoryStack, assistant: &str) -> ReplyJob {
    stack
        .sms
        .text(assistant, &message_sid(), TEXTER, QUESTION)
        .await;
    stack.replies.take().pop().expect("the text queued a reply")
}

async fn parts_of(stack: &MemoryStack, job: &ReplyJob) -> Vec<PartState> {
    stack
        .store
        .reply(&job.assistant_id, &job.message_sid)
        .await
        .unwrap()
        .expect("a reply is stored")
        .parts
        .into_iter()
        .map(|p| p.state)
        .collect()
}

fn sent_as(state: &PartState) -> &str {
    match state {
        PartState::Sent { sid, .. } => sid,
        other => panic!("not sent: {other:?}"),
    }
}

#[tokio::test]
async fn twilio_taking_a_text_and_losing_its_answer_sends_it_once_with_no_worker_killed() {
    let (stack, job) = one_text().await;
    // Twilio takes the message, and its answer comes long after the
    // worker stopped waiting for it.
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::AcceptThenHang(SEND_TIMEOUT * 5)]);
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    let sent = stack.sms.twilio.messages();
    assert_eq!(sent.len(), 1, "found on Twilio, never sent again");
    assert_eq!(stack.sms.twilio.sends(), 1);
    assert_eq!(stack.sms.twilio.lists(), 1, "looked for once");
    assert_eq!(sent_as(&parts_of(&stack, &job).await[0]), sent[0].sid);
    // A redelivery finds it sent.
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.twilio.sends(), 1);
}

#[tokio::test]
async fn a_lost_answer_whose_list_cannot_be_read_is_never_sent_blindly() {
    let (stack, job) = one_text().await;
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::AcceptThenHang(SEND_TIMEOUT * 5)]);
    stack.sms.twilio.fail_next_lists([503]);
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Retry],
        "left to the queue, not sent again"
    );
    assert!(matches!(
        parts_of(&stack, &job).await[0],
        PartState::Unknown { .. }
    ));
    assert_eq!(stack.sms.twilio.sends(), 1);
    // The next delivery looks first, and finds it.
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    let sent = stack.sms.twilio.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(stack.sms.twilio.sends(), 1);
    assert_eq!(sent_as(&parts_of(&stack, &job).await[0]), sent[0].sid);
}

#[tokio::test]
async fn a_lost_answer_that_twilio_does_not_hold_is_sent_again_once() {
    let (stack, job) = one_text().await;
    // A 500 may come from in front of an API that acted: its list says
    // whether it did (here, not).
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::Status(500, 20500)]);
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.twilio.sends(), 2);
    assert_eq!(stack.sms.twilio.lists(), 1);
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn a_send_that_hangs_past_the_timeout_is_looked_for_then_sent_once() {
    let (stack, job) = one_text().await;
    // The request reaches Twilio and hangs there; the worker gives up on
    // it and closes the connection, which Twilio never acted on.
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::Hang(SEND_TIMEOUT * 2)]);
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(
        stack.sms.twilio.lists(),
        1,
        "looked for before sending again"
    );
    // Long enough for the hung request to have gone on, had it.
    tokio::time::sleep(SEND_TIMEOUT * 2).await;
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn twilios_own_refusal_to_process_is_sent_again_without_looking() {
    let (stack, job) = one_text().await;
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::Status(429, 20429), SendFault::Status(503, 20503)]);
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.twilio.sends(), 3);
    assert_eq!(
        stack.sms.twilio.lists(),
        0,
        "a request not processed needs no look"
    );
    assert_eq!(stack.sms.sent_to(TEXTER).len(), 1);
}

#[tokio::test]
async fn a_worker_killed_after_the_send_leaves_a_claim_found_on_twilio_once_it_lapses() {
    let (stack, job) = one_text().await;
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
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The invocation ends between Twilio taking it and its answer.
    doomed.abort();
    assert!(matches!(
        parts_of(&stack, &job).await[0],
        PartState::Sending { .. }
    ));
    // Redelivered while a live worker could still hold the claim: left be.
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    assert_eq!(stack.sms.twilio.lists(), 0);
    // Redelivered after the visibility timeout: the claim has lapsed, and
    // the part is looked for rather than sent.
    stack
        .sms
        .clock
        .advance(CLAIM_LEASE + Duration::from_secs(1));
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    let sent = stack.sms.twilio.messages();
    assert_eq!(sent.len(), 1, "never sent twice");
    assert_eq!(stack.sms.twilio.sends(), 1);
    assert_eq!(sent_as(&parts_of(&stack, &job).await[0]), sent[0].sid);
}

#[tokio::test]
async fn a_worker_killed_before_the_send_leaves_a_claim_that_is_sent_once_it_lapses() {
    let (stack, job) = one_text().await;
    // The answer decided and the part claimed, then the worker gone.
    let (reply, _) = stack
        .store
        .create_reply(
            draft(&stack, &job, &["Refunds take five business days."]).await,
            stack.sms.clock.timestamp(),
        )
        .await
        .unwrap();
    assert!(matches!(reply.parts[0].state, PartState::Sending { .. }));
    stack
        .sms
        .clock
        .advance(CLAIM_LEASE + Duration::from_secs(1));
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    assert_eq!(stack.sms.twilio.lists(), 1, "looked for first");
    assert_eq!(
        stack.sms.sent_to(TEXTER),
        vec!["Refunds take five business days."]
    );
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.twilio.sends(), 1);
}

/// A draft answering the job's text in `parts`.
async fn draft(stack: &MemoryStack, job: &ReplyJob, parts: &[&str]) -> ReplyDraft {
    let inbound = stack
        .store
        .inbound(&job.assistant_id, &job.message_sid)
        .await
        .unwrap()
        .unwrap();
    ReplyDraft {
        workspace_id: job.workspace_id.clone(),
        assistant_id: job.assistant_id.clone(),
        inbound: job.message_sid.clone(),
        conversation_id: inbound.conversation_id.unwrap(),
        to: PhoneNumber::parse(TEXTER).unwrap(),
        answer: parts.join(" "),
        parts: parts.iter().map(|p| (*p).to_owned()).collect(),
        usage: Usage::default(),
    }
}

const THREE_PARTS: [&str; 3] = ["Part one.", "Part two.", "Part three."];

/// A reply stored in three parts (as replies were before the segment
/// budget made every new one a single message), its first claim given
/// back as a worker does when Twilio did not take the part.
async fn three_part_reply(stack: &MemoryStack, assistant: &str) -> ReplyJob {
    let job = texted(stack, assistant).await;
    let now = stack.sms.clock.timestamp();
    let (reply, _) = stack
        .store
        .create_reply(draft(stack, &job, &THREE_PARTS).await, now)
        .await
        .unwrap();
    assert!(
        stack
            .store
            .move_part(
                &job.assistant_id,
                &job.message_sid,
                0,
                &reply.parts[0].state,
                &PartState::Pending,
                now,
            )
            .await
            .unwrap()
    );
    job
}

#[tokio::test]
async fn a_reply_in_three_parts_is_sent_whole_and_in_order() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let job = three_part_reply(&stack, &assistant).await;
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    assert_eq!(stack.sms.sent_to(TEXTER), THREE_PARTS);
    let sids: Vec<String> = stack
        .sms
        .twilio
        .messages()
        .into_iter()
        .map(|m| m.sid)
        .collect();
    let parts = parts_of(&stack, &job).await;
    assert_eq!(
        parts.iter().map(sent_as).collect::<Vec<_>>(),
        sids,
        "each part records its own message"
    );
}

#[tokio::test]
async fn part_two_failing_transiently_is_sent_later_without_sending_part_one_again() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let job = three_part_reply(&stack, &assistant).await;
    stack.sms.twilio.fail_next_sends(
        std::iter::once(SendFault::Accept).chain((0..3).map(|_| SendFault::Status(503, 20503))),
    );
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Retry]
    );
    assert_eq!(stack.sms.sent_to(TEXTER), ["Part one."]);
    let parts = parts_of(&stack, &job).await;
    assert!(matches!(parts[0], PartState::Sent { .. }));
    assert_eq!(parts[1..], [PartState::Pending, PartState::Pending]);
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    assert_eq!(stack.sms.sent_to(TEXTER), THREE_PARTS);
    assert_eq!(stack.sms.twilio.sends(), 6, "1, then 3 refusals, then 2");
}

#[tokio::test]
async fn part_two_refused_for_good_marks_parts_two_and_three_failed() {
    let stack = MemoryStack::start().await;
    let (_, assistant) = stack.sms_fixture().await;
    let job = three_part_reply(&stack, &assistant).await;
    stack
        .sms
        .twilio
        .fail_next_sends([SendFault::Accept, SendFault::Status(400, 21617)]);
    assert_eq!(
        stack.sms.run(vec![job.clone()]).await,
        vec![MessageOutcome::Done]
    );
    let parts = parts_of(&stack, &job).await;
    assert!(matches!(parts[0], PartState::Sent { .. }));
    let failed = PartState::Failed { code: Some(21617) };
    assert_eq!(parts[1..], [failed.clone(), failed]);
    assert_eq!(stack.sms.run(vec![job]).await, vec![MessageOutcome::Done]);
    assert_eq!(stack.sms.sent_to(TEXTER), ["Part one."]);
    assert_eq!(stack.sms.twilio.sends(), 2, "never tried again");
}

#[tokio::test]
async fn a_redelivered_job_for_a_text_of_another_workspace_sends_nothing() {
    let (stack, job) = one_text().await;
    let forged = ReplyJob {
        workspace_id: WorkspaceId::generate(),
        ..job.clone()
    };
    assert_eq!(
        stack.sms.run(vec![forged]).await,
        vec![MessageOutcome::Done]
    );
    assert_eq!(stack.sms.twilio.sends(), 0);
    let unknown = ReplyJob {
        assistant_id: AssistantId::generate(),
        message_sid: MessageSid::parse(&message_sid()).unwrap(),
        ..job
    };
    assert_eq!(
        stack.sms.run(vec![unknown]).await,
        vec![MessageOutcome::Done]
    );
    assert_eq!(stack.sms.twilio.sends(), 0);
}
