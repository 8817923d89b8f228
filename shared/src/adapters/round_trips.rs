//! Counts the HTTP attempts an SDK client makes, so tests can hold the API to
//! its round-trip budget per request, and records the items each DynamoDB
//! transaction names, so tests can show which writes could contend.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The attempts, each one's operation (its `X-Amz-Target`, such as
/// `DynamoDB_20120810.GetItem`), and each `TransactWriteItems` attempt's
/// items as `PK|SK`.
#[derive(Clone, Debug, Default)]
pub struct RoundTripCounter(
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<String>>>,
    Arc<Mutex<Vec<Vec<String>>>>,
);

const TRANSACT_WRITE: &str = "DynamoDB_20120810.TransactWriteItems";

/// The `PK|SK` of every item a `TransactWriteItems` body names.
fn transaction_items(body: &[u8]) -> Vec<String> {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let key = |key: &serde_json::Value| {
        format!(
            "{}|{}",
            key["PK"]["S"].as_str().unwrap_or("?"),
            key["SK"]["S"].as_str().unwrap_or("?")
        )
    };
    request["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let put = &item["Put"]["Item"];
            if put.is_object() {
                return Some(key(put));
            }
            ["Update", "Delete", "ConditionCheck"]
                .iter()
                .map(|action| &item[action]["Key"])
                .find(|k| k.is_object())
                .map(key)
        })
        .collect()
}

impl RoundTripCounter {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// The operations since the last reset, in order.
    pub fn operations(&self) -> Vec<String> {
        self.1.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The items of each transaction attempt since the last reset.
    pub fn transactions(&self) -> Vec<Vec<String>> {
        self.2.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.0.store(0, Ordering::SeqCst);
        self.1.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.2.lock().unwrap_or_else(|p| p.into_inner()).clear();
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
        let operation = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?")
            .to_owned();
        if operation == TRANSACT_WRITE {
            let items = context
                .request()
                .body()
                .bytes()
                .map(transaction_items)
                .unwrap_or_default();
            self.2.lock().unwrap_or_else(|p| p.into_inner()).push(items);
        }
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(operation);
        Ok(())
    }
}
