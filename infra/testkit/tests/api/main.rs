//! Route and worker tests on the in-memory ports (and the provider
//! emulators on loopback): no local AWS server, and any dependency can be
//! made to fail on purpose. One test binary, since linking is what costs.

mod assistants_api;
mod assistants_events;
mod authorization;
mod chat_answers;
mod chat_events;
mod chat_streaming;
mod cleanup_events;
mod connections_api;
mod conversations_api;
mod data_erasure;
mod failures;
mod fault_matrix;
mod ingest_events;
mod ingest_redelivery;
mod key_cache;
mod malformed_requests;
mod memory_store_contract;
mod openapi_document;
mod project_deletion;
mod projects_events;
mod providers;
mod sms_budgets_and_limits;
mod sms_config_api;
mod sms_events;
mod sms_exactly_once;
mod sms_privacy_and_analytics;
mod sms_replies;
mod sms_sessions_and_history;
mod sms_webhook;
mod twilio_gateway;
mod usage_and_budgets;
mod webhook_delivery;
mod webhook_events_emitted;
mod webhook_management;
mod webhooks_api;
mod webhooks_events;
mod widget_abuse;
mod widget_access;
mod widget_events;
mod widget_visitors;
mod workspaces_api;
mod workspaces_events;
