//! The event feed: triggered by the table's stream; makes each committed
//! change's events and dispatches them to the webhooks that want them.
//! Composition root only.

use event_feed::handle_records;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::sqs::SqsQueue;
use shared::app::event_feed::EventFeed;
use shared::app::webhook_dispatch::EventDispatcher;
use shared::config::{ConfigError, Env};
use shared::wiring::load_aws;
use std::sync::Arc;

struct Config {
    table_name: String,
    webhook_queue_url: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            webhook_queue_url: env.url("WEBHOOK_QUEUE_URL")?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = Config::from_env(&Env::process())?;
    let aws = load_aws(&shared::adapters::outbound_http::client()).await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name,
    ));
    let feed = Arc::new(EventFeed {
        dispatcher: EventDispatcher {
            webhooks: store.clone(),
            deliveries: store.clone(),
            queue: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(&aws),
                config.webhook_queue_url,
            )),
            clock: Arc::new(shared::ports::SystemClock),
        },
        events_of: shared::http::events::events_of,
    });
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::dynamodb::Event>| {
            let (store, feed) = (Arc::clone(&store), Arc::clone(&feed));
            async move {
                Ok::<_, lambda_runtime::Error>(handle_records(&store, &feed, event.payload).await)
            }
        },
    ))
    .await
}
