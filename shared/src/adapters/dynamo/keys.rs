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
//! | project           | `WS#{ws}`        | `PROJ#{proj}`               |               |                 |
//! | access grant      | `WS#{ws}`        | `AST#{ast}#GRANT#{usr}` or `PROJ#{proj}#GRANT#{usr}` |  |        |
//! | connection        | `WS#{ws}`        | `AST#{ast}#PROJ#{proj}`     |               |                 |
//! | connection (back) | `WS#{ws}`        | `PROJ#{proj}#AST#{ast}`     |               |                 |
//! | document          | `WS#{ws}`        | `DOC#{proj}#{doc}`          |               |                 |
//! | document's place  | `DOCS#{ws}#{proj}` | `AT#{ms:013}#{doc}`       |               |                 |
//! | assistant's place | `ASTS#{ws}`      | `SHARED#{ms:013}#{ast}` or `PRIVATE#{ms:013}#{ast}` |  |    |
//! | who may see a private one | `SEES#{ws}#{usr}` | `MADE#{ast}` or `GRANT#{ast}` |         |                 |
//! | SMS configuration | `SMS#{ast}`      | `CONFIG`                    |               |                 |
//! | number -> assistant | `PHONE#{e164}` | `PHONE`                     |               |                 |
//! | inbound SMS       | `SMS#{ast}`      | `IN#{MessageSid}`           |               |                 |
//! | texter            | `SMS#{ast}`      | `CONTACT#{hmac(phone)}`     |               |                 |
//! | texter's conversation | `SMS#{ast}`  | `CONTACT#{hmac(phone)}#CONV#{id}` |         |                 |
//! | texter's keyword  | `SMS#{ast}`      | `CONTACT#{hmac(phone)}#KW#{MessageSid}` |     |                 |
//! | texter, by when last seen | `SMSSEEN#{ast}` | `{ms:015}#{hmac(phone)}` |        |                 |
//! | reply             | `SMS#{ast}`      | `REPLY#{MessageSid}`        |               |                 |
//! | outbound SMS      | `SMS#{ast}`      | `OUT#{MessageSid}`          |               |                 |
//! | day of traffic    | `SMS#{ast}`      | `DAY#{days since epoch}`    |               |                 |
//! | SMS limit window  | `SMS#{ast}`      | `USE#{window}`              |               |                 |
//! | conversation      | `CONV#{conv}`    | `META`                      |               |                 |
//! | its messages      | `CONV#{conv}`    | `MSG#{ms}#{msg}`            |               |                 |
//! | creator's listing | `USER#{usr}`     | `CONV#{ws}#{ms}#{conv}`     |               |                 |
//! | assistant's listing | `CONVS#{ast}`  | `CONV#{ms}#{conv}`          |               |                 |
//! | widget settings   | `WIDGET#{ast}`   | `SITE`                      |               |                 |
//! | widget session    | `WIDGET#{ast}`   | `SESSION#{wss}`             |               |                 |
//! | widget use counter | `WIDGET#{ast}`  | `USE#{window}`              |               |                 |
//! | webhook           | `HOOKS#{ws}`     | `WH#{wh}`                   |               |                 |
//! | webhooks' count   | `HOOKS#{ws}`     | `COUNT`                     |               |                 |
//! | webhook delivery  | `WH#{wh}`        | `DLV#{dlv}` (time-ordered)  |               |                 |
//! | usage budget      | `USAGE#{ws}`     | `BUDGET#WS` / `BUDGET#AST#{ast}` |          |                 |
//! | usage of a month  | `USAGE#{ws}`     | `MONTH#{yyyy-mm}#WS` / `...#AST#{ast}` |    |                 |
//! | usage of a day    | `USAGE#{ws}`     | `DAY#{yyyy-mm-dd}#AST#{ast}` / `...#DOCS` |  |                 |
//! | usage alert       | `WS#{ws}`        | `ALERT#{yyyy-mm}#{scope}#{metric}:{pct}` |   |                 |
//!
//! Access patterns, each one `GetItem`, `BatchGetItem` or `Query`:
//! key -> user (`GetItem`/`UpdateItem` on the hash); a caller's workspace and
//! membership (one `BatchGetItem`); a workspace's members (`Query` PK,
//! `begins_with MEMBER#`); a user's workspaces and keys (`Query` GSI1);
//! a workspace's assistants with their grants (`Query` PK, `begins_with AST#`);
//! an assistant and the caller's grant (one `BatchGetItem`); everything that
//! hangs off an assistant (`Query` PK, `begins_with AST#{ast}#`: grants and
//! connections); the same three for projects under `PROJ#`; a page of a
//! project's documents, newest first (`Query` of the project's listing
//! backwards, limited to the page's end, then one `BatchGetItem`), whatever
//! the project's size; a page of the assistants
//! a member may see, newest first, the same way (below). A connection is
//! written twice, once under each side, in one transaction with the
//! assistant's `projectCount`, so either side's cascade finds it. Ids have a
//! fixed length, so no id's key is a prefix of another's.
//!
//! A page of assistants reads their places in the workspace's listing,
//! one key-only item per assistant, written and deleted in the assistant's
//! own transactions and kept apart by visibility: `SHARED#` for `public`
//! and `workspace` ones, which every member sees, `PRIVATE#` for the rest.
//! Owners and admins see both, so their page is the newest of two backwards
//! `Query`s limited to the page's end, and their `total` the workspace's
//! `assistantCount`. Anyone else sees the shared ones and those private ones
//! they made or were granted: the `SEES#` partition names those (one item
//! per creation and per grant on an assistant, written with it), so their
//! page merges the shared listing with the private ones among them, and
//! their `total` is the shared count (`assistantCount` less
//! `privateAssistantCount`) plus those. Nothing here grows with the
//! workspace: only with the page's end and with what one member made or
//! was granted. The listing has a partition of its own so that a page's
//! reads and the workspace's other traffic do not share one key.
//!
//! The SMS channel keeps an assistant's traffic in a partition of its own,
//! keyed by assistant alone because the webhook's URL names no workspace;
//! a texter's number appears in no key (only its hash). Everything one
//! inbound text or one reply writes together is that text's and that
//! texter's own items; a day's item holds only counters every texter
//! shares, added to by plain atomic `ADD`s outside those writes, so no
//! item grows with the texters and a burst to one number never contends
//! on one. Each texter also has one item in `SMSSEEN#{ast}` keyed by when
//! they last texted, moved in their own transaction: analytics reads at most
//! 90 day items in one `BatchGetItem` and counts the texters seen in the
//! period, or with a session open, as one key range of that partition
//! (`Select: COUNT`, read consistently).
//!
//! The widget keeps an assistant's settings, sessions and use counters in
//! a partition keyed by assistant alone (the public routes name no
//! workspace); its settings item is written with the assistant, so the
//! public routes find the workspace in one read. Counters are updated
//! conditionally, so a limit holds across every container at once, and
//! carry `expiresAt` (epoch seconds) for the table's TTL.
//!
//! Each conversation (every channel) is a partition of its own, so reading
//! a page of messages is one `Query` and no conversation's traffic heats
//! another's. The two listings are entries in the base table, written in
//! the conversation's own transaction, so they are read consistently (an
//! index would not be): the member's conversations in a workspace, and the
//! assistant's, which the cascade walks when the assistant goes.

use crate::domain::access::AccessTarget;
use crate::domain::api_key::ApiKeyHash;
use crate::domain::ids::{
    ApiKeyId, AssistantId, ConversationId, DeliveryId, DocumentId, MessageId, ProjectId, UserId,
    WebhookId, WidgetSessionId, WorkspaceId,
};
use crate::domain::member::Email;
use crate::domain::sms::TexterKey;
use crate::domain::time::Timestamp;
use crate::domain::usage::{Alert, Day, Month, Scope};

pub const PK: &str = "PK";
pub const WEBHOOK_PREFIX: &str = "WH#";
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

pub const WORKSPACE_SORT_KEY: &str = "META";

pub fn workspace(id: &WorkspaceId) -> (String, String) {
    (workspace_partition(id), WORKSPACE_SORT_KEY.into())
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

pub const PROJECT_PREFIX: &str = "PROJ#";
const CONNECTION_INFIX: &str = "#PROJ#";
const BACK_CONNECTION_INFIX: &str = "#AST#";

pub fn target_sort_key(target: &AccessTarget) -> String {
    match target {
        AccessTarget::Assistant(id) => format!("{ASSISTANT_PREFIX}{id}"),
        AccessTarget::Project(id) => format!("{PROJECT_PREFIX}{id}"),
    }
}

pub fn target(ws: &WorkspaceId, target: &AccessTarget) -> (String, String) {
    (workspace_partition(ws), target_sort_key(target))
}

/// The prefix of every item that belongs to an assistant or project (not
/// the item itself): what a cascade deletes.
pub fn children_prefix(target: &AccessTarget) -> String {
    format!("{}#", target_sort_key(target))
}

pub fn grant(ws: &WorkspaceId, on: &AccessTarget, user: &UserId) -> (String, String) {
    (
        workspace_partition(ws),
        format!("{}{GRANT_INFIX}{user}", target_sort_key(on)),
    )
}

/// How every grant of `user` ends, on any target.
pub fn grant_suffix(user: &UserId) -> String {
    format!("{GRANT_INFIX}{user}")
}

pub fn grants_prefix(on: &AccessTarget) -> String {
    format!("{}{GRANT_INFIX}", target_sort_key(on))
}

pub fn project(ws: &WorkspaceId, id: &ProjectId) -> (String, String) {
    (workspace_partition(ws), format!("{PROJECT_PREFIX}{id}"))
}

/// A deleted project's tombstone: a partition of its own, so no query of
/// the workspace ever meets it, gone by the table's TTL.
pub fn project_tombstone(ws: &WorkspaceId, id: &ProjectId) -> (String, String) {
    (format!("DELETED#{ws}#{id}"), "TOMBSTONE".into())
}

pub fn connection(
    ws: &WorkspaceId,
    assistant: &AssistantId,
    project: &ProjectId,
) -> (String, String) {
    (
        workspace_partition(ws),
        format!("{ASSISTANT_PREFIX}{assistant}{CONNECTION_INFIX}{project}"),
    )
}

pub fn back_connection(
    ws: &WorkspaceId,
    project: &ProjectId,
    assistant: &AssistantId,
) -> (String, String) {
    (
        workspace_partition(ws),
        format!("{PROJECT_PREFIX}{project}{BACK_CONNECTION_INFIX}{assistant}"),
    )
}

pub fn connections_prefix(assistant: &AssistantId) -> String {
    format!("{ASSISTANT_PREFIX}{assistant}{CONNECTION_INFIX}")
}

/// Documents sit under their own prefix, not under `PROJ#`, so listing
/// projects never reads them.
pub fn document(ws: &WorkspaceId, project: &ProjectId, id: &DocumentId) -> (String, String) {
    (
        workspace_partition(ws),
        format!("{}{id}", documents_prefix(project)),
    )
}

pub const DOCUMENTS_PREFIX: &str = "DOC#";

pub fn documents_prefix(project: &ProjectId) -> String {
    format!("{DOCUMENTS_PREFIX}{project}#")
}

/// A document's place in its project's listing, newest last by key: a
/// second, key-only item written and deleted with the document, so a page
/// of the newest is read without reading the rest. The listing is a
/// partition of its own, so a page's read and the workspace's other
/// traffic do not share one key; the project's cascade empties it.
pub fn document_listing(
    ws: &WorkspaceId,
    project: &ProjectId,
    created: Timestamp,
    id: &DocumentId,
) -> (String, String) {
    (
        document_listing_partition(ws, project),
        format!(
            "{DOCUMENT_PLACE_PREFIX}{:013}#{id}",
            created.millis().max(0)
        ),
    )
}

pub fn document_listing_partition(ws: &WorkspaceId, project: &ProjectId) -> String {
    format!("DOCS#{ws}#{project}")
}

pub const DOCUMENT_PLACE_PREFIX: &str = "AT#";

/// An assistant's place in its workspace's listing, under the prefix of
/// what its visibility lets every member see or not.
pub fn assistant_place(
    ws: &WorkspaceId,
    private: bool,
    created: Timestamp,
    id: &AssistantId,
) -> (String, String) {
    (
        assistant_places_partition(ws),
        format!(
            "{}{}",
            assistant_places_prefix(private),
            place_suffix(created, id)
        ),
    )
}

pub fn assistant_places_partition(ws: &WorkspaceId) -> String {
    format!("ASTS#{ws}")
}

pub fn assistant_places_prefix(private: bool) -> &'static str {
    if private { "PRIVATE#" } else { "SHARED#" }
}

/// What orders places, newest last: the creation time, then the id.
pub fn place_suffix(created: Timestamp, id: &AssistantId) -> String {
    format!("{:013}#{id}", created.millis().max(0))
}

/// The partition naming the assistants `user` made or was granted in `ws`:
/// the private ones among them are those, besides the shared, they see.
pub fn viewer_partition(ws: &WorkspaceId, user: &UserId) -> String {
    format!("SEES#{ws}#{user}")
}

pub fn made_by(ws: &WorkspaceId, user: &UserId, id: &AssistantId) -> (String, String) {
    (viewer_partition(ws, user), format!("MADE#{id}"))
}

pub const GRANTED_PREFIX: &str = "GRANT#";

pub fn granted_to(ws: &WorkspaceId, user: &UserId, id: &AssistantId) -> (String, String) {
    (viewer_partition(ws, user), format!("{GRANTED_PREFIX}{id}"))
}

/// The assistant a `SEES#` item names.
pub fn seen_assistant(sk: &str) -> Option<AssistantId> {
    sk.split_once('#')
        .and_then(|(_, id)| AssistantId::parse(id))
}

/// What an item under `AST#` or `PROJ#` is, read back from its sort key.
#[derive(Debug, PartialEq, Eq)]
pub enum SortKey {
    Assistant,
    Project,
    Grant(AccessTarget, UserId),
    Connection(AssistantId, ProjectId),
    BackConnection(ProjectId, AssistantId),
    Other,
}

pub fn parse_sort_key(sk: &str) -> SortKey {
    if let Some(rest) = sk.strip_prefix(ASSISTANT_PREFIX) {
        let (id, tail) = rest
            .split_once('#')
            .map_or((rest, None), |(a, b)| (a, Some(b)));
        let Some(id) = AssistantId::parse(id) else {
            return SortKey::Other;
        };
        return match tail {
            None => SortKey::Assistant,
            Some(tail) => child(AccessTarget::Assistant(id), tail),
        };
    }
    if let Some(rest) = sk.strip_prefix(PROJECT_PREFIX) {
        let (id, tail) = rest
            .split_once('#')
            .map_or((rest, None), |(a, b)| (a, Some(b)));
        let Some(id) = ProjectId::parse(id) else {
            return SortKey::Other;
        };
        return match tail {
            None => SortKey::Project,
            Some(tail) => child(AccessTarget::Project(id), tail),
        };
    }
    SortKey::Other
}

/// `tail`: what follows `AST#{id}#` or `PROJ#{id}#`.
fn child(parent: AccessTarget, tail: &str) -> SortKey {
    let grant = GRANT_INFIX.trim_start_matches('#');
    let connection = CONNECTION_INFIX.trim_start_matches('#');
    let back = BACK_CONNECTION_INFIX.trim_start_matches('#');
    if let Some(user) = tail.strip_prefix(grant) {
        return UserId::parse(user).map_or(SortKey::Other, |u| SortKey::Grant(parent, u));
    }
    match parent {
        AccessTarget::Assistant(a) => tail
            .strip_prefix(connection)
            .and_then(ProjectId::parse)
            .map_or(SortKey::Other, |p| SortKey::Connection(a, p)),
        AccessTarget::Project(p) => tail
            .strip_prefix(back)
            .and_then(AssistantId::parse)
            .map_or(SortKey::Other, |a| SortKey::BackConnection(p, a)),
    }
}

pub const SMS_PREFIX: &str = "SMS#";

pub fn sms_partition(assistant: &AssistantId) -> String {
    format!("{SMS_PREFIX}{assistant}")
}

pub fn sms_config(assistant: &AssistantId) -> (String, String) {
    (sms_partition(assistant), "CONFIG".into())
}

pub fn phone_claim(number: &str) -> (String, String) {
    (format!("PHONE#{number}"), "PHONE".into())
}

pub fn inbound_sms(assistant: &AssistantId, sid: &str) -> (String, String) {
    (sms_partition(assistant), format!("IN#{sid}"))
}

/// A texter, by the keyed name the store gives their number (see
/// `domain::sms::contact_key`): numbers stay out of keys, and the table
/// alone cannot give them back.
pub fn contact(assistant: &AssistantId, texter: &TexterKey) -> (String, String) {
    (sms_partition(assistant), texter_prefix(texter))
}

/// The partition of an assistant's texters sorted by when each last texted:
/// a period's contacts are a count of one key range.
pub fn texters_seen(assistant: &AssistantId) -> String {
    format!("SMSSEEN#{assistant}")
}

/// Where everything kept under a texter's name begins in the SMS
/// partition: their item, then their notes (below).
pub fn texter_prefix(texter: &TexterKey) -> String {
    format!("{CONTACT_PREFIX}{}", texter.as_str())
}

/// Where the texters' items and notes begin in the SMS partition.
pub const CONTACT_PREFIX: &str = "CONTACT#";

/// A texter's note of a conversation their text started.
pub fn texter_conversation(
    assistant: &AssistantId,
    texter: &TexterKey,
    conversation: &ConversationId,
) -> (String, String) {
    (
        sms_partition(assistant),
        format!("{}#CONV#{conversation}", texter_prefix(texter)),
    )
}

/// A texter's note of a compliance keyword they sent (keywords join no
/// conversation, so only this finds their records).
pub fn texter_keyword(assistant: &AssistantId, texter: &TexterKey, sid: &str) -> (String, String) {
    (
        sms_partition(assistant),
        format!("{}#KW#{sid}", texter_prefix(texter)),
    )
}

/// Where the texters seen at or after `at` begin in [`texters_seen`].
pub fn seen_from(at: Timestamp) -> String {
    format!("{:015}", at.millis())
}

/// A texter's one item in [`texters_seen`], moved each time they text.
pub fn texter_seen(assistant: &AssistantId, at: Timestamp, texter: &TexterKey) -> (String, String) {
    (
        texters_seen(assistant),
        format!("{}#{}", seen_from(at), texter.as_str()),
    )
}

/// `window` is an [`SmsWindow`](crate::domain::sms::SmsWindow)'s key,
/// which names a texter only by a hash.
pub fn sms_use(assistant: &AssistantId, window: &str) -> (String, String) {
    (sms_partition(assistant), format!("USE#{window}"))
}

pub fn widget_partition(assistant: &AssistantId) -> String {
    format!("WIDGET#{assistant}")
}

pub fn widget_site(assistant: &AssistantId) -> (String, String) {
    (widget_partition(assistant), "SITE".into())
}

pub fn widget_session(assistant: &AssistantId, session: &WidgetSessionId) -> (String, String) {
    (widget_partition(assistant), format!("SESSION#{session}"))
}

/// `window` is a [`UseWindow`](crate::domain::widget::UseWindow)'s key,
/// which holds no personal data.
pub fn widget_use(assistant: &AssistantId, window: &str) -> (String, String) {
    (widget_partition(assistant), format!("USE#{window}"))
}

pub const CONVERSATION_PREFIX: &str = "CONV#";
pub const CONVERSATION_SORT_KEY: &str = "META";

pub fn conversation_partition(conversation: &ConversationId) -> String {
    format!("{CONVERSATION_PREFIX}{conversation}")
}

pub fn conversation(conversation: &ConversationId) -> (String, String) {
    (
        conversation_partition(conversation),
        CONVERSATION_SORT_KEY.into(),
    )
}

pub const MESSAGES_PREFIX: &str = "MSG#";

/// Messages sort by time (zero-padded milliseconds), then id.
pub fn conversation_message(
    conversation: &ConversationId,
    at_millis: i64,
    message: &MessageId,
) -> (String, String) {
    (
        conversation_partition(conversation),
        format!("{}#{message}", messages_at(at_millis)),
    )
}

/// Where the messages of one millisecond begin in their conversation.
pub fn messages_at(at_millis: i64) -> String {
    format!("{MESSAGES_PREFIX}{at_millis:015}")
}

/// The creator's listing: their conversations in one workspace sort by
/// creation under `CONV#{ws}#`.
pub fn creator_listing(
    user: &UserId,
    ws: &WorkspaceId,
    created_millis: i64,
    conversation: &ConversationId,
) -> (String, String) {
    (
        user_index(user),
        format!(
            "{}{created_millis:015}#{conversation}",
            creator_listing_prefix(ws)
        ),
    )
}

pub fn creator_listing_prefix(ws: &WorkspaceId) -> String {
    format!("CONV#{ws}#")
}

pub fn assistant_listing_partition(assistant: &AssistantId) -> String {
    format!("CONVS#{assistant}")
}

pub fn assistant_listing(
    assistant: &AssistantId,
    created_millis: i64,
    conversation: &ConversationId,
) -> (String, String) {
    (
        assistant_listing_partition(assistant),
        format!("CONV#{created_millis:015}#{conversation}"),
    )
}

pub fn reply(assistant: &AssistantId, inbound: &str) -> (String, String) {
    (sms_partition(assistant), format!("REPLY#{inbound}"))
}

pub fn outbound_sms(assistant: &AssistantId, sid: &str) -> (String, String) {
    (sms_partition(assistant), format!("OUT#{sid}"))
}

pub fn traffic_day(assistant: &AssistantId, day: i64) -> (String, String) {
    (sms_partition(assistant), format!("DAY#{day}"))
}

/// A workspace's webhooks and their count, apart from the workspace's own
/// partition (a delivery reads its webhook without touching the members').
pub fn webhooks_partition(ws: &WorkspaceId) -> String {
    format!("HOOKS#{ws}")
}

pub fn webhook(ws: &WorkspaceId, id: &WebhookId) -> (String, String) {
    (webhooks_partition(ws), format!("{WEBHOOK_PREFIX}{id}"))
}

pub fn webhook_count(ws: &WorkspaceId) -> (String, String) {
    (webhooks_partition(ws), "COUNT".into())
}

pub const DELIVERY_PREFIX: &str = "DLV#";

/// A webhook's deliveries: a partition of their own, so a busy endpoint's
/// history never heats its workspace's, and deleting the webhook is one
/// `Query` of it.
pub fn deliveries_partition(webhook: &WebhookId) -> String {
    format!("WH#{webhook}")
}

pub fn delivery(webhook: &WebhookId, id: &DeliveryId) -> (String, String) {
    (
        deliveries_partition(webhook),
        format!("{DELIVERY_PREFIX}{id}"),
    )
}

/// A workspace's usage counters and budgets: a partition of their own, so
/// the answers adding to them never heat the workspace's items.
pub fn usage_partition(ws: &WorkspaceId) -> String {
    format!("USAGE#{ws}")
}

fn scope_suffix(scope: &Scope) -> String {
    match scope {
        Scope::Assistant(id) => format!("AST#{id}"),
        Scope::Workspace => "WS".into(),
    }
}

pub fn usage_budget(ws: &WorkspaceId, scope: &Scope) -> (String, String) {
    (
        usage_partition(ws),
        format!("BUDGET#{}", scope_suffix(scope)),
    )
}

pub fn usage_month(ws: &WorkspaceId, month: Month, scope: &Scope) -> (String, String) {
    (
        usage_partition(ws),
        format!("MONTH#{month}#{}", scope_suffix(scope)),
    )
}

const USAGE_DAY_PREFIX: &str = "DAY#";
/// The documents' day item, apart from every assistant's.
const DOCUMENTS_DAY: &str = "DOCS";

pub fn usage_day(ws: &WorkspaceId, day: Day, assistant: Option<&AssistantId>) -> (String, String) {
    let whose = assistant.map_or_else(|| DOCUMENTS_DAY.to_owned(), |id| format!("AST#{id}"));
    (
        usage_partition(ws),
        format!("{USAGE_DAY_PREFIX}{day}#{whose}"),
    )
}

/// The first key a day's items can have, and (below) past its last.
pub fn usage_day_start(ws: &WorkspaceId, day: Day) -> (String, String) {
    (usage_partition(ws), format!("{USAGE_DAY_PREFIX}{day}#"))
}

pub fn usage_day_end(ws: &WorkspaceId, day: Day) -> (String, String) {
    (usage_partition(ws), format!("{USAGE_DAY_PREFIX}{day}#~"))
}

/// A day item's day and assistant (`None` for the documents').
pub fn parse_usage_day(sk: &str) -> Option<(Day, Option<AssistantId>)> {
    let (day, whose) = sk.strip_prefix(USAGE_DAY_PREFIX)?.split_once('#')?;
    let day = Day::parse(day)?;
    if whose == DOCUMENTS_DAY {
        return Some((day, None));
    }
    Some((day, Some(AssistantId::parse(whose.strip_prefix("AST#")?)?)))
}

pub const ALERT_PREFIX: &str = "ALERT#";

/// An alert's record, in the workspace's partition so that its stream
/// record is one the event feed reads.
pub fn usage_alert(alert: &Alert) -> (String, String) {
    (
        workspace_partition(&alert.workspace_id),
        format!(
            "{ALERT_PREFIX}{}#{}#{}",
            alert.month,
            scope_suffix(&alert.scope),
            alert.key()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assistants_children_share_its_prefix_but_the_assistant_does_not() {
        let ws = WorkspaceId::generate();
        let ast = AssistantId::generate();
        let target = AccessTarget::Assistant(ast.clone());
        let (_, grant_sk) = grant(&ws, &target, &UserId::generate());
        let (_, connection_sk) = connection(&ws, &ast, &ProjectId::generate());
        let (_, assistant_sk) = assistant(&ws, &ast);
        assert!(grant_sk.starts_with(&children_prefix(&target)));
        assert!(connection_sk.starts_with(&children_prefix(&target)));
        assert!(!assistant_sk.starts_with(&children_prefix(&target)));
    }

    #[test]
    fn places_order_newest_last_by_time_then_id_and_notes_name_their_assistant() {
        let ws = WorkspaceId::generate();
        let (a, b) = (AssistantId::generate(), AssistantId::generate());
        let (older, newer) = (Timestamp::now(), Timestamp::now());
        let (pk, first) = assistant_place(&ws, false, older, &a);
        let (_, second) = assistant_place(&ws, false, newer, &b);
        assert!(first < second);
        assert!(first.starts_with(assistant_places_prefix(false)));
        assert_ne!(pk, workspace_partition(&ws), "a partition of its own");
        let (_, private) = assistant_place(&ws, true, older, &a);
        assert!(private.starts_with(assistant_places_prefix(true)));
        assert!(!private.starts_with(assistant_places_prefix(false)));
        let user = UserId::generate();
        let (made_pk, made) = made_by(&ws, &user, &a);
        let (granted_pk, granted) = granted_to(&ws, &user, &b);
        assert_eq!(made_pk, granted_pk);
        assert_eq!(seen_assistant(&made), Some(a));
        assert_eq!(seen_assistant(&granted), Some(b));
        assert!(granted.starts_with(GRANTED_PREFIX) && !made.starts_with(GRANTED_PREFIX));
    }

    #[test]
    fn sort_keys_read_back_as_what_they_are() {
        let ws = WorkspaceId::generate();
        let ast = AssistantId::generate();
        let proj = ProjectId::generate();
        let usr = UserId::generate();
        let on_assistant = AccessTarget::Assistant(ast.clone());
        let on_project = AccessTarget::Project(proj.clone());
        let cases = [
            (assistant(&ws, &ast).1, SortKey::Assistant),
            (project(&ws, &proj).1, SortKey::Project),
            (
                grant(&ws, &on_assistant, &usr).1,
                SortKey::Grant(on_assistant.clone(), usr.clone()),
            ),
            (
                grant(&ws, &on_project, &usr).1,
                SortKey::Grant(on_project.clone(), usr.clone()),
            ),
            (
                connection(&ws, &ast, &proj).1,
                SortKey::Connection(ast.clone(), proj.clone()),
            ),
            (
                back_connection(&ws, &proj, &ast).1,
                SortKey::BackConnection(proj.clone(), ast.clone()),
            ),
            ("AST#junk".to_owned(), SortKey::Other),
            (format!("AST#{ast}#WHAT#x"), SortKey::Other),
        ];
        for (sk, expected) in cases {
            assert_eq!(parse_sort_key(&sk), expected, "{sk}");
        }
    }

    #[test]
    fn emails_key_their_lower_cased_form() {
        let (pk, _) = email(&Email::parse("Ann@X.io").unwrap());
        assert_eq!(pk, "EMAIL#ann@x.io");
    }
}
