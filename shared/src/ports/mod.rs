//! What the application needs from the outside world, in its own words. The
//! adapters implement these against real services; handlers and workers see
//! only the traits.

pub mod all_stores;
pub mod blobs;
pub mod chat;
pub mod cipher;
pub mod clock;
pub mod conflict;
pub mod conversation_store;
pub mod delivery_store;
pub mod providers;
pub mod queue;
pub mod retrieval;
pub mod sms_gateway;
pub mod sms_store;
pub mod store;
pub mod usage_store;
pub mod webhook_sender;
pub mod webhook_store;
pub mod widget_signer;
pub mod widget_store;

pub use all_stores::Store;
pub use blobs::{BlobError, BlobStore, BlobVersion, PresignedUpload};
pub use chat::{ChatAnswer, ChatEvent, ChatModel, ChatRequest, ChatStream, Speaker, Turn};
pub use cipher::{CipherError, SecretCipher, SecretContext};
pub use clock::{Clock, ShiftedClock, SystemClock};
pub use conflict::Conflict;
pub use conversation_store::{AnswerLease, ConversationRef, ConversationStore, NewConversation};
pub use delivery_store::{DeliveryPage, DeliveryStore};
pub use providers::{Embedded, Embedder, ProviderError, VectorIndex, VectorMatch, VectorRecord};
pub use queue::{JobQueue, QueueError};
pub use retrieval::PassageSearch;
pub use sms_gateway::{Capabilities, GatewayError, NumberCheck, OutboundSms, SentSms, SmsGateway};
pub use sms_store::{
    Burst, Contact, Decided, InboundOutcome, InboundPlan, InboundRecord, InboundSms, Joins,
    PartState, Reply, ReplyDecision, ReplyDraft, ReplyPart, SmsStore, TexterState,
};
pub use store::{
    AssistantStore, CascadeStore, ConnectionStore, DocumentStore, GrantStore, KeyStore,
    ProjectStore, StoreError, WorkspaceStore,
};
pub use usage_store::UsageStore;
pub use webhook_store::{SealedSecrets, StoredWebhook, WebhookStore};
pub use widget_signer::WidgetSigner;
pub use widget_store::{Admission, NewWidgetSession, WidgetSession, WidgetSite, WidgetStore};
