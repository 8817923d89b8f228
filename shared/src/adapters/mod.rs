//! Adapters: the AWS services behind the ports.

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
