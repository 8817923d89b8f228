//! Telling an AWS SDK failure worth another try from one that is not, for
//! every SDK client alike: no answer (dispatch, timeout, a garbled
//! response) is transient; a service error is when its code is one of the
//! service's throttling or own-fault codes.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub fn is_transient<E: ProvideErrorMetadata, R>(
    error: &SdkError<E, R>,
    transient_codes: &[&str],
) -> bool {
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .is_some_and(|code| transient_codes.contains(&code)),
        _ => false,
    }
}
