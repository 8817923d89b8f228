//! The HTTP edge shared by every API function: authentication, the
//! workspace-member extractor, JSON bodies, paging, the error mapping, and
//! the routers. Routes are composed here and only here.

/// A path under one workspace, as a literal, so a module can name its
/// routes' paths once in `const`s its router and its operations share.
macro_rules! workspace_path {
    ($tail:literal) => {
        concat!("/api/workspaces/{workspace_id}", $tail)
    };
}

mod accept;
pub mod access;
#[cfg(feature = "openapi")]
pub mod api_document;
pub mod api_keys;
pub mod assistants;
pub mod auth;
pub mod body;
pub mod client_ip;
pub mod connections;
pub mod conversations;
pub mod deadline;
pub mod documents;
pub mod error;
pub mod events;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod member;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod paging;
pub mod path;
pub mod projects;
pub mod search;
pub mod sms;
pub mod sms_webhook;
pub mod state;
mod trace;
pub mod uploads;
pub mod usage;
pub mod views;
pub mod webhooks;
pub mod widget;
pub mod widget_settings;
pub mod workspaces;

use crate::app::error::AppError;
use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use error::ApiError;
pub use sms_webhook::WebhookState;
pub use state::{
    AssistantsState, Backends, ChatState, Edge, ProjectsState, SearchState, SmsBackends, SmsState,
    WebhookBackends, WebhooksState, WidgetState, WorkspacesState,
};

/// Finishes a function's router: JSON 404 and 405 answers, request spans,
/// and a JSON 503 for a route that would outlive API Gateway's timeout.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(|| async { AppError::NotFound("route").into_response() })
        .method_not_allowed_fallback(|request: Request| async move {
            ApiError::MethodNotAllowed(request.method().to_string()).into_response()
        })
        .route_layer(axum::middleware::from_fn(deadline::within_deadline))
        .route_layer(axum::middleware::from_fn(trace::trace_request))
}

fn workspaces_routes(state: WorkspacesState) -> Router {
    workspaces::routes()
        .merge(api_keys::routes())
        .merge(usage::routes())
        .with_state(state)
}

fn assistants_routes(state: AssistantsState) -> Router {
    assistants::routes()
        .merge(access::routes::<AssistantsState>())
        .with_state(state)
}

fn projects_routes(state: ProjectsState, search: SearchState) -> Router {
    projects::routes()
        .merge(access::routes::<ProjectsState>())
        .merge(connections::routes())
        .merge(documents::routes())
        .merge(uploads::routes())
        .with_state(state)
        .merge(search::routes().with_state(search))
}

/// The workspaces function's router: workspaces, members, API keys, usage
/// and budgets.
pub fn workspaces_router(state: WorkspacesState) -> Router {
    finish(workspaces_routes(state))
}

/// The assistants function's router: assistants and grants on them.
pub fn assistants_router(state: AssistantsState) -> Router {
    finish(assistants_routes(state))
}

/// The projects function's router: projects, grants on them, documents,
/// connections to assistants, and search.
pub fn projects_router(state: ProjectsState, search: SearchState) -> Router {
    finish(projects_routes(state, search))
}

/// The SMS function's router: configuration, credential test, analytics.
pub fn sms_router(state: SmsState) -> Router {
    finish(sms::routes().with_state(state))
}

/// The chat function's router: conversations (every channel) and their
/// messages, answers streamed.
pub fn chat_router(state: ChatState) -> Router {
    finish(conversations::routes().with_state(state))
}

fn widget_routes(state: WidgetState) -> Router {
    widget_settings::routes()
        .merge(widget::routes(state.clone()))
        .with_state(state)
}

/// The widget function's router: an assistant's widget settings, and the
/// public widget routes (origin-checked, CORS, answers streamed).
pub fn widget_router(state: WidgetState) -> Router {
    finish(widget_routes(state))
}

/// The webhooks function's router: a workspace's webhooks, their tests
/// and delivery history.
pub fn webhooks_router(state: WebhooksState) -> Router {
    finish(webhooks::routes().with_state(state))
}

/// The webhook function's router (a Function URL): Twilio's inbound texts
/// and delivery status.
pub fn sms_webhook_router(state: WebhookState) -> Router {
    finish(sms_webhook::routes().with_state(state))
}

/// Every API route on one router, over one set of backends (the dev server,
/// the tests).
pub fn all_routes_router(backends: &Backends) -> Router {
    finish(
        workspaces_routes(backends.workspaces())
            .merge(assistants_routes(backends.assistants()))
            .merge(projects_routes(backends.projects(), backends.search()))
            .merge(sms::routes().with_state(backends.sms()))
            .merge(conversations::routes().with_state(backends.chat()))
            .merge(widget_routes(backends.widget()))
            .merge(webhooks::routes().with_state(backends.webhooks())),
    )
}
