//! The assistants API function: composition root only. Configuration, AWS
//! clients and the router are built once per cold start; all behaviour lives
//! in `shared`.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::sqs::SqsQueue;
use shared::config::{ConfigError, Env};
use shared::http::{AssistantsState, Edge, assistants_router};
use shared::wiring::load_aws;
use std::sync::Arc;

struct Config {
    table_name: String,
    cleanup_queue_url: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            cleanup_queue_url: env.url("CLEANUP_QUEUE_URL")?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = Config::from_env(&Env::process())?;
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let state = AssistantsState {
        edge: Edge::over(store.clone()),
        assistants: store.clone(),
        grants: store,
        cleanup: Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            config.cleanup_queue_url,
        )),
    };
    shared::http::lambda::run(assistants_router(state)).await
}
