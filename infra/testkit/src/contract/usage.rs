//! The usage port: a charge counted in its day and in its assistant's and
//! workspace's months, read back by period; an answer counted with it and
//! only if it is stored; budgets replaced whole and read with the
//! assistant in one read; an alert claimed once a month however many
//! answers claim it at once.

use super::fixtures::{assistant, workspace};
use shared::domain::conversation::{Author, Channel, Message, MessageStatus};
use shared::domain::ids::{AssistantId, WorkspaceId};
use shared::domain::time::Timestamp;
use shared::domain::usage::{Alert, Budget, Charge, Day, Metric, Month, Period, Scope};
use shared::ports::{
    AssistantStore, ConversationStore, NewConversation, UsageStore, WorkspaceStore,
};
use std::sync::Arc;
use std::time::Duration;

/// 2026-12-31T23:59:30Z: the next minute is another day and month.
const NEW_YEARS_EVE: i64 = 1_798_761_570_000;

fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn answer_charge(ws: &WorkspaceId, assistant: &AssistantId, when: Timestamp) -> Charge {
    Charge {
        assistant_id: Some(assistant.clone()),
        answered_on: Some(Channel::Api),
        model: Some("gpt-4o-mini".into()),
        prompt_tokens: 120,
        completion_tokens: 30,
        question_embedding_tokens: 7,
        ..Charge::new(ws.clone(), when)
    }
}

pub async fn a_charge_is_counted_in_its_day_and_months_and_read_back_by_period<
    S: ?Sized + WorkspaceStore + AssistantStore + UsageStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let eve = at(NEW_YEARS_EVE);
    let next_day = eve.plus(Duration::from_secs(60));
    store
        .count_usage(&answer_charge(&ws.id, &bot.id, eve))
        .await
        .unwrap();
    store
        .count_usage(&answer_charge(&ws.id, &bot.id, eve))
        .await
        .unwrap();
    let text = Charge {
        assistant_id: Some(bot.id.clone()),
        answered_on: Some(Channel::Sms),
        segments_in: 1,
        segments_out: 2,
        ..Charge::new(ws.id.clone(), next_day)
    };
    store.count_usage(&text).await.unwrap();
    let documents = Charge {
        document_embedding_tokens: 1_000,
        ..Charge::new(ws.id.clone(), eve)
    };
    store.count_usage(&documents).await.unwrap();
    // A charge with nothing in it (an answer of no tokens on no channel)
    // leaves no day behind.
    let nothing = Charge {
        assistant_id: Some(AssistantId::generate()),
        ..Charge::new(ws.id.clone(), eve)
    };
    store.count_usage(&nothing).await.unwrap();

    let december = Month::of(eve);
    let (_, mine) = store
        .budget(&ws.id, &Scope::Assistant(bot.id.clone()), december)
        .await
        .unwrap();
    assert_eq!(mine.tokens, 2 * 157, "the assistant's month: its answers");
    let (_, all) = store
        .budget(&ws.id, &Scope::Workspace, december)
        .await
        .unwrap();
    assert_eq!(
        all.tokens,
        2 * 157 + 1_000,
        "the workspace's: and the documents"
    );
    let (_, january) = store
        .budget(&ws.id, &Scope::Workspace, Month::of(next_day))
        .await
        .unwrap();
    assert_eq!((january.tokens, january.sms_segments), (0, 3));

    let both_days = Period::parse(Some("2026-12-31"), Some("2027-01-01"), eve).unwrap();
    let mut days = store.usage_between(&ws.id, both_days).await.unwrap();
    days.sort_by(|a, b| (a.day, &a.assistant_id).cmp(&(b.day, &b.assistant_id)));
    assert_eq!(days.len(), 3, "no day for the charge of nothing: {days:?}");
    let eve_day = Day::of(eve);
    let documents_day = days
        .iter()
        .find(|d| d.day == eve_day && d.assistant_id.is_none())
        .unwrap();
    assert_eq!(documents_day.counted.document_embedding_tokens, 1_000);
    let answers = days
        .iter()
        .find(|d| d.day == eve_day && d.assistant_id.as_ref() == Some(&bot.id))
        .unwrap();
    assert_eq!(answers.counted.models["gpt-4o-mini"].prompt, 240);
    assert_eq!(answers.counted.models["gpt-4o-mini"].completion, 60);
    assert_eq!(answers.counted.question_embedding_tokens, 14);
    assert_eq!(answers.counted.answers_api, 2);
    let texted = days.iter().find(|d| d.day == Day::of(next_day)).unwrap();
    assert_eq!(
        (
            texted.counted.segments_in,
            texted.counted.segments_out,
            texted.counted.answers_sms
        ),
        (1, 2, 1)
    );
    let one_day = Period::parse(Some("2027-01-01"), Some("2027-01-01"), eve).unwrap();
    assert_eq!(store.usage_between(&ws.id, one_day).await.unwrap().len(), 1);
    let elsewhere = store
        .usage_between(&WorkspaceId::generate(), both_days)
        .await
        .unwrap();
    assert!(elsewhere.is_empty(), "another workspace counted nothing");
}

pub async fn an_answer_is_counted_with_it_and_only_if_it_is_stored<
    S: ?Sized + WorkspaceStore + AssistantStore + ConversationStore + UsageStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let now = Timestamp::now();
    let (conversation, _) = store
        .create_conversation(NewConversation {
            workspace_id: ws.id.clone(),
            assistant_id: bot.id.clone(),
            created_by: owner.id.clone(),
            title: None,
            welcome: None,
            at: now,
        })
        .await
        .unwrap();
    let lease = store
        .begin_answer(&conversation, now, Duration::from_secs(60))
        .await
        .unwrap();
    let question = Message::new(&conversation.id, Author::User, "How long?".into(), now);
    store
        .add_question(&lease, &question, "How long?")
        .await
        .unwrap();
    let reply = Message {
        status: MessageStatus::Completed,
        ..Message::new(
            &conversation.id,
            Author::Assistant,
            "Five days.".into(),
            Timestamp::from_millis(now.millis() + 1),
        )
    };
    let charge = answer_charge(&ws.id, &bot.id, now);
    store
        .finish_answer(&lease, &reply, Some(&charge))
        .await
        .unwrap();
    let month = Month::of(now);
    let (_, spend) = store
        .budget(&ws.id, &Scope::Assistant(bot.id.clone()), month)
        .await
        .unwrap();
    assert_eq!(spend.tokens, charge.tokens());
    // Sent again (an SDK retry of a write that landed): counted once.
    let _ = store.finish_answer(&lease, &reply, Some(&charge)).await;
    let (_, spend) = store
        .budget(&ws.id, &Scope::Workspace, month)
        .await
        .unwrap();
    assert_eq!(
        spend.tokens,
        charge.tokens(),
        "an answer stored once is counted once"
    );
    assert_eq!(
        store.messages(&conversation.id, 0, 10).await.unwrap().len(),
        2
    );
}

pub async fn a_budget_is_replaced_whole_and_read_with_its_assistant<
    S: ?Sized + WorkspaceStore + AssistantStore + UsageStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let month = Month::of(Timestamp::now());
    let mine = Scope::Assistant(bot.id.clone());
    let (budget, _) = store.budget(&ws.id, &mine, month).await.unwrap();
    assert_eq!(budget, Budget::default(), "no caps until one is set");
    let capped = Budget {
        monthly_token_limit: Some(5_000),
        monthly_sms_segment_limit: Some(40),
        alert_thresholds: vec![50, 90],
        exhausted_message: Some("Back next month.".into()),
    };
    store.put_budget(&ws.id, &mine, &capped).await.unwrap();
    let plan = Budget {
        monthly_token_limit: Some(1_000_000),
        ..Budget::default()
    };
    store
        .put_budget(&ws.id, &Scope::Workspace, &plan)
        .await
        .unwrap();
    store
        .count_usage(&answer_charge(&ws.id, &bot.id, Timestamp::now()))
        .await
        .unwrap();

    let (found, allowance) = store
        .assistant_with_allowance(&ws.id, &bot.id, Some(&owner.id), month)
        .await
        .unwrap();
    assert_eq!(found.unwrap().item.id, bot.id);
    assert_eq!(allowance.assistant, capped);
    assert_eq!(allowance.workspace, plan);
    assert_eq!(allowance.assistant_spend.tokens, 157);
    assert_eq!(allowance.workspace_spend.tokens, 157);

    let lifted = Budget::default();
    store.put_budget(&ws.id, &mine, &lifted).await.unwrap();
    let (budget, spend) = store.budget(&ws.id, &mine, month).await.unwrap();
    assert_eq!(budget, lifted, "a PUT replaces every field");
    assert_eq!(spend.tokens, 157, "and leaves the month's count alone");

    let (none, allowance) = store
        .assistant_with_allowance(&ws.id, &AssistantId::generate(), None, month)
        .await
        .unwrap();
    assert!(none.is_none());
    assert_eq!(allowance.workspace, plan, "the workspace's, all the same");
}

pub async fn an_alert_is_claimed_once_a_month_however_many_claim_it_at_once<
    S: ?Sized + WorkspaceStore + UsageStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let alert = |month: Month| Alert {
        workspace_id: ws.id.clone(),
        scope: Scope::Workspace,
        metric: Metric::Tokens,
        threshold: 80,
        limit: 1_000,
        used: 812,
        month,
    };
    let december = Month::of(at(NEW_YEARS_EVE));
    let claims: Vec<_> = (0..10)
        .map(|_| {
            let store = Arc::clone(&store);
            let alert = alert(december);
            tokio::spawn(async move { store.claim_alert(&alert).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim.await.unwrap());
    }
    assert_eq!(won, 1, "one claim of ten");
    let (_, spend) = store
        .budget(&ws.id, &Scope::Workspace, december)
        .await
        .unwrap();
    assert!(spend.alerted.contains("tokens:80"), "{spend:?}");
    let january = Month::of(at(NEW_YEARS_EVE).plus(Duration::from_secs(60)));
    assert!(
        store.claim_alert(&alert(january)).await.unwrap(),
        "a new month"
    );
    let other = Alert {
        threshold: 100,
        ..alert(december)
    };
    assert!(
        store.claim_alert(&other).await.unwrap(),
        "another threshold"
    );
}
