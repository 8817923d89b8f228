//! The SMS store's share of the contract (see [`crate::contract`]): one
//! number per assistant, one record per `MessageSid`, the session rule at
//! its boundary, replies decided once and parts moved only from the state
//! they were read in, and the counters analytics reads.

use super::fixtures::{assistant, workspace};
use shared::domain::conversation::Usage;
use shared::domain::ids::ConversationId;
use shared::domain::sms::{
    AccountSid, Keyword, MessageSid, PhoneNumber, SmsConfig, SmsLimit, SmsLimits,
};
use shared::domain::time::Timestamp;
use shared::ports::{AssistantStore, CascadeStore, ConversationStore, SmsStore, WorkspaceStore};
use shared::ports::{
    Decided, InboundOutcome, InboundRecord, InboundSms, PartState, ReplyDecision, ReplyDraft,
    StoreError,
};
use std::sync::Arc;
use std::time::Duration;

fn number(n: &str) -> PhoneNumber {
    PhoneNumber::parse(n).unwrap()
}

fn sid() -> MessageSid {
    MessageSid::parse(&crate::sms::message_sid()).unwrap()
}

fn config(
    ws: &shared::domain::workspace::Workspace,
    assistant: &shared::domain::assistant::Assistant,
    phone: &str,
) -> SmsConfig {
    let now = Timestamp::now();
    SmsConfig {
        workspace_id: ws.id.clone(),
        assistant_id: assistant.id.clone(),
        enabled: true,
        account_sid: AccountSid::parse(crate::sms::ACCOUNT_SID).unwrap(),
        phone_number: number(phone),
        session_timeout_minutes: 30,
        max_segments_per_reply: 3,
        limits: SmsLimits::default(),
        sealed_auth_token: vec![1, 2, 3],
        created_at: now,
        updated_at: now,
    }
}

const TIMEOUT: Duration = Duration::from_secs(30 * 60);

fn inbound(config: &SmsConfig, from: &str, body: &str, at: Timestamp) -> InboundSms {
    InboundSms {
        workspace_id: config.workspace_id.clone(),
        assistant_id: config.assistant_id.clone(),
        message_sid: sid(),
        from: number(from),
        body: body.into(),
        keyword: Keyword::of(body),
        received_at: at,
        session_timeout: TIMEOUT,
        burst_window: Duration::ZERO,
    }
}

const BURST: Duration = Duration::from_secs(3);

/// A text recorded with the burst window on.
fn burst_text(config: &SmsConfig, from: &str, body: &str, at: Timestamp) -> InboundSms {
    InboundSms {
        burst_window: BURST,
        ..inbound(config, from, body, at)
    }
}

/// A workspace's assistant with an SMS configuration on a fresh number.
async fn configured<S: ?Sized + WorkspaceStore + SmsStore + AssistantStore>(
    store: &Arc<S>,
) -> (
    shared::domain::workspace::Workspace,
    shared::domain::assistant::Assistant,
    SmsConfig,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    (ws, bot, cfg)
}

/// Records a text as the webhook does: the record, then (once) its count.
async fn record<S: ?Sized + WorkspaceStore + SmsStore>(
    store: &Arc<S>,
    text: &InboundSms,
) -> InboundOutcome {
    let outcome = store.record_inbound(text).await.unwrap();
    if matches!(outcome, InboundOutcome::Recorded(_)) {
        store
            .count_received(&text.assistant_id, text.received_at)
            .await;
    }
    outcome
}

fn record_of(outcome: InboundOutcome) -> InboundRecord {
    match outcome {
        InboundOutcome::Recorded(r) | InboundOutcome::Duplicate(r) => r,
    }
}

fn conversation_of(outcome: &InboundOutcome) -> Option<ConversationId> {
    match outcome {
        InboundOutcome::Recorded(r) | InboundOutcome::Duplicate(r) => r.conversation_id.clone(),
    }
}

pub async fn one_number_serves_one_assistant_and_deleting_frees_it<
    S: ?Sized + WorkspaceStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let first = assistant(store.as_ref(), &ws, &owner).await;
    let second = assistant(store.as_ref(), &ws, &owner).await;
    let phone = crate::sms::fresh_number();
    let saved = store
        .save_sms_config(config(&ws, &first, &phone))
        .await
        .unwrap();
    assert!(matches!(
        store.save_sms_config(config(&ws, &second, &phone)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.sms_config(&second.id).await.unwrap().is_none());
    // Saving again keeps the first createdAt; a new number frees the old.
    let other = crate::sms::fresh_number();
    let again = store
        .save_sms_config(config(&ws, &first, &other))
        .await
        .unwrap();
    assert_eq!(again.created_at, saved.created_at);
    store
        .save_sms_config(config(&ws, &second, &phone))
        .await
        .unwrap();
    store.delete_sms_config(&ws.id, &second.id).await.unwrap();
    assert!(matches!(
        store.delete_sms_config(&ws.id, &second.id).await,
        Err(StoreError::NotFound(_))
    ));
    // Deleting the assistant frees its number in the same write.
    store.delete_assistant(&ws.id, &first.id).await.unwrap();
    assert!(store.sms_config(&first.id).await.unwrap().is_none());
    let third = assistant(store.as_ref(), &ws, &owner).await;
    store
        .save_sms_config(config(&ws, &third, &other))
        .await
        .unwrap();
    // A deleted assistant cannot get a configuration back.
    assert!(matches!(
        store
            .save_sms_config(config(&ws, &first, &crate::sms::fresh_number()))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn an_inbound_message_is_recorded_once_however_concurrent<
    S: ?Sized + WorkspaceStore + SmsStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (_, bot, cfg) = configured(&store).await;
    let message = inbound(&cfg, "+15550001111", "hello?", Timestamp::now());
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        let message = message.clone();
        tokio::spawn(async move { record(&store, &message).await })
    });
    let outcomes: Vec<InboundOutcome> = futures_join(attempts).await;
    let recorded = outcomes
        .iter()
        .filter(|o| matches!(o, InboundOutcome::Recorded(_)))
        .count();
    assert_eq!(recorded, 1, "{outcomes:?}");
    let conversations: std::collections::HashSet<_> =
        outcomes.iter().map(conversation_of).collect();
    assert_eq!(
        conversations.len(),
        1,
        "every delivery names one conversation"
    );
    let traffic = store
        .traffic(&bot.id, 7, Timestamp::now(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!((traffic.inbound, traffic.unique_contacts), (1, 1));
    let conversation = conversation_of(&outcomes[0]).unwrap();
    let messages = store.recent_messages(&conversation, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

pub async fn a_session_continues_up_to_its_timeout_and_not_a_millisecond_after<
    S: ?Sized + WorkspaceStore + ConversationStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (_, _, cfg) = configured(&store).await;
    let start = Timestamp::now();
    let texter = "+15550002222";
    let first = record(&store, &inbound(&cfg, texter, "one", start)).await;
    let at_timeout = record(&store, &inbound(&cfg, texter, "two", start.plus(TIMEOUT))).await;
    assert_eq!(conversation_of(&first), conversation_of(&at_timeout));
    let after = record(
        &store,
        &inbound(
            &cfg,
            texter,
            "three",
            start.plus(TIMEOUT * 2 + Duration::from_millis(1)),
        ),
    )
    .await;
    assert_ne!(conversation_of(&at_timeout), conversation_of(&after));
    // The old conversation is kept, with its two messages.
    let old = store
        .recent_messages(&conversation_of(&first).unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(old.len(), 2);
    // Another texter has a session of their own.
    let other = record(&store, &inbound(&cfg, "+15550003333", "hi", start)).await;
    assert_ne!(conversation_of(&other), conversation_of(&first));
}

pub async fn keywords_set_the_opt_out_and_join_no_conversation<
    S: ?Sized + WorkspaceStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (_, bot, cfg) = configured(&store).await;
    let texter = "+15550004444";
    let now = Timestamp::now();
    for (body, opted_out) in [("STOP", true), ("help", true), ("Start", false)] {
        let outcome = record(&store, &inbound(&cfg, texter, body, now)).await;
        assert_eq!(conversation_of(&outcome), None, "{body}");
        let contact = store
            .contact(&bot.id, &number(texter))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(contact.opted_out, opted_out, "after {body}");
    }
    store.opt_out(&bot.id, &number(texter)).await.unwrap();
    assert!(
        store
            .contact(&bot.id, &number(texter))
            .await
            .unwrap()
            .unwrap()
            .opted_out
    );
    let traffic = store.traffic(&bot.id, 7, now, TIMEOUT).await.unwrap();
    assert_eq!(traffic.inbound, 3);
    assert_eq!(traffic.unique_contacts, 1, "a texter all the same");
    assert_eq!(traffic.active_sessions, 0, "keywords open no session");
}

pub async fn a_reply_is_decided_once_and_parts_move_only_from_their_state<
    S: ?Sized + WorkspaceStore + SmsStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, bot, cfg) = configured(&store).await;
    let texter = "+15550005555";
    let question = inbound(&cfg, texter, "when?", Timestamp::now());
    let InboundOutcome::Recorded(record) = record(&store, &question).await else {
        panic!("first delivery");
    };
    let draft = |answer: &str| ReplyDraft {
        workspace_id: ws.id.clone(),
        assistant_id: bot.id.clone(),
        inbound: record.message_sid.clone(),
        conversation_id: record.conversation_id.clone().unwrap(),
        to: number(texter),
        answer: answer.into(),
        parts: vec![answer.into(), "second part".into()],
        usage: Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            estimated: false,
        },
    };
    let now = Timestamp::now();
    let (reply, created) = store.create_reply(draft("At nine."), now).await.unwrap();
    assert!(created);
    let claim = PartState::Sending { since: now };
    assert_eq!(reply.parts[0].state, claim, "claimed for its creator");
    assert_eq!(reply.parts[1].state, PartState::Pending);
    let (again, created) = store
        .create_reply(draft("A different answer."), now)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, reply, "the first decision stands");
    let sid = &record.message_sid;
    let later = PartState::Sending {
        since: now.plus(Duration::from_secs(1)),
    };
    assert!(
        !store
            .move_part(&bot.id, sid, 0, &PartState::Pending, &later, now)
            .await
            .unwrap(),
        "a claimed part cannot be claimed again"
    );
    assert!(
        !store
            .move_part(&bot.id, sid, 0, &later, &PartState::Pending, now)
            .await
            .unwrap(),
        "nor moved by a worker holding another claim"
    );
    let sent = PartState::Sent {
        sid: crate::sms::message_sid(),
        segments: 2,
    };
    assert!(
        store
            .move_part(&bot.id, sid, 0, &claim, &sent, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .move_part(
                &bot.id,
                sid,
                1,
                &PartState::Pending,
                &PartState::Failed { code: Some(21610) },
                now,
            )
            .await
            .unwrap()
    );
    let stored = store.reply(&bot.id, sid).await.unwrap().unwrap();
    assert_eq!(stored.parts[0].state, sent);
    assert_eq!(
        stored.parts[1].state,
        PartState::Failed { code: Some(21610) }
    );
    let messages = store
        .recent_messages(record.conversation_id.as_ref().unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "the question and the answer");
    assert_eq!(messages[0].content, "At nine.");
    let traffic = store
        .traffic(&bot.id, 30, Timestamp::now(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!((traffic.inbound, traffic.outbound), (1, 1));
    assert_eq!(traffic.segments_out, 2);
    assert_eq!(traffic.active_sessions, 1);
    // Status callbacks only move forward.
    let PartState::Sent { sid: outbound, .. } = &stored.parts[0].state else {
        unreachable!()
    };
    assert!(store.outbound_recorded(&bot.id, outbound).await.unwrap());
    assert!(
        !store
            .outbound_recorded(&bot.id, &crate::sms::message_sid())
            .await
            .unwrap()
    );
    store
        .record_delivery(&bot.id, outbound, "delivered", None)
        .await
        .unwrap();
    store
        .record_delivery(&bot.id, outbound, "sent", None)
        .await
        .unwrap();
    store
        .record_delivery(&bot.id, "SMunknown", "delivered", None)
        .await
        .unwrap();
}

pub async fn the_cascade_removes_an_assistants_sms_traffic<
    S: ?Sized + WorkspaceStore + AssistantStore + CascadeStore + SmsStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, bot, cfg) = configured(&store).await;
    let message = inbound(&cfg, "+15550006666", "hi", Timestamp::now());
    record(&store, &message).await;
    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    let removed = store
        .delete_children(
            &ws.id,
            &shared::domain::access::AccessTarget::Assistant(bot.id.clone()),
        )
        .await
        .unwrap();
    assert!(
        removed >= 3,
        "inbound, texter, conversation, message, day: {removed}"
    );
    assert!(
        store
            .inbound(&bot.id, &message.message_sid)
            .await
            .unwrap()
            .is_none()
    );
    let traffic = store
        .traffic(&bot.id, 7, Timestamp::now(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(traffic, shared::domain::sms::SmsTraffic::default());
}

pub async fn deleting_a_texters_conversation_closes_their_session<
    S: ?Sized + WorkspaceStore + ConversationStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, bot, cfg) = configured(&store).await;
    let now = Timestamp::now();
    let texter = "+15550004444";
    let first = record(
        &store,
        &inbound(&cfg, texter, "How long do refunds take?", now),
    )
    .await;
    let id = conversation_of(&first).unwrap();
    let conversation = store
        .get_conversation(&ws.id, &id)
        .await
        .unwrap()
        .expect("the text started a conversation");
    assert_eq!(conversation.contact, Some(number(texter)));
    assert_eq!(
        conversation.title.as_deref(),
        Some("How long do refunds take?")
    );
    assert_eq!(store.conversations_with(&bot.id).await.unwrap().len(), 1);
    let open = |at| {
        let store = store.clone();
        let bot = bot.id.clone();
        async move {
            store
                .traffic(&bot, 1, at, TIMEOUT)
                .await
                .unwrap()
                .active_sessions
        }
    };
    assert_eq!(open(now).await, 1);
    store.delete_conversation(&conversation).await.unwrap();
    assert_eq!(
        open(now).await,
        0,
        "the session closed with its conversation"
    );
    // Within the session timeout, yet a new conversation.
    let next = record(
        &store,
        &inbound(
            &cfg,
            texter,
            "Still there?",
            now.plus(Duration::from_secs(60)),
        ),
    )
    .await;
    let next_id = conversation_of(&next).unwrap();
    assert_ne!(next_id, id);
    let listed: Vec<_> = store
        .conversations_with(&bot.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![next_id.clone()]);
    let again = record(
        &store,
        &inbound(&cfg, texter, "Hello?", now.plus(Duration::from_secs(120))),
    )
    .await;
    assert_eq!(
        conversation_of(&again),
        Some(next_id),
        "the new session continues"
    );
}

pub async fn texts_within_the_burst_window_are_answered_together_and_a_taken_one_alone<
    S: ?Sized + WorkspaceStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (_, bot, cfg) = configured(&store).await;
    let texter = "+15550007777";
    let start = Timestamp::now();
    let at = |ms: u64| start.plus(Duration::from_millis(ms));
    let first = record_of(record(&store, &burst_text(&cfg, texter, "Hi,", at(0))).await);
    assert_eq!(first.burst.len(), 1);
    // Exactly at the window's edge still joins; the third joins the two.
    let second = record_of(record(&store, &burst_text(&cfg, texter, "do you", at(3_000))).await);
    let third =
        record_of(record(&store, &burst_text(&cfg, texter, "ship abroad?", at(4_000))).await);
    // Twilio delivering the burst's last text again: a duplicate, and the
    // burst as it was.
    let again = InboundSms {
        message_sid: third.message_sid.clone(),
        ..burst_text(&cfg, texter, "ship abroad?", at(4_000))
    };
    assert!(matches!(
        record(&store, &again).await,
        InboundOutcome::Duplicate(_)
    ));
    assert_eq!(
        third.burst.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        [&first, &second, &third]
            .iter()
            .map(|r| r.message_id.clone().unwrap())
            .collect::<Vec<_>>(),
        "the last text carries the whole burst, oldest first"
    );
    let (texter_windows, assistant_window) = windows(&cfg, texter, at(5_000));
    for merged in [&first, &second] {
        let stored = store
            .inbound(&bot.id, &merged.message_sid)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.merged_into.is_some());
        assert_eq!(
            store
                .decide_reply(
                    &bot.id,
                    &merged.message_sid,
                    &texter_windows,
                    &assistant_window,
                    at(5_000)
                )
                .await
                .unwrap(),
            Decided::Merged
        );
    }
    assert_eq!(
        store
            .decide_reply(
                &bot.id,
                &third.message_sid,
                &texter_windows,
                &assistant_window,
                at(5_000)
            )
            .await
            .unwrap(),
        Decided::Decision(ReplyDecision::Answer)
    );
    // One millisecond past the window: a burst of its own.
    let fourth = record_of(record(&store, &burst_text(&cfg, texter, "Thanks", at(7_001))).await);
    assert_eq!(fourth.burst.len(), 1);
    // Within the window of a text a worker already took: alone, and the
    // taken text is not marked merged.
    store
        .decide_reply(
            &bot.id,
            &fourth.message_sid,
            &texter_windows,
            &assistant_window,
            at(8_000),
        )
        .await
        .unwrap();
    let fifth = record_of(record(&store, &burst_text(&cfg, texter, "Also...", at(8_000))).await);
    assert_eq!(fifth.burst.len(), 1);
    let taken = store
        .inbound(&bot.id, &fourth.message_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.merged_into, None);
    assert_eq!(taken.decision, Some(ReplyDecision::Answer));
}

/// A texter's name for the limit windows the tests count in (any stable
/// name will do: the windows only count).
fn name(texter: &str) -> shared::domain::sms::TexterKey {
    shared::domain::sms::ContactKeys::new(vec![9u8; 32].into())
        .expect("32 bytes is long enough")
        .texter(&number(texter))
}

fn windows(
    cfg: &SmsConfig,
    texter: &str,
    at: Timestamp,
) -> (
    Vec<shared::domain::sms::SmsWindow>,
    shared::domain::sms::SmsWindow,
) {
    (
        cfg.limits.texter_windows(&name(texter), at),
        cfg.limits.assistant_window(at),
    )
}

pub async fn limits_count_each_answer_once_and_refuse_over_them_until_the_window_ends<
    S: ?Sized + WorkspaceStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let mut cfg = config(&ws, &bot, &crate::sms::fresh_number());
    cfg.limits = SmsLimits {
        per_texter_per_hour: 2,
        per_texter_per_day: 3,
        per_assistant_per_day: 4,
    };
    let cfg = store.save_sms_config(cfg).await.unwrap();
    // 2026-12-07T10:00:00Z: the hour, then the next, then the next day.
    let hour = Timestamp::from_millis(1_796_637_600_000);
    let decide = |texter: &'static str, at: Timestamp| {
        let store = store.clone();
        let cfg = cfg.clone();
        async move {
            let text = record_of(record(&store, &inbound(&cfg, texter, "a question", at)).await);
            let (texter_windows, assistant_window) = windows(&cfg, texter, at);
            let decided = store
                .decide_reply(
                    &cfg.assistant_id,
                    &text.message_sid,
                    &texter_windows,
                    &assistant_window,
                    at,
                )
                .await
                .unwrap();
            // Deciding again (a redelivered job) counts nothing again.
            let again = store
                .decide_reply(
                    &cfg.assistant_id,
                    &text.message_sid,
                    &texter_windows,
                    &assistant_window,
                    at,
                )
                .await
                .unwrap();
            assert_eq!(decided, again);
            decided
        }
    };
    let answer = Decided::Decision(ReplyDecision::Answer);
    let over = |limit| Decided::Decision(ReplyDecision::OverLimit(limit));
    let a = "+15550008881";
    assert_eq!(decide(a, hour).await, answer);
    assert_eq!(decide(a, hour.plus(Duration::from_secs(60))).await, answer);
    assert_eq!(
        decide(a, hour.plus(Duration::from_secs(120))).await,
        over(SmsLimit::PerTexterPerHour)
    );
    // The next hour has room; the day's third answer is the last.
    let next_hour = hour.plus(Duration::from_secs(3_600));
    assert_eq!(decide(a, next_hour).await, answer);
    assert_eq!(
        decide(a, next_hour.plus(Duration::from_secs(60))).await,
        over(SmsLimit::PerTexterPerDay)
    );
    // Another texter meets the assistant's limit of four a day.
    let b = "+15550008882";
    assert_eq!(decide(b, next_hour).await, answer);
    assert_eq!(
        decide(b, next_hour.plus(Duration::from_secs(1))).await,
        over(SmsLimit::PerAssistantPerDay)
    );
    // The next day both have room again.
    let next_day = hour.plus(Duration::from_secs(86_400));
    assert_eq!(decide(a, next_day).await, answer);
    assert_eq!(decide(b, next_day).await, answer);
    let traffic = store.traffic(&bot.id, 7, next_day, TIMEOUT).await.unwrap();
    assert_eq!(traffic.inbound, 9);
    assert_eq!(traffic.over_limit, 3);
    // The notice's window: one a day.
    let notice = [SmsLimits::notice_window(&name(a), next_day)];
    assert_eq!(
        store.count_sms_use(&bot.id, &notice).await.unwrap(),
        shared::ports::Admission::Admitted
    );
    assert_eq!(
        store.count_sms_use(&bot.id, &notice).await.unwrap(),
        shared::ports::Admission::Refused(0)
    );
}

pub async fn concurrent_replies_to_one_text_store_one<
    S: ?Sized + WorkspaceStore + SmsStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, bot, cfg) = configured(&store).await;
    let texter = "+15550009991";
    let text = record_of(record(&store, &inbound(&cfg, texter, "when?", Timestamp::now())).await);
    let attempts = (0..6).map(|i| {
        let store = store.clone();
        let draft = ReplyDraft {
            workspace_id: ws.id.clone(),
            assistant_id: bot.id.clone(),
            inbound: text.message_sid.clone(),
            conversation_id: text.conversation_id.clone().unwrap(),
            to: number(texter),
            answer: format!("answer {i}"),
            parts: vec![format!("answer {i}")],
            usage: Usage::default(),
        };
        tokio::spawn(async move { store.create_reply(draft, Timestamp::now()).await.unwrap() })
    });
    let outcomes = futures_join(attempts).await;
    assert_eq!(outcomes.iter().filter(|(_, created)| *created).count(), 1);
    let winner = &outcomes.iter().find(|(_, created)| *created).unwrap().0;
    assert!(outcomes.iter().all(|(reply, _)| reply == winner));
    let messages = store
        .recent_messages(text.conversation_id.as_ref().unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "the question and one answer");
}

pub async fn two_texts_from_one_texter_at_one_instant_join_one_session<
    S: ?Sized + WorkspaceStore + ConversationStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (_, bot, cfg) = configured(&store).await;
    let texter = "+15550009992";
    let now = Timestamp::now();
    // A session already open, so both texts race to join it.
    record(&store, &inbound(&cfg, texter, "hello", now)).await;
    let at = now.plus(Duration::from_secs(10));
    let texts = (0..2).map(|i| {
        let store = store.clone();
        let text = burst_text(&cfg, texter, &format!("question {i}"), at);
        tokio::spawn(async move { record_of(record(&store, &text).await) })
    });
    let records = futures_join(texts).await;
    assert_eq!(records[0].conversation_id, records[1].conversation_id);
    let messages = store
        .recent_messages(records[0].conversation_id.as_ref().unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 3, "every text kept");
    // One of them closes a burst of both; the other is merged into it.
    let merged = futures_join(records.iter().map(|r| {
        let store = store.clone();
        let (bot, sid) = (bot.id.clone(), r.message_sid.clone());
        tokio::spawn(async move { store.inbound(&bot, &sid).await.unwrap().unwrap() })
    }))
    .await;
    assert_eq!(merged.iter().filter(|r| r.merged_into.is_some()).count(), 1);
    assert!(merged.iter().any(|r| r.burst.len() == 2));
    let traffic = store.traffic(&bot.id, 1, at, TIMEOUT).await.unwrap();
    assert_eq!((traffic.inbound, traffic.unique_contacts), (3, 1));
}

pub async fn analytics_count_the_days_and_texters_of_7_30_and_90_days<
    S: ?Sized + WorkspaceStore + SmsStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, bot, cfg) = configured(&store).await;
    let now = Timestamp::now();
    let days_ago = |d: u64| Timestamp::from_millis(now.millis() - (d * 86_400_000) as i64);
    // A texter 80 days ago; one 20 days ago who texts again today; one 3
    // days ago; one 100 days ago (outside every period); a keyword today.
    for (texter, ago, body) in [
        ("+15550001001", 80, "one"),
        ("+15550001002", 20, "two"),
        ("+15550001002", 0, "two again"),
        ("+15550001003", 3, "three"),
        ("+15550001004", 100, "old"),
        ("+15550001005", 0, "HELP"),
    ] {
        let text = record_of(record(&store, &inbound(&cfg, texter, body, days_ago(ago))).await);
        if ago == 20 {
            let draft = ReplyDraft {
                workspace_id: ws.id.clone(),
                assistant_id: bot.id.clone(),
                inbound: text.message_sid.clone(),
                conversation_id: text.conversation_id.clone().unwrap(),
                to: number(texter),
                answer: "An answer.".into(),
                parts: vec!["An answer.".into()],
                usage: Usage::default(),
            };
            let at = days_ago(ago);
            let (reply, _) = store.create_reply(draft, at).await.unwrap();
            store
                .move_part(
                    &bot.id,
                    &text.message_sid,
                    0,
                    &reply.parts[0].state,
                    &PartState::Sent {
                        sid: crate::sms::message_sid(),
                        segments: 3,
                    },
                    at,
                )
                .await
                .unwrap();
        }
    }
    let traffic = |days| {
        let store = store.clone();
        let bot = bot.id.clone();
        async move { store.traffic(&bot, days, now, TIMEOUT).await.unwrap() }
    };
    let week = traffic(7).await;
    assert_eq!(
        (week.inbound, week.outbound, week.unique_contacts),
        (3, 0, 3)
    );
    let month = traffic(30).await;
    assert_eq!(
        (month.inbound, month.outbound, month.segments_out),
        (4, 1, 3)
    );
    assert_eq!(
        month.unique_contacts, 3,
        "the texter of 20 days ago counts once"
    );
    let quarter = traffic(90).await;
    assert_eq!((quarter.inbound, quarter.unique_contacts), (5, 4));
    assert_eq!(quarter.active_sessions, 1, "only today's question is open");
}
