//! API keys in memory: only their hash, as the DynamoDB adapter stores
//! them.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::api_key::{ApiKey, ApiKeyHash, ApiKeySecret, KeyOwner};
use crate::domain::ids::{ApiKeyId, UserId};
use crate::domain::time::Timestamp;
use crate::ports::{KeyStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl KeyStore for MemoryStore {
    async fn create_api_key(
        &self,
        user: &UserId,
        name: String,
    ) -> Result<(ApiKey, ApiKeySecret), StoreError> {
        self.run(Call::Write, |t| {
            let secret = ApiKeySecret::generate();
            let key = ApiKey {
                id: ApiKeyId::generate(),
                user_id: user.clone(),
                name,
                prefix: secret.visible_prefix(),
                created_at: Timestamp::now(),
                last_used_at: None,
                revoked_at: None,
            };
            t.keys.insert(secret.hash(), key.clone());
            Ok((key, secret))
        })
        .await
    }

    async fn authenticate(&self, hash: &ApiKeyHash) -> Result<Option<KeyOwner>, StoreError> {
        self.run(Call::Write, |t| {
            Ok(t.keys
                .get_mut(hash)
                .filter(|key| key.revoked_at.is_none())
                .map(|key| {
                    let now = Timestamp::now();
                    if key.use_is_news(now) {
                        key.last_used_at = Some(now);
                    }
                    KeyOwner {
                        user_id: key.user_id.clone(),
                        key_id: key.id.clone(),
                    }
                }))
        })
        .await
    }

    async fn list_api_keys(&self, user: &UserId) -> Result<Vec<ApiKey>, StoreError> {
        self.run(Call::Read, |t| {
            let mut keys: Vec<ApiKey> = t
                .keys
                .values()
                .filter(|k| &k.user_id == user)
                .cloned()
                .collect();
            keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
            Ok(keys)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        user: &UserId,
        key: &ApiKeyId,
    ) -> Result<ApiKeyHash, StoreError> {
        self.run(Call::Write, |t| {
            let (hash, stored) = t
                .keys
                .iter_mut()
                .find(|(_, k)| &k.id == key && &k.user_id == user)
                .ok_or(StoreError::NotFound("API key"))?;
            stored.revoked_at.get_or_insert_with(Timestamp::now);
            Ok(hash.clone())
        })
        .await
    }
}
