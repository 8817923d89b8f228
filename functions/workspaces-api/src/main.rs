//! The workspaces API function: composition root only. Configuration, AWS
//! clients and the router are built once per cold start; all behaviour lives
//! in `shared`.

use shared::adapters::dynamo::DynamoStore;
use shared::config::{ConfigError, Env};
use shared::http::{Edge, WorkspacesState, workspaces_router};
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
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = Config::from_env(&Env::process())?;
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let state = WorkspacesState::over(store.clone(), Edge::over(store));
    shared::http::lambda::run(workspaces_router(state)).await
}
