//! The workspace port: one user per email, unique slugs, member counts,
//! the last active owner, and changes made from a stale read.

use super::fixtures::*;
use serde_json::json;
use shared::domain::ids::UserId;
use shared::domain::member::{Email, MemberChanges};
use shared::domain::role::{MemberStatus, Role};
use shared::ports::WorkspaceStore;
use shared::ports::{Conflict, StoreError};
use std::sync::Arc;

pub async fn one_email_is_one_user<S: ?Sized + WorkspaceStore + 'static>(store: Arc<S>) {
    let name = UserId::generate().to_string();
    let ann = store.create_user(email(&name), "Ann".into()).await.unwrap();
    let again = store.create_user(email(&name), "Other Ann".into()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let shouted = Email::parse(&format!("{}@CONTRACT.test", name.to_uppercase())).unwrap();
    assert_eq!(
        store.find_user_by_email(&shouted).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(store.get_user(&ann.id).await.unwrap(), Some(ann));
    assert_eq!(
        store.find_user_by_email(&email("nobody")).await.unwrap(),
        None
    );
}

pub async fn a_chosen_slug_is_unique_and_a_derived_one_gets_a_suffix<
    S: ?Sized + WorkspaceStore + 'static,
>(
    store: Arc<S>,
) {
    let (first, owner) = workspace(store.as_ref()).await;
    let chosen = store
        .create_workspace(new_workspace("Other", Some(&first.slug)), &owner)
        .await;
    assert!(
        matches!(&chosen, Err(StoreError::Conflict(Conflict::SlugTaken(_)))),
        "{chosen:?}"
    );
    let derived = store
        .create_workspace(new_workspace(&first.name, None), &owner)
        .await
        .unwrap();
    assert_ne!(derived.slug, first.slug);
    assert!(derived.slug.starts_with(&first.slug));
    let mine = store.list_workspaces_of(&owner.id).await.unwrap();
    let ids: Vec<_> = mine.iter().map(|c| c.workspace.id.clone()).collect();
    assert_eq!(ids, [first.id.clone(), derived.id.clone()], "oldest first");
    // A slug change moves the slug: the old one is free again.
    let changes = shared::domain::workspace::WorkspaceChanges::from_json(
        json!({ "slug": format!("{}-moved", first.slug) }),
    )
    .unwrap();
    let moved = store
        .update_workspace(&first, changes, first.models.clone())
        .await
        .unwrap();
    assert_eq!(moved.slug, format!("{}-moved", first.slug));
    let stale = store
        .update_workspace(
            &first,
            shared::domain::workspace::WorkspaceChanges::default(),
            first.models.clone(),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    store
        .create_workspace(new_workspace("Reuse", Some(&first.slug)), &owner)
        .await
        .unwrap();
}

pub async fn members_are_counted_and_the_last_active_owner_stays<
    S: ?Sized + WorkspaceStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let admin = member(store.as_ref(), &ws, Role::Admin).await;
    assert_eq!(counts(store.as_ref(), &ws, &owner).await.0, 2);
    let again = store.add_member(&ws.id, &admin, false, Role::Guest).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let missing = store
        .add_member(
            &shared::domain::ids::WorkspaceId::generate(),
            &admin,
            false,
            Role::Guest,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound("workspace"))));
    let owner_membership = store.get_member(&ws.id, &owner.id).await.unwrap().unwrap();
    let demote = MemberChanges {
        role: Some(Role::Member),
        status: None,
    };
    assert!(matches!(
        store.change_member(&owner_membership, demote.clone()).await,
        Err(StoreError::LastOwner)
    ));
    assert!(matches!(
        store.remove_member(&owner_membership).await,
        Err(StoreError::LastOwner)
    ));
    let suspend = MemberChanges {
        role: None,
        status: Some(MemberStatus::Suspended),
    };
    assert!(matches!(
        store.change_member(&owner_membership, suspend).await,
        Err(StoreError::LastOwner)
    ));
    // With a second owner, the first may go.
    let admin_membership = store.get_member(&ws.id, &admin.id).await.unwrap().unwrap();
    let promoted = store
        .change_member(
            &admin_membership,
            MemberChanges {
                role: Some(Role::Owner),
                status: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Owner);
    store.remove_member(&owner_membership).await.unwrap();
    assert_eq!(counts(store.as_ref(), &ws, &admin).await.0, 1);
    let members = store.list_members(&ws.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].user_id, admin.id);
    assert!(
        store
            .workspace_context(&ws.id, &owner.id)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_change_to_a_member_read_before_another_change_is_a_conflict<
    S: ?Sized + WorkspaceStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, _) = workspace(store.as_ref()).await;
    let guest = member(store.as_ref(), &ws, Role::Guest).await;
    let read = store.get_member(&ws.id, &guest.id).await.unwrap().unwrap();
    let to = |role| MemberChanges {
        role: Some(role),
        status: None,
    };
    store.change_member(&read, to(Role::Member)).await.unwrap();
    assert!(matches!(
        store.change_member(&read, to(Role::Admin)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.remove_member(&read).await,
        Err(StoreError::Conflict(_))
    ));
    let now = store.get_member(&ws.id, &guest.id).await.unwrap().unwrap();
    assert_eq!(now.role, Role::Member);
}
