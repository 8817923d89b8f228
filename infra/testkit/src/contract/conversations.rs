//! The conversation store's share of the contract (see [`crate::contract`]):
//! a conversation needs its assistant, lists under its creator and its
//! assistant at once, counts every message, answers one question at a
//! time, and is gone at once when deleted (its messages purged after).

use super::fixtures::{assistant, workspace};
use shared::domain::access::AccessTarget;
use shared::domain::conversation::{Author, Message, MessageStatus, Source, Usage};
use shared::domain::ids::AssistantId;
use shared::domain::time::Timestamp;
use shared::ports::{AssistantStore, CascadeStore, ConversationStore, WorkspaceStore};
use shared::ports::{NewConversation, StoreError};
use std::sync::Arc;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(150);

fn new(
    ws: &shared::domain::workspace::Workspace,
    assistant: &AssistantId,
    creator: &shared::domain::member::User,
    welcome: Option<&str>,
    at: i64,
) -> NewConversation {
    NewConversation {
        workspace_id: ws.id.clone(),
        assistant_id: assistant.clone(),
        created_by: creator.id.clone(),
        title: None,
        welcome: welcome.map(str::to_owned),
        at: Timestamp::from_millis(at),
    }
}

pub async fn a_conversation_needs_its_assistant_and_lists_newest_first<
    S: ?Sized + WorkspaceStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let missing = store
        .create_conversation(new(&ws, &AssistantId::generate(), &owner, None, 1))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound("assistant"))));
    let now = Timestamp::now().millis();
    let (first, welcome) = store
        .create_conversation(new(&ws, &bot.id, &owner, Some("Hello!"), now))
        .await
        .unwrap();
    let welcome = welcome.expect("the welcome message is stored");
    assert_eq!(welcome.role, Author::Assistant);
    assert_eq!(first.message_count, 1);
    let (second, none) = store
        .create_conversation(new(&ws, &bot.id, &owner, None, now + 5))
        .await
        .unwrap();
    assert!(none.is_none());
    assert_eq!(second.message_count, 0);
    let mine: Vec<_> = store
        .conversations_of(&ws.id, &owner.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(mine, vec![second.id.clone(), first.id.clone()]);
    let theirs: Vec<_> = store
        .conversations_with(&bot.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(theirs, mine);
    let read = store
        .read_conversations(&ws.id, &[first.id.clone(), second.id.clone()])
        .await
        .unwrap();
    assert_eq!(read, vec![first.clone(), second]);
    let messages = store.messages(&first.id, 0, 10).await.unwrap();
    assert_eq!(messages, vec![welcome]);
    let (other_ws, _) = workspace(store.as_ref()).await;
    assert_eq!(
        store
            .get_conversation(&other_ws.id, &first.id)
            .await
            .unwrap(),
        None,
        "another workspace never sees it"
    );
}

fn answer(question: &Message, text: &str, status: MessageStatus) -> Message {
    Message {
        status,
        usage: Some(Usage {
            prompt_tokens: 12,
            completion_tokens: 3,
            estimated: false,
        }),
        sources: vec![Source {
            document_id: "doc_x".into(),
            project_id: "proj_x".into(),
            document_name: "faq.md".into(),
            score: 0.75,
        }],
        ..Message::new(
            &question.conversation_id,
            Author::Assistant,
            text.into(),
            Timestamp::from_millis(question.created_at.millis() + 1),
        )
    }
}

pub async fn one_answer_at_a_time_and_every_message_counted_in_order<
    S: ?Sized + WorkspaceStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let now = Timestamp::now();
    let (conversation, _) = store
        .create_conversation(new(&ws, &bot.id, &owner, None, now.millis()))
        .await
        .unwrap();
    let lease = store.begin_answer(&conversation, now, LEASE).await.unwrap();
    let second = store.begin_answer(&conversation, now, LEASE).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    let question = Message::new(&conversation.id, Author::User, "How long?".into(), now);
    store
        .add_question(&lease, &question, "How long?")
        .await
        .unwrap();
    let reply = answer(&question, "Five days.", MessageStatus::Completed);
    store.finish_answer(&lease, &reply, None).await.unwrap();
    // Released: the next question may begin, and its title stays the first.
    let later = Timestamp::from_millis(now.millis() + 10);
    let next = store
        .begin_answer(&conversation, later, LEASE)
        .await
        .unwrap();
    let follow_up = Message::new(&conversation.id, Author::User, "And cards?".into(), later);
    store
        .add_question(&next, &follow_up, "And cards?")
        .await
        .unwrap();
    let half = answer(&follow_up, "Card refunds", MessageStatus::Failed);
    store.finish_answer(&next, &half, None).await.unwrap();
    let stored = store
        .get_conversation(&ws.id, &conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.message_count, 4);
    assert_eq!(stored.title.as_deref(), Some("How long?"));
    let all = store.messages(&conversation.id, 0, 10).await.unwrap();
    assert_eq!(all, vec![question, reply, follow_up, half.clone()]);
    assert_eq!(
        store.messages(&conversation.id, 1, 2).await.unwrap(),
        all[1..3]
    );
    let recent = store.recent_messages(&conversation.id, 2).await.unwrap();
    assert_eq!(recent, vec![half, all[2].clone()]);
}

pub async fn a_lapsed_lease_can_be_taken_and_a_given_back_one_at_once<
    S: ?Sized + WorkspaceStore + ConversationStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let now = Timestamp::now();
    let (conversation, _) = store
        .create_conversation(new(&ws, &bot.id, &owner, None, now.millis()))
        .await
        .unwrap();
    let crashed = store
        .begin_answer(&conversation, now, Duration::from_millis(100))
        .await
        .unwrap();
    let after = Timestamp::from_millis(now.millis() + 200);
    let taken = store
        .begin_answer(&conversation, after, LEASE)
        .await
        .unwrap();
    let late = Message::new(&conversation.id, Author::User, "late".into(), after);
    assert!(matches!(
        store.add_question(&crashed, &late, "late").await,
        Err(StoreError::Conflict(_))
    ));
    store.abandon_answer(&crashed).await.unwrap();
    assert!(
        matches!(
            store.begin_answer(&conversation, after, LEASE).await,
            Err(StoreError::Conflict(_))
        ),
        "the old holder giving up does not free the new holder's lease"
    );
    store.abandon_answer(&taken).await.unwrap();
    store
        .begin_answer(&conversation, after, LEASE)
        .await
        .unwrap();
}

pub async fn a_deleted_conversation_is_gone_at_once_and_purged_after<
    S: ?Sized + WorkspaceStore + ConversationStore + CascadeStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let now = Timestamp::now();
    let (conversation, _) = store
        .create_conversation(new(&ws, &bot.id, &owner, Some("Hi"), now.millis()))
        .await
        .unwrap();
    assert!(
        matches!(
            store.purge_conversation(&conversation.id).await,
            Err(StoreError::Conflict(_))
        ),
        "a live conversation is never purged"
    );
    let lease = store.begin_answer(&conversation, now, LEASE).await.unwrap();
    store.delete_conversation(&conversation).await.unwrap();
    assert_eq!(
        store
            .get_conversation(&ws.id, &conversation.id)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .conversations_of(&ws.id, &owner.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.conversations_with(&bot.id).await.unwrap().is_empty());
    let question = Message::new(&conversation.id, Author::User, "still there?".into(), now);
    assert!(
        store.add_question(&lease, &question, "x").await.is_err(),
        "nothing joins a deleted conversation"
    );
    assert!(matches!(
        store.delete_conversation(&conversation).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.purge_conversation(&conversation.id).await.unwrap() >= 2);
    assert_eq!(store.purge_conversation(&conversation.id).await.unwrap(), 0);
    assert!(
        store
            .messages(&conversation.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn the_cascade_removes_an_assistants_conversations_and_their_messages<
    S: ?Sized + WorkspaceStore + ConversationStore + AssistantStore + CascadeStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let kept = assistant(store.as_ref(), &ws, &owner).await;
    let now = Timestamp::now().millis();
    let (doomed, _) = store
        .create_conversation(new(&ws, &bot.id, &owner, Some("Hi"), now))
        .await
        .unwrap();
    let (survivor, _) = store
        .create_conversation(new(&ws, &kept.id, &owner, Some("Hi"), now))
        .await
        .unwrap();
    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    let removed = store
        .delete_children(&ws.id, &AccessTarget::Assistant(bot.id.clone()))
        .await
        .unwrap();
    assert!(
        removed >= 4,
        "the conversation, its message, two listings: {removed}"
    );
    assert_eq!(
        store.get_conversation(&ws.id, &doomed.id).await.unwrap(),
        None
    );
    assert!(store.messages(&doomed.id, 0, 10).await.unwrap().is_empty());
    assert!(store.conversations_with(&bot.id).await.unwrap().is_empty());
    let mine: Vec<_> = store
        .conversations_of(&ws.id, &owner.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(mine, vec![survivor.id.clone()]);
    assert_eq!(
        store
            .delete_children(&ws.id, &AccessTarget::Assistant(bot.id.clone()))
            .await
            .unwrap(),
        0,
        "a second run finds nothing"
    );
}
