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

/// One state of a file: what a check saw, so what it acts on is the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobVersion {
    pub size: u64,
    /// The store's entity tag, changed by every write.
    pub etag: String,
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
    /// The file at `key` as it is now, or `None` if there is none.
    async fn version_of(&self, key: &str) -> Result<Option<BlobVersion>, BlobError>;
    /// Bytes `start..end` of the file (fewer if it is shorter), if it is
    /// still `version`; `None` once another file has replaced it.
    async fn get_range_of(
        &self,
        key: &str,
        version: &BlobVersion,
        start: u64,
        end: u64,
    ) -> Result<Option<Vec<u8>>, BlobError>;
    /// Copies the file at `from` to `to` if it is still `version`; `false`
    /// (and nothing at `to`) once another file has replaced it. What was
    /// checked is what is copied.
    async fn copy_version(
        &self,
        from: &str,
        version: &BlobVersion,
        to: &str,
    ) -> Result<bool, BlobError>;
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    /// Deletes every file whose key starts with `prefix`; returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, BlobError>;
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}
