//! The demo workspace the dev server starts with: one user per role, and an
//! outsider who owns a second workspace. Written to `.dev/seed.json`.

use crate::admin::{AdminError, IssuedKey, add_member_with_key, bootstrap_workspace};
use serde::Serialize;
use shared::domain::ids::WorkspaceId;
use shared::domain::member::Email;
use shared::domain::role::Role;
use shared::domain::workspace::ModelSettings;
use shared::ports::{KeyStore, WorkspaceStore};
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    pub base_url: String,
    pub workspace_id: WorkspaceId,
    pub other_workspace_id: WorkspaceId,
    /// role (and "outsider") -> API key
    pub keys: BTreeMap<&'static str, String>,
    /// role (and "outsider") -> user id
    pub users: BTreeMap<&'static str, String>,
}

pub const ROLES: [&str; 5] = ["owner", "admin", "member", "guest", "outsider"];

fn email(role: &str) -> Email {
    Email::parse(&format!("{role}@demo.illumichat.local")).expect("a fixed, valid address")
}

/// Creates the demo data. Every call makes new workspaces and keys, so it
/// also works on a server that still holds an earlier seed.
pub async fn seed_demo<S: WorkspaceStore + KeyStore + ?Sized>(
    store: &S,
    base_url: &str,
) -> Result<Seed, AdminError> {
    // The seed's examples name grok-2, so the demo workspace allows it.
    let models = ModelSettings::new(
        vec!["grok-2".into(), "gpt-4o".into(), "gpt-4o-mini".into()],
        "grok-2".into(),
    );
    let (workspace, owner) =
        bootstrap_workspace(store, "Demo Workspace", &email("owner"), models).await?;
    let mut issued: Vec<(&'static str, IssuedKey)> = vec![("owner", owner)];
    for (name, role) in [
        ("admin", Role::Admin),
        ("member", Role::Member),
        ("guest", Role::Guest),
    ] {
        issued.push((
            name,
            add_member_with_key(store, &workspace.id, &email(name), role).await?,
        ));
    }
    let (other, outsider) =
        bootstrap_workspace(store, "Outsider Workspace", &email("outsider"), None).await?;
    issued.push(("outsider", outsider));
    Ok(Seed {
        base_url: base_url.to_owned(),
        workspace_id: workspace.id,
        other_workspace_id: other.id,
        users: issued
            .iter()
            .map(|(role, k)| (*role, k.user_id.to_string()))
            .collect(),
        keys: issued
            .into_iter()
            .map(|(role, k)| (role, k.api_key))
            .collect(),
    })
}

/// Ready-to-paste requests for a person trying the API for the first time.
pub fn curl_examples(seed: &Seed) -> String {
    let base = &seed.base_url;
    let ws = &seed.workspace_id;
    let owner = &seed.keys["owner"];
    let member = &seed.keys["member"];
    format!(
        r#"# list your workspaces (as the owner)
curl -s "{base}/api/workspaces" -H "Authorization: Bearer {owner}"

# create an assistant (owner or admin)
curl -s -X POST "{base}/api/workspaces/{ws}/assistants" \
  -H "Authorization: Bearer {owner}" -H "Content-Type: application/json" \
  -d '{{"name": "Support Bot", "instructions": "You are a helpful customer support assistant for Acme Corp.", "model": "grok-2", "visibility": "public", "temperature": 0.5, "maxTokens": 2048, "welcomeMessage": "Hello! How can I help you today?"}}'

# list assistants (any member)
curl -s "{base}/api/workspaces/{ws}/assistants?limit=10" -H "Authorization: Bearer {member}"

# get / update / delete one (replace ast_... with an id from above)
curl -s "{base}/api/workspaces/{ws}/assistants/ast_..." -H "Authorization: Bearer {owner}"
curl -s -X PATCH "{base}/api/workspaces/{ws}/assistants/ast_..." \
  -H "Authorization: Bearer {owner}" -H "Content-Type: application/json" \
  -d '{{"instructions": "You are a technical support specialist. Always ask clarifying questions.", "temperature": 0.3}}'
curl -s -X DELETE "{base}/api/workspaces/{ws}/assistants/ast_..." -H "Authorization: Bearer {owner}" -w "%{{http_code}}\n"

# keys for every role: {roles}
"#,
        roles = ROLES
            .iter()
            .map(|r| format!("{r}={}", seed.keys[r]))
            .collect::<Vec<_>>()
            .join("  ")
    )
}

/// The SMS walkthrough: configure, test, text it locally.
pub fn sms_examples(seed: &Seed) -> String {
    use crate::emulators::twilio::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_NUMBER};
    let base = &seed.base_url;
    let ws = &seed.workspace_id;
    let owner = &seed.keys["owner"];
    format!(
        r#"# SMS: store the assistant's Twilio credentials (the emulator's demo account)
curl -s -X PUT "{base}/api/workspaces/{ws}/assistants/ast_.../sms" \
  -H "Authorization: Bearer {owner}" -H "Content-Type: application/json" \
  -d '{{"enabled": true, "twilioAccountSid": "{DEMO_ACCOUNT_SID}", "twilioAuthToken": "{DEMO_AUTH_TOKEN}", "phoneNumber": "{DEMO_NUMBER}"}}'
# text it, as a customer would, and print the reply
cargo run -q -p devtools --bin text -- --assistant ast_... --from +15551234567 "When do you open?"
"#
    )
}

/// The chat walkthrough: a conversation as the member, the answer streamed.
pub fn chat_examples(seed: &Seed) -> String {
    let base = &seed.base_url;
    let ws = &seed.workspace_id;
    let member = &seed.keys["member"];
    format!(
        r#"# chat, as the member: start a conversation, then watch the answer stream in
curl -s -X POST "{base}/api/workspaces/{ws}/conversations" \
  -H "Authorization: Bearer {member}" -H "Content-Type: application/json" -d '{{"assistantId": "ast_..."}}'
curl -sN -X POST "{base}/api/workspaces/{ws}/conversations/conv_.../messages" \
  -H "Authorization: Bearer {member}" -H "Content-Type: application/json" -d '{{"content": "When do you open?"}}'
"#
    )
}

/// The widget walkthrough: its settings, and a visitor's calls from the
/// demo origin.
pub fn widget_examples(seed: &Seed, demo: &crate::widget_demo::WidgetDemo) -> String {
    let base = &seed.base_url;
    let ws = &seed.workspace_id;
    let owner = &seed.keys["owner"];
    let ast = &demo.assistant_id;
    let origin = &demo.demo_origin;
    format!(
        r#"# the widget's settings (owner or admin)
curl -s "{base}/api/workspaces/{ws}/assistants/{ast}/widget" -H "Authorization: Bearer {owner}"
# a visitor, as the demo page's browser: a session, then a streamed answer
curl -s -X POST "{base}/api/widget/{ast}/init" -H "Origin: {origin}" -H "Content-Type: application/json" -d '{{}}'
curl -sN -X POST "{base}/api/widget/{ast}/chat" -H "Origin: {origin}" -H "Authorization: Widget <token>" \
  -H "Content-Type: application/json" -d '{{"content": "When are you open?"}}'
"#
    )
}

/// The webhooks walkthrough: a webhook to the dev server's own receiver,
/// and what it got.
pub fn webhook_examples(seed: &Seed) -> String {
    let base = &seed.base_url;
    let ws = &seed.workspace_id;
    let owner = &seed.keys["owner"];
    format!(
        r#"# webhooks, as the owner: send every event to the local receiver (the answer shows the secret, once)
curl -s -X POST "{base}/api/workspaces/{ws}/webhooks" \
  -H "Authorization: Bearer {owner}" -H "Content-Type: application/json" \
  -d '{{"url": "{base}/_local/webhooks/inbox", "events": ["*"]}}'
# what the receiver got: each request's webhook-id, webhook-timestamp, webhook-signature and body
curl -s "{base}/_local/webhooks/inbox"
"#
    )
}
