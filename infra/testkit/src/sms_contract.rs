//! The SMS store's share of the contract (see [`crate::contract`]): one
//! number per assistant, one record per `MessageSid`, the session rule at
//! its boundary, replies decided once and parts moved only from the state
//! they were read in, and the counters analytics reads.

use crate::contract::{assistant_of, workspace_of};
use shared::domain::conversation::Usage;
use shared::domain::ids::ConversationId;
use shared::domain::sms::{AccountSid, Keyword, MessageSid, PhoneNumber, SmsConfig};
use shared::domain::time::Timestamp;
use shared::ports::{InboundOutcome, InboundSms, PartState, ReplyDraft, Store, StoreError};
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
    }
}

fn conversation_of(outcome: &InboundOutcome) -> Option<ConversationId> {
    match outcome {
        InboundOutcome::Recorded(r) | InboundOutcome::Duplicate(r) => r.conversation_id.clone(),
    }
}

pub async fn one_number_serves_one_assistant_and_deleting_frees_it(store: Arc<dyn Store>) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let first = assistant_of(store.as_ref(), &ws, &owner).await;
    let second = assistant_of(store.as_ref(), &ws, &owner).await;
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
    let third = assistant_of(store.as_ref(), &ws, &owner).await;
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

pub async fn an_inbound_message_is_recorded_once_however_concurrent(store: Arc<dyn Store>) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let bot = assistant_of(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    let message = inbound(&cfg, "+15550001111", "hello?", Timestamp::now());
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        let message = message.clone();
        tokio::spawn(async move { store.record_inbound(&message).await.unwrap() })
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

pub async fn a_session_continues_up_to_its_timeout_and_not_a_millisecond_after(
    store: Arc<dyn Store>,
) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let bot = assistant_of(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    let start = Timestamp::now();
    let texter = "+15550002222";
    let first = store
        .record_inbound(&inbound(&cfg, texter, "one", start))
        .await
        .unwrap();
    let at_timeout = store
        .record_inbound(&inbound(&cfg, texter, "two", start.plus(TIMEOUT)))
        .await
        .unwrap();
    assert_eq!(conversation_of(&first), conversation_of(&at_timeout));
    let after = store
        .record_inbound(&inbound(
            &cfg,
            texter,
            "three",
            start.plus(TIMEOUT * 2 + Duration::from_millis(1)),
        ))
        .await
        .unwrap();
    assert_ne!(conversation_of(&at_timeout), conversation_of(&after));
    // The old conversation is kept, with its two messages.
    let old = store
        .recent_messages(&conversation_of(&first).unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(old.len(), 2);
    // Another texter has a session of their own.
    let other = store
        .record_inbound(&inbound(&cfg, "+15550003333", "hi", start))
        .await
        .unwrap();
    assert_ne!(conversation_of(&other), conversation_of(&first));
}

pub async fn keywords_set_the_opt_out_and_join_no_conversation(store: Arc<dyn Store>) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let bot = assistant_of(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    let texter = "+15550004444";
    let now = Timestamp::now();
    for (body, opted_out) in [("STOP", true), ("help", true), ("Start", false)] {
        let outcome = store
            .record_inbound(&inbound(&cfg, texter, body, now))
            .await
            .unwrap();
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

pub async fn a_reply_is_decided_once_and_parts_move_only_from_their_state(store: Arc<dyn Store>) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let bot = assistant_of(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    let texter = "+15550005555";
    let question = inbound(&cfg, texter, "when?", Timestamp::now());
    let InboundOutcome::Recorded(record) = store.record_inbound(&question).await.unwrap() else {
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
        },
    };
    let (reply, created) = store.create_reply(draft("At nine.")).await.unwrap();
    assert!(created);
    assert_eq!(
        reply.parts[0].state,
        PartState::Sending,
        "claimed for its creator"
    );
    assert_eq!(reply.parts[1].state, PartState::Pending);
    let (again, created) = store
        .create_reply(draft("A different answer."))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, reply, "the first decision stands");
    let sid = &record.message_sid;
    assert!(
        !store
            .move_part(&bot.id, sid, 0, "pending", &PartState::Sending)
            .await
            .unwrap(),
        "a claimed part cannot be claimed again"
    );
    let sent = PartState::Sent {
        sid: crate::sms::message_sid(),
        segments: 1,
    };
    assert!(
        store
            .move_part(&bot.id, sid, 0, "sending", &sent)
            .await
            .unwrap()
    );
    assert!(
        store
            .move_part(
                &bot.id,
                sid,
                1,
                "pending",
                &PartState::Failed { code: Some(21610) }
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
    assert_eq!(traffic.active_sessions, 1);
    // Status callbacks only move forward.
    let PartState::Sent { sid: outbound, .. } = &stored.parts[0].state else {
        unreachable!()
    };
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

pub async fn the_cascade_removes_an_assistants_sms_traffic(store: Arc<dyn Store>) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let bot = assistant_of(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    let message = inbound(&cfg, "+15550006666", "hi", Timestamp::now());
    store.record_inbound(&message).await.unwrap();
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
    assert_eq!(traffic.inbound, 0);
}

pub async fn deleting_a_texters_conversation_closes_their_session(store: Arc<dyn Store>) {
    let (ws, owner) = workspace_of(store.as_ref()).await;
    let bot = assistant_of(store.as_ref(), &ws, &owner).await;
    let cfg = store
        .save_sms_config(config(&ws, &bot, &crate::sms::fresh_number()))
        .await
        .unwrap();
    let now = Timestamp::now();
    let texter = "+15550004444";
    let first = store
        .record_inbound(&inbound(&cfg, texter, "How long do refunds take?", now))
        .await
        .unwrap();
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
    store.delete_conversation(&conversation).await.unwrap();
    // Within the session timeout, yet a new conversation.
    let next = store
        .record_inbound(&inbound(
            &cfg,
            texter,
            "Still there?",
            now.plus(Duration::from_secs(60)),
        ))
        .await
        .unwrap();
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
    let again = store
        .record_inbound(&inbound(
            &cfg,
            texter,
            "Hello?",
            now.plus(Duration::from_secs(120)),
        ))
        .await
        .unwrap();
    assert_eq!(
        conversation_of(&again),
        Some(next_id),
        "the new session continues"
    );
}
