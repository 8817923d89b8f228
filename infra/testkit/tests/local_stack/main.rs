//! Tests that need the local AWS server `./infra/test` starts: the DynamoDB,
//! S3 and SQS adapters, and the end-to-end flows through them. One test
//! binary, since linking is what costs.

mod attempt_resends;
mod budgets;
mod cascades;
mod change_stream;
mod connections;
mod data_erasure;
mod dead_letters;
mod direct_uploads;
mod dynamo_store_contract;
mod ingest_loop;
mod least_privilege;
mod round_trips;
mod secrets;
mod sms_contention;
mod sms_loop;
mod sms_webhook_refusals;
mod template;
mod unreachable_database;
mod workspace_deletion;
