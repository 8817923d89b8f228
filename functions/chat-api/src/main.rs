//! The chat API function: conversations on every channel and their
//! messages, with answers streamed through API Gateway's `STREAM` response
//! transfer mode. Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::sqs::SqsQueue;
use shared::config::{Caller, ChatSettings, ConfigError, Env, ProviderSettings, load_aws};
use shared::http::{ChatState, Edge, chat_router};
use std::sync::Arc;

struct Config {
    table_name: String,
    cleanup_queue_url: String,
    /// Any OpenAI-compatible servers: a default, and one per model prefix.
    chat: ChatSettings,
    providers: ProviderSettings,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            cleanup_queue_url: env.url("CLEANUP_QUEUE_URL")?,
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
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let state = ChatState::over(
        store.clone(),
        Edge::over(store),
        Arc::new(config.providers.retriever(http.clone(), Caller::Route)),
        Arc::new(config.chat.chat_model(http, Caller::Route)),
        Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            config.cleanup_queue_url,
        )),
    );
    shared::http::lambda::run_streaming(chat_router(state)).await
}
