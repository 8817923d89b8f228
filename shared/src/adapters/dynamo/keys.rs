//! The single-table key layout. Private to the adapter: nothing outside
//! `adapters::dynamo` knows these strings exist.
//!
//! | item              | PK               | SK                          | GSI1PK        | GSI1SK          |
//! |-------------------|------------------|-----------------------------|---------------|-----------------|
//! | user              | `USER#{usr}`     | `PROFILE`                   |               |                 |
//! | user by email     | `EMAIL#{email}`  | `EMAIL`                     |               |                 |
//! | API key           | `APIKEY#{sha256}`| `APIKEY`                    | `USER#{usr}`  | `APIKEY#{key}`  |
//! | workspace         | `WS#{ws}`        | `META`                      |               |                 |
//! | slug -> workspace | `SLUG#{slug}`    | `SLUG`                      |               |                 |
//! | membership        | `WS#{ws}`        | `MEMBER#{usr}`              | `USER#{usr}`  | `WS#{ws}`       |
//! | assistant         | `WS#{ws}`        | `AST#{ast}`                 |               |                 |
//! | access grant      | `WS#{ws}`        | `AST#{ast}#GRANT#{usr}`     |               |                 |
//!
//! Access patterns, each one `GetItem`, `BatchGetItem` or `Query`:
//! key -> user (`GetItem`/`UpdateItem` on the hash); a caller's workspace and
//! membership (one `BatchGetItem`); a workspace's members (`Query` PK,
//! `begins_with MEMBER#`); a user's workspaces and keys (`Query` GSI1);
//! a workspace's assistants with their grants (`Query` PK, `begins_with AST#`);
//! an assistant and the caller's grant (one `BatchGetItem`); everything that
//! hangs off an assistant (`Query` PK, `begins_with AST#{ast}#`). Ids have a
//! fixed length, so no id's key is a prefix of another's.

use crate::domain::api_key::ApiKeyHash;
use crate::domain::ids::{ApiKeyId, AssistantId, UserId, WorkspaceId};
use crate::domain::member::Email;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";

pub fn user(id: &UserId) -> (String, String) {
    (format!("USER#{id}"), "PROFILE".into())
}

pub fn email(email: &Email) -> (String, String) {
    (format!("EMAIL#{}", email.as_str()), "EMAIL".into())
}

pub fn api_key(hash: &ApiKeyHash) -> (String, String) {
    (format!("APIKEY#{}", hash.as_str()), "APIKEY".into())
}

pub fn api_key_index(user: &UserId, key: &ApiKeyId) -> (String, String) {
    (format!("USER#{user}"), format!("APIKEY#{key}"))
}

pub fn user_index(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn workspace(id: &WorkspaceId) -> (String, String) {
    (workspace_partition(id), "META".into())
}

pub fn workspace_partition(id: &WorkspaceId) -> String {
    format!("WS#{id}")
}

pub fn slug(slug: &str) -> (String, String) {
    (format!("SLUG#{slug}"), "SLUG".into())
}

pub fn member(ws: &WorkspaceId, user: &UserId) -> (String, String) {
    (workspace_partition(ws), format!("{MEMBER_PREFIX}{user}"))
}

pub fn membership_index(ws: &WorkspaceId, user: &UserId) -> (String, String) {
    (user_index(user), format!("WS#{ws}"))
}

pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const ASSISTANT_PREFIX: &str = "AST#";
pub const API_KEY_INDEX_PREFIX: &str = "APIKEY#";
pub const WORKSPACE_INDEX_PREFIX: &str = "WS#";
const GRANT_INFIX: &str = "#GRANT#";

pub fn assistant(ws: &WorkspaceId, id: &AssistantId) -> (String, String) {
    (workspace_partition(ws), format!("{ASSISTANT_PREFIX}{id}"))
}

/// The prefix of every item that belongs to one assistant (not the
/// assistant itself): what a cascade deletes.
pub fn assistant_children_prefix(id: &AssistantId) -> String {
    format!("{ASSISTANT_PREFIX}{id}#")
}

pub fn grant(ws: &WorkspaceId, id: &AssistantId, user: &UserId) -> (String, String) {
    (
        workspace_partition(ws),
        format!("{ASSISTANT_PREFIX}{id}{GRANT_INFIX}{user}"),
    )
}

pub fn grants_prefix(id: &AssistantId) -> String {
    format!("{ASSISTANT_PREFIX}{id}{GRANT_INFIX}")
}

/// What kind of item an SK under `AST#` is, read back from a query.
pub enum AssistantSortKey {
    Assistant,
    Grant(AssistantId, UserId),
    Other,
}

pub fn parse_assistant_sort_key(sk: &str) -> AssistantSortKey {
    let Some(rest) = sk.strip_prefix(ASSISTANT_PREFIX) else {
        return AssistantSortKey::Other;
    };
    match rest.split_once(GRANT_INFIX) {
        None => AssistantId::parse(rest)
            .map_or(AssistantSortKey::Other, |_| AssistantSortKey::Assistant),
        Some((assistant, user)) => match (AssistantId::parse(assistant), UserId::parse(user)) {
            (Some(a), Some(u)) => AssistantSortKey::Grant(a, u),
            _ => AssistantSortKey::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assistants_children_share_its_prefix_but_the_assistant_does_not() {
        let ws = WorkspaceId::generate();
        let ast = AssistantId::generate();
        let (_, grant_sk) = grant(&ws, &ast, &UserId::generate());
        let (_, assistant_sk) = assistant(&ws, &ast);
        assert!(grant_sk.starts_with(&assistant_children_prefix(&ast)));
        assert!(!assistant_sk.starts_with(&assistant_children_prefix(&ast)));
    }

    #[test]
    fn assistant_sort_keys_read_back_as_what_they_are() {
        let ws = WorkspaceId::generate();
        let ast = AssistantId::generate();
        let usr = UserId::generate();
        let (_, sk) = grant(&ws, &ast, &usr);
        assert!(matches!(
            parse_assistant_sort_key(&sk),
            AssistantSortKey::Grant(a, u) if a == ast && u == usr
        ));
        let (_, sk) = assistant(&ws, &ast);
        assert!(matches!(
            parse_assistant_sort_key(&sk),
            AssistantSortKey::Assistant
        ));
        assert!(matches!(
            parse_assistant_sort_key("AST#junk"),
            AssistantSortKey::Other
        ));
    }

    #[test]
    fn emails_key_their_lower_cased_form() {
        let (pk, _) = email(&Email::parse("Ann@X.io").unwrap());
        assert_eq!(pk, "EMAIL#ann@x.io");
    }
}
