//! What the AWS SDK alone costs a cold start: the standard configuration
//! chain and the DynamoDB, KMS and SQS clients every function's stack
//! builds (TLS roots and HTTP connector included), then the bare runtime.
//! Its HTTP client is the one the SDK builds by default (hyper 1 over
//! rustls with aws-lc), named here since the workspace's SDK crates are
//! built without it.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let sdk_default_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(sdk_default_client)
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
