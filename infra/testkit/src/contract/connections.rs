//! The connection port: a project connected to an assistant is counted
//! once, both halves go together, and concurrent changes keep the count.

use super::fixtures::*;
use shared::domain::access::AccessTarget;
use shared::domain::ids::{AssistantId, ProjectId};
use shared::ports::StoreError;
use shared::ports::{AssistantStore, CascadeStore, ConnectionStore, ProjectStore, WorkspaceStore};
use std::sync::Arc;

pub async fn a_connection_is_counted_once_and_both_halves_go_with_either_side<
    S: ?Sized
        + WorkspaceStore
        + ConnectionStore
        + ProjectStore
        + AssistantStore
        + CascadeStore
        + 'static,
>(
    store: Arc<S>,
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

pub async fn concurrent_connects_and_disconnects_leave_the_count_exact<
    S: ?Sized + WorkspaceStore + ConnectionStore + ProjectStore + AssistantStore + 'static,
>(
    store: Arc<S>,
) {
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
