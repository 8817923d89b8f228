//! The assistant port: counts, who lists what, visibility under
//! concurrent changes, partial updates and reads in context.

use super::fixtures::*;
use shared::domain::access::AccessTarget;
use shared::domain::assistant::{Assistant, AssistantChanges, Visibility};
use shared::domain::ids::AssistantId;
use shared::domain::member::{MemberChanges, User};
use shared::domain::policy::Actor;
use shared::domain::role::Role;
use shared::domain::workspace::Workspace;
use shared::ports::StoreError;
use shared::ports::{AssistantStore, CascadeStore, GrantStore, ProjectStore, WorkspaceStore};
use std::sync::Arc;

pub async fn assistant_counts_follow_creates_and_deletes_and_never_go_negative<
    S: ?Sized + WorkspaceStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let kept = assistant(store.as_ref(), &ws, &owner).await;
    let created = assistant(store.as_ref(), &ws, &owner).await;
    assert_eq!(counts(store.as_ref(), &ws, &owner).await.1, 2);
    store.delete_assistant(&ws.id, &created.id).await.unwrap();
    assert!(matches!(
        store.delete_assistant(&ws.id, &created.id).await,
        Err(StoreError::NotFound("assistant"))
    ));
    assert_eq!(counts(store.as_ref(), &ws, &owner).await.1, 1);
    let listed = store.list_assistants_for(&ws.id, &owner.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].item.id, kept.id);
    assert!(
        store
            .get_assistant_for(&ws.id, &created.id, &owner.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn assistant_seen_as<S: ?Sized + WorkspaceStore + AssistantStore>(
    store: &S,
    ws: &Workspace,
    creator: &User,
    visibility: Visibility,
) -> Assistant {
    let config = AssistantChanges {
        name: Some(format!("{visibility:?} bot")),
        visibility: Some(visibility),
        ..AssistantChanges::default()
    }
    .into_new_config(&ws.models);
    store
        .create_assistant(&ws.id, config, &creator.id)
        .await
        .unwrap()
}

async fn set_visibility<S: ?Sized + WorkspaceStore + AssistantStore>(
    store: &S,
    ws: &Workspace,
    id: &AssistantId,
    to: Visibility,
) {
    let changes = AssistantChanges {
        visibility: Some(to),
        ..AssistantChanges::default()
    };
    let updated = store.update_assistant(&ws.id, id, &changes).await.unwrap();
    assert_eq!(updated.visibility, to);
}

/// Each viewer's pages are what the visibility rules allow of every
/// assistant and grant in the workspace (read whole, as the reference),
/// newest first, with `total` counting them all.
async fn listings_follow_the_rules<S: ?Sized + WorkspaceStore + AssistantStore>(
    store: &S,
    ws: &Workspace,
    viewers: &[(&User, Role)],
) {
    for (user, role) in viewers {
        let actor = Actor {
            user_id: user.id.clone(),
            role: *role,
        };
        let mut expected: Vec<Assistant> = store
            .list_assistants_for(&ws.id, &user.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|seen| actor.can_view_assistant(&seen.item, seen.granted))
            .map(|seen| seen.item)
            .collect();
        expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let (all, total) = store
            .list_assistants_page(&ws.id, &actor, 0, 100)
            .await
            .unwrap();
        assert_eq!(all, expected, "everything {role:?} may see, newest first");
        assert_eq!(total, expected.len(), "{role:?}'s total");
        let (page, total) = store
            .list_assistants_page(&ws.id, &actor, 1, 2)
            .await
            .unwrap();
        let slice: Vec<Assistant> = expected.iter().skip(1).take(2).cloned().collect();
        assert_eq!(page, slice, "{role:?}'s second and third");
        assert_eq!(total, expected.len());
        let (past, total) = store
            .list_assistants_page(&ws.id, &actor, expected.len(), 25)
            .await
            .unwrap();
        assert!(past.is_empty(), "nothing past the end for {role:?}");
        assert_eq!(total, expected.len());
    }
}

pub async fn each_role_lists_the_assistants_it_may_see_newest_first_through_every_change<
    S: ?Sized + WorkspaceStore + GrantStore + AssistantStore + CascadeStore + 'static,
>(
    store: Arc<S>,
) {
    let store = store.as_ref();
    let (ws, owner) = workspace(store).await;
    let admin = member(store, &ws, Role::Admin).await;
    let maker = member(store, &ws, Role::Admin).await;
    let reader = member(store, &ws, Role::Member).await;
    let guest = member(store, &ws, Role::Guest).await;
    let public = assistant_seen_as(store, &ws, &owner, Visibility::Public).await;
    let shared = assistant_seen_as(store, &ws, &maker, Visibility::Workspace).await;
    let owners = assistant_seen_as(store, &ws, &owner, Visibility::Private).await;
    let makers = assistant_seen_as(store, &ws, &maker, Visibility::Private).await;
    let granted = assistant_seen_as(store, &ws, &owner, Visibility::Private).await;
    let on = |a: &Assistant| AccessTarget::Assistant(a.id.clone());
    store
        .grant_access(&ws.id, &on(&granted), &reader.id)
        .await
        .unwrap();
    // A grant on a shared assistant shows nothing more, until it is private.
    store
        .grant_access(&ws.id, &on(&shared), &guest.id)
        .await
        .unwrap();
    // The maker is no longer an admin: they still see what they made.
    let membership = store.get_member(&ws.id, &maker.id).await.unwrap().unwrap();
    store
        .change_member(
            &membership,
            MemberChanges {
                role: Some(Role::Member),
                status: None,
            },
        )
        .await
        .unwrap();
    let viewers = [
        (&owner, Role::Owner),
        (&admin, Role::Admin),
        (&maker, Role::Member),
        (&reader, Role::Member),
        (&guest, Role::Guest),
    ];
    listings_follow_the_rules(store, &ws, &viewers).await;

    set_visibility(store, &ws, &shared.id, Visibility::Private).await;
    set_visibility(store, &ws, &owners.id, Visibility::Public).await;
    set_visibility(store, &ws, &public.id, Visibility::Workspace).await;
    listings_follow_the_rules(store, &ws, &viewers).await;

    store
        .grant_access(&ws.id, &on(&makers), &guest.id)
        .await
        .unwrap();
    store
        .revoke_access(&ws.id, &on(&granted), &reader.id)
        .await
        .unwrap();
    listings_follow_the_rules(store, &ws, &viewers).await;

    store.delete_assistant(&ws.id, &makers.id).await.unwrap();
    store.delete_assistant(&ws.id, &public.id).await.unwrap();
    listings_follow_the_rules(store, &ws, &viewers).await;
    store.delete_children(&ws.id, &on(&makers)).await.unwrap();
    let leaving = store.get_member(&ws.id, &guest.id).await.unwrap().unwrap();
    store.remove_member(&leaving).await.unwrap();
    // Added back, the guest holds none of the grants they had.
    store
        .add_member(&ws.id, &guest, false, Role::Guest)
        .await
        .unwrap();
    listings_follow_the_rules(store, &ws, &viewers).await;
    let guest_sees = store
        .list_assistants_page(
            &ws.id,
            &Actor {
                user_id: guest.id.clone(),
                role: Role::Guest,
            },
            0,
            100,
        )
        .await
        .unwrap();
    assert_eq!(guest_sees.1, 1, "only the one made public");
    assert_eq!(guest_sees.0[0].id, owners.id);
}

pub async fn concurrent_visibility_changes_leave_one_place_and_exact_totals<
    S: ?Sized + WorkspaceStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let reader = member(store.as_ref(), &ws, Role::Member).await;
    let bot = assistant_seen_as(store.as_ref(), &ws, &owner, Visibility::Workspace).await;
    let other = assistant_seen_as(store.as_ref(), &ws, &owner, Visibility::Private).await;
    let flips: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let ws = ws.id.clone();
            let id = bot.id.clone();
            tokio::spawn(async move {
                let to = [
                    Visibility::Private,
                    Visibility::Public,
                    Visibility::Workspace,
                ][i % 3];
                let changes = AssistantChanges {
                    visibility: Some(to),
                    ..AssistantChanges::default()
                };
                store.update_assistant(&ws, &id, &changes).await
            })
        })
        .collect();
    for flip in flips {
        match flip.await.unwrap() {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("a visibility change failed: {e}"),
        }
    }
    let viewers = [(&owner, Role::Owner), (&reader, Role::Member)];
    listings_follow_the_rules(store.as_ref(), &ws, &viewers).await;
    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    listings_follow_the_rules(store.as_ref(), &ws, &viewers).await;
    let (left, total) = store
        .list_assistants_page(
            &ws.id,
            &Actor {
                user_id: owner.id.clone(),
                role: Role::Owner,
            },
            0,
            25,
        )
        .await
        .unwrap();
    assert_eq!((left.len(), total), (1, 1));
    assert_eq!(left[0].id, other.id);
}

pub async fn an_update_writes_only_the_fields_it_names<
    S: ?Sized + WorkspaceStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let before = assistant(store.as_ref(), &ws, &owner).await;
    let changes = AssistantChanges {
        temperature: Some(0.25),
        welcome_message: Some(Some("Hi".into())),
        ..AssistantChanges::default()
    };
    let after = store
        .update_assistant(&ws.id, &before.id, &changes)
        .await
        .unwrap();
    assert_eq!(after.temperature, 0.25);
    assert_eq!(after.welcome_message.as_deref(), Some("Hi"));
    assert_eq!(after.name, before.name);
    assert_eq!(after.created_at, before.created_at);
    let cleared = AssistantChanges {
        welcome_message: Some(None),
        ..AssistantChanges::default()
    };
    let after = store
        .update_assistant(&ws.id, &before.id, &cleared)
        .await
        .unwrap();
    assert_eq!(after.welcome_message, None);
    let read = store
        .get_assistant_for(&ws.id, &before.id, &owner.id)
        .await
        .unwrap()
        .unwrap()
        .item;
    assert_eq!(read, after, "what the update answered is what is stored");
    assert!(matches!(
        store
            .update_assistant(&ws.id, &AssistantId::generate(), &changes)
            .await,
        Err(StoreError::NotFound("assistant"))
    ));
}

pub async fn a_read_in_context_brings_the_readers_membership_and_grant<
    S: ?Sized + WorkspaceStore + GrantStore + AssistantStore + ProjectStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let (other_ws, outsider) = workspace(store.as_ref()).await;
    let guest = member(store.as_ref(), &ws, Role::Guest).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    store
        .grant_access(&ws.id, &AccessTarget::Project(docs.id.clone()), &guest.id)
        .await
        .unwrap();

    let read = store
        .assistant_in_context(&ws.id, &bot.id, &guest.id)
        .await
        .unwrap();
    let context = read.context.expect("the guest is a member");
    assert_eq!(context.workspace.id, ws.id);
    assert_eq!(context.membership.role, Role::Guest);
    let found = read.found.expect("the assistant exists");
    assert_eq!(found.item.id, bot.id);
    assert!(!found.granted);

    let read = store
        .project_in_context(&ws.id, &docs.id, &guest.id)
        .await
        .unwrap();
    assert!(read.context.is_some());
    assert!(read.found.expect("the project exists").granted);

    let read = store
        .assistant_in_context(&ws.id, &bot.id, &outsider.id)
        .await
        .unwrap();
    assert!(read.context.is_none(), "an outsider has no context here");
    let missing = store
        .project_in_context(&other_ws.id, &docs.id, &outsider.id)
        .await
        .unwrap();
    assert!(missing.context.is_some(), "the outsider's own workspace");
    assert!(missing.found.is_none(), "the project is not in it");
}
