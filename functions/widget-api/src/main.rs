//! The widget function: an assistant's widget settings for its owners and
//! admins, and the public widget its visitors use (origin-checked, rate
//! limited, answers streamed through API Gateway's `STREAM` response
//! transfer mode). Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::secrets;
use shared::config::{Caller, ChatSettings, ConfigError, Env, ProviderSettings, load_aws};
use shared::http::{Edge, WidgetState, widget_router};
use std::sync::Arc;

struct Config {
    table_name: String,
    /// The Secrets Manager secret whose value signs the widget's tokens.
    signing_secret_id: String,
    chat: ChatSettings,
    providers: ProviderSettings,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            signing_secret_id: env.required("WIDGET_SIGNING_SECRET_ARN")?,
            chat: ChatSettings::from_env(env)?,
            providers: ProviderSettings::from_env(env)?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    // The provider keys come from Secrets Manager, once per container.
    let env = shared::config::with_provider_keys(&aws, Env::process()).await?;
    let config = Config::from_env(&env)?;
    // Read once per container: the key never passes through the
    // function's configuration.
    let tokens = secrets::widget_tokens(
        &aws_sdk_secretsmanager::Client::new(&aws),
        &config.signing_secret_id,
    )
    .await?;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let state = WidgetState::over(
        store.clone(),
        Edge::over(store),
        Arc::new(config.providers.retriever(http.clone(), Caller::Route)),
        Arc::new(config.chat.chat_model(http, Caller::Route)),
        Arc::new(tokens),
    );
    shared::http::lambda::run_streaming(widget_router(state)).await
}
