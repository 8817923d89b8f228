//! The ingest worker: SQS-triggered; extracts, chunks, embeds and upserts
//! uploaded documents. Composition root only.

use ingest_worker::handle_batch;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::s3::S3Blobs;
use shared::config::{ConfigError, Env, ProviderSettings};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::wiring::{RetryBudget, load_aws};
use std::sync::Arc;

struct Config {
    table_name: String,
    documents_bucket: String,
    dead_letter_queue_arn: String,
    providers: ProviderSettings,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            documents_bucket: env.required("DOCUMENTS_BUCKET")?,
            dead_letter_queue_arn: env.required("INGEST_DEAD_LETTER_QUEUE_ARN")?,
            providers: ProviderSettings::from_env(env)?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    // The tokenizer's vocabulary is compiled in; only its pattern is built,
    // a couple of milliseconds, in the init rather than the first document.
    shared::tokenizer::cl100k::warm_up();
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    // The provider keys come from Secrets Manager, once per container.
    let env = shared::wiring::with_provider_keys(&aws, Env::process()).await?;
    let config = Config::from_env(&env)?;
    let retriever = config
        .providers
        .retriever(http.clone(), RetryBudget::Worker);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let ingestor = Arc::new(Ingestor {
        store: store.clone(),
        usage: store.clone(),
        projects: store,
        blobs: Arc::new(S3Blobs::new(
            aws_sdk_s3::Client::new(&aws),
            config.documents_bucket,
        )),
        embedder: retriever.embedder,
        index: retriever.index,
        concurrency: DEFAULT_CONCURRENCY,
    });
    let dead_letters: Arc<str> = config.dead_letter_queue_arn.into();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let ingestor = Arc::clone(&ingestor);
            let dead_letters = Arc::clone(&dead_letters);
            async move {
                Ok::<_, lambda_runtime::Error>(
                    handle_batch(&ingestor, event.payload, &dead_letters).await,
                )
            }
        },
    ))
    .await
}
