//! The ingest worker: SQS-triggered; extracts, chunks, embeds and upserts
//! uploaded documents. Composition root only.

use ingest_worker::handle_batch;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::Store;
use shared::adapters::s3::BlobStore;
use shared::config::{load_aws, required, retriever_from_env};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    // Loading the tokenizer's vocabulary takes tens of milliseconds: pay it
    // once in the container's init, not in its first document.
    shared::ingest::chunker::count_tokens("warm up");
    let table = required("TABLE_NAME")?;
    let bucket = required("DOCUMENTS_BUCKET")?;
    let retriever = retriever_from_env(reqwest::Client::new())?;
    let aws = load_aws().await;
    let ingestor = Arc::new(Ingestor {
        store: Store::new(aws_sdk_dynamodb::Client::new(&aws), table),
        blobs: BlobStore::new(aws_sdk_s3::Client::new(&aws), bucket),
        embedder: retriever.embedder,
        index: retriever.index,
        concurrency: DEFAULT_CONCURRENCY,
    });
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let ingestor = Arc::clone(&ingestor);
            async move { Ok::<_, lambda_runtime::Error>(handle_batch(&ingestor, event.payload).await) }
        },
    ))
    .await
}
