//! Every API route except multipart upload, with what each kind of caller
//! must get: the status, and (with the key cached) the DynamoDB round trips
//! it costs. The authorization suite checks the statuses on the memory
//! store; the round-trip suite counts the calls on DynamoDB.

use crate::api::Fixture;
use axum::http::Method;
use serde_json::{Value, json};

pub const ROLES: [&str; 5] = ["owner", "admin", "member", "guest", "outsider"];

pub struct Route {
    pub name: &'static str,
    pub method: Method,
    pub path: fn(&Fixture) -> String,
    pub body: Option<fn(&Fixture) -> Value>,
    /// Expected status for owner, admin, member, guest, outsider.
    pub statuses: [u16; 5],
    /// DynamoDB round trips of the same calls, with the key cached.
    pub round_trips: [usize; 5],
    /// The call succeeds once on the same data (a delete, a connect, a
    /// revoke), or costs more the second time (a grant, answered as first
    /// stored): a second caller needs data of its own.
    pub once: bool,
}

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            name: "list workspaces",
            method: Method::GET,
            path: |_| "/api/workspaces".into(),
            body: None,
            statuses: [200, 200, 200, 200, 200],
            round_trips: [2, 2, 2, 2, 2],
            once: false,
        },
        Route {
            name: "create workspace",
            method: Method::POST,
            path: |_| "/api/workspaces".into(),
            body: Some(|f| json!({"name": format!("Another {}", f.ws())})),
            statuses: [201, 201, 201, 201, 201],
            round_trips: [2, 2, 2, 2, 2],
            once: true,
        },
        Route {
            name: "get workspace",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}", f.ws()),
            body: None,
            statuses: [200, 200, 200, 200, 404],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "update workspace",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}", f.ws()),
            body: Some(|_| json!({"name": "Renamed"})),
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "delete workspace",
            method: Method::DELETE,
            path: |f| format!("/api/workspaces/{}", f.ws()),
            body: None,
            // The fixture's assistants, projects and webhook are still
            // there: the owner is refused, and nothing is deleted.
            statuses: [409, 403, 403, 403, 404],
            // The membership; the workspace, its partition and its
            // webhooks, read to find what still hangs off it.
            round_trips: [4, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "list members",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/members", f.ws()),
            body: None,
            statuses: [200, 200, 200, 200, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "add member",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/members", f.ws()),
            body: Some(|_| json!({"email": "newcomer@example.com", "role": "member"})),
            statuses: [201, 201, 403, 403, 404],
            round_trips: [3, 3, 1, 1, 1],
            once: true,
        },
        Route {
            name: "change member",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}/members/{}", f.ws(), f.user("guest")),
            body: Some(|_| json!({"role": "member"})),
            statuses: [200, 200, 403, 403, 404],
            round_trips: [3, 3, 1, 1, 1],
            once: false,
        },
        Route {
            name: "remove member",
            method: Method::DELETE,
            path: |f| format!("/api/workspaces/{}/members/{}", f.ws(), f.user("guest")),
            body: None,
            statuses: [204, 204, 403, 403, 404],
            // Beside the workspace's items, the member's notes of their grants.
            round_trips: [5, 5, 1, 1, 1],
            once: true,
        },
        Route {
            name: "list own keys",
            method: Method::GET,
            path: |_| "/api/api-keys".into(),
            body: None,
            statuses: [200, 200, 200, 200, 200],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "create own key",
            method: Method::POST,
            path: |_| "/api/api-keys".into(),
            body: Some(|_| json!({"name": "laptop"})),
            statuses: [201, 201, 201, 201, 201],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "revoke the owner's key",
            method: Method::DELETE,
            path: |f| format!("/api/api-keys/{}", f.owner_key_id),
            body: None,
            statuses: [204, 404, 404, 404, 404],
            round_trips: [2, 1, 1, 1, 1],
            once: true,
        },
        Route {
            name: "list assistants",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/assistants", f.ws()),
            body: None,
            statuses: [200, 200, 200, 200, 404],
            // The membership; the workspace's counts beside the listing's
            // places (two for managers, the shared ones and the member's
            // notes for the others); the page (and first, for a member
            // with notes, the assistants they name).
            round_trips: [5, 5, 6, 5, 1],
            once: false,
        },
        Route {
            name: "create assistant",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/assistants", f.ws()),
            body: Some(|_| json!({"name": "Support Bot"})),
            statuses: [201, 201, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "get public assistant",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: None,
            statuses: [200, 200, 200, 200, 404],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "get private assistant",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 200, 404, 404],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "update public assistant",
            method: Method::PATCH,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: Some(|_| json!({"temperature": 0.3})),
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "update private assistant",
            method: Method::PATCH,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|_| json!({"temperature": 0.3})),
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "delete public assistant",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: None,
            statuses: [204, 204, 403, 403, 404],
            // One read more than before SMS: the assistant's number is
            // freed in the same write, so its configuration is read first.
            round_trips: [3, 3, 2, 2, 1],
            once: true,
        },
        Route {
            name: "delete private assistant",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            // One read more than before SMS: the assistant's number is
            // freed in the same write, so its configuration is read first.
            round_trips: [3, 3, 2, 2, 1],
            once: true,
        },
        Route {
            name: "list access grants",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/access",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            name: "grant access",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/access/{}",
                    f.ws(),
                    f.private_assistant,
                    f.user("guest")
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: true,
        },
        Route {
            name: "revoke access",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/access/{}",
                    f.ws(),
                    f.private_assistant,
                    f.user("member")
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: true,
        },
        Route {
            name: "list projects",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects", f.ws()),
            body: None,
            statuses: [200, 200, 200, 200, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "create project",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/projects", f.ws()),
            body: Some(|_| json!({"name": "Handbook"})),
            statuses: [201, 201, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "get a private project the member was granted",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            body: None,
            statuses: [200, 200, 200, 404, 404],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "get a private project nobody was granted",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.spare_project),
            body: None,
            statuses: [200, 200, 404, 404, 404],
            round_trips: [1, 1, 1, 1, 1],
            once: false,
        },
        Route {
            name: "update project",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            body: Some(|_| json!({"description": "Everything about the product"})),
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "delete project",
            method: Method::DELETE,
            path: |f| format!("/api/workspaces/{}/projects/{}", f.ws(), f.project),
            body: None,
            statuses: [204, 204, 403, 404, 404],
            // The membership, whether the project exists (or was just
            // deleted: its jobs are queued first), the delete with its
            // tombstone, its connections, and the disconnection.
            round_trips: [5, 5, 2, 2, 1],
            once: true,
        },
        Route {
            name: "list project access grants",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/projects/{}/access", f.ws(), f.project),
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            name: "grant project access",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/access/{}",
                    f.ws(),
                    f.project,
                    f.user("guest")
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: true,
        },
        Route {
            name: "revoke project access",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/access/{}",
                    f.ws(),
                    f.project,
                    f.user("member")
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: true,
        },
        Route {
            name: "list documents",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents",
                    f.ws(),
                    f.project
                )
            },
            body: None,
            statuses: [200, 200, 200, 404, 404],
            round_trips: [3, 3, 3, 1, 1],
            once: false,
        },
        Route {
            name: "get document",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/{}",
                    f.ws(),
                    f.project,
                    f.document
                )
            },
            body: None,
            statuses: [200, 200, 200, 404, 404],
            round_trips: [3, 3, 3, 2, 1],
            once: false,
        },
        Route {
            name: "delete document",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/{}",
                    f.ws(),
                    f.project,
                    f.document
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            round_trips: [4, 4, 3, 2, 1],
            once: true,
        },
        Route {
            name: "start a direct upload",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/uploads",
                    f.ws(),
                    f.project
                )
            },
            body: Some(|_| json!({"name": "handbook.pdf", "size": 12_000_000})),
            statuses: [201, 201, 403, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            // The fixture's document came through the API, so those allowed
            // to complete uploads hear that it is complete already.
            name: "complete a direct upload",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/projects/{}/documents/{}/complete",
                    f.ws(),
                    f.project,
                    f.document
                )
            },
            body: None,
            statuses: [409, 409, 403, 404, 404],
            round_trips: [3, 3, 3, 2, 1],
            once: false,
        },
        Route {
            name: "list an assistant's projects",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/projects",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 200, 404, 404],
            round_trips: [4, 4, 5, 2, 1],
            once: false,
        },
        Route {
            name: "connect a project",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/projects",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: Some(|f| json!({"projectId": f.spare_project})),
            statuses: [201, 201, 403, 403, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: true,
        },
        Route {
            name: "disconnect a project",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/projects/{}",
                    f.ws(),
                    f.private_assistant,
                    f.project
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: true,
        },
        Route {
            name: "search an assistant's knowledge",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/search",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|_| json!({"query": "how long do refunds take?"})),
            statuses: [200, 200, 200, 404, 404],
            round_trips: [3, 3, 4, 2, 1],
            once: false,
        },
        Route {
            name: "get widget settings",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/widget",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            name: "update widget settings",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/widget",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|_| json!({"allowedOrigins": ["https://shop.example.com"]})),
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "get SMS config",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/sms",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "update SMS config",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/sms",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|f| crate::sms::settings_for(&f.sms_number)),
            statuses: [200, 200, 403, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            name: "delete SMS config",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/sms",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: true,
        },
        Route {
            name: "test SMS credentials",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/sms/test",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: Some(|f| {
                json!({
                    "twilioAccountSid": crate::sms::ACCOUNT_SID,
                    "twilioAuthToken": crate::sms::AUTH_TOKEN,
                    "phoneNumber": f.sms_number,
                })
            }),
            statuses: [200, 200, 403, 404, 404],
            round_trips: [2, 2, 2, 2, 1],
            once: false,
        },
        Route {
            name: "SMS analytics",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/sms/analytics?period=7d",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            // The configuration, then three reads at once: the period's
            // days, and two counts off the index of texters (seen in the
            // period; with a session open).
            round_trips: [5, 5, 2, 2, 1],
            once: false,
        },
        Route {
            name: "erase an SMS texter",
            method: Method::DELETE,
            // E.164 in the path, its + URL-encoded.
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/sms/contacts/%2B15550107777",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [204, 204, 403, 404, 404],
            // A number never seen: the assistant, then what is kept under
            // the number's name and its two kinds of limit window, looked
            // for at once.
            round_trips: [5, 5, 2, 2, 1],
            once: false,
        },
        Route {
            name: "start a conversation",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/conversations", f.ws()),
            body: Some(|f| json!({"assistantId": f.public_assistant})),
            statuses: [201, 201, 201, 403, 404],
            round_trips: [3, 3, 3, 2, 1],
            once: false,
        },
        Route {
            name: "list own conversations",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/conversations", f.ws()),
            body: None,
            statuses: [200, 200, 200, 200, 404],
            // The listing and the assistants in parallel, then the page
            // (none for a caller with no conversation).
            round_trips: [4, 3, 4, 3, 1],
            once: false,
        },
        Route {
            name: "get a member's conversation",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/conversations/{}",
                    f.ws(),
                    f.member_conversation
                )
            },
            body: None,
            statuses: [200, 200, 200, 404, 404],
            round_trips: [3, 3, 3, 2, 1],
            once: false,
        },
        Route {
            name: "get the owner's conversation",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/conversations/{}",
                    f.ws(),
                    f.owner_conversation
                )
            },
            body: None,
            statuses: [200, 200, 404, 404, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            name: "list a conversation's messages",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/conversations/{}/messages",
                    f.ws(),
                    f.member_conversation
                )
            },
            body: None,
            statuses: [200, 200, 200, 404, 404],
            // A member's and a guest's readable projects (for the answers'
            // sources) are read beside the conversation, even when it then
            // turns out to be none of theirs.
            round_trips: [4, 4, 5, 3, 1],
            once: false,
        },
        Route {
            name: "ask in a conversation",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/conversations/{}/messages",
                    f.ws(),
                    f.member_conversation
                )
            },
            body: Some(|_| json!({"content": "How long do refunds take?"})),
            statuses: [403, 403, 201, 404, 404],
            // The member's readable projects beside the answer's start.
            round_trips: [3, 3, 9, 2, 1],
            once: false,
        },
        Route {
            name: "delete a conversation",
            method: Method::DELETE,
            path: |f| {
                format!(
                    "/api/workspaces/{}/conversations/{}",
                    f.ws(),
                    f.member_conversation
                )
            },
            body: None,
            statuses: [204, 204, 204, 404, 404],
            round_trips: [4, 4, 4, 2, 1],
            once: true,
        },
        Route {
            name: "list an assistant's conversations",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/conversations",
                    f.ws(),
                    f.private_assistant
                )
            },
            body: None,
            statuses: [200, 200, 403, 404, 404],
            round_trips: [4, 4, 2, 2, 1],
            once: false,
        },
        Route {
            name: "read the workspace's usage",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/usage", f.ws()),
            body: None,
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "read the workspace's budget",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/budget", f.ws()),
            body: None,
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "set the workspace's budget",
            method: Method::PUT,
            path: |f| format!("/api/workspaces/{}/budget", f.ws()),
            body: Some(|_| json!({"monthlyTokenLimit": 5_000_000})),
            statuses: [200, 200, 403, 403, 404],
            round_trips: [3, 3, 1, 1, 1],
            once: false,
        },
        Route {
            name: "read an assistant's budget",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/budget",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: None,
            statuses: [200, 200, 403, 403, 404],
            round_trips: [3, 3, 2, 2, 1],
            once: false,
        },
        Route {
            name: "set an assistant's budget",
            method: Method::PUT,
            path: |f| {
                format!(
                    "/api/workspaces/{}/assistants/{}/budget",
                    f.ws(),
                    f.public_assistant
                )
            },
            body: Some(|_| json!({"monthlyTokenLimit": 1_000_000, "alertThresholds": [50, 90]})),
            statuses: [200, 200, 403, 403, 404],
            round_trips: [4, 4, 2, 2, 1],
            once: false,
        },
        Route {
            name: "list webhooks",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/webhooks", f.ws()),
            body: None,
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "create a webhook",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/webhooks", f.ws()),
            body: Some(
                |_| json!({"url": "https://crm.example.com/in", "events": ["message.created"]}),
            ),
            statuses: [201, 201, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "get a webhook",
            method: Method::GET,
            path: |f| format!("/api/workspaces/{}/webhooks/{}", f.ws(), f.webhook),
            body: None,
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "change a webhook",
            method: Method::PATCH,
            path: |f| format!("/api/workspaces/{}/webhooks/{}", f.ws(), f.webhook),
            body: Some(|_| json!({"description": "CRM"})),
            statuses: [200, 200, 403, 403, 404],
            round_trips: [2, 2, 1, 1, 1],
            once: false,
        },
        Route {
            name: "delete a webhook",
            method: Method::DELETE,
            path: |f| format!("/api/workspaces/{}/webhooks/{}", f.ws(), f.webhook),
            body: None,
            statuses: [204, 204, 403, 403, 404],
            // The membership and the webhook (the service's read and the
            // adapter's, which scopes the purge to the caller's workspace), the
            // history purged before and after the delete, and the delete with
            // its count.
            round_trips: [6, 6, 1, 1, 1],
            once: true,
        },
        Route {
            name: "rotate a webhook's secret",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/webhooks/{}/secret", f.ws(), f.webhook),
            body: None,
            statuses: [200, 200, 403, 403, 404],
            // The membership, the webhook, the secret it replaces (read by the
            // adapter), and the swap on condition of it.
            round_trips: [4, 4, 1, 1, 1],
            once: false,
        },
        Route {
            name: "test a webhook",
            method: Method::POST,
            path: |f| format!("/api/workspaces/{}/webhooks/{}/test", f.ws(), f.webhook),
            body: None,
            statuses: [202, 202, 403, 403, 404],
            // The membership, the webhook, the delivery recorded (the job goes
            // to the queue).
            round_trips: [3, 3, 1, 1, 1],
            once: false,
        },
        Route {
            name: "list a webhook's deliveries",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/webhooks/{}/deliveries",
                    f.ws(),
                    f.webhook
                )
            },
            body: None,
            statuses: [200, 200, 403, 403, 404],
            // The membership, the webhook, then the page.
            round_trips: [3, 3, 1, 1, 1],
            once: false,
        },
        Route {
            name: "get a webhook delivery",
            method: Method::GET,
            path: |f| {
                format!(
                    "/api/workspaces/{}/webhooks/{}/deliveries/{}",
                    f.ws(),
                    f.webhook,
                    f.webhook_delivery
                )
            },
            body: None,
            statuses: [200, 200, 403, 403, 404],
            // The membership, the webhook, the delivery.
            round_trips: [3, 3, 1, 1, 1],
            once: false,
        },
        Route {
            name: "retry a webhook delivery",
            method: Method::POST,
            path: |f| {
                format!(
                    "/api/workspaces/{}/webhooks/{}/deliveries/{}/retry",
                    f.ws(),
                    f.webhook,
                    f.webhook_delivery
                )
            },
            body: None,
            statuses: [202, 202, 403, 403, 404],
            // The membership, the webhook, the delivery, and the retry's read
            // and conditional write.
            round_trips: [5, 5, 1, 1, 1],
            once: false,
        },
    ]
}
