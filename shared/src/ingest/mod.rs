//! Turning document text into what the vector index holds: token-aware
//! chunks, and request batches that respect the providers' caps.

pub mod batches;
pub mod chunker;
pub mod extract;
pub mod worker;
