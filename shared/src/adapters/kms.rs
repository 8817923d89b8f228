//! Secrets sealed with AWS KMS under an encryption context: the context is
//! authenticated data, so a ciphertext only opens for the record it was
//! sealed for.

use crate::ports::{CipherError, SecretCipher, SecretContext};
use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct KmsCipher {
    client: Client,
    key_id: String,
}

impl KmsCipher {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

fn context_map(context: &SecretContext) -> HashMap<String, String> {
    context
        .pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Throttling, KMS's own faults and the network are worth another try;
/// a refused ciphertext, context or key is not.
fn classify<E, R>(error: SdkError<E, R>) -> CipherError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    const TRANSIENT: &[&str] = &[
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
    ];
    let transient = super::sdk_errors::is_transient(&error, TRANSIENT);
    if transient {
        CipherError::Transient(Box::new(error))
    } else {
        CipherError::Refused(Box::new(error))
    }
}

#[async_trait]
impl SecretCipher for KmsCipher {
    async fn seal(
        &self,
        plaintext: &SecretString,
        context: &SecretContext,
    ) -> Result<Vec<u8>, CipherError> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext.expose_secret().as_bytes()))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(classify)?;
        output
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| CipherError::Refused("KMS answered no ciphertext".into()))
    }

    async fn open(
        &self,
        sealed: &[u8],
        context: &SecretContext,
    ) -> Result<SecretString, CipherError> {
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(sealed))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(classify)?;
        let plaintext = output
            .plaintext
            .ok_or_else(|| CipherError::Refused("KMS answered no plaintext".into()))?;
        String::from_utf8(plaintext.into_inner())
            .map(SecretString::from)
            .map_err(|_| CipherError::Refused("the sealed secret is not text".into()))
    }
}
