//! Response bodies: what the API shows of each entity, in camelCase.

use crate::app::guard::ReadableProjects;
use crate::domain::access::AccessGrant;
use crate::domain::api_key::ApiKey;
use crate::domain::assistant::Assistant;
use crate::domain::conversation::{Author, Conversation, Message, Source};
use crate::domain::document::{Document, DocumentKind};
use crate::domain::ids::{
    ApiKeyId, AssistantId, ConversationId, DocumentId, MessageId, ProjectId, UserId, WorkspaceId,
};
use crate::domain::member::Membership;
use crate::domain::project::Connection;
use crate::domain::project::Project;
use crate::domain::role::{MemberStatus, Role};
use crate::domain::time::Timestamp;
use crate::domain::visitor::{Feedback, Lead};
use crate::domain::workspace::Workspace;
use serde::Serialize;

/// The full assistant object (get, create, update).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssistantView<'a> {
    id: &'a AssistantId,
    workspace_id: &'a WorkspaceId,
    name: &'a str,
    instructions: &'a str,
    model: &'a str,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::assistant_visibility))]
    visibility: &'static str,
    temperature: f64,
    max_tokens: u32,
    welcome_message: Option<&'a str>,
    widget_enabled: bool,
    project_count: u32,
    created_by: &'a UserId,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a Assistant> for AssistantView<'a> {
    fn from(a: &'a Assistant) -> Self {
        Self {
            id: &a.id,
            workspace_id: &a.workspace_id,
            name: &a.name,
            instructions: &a.instructions,
            model: &a.model,
            visibility: a.visibility.as_str(),
            temperature: a.temperature,
            max_tokens: a.max_tokens,
            welcome_message: a.welcome_message.as_deref(),
            widget_enabled: a.widget_enabled,
            project_count: a.project_count,
            created_by: &a.created_by,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An assistant in a list, exactly the fields the documentation shows.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssistantSummaryView {
    id: AssistantId,
    name: String,
    model: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::assistant_visibility))]
    visibility: &'static str,
    widget_enabled: bool,
    project_count: u32,
    created_at: Timestamp,
}

impl From<Assistant> for AssistantSummaryView {
    fn from(a: Assistant) -> Self {
        Self {
            id: a.id,
            name: a.name,
            model: a.model,
            visibility: a.visibility.as_str(),
            widget_enabled: a.widget_enabled,
            project_count: a.project_count,
            created_at: a.created_at,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView<'a> {
    id: &'a WorkspaceId,
    name: &'a str,
    slug: &'a str,
    /// The caller's role in this workspace.
    role: Role,
    allowed_models: &'a [String],
    default_model: &'a str,
    member_count: u32,
    assistant_count: u32,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> WorkspaceView<'a> {
    pub fn new(w: &'a Workspace, role: Role) -> Self {
        Self {
            id: &w.id,
            name: &w.name,
            slug: &w.slug,
            role,
            allowed_models: &w.models.allowed_models,
            default_model: &w.models.default_model,
            member_count: w.member_count,
            assistant_count: w.assistant_count,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    user_id: UserId,
    /// Left out for a guest reading the list: guests see who is in the
    /// workspace (names and roles), not how to reach them.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    name: String,
    role: Role,
    status: MemberStatus,
    joined_at: Timestamp,
}

impl From<Membership> for MemberView {
    fn from(m: Membership) -> Self {
        Self {
            user_id: m.user_id,
            email: Some(m.email.as_str().to_owned()),
            name: m.name,
            role: m.role,
            status: m.status,
            joined_at: m.joined_at,
        }
    }
}

impl MemberView {
    /// The member as `reader` may see them.
    pub fn for_reader(m: Membership, reader: Role) -> Self {
        let mut view = Self::from(m);
        if reader == Role::Guest {
            view.email = None;
        }
        view
    }
}

/// A key as listed: never the secret, only the prefix that tells keys apart.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    id: ApiKeyId,
    name: String,
    prefix: String,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just created: the one response that carries the secret.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewApiKeyView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The key itself, `ic_...`: shown here and never again.
    #[serde(rename = "key")]
    pub secret: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessGrantView {
    #[serde(skip_serializing_if = "Option::is_none")]
    assistant_id: Option<AssistantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<ProjectId>,
    user_id: UserId,
    granted_at: Timestamp,
}

impl AccessGrantView {
    pub fn new(assistant_id: AssistantId, grant: AccessGrant) -> Self {
        Self {
            assistant_id: Some(assistant_id),
            project_id: None,
            user_id: grant.user_id,
            granted_at: grant.granted_at,
        }
    }

    pub fn on_project(project_id: ProjectId, grant: AccessGrant) -> Self {
        Self {
            assistant_id: None,
            project_id: Some(project_id),
            user_id: grant.user_id,
            granted_at: grant.granted_at,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectView<'a> {
    id: &'a ProjectId,
    workspace_id: &'a WorkspaceId,
    name: &'a str,
    description: &'a str,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::project_visibility))]
    visibility: &'static str,
    document_count: u32,
    created_by: &'a UserId,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a Project> for ProjectView<'a> {
    fn from(p: &'a Project) -> Self {
        Self {
            id: &p.id,
            workspace_id: &p.workspace_id,
            name: &p.name,
            description: &p.description,
            visibility: p.visibility.as_str(),
            document_count: p.document_count,
            created_by: &p.created_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A project as connected to an assistant: the documented fields.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    id: ProjectId,
    name: String,
    document_count: u32,
    connected_at: Timestamp,
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        Self {
            id: c.project.id,
            name: c.project.name,
            document_count: c.project.document_count,
            connected_at: c.connected_at,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DocumentView<'a> {
    id: &'a DocumentId,
    project_id: &'a ProjectId,
    name: &'a str,
    /// Null until a direct upload is completed.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::content_type))]
    content_type: Option<&'static str>,
    size: u64,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::document_status))]
    status: &'static str,
    chunk_count: u32,
    chunks_done: u32,
    error: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a Document> for DocumentView<'a> {
    fn from(d: &'a Document) -> Self {
        Self {
            id: &d.id,
            project_id: &d.project_id,
            name: &d.name,
            content_type: d.kind.map(DocumentKind::content_type),
            size: d.size,
            status: d.status.as_str(),
            chunk_count: d.chunk_count,
            chunks_done: d.chunks_done,
            error: d.error.as_deref(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A conversation, on any channel; `contact` only on SMS.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationView<'a> {
    id: &'a ConversationId,
    assistant_id: &'a AssistantId,
    title: Option<&'a str>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::channel))]
    channel: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<&'a str>,
    /// On the widget channel: the visitor's lead, `null` until they give
    /// one.
    #[serde(skip_serializing_if = "Option::is_none")]
    lead: Option<Option<LeadView<'a>>>,
    message_count: u32,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a Conversation> for ConversationView<'a> {
    fn from(c: &'a Conversation) -> Self {
        Self {
            id: &c.id,
            assistant_id: &c.assistant_id,
            title: c.title.as_deref(),
            channel: c.channel.as_str(),
            contact: c.contact.as_ref().map(|p| p.as_str()),
            lead: (c.channel == crate::domain::conversation::Channel::Widget)
                .then(|| c.lead.as_ref().map(LeadView::from)),
            message_count: c.message_count,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SourceView<'a> {
    document_id: &'a str,
    project_id: &'a str,
    document_name: &'a str,
    score: f32,
}

impl<'a> From<&'a Source> for SourceView<'a> {
    fn from(s: &'a Source) -> Self {
        Self {
            document_id: &s.document_id,
            project_id: &s.project_id,
            document_name: &s.document_name,
            score: s.score,
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    prompt_tokens: u32,
    completion_tokens: u32,
}

/// A message; answers also show their sources and usage.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageView<'a> {
    id: &'a MessageId,
    conversation_id: &'a ConversationId,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::message_role))]
    role: &'static str,
    content: &'a str,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::message_status))]
    status: &'static str,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<Vec<SourceView<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feedback: Option<FeedbackView<'a>>,
}

impl<'a> From<&'a Message> for MessageView<'a> {
    fn from(m: &'a Message) -> Self {
        Self::shown_to(m, &ReadableProjects::all())
    }
}

impl<'a> MessageView<'a> {
    /// The message as a reader who may open `readable` sees it: an
    /// answer's sources in projects they may not read are left out.
    pub fn shown_to(m: &'a Message, readable: &ReadableProjects) -> Self {
        let answer = m.role == Author::Assistant;
        Self {
            id: &m.id,
            conversation_id: &m.conversation_id,
            role: m.role.as_str(),
            content: &m.content,
            status: m.status.as_str(),
            created_at: m.created_at,
            sources: answer.then(|| {
                m.sources
                    .iter()
                    .filter(|s| readable.shows(s))
                    .map(SourceView::from)
                    .collect()
            }),
            usage: m.usage.map(|u| UsageView {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            }),
            feedback: m.feedback.as_ref().map(FeedbackView::from),
        }
    }
}

/// `sources` as its own SSE event.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourcesView<'a> {
    pub sources: Vec<SourceView<'a>>,
}

/// The JSON form of an answer: the question and the answer, both stored.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExchangeView<'a> {
    pub user_message: MessageView<'a>,
    pub assistant_message: MessageView<'a>,
}

/// A widget visitor's contact details.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeadView<'a> {
    email: &'a str,
    name: Option<&'a str>,
    phone: Option<&'a str>,
    created_at: Timestamp,
}

impl<'a> From<&'a Lead> for LeadView<'a> {
    fn from(l: &'a Lead) -> Self {
        Self {
            email: l.email.as_str(),
            name: l.name.as_deref(),
            phone: l.phone.as_ref().map(|p| p.as_str()),
            created_at: l.at,
        }
    }
}

/// What a reader thought of an answer.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeedbackView<'a> {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::rating))]
    rating: &'static str,
    comment: Option<&'a str>,
    created_at: Timestamp,
}

impl<'a> From<&'a Feedback> for FeedbackView<'a> {
    fn from(f: &'a Feedback) -> Self {
        Self {
            rating: f.rating.as_str(),
            comment: f.comment.as_deref(),
            created_at: f.at,
        }
    }
}
