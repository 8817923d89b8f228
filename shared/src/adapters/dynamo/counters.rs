//! Counting on the table. Limits count uses in fixed windows, one
//! conditional addition per window item (which expires through the table's
//! TTL a day after its window). Counters every texter of an assistant
//! shares are plain atomic additions, never part of a transaction, so a
//! burst of texters never contends on one item. And a count over a key
//! range is read as a count (`Select: COUNT`), without the items.

use super::codec::n;
use super::requests::{Refused, UpdateSpec};
use super::{DynamoStore, Item, classify, key, write_failure};
use crate::adapters::contention::retry_contended;
use crate::domain::use_window::UseWindow;
use crate::ports::{Admission, StoreError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Select, TransactWriteItem};
use std::collections::HashMap;

/// How long a window's item outlives its window: TTL deletes eventually,
/// and a window is read only while it is open.
const COUNTER_GRACE_SECONDS: i64 = 86_400;

const WINDOW_EXPRESSION: &str =
    "SET #uses = if_not_exists(#uses, :zero) + :one, expiresAt = :expires";
const WINDOW_CONDITION: &str = "attribute_not_exists(#uses) OR #uses < :allowed";

fn window_values<L>(window: &UseWindow<L>) -> Vec<(&'static str, AttributeValue)> {
    let expires = window.ends_at.millis() / 1000 + COUNTER_GRACE_SECONDS;
    vec![
        (":zero", n(0)),
        (":one", n(1)),
        (":expires", n(expires)),
        (":allowed", n(window.allowed)),
    ]
}

impl DynamoStore {
    /// One more use in a window that still has room, as a transaction
    /// item; `(pk, sk)` is the window's item.
    pub(super) fn count_in<L>(
        &self,
        (pk, sk): (String, String),
        window: &UseWindow<L>,
    ) -> TransactWriteItem {
        self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: WINDOW_EXPRESSION,
            condition: Some(WINDOW_CONDITION),
            names: &[("#uses", "uses")],
            values: window_values(window),
        })
    }

    /// One more use in a window, on its own: whether it had room.
    pub(super) async fn count_alone<L>(
        &self,
        (pk, sk): (String, String),
        window: &UseWindow<L>,
    ) -> Result<bool, StoreError> {
        self.update_alone(UpdateSpec {
            key: key(pk, sk),
            expression: WINDOW_EXPRESSION,
            condition: Some(WINDOW_CONDITION),
            names: &[("#uses", "uses")],
            values: window_values(window),
        })
        .await
    }

    /// One more use in each window, all or none (each `(item, window)`):
    /// refused at the first full one.
    pub(super) async fn count_all<L>(
        &self,
        windows: Vec<((String, String), &UseWindow<L>)>,
    ) -> Result<Admission, StoreError> {
        let items = windows
            .into_iter()
            .map(|(item, window)| self.count_in(item, window))
            .collect();
        match self.transact_or(items, |full| full).await {
            Ok(()) => Ok(Admission::Admitted),
            Err(Refused::Condition(full)) => Ok(Admission::Refused(full)),
            Err(Refused::Store(e)) => Err(e),
        }
    }

    /// One conditional `UpdateItem` on its own: `false` when its condition
    /// did not hold (and nothing was written).
    pub(super) async fn update_alone(&self, spec: UpdateSpec<'_>) -> Result<bool, StoreError> {
        let names: HashMap<String, String> = spec
            .names
            .iter()
            .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
            .collect();
        let values: HashMap<String, AttributeValue> = spec
            .values
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        retry_contended(|| async {
            let updated = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(spec.key.clone()))
                .update_expression(spec.expression)
                .set_condition_expression(spec.condition.map(str::to_owned))
                .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
                .set_expression_attribute_values((!values.is_empty()).then(|| values.clone()))
                .send()
                .await;
            match updated {
                Ok(_) => Ok(true),
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) =>
                {
                    Ok(false)
                }
                Err(err) => Err(write_failure(err)),
            }
        })
        .await
    }

    /// Adds `amounts` to the counters of one item, creating what is not
    /// there yet: one atomic `ADD`, apart from any transaction.
    pub(super) async fn add_to(
        &self,
        (pk, sk): (String, String),
        amounts: &[(&str, u64)],
    ) -> Result<(), StoreError> {
        let mut expression = String::from("ADD ");
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        for (i, (counter, amount)) in amounts.iter().enumerate() {
            if i > 0 {
                expression.push_str(", ");
            }
            expression.push_str(&format!("#c{i} :a{i}"));
            names.insert(format!("#c{i}"), (*counter).to_owned());
            values.insert(format!(":a{i}"), n(*amount));
        }
        retry_contended(|| async {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), sk.clone())))
                .update_expression(expression.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(write_failure)
        })
        .await
    }

    /// How many items of the partition `pk` have a sort key of at least
    /// `from` and pass `filter` (an expression and its values), counted
    /// consistently, following pages.
    pub(super) async fn count_partition_from(
        &self,
        pk: &str,
        from: &str,
        filter: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<u64, StoreError> {
        let mut values: Item = [
            (":pk".to_owned(), AttributeValue::S(pk.to_owned())),
            (":from".to_owned(), AttributeValue::S(from.to_owned())),
        ]
        .into();
        let expression = filter.map(|(expression, filter_values)| {
            values.extend(
                filter_values
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value)),
            );
            expression.to_owned()
        });
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK >= :from")
            .set_filter_expression(expression)
            .set_expression_attribute_values(Some(values))
            .select(Select::Count)
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut count = 0;
        while let Some(page) = pages.try_next().await.map_err(classify)? {
            count += u64::try_from(page.count).unwrap_or(0);
        }
        Ok(count)
    }
}
