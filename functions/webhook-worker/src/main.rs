//! The webhook worker: SQS-triggered on both lanes' queues; signs each
//! delivery to the Standard Webhooks spec, sends it to the customer's
//! endpoint, records the attempt and queues the next one on the schedule.
//! Composition root only.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsCipher;
use shared::adapters::sqs::SqsQueue;
use shared::adapters::webhook_sender::HttpWebhookSender;
use shared::app::webhook_delivery::{Lane, WebhookDeliverer};
use shared::app::webhook_dispatch::EventDispatcher;
use shared::config::{ConfigError, Env};
use shared::domain::webhook::RetrySchedule;
use shared::domain::webhook::target::TargetPolicy;
use shared::wiring::load_aws;
use std::sync::Arc;
use webhook_worker::{Lanes, handle_batch};

struct Config {
    table_name: String,
    /// Opens webhook secrets (under a context naming the webhook).
    secrets_key_id: String,
    webhook_queue_url: String,
    failing_queue_url: String,
    failing_queue_arn: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            secrets_key_id: env.required("SMS_KEY_ID")?,
            webhook_queue_url: env.url("WEBHOOK_QUEUE_URL")?,
            failing_queue_url: env.url("WEBHOOK_FAILING_QUEUE_URL")?,
            failing_queue_arn: env.required("WEBHOOK_FAILING_QUEUE_ARN")?,
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
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let dispatcher = EventDispatcher {
        webhooks: store.clone(),
        deliveries: store,
        queue: Arc::new(SqsQueue::new(sqs.clone(), config.webhook_queue_url)),
        clock: Arc::new(shared::ports::SystemClock),
    };
    // Production: no loopback, no private address, ever.
    let sender = Arc::new(HttpWebhookSender::new(TargetPolicy::default()));
    let cipher = Arc::new(KmsCipher::new(
        aws_sdk_kms::Client::new(&aws),
        config.secrets_key_id,
    ));
    let failing_queue = Arc::new(SqsQueue::new(sqs, config.failing_queue_url));
    let lane = |lane| WebhookDeliverer {
        dispatcher: dispatcher.clone(),
        sender: sender.clone(),
        cipher: cipher.clone(),
        schedule: RetrySchedule::default(),
        failing_queue: failing_queue.clone(),
        lane,
        opened: Default::default(),
    };
    let lanes = Arc::new(Lanes {
        healthy: lane(Lane::Healthy),
        failing: lane(Lane::Failing),
        failing_queue_arn: config.failing_queue_arn,
    });
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let lanes = Arc::clone(&lanes);
            async move { Ok::<_, lambda_runtime::Error>(handle_batch(&lanes, event.payload).await) }
        },
    ))
    .await
}
