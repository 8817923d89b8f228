//! The workspace port: one user per email, unique slugs, member counts,
//! the last active owner, changes made from a stale read, and deleting a
//! workspace whole.

use super::fixtures::*;
use serde_json::json;
use shared::domain::conversation::Channel;
use shared::domain::ids::UserId;
use shared::domain::member::{Email, MemberChanges};
use shared::domain::role::{MemberStatus, Role};
use shared::domain::time::Timestamp;
use shared::domain::usage::{Alert, Budget, Charge, Metric, Month, Period, Scope};
use shared::domain::workspace::WorkspaceDeletion;
use shared::ports::{AssistantStore, UsageStore, WorkspaceStore};
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

pub async fn a_workspace_is_deleted_whole_once_nothing_hangs_off_it_and_refused_before<
    S: ?Sized + WorkspaceStore + AssistantStore + UsageStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let admin = member(store.as_ref(), &ws, Role::Admin).await;
    let bot = assistant(store.as_ref(), &ws, &admin).await;
    let now = Timestamp::now();
    let month = Month::of(now);
    let this_month = Period::parse(None, None, now).unwrap();
    let budget = Budget {
        monthly_token_limit: Some(1_000),
        ..Budget::default()
    };
    store
        .put_budget(&ws.id, &Scope::Workspace, &budget)
        .await
        .unwrap();
    store
        .count_usage(&Charge {
            assistant_id: Some(bot.id.clone()),
            answered_on: Some(Channel::Api),
            model: Some("gpt-4o-mini".into()),
            prompt_tokens: 900,
            ..Charge::new(ws.id.clone(), now)
        })
        .await
        .unwrap();
    let alert = Alert {
        workspace_id: ws.id.clone(),
        scope: Scope::Workspace,
        metric: Metric::Tokens,
        threshold: 80,
        limit: 1_000,
        used: 900,
        month,
    };
    assert!(store.claim_alert(&alert).await.unwrap());
    assert!(
        !store
            .usage_between(&ws.id, this_month)
            .await
            .unwrap()
            .is_empty()
    );

    let refused = store.delete_workspace(&ws.id).await.unwrap();
    assert_eq!(
        refused,
        WorkspaceDeletion::Refused {
            assistants: 1,
            projects: 0,
            webhooks: 0
        }
    );
    assert!(
        store
            .workspace_context(&ws.id, &owner.id)
            .await
            .unwrap()
            .is_some(),
        "a refusal deletes nothing"
    );
    assert_eq!(store.list_members(&ws.id).await.unwrap().len(), 2);

    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    let deleted = store.delete_workspace(&ws.id).await.unwrap();
    assert!(
        matches!(deleted, WorkspaceDeletion::Deleted { records } if records > 0),
        "{deleted:?}"
    );
    for user in [&owner, &admin] {
        assert!(
            store
                .workspace_context(&ws.id, &user.id)
                .await
                .unwrap()
                .is_none()
        );
        let theirs = store.list_workspaces_of(&user.id).await.unwrap();
        assert!(theirs.iter().all(|c| c.workspace.id != ws.id), "{theirs:?}");
    }
    assert!(store.list_members(&ws.id).await.unwrap().is_empty());
    assert!(
        store
            .usage_between(&ws.id, this_month)
            .await
            .unwrap()
            .is_empty()
    );
    let (budget_left, spent) = store
        .budget(&ws.id, &Scope::Workspace, month)
        .await
        .unwrap();
    assert_eq!(budget_left, Budget::default());
    assert_eq!(spent.tokens, 0);
    assert!(
        store.claim_alert(&alert).await.unwrap(),
        "no record of the alert is left"
    );
    // The slug is free again, and the workspace is gone for good.
    store
        .create_workspace(new_workspace("Again", Some(&ws.slug)), &owner)
        .await
        .unwrap();
    let again = store.delete_workspace(&ws.id).await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
}
