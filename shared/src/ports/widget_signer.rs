//! The widget's token signer, whose key is a secret that may be read when a
//! visitor first needs it rather than at cold start.

use super::providers::ProviderError;
use crate::domain::widget_token::WidgetTokens;
use async_trait::async_trait;

#[async_trait]
pub trait WidgetSigner: Send + Sync {
    /// The signer, or why its key could not be read.
    async fn tokens(&self) -> Result<&WidgetTokens, ProviderError>;
}

#[async_trait]
impl WidgetSigner for WidgetTokens {
    async fn tokens(&self) -> Result<&WidgetTokens, ProviderError> {
        Ok(self)
    }
}
