//! Adapters: the AWS services behind the ports.

pub mod dynamo;
pub mod round_trips;
pub mod sqs;
