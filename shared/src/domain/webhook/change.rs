//! A committed change to a stored thing, as the store reports it after the
//! fact (DynamoDB's stream, the memory store's log): what the thing was and
//! what it is. Events are derived from changes only, so an event is never
//! sent for a write that failed, and never lost for one that was made.

use crate::domain::assistant::Assistant;
use crate::domain::conversation::{Conversation, Message};
use crate::domain::document::Document;
use crate::domain::member::Membership;
use crate::domain::time::Timestamp;
use crate::domain::usage::Alert;

/// A thing whose changes make events.
#[derive(Clone, Debug, PartialEq)]
pub enum Entity {
    Assistant(Assistant),
    Conversation(Conversation),
    /// A message, with the conversation it is in (its workspace and
    /// assistant), as it was when the message changed.
    Message(Box<Conversation>, Message),
    Member(Membership),
    Document(Document),
    /// An SMS texter, named by the conversation their texts are in (which
    /// holds their number), and whether they opted out.
    Texter {
        conversation: Box<Conversation>,
        opted_out: bool,
    },
    /// A usage threshold crossed, recorded once per month.
    UsageAlert(Alert),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Unique per change, and the same each time the change is read again
    /// (the stream record's id): events made from it keep their ids, so a
    /// replay delivers nothing twice.
    pub id: String,
    pub at: Timestamp,
    pub before: Option<Entity>,
    pub after: Option<Entity>,
}
