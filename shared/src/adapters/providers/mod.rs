//! HTTP clients of the providers: an OpenAI-compatible embeddings API and
//! Pinecone's data plane.

pub mod chat;
pub mod embeddings;
mod http;
pub mod pinecone;

pub use http::RetryPolicy;
