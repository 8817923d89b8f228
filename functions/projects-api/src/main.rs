//! The projects API function: composition root only. Configuration, AWS
//! clients and the router are built once per cold start; all behaviour lives
//! in `shared`.

use shared::adapters::dynamo::Store;
use shared::adapters::s3::BlobStore;
use shared::adapters::sqs::JobQueue;
use shared::config::{ApiConfig, load_aws, required, retriever_from_env};
use shared::http::{AppState, projects_router_with_search};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = ApiConfig::from_env()?;
    let bucket = required("DOCUMENTS_BUCKET")?;
    let ingest_queue = required("INGEST_QUEUE_URL")?;
    let retriever = retriever_from_env(reqwest::Client::new())?;
    let aws = load_aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let state = AppState::new(
        Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name),
        JobQueue::new(sqs.clone(), config.cleanup_queue_url),
    )
    .with_documents(
        BlobStore::new(aws_sdk_s3::Client::new(&aws), bucket),
        JobQueue::new(sqs, ingest_queue),
    );
    let router = projects_router_with_search(state, Arc::new(retriever));
    shared::http::lambda::run(router).await
}
