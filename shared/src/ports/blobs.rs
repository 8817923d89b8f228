//! Raw document bytes: never through a queue or in a database item.

use crate::domain::time::Timestamp;
use async_trait::async_trait;
use std::time::Duration;

/// Why the file store failed, and whether trying again later may help.
#[derive(Debug, thiserror::Error)]
#[error("the document store failed to {action}")]
pub struct BlobError {
    pub action: &'static str,
    /// Throttled, timed out or unreachable (rather than refused).
    pub transient: bool,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// What a client needs to upload a file straight to the store.
#[derive(Clone, Debug)]
pub struct PresignedUpload {
    pub url: String,
    /// Headers the upload must carry exactly: they are signed.
    pub headers: Vec<(String, String)>,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// A URL that lets its holder PUT exactly `size` bytes at `key` until it
    /// expires. Signing is local: nothing is stored.
    async fn presign_put(
        &self,
        key: &str,
        size: u64,
        valid_for: Duration,
    ) -> Result<PresignedUpload, BlobError>;
    /// The size of the file at `key`, or `None` if there is none.
    async fn size_of(&self, key: &str) -> Result<Option<u64>, BlobError>;
    /// Bytes `start..end` of the file (fewer if it is shorter).
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, BlobError>;
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    /// Deletes every file whose key starts with `prefix`; returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, BlobError>;
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}
