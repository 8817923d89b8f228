//! How a worker's job failed, as its queue needs to know: worth another
//! delivery of the message, or not. Each port's error is sorted once here,
//! for every worker.

use super::retrieval::RetrievalError;
use crate::ports::{CipherError, ProviderError, QueueError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another delivery of the job.
    #[error("will retry: {0}")]
    Transient(String),
    /// Retrying cannot help: acknowledge the job.
    #[error("gave up: {0}")]
    Permanent(String),
}

impl From<StoreError> for JobError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Transient(_) => Self::Transient(error.to_string()),
            other => Self::Permanent(other.to_string()),
        }
    }
}

impl From<ProviderError> for JobError {
    fn from(error: ProviderError) -> Self {
        if error.is_transient() {
            Self::Transient(error.to_string())
        } else {
            Self::Permanent(error.to_string())
        }
    }
}

impl From<RetrievalError> for JobError {
    fn from(error: RetrievalError) -> Self {
        match error {
            RetrievalError::Search(error) => error.into(),
            RetrievalError::Store(error) => error.into(),
        }
    }
}

impl From<CipherError> for JobError {
    fn from(error: CipherError) -> Self {
        match error {
            CipherError::Transient(_) => Self::Transient(error.to_string()),
            CipherError::Refused(_) => Self::Permanent(error.to_string()),
        }
    }
}

impl From<QueueError> for JobError {
    fn from(error: QueueError) -> Self {
        if error.transient {
            Self::Transient(error.to_string())
        } else {
            Self::Permanent(error.to_string())
        }
    }
}
