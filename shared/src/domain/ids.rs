//! Identifiers: a type prefix plus 20 random lowercase alphanumerics
//! (36^20 ≈ 2^103, above the 96 bits the conventions ask for). The fixed length
//! matters beyond looks: storage keys nest one id under another and rely on no
//! id being a prefix of a different one.

use rand::Rng;
use std::fmt;

const RANDOM_LEN: usize = 20;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_part(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn is_valid(prefix: &str, value: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == RANDOM_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// An id as the OpenAPI document describes it: its prefix and alphabet.
#[cfg(feature = "openapi")]
fn id_schema(prefix: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{prefix}[a-z0-9]{{{RANDOM_LEN}}}$")))
        .into()
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, random_part(RANDOM_LEN)))
            }

            /// `None` when `value` is not an id of this type: callers turn that
            /// into "not found", since a malformed id names nothing.
            pub fn parse(value: &str) -> Option<Self> {
                is_valid($prefix, value).then(|| Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <String as serde::Deserialize>::deserialize(d)?;
                Self::parse(&value).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not a valid ", $prefix, " id"))
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                id_schema($prefix)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

prefixed_id!(
    /// A workspace, the tenant boundary.
    WorkspaceId,
    "ws_"
);
prefixed_id!(
    /// A person, who may belong to several workspaces.
    UserId,
    "usr_"
);
prefixed_id!(AssistantId, "ast_");
prefixed_id!(
    /// A knowledge project: documents an assistant can draw on.
    ProjectId,
    "proj_"
);
prefixed_id!(
    /// A document uploaded to a project.
    DocumentId,
    "doc_"
);
prefixed_id!(
    /// A conversation with an assistant, on any channel (an SMS session is
    /// one).
    ConversationId,
    "conv_"
);
prefixed_id!(
    /// One message of a conversation.
    MessageId,
    "msg_"
);
prefixed_id!(
    /// A visitor's widget session: one browser's conversation with one
    /// assistant, kept across page loads.
    WidgetSessionId,
    "wss_"
);
prefixed_id!(
    /// The public handle of an API key (never the secret itself).
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// An endpoint a workspace has events delivered to.
    WebhookId,
    "wh_"
);
prefixed_id!(
    /// One event: the same id on every delivery and retry of it (the
    /// `webhook-id` header a receiver deduplicates by).
    EventId,
    "evt_"
);
prefixed_id!(
    /// One event's delivery to one webhook, with every attempt of it.
    /// Made with [`DeliveryId::at`], so ids sort by when they were made.
    DeliveryId,
    "dlv_"
);

/// Base-36 digits of the time part of a time-ordered id: 36^9 ms reach past
/// the year 5000.
const TIME_LEN: usize = 9;

impl DeliveryId {
    /// An id whose first characters are `at` in milliseconds (base 36,
    /// fixed width), so a partition's deliveries sort newest last by key;
    /// the rest is random.
    pub fn at(at: super::time::Timestamp) -> Self {
        Self(format!(
            "{}{}{}",
            Self::PREFIX,
            time_part(at),
            random_part(RANDOM_LEN - TIME_LEN)
        ))
    }

    /// The one id of `event`'s delivery to `webhook`: its time part is the
    /// event's, the rest a digest of both ids, so dispatching an event
    /// again (a change read twice) finds the delivery already made.
    pub fn of_event(at: super::time::Timestamp, event: &EventId, webhook: &WebhookId) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(event.as_str())
            .chain_update(b"/")
            .chain_update(webhook.as_str())
            .finalize();
        let rest: String = digest
            .iter()
            .take(RANDOM_LEN - TIME_LEN)
            .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
            .collect();
        Self(format!("{}{}{rest}", Self::PREFIX, time_part(at)))
    }
}

impl EventId {
    /// The one event id made from `source` (a change's id): the same each
    /// time that change is read.
    pub fn derived(source: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(source.as_bytes());
        let id: String = digest
            .iter()
            .take(RANDOM_LEN)
            .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
            .collect();
        Self(format!("{}{id}", Self::PREFIX))
    }
}

/// `at` in milliseconds, base 36, fixed width: ids that sort by time.
fn time_part(at: super::time::Timestamp) -> String {
    let mut millis = u64::try_from(at.millis()).unwrap_or(0);
    let mut time = [b'0'; TIME_LEN];
    for digit in time.iter_mut().rev() {
        *digit = ALPHABET_ORDERED[(millis % 36) as usize];
        millis /= 36;
    }
    String::from_utf8(time.to_vec()).expect("ASCII digits")
}

/// The alphabet in byte order, for ids that must sort as numbers.
const ALPHABET_ORDERED: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

#[cfg(test)]
mod tests {
    #[test]
    fn delivery_ids_sort_by_when_they_were_made() {
        use super::DeliveryId;
        use crate::domain::time::Timestamp;
        let ids: Vec<DeliveryId> = [0, 1, 35, 36, 1_614_265_330_000, 1_614_265_330_001]
            .into_iter()
            .map(|ms| DeliveryId::at(Timestamp::from_millis(ms)))
            .collect();
        for id in &ids {
            assert_eq!(DeliveryId::parse(id.as_str()).as_ref(), Some(id));
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
    }

    use super::*;

    #[test]
    fn a_generated_id_parses_back_to_itself() {
        let id = AssistantId::generate();
        assert_eq!(AssistantId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn an_id_with_another_types_prefix_is_not_accepted() {
        let ws = WorkspaceId::generate();
        assert_eq!(AssistantId::parse(ws.as_str()), None);
    }

    #[test]
    fn ids_of_the_wrong_length_or_alphabet_are_not_accepted() {
        assert_eq!(AssistantId::parse("ast_abc123"), None);
        assert_eq!(AssistantId::parse("ast_ABCDEFGHIJKLMNOPQRST"), None);
        assert_eq!(AssistantId::parse("ast_abcdefghij#lmnopqrs"), None);
    }

    #[test]
    fn two_generated_ids_differ() {
        assert_ne!(UserId::generate(), UserId::generate());
    }
}
