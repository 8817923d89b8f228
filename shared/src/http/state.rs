//! What each router needs, declared per function and built once by its
//! composition root: a function's router cannot be started without every
//! dependency its routes use.

use crate::app::authentication::Authenticator;
use crate::app::chat::ChatEngine;
use crate::app::documents::DocumentService;
use crate::app::webhook_dispatch::EventDispatcher;
use crate::app::webhooks::Webhooks;
use crate::app::widget::WidgetService;
use crate::domain::webhook::target::TargetPolicy;
use crate::domain::widget_token::WidgetTokens;
use crate::jobs::{CleanupJob, IngestJob, WebhookJob};
use crate::ports::webhook_sender::HostResolver;
use crate::ports::{
    AssistantStore, BlobStore, ChatModel, Clock, ConnectionStore, ConversationStore, DocumentStore,
    GrantStore, JobQueue, KeyStore, PassageSearch, ProjectStore, SecretCipher, SmsGateway,
    SmsStore, Store, UsageStore, WidgetSigner, WidgetStore, WorkspaceStore,
};
use axum::extract::FromRef;
use std::sync::Arc;

/// What every route of every function needs: who the caller is, and their
/// membership of the workspace the path names.
#[derive(Clone)]
pub struct Edge {
    pub auth: Arc<Authenticator>,
    pub workspaces: Arc<dyn WorkspaceStore>,
}

impl Edge {
    /// Authentication (with the production key cache) and memberships, both
    /// from `store`.
    pub fn over<S: WorkspaceStore + KeyStore + 'static>(store: Arc<S>) -> Self {
        Self {
            auth: Arc::new(Authenticator::new(store.clone())),
            workspaces: store,
        }
    }
}

/// The workspaces function: workspaces, members, API keys.
#[derive(Clone)]
pub struct WorkspacesState {
    pub edge: Edge,
    pub keys: Arc<dyn KeyStore>,
    /// Usage and budgets, and the assistants a budget may be set on.
    pub usage: Arc<dyn UsageStore>,
    pub assistants: Arc<dyn AssistantStore>,
    /// What "this month" is.
    pub clock: Arc<dyn Clock>,
}

impl WorkspacesState {
    /// Every port from one store, on the system clock.
    pub fn over(store: Arc<dyn Store>, edge: Edge) -> Self {
        Self {
            edge,
            keys: store.clone(),
            usage: store.clone(),
            assistants: store,
            clock: Arc::new(crate::ports::SystemClock),
        }
    }

    pub fn month(&self) -> crate::domain::usage::Month {
        crate::domain::usage::Month::of(self.clock.timestamp())
    }
}

/// The assistants function: assistants and grants on them.
#[derive(Clone)]
pub struct AssistantsState {
    pub edge: Edge,
    pub assistants: Arc<dyn AssistantStore>,
    pub grants: Arc<dyn GrantStore>,
    pub cleanup: Arc<dyn JobQueue<CleanupJob>>,
}

/// The projects function: projects, grants on them, documents,
/// connections.
#[derive(Clone)]
pub struct ProjectsState {
    pub edge: Edge,
    pub assistants: Arc<dyn AssistantStore>,
    pub projects: Arc<dyn ProjectStore>,
    pub grants: Arc<dyn GrantStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub documents: DocumentService,
    pub cleanup: Arc<dyn JobQueue<CleanupJob>>,
}

/// The projects function's search route.
#[derive(Clone)]
pub struct SearchState {
    pub edge: Edge,
    pub assistants: Arc<dyn AssistantStore>,
    pub projects: Arc<dyn ProjectStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub search: Arc<dyn PassageSearch>,
}

/// The SMS function: an assistant's SMS configuration, credential test
/// and analytics.
#[derive(Clone)]
pub struct SmsState {
    pub edge: Edge,
    pub assistants: Arc<dyn AssistantStore>,
    pub sms: Arc<dyn SmsStore>,
    pub cipher: Arc<dyn SecretCipher>,
    pub gateway: Arc<dyn SmsGateway>,
    /// The webhook function's public base URL, for `webhookUrl`.
    pub public_base_url: String,
    /// What analytics counts a period back from.
    pub clock: Arc<dyn Clock>,
    /// Where a deleted channel's texters are handed to be forgotten.
    pub cleanup: Arc<dyn JobQueue<CleanupJob>>,
}

/// The chat function: conversations on every channel, and answers.
#[derive(Clone)]
pub struct ChatState {
    pub edge: Edge,
    pub assistants: Arc<dyn AssistantStore>,
    /// What a reader may open, which an answer's sources are shown for.
    pub projects: Arc<dyn ProjectStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub engine: ChatEngine,
    pub cleanup: Arc<dyn JobQueue<CleanupJob>>,
}

impl ChatState {
    /// Every port from one store, with the answer lease of production.
    pub fn over(
        store: Arc<dyn Store>,
        edge: Edge,
        search: Arc<dyn PassageSearch>,
        chat: Arc<dyn ChatModel>,
        cleanup: Arc<dyn JobQueue<CleanupJob>>,
    ) -> Self {
        Self {
            edge,
            assistants: store.clone(),
            projects: store.clone(),
            conversations: store.clone(),
            engine: ChatEngine::over(store, search, chat),
            cleanup,
        }
    }
}

/// The widget function: an assistant's widget settings (members) and the
/// public widget (visitors).
#[derive(Clone)]
pub struct WidgetState {
    pub edge: Edge,
    pub assistants: Arc<dyn AssistantStore>,
    pub widgets: Arc<dyn WidgetStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub service: WidgetService,
    pub engine: ChatEngine,
}

impl WidgetState {
    /// Every port from one store, with the answer lease of production.
    pub fn over(
        store: Arc<dyn Store>,
        edge: Edge,
        search: Arc<dyn PassageSearch>,
        chat: Arc<dyn ChatModel>,
        tokens: Arc<dyn WidgetSigner>,
    ) -> Self {
        Self {
            edge,
            assistants: store.clone(),
            widgets: store.clone(),
            conversations: store.clone(),
            service: WidgetService {
                widgets: store.clone(),
                assistants: store.clone(),
                conversations: store.clone(),
                tokens,
                refusals: Default::default(),
                clock: Arc::new(crate::ports::SystemClock),
            },
            engine: ChatEngine::over(store, search, chat),
        }
    }
}

/// The webhooks function: a workspace's webhooks and their deliveries.
#[derive(Clone)]
pub struct WebhooksState {
    pub edge: Edge,
    pub webhooks: Arc<Webhooks>,
}

macro_rules! edge_of {
    ($($state:ty),*) => {$(
        impl FromRef<$state> for Edge {
            fn from_ref(state: &$state) -> Edge {
                state.edge.clone()
            }
        }
    )*};
}
edge_of!(
    WorkspacesState,
    AssistantsState,
    ProjectsState,
    SearchState,
    SmsState,
    ChatState,
    WidgetState,
    WebhooksState
);

/// Every dependency of every API function, for a process that serves them
/// all at once (the dev server, the tests): one store behind every port, one
/// key cache for every router.
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub cleanup: Arc<dyn JobQueue<CleanupJob>>,
    pub ingest: Arc<dyn JobQueue<IngestJob>>,
    pub search: Arc<dyn PassageSearch>,
    pub chat: Arc<dyn ChatModel>,
    pub auth: Arc<Authenticator>,
    pub sms: SmsBackends,
    /// Signs and checks the widget's session tokens.
    pub widget_tokens: Arc<WidgetTokens>,
    pub webhooks: WebhookBackends,
}

/// What the webhook routes add: where test and retried deliveries are
/// queued, and where webhooks may point.
#[derive(Clone)]
pub struct WebhookBackends {
    pub queue: Arc<dyn JobQueue<WebhookJob>>,
    pub policy: TargetPolicy,
    pub hosts: Arc<dyn HostResolver>,
}

/// What the SMS routes add: the key that seals Auth Tokens, Twilio, and
/// the webhook's public base URL.
#[derive(Clone)]
pub struct SmsBackends {
    pub cipher: Arc<dyn SecretCipher>,
    pub gateway: Arc<dyn SmsGateway>,
    pub public_base_url: String,
    pub clock: Arc<dyn Clock>,
}

impl Backends {
    pub fn edge(&self) -> Edge {
        Edge {
            auth: Arc::clone(&self.auth),
            workspaces: self.store.clone(),
        }
    }

    pub fn workspaces(&self) -> WorkspacesState {
        WorkspacesState {
            clock: Arc::clone(&self.sms.clock),
            ..WorkspacesState::over(self.store.clone(), self.edge())
        }
    }

    pub fn assistants(&self) -> AssistantsState {
        AssistantsState {
            edge: self.edge(),
            assistants: self.store.clone(),
            grants: self.store.clone(),
            cleanup: Arc::clone(&self.cleanup),
        }
    }

    pub fn documents(&self) -> DocumentService {
        DocumentService {
            projects: self.store.clone(),
            documents: self.store.clone(),
            blobs: Arc::clone(&self.blobs),
            ingest: Arc::clone(&self.ingest),
        }
    }

    pub fn projects(&self) -> ProjectsState {
        ProjectsState {
            edge: self.edge(),
            assistants: self.store.clone(),
            projects: self.store.clone(),
            grants: self.store.clone(),
            connections: self.store.clone(),
            documents: self.documents(),
            cleanup: Arc::clone(&self.cleanup),
        }
    }

    pub fn sms(&self) -> SmsState {
        SmsState {
            edge: self.edge(),
            assistants: self.store.clone(),
            sms: self.store.clone(),
            cipher: Arc::clone(&self.sms.cipher),
            gateway: Arc::clone(&self.sms.gateway),
            public_base_url: self.sms.public_base_url.clone(),
            clock: Arc::clone(&self.sms.clock),
            cleanup: Arc::clone(&self.cleanup),
        }
    }

    pub fn chat(&self) -> ChatState {
        let mut state = ChatState::over(
            self.store.clone(),
            self.edge(),
            Arc::clone(&self.search),
            Arc::clone(&self.chat),
            Arc::clone(&self.cleanup),
        );
        state.engine.clock = Arc::clone(&self.sms.clock);
        state
    }

    pub fn widget(&self) -> WidgetState {
        let mut state = WidgetState::over(
            self.store.clone(),
            self.edge(),
            Arc::clone(&self.search),
            Arc::clone(&self.chat),
            self.widget_tokens.clone(),
        );
        state.service.clock = Arc::clone(&self.sms.clock);
        state.engine.clock = Arc::clone(&self.sms.clock);
        state
    }

    pub fn webhooks(&self) -> WebhooksState {
        WebhooksState {
            edge: self.edge(),
            webhooks: Arc::new(Webhooks {
                dispatcher: EventDispatcher {
                    webhooks: self.store.clone(),
                    deliveries: self.store.clone(),
                    queue: Arc::clone(&self.webhooks.queue),
                    clock: Arc::clone(&self.sms.clock),
                },
                cipher: Arc::clone(&self.sms.cipher),
                policy: self.webhooks.policy,
                hosts: Arc::clone(&self.webhooks.hosts),
            }),
        }
    }

    pub fn search(&self) -> SearchState {
        SearchState {
            edge: self.edge(),
            assistants: self.store.clone(),
            projects: self.store.clone(),
            connections: self.store.clone(),
            documents: self.store.clone(),
            search: Arc::clone(&self.search),
        }
    }
}
