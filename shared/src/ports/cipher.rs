//! Secrets at rest: sealed under a key the store never holds, bound to
//! the record they belong to (KMS encryption context).

use crate::domain::ids::{AssistantId, WebhookId, WorkspaceId};
use async_trait::async_trait;
use secrecy::SecretString;
use std::collections::BTreeMap;

/// What a ciphertext is bound to: opening it needs the very same context,
/// so a ciphertext copied onto another record does not open. Ids only: the
/// context is logged in plaintext by the key service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretContext(BTreeMap<&'static str, String>);

impl SecretContext {
    /// An assistant's Twilio Auth Token.
    pub fn twilio_auth_token(workspace: &WorkspaceId, assistant: &AssistantId) -> Self {
        Self(BTreeMap::from([
            ("workspaceId", workspace.to_string()),
            ("assistantId", assistant.to_string()),
            ("purpose", "twilio-auth-token".to_owned()),
        ]))
    }

    /// A webhook's signing secret.
    pub fn webhook_secret(workspace: &WorkspaceId, webhook: &WebhookId) -> Self {
        Self(BTreeMap::from([
            ("workspaceId", workspace.to_string()),
            ("webhookId", webhook.to_string()),
            ("purpose", "webhook-secret".to_owned()),
        ]))
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    /// Throttled, timed out or unreachable: try again later.
    #[error("the key service is unavailable")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The ciphertext does not open under this context (tampered, copied
    /// from another record) or the key refuses: retrying will not help.
    #[error("the key service refused the secret")]
    Refused(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[async_trait]
pub trait SecretCipher: Send + Sync {
    async fn seal(
        &self,
        plaintext: &SecretString,
        context: &SecretContext,
    ) -> Result<Vec<u8>, CipherError>;

    async fn open(
        &self,
        sealed: &[u8],
        context: &SecretContext,
    ) -> Result<SecretString, CipherError>;
}
