//! The address a request came from, as the network saw it: API Gateway's
//! `sourceIp` in AWS (put in the request by `http::lambda`), the TCP peer
//! locally. Never a header the client sends (`X-Forwarded-For` is theirs
//! to forge), so a limit per address cannot be dodged by writing one.

use super::error::ApiError;
use crate::app::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Extensions;
use axum::http::request::Parts;
use std::net::SocketAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Every server this router runs in provides one: without it the
        // limits per address could not hold, so refuse rather than guess.
        Self::of(&parts.extensions).ok_or_else(|| {
            AppError::Internal("the server did not say which address the request came from".into())
                .into()
        })
    }
}

impl ClientIp {
    /// The address the server put in a request's extensions.
    pub fn of(extensions: &Extensions) -> Option<Self> {
        if let Some(ip) = extensions.get::<ClientIp>() {
            return Some(ip.clone());
        }
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| Self(peer.ip().to_string()))
    }
}
