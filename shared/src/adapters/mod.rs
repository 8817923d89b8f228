//! Adapters, the implementations behind the ports: the DynamoDB store, S3,
//! SQS, KMS and Secrets Manager; Twilio's REST API; the providers' HTTP
//! clients (embeddings, Pinecone, chat) and the retriever over them; the
//! memory store for tests; and what they share (the outbound HTTP client,
//! the retries of contended writes, building an adapter on first use,
//! counting round trips, classifying SDK errors).

pub mod contention;
pub mod dynamo;
#[cfg(feature = "sms")]
pub mod kms;
#[cfg(feature = "memory")]
pub mod memory;
pub mod on_first_use;
pub mod outbound_http;
#[cfg(feature = "rag")]
pub mod providers;
#[cfg(feature = "rag")]
pub mod retriever;
pub mod round_trips;
pub mod s3;
pub mod sdk_errors;
#[cfg(feature = "secrets")]
pub mod secrets;
pub mod sqs;
#[cfg(feature = "sms")]
pub mod twilio;
pub mod webhook_sender;
