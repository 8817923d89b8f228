//! DynamoDB adapter: one table, keys laid out in [`keys`]. Everything here
//! speaks domain types outward; `AttributeValue` never leaves this module.

mod accounts;
mod assistants;
mod cascade;
mod codec;
mod documents;
mod grants;
mod keys;
mod projects;
pub mod schema;
mod workspaces;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, ReturnValue};
use std::collections::HashMap;

pub use accounts::KeyOwner;
pub use assistants::AssistantWithGrant;
pub use grants::AccessGrant;
pub use keys::AccessTarget;
pub use projects::{Connection, ProjectWithGrant};
pub use workspaces::WorkspaceContext;

type Item = HashMap<String, AttributeValue>;

/// Most items `TransactWriteItems` and `BatchWriteItem` take per call. The
/// local server does not enforce the batch limit, so this code must.
const BATCH_WRITE_MAX: usize = 25;
/// `BatchGetItem` takes at most 100 keys per call.
const BATCH_GET_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the workspace must keep at least one active owner")]
    LastOwner,
    /// Throttled, timed out or unreachable: worth retrying later.
    #[error("the data store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else the service refused: a bug on our side.
    #[error("the data store refused a request")]
    Rejected(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored item is malformed: {0}")]
    Corrupt(String),
}

/// The data store: workspaces, members, users, API keys and assistants.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }
}

impl Store {
    /// Writes the named fields of an existing item (`None` removes one) and
    /// its `updatedAt`, in one conditional update, and returns the item as
    /// stored afterwards; `NotFound(what)` if there is no such item.
    async fn update_fields(
        &self,
        item_key: Item,
        fields: Vec<(&'static str, Option<AttributeValue>)>,
        what: &'static str,
    ) -> Result<Item, StoreError> {
        let mut sets = vec!["updatedAt = :updatedAt".to_owned()];
        let mut removes = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::from([(
            ":updatedAt".to_owned(),
            codec::time(crate::domain::time::Timestamp::now()),
        )]);
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
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK)")
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => Ok(output.attributes.unwrap_or_default()),
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Err(StoreError::NotFound(what))
            }
            Err(err) => Err(classify(err)),
        }
    }
}

/// Sorts an SDK failure into "try again later" and "our fault".
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
    ];
    let transient = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .is_some_and(|code| TRANSIENT.contains(&code)),
        _ => false,
    };
    if transient {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Rejected(Box::new(err))
    }
}

/// Which items of a cancelled transaction failed their condition, by position.
fn failed_conditions(reasons: &[CancellationReason]) -> Vec<bool> {
    reasons
        .iter()
        .map(|r| r.code() == Some("ConditionalCheckFailed"))
        .collect()
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}
