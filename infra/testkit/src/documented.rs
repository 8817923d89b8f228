//! Every answer a test sees held to the OpenAPI document: a leaf the API
//! harness and the SMS webhook's both wrap their routers with.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};

/// `router`, with every answer held to the OpenAPI document.
pub fn held_to_the_document(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(documented_answers_only))
}

async fn documented_answers_only(
    request: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (method, path) = (
        request.method().to_string(),
        request.uri().path().to_owned(),
    );
    let response = next.run(request).await;
    assert_documented(&method, &path, response.status());
    response
}

/// Every answer a test sees is one the OpenAPI document lists for its
/// operation; a path no operation serves may only be a 404 or 405.
fn assert_documented(method: &str, path: &str, status: StatusCode) {
    match shared::http::api_document::documented_statuses(method, path) {
        Some(listed) => assert!(
            listed.contains(&status.as_u16()),
            "{method} {path} answered {status}, which the OpenAPI document does not list ({listed:?})"
        ),
        None => assert!(
            matches!(status.as_u16(), 404 | 405),
            "{method} {path} answered {status} but no operation of the OpenAPI document serves it"
        ),
    }
}
