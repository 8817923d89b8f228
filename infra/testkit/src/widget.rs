//! A browser's side of the widget, for tests: requests with an `Origin`,
//! a widget token and the TCP peer a server would see, and the setup that
//! opens an assistant to a site.

use crate::api::{Api, Fixture, read_events};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt;

/// The customer's website in every widget test.
pub const SHOP: &str = "https://shop.example.com";
/// A visitor's address, as the TCP peer.
pub const VISITOR_IP: &str = "203.0.113.7";
/// Midnight UTC on 2026-12-07: the start of a day, and so of an hour and
/// a minute. A test that fills the widget's windows sets the stack's
/// clock here, so each window has its whole length ahead of the test, not
/// whatever the wall clock left of it: one run at 21:59:5x saw its hour
/// roll over between the questions it counted.
pub const START_OF_A_DAY: shared::domain::time::Timestamp =
    shared::domain::time::Timestamp::from_millis(1_796_601_600_000);

/// What a browser answer brings back: status, headers, JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One widget request as a browser on `origin` sends it.
pub struct WidgetRequest<'a> {
    pub method: Method,
    pub path: String,
    pub origin: Option<&'a str>,
    pub token: Option<&'a str>,
    pub body: Option<Value>,
    pub ip: &'a str,
    pub accept: &'a str,
}

impl<'a> WidgetRequest<'a> {
    pub fn new(method: Method, assistant: &str, route: &str) -> Self {
        Self {
            method,
            path: format!("/api/widget/{assistant}/{route}"),
            origin: Some(SHOP),
            token: None,
            body: None,
            ip: VISITOR_IP,
            accept: "application/json",
        }
    }

    pub fn origin(mut self, origin: Option<&'a str>) -> Self {
        self.origin = origin;
        self
    }

    pub fn token(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn ip(mut self, ip: &'a str) -> Self {
        self.ip = ip;
        self
    }

    pub fn streamed(mut self) -> Self {
        self.accept = "text/event-stream";
        self
    }

    fn build(self) -> Request<Body> {
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.path)
            .header("accept", self.accept);
        if let Some(origin) = self.origin {
            request = request.header("origin", origin);
        }
        if let Some(token) = self.token {
            request = request.header("authorization", format!("Widget {token}"));
        }
        if self.body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let mut request = request
            .body(
                self.body
                    .map_or_else(Body::empty, |b| Body::from(b.to_string())),
            )
            .expect("a well-formed widget request");
        let ip: std::net::IpAddr = self.ip.parse().expect("an address");
        let peer = SocketAddr::new(ip, 50000);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }
}

impl WidgetRequest<'_> {
    /// What a visitor sends that no log line may show: their address, and
    /// a lead's email and phone.
    fn forbid_personal_data(&self) {
        crate::logs::forbid("a visitor's address", self.ip);
        let Some(body) = &self.body else { return };
        if let Some(email) = body["email"].as_str().filter(|e| e.contains('@')) {
            crate::logs::forbid("a lead's email", email);
            crate::logs::forbid("a lead's email", &email.to_lowercase());
        }
        if let Some(phone) = body["phone"].as_str() {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            if digits >= 7 {
                crate::logs::forbid("a lead's phone", phone);
            }
        }
    }
}

/// A widget token is a bearer credential: shown once, to its visitor.
fn forbid_token(body: &Value) {
    if let Some(token) = body["token"].as_str() {
        crate::logs::forbid("a widget token", token);
    }
}

impl Api {
    /// Sends a widget request; the body comes back as JSON.
    pub async fn widget(&self, request: WidgetRequest<'_>) -> Answer {
        request.forbid_personal_data();
        let response = self
            .router()
            .oneshot(request.build())
            .await
            .expect("the router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("the body is JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        forbid_token(&body);
        crate::logs::assert_clean();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A streamed widget answer: the status and each SSE event.
    pub async fn widget_stream(
        &self,
        request: WidgetRequest<'_>,
    ) -> (StatusCode, Vec<(String, Value)>) {
        request.forbid_personal_data();
        let response = self
            .router()
            .oneshot(request.streamed().build())
            .await
            .expect("the router never fails");
        let status = response.status();
        let events = read_events(response, usize::MAX).await;
        crate::logs::assert_clean();
        (status, events)
    }

    /// Makes the assistant public with its widget enabled, allowing
    /// `origins` (and the settings' other fields in `extra`).
    pub async fn open_widget(&self, f: &Fixture, assistant: &str, origins: &[&str], extra: Value) {
        let owner = f.key("owner");
        let ws = f.ws();
        let (status, body) = self
            .call(
                Method::PATCH,
                &format!("/api/workspaces/{ws}/assistants/{assistant}"),
                Some(owner),
                Some(json!({"visibility": "public", "widgetEnabled": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut settings = json!({ "allowedOrigins": origins });
        if let (Value::Object(settings), Value::Object(extra)) = (&mut settings, extra) {
            settings.extend(extra);
        }
        let (status, body) = self
            .call(
                Method::PUT,
                &format!("/api/workspaces/{ws}/assistants/{assistant}/widget"),
                Some(owner),
                Some(settings),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// A visitor's `init` from [`SHOP`]: the session id and token.
    pub async fn widget_session(&self, assistant: &str) -> (String, String) {
        let answer = self
            .widget(WidgetRequest::new(Method::POST, assistant, "init").body(json!({})))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        (
            answer.body["sessionId"].as_str().unwrap().to_owned(),
            answer.body["token"].as_str().unwrap().to_owned(),
        )
    }
}
