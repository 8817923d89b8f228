//! The grant port: a grant needs its target and its member, is stored
//! once, and goes with either.

use super::fixtures::*;
use shared::domain::access::AccessTarget;
use shared::domain::ids::{AssistantId, ProjectId, UserId};
use shared::domain::role::Role;
use shared::ports::StoreError;
use shared::ports::{AssistantStore, CascadeStore, GrantStore, WorkspaceStore};
use std::sync::Arc;

pub async fn removing_a_member_removes_their_grants_in_that_workspace<
    S: ?Sized + WorkspaceStore + GrantStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let on_bot = AccessTarget::Assistant(bot.id.clone());
    let leaving = member(store.as_ref(), &ws, Role::Member).await;
    let staying = member(store.as_ref(), &ws, Role::Member).await;
    for user in [&leaving, &staying] {
        store.grant_access(&ws.id, &on_bot, &user.id).await.unwrap();
    }
    let membership = store
        .get_member(&ws.id, &leaving.id)
        .await
        .unwrap()
        .unwrap();
    store.remove_member(&membership).await.unwrap();
    let left: Vec<_> = store
        .list_grants(&ws.id, &on_bot)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.user_id)
        .collect();
    assert_eq!(left, vec![staying.id.clone()]);
}

pub async fn granting_again_answers_the_grant_as_first_stored<
    S: ?Sized + WorkspaceStore + GrantStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let target = AccessTarget::Assistant(bot.id.clone());
    let guest = member(store.as_ref(), &ws, Role::Guest).await;
    let first = store
        .grant_access(&ws.id, &target, &guest.id)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = store
        .grant_access(&ws.id, &target, &guest.id)
        .await
        .unwrap();
    assert_eq!(again, first, "the stored grant, not this call's time");
    let listed = store.list_grants(&ws.id, &target).await.unwrap();
    assert_eq!(listed, vec![first]);
    assert!(matches!(
        store
            .grant_access(&ws.id, &target, &UserId::generate())
            .await,
        Err(StoreError::NotFound("member"))
    ));
}

pub async fn grants_need_both_the_target_and_the_member_and_the_cascade_removes_them_all<
    S: ?Sized + WorkspaceStore + GrantStore + AssistantStore + CascadeStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let other = assistant(store.as_ref(), &ws, &owner).await;
    let target = AccessTarget::Assistant(bot.id.clone());
    let missing = AccessTarget::Assistant(AssistantId::generate());
    let guest = member(store.as_ref(), &ws, Role::Guest).await;
    assert!(matches!(
        store.grant_access(&ws.id, &missing, &guest.id).await,
        Err(StoreError::NotFound("assistant"))
    ));
    assert!(matches!(
        store
            .grant_access(
                &ws.id,
                &AccessTarget::Project(ProjectId::generate()),
                &guest.id
            )
            .await,
        Err(StoreError::NotFound("project"))
    ));
    assert!(matches!(
        store
            .grant_access(&ws.id, &target, &UserId::generate())
            .await,
        Err(StoreError::NotFound("member"))
    ));
    let other_target = AccessTarget::Assistant(other.id.clone());
    store
        .grant_access(&ws.id, &other_target, &guest.id)
        .await
        .unwrap();
    // More grants than one BatchWriteItem takes (25): the cascade chunks.
    for _ in 0..30 {
        let user = member(store.as_ref(), &ws, Role::Guest).await;
        store.grant_access(&ws.id, &target, &user.id).await.unwrap();
    }
    let first = store.list_grants(&ws.id, &target).await.unwrap();
    assert_eq!(first.len(), 30);
    assert!(first.windows(2).all(|w| w[0].granted_at <= w[1].granted_at));
    assert!(matches!(
        store.revoke_access(&ws.id, &target, &guest.id).await,
        Err(StoreError::NotFound("access grant"))
    ));
    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    assert!(!store.target_exists(&ws.id, &target).await.unwrap());
    // The 30 grants, and the assistant's widget settings.
    assert_eq!(store.delete_children(&ws.id, &target).await.unwrap(), 31);
    assert!(store.list_grants(&ws.id, &target).await.unwrap().is_empty());
    assert_eq!(store.delete_children(&ws.id, &target).await.unwrap(), 0);
    // The other assistant's grant is untouched.
    assert_eq!(
        store
            .list_grants(&ws.id, &other_target)
            .await
            .unwrap()
            .len(),
        1
    );
}
