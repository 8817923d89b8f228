//! The table's stream, read as committed changes: a record's images become
//! the things they hold (assistants, conversations and their messages,
//! members, documents), and every other item is none of the feed's
//! business. A message's image does not name its workspace, so its
//! conversation is read beside it.

use super::conversation_items::{conversation_from, message_from};
use super::keys::{self, SortKey};
use super::{DynamoStore, Item, codec};
use crate::domain::ids::ConversationId;
use crate::domain::time::Timestamp;
use crate::domain::webhook::change::{Change, Entity};
use crate::ports::StoreError;

/// One record of the table's stream (`NEW_AND_OLD_IMAGES`), as Lambda's
/// event and the streams API both carry it.
#[derive(Clone, Debug)]
pub struct StreamRecord {
    /// The record's `eventID`: unique, and the same when it is read again.
    pub id: String,
    /// When the change was committed (to the second, as the stream says).
    pub at: Timestamp,
    pub old: Option<Item>,
    pub new: Option<Item>,
}

/// Which kind of thing an item is, by its keys.
enum Kind {
    Assistant,
    Member,
    Document,
    Conversation,
    Message(ConversationId),
    Texter,
    UsageAlert,
}

fn kind_of(item: &Item) -> Option<Kind> {
    let pk = item.get(keys::PK)?.as_s().ok()?;
    let sk = item.get(keys::SK)?.as_s().ok()?;
    if pk.starts_with(keys::WORKSPACE_INDEX_PREFIX) {
        if sk.starts_with(keys::MEMBER_PREFIX) {
            return Some(Kind::Member);
        }
        if sk.starts_with(keys::DOCUMENTS_PREFIX) {
            return Some(Kind::Document);
        }
        if sk.starts_with(keys::ALERT_PREFIX) {
            return Some(Kind::UsageAlert);
        }
        return matches!(keys::parse_sort_key(sk), SortKey::Assistant).then_some(Kind::Assistant);
    }
    if pk.starts_with(keys::SMS_PREFIX) {
        // The texter's own item, not their notes under it.
        let texter = sk
            .strip_prefix(keys::CONTACT_PREFIX)
            .is_some_and(|name| !name.contains('#'));
        return texter.then_some(Kind::Texter);
    }
    let conversation = pk
        .strip_prefix(keys::CONVERSATION_PREFIX)
        .and_then(ConversationId::parse)?;
    if sk == keys::CONVERSATION_SORT_KEY {
        return Some(Kind::Conversation);
    }
    sk.starts_with(keys::MESSAGES_PREFIX)
        .then_some(Kind::Message(conversation))
}

impl DynamoStore {
    async fn entity_of(&self, item: &Item) -> Result<Option<Entity>, StoreError> {
        Ok(match kind_of(item) {
            None => None,
            Some(Kind::Assistant) => Some(Entity::Assistant(codec::assistant(item)?)),
            Some(Kind::Member) => Some(Entity::Member(codec::membership(item)?)),
            Some(Kind::Document) => Some(Entity::Document(codec::document(item)?)),
            Some(Kind::UsageAlert) => Some(Entity::UsageAlert(super::usage::alert_from(item)?)),
            Some(Kind::Conversation) => Some(Entity::Conversation(conversation_from(item)?)),
            Some(Kind::Texter) => {
                // Named by the conversation they text in, which holds their
                // number; one with none yet names no one.
                let Some(id) = codec::optional_text(item, "conversationId")
                    .as_deref()
                    .and_then(ConversationId::parse)
                else {
                    return Ok(None);
                };
                let opted_out = item
                    .get("optedOut")
                    .and_then(|v| v.as_bool().ok())
                    .copied()
                    .unwrap_or(false);
                let (pk, sk) = keys::conversation(&id);
                match self.get(pk, sk).await? {
                    None => None,
                    Some(conversation) => Some(Entity::Texter {
                        conversation: Box::new(conversation_from(&conversation)?),
                        opted_out,
                    }),
                }
            }
            Some(Kind::Message(id)) => {
                let (pk, sk) = keys::conversation(&id);
                // A conversation deleted since has no events left to make.
                match self.get(pk, sk).await? {
                    None => None,
                    Some(conversation) => Some(Entity::Message(
                        Box::new(conversation_from(&conversation)?),
                        message_from(item)?,
                    )),
                }
            }
        })
    }

    /// The change a stream record reports, if it is about a thing whose
    /// changes make events.
    pub async fn change_of(&self, record: &StreamRecord) -> Result<Option<Change>, StoreError> {
        let before = match &record.old {
            Some(item) => self.entity_of(item).await?,
            None => None,
        };
        let after = match &record.new {
            Some(item) => self.entity_of(item).await?,
            None => None,
        };
        if before.is_none() && after.is_none() {
            return Ok(None);
        }
        Ok(Some(Change {
            id: record.id.clone(),
            at: record.at,
            before,
            after,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn keyed(pk: &str, sk: &str) -> Item {
        Item::from([
            (keys::PK.to_owned(), AttributeValue::S(pk.to_owned())),
            (keys::SK.to_owned(), AttributeValue::S(sk.to_owned())),
        ])
    }

    #[test]
    fn only_the_items_events_are_about_are_read_as_things() {
        let ws = "WS#ws_wwwwwwwwwwwwwwww0001";
        let conv = "CONV#conv_cccccccccccccccc0001";
        let sms = "SMS#ast_aaaaaaaaaaaaaaaa0001";
        let kind = |pk: &str, sk: &str| match kind_of(&keyed(pk, sk)) {
            None => "none",
            Some(Kind::Assistant) => "assistant",
            Some(Kind::Member) => "member",
            Some(Kind::Document) => "document",
            Some(Kind::Conversation) => "conversation",
            Some(Kind::Message(_)) => "message",
            Some(Kind::Texter) => "texter",
            Some(Kind::UsageAlert) => "alert",
        };
        assert_eq!(kind(ws, "AST#ast_aaaaaaaaaaaaaaaa0001"), "assistant");
        assert_eq!(
            kind(
                ws,
                "AST#ast_aaaaaaaaaaaaaaaa0001#PROJ#proj_pppppppppppppppp0001"
            ),
            "none",
            "a connection is no assistant"
        );
        assert_eq!(kind(ws, "MEMBER#usr_uuuuuuuuuuuuuuuu0001"), "member");
        assert_eq!(
            kind(ws, "DOC#proj_pppppppppppppppp0001#doc_dddddddddddddddd0001"),
            "document"
        );
        assert_eq!(kind(ws, "META"), "none", "the workspace itself");
        assert_eq!(kind(ws, "ALERT#2026-12#WS#tokens:80"), "alert");
        assert_eq!(
            kind("USAGE#ws_wwwwwwwwwwwwwwww0001", "MONTH#2026-12#WS"),
            "none",
            "usage counters make no events"
        );
        assert_eq!(kind(conv, "META"), "conversation");
        assert_eq!(
            kind(conv, "MSG#000001796126400000#msg_mmmmmmmmmmmmmmmm0001"),
            "message"
        );
        assert_eq!(kind(sms, "CONTACT#k3y"), "texter");
        assert_eq!(
            kind(sms, "CONTACT#k3y#CONV#conv_cccccccccccccccc0001"),
            "none"
        );
        assert_eq!(kind(sms, "CONFIG"), "none");
        assert_eq!(kind("USER#usr_uuuuuuuuuuuuuuuu0001", "PROFILE"), "none");
    }
}
