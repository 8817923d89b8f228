//! Every store port at once: what one backing store (DynamoDB, memory)
//! provides, and what a process serving every route holds.

use super::conversation_store::ConversationStore;
use super::delivery_store::DeliveryStore;
use super::sms_store::SmsStore;
use super::store::{
    AssistantStore, CascadeStore, ConnectionStore, DocumentStore, GrantStore, KeyStore,
    ProjectStore, WorkspaceStore,
};
use super::usage_store::UsageStore;
use super::webhook_store::WebhookStore;
use super::widget_store::WidgetStore;

/// Every store port at once: what one backing store provides.
pub trait Store:
    WorkspaceStore
    + KeyStore
    + AssistantStore
    + GrantStore
    + ProjectStore
    + ConnectionStore
    + DocumentStore
    + CascadeStore
    + SmsStore
    + ConversationStore
    + WidgetStore
    + WebhookStore
    + DeliveryStore
    + UsageStore
{
}

impl<T> Store for T where
    T: WorkspaceStore
        + KeyStore
        + AssistantStore
        + GrantStore
        + ProjectStore
        + ConnectionStore
        + DocumentStore
        + CascadeStore
        + SmsStore
        + ConversationStore
        + WidgetStore
        + WebhookStore
        + DeliveryStore
        + UsageStore
{
}
