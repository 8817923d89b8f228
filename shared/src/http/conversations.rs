//! `/api/workspaces/{ws}/conversations[...]` and an assistant's
//! conversations: the chat API. Posting a question answers it as an SSE
//! stream (`message`, `sources`, `delta`..., then `done` or `error`) or,
//! with `Accept: application/json`, as one body once it is complete.

use super::accept::{AnswerForm, answer_form};
use super::body::JsonBody;
use super::deadline::AnswerBy;
use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::ChatState;
use super::views::{ConversationView, ExchangeView, MessageView, SourceView, SourcesView};
use crate::app::chat::{AnswerEvent, Answering};
use crate::app::conversations::{self, MANAGERS_ONLY};
use crate::app::error::AppError;
use crate::app::guard::{self, ReadableProjects};
use crate::domain::assistant::Assistant;
use crate::domain::conversation::{Conversation, NewConversationRequest, question_from_json};
use crate::domain::ids::WorkspaceId;
use crate::domain::policy::Actor;
use crate::domain::time::Timestamp;
use crate::jobs::{CleanupJob, Job};
use crate::ports::{ConversationRef, NewConversation};
use axum::Json;
use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::convert::Infallible;
use tokio::sync::mpsc;

pub const CONVERSATIONS: &str = workspace_path!("/conversations");
pub const CONVERSATION: &str = workspace_path!("/conversations/{conversation_id}");
pub const MESSAGES: &str = workspace_path!("/conversations/{conversation_id}/messages");
pub const ASSISTANT_CONVERSATIONS: &str =
    workspace_path!("/assistants/{assistant_id}/conversations");

impl ChatState {
    /// The conversation and its assistant, if the actor may read it.
    async fn readable(
        &self,
        ws: &WorkspaceId,
        raw_id: &str,
        actor: &Actor,
    ) -> Result<(Conversation, Assistant), AppError> {
        conversations::readable(
            self.conversations.as_ref(),
            self.assistants.as_ref(),
            ws,
            raw_id,
            actor,
        )
        .await
    }
}

pub fn routes() -> Router<ChatState> {
    Router::new()
        .route(CONVERSATIONS, get(list_own).post(create))
        .route(CONVERSATION, get(get_one).delete(delete))
        .route(MESSAGES, get(list_messages).post(ask))
        .route(ASSISTANT_CONVERSATIONS, get(list_for_assistant))
}

/// Deltas waiting for a slow client before the model is read further.
const EVENTS_IN_FLIGHT: usize = 64;

async fn create(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = NewConversationRequest::from_json(body).map_err(ApiError::invalid)?;
    let assistant = guard::visible_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &request.assistant_id,
        &actor,
    )
    .await?;
    conversations::may_chat(&actor)?;
    let (conversation, _) = state
        .conversations
        .create_conversation(NewConversation {
            workspace_id: workspace.id,
            assistant_id: assistant.id,
            created_by: actor.user_id,
            title: request.title,
            welcome: assistant.welcome_message.filter(|w| !w.trim().is_empty()),
            at: Timestamp::now(),
        })
        .await?;
    tracing::info!(conversation_id = %conversation.id, "conversation started");
    Ok((
        StatusCode::CREATED,
        Json(ConversationView::from(&conversation)),
    )
        .into_response())
}

/// A page of listed conversations, read whole.
async fn page_of(
    state: &ChatState,
    ws: &WorkspaceId,
    paging: Paging,
    listed: Vec<ConversationRef>,
) -> Result<Response, ApiError> {
    let page = paging.page(listed);
    let ids: Vec<_> = page.data.iter().map(|c| c.id.clone()).collect();
    let found: Vec<Conversation> = state.conversations.read_conversations(ws, &ids).await?;
    Ok(Json(Page {
        data: found.iter().map(ConversationView::from).collect::<Vec<_>>(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
    .into_response())
}

async fn list_own(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    paging: Paging,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let listed = conversations::own(
        state.conversations.as_ref(),
        state.assistants.as_ref(),
        &workspace.id,
        &actor,
        query.get("assistantId").map(String::as_str),
    )
    .await?;
    page_of(&state, &workspace.id, paging, listed).await
}

async fn list_for_assistant(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    paging: Paging,
) -> Result<Response, ApiError> {
    let read = guard::visible_assistant(
        state.assistants.as_ref(),
        &workspace.id,
        &assistant_id,
        &actor,
    );
    guard::managing(actor.can_manage_workspace(), read, MANAGERS_ONLY).await?;
    let id = guard::assistant_id(&assistant_id)?;
    let (assistant, listed) = tokio::try_join!(
        state.assistants.get_assistant(&workspace.id, &id),
        state.conversations.conversations_with(&id),
    )?;
    assistant.ok_or(AppError::NotFound("assistant"))?;
    page_of(&state, &workspace.id, paging, listed).await
}

async fn get_one(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    ApiPath((_, conversation_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (conversation, _) = state
        .readable(&workspace.id, &conversation_id, &actor)
        .await?;
    Ok(Json(ConversationView::from(&conversation)).into_response())
}

async fn delete(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    ApiPath((_, conversation_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (conversation, _) = state
        .readable(&workspace.id, &conversation_id, &actor)
        .await?;
    state
        .conversations
        .delete_conversation(&conversation)
        .await?;
    let job = CleanupJob::ConversationDeleted {
        workspace_id: workspace.id,
        conversation_id: conversation.id,
    };
    // Gone for everyone already; its messages are unreachable without it.
    // A failed enqueue leaves only invisible leftovers, logged to sweep.
    if let Err(error) = state.cleanup.enqueue(&job).await {
        tracing::error!(job = %job.to_message(), error = %error, "cleanup job not queued");
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn list_messages(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    ApiPath((_, conversation_id)): ApiPath<(String, String)>,
    paging: Paging,
) -> Result<Response, ApiError> {
    let ((conversation, _), readable) = tokio::try_join!(
        state.readable(&workspace.id, &conversation_id, &actor),
        guard::readable_projects(state.projects.as_ref(), &workspace.id, &actor),
    )?;
    message_page(
        state.conversations.as_ref(),
        &conversation,
        paging,
        &readable,
    )
    .await
}

/// A page of a conversation's messages, oldest first, as a reader who may
/// open `readable` sees them: the chat API's list and the widget's history.
pub(super) async fn message_page(
    conversations: &dyn crate::ports::ConversationStore,
    conversation: &Conversation,
    paging: Paging,
    readable: &ReadableProjects,
) -> Result<Response, ApiError> {
    let messages = conversations
        .messages(&conversation.id, paging.offset, paging.limit)
        .await?;
    Ok(Json(Page {
        data: messages
            .iter()
            .map(|m| MessageView::shown_to(m, readable))
            .collect::<Vec<_>>(),
        total: conversation.message_count as usize,
        limit: paging.limit,
        offset: paging.offset,
    })
    .into_response())
}

async fn ask(
    State(state): State<ChatState>,
    Member { workspace, actor }: Member,
    ApiPath((_, conversation_id)): ApiPath<(String, String)>,
    answer_by: Option<Extension<AnswerBy>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let form = answer_form(&headers)?;
    let question = question_from_json(body).map_err(ApiError::invalid)?;
    let postable = conversations::postable(
        state.conversations.as_ref(),
        state.engine.usage.as_ref(),
        &workspace.id,
        &conversation_id,
        &actor,
        state.engine.month(),
    )
    .await?;
    let (answering, readable) = tokio::try_join!(
        state.engine.begin(&postable, question),
        guard::readable_projects(state.projects.as_ref(), &workspace.id, &actor),
    )?;
    answer_in(form, answering, readable, answer_by.map(|Extension(by)| by)).await
}

/// Time a stopped JSON answer keeps to store itself and be answered before
/// the route's deadline.
const STORE_AND_ANSWER: std::time::Duration = std::time::Duration::from_secs(3);

/// An answer that has begun, as the client asked for it: an SSE stream
/// (`message`, `sources`, `delta`..., `done` | `error`) or, once it is
/// complete, one JSON body. Every channel that chats answers this way.
pub(super) async fn answer_in(
    form: AnswerForm,
    answering: Answering,
    readable: ReadableProjects,
    answer_by: Option<AnswerBy>,
) -> Result<Response, ApiError> {
    let question = answering.question.clone();
    let sources: Vec<_> = answering
        .sources
        .iter()
        .filter(|s| readable.shows(s))
        .cloned()
        .collect();
    let (events, mut received) = mpsc::channel(EVENTS_IN_FLIGHT);
    // A JSON answer is one body within the route's deadline: it stops in
    // time to be stored as failed and answered so. A stream has sent its
    // headers long before, and runs to its end.
    let stop_at = match form {
        AnswerForm::Json => answer_by.map(|AnswerBy(by)| by - STORE_AND_ANSWER),
        AnswerForm::Stream => None,
    };
    // The answer is its own task: a client that leaves does not stop it
    // from being completed and stored.
    let running = tokio::spawn(answering.run_until(events, stop_at));
    match form {
        AnswerForm::Json => {
            drop(received);
            let answer = running
                .await
                .map_err(|e| AppError::Internal(Box::new(e)))??;
            Ok((
                StatusCode::CREATED,
                Json(ExchangeView {
                    user_message: MessageView::from(&question),
                    assistant_message: MessageView::shown_to(&answer, &readable),
                }),
            )
                .into_response())
        }
        AnswerForm::Stream => {
            let head = vec![
                named("message", &MessageView::from(&question)),
                named(
                    "sources",
                    &SourcesView {
                        sources: sources.iter().map(SourceView::from).collect(),
                    },
                ),
            ];
            let tail = futures_util::stream::poll_fn(move |cx| received.poll_recv(cx))
                .map(move |event| sse_event(&event, &readable));
            let stream = futures_util::stream::iter(head)
                .chain(tail)
                .map(Ok::<_, Infallible>);
            let mut response = Sse::new(stream)
                .keep_alive(KeepAlive::default())
                .into_response();
            // No proxy in front may hold events back to batch them.
            response
                .headers_mut()
                .insert("x-accel-buffering", HeaderValue::from_static("no"));
            Ok(response)
        }
    }
}

fn named(name: &'static str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .expect("views always serialize")
}

fn sse_event(event: &AnswerEvent, readable: &ReadableProjects) -> Event {
    match event {
        AnswerEvent::Delta(text) => named("delta", &json!({ "text": text })),
        AnswerEvent::Done(answer) => named("done", &MessageView::shown_to(answer, readable)),
        AnswerEvent::Failed { error, code } => {
            named("error", &json!({ "error": error, "code": code }))
        }
    }
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Post};

    let ids = [
        ("workspace_id", "$request.path.workspace_id"),
        ("conversation_id", "$response.body#/id"),
    ];
    vec![
        Op::new(Get, CONVERSATIONS, "listConversations", "The caller's own conversations, newest first")
            .member()
            .paged()
            .query_string("assistantId")
            .ok_page::<ConversationView>(),
        Op::new(Post, CONVERSATIONS, "createConversation", "Start a conversation with an assistant the caller can see (not guests)")
            .member()
            .managed()
            .json(bodies::new_conversation())
            .created::<ConversationView>()
            .link("getConversation", &ids)
            .link("askQuestion", &ids)
            .link("listMessages", &ids)
            .link("deleteConversation", &ids),
        Op::new(Get, CONVERSATION, "getConversation", "One conversation")
            .member()
            .ok::<ConversationView>(),
        Op::new(Delete, CONVERSATION, "deleteConversation", "Delete a conversation and its messages")
            .member()
            .no_content(),
        Op::new(Get, MESSAGES, "listMessages", "A conversation's messages, oldest first")
            .member()
            .paged()
            .ok_page::<MessageView>(),
        Op::new(Post, MESSAGES, "askQuestion", "Ask; the answer streams as Server-Sent Events, or comes whole with `Accept: application/json`")
            .member()
            .json(bodies::question())
            .answered::<ExchangeView>()
            .errors(&[403, 406, 409, 502]),
        Op::new(Get, ASSISTANT_CONVERSATIONS, "listAssistantConversations", "Every conversation of an assistant, on every channel (owners and admins)")
            .member()
            .managed()
            .paged()
            .ok_page::<ConversationView>(),
    ]
}
