//! Texters as the table names them: an HMAC-SHA256 of their number under a
//! key the deployment holds apart from the data (a Secrets Manager secret),
//! so the table alone does not give numbers back. An unkeyed hash would:
//! there are few enough numbers to hash them all and look each one up.

use super::PhoneNumber;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};

type HmacSha256 = Hmac<hmac_sha256::Sha256>;

/// The shortest key accepted: 256 bits.
pub const MIN_KEY_BYTES: usize = 32;

/// The deployment's key for naming texters.
#[derive(Clone)]
pub struct ContactKeys {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for ContactKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactKeys(..)")
    }
}

/// A texter's name in the table: 128 bits of the keyed hash, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TexterKey(String);

impl TexterKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key as stored: 32 lower-case hexadecimal digits.
    pub fn parse(value: &str) -> Option<Self> {
        (value.len() == 32
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| Self(value.to_owned()))
    }
}

impl ContactKeys {
    /// `None` for a key shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: SecretSlice<u8>) -> Option<Self> {
        (key.expose_secret().len() >= MIN_KEY_BYTES).then_some(Self { key })
    }

    /// A key of its own: a store whose data lives and dies with it (the
    /// memory store, a test's).
    pub fn random() -> Self {
        use rand::RngCore;
        let mut key = vec![0u8; MIN_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        Self { key: key.into() }
    }

    pub fn texter(&self, phone: &PhoneNumber) -> TexterKey {
        let mut mac =
            HmacSha256::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(phone.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        TexterKey(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_texter_is_named_by_the_key_and_never_by_a_bare_hash_of_the_number() {
        let phone = PhoneNumber::parse("+15551234567").unwrap();
        let keys = ContactKeys::new(vec![7u8; 32].into()).unwrap();
        let named = keys.texter(&phone);
        assert_eq!(named, keys.texter(&phone), "stable under one key");
        assert_ne!(
            named,
            ContactKeys::random().texter(&phone),
            "another key, another name"
        );
        use sha2::Digest;
        let bare: String = sha2::Sha256::digest(phone.as_str().as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(named.as_str(), bare);
        assert_eq!(TexterKey::parse(named.as_str()), Some(named));
        assert!(ContactKeys::new(vec![7u8; 31].into()).is_none());
    }
}
