//! The application layer, between the edges (`http`, the workers) and the
//! ports: the rules that take more than one store call (who the caller is,
//! who may see or change what, what an upload or a deletion involves). It
//! knows the ports only, never an adapter, and nothing of HTTP but the
//! error type it shares with the edge.

pub mod answer;
pub mod authentication;
pub mod chat;
pub mod cleanup;
pub mod conversations;
pub mod documents;
pub mod error;
pub mod event_feed;
pub mod guard;
pub mod job_error;
pub mod members;
pub mod opened_secrets;
pub mod reply;
pub mod retrieval;
pub mod sms_config;
pub mod sms_webhook;
pub mod usage;
pub mod webhook_delivery;
pub mod webhook_dispatch;
pub mod webhooks;
pub mod widget;
pub mod widget_refusals;
