//! The cleanup worker: SQS-triggered cascades (what hangs off a deleted
//! assistant). Composition root only.

use cleanup_worker::handle_batch;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::Store;
use shared::config::{load_aws, required};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = load_aws().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), table);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let store = store.clone();
            async move { Ok::<_, lambda_runtime::Error>(handle_batch(&store, event.payload).await) }
        },
    ))
    .await
}
