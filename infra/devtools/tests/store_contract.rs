//! The DynamoDB store against the local server: uniqueness, conditions and
//! cascades hold at the storage layer, whatever calls it.

use devtools::testing::TestStack;
use shared::adapters::dynamo::{AccessTarget, StoreError};
use shared::domain::api_key::ApiKeySecret;
use shared::domain::assistant::AssistantChanges;
use shared::domain::ids::{AssistantId, UserId, WorkspaceId};
use shared::domain::member::{Email, User};
use shared::domain::role::Role;
use shared::domain::time::Timestamp;

fn email(name: &str) -> Email {
    Email::parse(&format!("{name}@store.test")).unwrap()
}

#[tokio::test]
async fn one_email_is_one_user() {
    let stack = TestStack::start().await;
    let store = &stack.local.store;
    let ann = store.create_user(email("ann"), "Ann".into()).await.unwrap();
    let again = store.create_user(email("ann"), "Other Ann".into()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    assert_eq!(
        store.find_user_by_email(&email("ANN")).await.unwrap(),
        Some(ann)
    );
    assert_eq!(store.find_user_by_email(&email("bob")).await.unwrap(), None);
}

#[tokio::test]
async fn a_key_authenticates_until_revoked_and_only_its_owner_can_revoke_it() {
    let stack = TestStack::start().await;
    let store = &stack.local.store;
    let ann = store.create_user(email("ann"), "Ann".into()).await.unwrap();
    let (key, secret) = store.create_api_key(&ann.id, "k".into()).await.unwrap();
    let hash = secret.hash();
    let owner = store.authenticate(&hash).await.unwrap().unwrap();
    assert_eq!(owner.user_id, ann.id);
    assert_eq!(
        store
            .authenticate(&ApiKeySecret::generate().hash())
            .await
            .unwrap(),
        None
    );
    let stranger = UserId::generate();
    assert!(matches!(
        store.revoke_api_key(&stranger, &key.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.revoke_api_key(&ann.id, &key.id).await.unwrap(), hash);
    assert_eq!(store.authenticate(&hash).await.unwrap(), None);
    assert!(
        store.revoke_api_key(&ann.id, &key.id).await.is_ok(),
        "revoking twice is fine"
    );
}

#[tokio::test]
async fn grants_need_both_the_assistant_and_the_member_and_the_cascade_removes_them_all() {
    let stack = TestStack::start().await;
    let store = &stack.local.store;
    let fixture = stack.fixture().await;
    let ws = WorkspaceId::parse(fixture.ws()).unwrap();
    let assistant = AssistantId::parse(&fixture.public_assistant).unwrap();
    let target = AccessTarget::Assistant(assistant.clone());
    let missing = AccessTarget::Assistant(AssistantId::generate());
    let member = UserId::parse(fixture.user("member")).unwrap();
    assert!(matches!(
        store.grant_access(&ws, &missing, &member).await,
        Err(StoreError::NotFound("assistant"))
    ));
    assert!(matches!(
        store.grant_access(&ws, &target, &UserId::generate()).await,
        Err(StoreError::NotFound("member"))
    ));
    // More grants than one BatchWriteItem takes (25): the cascade chunks.
    for i in 0..30 {
        let user = User {
            id: UserId::generate(),
            email: email(&format!("user{i}")),
            name: format!("user {i}"),
            created_at: Timestamp::now(),
        };
        store
            .add_member(&ws, &user, true, Role::Guest)
            .await
            .unwrap();
        store.grant_access(&ws, &target, &user.id).await.unwrap();
    }
    assert_eq!(store.list_grants(&ws, &target).await.unwrap().len(), 30);
    store.delete_assistant(&ws, &assistant).await.unwrap();
    assert_eq!(store.delete_children(&ws, &target).await.unwrap(), 30);
    assert!(store.list_grants(&ws, &target).await.unwrap().is_empty());
    assert_eq!(store.delete_children(&ws, &target).await.unwrap(), 0);
    // The other assistant's grant is untouched.
    let private = AccessTarget::Assistant(AssistantId::parse(&fixture.private_assistant).unwrap());
    assert_eq!(store.list_grants(&ws, &private).await.unwrap().len(), 1);
}

#[tokio::test]
async fn assistant_counts_follow_creates_and_deletes_and_never_go_negative() {
    let stack = TestStack::start().await;
    let store = &stack.local.store;
    let fixture = stack.fixture().await;
    let ws = WorkspaceId::parse(fixture.ws()).unwrap();
    let owner = UserId::parse(fixture.user("owner")).unwrap();
    let context = store.workspace_context(&ws, &owner).await.unwrap().unwrap();
    assert_eq!(context.workspace.assistant_count, 2);
    let config = AssistantChanges {
        name: Some("counted".into()),
        ..AssistantChanges::default()
    }
    .into_new_config(&context.workspace.models);
    let created = store.create_assistant(&ws, config, &owner).await.unwrap();
    store.delete_assistant(&ws, &created.id).await.unwrap();
    assert!(matches!(
        store.delete_assistant(&ws, &created.id).await,
        Err(StoreError::NotFound("assistant"))
    ));
    let context = store.workspace_context(&ws, &owner).await.unwrap().unwrap();
    assert_eq!(context.workspace.assistant_count, 2);
    assert!(
        store
            .workspace_context(&ws, &UserId::generate())
            .await
            .unwrap()
            .is_none()
    );
}
