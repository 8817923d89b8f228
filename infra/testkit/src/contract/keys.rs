//! The key port: a key authenticates until revoked, by its owner only.

use super::fixtures::*;
use shared::domain::api_key::ApiKeySecret;
use shared::domain::ids::UserId;
use shared::ports::StoreError;
use shared::ports::{KeyStore, WorkspaceStore};
use std::sync::Arc;

pub async fn a_key_authenticates_until_revoked_and_only_its_owner_can_revoke_it<
    S: ?Sized + WorkspaceStore + KeyStore + 'static,
>(
    store: Arc<S>,
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
