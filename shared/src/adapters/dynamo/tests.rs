//! How DynamoDB's own refusals are sorted, fed exactly as the SDK decodes
//! them from the wire.

use super::*;
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

fn cancelled(codes: &[&str]) -> SdkError<TransactWriteItemsError, Response> {
    let reasons = codes
        .iter()
        .map(|code| CancellationReason::builder().code(*code).build())
        .collect();
    let error = TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .message("Transaction cancelled")
            .set_cancellation_reasons(Some(reasons))
            .build(),
    );
    SdkError::service_error(
        error,
        Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()),
    )
}

fn explain(index: usize) -> StoreError {
    StoreError::Corrupt(format!("item {index}"))
}

#[test]
fn a_transaction_conflict_is_worth_another_attempt() {
    let failure = transaction_failure(cancelled(&["None", "TransactionConflict"]), explain);
    assert!(matches!(failure, WriteFailure::Contended(reason) if reason == "TransactionConflict"));
}

#[test]
fn throttling_inside_a_transaction_is_worth_another_attempt() {
    for code in ["ThrottlingError", "ProvisionedThroughputExceeded"] {
        let failure = transaction_failure(cancelled(&[code, "None"]), explain);
        assert!(matches!(failure, WriteFailure::Contended(_)), "{code}");
    }
}

#[test]
fn a_failed_condition_is_explained_by_its_position_even_beside_a_conflict() {
    let failure = transaction_failure(
        cancelled(&["None", "TransactionConflict", "ConditionalCheckFailed"]),
        explain,
    );
    assert!(matches!(
        failure,
        WriteFailure::Failed(StoreError::Corrupt(message)) if message == "item 2"
    ));
}

#[test]
fn an_unexplained_cancellation_is_our_fault_not_a_retry() {
    let failure = transaction_failure(cancelled(&["ValidationError"]), explain);
    assert!(matches!(
        failure,
        WriteFailure::Failed(StoreError::Permanent(_))
    ));
}
