//! The local stack in Rust: provisioning the resources `template.yaml`
//! declares on the local AWS-compatible server, the demo seed, the queue
//! driver that stands in for Lambda's event source mappings.

pub mod admin;
pub mod change_stream;
pub mod dead_letters;
pub mod emulators;
pub mod lambda_env;
pub mod local;
pub mod proc_status;
pub mod queue_driver;
pub mod runtime_api;
pub mod sample_events;
pub mod samples;
pub mod seed;
pub mod webhook_inbox;
pub mod widget_demo;

/// An HTTP client for the tools and tests, on the functions' TLS provider
/// (reqwest is built without one of its own).
pub fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("a client with no custom TLS or proxy settings always builds")
}

/// A client builder for tools that tune the pool or the timeouts.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    shared::adapters::outbound_http::install_crypto();
    reqwest::Client::builder()
}
