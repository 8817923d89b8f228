//! The ports in memory: for tests that need no local server, and for tests
//! that make a dependency fail on purpose.

mod blobs;
mod cipher;
mod conversations;
mod erasure;
mod faults;
mod queue;
mod sms;
mod store;
mod widget;

pub use blobs::MemoryBlobs;
pub use cipher::MemoryCipher;
pub use faults::{Fault, FaultPlan};
pub use queue::MemoryQueue;
pub use store::MemoryStore;
