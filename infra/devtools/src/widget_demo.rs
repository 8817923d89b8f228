//! The widget's local demo: an assistant answering from an FAQ project,
//! opened to a second loopback origin where a demo page embeds it, so the
//! origin check is real (the same page on the API's own origin gets no
//! widget). Set up through the API itself, as a customer would.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The script every page embeds, as deployed to the widget's bucket.
pub const WIDGET_JS: &str = include_str!("../../../functions/widget-api/assets/widget.js");
const DEMO_PAGE: &str = include_str!("../assets/widget-demo.html");

/// What the FAQ project holds: the demo's answers come from here.
pub const DEMO_FAQ: &str = "# Acme Outdoor Supply FAQ\n\n\
## Opening hours\n\nOur store is open Monday to Saturday, 9am to 6pm. We are closed on Sundays.\n\n\
## Refunds\n\nRefunds take five business days once we receive the returned item.\n\n\
## Shipping\n\nStandard shipping takes three to five business days and is free over $50.\n";

#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetDemo {
    pub assistant_id: String,
    pub project_id: String,
    /// The origin the demo page is served from, the one the widget allows.
    pub demo_origin: String,
}

async fn call(
    app: &Router,
    key: &str,
    method: Method,
    path: &str,
    body: Option<(String, String)>,
) -> Result<Value, String> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::ACCEPT, "application/json");
    let body = match body {
        Some((content_type, body)) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(body)
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(request.body(body).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "{path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn json_body(value: Value) -> Option<(String, String)> {
    Some(("application/json".into(), value.to_string()))
}

/// Creates the demo assistant (public, widget enabled, a welcome message),
/// its FAQ project with one document (indexed by the ingest worker within
/// seconds) and the widget settings allowing `demo_origin`, as the owner.
pub async fn seed_widget_demo(
    app: &Router,
    ws: &str,
    owner_key: &str,
    demo_origin: &str,
) -> Result<WidgetDemo, String> {
    let api = format!("/api/workspaces/{ws}");
    let assistant = call(
        app,
        owner_key,
        Method::POST,
        &format!("{api}/assistants"),
        json_body(json!({
            "name": "Acme Help",
            "instructions": "You are the friendly assistant of Acme Outdoor Supply. Answer from the FAQ.",
            "model": "grok-2",
            "visibility": "public",
            "widgetEnabled": true,
            "welcomeMessage": "Hi! I'm Acme's assistant. Ask me about opening hours, refunds or shipping.",
        })),
    )
    .await?;
    let assistant_id = assistant["id"].as_str().unwrap_or_default().to_owned();
    let project = call(
        app,
        owner_key,
        Method::POST,
        &format!("{api}/projects"),
        json_body(json!({"name": "Acme FAQ", "visibility": "workspace"})),
    )
    .await?;
    let project_id = project["id"].as_str().unwrap_or_default().to_owned();
    let boundary = "illumichat-demo-boundary";
    let upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"acme-faq.md\"\r\nContent-Type: text/markdown\r\n\r\n{DEMO_FAQ}\r\n--{boundary}--\r\n"
    );
    call(
        app,
        owner_key,
        Method::POST,
        &format!("{api}/projects/{project_id}/documents"),
        Some((format!("multipart/form-data; boundary={boundary}"), upload)),
    )
    .await?;
    call(
        app,
        owner_key,
        Method::POST,
        &format!("{api}/assistants/{assistant_id}/projects"),
        json_body(json!({"projectId": project_id})),
    )
    .await?;
    call(
        app,
        owner_key,
        Method::PUT,
        &format!("{api}/assistants/{assistant_id}/widget"),
        json_body(json!({"allowedOrigins": [demo_origin], "title": "Acme Help"})),
    )
    .await?;
    Ok(WidgetDemo {
        assistant_id,
        project_id,
        demo_origin: demo_origin.to_owned(),
    })
}

/// The demo page for `assistant`, with the script from `api_base`.
pub fn demo_page(api_base: &str, assistant: &str, note: &str) -> String {
    DEMO_PAGE
        .replace("{{API_BASE}}", api_base)
        .replace("{{ASSISTANT_ID}}", assistant)
        .replace("{{NOTE}}", note)
}

/// `widget.js` as a CDN serves it.
pub async fn widget_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// The demo origin's site: the page that embeds the widget.
pub fn demo_site(api_base: &str, assistant: &str) -> Router {
    let page = demo_page(
        api_base,
        assistant,
        "The assistant's widget settings allow this origin, so the widget appears.",
    );
    Router::new().route("/", get(move || async move { Html(page.clone()) }))
}

/// On the API's own origin: the same page, which the widget settings do
/// not allow, so no widget appears.
pub fn disallowed_page(api_base: &str, assistant: &str) -> Router {
    let page = demo_page(
        api_base,
        assistant,
        "This origin is not in the widget's allowedOrigins, so no widget appears.",
    );
    Router::new().route("/widget.js", get(widget_script)).route(
        "/widget/demo",
        get(move || async move { Html(page.clone()) }),
    )
}
