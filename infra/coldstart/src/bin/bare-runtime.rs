//! The floor of a Rust Lambda's cold start: `lambda_runtime` answering each
//! event with itself, nothing configured, no client built.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            Ok::<_, lambda_runtime::Error>(event.payload)
        },
    ))
    .await
}
