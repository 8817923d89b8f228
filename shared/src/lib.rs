//! Everything the IllumiChat functions do. Function crates are composition
//! roots; the dev server and the tests run these very routers and handlers.

pub mod adapters;
pub mod cleanup;
pub mod config;
pub mod domain;
pub mod http;
#[cfg(feature = "ingest")]
pub mod ingest;
pub mod jobs;
pub mod ports;
#[cfg(feature = "rag")]
pub mod rag;
pub mod telemetry;
