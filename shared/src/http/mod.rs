//! The HTTP edge shared by every API function: authentication, JSON bodies,
//! paging, the error mapping, and the routers themselves.

pub mod access;
pub mod api_keys;
pub mod assistants;
pub mod auth;
pub mod body;
pub mod connections;
pub mod documents;
pub mod error;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod paging;
pub mod path;
pub mod projects;
#[cfg(feature = "rag")]
pub mod search;
pub mod state;
mod trace;
pub mod uploads;
pub mod views;
pub mod workspaces;

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::response::IntoResponse;
use error::ApiError;
pub use state::AppState;
/// Finishes a function's router: JSON 404 and 405 answers, request spans.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(|| async { ApiError::NotFound("route").into_response() })
        .method_not_allowed_fallback(|request: Request| async move {
            method_not_allowed(request.method()).into_response()
        })
        .route_layer(axum::middleware::from_fn(trace::trace_request))
        .with_state(state)
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// The workspaces function's router: workspaces, members and API keys.
pub fn workspaces_router(state: AppState) -> Router {
    finish(workspaces::routes().merge(api_keys::routes()), state)
}

/// The assistants function's router.
pub fn assistants_router(state: AppState) -> Router {
    finish(assistants::routes(), state)
}

/// The projects function's router: projects and their connections to
/// assistants.
pub fn projects_router(state: AppState) -> Router {
    finish(
        projects::routes()
            .merge(connections::routes())
            .merge(documents::routes()),
        state,
    )
}

/// The projects function's router with retrieval (`.../search`), as
/// deployed when the embeddings API and the index are configured.
#[cfg(feature = "rag")]
pub fn projects_router_with_search(
    state: AppState,
    retriever: std::sync::Arc<crate::rag::Retriever>,
) -> Router {
    finish(
        projects::routes()
            .merge(connections::routes())
            .merge(documents::routes())
            .merge(search::routes(retriever)),
        state,
    )
}

/// Every API route without the retrieval one, unfinished, to combine.
pub fn all_routes() -> Router<AppState> {
    workspaces::routes()
        .merge(api_keys::routes())
        .merge(assistants::routes())
        .merge(projects::routes())
        .merge(connections::routes())
        .merge(documents::routes())
}

/// Every API route but search on one router.
pub fn all_routes_router(state: AppState) -> Router {
    finish(all_routes(), state)
}
