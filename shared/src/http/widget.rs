//! `/api/widget/{assistantId}/...`: the public widget, for visitors of the
//! websites an assistant's settings allow. No API key: every route is
//! first gated (the assistant serves the widget, the request's origin is
//! listed; see `app::widget`), then answered with CORS headers for that
//! origin exactly. `config` and `init` need nothing more; `history`,
//! `chat`, `feedback` and `lead` act as the visitor an
//! `Authorization: Widget <token>` header names.

use super::accept::answer_form;
use super::body::JsonBody;
use super::client_ip::ClientIp;
use super::conversations::{answer_in, message_page};
use super::deadline::AnswerBy;
use super::error::ApiError;
use super::paging::Paging;
use super::path::ApiPath;
use super::state::WidgetState;
use super::views::{FeedbackView, LeadView};
use crate::app::error::AppError;
use crate::app::guard::ReadableProjects;
use crate::app::widget::{OpenWidget, Visitor};
use crate::app::widget_refusals::Scope;
use crate::domain::conversation::question_from_json;
use crate::domain::ids::{AssistantId, MessageId, WidgetSessionId};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{FeedbackRequest, Lead};
use crate::domain::widget::{AllowedOrigin, InitRequest};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use serde::Serialize;

pub fn routes(state: WidgetState) -> Router<WidgetState> {
    let answered: [(&str, MethodRouter<WidgetState>); 6] = [
        ("config", get(config)),
        ("init", post(init)),
        ("history", get(history)),
        ("chat", post(chat)),
        ("feedback", post(feedback)),
        ("lead", post(lead)),
    ];
    // Every route answers its browser's preflight too.
    answered
        .into_iter()
        .fold(Router::new(), |routes, (name, route)| {
            routes.route(&route_path(name), route.options(preflight))
        })
        .route_layer(middleware::from_fn_with_state(state, gate))
}

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "600";

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every widget route: the widget opened for the request's origin (or
/// the 404 / 403 that says why not, with no CORS headers, so a page on
/// another origin cannot read it), then the CORS headers for that origin.
async fn gate(
    State(state): State<WidgetState>,
    ApiPath(assistant_id): ApiPath<String>,
    mut request: Request,
    next: Next,
) -> Response {
    let origin = AllowedOrigin::of_request(
        header_text(request.headers(), header::ORIGIN),
        header_text(request.headers(), header::REFERER),
    );
    if let Some(refused) = remembered_refusal(&state, &assistant_id, origin.as_ref(), &request) {
        return refused;
    }
    let mut response = match state.service.open(&assistant_id, origin).await {
        Err(error) => error.into_response(),
        Ok(open) => {
            let allowed = HeaderValue::from_str(open.origin.as_str()).ok();
            let preflight = request.method() == Method::OPTIONS;
            request.extensions_mut().insert(open);
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            if let Some(origin) = allowed {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            }
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("Retry-After"),
            );
            if preflight {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, OPTIONS"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("Authorization, Content-Type"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
            }
            response
        }
    };
    // The answer depends on the origin: no cache may hand one origin's
    // answer to another.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// A question or an `init` from a client whose window (or the
/// assistant's month) this container found full seconds ago: the same 429,
/// with the CORS headers of the origin it was refused on, before anything
/// is read (see `app::widget_refusals`).
fn remembered_refusal(
    state: &WidgetState,
    assistant_id: &str,
    origin: Option<&AllowedOrigin>,
    request: &Request,
) -> Option<Response> {
    if request.method() != Method::POST {
        return None;
    }
    let assistant = AssistantId::parse(assistant_id)?;
    let origin = origin?;
    let ClientIp(client_ip) = ClientIp::of(request.extensions())?;
    let route = request.uri().path().rsplit('/').next()?;
    let scopes = match route {
        "init" => vec![Scope::inits(&client_ip)],
        "chat" => Scope::questions(&client_ip).to_vec(),
        _ => return None,
    };
    let refused =
        state
            .service
            .refusals
            .refusal(&assistant, origin, &scopes, state.service.clock.wall())?;
    let mut response = refused.into_response();
    let headers = response.headers_mut();
    if let Ok(allowed) = HeaderValue::from_str(origin.as_str()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    }
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    Some(response)
}

async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// What a page needs to draw the widget.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigView<'a> {
    assistant_id: &'a str,
    name: &'a str,
    title: &'a str,
    welcome_message: Option<&'a str>,
    primary_color: &'a str,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::position))]
    position: &'static str,
}

impl<'a> From<&'a OpenWidget> for ConfigView<'a> {
    fn from(open: &'a OpenWidget) -> Self {
        let settings = &open.site.settings;
        Self {
            assistant_id: open.assistant.id.as_str(),
            name: &open.assistant.name,
            title: settings.title.as_deref().unwrap_or(&open.assistant.name),
            welcome_message: open
                .assistant
                .welcome_message
                .as_deref()
                .filter(|w| !w.trim().is_empty()),
            primary_color: &settings.primary_color,
            position: settings.position.as_str(),
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionView<'a> {
    session_id: &'a WidgetSessionId,
    token: &'a str,
    expires_at: Timestamp,
    /// Whether the session the browser held goes on (else a new one began).
    resumed: bool,
    config: ConfigView<'a>,
}

async fn config(Extension(open): Extension<OpenWidget>) -> Response {
    Json(ConfigView::from(&open)).into_response()
}

async fn init(
    State(state): State<WidgetState>,
    ClientIp(client_ip): ClientIp,
    Extension(open): Extension<OpenWidget>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // A bodiless init is the common case: nothing to resume, nothing said.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        InitRequest::default()
    } else {
        let value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
        InitRequest::from_json(value).map_err(ApiError::invalid)?
    };
    let asked = request.session_id.clone();
    let admitted = state
        .service
        .init(&open, &client_ip, request, state.service.clock.timestamp())
        .await?;
    let resumed = asked.as_deref() == Some(admitted.session.id.as_str());
    let status = if resumed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(SessionView {
            session_id: &admitted.session.id,
            token: &admitted.token,
            expires_at: admitted.expires_at,
            resumed,
            config: ConfigView::from(&open),
        }),
    )
        .into_response())
}

/// The visitor the request's widget token names.
async fn visitor(
    state: &WidgetState,
    open: &OpenWidget,
    headers: &HeaderMap,
) -> Result<Visitor, ApiError> {
    state
        .service
        .visitor(
            open,
            header_text(headers, header::AUTHORIZATION),
            state.service.clock.timestamp(),
        )
        .await
        .map_err(ApiError::from)
}

async fn history(
    State(state): State<WidgetState>,
    Extension(open): Extension<OpenWidget>,
    headers: HeaderMap,
    paging: Paging,
) -> Result<Response, ApiError> {
    let Visitor { conversation, .. } = visitor(&state, &open, &headers).await?;
    // A public assistant's visitors see the sources its owners shared by
    // connecting projects to it.
    message_page(
        state.conversations.as_ref(),
        &conversation,
        paging,
        &ReadableProjects::all(),
    )
    .await
}

async fn chat(
    State(state): State<WidgetState>,
    ClientIp(client_ip): ClientIp,
    Extension(open): Extension<OpenWidget>,
    answer_by: Option<Extension<AnswerBy>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let form = answer_form(&headers)?;
    let visitor = visitor(&state, &open, &headers).await?;
    let question = question_from_json(body).map_err(ApiError::invalid)?;
    // Counted once the answer holds the conversation, before the model.
    let counted =
        state
            .service
            .count_message(&open, &visitor, &client_ip, state.service.clock.timestamp());
    let answering = state
        .engine
        .begin_admitted(&visitor.postable(&open), question, counted)
        .await?;
    answer_in(
        form,
        answering,
        ReadableProjects::all(),
        answer_by.map(|Extension(by)| by),
    )
    .await
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct RatedView<'a> {
    message_id: &'a MessageId,
    #[serde(flatten)]
    feedback: FeedbackView<'a>,
}

async fn feedback(
    State(state): State<WidgetState>,
    Extension(open): Extension<OpenWidget>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Visitor { conversation, .. } = visitor(&state, &open, &headers).await?;
    let request = FeedbackRequest::from_json(body, state.service.clock.timestamp())
        .map_err(ApiError::invalid)?;
    // Only an answer of this visitor's own conversation can be rated.
    let message = MessageId::parse(&request.message_id).ok_or(AppError::NotFound("message"))?;
    let rated = state
        .widgets
        .rate_answer(&conversation.id, &message, &request.feedback)
        .await?;
    tracing::info!(conversation_id = %conversation.id, message_id = %message, rating = request.feedback.rating.as_str(), "answer rated");
    let feedback = rated
        .feedback
        .as_ref()
        .ok_or_else(|| AppError::Internal("a rated answer came back without its rating".into()))?;
    Ok(Json(RatedView {
        message_id: &rated.id,
        feedback: FeedbackView::from(feedback),
    })
    .into_response())
}

async fn lead(
    State(state): State<WidgetState>,
    Extension(open): Extension<OpenWidget>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Visitor { conversation, .. } = visitor(&state, &open, &headers).await?;
    let lead = Lead::from_json(body, state.service.clock.timestamp()).map_err(ApiError::invalid)?;
    let linked = state.widgets.save_lead(&conversation.id, &lead).await?;
    tracing::info!(conversation_id = %linked.id, "lead saved");
    Ok(Json(LeadView::from(&lead)).into_response())
}

/// Where the widget's route `name` is served.
fn route_path(name: &str) -> String {
    format!("/api/widget/{{assistant_id}}/{name}")
}

/// The widget's operations, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::{Op, bodies};
    use super::views::{ExchangeView, MessageView};
    use utoipa::openapi::HttpMethod::{Get, Options, Post};

    let path = route_path;
    let mut ops = vec![
        Op::new(
            Get,
            &path("config"),
            "widgetConfig",
            "What a page needs to draw the widget",
        )
        .widget()
        .ok_as::<ConfigView>("The widget's look and welcome"),
        Op::new(
            Post,
            &path("init"),
            "widgetInit",
            "Start or resume a visitor's session",
        )
        .widget()
        .optional_json(bodies::widget_init())
        .ok_as::<SessionView>("The session resumed")
        .created_as::<SessionView>("A new session")
        .errors(&[400, 413]),
        Op::new(
            Get,
            &path("history"),
            "widgetHistory",
            "The visitor's conversation so far",
        )
        .widget()
        .visitor()
        .paged()
        .ok_page::<MessageView>(),
        Op::new(
            Post,
            &path("chat"),
            "widgetChat",
            "The visitor asks; the answer streams as Server-Sent Events",
        )
        .widget()
        .visitor()
        .json(bodies::question())
        .answered::<ExchangeView>()
        .errors(&[406, 409, 502]),
        Op::new(
            Post,
            &path("feedback"),
            "widgetFeedback",
            "The visitor rates an answer",
        )
        .widget()
        .visitor()
        .json(bodies::feedback())
        .ok_as::<RatedView>("The rating as stored"),
        Op::new(
            Post,
            &path("lead"),
            "widgetLead",
            "The visitor leaves their contact details",
        )
        .widget()
        .visitor()
        .json(bodies::lead())
        .ok_as::<LeadView>("The lead as stored"),
    ];
    for name in ["config", "init", "history", "chat", "feedback", "lead"] {
        ops.push(
            Op::new(
                Options,
                &path(name),
                &format!("widget{name}Preflight"),
                "The browser's CORS preflight",
            )
            .widget()
            .no_content(),
        );
    }
    ops
}
