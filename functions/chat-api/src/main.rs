//! The chat API function: conversations on every channel and their
//! messages, with answers streamed through API Gateway's `STREAM` response
//! transfer mode. Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::secrets;
use shared::adapters::sqs::SqsQueue;
use shared::config::{ConfigError, Env};
use shared::http::{ChatState, Edge, chat_router};
use shared::wiring::{
    RetryBudget, chat_model_on_first_use, load_aws, provider_keys_on_first_use,
    retriever_on_first_use,
};
use std::sync::Arc;

struct Config {
    table_name: String,
    /// The Secrets Manager secret whose value names texters in the table
    /// (read when a request first needs it, never from this configuration).
    contact_key_secret_id: String,
    cleanup_queue_url: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            contact_key_secret_id: env.required("CONTACT_KEY_SECRET_ARN")?,
            cleanup_queue_url: env.url("CLEANUP_QUEUE_URL")?,
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
    // The providers' keys come from Secrets Manager, once per container,
    // with the first answer: listing conversations never waits for them.
    let keys = provider_keys_on_first_use(&aws, env);
    // Deleting an SMS conversation closes its texter's session, whom the
    // table names by the key.
    let store = Arc::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
            .with_contact_keys_on_first_use(secrets::contact_keys_loader(
                &aws,
                config.contact_key_secret_id,
            )),
    );
    let state = ChatState::over(
        store.clone(),
        Edge::over(store),
        Arc::new(retriever_on_first_use(
            &keys,
            http.clone(),
            RetryBudget::Route,
        )),
        Arc::new(chat_model_on_first_use(&keys, http, RetryBudget::Route)),
        Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            config.cleanup_queue_url,
        )),
    );
    shared::http::lambda::run_streaming(chat_router(state)).await
}
