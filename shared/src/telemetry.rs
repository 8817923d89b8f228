//! Logging: JSON lines in Lambda (CloudWatch parses them), readable lines
//! locally. Fields, never whole events or bodies: those carry keys and phone
//! numbers.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // A second init (tests, the dev server embedding several routers) is
    // harmless: the first subscriber stays.
    let _ = if in_lambda {
        builder
            .json()
            .with_current_span(true)
            .without_time()
            .try_init()
    } else {
        builder.try_init()
    };
}
