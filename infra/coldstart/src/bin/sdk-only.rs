//! What the AWS SDK alone costs a cold start: the standard configuration
//! chain and the DynamoDB, KMS and SQS clients every function's stack
//! builds (TLS roots and HTTP connector included), then the bare runtime.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let clients = (
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_kms::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        // Held by the handler, as a function's state holds its clients.
        let _held = &clients;
        async move { Ok::<_, lambda_runtime::Error>(event.payload) }
    }))
    .await
}
