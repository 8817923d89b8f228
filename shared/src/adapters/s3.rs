//! Raw document bytes in S3: never through SQS or in a DynamoDB item.

use crate::domain::time::Timestamp;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("the document store failed to {action}")]
pub struct BlobError {
    action: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// What a client needs to upload a file straight to the bucket.
#[derive(Clone, Debug)]
pub struct PresignedUpload {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct BlobStore {
    client: Client,
    bucket: String,
}

impl BlobStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| BlobError {
                action: "store a file",
                source: Box::new(e),
            })?;
        Ok(())
    }

    /// A URL that lets its holder PUT exactly `size` bytes at `key` until it
    /// expires, with the headers the request must carry (they are signed).
    pub async fn presign_put(
        &self,
        key: &str,
        size: u64,
        valid_for: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| BlobError {
            action: "prepare an upload",
            source,
        };
        let config = PresigningConfig::expires_in(valid_for).map_err(|e| failed(Box::new(e)))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(i64::try_from(size).map_err(|e| failed(Box::new(e)))?)
            .presigned(config)
            .await
            .map_err(|e| failed(Box::new(e)))?;
        Ok(PresignedUpload {
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_at: Timestamp::now().plus(valid_for),
        })
    }

    /// The size of the object at `key`, or `None` if there is none.
    pub async fn size_of(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(
                head.content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(BlobError {
                action: "look up a file",
                source: Box::new(error),
            }),
        }
    }

    /// Bytes `start..end` of the object at `key` (fewer if it is shorter).
    pub async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, BlobError> {
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| BlobError {
            action: "read a file",
            source,
        };
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            // HTTP ranges are inclusive.
            .range(format!("bytes={start}-{}", end.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| failed(Box::new(e)))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| failed(Box::new(e)))?;
        Ok(bytes.into_bytes().to_vec())
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| BlobError {
                action: "read a file",
                source: Box::new(e),
            })?;
        let bytes = object.body.collect().await.map_err(|e| BlobError {
            action: "read a file",
            source: Box::new(e),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Deletes every object whose key starts with `prefix`; returns how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, BlobError> {
        let mut removed = 0;
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| BlobError {
                    action: "list files",
                    source: Box::new(e),
                })?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    self.delete(key).await?;
                    removed += 1;
                }
            }
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return Ok(removed);
            }
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| BlobError {
                action: "delete a file",
                source: Box::new(e),
            })?;
        Ok(())
    }
}
