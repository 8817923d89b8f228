//! Every operation the API serves: its path, parameters, body and the
//! statuses it can answer. The drift tests hold this list to the routers:
//! each operation is served, each served route is listed, and every status
//! a test sees is one its operation lists.

use super::Op;
use super::bodies;
use crate::domain::passage::Passage;
use crate::http::sms::{AnalyticsView, CredentialView, SmsConfigView};
use crate::http::uploads::CreatedUpload;
use crate::http::views::{
    AccessGrantView, ApiKeyView, AssistantSummaryView, AssistantView, ConnectionView,
    ConversationView, DocumentView, ExchangeView, LeadView, MemberView, MessageView, NewApiKeyView,
    ProjectView, WorkspaceView,
};
use crate::http::widget::{ConfigView, RatedView, SessionView};
use crate::http::widget_settings::WidgetSettingsView;
use utoipa::openapi::HttpMethod::{Delete, Get, Options, Patch, Post, Put};

pub(super) const WS: &str = "/api/workspaces/{workspace_id}";

fn at(tail: &str) -> String {
    format!("{WS}{tail}")
}

fn workspaces() -> Vec<Op> {
    vec![
        Op::new(
            Get,
            "/api/workspaces",
            "listWorkspaces",
            "The caller's workspaces, each with the caller's role",
        )
        .signed_in()
        .paged()
        .ok_page::<WorkspaceView>(),
        Op::new(
            Post,
            "/api/workspaces",
            "createWorkspace",
            "Create a workspace; the caller becomes its owner",
        )
        .signed_in()
        .json(bodies::new_workspace())
        .created::<WorkspaceView>()
        .link("getWorkspace", &[("workspace_id", "$response.body#/id")])
        .errors(&[409]),
        Op::new(
            Get,
            WS,
            "getWorkspace",
            "A workspace, with the caller's role",
        )
        .member()
        .ok::<WorkspaceView>(),
        Op::new(
            Patch,
            WS,
            "updateWorkspace",
            "Rename a workspace or change its models (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::workspace_changes())
        .ok::<WorkspaceView>()
        .errors(&[409]),
        Op::new(
            Get,
            &at("/members"),
            "listMembers",
            "The workspace's members (guests see no emails)",
        )
        .member()
        .paged()
        .ok_page::<MemberView>(),
        Op::new(
            Post,
            &at("/members"),
            "addMember",
            "Add someone by email (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::new_member())
        .created::<MemberView>()
        .errors(&[409]),
        Op::new(
            Patch,
            &at("/members/{user_id}"),
            "changeMember",
            "Change a member's role or status (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::member_changes())
        .ok::<MemberView>()
        .errors(&[409]),
        Op::new(
            Delete,
            &at("/members/{user_id}"),
            "removeMember",
            "Remove a member and their access grants (owners and admins)",
        )
        .member()
        .managed()
        .no_content()
        .errors(&[409]),
        Op::new(
            Get,
            "/api/api-keys",
            "listApiKeys",
            "The caller's API keys (never the secrets)",
        )
        .signed_in()
        .paged()
        .ok_page::<ApiKeyView>(),
        Op::new(
            Post,
            "/api/api-keys",
            "createApiKey",
            "Create an API key; the answer is the only time it is shown",
        )
        .signed_in()
        .json(bodies::new_api_key())
        .created::<NewApiKeyView>(),
        Op::new(
            Delete,
            "/api/api-keys/{key_id}",
            "revokeApiKey",
            "Revoke one of the caller's keys",
        )
        .signed_in()
        .no_content()
        .errors(&[404]),
    ]
}

fn assistants() -> Vec<Op> {
    let one = at("/assistants/{assistant_id}");
    vec![
        Op::new(
            Get,
            &at("/assistants"),
            "listAssistants",
            "The assistants the caller can see, newest first",
        )
        .member()
        .paged()
        .ok_page::<AssistantSummaryView>(),
        Op::new(
            Post,
            &at("/assistants"),
            "createAssistant",
            "Create an assistant (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::new_assistant())
        .created::<AssistantView>()
        .link(
            "getAssistant",
            &[
                ("workspace_id", "$request.path.workspace_id"),
                ("assistant_id", "$response.body#/id"),
            ],
        )
        .link(
            "updateAssistant",
            &[
                ("workspace_id", "$request.path.workspace_id"),
                ("assistant_id", "$response.body#/id"),
            ],
        )
        .link(
            "deleteAssistant",
            &[
                ("workspace_id", "$request.path.workspace_id"),
                ("assistant_id", "$response.body#/id"),
            ],
        ),
        Op::new(Get, &one, "getAssistant", "One assistant")
            .member()
            .ok::<AssistantView>(),
        Op::new(
            Patch,
            &one,
            "updateAssistant",
            "Change an assistant (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::assistant_changes())
        .ok::<AssistantView>(),
        Op::new(
            Delete,
            &one,
            "deleteAssistant",
            "Delete an assistant, its conversations, widget sessions and SMS configuration",
        )
        .member()
        .managed()
        .no_content(),
    ]
}

fn grants(target: &str, noun: &str) -> Vec<Op> {
    let title = if noun == "assistant" {
        "Assistant"
    } else {
        "Project"
    };
    vec![
        Op::new(
            Get,
            &at(&format!("/{target}/access")),
            &format!("list{title}Access"),
            &format!("Who was granted a private {noun} (owners and admins)"),
        )
        .member()
        .managed()
        .paged()
        .ok_page::<AccessGrantView>(),
        Op::new(
            Put,
            &at(&format!("/{target}/access/{{user_id}}")),
            &format!("grant{title}Access"),
            &format!("Grant a member access to a private {noun}"),
        )
        .member()
        .managed()
        .ok::<AccessGrantView>(),
        Op::new(
            Delete,
            &at(&format!("/{target}/access/{{user_id}}")),
            &format!("revoke{title}Access"),
            &format!("Revoke a member's access to a {noun}"),
        )
        .member()
        .managed()
        .no_content(),
    ]
}

fn projects() -> Vec<Op> {
    let one = at("/projects/{project_id}");
    let documents = at("/projects/{project_id}/documents");
    let ids = [
        ("workspace_id", "$request.path.workspace_id"),
        ("project_id", "$response.body#/id"),
    ];
    vec![
        Op::new(Get, &at("/projects"), "listProjects", "The projects the caller can read")
            .member()
            .paged()
            .ok_page::<ProjectView>(),
        Op::new(Post, &at("/projects"), "createProject", "Create a knowledge project (owners and admins)")
            .member()
            .managed()
            .json(bodies::new_project())
            .created::<ProjectView>()
            .link("getProject", &ids)
            .link("updateProject", &ids)
            .link("listDocuments", &ids)
            .link("deleteProject", &ids),
        Op::new(Get, &one, "getProject", "One project")
            .member()
            .ok::<ProjectView>(),
        Op::new(Patch, &one, "updateProject", "Change a project (owners and admins)")
            .member()
            .managed()
            .json(bodies::project_changes())
            .ok::<ProjectView>(),
        Op::new(Delete, &one, "deleteProject", "Delete a project: its connections at once, its documents, files and vectors soon after")
            .member()
            .managed()
            .no_content(),
        Op::new(Get, &documents, "listDocuments", "A project's documents")
            .member()
            .paged()
            .ok_page::<DocumentView>(),
        Op::new(Post, &documents, "uploadDocument", "Upload a document (PDF, DOCX, text or Markdown, up to 4 MB) to be indexed")
            .member()
            .managed()
            .multipart(bodies::multipart_file())
            .created::<DocumentView>()
            .errors(&[400, 413]),
        Op::new(Post, &at("/projects/{project_id}/documents/uploads"), "startUpload", "Start a direct upload of up to 50 MB: a document and a URL to PUT its bytes to")
            .member()
            .managed()
            .json(bodies::upload_request())
            .created_as::<CreatedUpload>("The new document and where to PUT its file"),
        Op::new(Post, &at("/projects/{project_id}/documents/{document_id}/complete"), "completeUpload", "Check a directly uploaded file and queue it for indexing")
            .member()
            .managed()
            .ok::<DocumentView>()
            .errors(&[400, 409]),
        Op::new(Get, &at("/projects/{project_id}/documents/{document_id}"), "getDocument", "One document, with its indexing status")
            .member()
            .ok::<DocumentView>(),
        Op::new(Delete, &at("/projects/{project_id}/documents/{document_id}"), "deleteDocument", "Delete a document; it is never served again")
            .member()
            .managed()
            .no_content(),
    ]
}

fn connections() -> Vec<Op> {
    let list = at("/assistants/{assistant_id}/projects");
    vec![
        Op::new(
            Get,
            &list,
            "listConnections",
            "The projects connected to an assistant that the caller can read",
        )
        .member()
        .ok_list::<ConnectionView>(),
        Op::new(
            Post,
            &list,
            "connectProject",
            "Connect a project to an assistant (owners and admins)",
        )
        .member()
        .managed()
        .json(bodies::connection())
        .created::<ConnectionView>()
        .errors(&[409]),
        Op::new(
            Delete,
            &at("/assistants/{assistant_id}/projects/{project_id}"),
            "disconnectProject",
            "Disconnect a project from an assistant",
        )
        .member()
        .managed()
        .no_content(),
        Op::new(
            Post,
            &at("/assistants/{assistant_id}/search"),
            "search",
            "Search the connected projects the caller can read",
        )
        .member()
        .json(bodies::search())
        .ok_list::<Passage>()
        .errors(&[502]),
    ]
}

fn sms() -> Vec<Op> {
    let config = at("/assistants/{assistant_id}/sms");
    vec![
        Op::new(
            Get,
            &config,
            "getSmsConfig",
            "An assistant's SMS configuration (never the Auth Token)",
        )
        .member()
        .managed()
        .ok_data::<SmsConfigView>(),
        Op::new(
            Put,
            &config,
            "putSmsConfig",
            "Set an assistant's Twilio account and number (checked with Twilio first)",
        )
        .member()
        .managed()
        .json(bodies::sms_settings())
        .ok_data::<SmsConfigView>()
        .errors(&[409, 502]),
        Op::new(
            Delete,
            &config,
            "deleteSmsConfig",
            "Remove an assistant's SMS configuration",
        )
        .member()
        .managed()
        .no_content(),
        Op::new(
            Post,
            &at("/assistants/{assistant_id}/sms/test"),
            "testSmsCredentials",
            "Check Twilio credentials and number without saving them",
        )
        .member()
        .managed()
        .json(bodies::sms_credentials())
        .ok_data::<CredentialView>()
        .errors(&[502]),
        Op::new(
            Get,
            &at("/assistants/{assistant_id}/sms/analytics"),
            "smsAnalytics",
            "An assistant's SMS counts over 7, 30 or 90 days",
        )
        .member()
        .managed()
        .query_enum("period", &["7d", "30d", "90d"])
        .ok_data::<AnalyticsView>()
        .errors(&[400]),
        Op::new(
            Delete,
            &at("/assistants/{assistant_id}/sms/contacts/{phone_number}"),
            "eraseSmsContact",
            "Erase one texter: their conversations, texts, replies and number (an opt-out survives as a keyed hash)",
        )
        .member()
        .managed()
        .no_content()
        .errors(&[400]),
        Op::new(
            Post,
            "/api/sms/webhook/{assistant_id}",
            "smsInbound",
            "Twilio's inbound text (signed with the account's Auth Token)",
        )
        .twilio()
        .twiml("Recorded: the reply is texted by the reply worker"),
        Op::new(
            Post,
            "/api/sms/status/{assistant_id}",
            "smsStatus",
            "Twilio's delivery status callback (signed)",
        )
        .twilio()
        .twiml("Recorded"),
    ]
}

fn widget_settings() -> Vec<Op> {
    let settings = at("/assistants/{assistant_id}/widget");
    vec![
        Op::new(
            Get,
            &settings,
            "getWidgetSettings",
            "Where an assistant's widget may be embedded, and how it looks",
        )
        .member()
        .managed()
        .ok::<WidgetSettingsView>(),
        Op::new(
            Put,
            &settings,
            "putWidgetSettings",
            "Set an assistant's widget origins, look and limits",
        )
        .member()
        .managed()
        .json(bodies::widget_settings())
        .ok::<WidgetSettingsView>(),
    ]
}

fn conversations() -> Vec<Op> {
    let one = at("/conversations/{conversation_id}");
    let messages = at("/conversations/{conversation_id}/messages");
    let ids = [
        ("workspace_id", "$request.path.workspace_id"),
        ("conversation_id", "$response.body#/id"),
    ];
    vec![
        Op::new(Get, &at("/conversations"), "listConversations", "The caller's own conversations, newest first")
            .member()
            .paged()
            .query_string("assistantId")
            .ok_page::<ConversationView>(),
        Op::new(Post, &at("/conversations"), "createConversation", "Start a conversation with an assistant the caller can see (not guests)")
            .member()
            .managed()
            .json(bodies::new_conversation())
            .created::<ConversationView>()
            .link("getConversation", &ids)
            .link("askQuestion", &ids)
            .link("listMessages", &ids)
            .link("deleteConversation", &ids),
        Op::new(Get, &one, "getConversation", "One conversation")
            .member()
            .ok::<ConversationView>(),
        Op::new(Delete, &one, "deleteConversation", "Delete a conversation and its messages")
            .member()
            .no_content(),
        Op::new(Get, &messages, "listMessages", "A conversation's messages, oldest first")
            .member()
            .paged()
            .ok_page::<MessageView>(),
        Op::new(Post, &messages, "askQuestion", "Ask; the answer streams as Server-Sent Events, or comes whole with `Accept: application/json`")
            .member()
            .json(bodies::question())
            .answered::<ExchangeView>()
            .errors(&[403, 406, 409, 502]),
        Op::new(Get, &at("/assistants/{assistant_id}/conversations"), "listAssistantConversations", "Every conversation of an assistant, on every channel (owners and admins)")
            .member()
            .managed()
            .paged()
            .ok_page::<ConversationView>(),
    ]
}

fn widget() -> Vec<Op> {
    let path = |name: &str| format!("/api/widget/{{assistant_id}}/{name}");
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

pub fn all() -> Vec<Op> {
    [
        workspaces(),
        assistants(),
        grants("assistants/{assistant_id}", "assistant"),
        projects(),
        grants("projects/{project_id}", "project"),
        connections(),
        sms(),
        widget_settings(),
        conversations(),
        widget(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
