//! The document port: counts, tombstones, idempotent writes, paging and
//! direct uploads.

use super::fixtures::*;
use shared::domain::access::AccessTarget;
use shared::domain::document::{Document, DocumentKind, DocumentStatus};
use shared::domain::ids::ProjectId;
use shared::ports::StoreError;
use shared::ports::{CascadeStore, DocumentStore, ProjectStore, WorkspaceStore};
use std::sync::Arc;

pub async fn documents_are_counted_and_a_deleted_one_cannot_come_back<
    S: ?Sized + WorkspaceStore + DocumentStore + ProjectStore + CascadeStore + 'static,
>(
    store: Arc<S>,
) {
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
    let document_count = |store: Arc<S>| {
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
pub async fn a_document_written_again_as_stored_is_taken_as_written_once<
    S: ?Sized + WorkspaceStore + DocumentStore + ProjectStore + 'static,
>(
    store: Arc<S>,
) {
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

pub async fn documents_are_listed_newest_first_a_page_at_a_time<
    S: ?Sized + WorkspaceStore + DocumentStore + ProjectStore + 'static,
>(
    store: Arc<S>,
) {
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

pub async fn a_direct_upload_completes_once<
    S: ?Sized + WorkspaceStore + DocumentStore + ProjectStore + 'static,
>(
    store: Arc<S>,
) {
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
