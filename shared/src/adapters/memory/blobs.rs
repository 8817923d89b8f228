//! Files in memory, for tests of the upload routes without a local server.

use crate::domain::time::Timestamp;
use crate::ports::{BlobError, BlobStore, BlobVersion, PresignedUpload};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// A file's version as S3 would tag it: by its content.
fn version(bytes: &[u8]) -> BlobVersion {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    BlobVersion {
        size: bytes.len() as u64,
        etag: format!("{:016x}", hasher.finish()),
    }
}

#[derive(Debug, Default)]
pub struct MemoryBlobs {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    /// When set, every call fails as an unreachable store would.
    unavailable: std::sync::atomic::AtomicBool,
}

#[derive(Debug, thiserror::Error)]
#[error("the memory file store was told to be unavailable")]
struct Unavailable;

impl MemoryBlobs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every later call fails (transiently) until this is called with false.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable
            .store(unavailable, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stores a file as a client's PUT to a presigned URL would.
    pub fn upload(&self, key: &str, bytes: Vec<u8>) {
        self.lock().insert(key.to_owned(), bytes);
    }

    /// Every key stored, in order.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check(&self, action: &'static str) -> Result<(), BlobError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(BlobError {
                action,
                transient: true,
                source: Box::new(Unavailable),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        self.check("store a file")?;
        self.upload(key, bytes);
        Ok(())
    }

    async fn presign_put(
        &self,
        key: &str,
        size: u64,
        valid_for: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        self.check("prepare an upload")?;
        Ok(PresignedUpload {
            url: format!("memory:///{key}"),
            headers: vec![("content-length".to_owned(), size.to_string())],
            expires_at: Timestamp::now().plus(valid_for),
        })
    }

    async fn version_of(&self, key: &str) -> Result<Option<BlobVersion>, BlobError> {
        self.check("look up a file")?;
        Ok(self.lock().get(key).map(|bytes| version(bytes)))
    }

    async fn get_range_of(
        &self,
        key: &str,
        wanted: &BlobVersion,
        start: u64,
        end: u64,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let bytes = self.get(key).await?;
        if version(&bytes) != *wanted {
            return Ok(None);
        }
        let clamp = |n: u64| usize::try_from(n).unwrap_or(usize::MAX).min(bytes.len());
        Ok(Some(
            bytes[clamp(start)..clamp(end).max(clamp(start))].to_vec(),
        ))
    }

    async fn copy_version(
        &self,
        from: &str,
        wanted: &BlobVersion,
        to: &str,
    ) -> Result<bool, BlobError> {
        self.check("copy a file")?;
        let mut files = self.lock();
        match files.get(from) {
            Some(bytes) if version(bytes) == *wanted => {
                let copy = bytes.clone();
                files.insert(to.to_owned(), copy);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        self.check("read a file")?;
        self.lock().get(key).cloned().ok_or_else(|| BlobError {
            action: "read a file",
            transient: false,
            source: format!("no file at {key}").into(),
        })
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, BlobError> {
        self.check("list files")?;
        let mut files = self.lock();
        let before = files.len();
        files.retain(|key, _| !key.starts_with(prefix));
        Ok(before - files.len())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.check("delete a file")?;
        self.lock().remove(key);
        Ok(())
    }
}
