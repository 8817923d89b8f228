//! Raw document bytes in S3: never through SQS or in a DynamoDB item.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

#[derive(Debug, thiserror::Error)]
#[error("the document store failed to {action}")]
pub struct BlobError {
    action: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
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
