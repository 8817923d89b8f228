//! Everything the IllumiChat functions do. Function crates are composition
//! roots; the dev server and the tests run these very routers and handlers.
//!
//! Layers, each importing only those before it: `domain`, `jobs`, `ports`,
//! `adapters`, then `ingest`, `config` and `wiring`, then `app`, then
//! `http`. A test (`layers_test.rs`) reads every `use` and inline path and fails on a cycle between
//! modules or a layer pointing up.

pub mod adapters;
pub mod app;
pub mod config;
pub mod domain;
pub mod http;
#[cfg(feature = "ingest")]
pub mod ingest;
pub mod jobs;
#[cfg(test)]
mod layers_test;
pub mod metrics;
pub mod ports;
pub mod telemetry;
#[cfg(feature = "tokenizer")]
pub mod tokenizer;
pub mod wiring;
