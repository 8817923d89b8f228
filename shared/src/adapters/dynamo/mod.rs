//! DynamoDB adapter: one table, keys laid out in [`keys`]. Everything here
//! speaks domain types outward; `AttributeValue` never leaves this module.

mod api_keys;
mod assistants;
mod cascade;
mod changes;
mod codec;
mod connections;
mod conversation_items;
mod conversations;
mod counters;
mod deliveries;
mod documents;
mod erasure;
mod grants;
mod keys;
mod projects;
mod requests;
pub mod schema;
mod sms;
mod sms_replies;
mod usage;
mod webhooks;
mod widget;
mod workspace_deletion;
mod workspaces;

#[cfg(test)]
mod tests;

use super::contention::WriteFailure;
use crate::domain::sms::{ContactKeys, PhoneNumber, TexterKey};
use crate::ports::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type Item = HashMap<String, AttributeValue>;

pub use changes::StreamRecord;

/// Most items `TransactWriteItems` and `BatchWriteItem` take per call. The
/// local server does not enforce the batch limit, so this code must.
const BATCH_WRITE_MAX: usize = 25;
/// `BatchGetItem` takes at most 100 keys per call.
const BATCH_GET_MAX: usize = 100;

/// Every store port on one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    contact_keys: ContactKeySource,
}

type LoadKeys = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<ContactKeys, StoreError>> + Send>> + Send + Sync,
>;

/// Where the store gets the key that names texters (see
/// `domain::sms::contact_key`): given, read when first needed (once per
/// container), or, for a function that never touches texters, none.
#[derive(Clone)]
enum ContactKeySource {
    None,
    Given(Arc<ContactKeys>),
    OnFirstUse(Arc<tokio::sync::OnceCell<ContactKeys>>, LoadKeys),
}

impl std::fmt::Debug for ContactKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Given(_) => "Given",
            Self::OnFirstUse(..) => "OnFirstUse",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("this store was built without the key that names texters")]
struct NoContactKeys;

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            contact_keys: ContactKeySource::None,
        }
    }

    /// The same store, naming texters with `keys`.
    pub fn with_contact_keys(mut self, keys: ContactKeys) -> Self {
        self.contact_keys = ContactKeySource::Given(Arc::new(keys));
        self
    }

    /// The same store, naming texters with the keys `load` reads, when a
    /// request first needs them (and again after a read that failed).
    pub fn with_contact_keys_on_first_use<F, Fut>(mut self, load: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ContactKeys, StoreError>> + Send + 'static,
    {
        self.contact_keys = ContactKeySource::OnFirstUse(
            Arc::new(tokio::sync::OnceCell::new()),
            Arc::new(move || Box::pin(load())),
        );
        self
    }

    /// What the table names this texter.
    async fn texter_key(&self, phone: &PhoneNumber) -> Result<TexterKey, StoreError> {
        match &self.contact_keys {
            ContactKeySource::None => Err(StoreError::Permanent(Box::new(NoContactKeys))),
            ContactKeySource::Given(keys) => Ok(keys.texter(phone)),
            ContactKeySource::OnFirstUse(cell, load) => {
                Ok(cell.get_or_try_init(|| load()).await?.texter(phone))
            }
        }
    }
}

/// Sorts an SDK failure (after the SDK's own retries) into "try again
/// later" and "our fault".
fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    const TRANSIENT: &[&str] = &[
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    ];
    let transient = super::sdk_errors::is_transient(&err, TRANSIENT);
    if transient {
        StoreError::Transient(Box::new(err))
    } else {
        StoreError::Permanent(Box::new(err))
    }
}

/// A plain write refused because a transaction holds its item is cancelled
/// like a transaction: worth another attempt.
fn write_failure<E, R>(err: SdkError<E, R>) -> WriteFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.as_service_error().and_then(|e| e.code()) {
        Some(code @ "TransactionConflictException") => WriteFailure::Contended(code.to_owned()),
        _ => WriteFailure::Failed(classify(err)),
    }
}

/// Cancellation reasons that mean another writer or throttling, not a
/// condition of ours: the whole transaction may simply be tried again.
const RETRYABLE_CANCELLATIONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

/// Why a transaction was cancelled: the first item whose condition failed
/// (as `explain(index)` describes it), or a retryable cancellation.
fn cancellation(
    reasons: &[CancellationReason],
    explain: impl Fn(usize) -> StoreError,
) -> Option<WriteFailure> {
    if let Some(index) = reasons
        .iter()
        .position(|r| r.code() == Some("ConditionalCheckFailed"))
    {
        return Some(WriteFailure::Failed(explain(index)));
    }
    reasons
        .iter()
        .filter_map(CancellationReason::code)
        .find(|code| RETRYABLE_CANCELLATIONS.contains(code))
        .map(|code| WriteFailure::Contended(code.to_owned()))
}

/// Whether a transaction was refused only because an earlier attempt of
/// this very request had been applied: each of its fresh items
/// (`put_fresh`) is stored exactly as this request writes it. The SDK resends an attempt
/// that timed out with the same `ClientRequestToken`, which DynamoDB
/// recognises; a local server that ignores the token evaluates the resend
/// again and refuses it. A transaction lands whole, so its fresh items are
/// all there or none is; ids derived from what they record (an event's
/// deliveries) can be there from another request, so one is not enough.
fn already_applied(
    err: &SdkError<TransactWriteItemsError, aws_smithy_runtime_api::http::Response>,
    items: &[TransactWriteItem],
) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return false;
    };
    // Every fresh put found already there as it would have written it: one
    // alone proves nothing when the transaction writes several (an event's
    // deliveries, one of which an earlier dispatch made).
    let mut fresh_puts = cancelled
        .cancellation_reasons()
        .iter()
        .zip(items)
        .filter_map(|(reason, item)| {
            item.put()
                .filter(|put| {
                    put.return_values_on_condition_check_failure()
                        == Some(&ReturnValuesOnConditionCheckFailure::AllOld)
                })
                .map(|put| (reason, put))
        })
        .peekable();
    fresh_puts.peek().is_some()
        && fresh_puts.all(|(reason, put)| {
            reason.code() == Some("ConditionalCheckFailed") && reason.item() == Some(put.item())
        })
}

/// Turns a failed `TransactWriteItems` into what the caller should do.
fn transaction_failure(
    err: SdkError<TransactWriteItemsError, aws_smithy_runtime_api::http::Response>,
    explain: impl Fn(usize) -> StoreError,
) -> WriteFailure {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancellation(cancelled.cancellation_reasons(), explain)
                .unwrap_or_else(|| WriteFailure::Failed(classify(err)))
        }
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => {
            WriteFailure::Contended("TransactionInProgress".to_owned())
        }
        _ => write_failure(err),
    }
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}
