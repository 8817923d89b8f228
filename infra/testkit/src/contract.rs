//! The contract every store implementation keeps: uniqueness, conditions,
//! counters and cascades hold at the port, whatever calls it. One suite,
//! generic over the store; [`store_contract!`](crate::store_contract) runs
//! each check as its own test against one implementation (the DynamoDB
//! adapter on the local server, the memory store).

use serde_json::json;
use shared::domain::access::AccessTarget;
use shared::domain::api_key::ApiKeySecret;
use shared::domain::assistant::{Assistant, AssistantChanges, Visibility};
use shared::domain::document::{Document, DocumentKind, DocumentStatus};
use shared::domain::ids::{AssistantId, ProjectId, UserId};
use shared::domain::member::{Email, MemberChanges, User};
use shared::domain::policy::Actor;
use shared::domain::project::{Project, ProjectChanges, ProjectVisibility};
use shared::domain::role::{MemberStatus, Role};
use shared::domain::time::Timestamp;
use shared::domain::workspace::{NewWorkspace, Workspace};
use shared::ports::{Conflict, Store, StoreError};
use std::sync::Arc;

/// Every check of the suite, as `#[tokio::test]`s (on a multi-threaded
/// runtime, so the concurrent ones really race) over the store `$make`
/// builds (an expression of type `Arc<dyn Store>`, awaited).
#[macro_export]
macro_rules! store_contract {
    ($make:expr) => {
        $crate::store_contract!(@checks $make;
            one_email_is_one_user,
            a_key_authenticates_until_revoked_and_only_its_owner_can_revoke_it,
            a_chosen_slug_is_unique_and_a_derived_one_gets_a_suffix,
            members_are_counted_and_the_last_active_owner_stays,
            a_change_to_a_member_read_before_another_change_is_a_conflict,
            grants_need_both_the_target_and_the_member_and_the_cascade_removes_them_all,
            granting_again_answers_the_grant_as_first_stored,
            removing_a_member_removes_their_grants_in_that_workspace,
            assistant_counts_follow_creates_and_deletes_and_never_go_negative,
            an_update_writes_only_the_fields_it_names,
            a_connection_is_counted_once_and_both_halves_go_with_either_side,
            concurrent_connects_and_disconnects_leave_the_count_exact,
            documents_are_counted_and_a_deleted_one_cannot_come_back,
            a_direct_upload_completes_once,
            documents_are_listed_newest_first_a_page_at_a_time,
            each_role_lists_the_assistants_it_may_see_newest_first_through_every_change,
            concurrent_visibility_changes_leave_one_place_and_exact_totals,
            a_document_written_again_as_stored_is_taken_as_written_once,
            a_project_is_seen_with_the_callers_grant,
            a_read_in_context_brings_the_readers_membership_and_grant,
            a_deleted_project_leaves_a_tombstone_and_the_cascade_spares_a_live_one,
        );
        $crate::store_contract!(@sms $make;
            one_number_serves_one_assistant_and_deleting_frees_it,
            an_inbound_message_is_recorded_once_however_concurrent,
            a_session_continues_up_to_its_timeout_and_not_a_millisecond_after,
            keywords_set_the_opt_out_and_join_no_conversation,
            a_reply_is_decided_once_and_parts_move_only_from_their_state,
            the_cascade_removes_an_assistants_sms_traffic,
            deleting_a_texters_conversation_closes_their_session,
            texts_within_the_burst_window_are_answered_together_and_a_taken_one_alone,
            limits_count_each_answer_once_and_refuse_over_them_until_the_window_ends,
            concurrent_replies_to_one_text_store_one,
            two_texts_from_one_texter_at_one_instant_join_one_session,
            analytics_count_the_days_and_texters_of_7_30_and_90_days,
        );
        $crate::store_contract!(@conversations $make;
            a_conversation_needs_its_assistant_and_lists_newest_first,
            one_answer_at_a_time_and_every_message_counted_in_order,
            a_lapsed_lease_can_be_taken_and_a_given_back_one_at_once,
            a_deleted_conversation_is_gone_at_once_and_purged_after,
            the_cascade_removes_an_assistants_conversations_and_their_messages,
        );
        $crate::store_contract!(@widget $make;
            an_assistant_has_default_widget_settings_until_they_are_saved,
            a_session_is_stored_with_its_conversation_and_takes_a_lead_and_feedback,
            a_limit_holds_under_concurrent_uses_and_counts_all_windows_or_none,
            the_cascade_removes_an_assistants_widget_and_its_sessions,
        );
    };
    (@widget $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $crate::widget_contract::$check($make.await).await;
            }
        )*
    };
    (@conversations $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $crate::conversation_contract::$check($make.await).await;
            }
        )*
    };
    (@sms $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $crate::sms_contract::$check($make.await).await;
            }
        )*
    };
    (@checks $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $crate::contract::$check($make.await).await;
            }
        )*
    };
}

fn email(name: &str) -> Email {
    Email::parse(&format!("{name}@contract.test")).unwrap()
}

fn new_workspace(name: &str, slug: Option<&str>) -> NewWorkspace {
    let mut body = json!({ "name": name });
    if let Some(slug) = slug {
        body["slug"] = json!(slug);
    }
    NewWorkspace::from_json(body).unwrap()
}

/// A workspace whose slug is unique to this run, and its owner.
pub(crate) async fn workspace_of(store: &dyn Store) -> (Workspace, User) {
    workspace(store).await
}

pub(crate) async fn assistant_of(store: &dyn Store, ws: &Workspace, creator: &User) -> Assistant {
    assistant(store, ws, creator).await
}

async fn workspace(store: &dyn Store) -> (Workspace, User) {
    let unique = UserId::generate().to_string();
    let owner = store
        .create_user(email(&unique), "Owner".into())
        .await
        .unwrap();
    let workspace = store
        .create_workspace(new_workspace(&format!("Contract {unique}"), None), &owner)
        .await
        .unwrap();
    (workspace, owner)
}

async fn member(store: &dyn Store, ws: &Workspace, role: Role) -> User {
    let user = User {
        id: UserId::generate(),
        email: email(&UserId::generate().to_string()),
        name: "Member".into(),
        created_at: Timestamp::now(),
    };
    store.add_member(&ws.id, &user, true, role).await.unwrap();
    user
}

async fn assistant(store: &dyn Store, ws: &Workspace, creator: &User) -> Assistant {
    let config = AssistantChanges {
        name: Some("Contract bot".into()),
        ..AssistantChanges::default()
    }
    .into_new_config(&ws.models);
    store
        .create_assistant(&ws.id, config, &creator.id)
        .await
        .unwrap()
}

async fn project(store: &dyn Store, ws: &Workspace, creator: &User) -> Project {
    let changes = ProjectChanges {
        name: Some("Contract docs".into()),
        description: None,
        visibility: Some(ProjectVisibility::Private),
    };
    store
        .create_project(&ws.id, changes, &creator.id)
        .await
        .unwrap()
}

async fn project_count(store: &dyn Store, ws: &Workspace, who: &User, id: &AssistantId) -> u32 {
    store
        .get_assistant_for(&ws.id, id, &who.id)
        .await
        .unwrap()
        .unwrap()
        .item
        .project_count
}

async fn counts(store: &dyn Store, ws: &Workspace, who: &User) -> (u32, u32) {
    let context = store
        .workspace_context(&ws.id, &who.id)
        .await
        .unwrap()
        .unwrap();
    (
        context.workspace.member_count,
        context.workspace.assistant_count,
    )
}

pub async fn one_email_is_one_user(store: Arc<dyn Store>) {
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

pub async fn a_key_authenticates_until_revoked_and_only_its_owner_can_revoke_it(
    store: Arc<dyn Store>,
) {
    let ann = store
        .create_user(email(&UserId::generate().to_string()), "Ann".into())
        .await
        .unwrap();
    let (key, secret) = store.create_api_key(&ann.id, "k".into()).await.unwrap();
    let (newer, _) = store.create_api_key(&ann.id, "k2".into()).await.unwrap();
    let hash = secret.hash();
    let owner = store.authenticate(&hash).await.unwrap().unwrap();
    assert_eq!(
        (owner.user_id, owner.key_id),
        (ann.id.clone(), key.id.clone())
    );
    let listed = store.list_api_keys(&ann.id).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|k| k.id.clone()).collect();
    assert_eq!(ids, [newer.id.clone(), key.id.clone()], "newest first");
    assert!(
        listed[1].last_used_at.is_some(),
        "authenticating records use"
    );
    assert_eq!(
        store
            .authenticate(&ApiKeySecret::generate().hash())
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store.revoke_api_key(&UserId::generate(), &key.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.revoke_api_key(&ann.id, &key.id).await.unwrap(), hash);
    assert_eq!(store.authenticate(&hash).await.unwrap(), None);
    assert!(
        store.revoke_api_key(&ann.id, &key.id).await.is_ok(),
        "revoking twice is fine"
    );
}

pub async fn a_chosen_slug_is_unique_and_a_derived_one_gets_a_suffix(store: Arc<dyn Store>) {
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

pub async fn members_are_counted_and_the_last_active_owner_stays(store: Arc<dyn Store>) {
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

pub async fn a_change_to_a_member_read_before_another_change_is_a_conflict(store: Arc<dyn Store>) {
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

pub async fn removing_a_member_removes_their_grants_in_that_workspace(store: Arc<dyn Store>) {
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

pub async fn granting_again_answers_the_grant_as_first_stored(store: Arc<dyn Store>) {
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

pub async fn grants_need_both_the_target_and_the_member_and_the_cascade_removes_them_all(
    store: Arc<dyn Store>,
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

pub async fn assistant_counts_follow_creates_and_deletes_and_never_go_negative(
    store: Arc<dyn Store>,
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

async fn assistant_seen_as(
    store: &dyn Store,
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

async fn set_visibility(store: &dyn Store, ws: &Workspace, id: &AssistantId, to: Visibility) {
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
async fn listings_follow_the_rules(store: &dyn Store, ws: &Workspace, viewers: &[(&User, Role)]) {
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

pub async fn each_role_lists_the_assistants_it_may_see_newest_first_through_every_change(
    store: Arc<dyn Store>,
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

pub async fn concurrent_visibility_changes_leave_one_place_and_exact_totals(store: Arc<dyn Store>) {
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

pub async fn an_update_writes_only_the_fields_it_names(store: Arc<dyn Store>) {
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

pub async fn a_connection_is_counted_once_and_both_halves_go_with_either_side(
    store: Arc<dyn Store>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let spare = project(store.as_ref(), &ws, &owner).await;
    store.connect(&ws.id, &bot.id, &docs.id).await.unwrap();
    assert!(matches!(
        store.connect(&ws.id, &bot.id, &docs.id).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.connect(&ws.id, &bot.id, &ProjectId::generate()).await,
        Err(StoreError::NotFound("project"))
    ));
    assert!(matches!(
        store
            .connect(&ws.id, &AssistantId::generate(), &docs.id)
            .await,
        Err(StoreError::NotFound("assistant"))
    ));
    store.connect(&ws.id, &bot.id, &spare.id).await.unwrap();
    assert_eq!(project_count(store.as_ref(), &ws, &owner, &bot.id).await, 2);
    let listed = store.list_connections(&ws.id, &bot.id).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|c| c.project.id.clone()).collect();
    assert_eq!(ids, [docs.id.clone(), spare.id.clone()], "oldest first");
    let mut connected = store.connected_project_ids(&ws.id, &bot.id).await.unwrap();
    connected.sort();
    let mut expected = vec![docs.id.clone(), spare.id.clone()];
    expected.sort();
    assert_eq!(connected, expected);

    // The project goes: its connection leaves the assistant, counted.
    store.delete_project(&ws.id, &docs.id).await.unwrap();
    assert_eq!(project_count(store.as_ref(), &ws, &owner, &bot.id).await, 1);
    assert!(matches!(
        store.disconnect(&ws.id, &bot.id, &docs.id).await,
        Err(StoreError::NotFound("connection"))
    ));
    // The assistant goes: the cascade removes its remaining connection,
    // both halves (the spare project's cascade finds nothing left).
    store.delete_assistant(&ws.id, &bot.id).await.unwrap();
    let removed = store
        .delete_children(&ws.id, &AccessTarget::Assistant(bot.id.clone()))
        .await
        .unwrap();
    assert_eq!(
        removed, 3,
        "the connection's two halves and the widget's settings"
    );
    assert_eq!(
        store
            .delete_children(&ws.id, &AccessTarget::Project(spare.id.clone()))
            .await
            .unwrap(),
        0
    );
}

pub async fn concurrent_connects_and_disconnects_leave_the_count_exact(store: Arc<dyn Store>) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let mut projects = Vec::new();
    for i in 0..10 {
        let p = project(store.as_ref(), &ws, &owner).await;
        // Half start connected, so both kinds of call can succeed whatever
        // the order: the first disconnect of a connected project and the
        // first connect of an unconnected one always do.
        if i % 2 == 0 {
            store.connect(&ws.id, &bot.id, &p.id).await.unwrap();
        }
        projects.push(p.id);
    }
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..50 {
        let store = Arc::clone(&store);
        let (ws, bot) = (ws.id.clone(), bot.id.clone());
        let project = projects[i % projects.len()].clone();
        let connecting = (i / projects.len()) % 2 == 0;
        calls.spawn(async move {
            let result = if connecting {
                store.connect(&ws, &bot, &project).await.map(|_| ())
            } else {
                store.disconnect(&ws, &bot, &project).await
            };
            match result {
                Ok(()) => (connecting, true),
                Err(StoreError::Conflict(_) | StoreError::NotFound("connection")) => {
                    (connecting, false)
                }
                Err(other) => panic!("an unexpected failure: {other:?}"),
            }
        });
    }
    let (mut connects, mut disconnects) = (0u32, 0u32);
    while let Some(done) = calls.join_next().await {
        match done.unwrap() {
            (true, true) => connects += 1,
            (false, true) => disconnects += 1,
            _ => {}
        }
    }
    assert!(connects > 0 && disconnects > 0, "{connects} {disconnects}");
    let expected = 5 + connects - disconnects;
    assert_eq!(
        project_count(store.as_ref(), &ws, &owner, &bot.id).await,
        expected
    );
    let listed = store.list_connections(&ws.id, &bot.id).await.unwrap();
    assert_eq!(listed.len() as u32, expected);
    // The project-side halves: deleting every project disconnects exactly
    // the connections that survived, so the count comes back to zero.
    for project in &projects {
        store.delete_project(&ws.id, project).await.unwrap();
    }
    assert_eq!(project_count(store.as_ref(), &ws, &owner, &bot.id).await, 0);
    assert!(
        store
            .list_connections(&ws.id, &bot.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn documents_are_counted_and_a_deleted_one_cannot_come_back(store: Arc<dyn Store>) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let first = Document::new(
        ws.id.clone(),
        docs.id.clone(),
        "a.md".into(),
        Some(DocumentKind::Markdown),
        10,
    );
    store.create_document(&first).await.unwrap();
    let second = Document::new(
        ws.id.clone(),
        docs.id.clone(),
        "b.md".into(),
        Some(DocumentKind::Markdown),
        20,
    );
    store.create_document(&second).await.unwrap();
    let orphan = Document::new(
        ws.id.clone(),
        ProjectId::generate(),
        "c.md".into(),
        Some(DocumentKind::Markdown),
        1,
    );
    assert!(matches!(
        store.create_document(&orphan).await,
        Err(StoreError::NotFound("project"))
    ));
    let document_count = |store: Arc<dyn Store>| {
        let (ws, docs, owner) = (ws.id.clone(), docs.id.clone(), owner.id.clone());
        async move {
            store
                .get_project_for(&ws, &docs, &owner)
                .await
                .unwrap()
                .unwrap()
                .item
                .document_count
        }
    };
    assert_eq!(document_count(store.clone()).await, 2);
    store
        .set_document_progress(&first, DocumentStatus::Processing, 4, 2, None)
        .await
        .unwrap();
    let read = store
        .get_document(&ws.id, &docs.id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.status, read.chunk_count, read.chunks_done),
        (DocumentStatus::Processing, 4, 2)
    );
    store
        .set_document_progress(&first, DocumentStatus::Failed, 4, 0, Some("unreadable"))
        .await
        .unwrap();
    let read = store
        .get_document(&ws.id, &docs.id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.error.as_deref(), Some("unreadable"));
    let listed = store.list_documents(&ws.id, &docs.id, 0, 25).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].created_at >= listed[1].created_at, "newest first");
    store.delete_document(&first).await.unwrap();
    assert!(matches!(
        store.delete_document(&first).await,
        Err(StoreError::NotFound("document"))
    ));
    assert!(matches!(
        store
            .set_document_progress(&first, DocumentStatus::Completed, 4, 4, None)
            .await,
        Err(StoreError::NotFound("document"))
    ));
    assert_eq!(
        store
            .get_document(&ws.id, &docs.id, &first.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(document_count(store.clone()).await, 1);
    // The project's cascade takes the remaining record.
    store.delete_project(&ws.id, &docs.id).await.unwrap();
    assert_eq!(
        store
            .delete_children(&ws.id, &AccessTarget::Project(docs.id.clone()))
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .list_documents(&ws.id, &docs.id, 0, 25)
            .await
            .unwrap()
            .is_empty()
    );
}

/// What a resent request looks like to the store: the SDK resends an
/// attempt that timed out, and a store that applied the first one must not
/// refuse the second as an id collision (nor count the document twice);
/// another document under the same id still is one.
pub async fn a_document_written_again_as_stored_is_taken_as_written_once(store: Arc<dyn Store>) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let document = Document::new(
        ws.id.clone(),
        docs.id.clone(),
        "a.md".into(),
        Some(DocumentKind::Markdown),
        10,
    );
    store.create_document(&document).await.unwrap();
    store.create_document(&document).await.unwrap();
    let impostor = Document {
        name: "b.md".into(),
        ..document.clone()
    };
    assert!(matches!(
        store.create_document(&impostor).await,
        Err(StoreError::Conflict(_))
    ));
    let listed = store.list_documents(&ws.id, &docs.id, 0, 25).await.unwrap();
    assert_eq!(listed, vec![document.clone()]);
    let project = store
        .get_project_for(&ws.id, &docs.id, &owner.id)
        .await
        .unwrap()
        .unwrap()
        .item;
    assert_eq!(project.document_count, 1);
}

pub async fn documents_are_listed_newest_first_a_page_at_a_time(store: Arc<dyn Store>) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let mut created = Vec::new();
    for i in 0..7 {
        let document = Document::new(
            ws.id.clone(),
            docs.id.clone(),
            format!("file-{i}.md"),
            Some(DocumentKind::Markdown),
            10,
        );
        store.create_document(&document).await.unwrap();
        created.push(document.id);
    }
    let newest_first: Vec<shared::domain::ids::DocumentId> =
        created.iter().rev().cloned().collect();
    let page = |offset, limit| {
        let (store, ws, docs) = (store.clone(), ws.id.clone(), docs.id.clone());
        async move {
            store
                .list_documents(&ws, &docs, offset, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(0, 3).await, newest_first[..3]);
    assert_eq!(page(3, 3).await, newest_first[3..6]);
    assert_eq!(page(6, 3).await, newest_first[6..]);
    assert!(page(7, 3).await.is_empty());
    assert!(page(0, 0).await.is_empty());
    let second = store
        .get_document(&ws.id, &docs.id, &newest_first[1])
        .await
        .unwrap()
        .unwrap();
    store.delete_document(&second).await.unwrap();
    let mut remaining = newest_first.clone();
    remaining.remove(1);
    assert_eq!(
        page(0, 25).await,
        remaining,
        "a deleted document leaves the listing"
    );
    let counted = store
        .get_project_for(&ws.id, &docs.id, &owner.id)
        .await
        .unwrap()
        .unwrap()
        .item
        .document_count;
    assert_eq!(counted, 6);
}

pub async fn a_direct_upload_completes_once(store: Arc<dyn Store>) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let waiting = Document::new(ws.id.clone(), docs.id.clone(), "big.pdf".into(), None, 99);
    assert_eq!(waiting.status, DocumentStatus::Uploading);
    store.create_document(&waiting).await.unwrap();
    let completed = store
        .complete_upload(&waiting, DocumentKind::Pdf, 100)
        .await
        .unwrap();
    assert_eq!(completed.status, DocumentStatus::Pending);
    assert_eq!(
        (completed.kind, completed.size),
        (Some(DocumentKind::Pdf), 100)
    );
    assert!(matches!(
        store
            .complete_upload(&waiting, DocumentKind::Pdf, 100)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let read = store
        .get_document(&ws.id, &docs.id, &waiting.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.status, read.kind, read.size),
        (DocumentStatus::Pending, Some(DocumentKind::Pdf), 100)
    );
    // A completion whose job could not be queued is taken back, once.
    store.reopen_upload(&completed).await.unwrap();
    let read = store
        .get_document(&ws.id, &docs.id, &waiting.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.status, read.kind), (DocumentStatus::Uploading, None));
    assert!(matches!(
        store.reopen_upload(&completed).await,
        Err(StoreError::Conflict(_))
    ));
    let again = store
        .complete_upload(&read, DocumentKind::Pdf, 100)
        .await
        .unwrap();
    assert_eq!(again.status, DocumentStatus::Pending);
}

pub async fn a_project_is_seen_with_the_callers_grant(store: Arc<dyn Store>) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let guest = member(store.as_ref(), &ws, Role::Guest).await;
    let granted = |store: Arc<dyn Store>, who: UserId| {
        let (ws, docs) = (ws.id.clone(), docs.id.clone());
        async move {
            let one = store
                .get_project_for(&ws, &docs, &who)
                .await
                .unwrap()
                .unwrap()
                .granted;
            let listed = store.list_projects_for(&ws, &who).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].granted, one, "get and list agree");
            one
        }
    };
    assert!(!granted(store.clone(), guest.id.clone()).await);
    store
        .grant_access(&ws.id, &AccessTarget::Project(docs.id.clone()), &guest.id)
        .await
        .unwrap();
    assert!(granted(store.clone(), guest.id.clone()).await);
    assert!(!granted(store.clone(), owner.id.clone()).await);
    let updated = store
        .update_project(
            &ws.id,
            &docs.id,
            &ProjectChanges {
                name: Some("Renamed".into()),
                ..ProjectChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.visibility, ProjectVisibility::Private);
}

pub async fn a_read_in_context_brings_the_readers_membership_and_grant(store: Arc<dyn Store>) {
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

pub async fn a_deleted_project_leaves_a_tombstone_and_the_cascade_spares_a_live_one(
    store: Arc<dyn Store>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let bot = assistant(store.as_ref(), &ws, &owner).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    store.connect(&ws.id, &bot.id, &docs.id).await.unwrap();
    // A cascade queued for a delete that did not happen removes nothing.
    assert_eq!(
        store
            .delete_children(&ws.id, &AccessTarget::Project(docs.id.clone()))
            .await
            .unwrap(),
        0
    );
    assert_eq!(project_count(store.as_ref(), &ws, &owner, &bot.id).await, 1);
    assert!(store.project_exists(&ws.id, &docs.id).await.unwrap());
    assert!(!store.project_was_deleted(&ws.id, &docs.id).await.unwrap());

    store.delete_project(&ws.id, &docs.id).await.unwrap();
    assert!(!store.project_exists(&ws.id, &docs.id).await.unwrap());
    assert!(store.project_was_deleted(&ws.id, &docs.id).await.unwrap());
    assert_eq!(project_count(store.as_ref(), &ws, &owner, &bot.id).await, 0);
    // Deleting it again finishes nothing more and is no error; a project
    // that never existed is not found.
    store.delete_project(&ws.id, &docs.id).await.unwrap();
    assert_eq!(project_count(store.as_ref(), &ws, &owner, &bot.id).await, 0);
    assert!(matches!(
        store.delete_project(&ws.id, &ProjectId::generate()).await,
        Err(StoreError::NotFound("project"))
    ));
    // The tombstone belongs to its workspace alone.
    let (other, _) = workspace(store.as_ref()).await;
    assert!(
        !store
            .project_was_deleted(&other.id, &docs.id)
            .await
            .unwrap()
    );
}
