//! Test support, apart from the dev server and the benchmarks so that only
//! test binaries compile it: a client for routers, the fixture every route
//! test starts from, a harness on the local AWS server and one in memory,
//! the sample-event replay, and the contract suite every store
//! implementation must pass.

pub mod api;
pub mod contract;
mod documented;
pub mod erasure;
pub mod events;
pub mod local;
pub mod logs;
pub mod memory;
pub mod routes;
pub mod scenarios;
pub mod sms;
mod twilio_account;
pub mod webhooks;
pub mod widget;

pub use api::{Api, Fixture};
pub use local::TestStack;
pub use memory::MemoryStack;
