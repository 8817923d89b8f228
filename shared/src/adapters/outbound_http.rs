//! The one HTTP client a process sends everything through: the AWS SDK's
//! calls (DynamoDB, S3, SQS, KMS, Secrets Manager) and every provider's
//! (embeddings, Pinecone, the chat model, Twilio). One TLS configuration,
//! one connection pool, and the system's root certificates read once, on the
//! first request rather than at cold start (the SDK's own client reads them
//! when the SDK clients are built, reqwest when a client is built, so the
//! client is built on first use).
//!
//! It never follows a redirect, since reqwest would replay the request's
//! key (`Api-Key`, `Authorization`, a SigV4 signature) to wherever a
//! `Location` points. A provider that answers 3xx is refused, like any other
//! answer we did not ask for.
//!
//! The SDK side is written here because neither crate that offers it fits:
//! `aws-smithy-http-client-reqwest` 0.1 reports every failure as an
//! unclassified error (so the SDK's retries cannot tell a timeout or a reset
//! connection from a refusal), and `smithy-transport-reqwest` 0.1 builds a
//! reqwest client of its own per setting, with its own roots.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// An unreachable endpoint fails fast, the providers' as the SDK's (whose
/// timeouts, `wiring::aws_timeouts`, name this one).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A handle on a process's client, cheap to clone; the client is built the
/// first time a request needs it.
#[derive(Clone, Debug, Default)]
pub struct OutboundHttp {
    client: Arc<OnceLock<reqwest::Client>>,
}

/// A new handle: build one per process (per test runtime: a pooled
/// connection belongs to the runtime that opened it) and share it.
pub fn client() -> OutboundHttp {
    OutboundHttp::default()
}

impl OutboundHttp {
    pub fn reqwest(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            install_crypto();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .expect("a client with no custom TLS or proxy settings always builds")
        })
    }
}

/// Makes rustls's ring provider the process's default, which reqwest needs
/// before it builds any client (it is compiled without a provider of its
/// own). Idempotent, so every tool that builds a client may call it.
pub fn install_crypto() {
    // An error only says a provider is installed already, which is the goal.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HttpClient for OutboundHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The connect timeout is the client's (`CONNECT_TIMEOUT`, which the
        // SDK is given too); a read timeout, when one is set, bounds each
        // attempt.
        SharedHttpConnector::new(SdkConnector {
            http: self.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct SdkConnector {
    http: OutboundHttp,
    read_timeout: Option<Duration>,
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.http.reqwest().clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let request = to_reqwest(request, read_timeout)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let response = http_body_response(response);
            HttpResponse::try_from(response)
                .map_err(|err| ConnectorError::other(Box::new(err), None))
        })
    }
}

fn to_reqwest(
    request: HttpRequest,
    read_timeout: Option<Duration>,
) -> Result<reqwest::Request, ConnectorError> {
    let refused =
        |err: Box<dyn std::error::Error + Send + Sync>| ConnectorError::user(err).never_connected();
    let request = request
        .try_into_http1x()
        .map_err(|err| refused(Box::new(err)))?
        // An in-memory body (every request but a streamed upload) goes as
        // it is, so its length is known up front.
        .map(|body| match body.bytes() {
            Some(bytes) => reqwest::Body::from(bytes.to_vec()),
            None => reqwest::Body::wrap(body),
        });
    let mut converted =
        reqwest::Request::try_from(request).map_err(|err| refused(Box::new(err)))?;
    *converted.timeout_mut() = read_timeout;
    Ok(converted)
}

/// The response as the SDK reads it, its body still streaming (an S3
/// download is not held whole in memory).
fn http_body_response(response: reqwest::Response) -> http_1x::Response<SdkBody> {
    let (parts, body) = http_1x::Response::from(response).into_parts();
    http_1x::Response::from_parts(parts, SdkBody::from_body_1_x(body))
}

/// What the SDK's retry strategy needs to know: a timeout and a broken
/// connection are transient; a request that could not be built is ours.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(Box::new(err))
    } else if err.is_connect() {
        ConnectorError::io(Box::new(err)).never_connected()
    } else if err.is_builder() {
        ConnectorError::user(Box::new(err)).never_connected()
    } else if err.is_request() || err.is_body() {
        ConnectorError::io(Box::new(err))
    } else {
        ConnectorError::other(Box::new(err), None)
    }
}
