//! The workspaces API function: composition root only. Configuration, AWS
//! clients and the router are built once per cold start; all behaviour lives
//! in `shared`.

use shared::adapters::dynamo::Store;
use shared::adapters::sqs::JobQueue;
use shared::config::{ApiConfig, load_aws};
use shared::http::{AppState, workspaces_router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = ApiConfig::from_env()?;
    let aws = load_aws().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name);
    let cleanup = JobQueue::new(aws_sdk_sqs::Client::new(&aws), config.cleanup_queue_url);
    let router = workspaces_router(AppState::new(store, cleanup));
    shared::http::lambda::run(router).await
}
