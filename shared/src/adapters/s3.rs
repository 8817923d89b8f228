//! Raw document bytes in S3: never through SQS or in a DynamoDB item.

use crate::domain::time::Timestamp;
use crate::ports::{BlobError, BlobStore, BlobVersion, PresignedUpload};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use std::time::Duration;

/// Throttled, timed out, unreachable or failing on its side: worth
/// another try later, unlike a refusal.
fn is_transient<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some("SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout")
        ),
        _ => false,
    }
}

fn failed<E, R>(action: &'static str) -> impl FnOnce(SdkError<E, R>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |error| BlobError {
        action,
        transient: is_transient(&error),
        source: Box::new(error),
    }
}

/// S3's answer to a condition on a file another write has replaced.
fn replaced<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(error, SdkError::ServiceError(service) if service.err().code() == Some("PreconditionFailed"))
}

/// A refusal that happened before anything was sent (say, a size that does
/// not fit the request): never transient.
fn refused(
    action: &'static str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> BlobError {
    BlobError {
        action,
        transient: false,
        source: Box::new(error),
    }
}

/// Files in one S3 bucket.
#[derive(Clone, Debug)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(failed("store a file"))?;
        Ok(())
    }

    async fn presign_put(
        &self,
        key: &str,
        size: u64,
        valid_for: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        const ACTION: &str = "prepare an upload";
        let config = PresigningConfig::expires_in(valid_for).map_err(|e| refused(ACTION, e))?;
        let length = i64::try_from(size).map_err(|e| refused(ACTION, e))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(failed(ACTION))?;
        Ok(PresignedUpload {
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_at: Timestamp::now().plus(valid_for),
        })
    }

    async fn version_of(&self, key: &str) -> Result<Option<BlobVersion>, BlobError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(BlobVersion {
                size: head
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                etag: head.e_tag().unwrap_or_default().to_owned(),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(failed("look up a file")(error)),
        }
    }

    async fn get_range_of(
        &self,
        key: &str,
        version: &BlobVersion,
        start: u64,
        end: u64,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .if_match(&version.etag)
            // HTTP ranges are inclusive.
            .range(format!("bytes={start}-{}", end.saturating_sub(1)))
            .send()
            .await
        {
            Ok(object) => object,
            Err(error) if replaced(&error) => return Ok(None),
            Err(error) => return Err(failed("read a file")(error)),
        };
        let bytes = object.body.collect().await.map_err(|e| BlobError {
            action: "read a file",
            transient: true,
            source: Box::new(e),
        })?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    /// Conditional on the source's entity tag where S3 checks it, and the
    /// copy's own tag compared after, so a store that ignores the condition
    /// still never keeps a file other than the one checked.
    async fn copy_version(
        &self,
        from: &str,
        version: &BlobVersion,
        to: &str,
    ) -> Result<bool, BlobError> {
        let copied = match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .copy_source_if_match(&version.etag)
            .key(to)
            .send()
            .await
        {
            Ok(copied) => copied,
            Err(error) if replaced(&error) => return Ok(false),
            Err(error) => return Err(failed("copy a file")(error)),
        };
        let tag = copied
            .copy_object_result()
            .and_then(|result| result.e_tag())
            .unwrap_or_default();
        if tag.trim_matches('"') == version.etag.trim_matches('"') {
            return Ok(true);
        }
        self.delete(to).await?;
        Ok(false)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(failed("read a file"))?;
        // A body cut off in transit is worth reading again.
        let bytes = object.body.collect().await.map_err(|e| BlobError {
            action: "read a file",
            transient: true,
            source: Box::new(e),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, BlobError> {
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
                .map_err(failed("list files"))?;
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

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(failed("delete a file"))?;
        Ok(())
    }
}
