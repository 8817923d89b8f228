//! The projects API function: composition root only. Configuration, AWS
//! clients and the router are built once per cold start; all behaviour lives
//! in `shared`.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::s3::S3Blobs;
use shared::adapters::sqs::SqsQueue;
use shared::app::documents::DocumentService;
use shared::config::{ConfigError, Env};
use shared::http::{Edge, ProjectsState, SearchState, projects_router};
use shared::wiring::{RetryBudget, load_aws, provider_keys_on_first_use, retriever_on_first_use};
use std::sync::Arc;

struct Config {
    table_name: String,
    cleanup_queue_url: String,
    ingest_queue_url: String,
    documents_bucket: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            cleanup_queue_url: env.url("CLEANUP_QUEUE_URL")?,
            ingest_queue_url: env.url("INGEST_QUEUE_URL")?,
            documents_bucket: env.required("DOCUMENTS_BUCKET")?,
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
    // with the first search: the other routes never wait for them.
    let keys = provider_keys_on_first_use(&aws, env);
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let edge = Edge::over(store.clone());
    let state = ProjectsState {
        edge: edge.clone(),
        assistants: store.clone(),
        projects: store.clone(),
        grants: store.clone(),
        connections: store.clone(),
        documents: DocumentService {
            projects: store.clone(),
            documents: store.clone(),
            blobs: Arc::new(S3Blobs::new(
                aws_sdk_s3::Client::new(&aws),
                config.documents_bucket,
            )),
            ingest: Arc::new(SqsQueue::new(sqs.clone(), config.ingest_queue_url)),
        },
        cleanup: Arc::new(SqsQueue::new(sqs, config.cleanup_queue_url)),
    };
    let search = SearchState {
        edge,
        assistants: store.clone(),
        projects: store.clone(),
        connections: store.clone(),
        documents: store,
        search: Arc::new(retriever_on_first_use(
            &keys,
            http.clone(),
            RetryBudget::Route,
        )),
    };
    shared::http::lambda::run(projects_router(state, search)).await
}
