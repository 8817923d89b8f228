//! Running a router behind API Gateway (REST, payload 1.0), buffered or,
//! for answers that stream, in the `STREAM` response transfer mode.
//!
//! `lambda_http` puts the stage in front of the path (`/prod/api/...`) unless
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set. Rather than depend on an
//! environment variable being right in every deployment, the router is fed
//! the path exactly as API Gateway sent it in the event's `path`.

use super::client_ip::ClientIp;
use axum::Router;
use lambda_http::RequestExt;
use lambda_http::tower::ServiceExt;

/// The request as the router sees it: API Gateway's own path, no stage.
pub fn without_stage(request: lambda_http::Request) -> lambda_http::Request {
    let raw_path = request.raw_http_path().to_owned();
    if raw_path.is_empty() {
        return request;
    }
    let (mut parts, body) = request.into_parts();
    let path_and_query = match parts.uri.query() {
        Some(query) => format!("{raw_path}?{query}"),
        None => raw_path,
    };
    let mut uri = parts.uri.clone().into_parts();
    if let Ok(rebuilt) = path_and_query.parse() {
        uri.path_and_query = Some(rebuilt);
        if let Ok(uri) = lambda_http::http::Uri::from_parts(uri) {
            parts.uri = uri;
        }
    }
    lambda_http::Request::from_parts(parts, body)
}

/// The request with the address API Gateway saw it come from
/// (`requestContext.identity.sourceIp`), for the limits per client.
pub fn with_client_ip(mut request: lambda_http::Request) -> lambda_http::Request {
    #[allow(unreachable_patterns)] // one variant when built with one feature
    let source_ip = match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV1(context)) => {
            context.identity.source_ip.clone()
        }
        _ => None,
    };
    if let Some(ip) = source_ip {
        request.extensions_mut().insert(ClientIp(ip));
    }
    request
}

/// Answers one request through the router, as Lambda does.
pub async fn handle(
    router: Router,
    request: lambda_http::Request,
) -> Result<axum::response::Response, std::convert::Infallible> {
    router.oneshot(with_client_ip(without_stage(request))).await
}

/// Serves the router as this Lambda function until the runtime stops it.
pub async fn run(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |request| {
        handle(router.clone(), request)
    }))
    .await
}

/// Serves the router with response streaming (API Gateway's `STREAM`
/// transfer mode, invoked through `InvokeWithResponseStream`): each body
/// frame reaches the client as it is written.
pub async fn run_streaming(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run_with_streaming_response(lambda_http::service_fn(move |request| {
        handle(router.clone(), request)
    }))
    .await
}
