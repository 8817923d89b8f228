//! The requests every part of the adapter builds on: reads that follow
//! pages and unprocessed keys, the pieces of a transaction, and writes that
//! retry cancellations (see `adapters::contention`).

use super::codec::{self, s};
use super::keys::GSI1;
use super::{
    BATCH_GET_MAX, BATCH_WRITE_MAX, DynamoStore, Item, already_applied, classify, key,
    transaction_failure, write_failure,
};
use crate::adapters::contention::retry_contended;
use crate::ports::{Conflict, StoreError};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put, PutRequest,
    ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use rand::Rng;
use rand::distr::Alphanumeric;
use std::collections::HashMap;
use std::time::Duration;

/// One `Update` of a transaction. Attribute names always go through
/// placeholders (`#name`), since several of ours are reserved words.
/// What became of a [`DynamoStore::update_if`].
pub(super) enum Updated {
    Written,
    /// Its condition failed; the item as stored, if there is one.
    Refused(Option<Item>),
}

/// Why a [`DynamoStore::transact_or`] write was refused.
pub(super) enum Refused<R> {
    /// The condition of the item `explain` named so.
    Condition(R),
    /// The store itself.
    Store(StoreError),
}

impl<R> From<StoreError> for Refused<R> {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

pub(super) struct UpdateSpec<'a> {
    pub key: Item,
    pub expression: &'a str,
    pub condition: Option<&'a str>,
    pub names: &'a [(&'a str, &'a str)],
    pub values: Vec<(&'a str, AttributeValue)>,
}

/// The update of named fields (`None` removes one) and `updatedAt`, on an
/// item that exists and still holds each `expected` (field, value).
struct FieldUpdate {
    expression: String,
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl FieldUpdate {
    fn new(
        fields: Vec<(&'static str, Option<AttributeValue>)>,
        expected: Vec<(&'static str, AttributeValue)>,
        now: crate::domain::time::Timestamp,
    ) -> Self {
        let mut sets = vec!["updatedAt = :updatedAt".to_owned()];
        let mut removes = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":updatedAt".to_owned(), codec::time(now))]);
        for (field, value) in fields {
            match value {
                Some(value) => {
                    sets.push(format!("#{field} = :{field}"));
                    values.insert(format!(":{field}"), value);
                }
                None => removes.push(format!("#{field}")),
            }
            names.insert(format!("#{field}"), field.to_owned());
        }
        let condition = unchanged_condition(expected, &mut names, &mut values);
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        Self {
            expression,
            condition,
            names,
            values,
        }
    }
}

/// That an item exists and still holds each `expected` (field, value),
/// adding the names and values the condition reads.
fn unchanged_condition(
    expected: Vec<(&'static str, AttributeValue)>,
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
) -> String {
    let mut condition = "attribute_exists(PK)".to_owned();
    for (field, value) in expected {
        condition.push_str(&format!(" AND #{field} = :was_{field}"));
        names.insert(format!("#{field}"), field.to_owned());
        values.insert(format!(":was_{field}"), value);
    }
    condition
}

/// Expression values (`:name`) as the SDK takes them; none is no map.
fn expression_values(
    values: Vec<(&str, AttributeValue)>,
) -> Option<HashMap<String, AttributeValue>> {
    let values: HashMap<String, AttributeValue> =
        values.into_iter().map(|(p, v)| (p.to_owned(), v)).collect();
    (!values.is_empty()).then_some(values)
}

/// A fresh `ClientRequestToken` (at most 36 characters).
fn request_token() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

impl DynamoStore {
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

    /// Reads items by key, consistently, in as few round trips as the
    /// 100-key limit allows, retrying keys the service left unprocessed.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .expect("keys are set"),
            );
            let mut attempt = 0u32;
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                if let Some(mut responses) = output.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .filter(|rest| !rest.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt > 5 {
                        return Err(StoreError::Transient(
                            "batch read kept leaving keys unprocessed".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
                }
            }
        }
        Ok(found)
    }

    /// Every item of a table partition whose sort key starts with `prefix`
    /// (the whole partition when it is empty), read consistently, following
    /// pages.
    pub(super) async fn query_partition(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(None, pk, prefix).await
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

    async fn query_all(
        &self,
        index: Option<&str>,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let condition = match (index, prefix.is_empty()) {
            (Some(_), false) => "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            (Some(_), true) => "GSI1PK = :pk",
            (None, false) => "PK = :pk AND begins_with(SK, :prefix)",
            (None, true) => "PK = :pk",
        };
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .set_expression_attribute_values(Some(
                [(":pk".to_owned(), s(pk))]
                    .into_iter()
                    .chain((!prefix.is_empty()).then(|| (":prefix".to_owned(), s(prefix))))
                    .collect(),
            ))
            .consistent_read(index.is_none())
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<Item>, _>>()
            .await
            .map_err(classify)
    }

    /// A new item under a fresh id (96 random bits, or a fresh timestamp
    /// with one): if it is found already stored exactly as written, the
    /// transaction it belongs to is a resend of one that landed (see
    /// `already_applied`).
    pub(super) fn put_fresh(&self, item: Item) -> TransactWriteItem {
        self.put(item, "attribute_not_exists(PK)", Vec::new(), true)
    }

    pub(super) fn put_item(&self, item: Item, condition: &str) -> TransactWriteItem {
        self.put(item, condition, Vec::new(), false)
    }

    /// A put whose condition reads values (`:name`).
    pub(super) fn put_if(
        &self,
        item: Item,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> TransactWriteItem {
        self.put(item, condition, values, false)
    }

    fn put(
        &self,
        item: Item,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        fresh: bool,
    ) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(expression_values(values))
            .set_return_values_on_condition_check_failure(
                fresh.then_some(ReturnValuesOnConditionCheckFailure::AllOld),
            )
            .build()
            .expect("table, item and condition are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// A delete whose condition reads values (`:name`).
    pub(super) fn delete_if(
        &self,
        key: Item,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> TransactWriteItem {
        self.delete(
            key,
            Some(condition.to_owned()),
            HashMap::new(),
            expression_values(values).unwrap_or_default(),
        )
    }

    fn delete(
        &self,
        key: Item,
        condition: Option<String>,
        names: HashMap<String, String>,
        values: HashMap<String, AttributeValue>,
    ) -> TransactWriteItem {
        TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names((!names.is_empty()).then_some(names))
                    .set_expression_attribute_values((!values.is_empty()).then_some(values))
                    .build()
                    .expect("table and key are set"),
            )
            .build()
    }

    pub(super) fn update_item(&self, spec: UpdateSpec<'_>) -> TransactWriteItem {
        let names: HashMap<String, String> = spec
            .names
            .iter()
            .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
            .collect();
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(spec.key))
            .update_expression(spec.expression)
            .set_condition_expression(spec.condition.map(str::to_owned))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(expression_values(spec.values))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// `spec` as one conditional `UpdateItem` of its own, for a write that
    /// needs no transaction (half the write units, and no conflict with
    /// transactions on other items). `Refused(item)` holds the item as
    /// stored when the condition failed (`None` if there is none), so the
    /// caller can tell a resent update that had landed from a real refusal.
    pub(super) async fn update_if(&self, spec: UpdateSpec<'_>) -> Result<Updated, StoreError> {
        let names: HashMap<String, String> = spec
            .names
            .iter()
            .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
            .collect();
        let values = expression_values(spec.values);
        retry_contended(|| async {
            let updated = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(spec.key.clone()))
                .update_expression(spec.expression)
                .set_condition_expression(spec.condition.map(str::to_owned))
                .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
                .set_expression_attribute_values(values.clone())
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match updated {
                Ok(_) => Ok(Updated::Written),
                Err(err) => match err.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                        Ok(Updated::Refused(refused.item().cloned()))
                    }
                    _ => Err(write_failure(err)),
                },
            }
        })
        .await
    }

    pub(super) fn delete_item(&self, key: Item, condition: &str) -> TransactWriteItem {
        self.delete(
            key,
            Some(condition.to_owned()),
            HashMap::new(),
            HashMap::new(),
        )
    }

    /// A delete of an item that exists and still holds each `expected`
    /// (field, value).
    pub(super) fn delete_unless_changed(
        &self,
        key: Item,
        expected: Vec<(&'static str, AttributeValue)>,
    ) -> TransactWriteItem {
        let (mut names, mut values) = (HashMap::new(), HashMap::new());
        let condition = unchanged_condition(expected, &mut names, &mut values);
        self.delete(key, Some(condition), names, values)
    }

    /// A delete that holds whether or not the item is there.
    pub(super) fn delete_key(&self, key: Item) -> TransactWriteItem {
        self.delete(key, None, HashMap::new(), HashMap::new())
    }

    /// The first `count` items of a table partition whose sort key starts
    /// with `prefix`, in sort-key order (`forward`) or reversed, read
    /// consistently: one page when it holds them.
    pub(super) async fn query_first(
        &self,
        pk: &str,
        prefix: &str,
        forward: bool,
        count: usize,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_first_where(
            "PK = :pk AND begins_with(SK, :prefix)",
            vec![(":pk", s(pk)), (":prefix", s(prefix))],
            forward,
            count,
        )
        .await
    }

    /// The first `count` items of the partition `pk` whose sort keys lie
    /// between `low` and `high` (both included), in order or backwards.
    pub(super) async fn query_between(
        &self,
        pk: &str,
        (low, high): (&str, &str),
        forward: bool,
        count: usize,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_first_where(
            "PK = :pk AND SK BETWEEN :low AND :high",
            vec![(":pk", s(pk)), (":low", s(low)), (":high", s(high))],
            forward,
            count,
        )
        .await
    }

    async fn query_first_where(
        &self,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        forward: bool,
        count: usize,
    ) -> Result<Vec<Item>, StoreError> {
        // A page holds `count` items unless DynamoDB's 1 MB cut it short;
        // only then is another page read.
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_values(expression_values(values))
            .scan_index_forward(forward)
            .consistent_read(true)
            .into_paginator()
            .page_size(i32::try_from(count).unwrap_or(i32::MAX))
            .send();
        let mut items = Vec::new();
        while items.len() < count {
            match pages.try_next().await.map_err(classify)? {
                Some(page) => items.extend(page.items.unwrap_or_default()),
                None => break,
            }
        }
        items.truncate(count);
        Ok(items)
    }

    pub(super) fn require_exists(&self, key: Item) -> TransactWriteItem {
        TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .condition_expression("attribute_exists(PK)")
                    .build()
                    .expect("table, key and condition are set"),
            )
            .build()
    }

    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        explain: impl Fn(usize) -> StoreError,
    ) -> Result<(), StoreError> {
        retry_contended(|| async {
            self.client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                // The SDK retries a timed-out attempt as it was sent: the
                // token makes that retry a no-op if the first one landed.
                .client_request_token(request_token())
                .send()
                .await
                .map(|_| ())
                .or_else(|err| {
                    if already_applied(&err, &items) {
                        tracing::info!("a resent transaction had already been applied");
                        Ok(())
                    } else {
                        Err(transaction_failure(err, &explain))
                    }
                })
        })
        .await
    }

    /// A transaction whose failed conditions are this adapter's own signals
    /// (a race to retry, a duplicate to report) rather than errors for its
    /// caller: `explain` names the item whose condition failed in the
    /// adapter's terms, and the refusal comes back as that, never as text
    /// to match.
    pub(super) async fn transact_or<R: Send>(
        &self,
        items: Vec<TransactWriteItem>,
        explain: impl Fn(usize) -> R + Send + Sync,
    ) -> Result<(), Refused<R>> {
        // A failed condition ends the write at once (it is never retried),
        // so the reason noted here is the one the error below stands for.
        let noted = std::sync::Mutex::new(None);
        let written = self
            .transact(items, |index| {
                *noted.lock().expect("never poisoned") = Some(explain(index));
                StoreError::Corrupt("a condition failed".into())
            })
            .await;
        match (written, noted.into_inner().expect("never poisoned")) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(reason)) => Err(Refused::Condition(reason)),
            (Err(error), None) => Err(Refused::Store(error)),
        }
    }

    /// Writes an item that must not exist yet, on its own; `what` names it
    /// if an item with its key already does (an id collision).
    pub(super) async fn put_new(&self, item: Item, what: &'static str) -> Result<(), StoreError> {
        retry_contended(|| async {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(PK)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match put {
                Ok(_) => Ok(()),
                Err(err) => match err.as_service_error() {
                    // A resent attempt of a put that landed (as in `already_applied`).
                    Some(PutItemError::ConditionalCheckFailedException(refused))
                        if refused.item() == Some(&item) =>
                    {
                        Ok(())
                    }
                    Some(PutItemError::ConditionalCheckFailedException(_)) => {
                        Err(StoreError::from(Conflict::IdCollision(what)).into())
                    }
                    _ => Err(write_failure(err)),
                },
            }
        })
        .await
    }

    /// Writes the named fields of an existing item (`None` removes one) and
    /// its `updatedAt`, in one conditional update, and returns the item as
    /// stored afterwards; `NotFound(what)` if there is no such item.
    pub(super) async fn update_fields(
        &self,
        item_key: Item,
        fields: Vec<(&'static str, Option<AttributeValue>)>,
        what: &'static str,
    ) -> Result<Item, StoreError> {
        self.update_fields_if(item_key, fields, Vec::new(), what)
            .await
    }

    /// [`Self::update_fields`] on an item that must also still hold each of
    /// `expected` (field, value); `NotFound(what)` if it does not.
    pub(super) async fn update_fields_if(
        &self,
        item_key: Item,
        fields: Vec<(&'static str, Option<AttributeValue>)>,
        expected: Vec<(&'static str, AttributeValue)>,
        what: &'static str,
    ) -> Result<Item, StoreError> {
        let update = FieldUpdate::new(fields, expected, crate::domain::time::Timestamp::now());
        let condition_failed = |err: &SdkError<UpdateItemError, _>| {
            matches!(
                err.as_service_error(),
                Some(UpdateItemError::ConditionalCheckFailedException(_))
            )
        };
        retry_contended(|| async {
            let updated = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(item_key.clone()))
                .update_expression(update.expression.clone())
                .condition_expression(update.condition.clone())
                .set_expression_attribute_names(
                    (!update.names.is_empty()).then(|| update.names.clone()),
                )
                .set_expression_attribute_values(Some(update.values.clone()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match updated {
                Ok(output) => Ok(output.attributes.unwrap_or_default()),
                Err(err) if condition_failed(&err) => Err(StoreError::NotFound(what).into()),
                Err(err) => Err(write_failure(err)),
            }
        })
        .await
    }

    /// [`Self::update_fields_if`] as one item of a transaction, with the
    /// `updatedAt` it writes.
    pub(super) fn update_fields_item(
        &self,
        item_key: Item,
        fields: Vec<(&'static str, Option<AttributeValue>)>,
        expected: Vec<(&'static str, AttributeValue)>,
        now: crate::domain::time::Timestamp,
    ) -> TransactWriteItem {
        let update = FieldUpdate::new(fields, expected, now);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression(update.expression)
            .condition_expression(update.condition)
            .set_expression_attribute_names((!update.names.is_empty()).then_some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// Deletes up to 25 items per call.
    pub(super) async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let deletes = keys.into_iter().map(|k| {
            WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(k))
                        .build()
                        .expect("key is set"),
                )
                .build()
        });
        self.batch_write(deletes.collect()).await
    }

    /// Writes up to 25 whole items per call, each as it is given.
    pub(super) async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let puts = items.into_iter().map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("item is set"),
                )
                .build()
        });
        self.batch_write(puts.collect()).await
    }

    /// Up to 25 writes in one call, retrying what the service leaves
    /// unprocessed (the local server never does, so the limit is ours).
    async fn batch_write(&self, mut pending: Vec<WriteRequest>) -> Result<(), StoreError> {
        debug_assert!(pending.len() <= BATCH_WRITE_MAX);
        for attempt in 0..6u32 {
            if pending.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut pending))
                .send()
                .await
                .map_err(classify)?;
            pending = output
                .unprocessed_items
                .and_then(|mut rest| rest.remove(&self.table))
                .unwrap_or_default();
        }
        Err(StoreError::Transient(
            "a batch write kept leaving items unprocessed".into(),
        ))
    }
}
