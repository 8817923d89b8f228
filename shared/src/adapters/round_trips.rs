//! Counts the HTTP attempts an SDK client makes, so tests can hold the API to
//! its round-trip budget per request; records the items each DynamoDB
//! transaction names, so tests can show which writes could contend; and
//! the IAM action and partition key every DynamoDB request needs, so tests
//! can hold a function's policy to what it really does.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What one request asked of the table.
#[derive(Clone, Debug, Default)]
struct Seen {
    operations: Vec<String>,
    /// Each `TransactWriteItems` attempt's items as `PK|SK`.
    transactions: Vec<Vec<String>>,
    /// `(IAM action, partition key)` for every item or query.
    accesses: Vec<(String, String)>,
}

/// The attempts, each one's operation (its `X-Amz-Target`, such as
/// `DynamoDB_20120810.GetItem`), each transaction's items, and each
/// request's IAM actions on partition keys.
#[derive(Clone, Debug, Default)]
pub struct RoundTripCounter(Arc<AtomicUsize>, Arc<Mutex<Seen>>);

const TARGET_PREFIX: &str = "DynamoDB_20120810.";

fn key_of(key: &Value) -> (String, String) {
    (
        key["PK"]["S"].as_str().unwrap_or("?").to_owned(),
        key["SK"]["S"].as_str().unwrap_or("?").to_owned(),
    )
}

/// The item each action of a `TransactWriteItems` names, with the IAM
/// action it needs.
fn transaction_items(request: &Value) -> Vec<(&'static str, (String, String))> {
    request["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let put = &item["Put"]["Item"];
            if put.is_object() {
                return Some(("dynamodb:PutItem", key_of(put)));
            }
            [
                ("Update", "dynamodb:UpdateItem"),
                ("Delete", "dynamodb:DeleteItem"),
                ("ConditionCheck", "dynamodb:ConditionCheckItem"),
            ]
            .iter()
            .find(|(name, _)| item[*name]["Key"].is_object())
            .map(|(name, action)| (*action, key_of(&item[*name]["Key"])))
        })
        .collect()
}

/// The partition keys a request reads or writes, with the IAM action each
/// needs (a transaction's items need their own actions, not one of its own).
fn accesses(operation: &str, request: &Value) -> Vec<(String, String)> {
    let action = format!("dynamodb:{operation}");
    let pks: Vec<String> = match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => vec![key_of(&request["Key"]).0],
        "PutItem" => vec![key_of(&request["Item"]).0],
        "Query" => vec![
            request["ExpressionAttributeValues"][":pk"]["S"]
                .as_str()
                .unwrap_or("?")
                .to_owned(),
        ],
        "BatchGetItem" => request["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|table| table["Keys"].as_array().cloned().unwrap_or_default())
            .map(|key| key_of(&key).0)
            .collect(),
        "BatchWriteItem" => request["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|writes| writes.as_array().cloned().unwrap_or_default())
            .map(|write| {
                let key = &write["DeleteRequest"]["Key"];
                if key.is_object() {
                    key_of(key).0
                } else {
                    key_of(&write["PutRequest"]["Item"]).0
                }
            })
            .collect(),
        "TransactWriteItems" => {
            return transaction_items(request)
                .into_iter()
                .map(|(action, (pk, _))| (action.to_owned(), pk))
                .collect();
        }
        // Anything else (Scan, DescribeTable) is the table's as a whole.
        _ => vec!["*".to_owned()],
    };
    pks.into_iter().map(|pk| (action.clone(), pk)).collect()
}

impl RoundTripCounter {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.1.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The operations since the last reset, in order.
    pub fn operations(&self) -> Vec<String> {
        self.seen().operations.clone()
    }

    /// The items of each transaction attempt since the last reset.
    pub fn transactions(&self) -> Vec<Vec<String>> {
        self.seen().transactions.clone()
    }

    /// Every `(IAM action, partition key)` the requests since the last
    /// reset needed.
    pub fn accesses(&self) -> Vec<(String, String)> {
        self.seen().accesses.clone()
    }

    pub fn reset(&self) {
        self.0.store(0, Ordering::SeqCst);
        *self.seen() = Seen::default();
    }
}

impl Intercept for RoundTripCounter {
    fn name(&self) -> &'static str {
        "RoundTripCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?")
            .to_owned();
        let request: Value = context
            .request()
            .body()
            .bytes()
            .and_then(|body| serde_json::from_slice(body).ok())
            .unwrap_or_default();
        let mut seen = self.seen();
        if let Some(operation) = target.strip_prefix(TARGET_PREFIX) {
            if operation == "TransactWriteItems" {
                let items = transaction_items(&request)
                    .into_iter()
                    .map(|(_, (pk, sk))| format!("{pk}|{sk}"))
                    .collect();
                seen.transactions.push(items);
            }
            let needed = accesses(operation, &request);
            seen.accesses.extend(needed);
        }
        seen.operations.push(target);
        Ok(())
    }
}
