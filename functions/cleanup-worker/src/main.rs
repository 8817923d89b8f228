//! The cleanup worker: SQS-triggered cascades (what hangs off a deleted
//! assistant or project). Composition root only.

use cleanup_worker::handle_batch;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoStore;
use shared::config::{ConfigError, Env};
use shared::wiring::load_aws;
use std::sync::Arc;

struct Config {
    table_name: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = Config::from_env(&Env::process())?;
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let store = Arc::clone(&store);
            async move {
                Ok::<_, lambda_runtime::Error>(handle_batch(store.as_ref(), event.payload).await)
            }
        },
    ))
    .await
}
