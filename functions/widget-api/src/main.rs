//! The widget function: an assistant's widget settings for its owners and
//! admins, and the public widget its visitors use (origin-checked, rate
//! limited, answers streamed through API Gateway's `STREAM` response
//! transfer mode). Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::secrets;
use shared::config::{ConfigError, Env};
use shared::http::{Edge, WidgetState, widget_router};
use shared::wiring::{
    RetryBudget, chat_model_on_first_use, load_aws, provider_keys_on_first_use,
    retriever_on_first_use,
};
use std::sync::Arc;

struct Config {
    table_name: String,
    /// The Secrets Manager secret whose value signs the widget's tokens.
    signing_secret_id: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            signing_secret_id: env.required("WIDGET_SIGNING_SECRET_ARN")?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    let env = Env::process();
    let config = Config::from_env(&env)?;
    // Both secrets are read once per container, when a request first
    // needs them: the signing key with a visitor's first init or message,
    // the providers' keys with the first answer. The widget's settings
    // routes need neither. No key passes through the configuration.
    let keys = provider_keys_on_first_use(&aws, env);
    let tokens = secrets::widget_tokens_on_first_use(&aws, config.signing_secret_id);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let state = WidgetState::over(
        store.clone(),
        Edge::over(store),
        Arc::new(retriever_on_first_use(
            &keys,
            http.clone(),
            RetryBudget::Route,
        )),
        Arc::new(chat_model_on_first_use(&keys, http, RetryBudget::Route)),
        Arc::new(tokens),
    );
    shared::http::lambda::run_streaming(widget_router(state)).await
}
