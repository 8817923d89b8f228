//! The widget store's share of the contract (see [`crate::contract`]):
//! every assistant has its widget from creation, settings stay with the
//! assistant's workspace, a session is stored with its conversation, a
//! limit holds under concurrent uses, and the cascade takes it all.

use super::fixtures::{assistant, workspace};
use shared::domain::access::AccessTarget;
use shared::domain::conversation::{Author, Channel, Message};
use shared::domain::ids::{AssistantId, MessageId, WidgetSessionId};
use shared::domain::member::Email;
use shared::domain::time::Timestamp;
use shared::domain::visitor::{Feedback, Lead, Rating};
use shared::domain::widget::{AllowedOrigin, Limit, UseWindow, WidgetSettings};
use shared::ports::{Admission, NewWidgetSession, StoreError};
use shared::ports::{AssistantStore, CascadeStore, ConversationStore, WidgetStore, WorkspaceStore};
use std::sync::Arc;

fn shop() -> AllowedOrigin {
    AllowedOrigin::parse("https://shop.example.com").unwrap()
}

fn window(key: &str, allowed: u32) -> UseWindow {
    UseWindow {
        limit: Limit::MessagesPerMonth,
        key: key.into(),
        allowed,
        ends_at: Timestamp::from_millis(Timestamp::now().millis() + 60_000),
    }
}

pub async fn an_assistant_has_default_widget_settings_until_they_are_saved<
    S: ?Sized + WorkspaceStore + WidgetStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let site = store.widget_site(&bot.id).await.unwrap().unwrap();
    assert_eq!(site.workspace_id, ws.id);
    assert_eq!(site.settings, WidgetSettings::default());
    assert_eq!(site.updated_at, None);
    let settings = WidgetSettings {
        allowed_origins: vec![shop()],
        title: Some("Ask us".into()),
        ..WidgetSettings::default()
    };
    let at = Timestamp::from_millis(Timestamp::now().millis());
    store
        .save_widget_settings(&ws.id, &bot.id, settings.clone(), at)
        .await
        .unwrap();
    let saved = store.widget_site(&bot.id).await.unwrap().unwrap();
    assert_eq!(saved.settings, settings);
    assert_eq!(saved.updated_at, Some(at));
    let (other, _) = workspace(store.as_ref()).await;
    let elsewhere = store
        .save_widget_settings(&other.id, &bot.id, WidgetSettings::default(), at)
        .await;
    assert!(matches!(elsewhere, Err(StoreError::NotFound("assistant"))));
    assert!(
        store
            .widget_site(&AssistantId::generate())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_session_is_stored_with_its_conversation_and_takes_a_lead_and_feedback<
    S: ?Sized + WorkspaceStore + WidgetStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let (session, conversation, welcome) = store
        .start_widget_session(NewWidgetSession {
            workspace_id: ws.id.clone(),
            assistant_id: bot.id.clone(),
            origin: shop(),
            metadata: Some(r#"{"page":"/pricing"}"#.into()),
            welcome: Some("Hi!".into()),
            at: Timestamp::now(),
        })
        .await
        .unwrap();
    let welcome = welcome.unwrap();
    assert_eq!(conversation.channel, Channel::Widget);
    let read = store.widget_session(&bot.id, &session.id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&session));
    let stored = store
        .get_conversation(&ws.id, &conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.message_count, 1);
    assert_eq!(stored.lead, None);
    let listed = store.conversations_with(&bot.id).await.unwrap();
    assert_eq!(listed.len(), 1);

    let lead = Lead {
        email: Email::parse("ada@example.com").unwrap(),
        name: Some("Ada".into()),
        phone: None,
        at: Timestamp::now(),
    };
    let linked = store.save_lead(&conversation.id, &lead).await.unwrap();
    assert_eq!(linked.lead.as_ref(), Some(&lead));
    let reread = store
        .get_conversation(&ws.id, &conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reread.lead, Some(lead));

    let feedback = Feedback {
        rating: Rating::Up,
        comment: Some("clear".into()),
        at: Timestamp::now(),
    };
    let rated = store
        .rate_answer(&conversation.id, &welcome.id, &feedback)
        .await
        .unwrap();
    assert_eq!(rated.feedback.as_ref(), Some(&feedback));
    let messages = store.messages(&conversation.id, 0, 10).await.unwrap();
    assert_eq!(messages[0].feedback.as_ref(), Some(&feedback));
    let unknown = store
        .rate_answer(&conversation.id, &MessageId::generate(), &feedback)
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound("message"))));

    // A visitor's own question is not an answer to rate.
    let question = Message::new(&conversation.id, Author::User, "?".into(), Timestamp::now());
    let lease = store
        .begin_answer(
            &stored,
            Timestamp::now(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    store.add_question(&lease, &question, "?").await.unwrap();
    let own = store
        .rate_answer(&conversation.id, &question.id, &feedback)
        .await;
    assert!(matches!(own, Err(StoreError::NotFound("message"))));
    assert!(
        store
            .widget_session(&bot.id, &WidgetSessionId::generate())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_limit_holds_under_concurrent_uses_and_counts_all_windows_or_none<
    S: ?Sized + WorkspaceStore + WidgetStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let id = bot.id.clone();
            tokio::spawn(async move { store.count_use(&id, &[window("race", 5)]).await })
        })
        .collect();
    let mut admitted = 0;
    for racer in racers {
        if racer.await.unwrap().unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5, "exactly the limit is admitted");
    // A full second window refuses the use in the first one too.
    let pair = [window("hour", 10), window("month", 1)];
    assert_eq!(
        store.count_use(&bot.id, &pair).await.unwrap(),
        Admission::Admitted
    );
    assert_eq!(
        store.count_use(&bot.id, &pair).await.unwrap(),
        Admission::Refused(1)
    );
    let hour_only = [window("hour", 2)];
    assert_eq!(
        store.count_use(&bot.id, &hour_only).await.unwrap(),
        Admission::Admitted,
        "the refused use was not counted in the hour"
    );
    assert_eq!(
        store.count_use(&bot.id, &hour_only).await.unwrap(),
        Admission::Refused(0)
    );
}

pub async fn the_cascade_removes_an_assistants_widget_and_its_sessions<
    S: ?Sized
        + WorkspaceStore
        + WidgetStore
        + AssistantStore
        + CascadeStore
        + ConversationStore
        + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let (session, conversation, _) = store
        .start_widget_session(NewWidgetSession {
            workspace_id: ws.id.clone(),
            assistant_id: bot.id.clone(),
            origin: shop(),
            metadata: None,
            welcome: Some("Hi!".into()),
            at: Timestamp::now(),
        })
        .await
        .unwrap();
    store.count_use(&bot.id, &[window("w", 3)]).await.unwrap();
    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    let target = AccessTarget::Assistant(bot.id.clone());
    let removed = store.delete_children(&ws.id, &target).await.unwrap();
    assert!(
        removed >= 5,
        "site, session, counter, conversation, message: {removed}"
    );
    assert!(store.widget_site(&bot.id).await.unwrap().is_none());
    assert!(
        store
            .widget_session(&bot.id, &session.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_conversation(&ws.id, &conversation.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.delete_children(&ws.id, &target).await.unwrap(), 0);
}
