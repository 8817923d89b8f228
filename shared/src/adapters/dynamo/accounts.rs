//! Users and their API keys.

use super::codec::{self, s, time};
use super::keys::{self, GSI1, GSI1PK, GSI1SK, PK, SK};
use super::{Item, Store, StoreError, classify, failed_conditions, key};
use crate::domain::api_key::{ApiKey, ApiKeyHash, ApiKeySecret};
use crate::domain::ids::{ApiKeyId, UserId};
use crate::domain::member::{Email, User};
use crate::domain::time::Timestamp;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem};

/// Who a valid key belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    pub user_id: UserId,
    pub key_id: ApiKeyId,
}

impl Store {
    pub(super) fn put_item(&self, item: Item, condition: &str) -> TransactWriteItem {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(condition)
                    .build()
                    .expect("table, item and condition are set"),
            )
            .build()
    }

    /// The user's profile, and a copy under the email so that finding a user
    /// by email is one read. Both are written once and never changed.
    pub(super) fn user_items(&self, user: &User) -> Vec<TransactWriteItem> {
        let profile_attributes = [
            ("id".to_owned(), s(user.id.as_str())),
            ("email".to_owned(), s(user.email.as_str())),
            ("name".to_owned(), s(user.name.as_str())),
            ("createdAt".to_owned(), time(user.created_at)),
        ];
        let (pk, sk) = keys::user(&user.id);
        let mut profile = key(pk, sk);
        profile.extend(profile_attributes.clone());
        let (pk, sk) = keys::email(&user.email);
        let mut by_email = key(pk, sk);
        by_email.extend(profile_attributes);
        vec![
            self.put_item(profile, "attribute_not_exists(PK)"),
            self.put_item(by_email, "attribute_not_exists(PK)"),
        ]
    }

    /// Creates a user; a taken email is a conflict.
    pub async fn create_user(&self, email: Email, name: String) -> Result<User, StoreError> {
        let user = User {
            id: UserId::generate(),
            email,
            name,
            created_at: Timestamp::now(),
        };
        self.client
            .transact_write_items()
            .set_transact_items(Some(self.user_items(&user)))
            .send()
            .await
            .map_err(|err| {
                transaction_error(err, |_| {
                    StoreError::Conflict("a user with this email already exists".into())
                })
            })?;
        Ok(user)
    }

    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let (pk, sk) = keys::email(email);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::user)
            .transpose()
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let (pk, sk) = keys::user(id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::user)
            .transpose()
    }

    /// Issues a new key for a user; the secret is returned once, only its
    /// hash is kept.
    pub async fn create_api_key(
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
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(classify)?;
        Ok((key_record, secret))
    }

    /// Looks a key up by its hash and records its use, in one round trip.
    /// `None` for unknown and revoked keys alike.
    pub async fn authenticate(&self, hash: &ApiKeyHash) -> Result<Option<KeyOwner>, StoreError> {
        let (pk, sk) = keys::api_key(hash);
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET lastUsedAt = :now")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(revokedAt)")
            .expression_attribute_values(":now", time(Timestamp::now()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => {
                let item = output.attributes.unwrap_or_default();
                let record = codec::api_key(&item)?;
                Ok(Some(KeyOwner {
                    user_id: record.user_id,
                    key_id: record.id,
                }))
            }
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(None)
            }
            Err(err) => Err(classify(err)),
        }
    }

    pub async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>, StoreError> {
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
    pub async fn revoke_api_key(
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

    /// Every item of a `GSI1` partition whose sort key starts with `prefix`,
    /// following pages. (Index reads are eventually consistent.)
    pub(super) async fn query_index(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(Some(GSI1), pk, prefix).await
    }

    /// Every item of a table partition whose sort key starts with `prefix`,
    /// read consistently, following pages.
    pub(super) async fn query_partition(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(None, pk, prefix).await
    }

    async fn query_all(
        &self,
        index: Option<&str>,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let condition = match index {
            Some(_) => "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            None => "PK = :pk AND begins_with(SK, :prefix)",
        };
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(index.is_none())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// One item by key, read consistently.
    pub(super) async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(found.item)
    }
}

/// Turns a cancelled transaction into the error of the first item whose
/// condition failed, as `explain(index)` describes it.
pub(super) fn transaction_error(
    err: SdkError<TransactWriteItemsError, aws_smithy_runtime_api::http::Response>,
    explain: impl Fn(usize) -> StoreError,
) -> StoreError {
    match err {
        SdkError::ServiceError(ref service) => {
            if let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err()
            {
                let failed = failed_conditions(cancelled.cancellation_reasons());
                if let Some(index) = failed.iter().position(|f| *f) {
                    return explain(index);
                }
            }
            classify(err)
        }
        other => classify(other),
    }
}
