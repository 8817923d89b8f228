//! Secrets read from AWS Secrets Manager once per container, at cold
//! start: never through a Lambda environment variable, which anyone who
//! may read the function's configuration can read.

use crate::domain::widget_token::{MIN_KEY_BYTES, WidgetTokens};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret could not be read (names the secret, never its value).
    #[error("reading the secret {id} failed: {cause}")]
    Unreadable { id: String, cause: String },
    #[error("the secret {id} holds no text value")]
    Empty { id: String },
    #[error(
        "the secret {id} is shorter than {MIN_KEY_BYTES} bytes; a signing key needs at least that"
    )]
    TooShort { id: String },
}

/// The text value of a secret (its ARN or name).
pub async fn read_secret(client: &Client, id: &str) -> Result<SecretString, SecretError> {
    let found = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            id: id.to_owned(),
            cause: DisplayErrorContext(e).to_string(),
        })?;
    found
        .secret_string
        .map(SecretString::from)
        .ok_or_else(|| SecretError::Empty { id: id.to_owned() })
}

/// The widget's token signer, keyed by the secret `id` holds.
pub async fn widget_tokens(client: &Client, id: &str) -> Result<WidgetTokens, SecretError> {
    let secret = read_secret(client, id).await?;
    let key: Vec<u8> = secret.expose_secret().as_bytes().to_vec();
    WidgetTokens::new(key.into()).ok_or_else(|| SecretError::TooShort { id: id.to_owned() })
}
