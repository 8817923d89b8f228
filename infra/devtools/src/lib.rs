//! The local stack in Rust: provisioning the resources `template.yaml`
//! declares on the local AWS-compatible server, the demo seed, the queue
//! driver that stands in for Lambda's event source mappings.

pub mod admin;
pub mod emulators;
pub mod local;
pub mod proc_status;
pub mod queue_driver;
pub mod runtime_api;
pub mod samples;
pub mod seed;
pub mod widget_demo;
