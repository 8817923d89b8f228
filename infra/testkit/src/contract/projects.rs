//! The project port: a project read with the caller's grant, and a
//! deleted one's tombstone.

use super::fixtures::*;
use shared::domain::access::AccessTarget;
use shared::domain::ids::{ProjectId, UserId};
use shared::domain::project::{ProjectChanges, ProjectVisibility};
use shared::domain::role::Role;
use shared::ports::StoreError;
use shared::ports::{
    AssistantStore, CascadeStore, ConnectionStore, GrantStore, ProjectStore, WorkspaceStore,
};
use std::sync::Arc;

pub async fn a_project_is_seen_with_the_callers_grant<
    S: ?Sized + WorkspaceStore + ProjectStore + GrantStore + 'static,
>(
    store: Arc<S>,
) {
    let (ws, owner) = workspace(store.as_ref()).await;
    let docs = project(store.as_ref(), &ws, &owner).await;
    let guest = member(store.as_ref(), &ws, Role::Guest).await;
    let granted = |store: Arc<S>, who: UserId| {
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

pub async fn a_deleted_project_leaves_a_tombstone_and_the_cascade_spares_a_live_one<
    S: ?Sized
        + WorkspaceStore
        + ConnectionStore
        + CascadeStore
        + ProjectStore
        + AssistantStore
        + 'static,
>(
    store: Arc<S>,
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
