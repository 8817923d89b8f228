//! Personal API keys: `ic_` + 40 random characters, shown once, stored only as
//! a hash.

use super::ids::{ApiKeyId, UserId};
use super::time::Timestamp;
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const PREFIX: &str = "ic_";
const RANDOM_LEN: usize = 40;
/// How much of a key is kept in clear so a person can tell their keys apart.
const VISIBLE_PREFIX_LEN: usize = 7;
pub const NAME_MAX: usize = 100;

/// A key as its holder has it. Never logged, never stored, shown once.
pub struct ApiKeySecret(SecretString);

/// What is stored instead of the key. A plain SHA-256 is right here (unlike
/// for passwords): the key carries ~238 random bits, so there is nothing for
/// a slow hash to protect against, and every request pays for the hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeySecret {
    pub fn generate() -> Self {
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(RANDOM_LEN)
            .map(char::from)
            .collect();
        Self(SecretString::from(format!("{PREFIX}{random}")))
    }

    /// `None` for anything not shaped like a key, which is then refused
    /// without a database read.
    pub fn parse(value: &str) -> Option<Self> {
        let random = value.strip_prefix(PREFIX)?;
        (random.len() == RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(SecretString::from(value.to_owned())))
    }

    pub fn hash(&self) -> ApiKeyHash {
        let digest = Sha256::digest(self.0.expose_secret().as_bytes());
        ApiKeyHash(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn visible_prefix(&self) -> String {
        self.0.expose_secret()[..VISIBLE_PREFIX_LEN].to_owned()
    }

    /// The one place the key is revealed: the response that creates it.
    pub fn reveal_once(self) -> String {
        self.0.expose_secret().to_owned()
    }
}

impl ApiKeyHash {
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a valid key belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    pub user_id: UserId,
    pub key_id: ApiKeyId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// How stale a key's `lastUsedAt` may get before a use writes it again: a
/// hot key costs one write an hour, not one per request.
pub const LAST_USED_EVERY_MS: i64 = 3_600_000;

impl ApiKey {
    /// Whether a use at `now` should be recorded.
    pub fn use_is_news(&self, now: Timestamp) -> bool {
        self.last_used_at
            .is_none_or(|at| now.millis() - at.millis() >= LAST_USED_EVERY_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_ic_and_forty_characters() {
        let key = ApiKeySecret::generate().reveal_once();
        assert!(key.starts_with("ic_"));
        assert_eq!(key.len(), 43);
        assert!(ApiKeySecret::parse(&key).is_some());
    }

    #[test]
    fn malformed_keys_are_refused_before_any_lookup() {
        for bad in [
            "",
            "ic_",
            "sk_0123456789012345678901234567890123456789",
            "ic_short",
        ] {
            assert!(ApiKeySecret::parse(bad).is_none(), "{bad}");
        }
        let with_symbol = format!("ic_{}!", "a".repeat(39));
        assert!(ApiKeySecret::parse(&with_symbol).is_none());
    }

    #[test]
    fn the_same_key_always_hashes_the_same_and_different_keys_differently() {
        let key = ApiKeySecret::generate();
        let again = ApiKeySecret::parse(&ApiKeySecret::generate().reveal_once()).unwrap();
        assert_eq!(key.hash(), key.hash());
        assert_ne!(key.hash(), again.hash());
        assert_eq!(key.hash().as_str().len(), 64);
    }

    #[test]
    fn a_key_does_not_show_its_secret_when_debug_printed() {
        let key = ApiKeySecret::generate();
        let shown = format!("{:?}", key.0);
        assert!(!shown.contains(&key.0.expose_secret()[3..]));
    }
}
