//! HTTP clients of the providers: an OpenAI-compatible embeddings API,
//! Pinecone's data plane and OpenAI-compatible chat completions (one API
//! per model prefix), with the timeouts and retry policy they share.

pub mod chat;
pub mod embeddings;
mod http;
pub mod pinecone;

pub use http::RetryPolicy;
