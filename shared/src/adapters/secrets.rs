//! Secrets read from AWS Secrets Manager once per container, when first
//! needed (`on_first_use`): never through a Lambda environment variable,
//! which anyone who may read the function's configuration can read.

use crate::domain::sms::ContactKeys;
use crate::domain::widget_token::{MIN_KEY_BYTES, WidgetTokens};
use crate::ports::{ProviderError, StoreError};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret could not be read (names the secret, never its value).
    #[error("reading the secret {id} failed: {cause}")]
    Unreadable {
        id: String,
        cause: String,
        /// Throttled, or Secrets Manager unreachable or failing: worth
        /// another try later, unlike a secret that is not there.
        transient: bool,
    },
    #[error("the secret {id} holds no text value")]
    Empty { id: String },
    #[error(
        "the secret {id} is shorter than {MIN_KEY_BYTES} bytes; a signing key needs at least that"
    )]
    TooShort { id: String },
    #[error("the secret {id} {problem}")]
    Malformed { id: String, problem: String },
}

/// Secrets Manager's codes for a failure of its own or a throttle.
const TRANSIENT_CODES: &[&str] = &["ThrottlingException", "InternalServiceError"];

impl From<SecretError> for ProviderError {
    fn from(error: SecretError) -> Self {
        match error {
            SecretError::Unreadable {
                transient: true, ..
            } => Self::Unavailable {
                provider: "Secrets Manager",
                detail: error.to_string(),
            },
            _ => Self::Unconfigured {
                detail: error.to_string(),
            },
        }
    }
}

/// The provider-keys secret's fields, and the setting each one fills.
pub const PROVIDER_KEYS: [(&str, &str); 4] = [
    ("embeddingsApiKey", "EMBEDDINGS_API_KEY"),
    ("pineconeApiKey", "PINECONE_API_KEY"),
    ("chatApiKey", "CHAT_API_KEY"),
    ("chatRoutes", "CHAT_ROUTES"),
];

/// The settings a provider-keys secret's JSON fills in: each known field
/// that is there (a string, or for `chatRoutes` the JSON list itself);
/// other fields are ignored. Never says what a value was.
pub fn provider_keys(id: &str, secret: &str) -> Result<Vec<(String, String)>, SecretError> {
    let malformed = |problem: String| SecretError::Malformed {
        id: id.to_owned(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_str(secret).map_err(|_| malformed("is not a JSON object".into()))?;
    let fields = value
        .as_object()
        .ok_or_else(|| malformed("is not a JSON object".into()))?;
    let mut found = Vec::new();
    for (field, setting) in PROVIDER_KEYS {
        match fields.get(field) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(text)) => found.push((setting.to_owned(), text.clone())),
            Some(list @ serde_json::Value::Array(_)) if field == "chatRoutes" => {
                found.push((setting.to_owned(), list.to_string()));
            }
            Some(_) => return Err(malformed(format!("has a {field} that is not a string"))),
        }
    }
    Ok(found)
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
            transient: crate::adapters::sdk_errors::is_transient(&e, TRANSIENT_CODES),
            cause: DisplayErrorContext(e).to_string(),
        })?;
    found
        .secret_string
        .map(SecretString::from)
        .ok_or_else(|| SecretError::Empty { id: id.to_owned() })
}

/// The widget's token signer, its key read from the secret `id` names
/// when a visitor first needs it (the client too is made then, not at
/// cold start).
pub fn widget_tokens_on_first_use(
    aws: &aws_config::SdkConfig,
    id: String,
) -> crate::adapters::on_first_use::OnFirstUse<WidgetTokens> {
    let aws = aws.clone();
    crate::adapters::on_first_use::OnFirstUse::new(move || {
        let (aws, id) = (aws.clone(), id.clone());
        async move { Ok(widget_tokens(&Client::new(&aws), &id).await?) }
    })
}

/// The widget's token signer, keyed by the secret `id` holds.
pub async fn widget_tokens(client: &Client, id: &str) -> Result<WidgetTokens, SecretError> {
    let secret = read_secret(client, id).await?;
    let key: Vec<u8> = secret.expose_secret().as_bytes().to_vec();
    WidgetTokens::new(key.into()).ok_or_else(|| SecretError::TooShort { id: id.to_owned() })
}

/// The key that names texters in the table (see
/// `domain::sms::contact_key`), as the secret `id` holds it.
pub async fn contact_keys(client: &Client, id: &str) -> Result<ContactKeys, SecretError> {
    let secret = read_secret(client, id).await?;
    let key: Vec<u8> = secret.expose_secret().as_bytes().to_vec();
    ContactKeys::new(key.into()).ok_or_else(|| SecretError::TooShort { id: id.to_owned() })
}

type LoadContactKeys =
    Pin<Box<dyn Future<Output = Result<ContactKeys, StoreError>> + Send + 'static>>;

/// What reads the texters' key for a store when a request first needs it
/// (`DynamoStore::with_contact_keys_on_first_use`); the client is made
/// then too, not at cold start.
pub fn contact_keys_loader(
    aws: &aws_config::SdkConfig,
    id: String,
) -> impl Fn() -> LoadContactKeys + Send + Sync + 'static {
    let aws = aws.clone();
    move || {
        let (aws, id) = (aws.clone(), id.clone());
        Box::pin(async move { Ok(contact_keys(&Client::new(&aws), &id).await?) })
    }
}

/// A store that cannot name texters cannot serve them: a throttled or
/// unreachable secret store is worth another try, a missing or short
/// secret is the deployment's bug.
impl From<SecretError> for StoreError {
    fn from(error: SecretError) -> Self {
        match error {
            SecretError::Unreadable {
                transient: true, ..
            } => Self::Transient(Box::new(error)),
            _ => Self::Permanent(Box::new(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_or_unreachable_secret_store_is_worth_a_retry_and_a_missing_secret_is_not() {
        let unreadable = |transient| SecretError::Unreadable {
            id: "illumichat/provider-keys".into(),
            cause: "dispatch failure".into(),
            transient,
        };
        assert!(ProviderError::from(unreadable(true)).is_transient());
        for permanent in [
            unreadable(false),
            SecretError::Empty { id: "s".into() },
            SecretError::TooShort { id: "s".into() },
        ] {
            let error = ProviderError::from(permanent);
            assert!(
                matches!(error, ProviderError::Unconfigured { .. }),
                "{error}"
            );
        }
    }

    #[test]
    fn the_provider_keys_secret_fills_the_key_settings_and_nothing_else() {
        let keys = provider_keys(
            "illumichat/provider-keys",
            r#"{"embeddingsApiKey": "sk-e", "pineconeApiKey": "pc", "chatApiKey": "xai",
                "chatRoutes": [{"prefix": "gpt-", "baseUrl": "https://api.openai.com/v1", "apiKey": "sk-o"}],
                "note": "ignored"}"#,
        )
        .unwrap();
        let names: Vec<&str> = keys.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "EMBEDDINGS_API_KEY",
                "PINECONE_API_KEY",
                "CHAT_API_KEY",
                "CHAT_ROUTES"
            ]
        );
        assert!(keys[3].1.starts_with('['));
        let partial = provider_keys("s", r#"{"embeddingsApiKey": "sk-e"}"#).unwrap();
        assert_eq!(partial.len(), 1);
        for bad in ["not json", "[]", r#"{"pineconeApiKey": 7}"#] {
            let error = provider_keys("s", bad).unwrap_err().to_string();
            assert!(
                !error.contains('7') || error.contains("pineconeApiKey"),
                "{error}"
            );
        }
    }
}
