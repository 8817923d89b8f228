//! API keys, stored under the hash of the key.

use super::codec::{self, s, time};
use super::keys::{self, GSI1, GSI1PK, GSI1SK, PK, SK};
use super::{DynamoStore, classify, key};
use crate::domain::api_key::{ApiKey, ApiKeyHash, ApiKeySecret, KeyOwner};
use crate::domain::ids::{ApiKeyId, UserId};
use crate::domain::time::Timestamp;
use crate::ports::{KeyStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

#[async_trait]
impl KeyStore for DynamoStore {
    /// Issues a new key for a user; the secret is returned once, only its
    /// hash is kept.
    async fn create_api_key(
        &self,
        user_id: &UserId,
        name: String,
    ) -> Result<(ApiKey, ApiKeySecret), StoreError> {
        let secret = ApiKeySecret::generate();
        let key_record = ApiKey {
            id: ApiKeyId::generate(),
            user_id: user_id.clone(),
            name,
            prefix: secret.visible_prefix(),
            created_at: Timestamp::now(),
            last_used_at: None,
            revoked_at: None,
        };
        let (pk, sk) = keys::api_key(&secret.hash());
        let (gsi_pk, gsi_sk) = keys::api_key_index(user_id, &key_record.id);
        let mut item = key(pk, sk);
        item.extend([
            (GSI1PK.to_owned(), s(gsi_pk)),
            (GSI1SK.to_owned(), s(gsi_sk)),
            ("keyId".to_owned(), s(key_record.id.as_str())),
            ("userId".to_owned(), s(user_id.as_str())),
            ("name".to_owned(), s(key_record.name.as_str())),
            ("prefix".to_owned(), s(key_record.prefix.as_str())),
            ("createdAt".to_owned(), time(key_record.created_at)),
        ]);
        self.put_new(item, "API key").await?;
        Ok((key_record, secret))
    }

    /// Looks a key up by its hash and records its use, in one round trip.
    /// `None` for unknown and revoked keys alike.
    /// One consistent read; a write only when the key's `lastUsedAt` is
    /// an hour stale, so a made-up key costs one read and nothing else.
    async fn authenticate(&self, hash: &ApiKeyHash) -> Result<Option<KeyOwner>, StoreError> {
        let (pk, sk) = keys::api_key(hash);
        let Some(item) = self.get(pk.clone(), sk.clone()).await? else {
            return Ok(None);
        };
        let record = codec::api_key(&item)?;
        if record.revoked_at.is_some() {
            return Ok(None);
        }
        let now = Timestamp::now();
        if record.use_is_news(now) {
            let touched = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .update_expression("SET lastUsedAt = :now")
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(revokedAt)")
                .expression_attribute_values(":now", time(now))
                .send()
                .await;
            match touched {
                Ok(_) => {}
                // Revoked between the read and the write.
                Err(SdkError::ServiceError(service))
                    if matches!(
                        service.err(),
                        UpdateItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    return Ok(None);
                }
                Err(err) => return Err(classify(err)),
            }
        }
        Ok(Some(KeyOwner {
            user_id: record.user_id,
            key_id: record.id,
        }))
    }

    async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>, StoreError> {
        let items = self
            .query_index(&keys::user_index(user_id), keys::API_KEY_INDEX_PREFIX)
            .await?;
        let mut keys: Vec<ApiKey> = items.iter().map(codec::api_key).collect::<Result<_, _>>()?;
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(keys)
    }

    /// Revokes one of the user's keys and returns its hash, so a cache can
    /// forget it at once. Revoking twice is fine; another user's key is not
    /// found.
    async fn revoke_api_key(
        &self,
        user_id: &UserId,
        key_id: &ApiKeyId,
    ) -> Result<ApiKeyHash, StoreError> {
        let (gsi_pk, gsi_sk) = keys::api_key_index(user_id, key_id);
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("GSI1PK = :pk AND GSI1SK = :sk")
            .expression_attribute_values(":pk", s(gsi_pk))
            .expression_attribute_values(":sk", s(gsi_sk))
            .send()
            .await
            .map_err(classify)?;
        let item = found
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("API key"))?;
        let pk = codec::text(&item, PK)?.to_owned();
        let sk = codec::text(&item, SK)?.to_owned();
        let hash = pk
            .strip_prefix("APIKEY#")
            .map(|h| ApiKeyHash::from_stored(h.to_owned()))
            .ok_or_else(|| StoreError::Corrupt("API key partition".into()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET revokedAt = if_not_exists(revokedAt, :now)")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", time(Timestamp::now()))
            .send()
            .await
            .map_err(classify)?;
        Ok(hash)
    }
}
