//! The webhooks API function: a workspace's webhooks, their secrets, tests
//! and delivery history. Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsCipher;
use shared::adapters::sqs::SqsQueue;
use shared::adapters::webhook_sender::DnsHostResolver;
use shared::app::webhook_dispatch::EventDispatcher;
use shared::app::webhooks::Webhooks;
use shared::config::{ConfigError, Env};
use shared::domain::webhook::target::TargetPolicy;
use shared::http::{Edge, WebhooksState, webhooks_router};
use shared::wiring::load_aws;
use std::sync::Arc;

struct Config {
    table_name: String,
    /// Seals webhook secrets (under a context naming the webhook).
    secrets_key_id: String,
    /// Where tests and retried deliveries are queued for the worker.
    webhook_queue_url: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            secrets_key_id: env.required("SMS_KEY_ID")?,
            webhook_queue_url: env.url("WEBHOOK_QUEUE_URL")?,
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
    let state = WebhooksState {
        edge: Edge::over(store.clone()),
        webhooks: Arc::new(Webhooks {
            dispatcher: EventDispatcher {
                webhooks: store.clone(),
                deliveries: store,
                queue: Arc::new(SqsQueue::new(
                    aws_sdk_sqs::Client::new(&aws),
                    config.webhook_queue_url,
                )),
                clock: Arc::new(shared::ports::SystemClock),
            },
            cipher: Arc::new(KmsCipher::new(
                aws_sdk_kms::Client::new(&aws),
                config.secrets_key_id,
            )),
            // Production: no loopback, no private address, ever.
            policy: TargetPolicy::default(),
            hosts: Arc::new(DnsHostResolver),
        }),
    };
    shared::http::lambda::run(webhooks_router(state)).await
}
