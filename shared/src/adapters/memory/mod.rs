//! The ports in memory: for tests that need no local server, and for tests
//! that make a dependency fail on purpose.

mod api_keys;
mod assistants;
mod blobs;
mod cascade;
mod cipher;
mod connections;
mod conversations;
mod deliveries;
mod documents;
mod erasure;
mod faults;
mod grants;
mod hosts;
mod projects;
mod queue;
mod sms;
mod store;
mod tables;
mod usage;
mod webhooks;
mod widget;
mod workspaces;

pub use blobs::MemoryBlobs;
pub use cipher::MemoryCipher;
pub use faults::{Fault, FaultPlan};
pub use hosts::MemoryHosts;
pub use queue::MemoryQueue;
pub use store::MemoryStore;
