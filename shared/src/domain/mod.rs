//! Entities, value types and the permission policy. No AWS, HTTP or storage
//! types here: values are built by parsing, so an invalid one cannot exist.

pub mod access;
pub mod api_key;
pub mod assistant;
pub mod conversation;
pub mod document;
pub mod fields;
pub mod ids;
pub mod member;
pub mod passage;
pub mod policy;
pub mod project;
pub mod redaction;
pub mod role;
pub mod sms;
pub mod time;
pub mod usage;
pub mod use_window;
pub mod visitor;
pub mod webhook;
pub mod widget;
pub mod widget_token;
pub mod workspace;
