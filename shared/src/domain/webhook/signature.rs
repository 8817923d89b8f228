//! Webhook signatures as the Standard Webhooks specification defines them,
//! so a receiver verifies with the `standardwebhooks` or `svix` library it
//! already has: the secret is `whsec_` and the base64 of its key, the signed
//! content is `{webhook-id}.{webhook-timestamp}.{body}`, and the
//! `webhook-signature` header lists `v1,` and the base64 HMAC-SHA256 under
//! each current secret, space-separated (two while a rotated one is still
//! honoured).
//!
//! Written here rather than taken from the `standardwebhooks` crate: it
//! pulls in an HTTP and a time crate for a dozen lines of HMAC, and only
//! signing is needed (receivers verify).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};

type HmacSha256 = Hmac<hmac_sha256::Sha256>;

const PREFIX: &str = "whsec_";
/// The key lengths a secret a customer brings may have, in bytes.
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// The length of a secret made for a webhook.
const MADE_KEY_BYTES: usize = 32;

/// A webhook's signing secret. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct WebhookSecret {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// A secret as the API takes it: `whsec_` and the base64 of a key of
    /// 24 to 64 bytes.
    pub fn parse(value: &str) -> Result<Self, String> {
        let problem = || {
            format!(
                "must be 'whsec_' followed by the base64 of {} to {} bytes",
                KEY_BYTES.start(),
                KEY_BYTES.end()
            )
        };
        let key = value
            .strip_prefix(PREFIX)
            .and_then(|encoded| BASE64.decode(encoded).ok())
            .filter(|key| KEY_BYTES.contains(&key.len()))
            .ok_or_else(problem)?;
        Ok(Self { key: key.into() })
    }

    /// A new secret of 32 random bytes.
    pub fn generate() -> Self {
        let mut key = vec![0u8; MADE_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        Self { key: key.into() }
    }

    /// The secret as the API shows it once, and as it is stored (sealed).
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", BASE64.encode(self.key.expose_secret()))
    }

    /// One `v1,` signature of `body` sent as event `id` at `timestamp`
    /// (Unix seconds).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            HmacSha256::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: a signature under each of `secrets`,
/// space-separated, the current one first.
pub fn signature_header(
    secrets: &[&WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's published example (also what the
    /// `standardwebhooks` Python library signs for it).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_specifications_example_is_signed_as_published() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            secret.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.as_bytes()),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_in_one_header() {
        let old = WebhookSecret::parse(SPEC_SECRET).unwrap();
        let new = WebhookSecret::generate();
        let header = signature_header(&[&new, &old], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.as_bytes());
        let signatures: Vec<&str> = header.split(' ').collect();
        assert_eq!(signatures.len(), 2);
        assert_eq!(signatures[1], SPEC_SIGNATURE);
        assert_eq!(
            signatures[0],
            new.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.as_bytes())
        );
    }

    #[test]
    fn a_made_secret_is_32_bytes_and_reads_back_as_itself() {
        let made = WebhookSecret::generate();
        let shown = made.expose();
        assert!(shown.starts_with("whsec_"));
        let decoded = BASE64.decode(&shown["whsec_".len()..]).unwrap();
        assert_eq!(decoded.len(), 32);
        let again = WebhookSecret::parse(&shown).unwrap();
        assert_eq!(again.sign("evt_1", 1, b"{}"), made.sign("evt_1", 1, b"{}"));
        assert_ne!(WebhookSecret::generate().expose(), shown, "random");
    }

    #[test]
    fn a_secret_without_its_prefix_or_of_the_wrong_length_is_refused() {
        let key = |n: usize| BASE64.encode(vec![7u8; n]);
        assert!(WebhookSecret::parse(&format!("whsec_{}", key(24))).is_ok());
        assert!(WebhookSecret::parse(&format!("whsec_{}", key(64))).is_ok());
        for refused in [
            format!("whsec_{}", key(23)),
            format!("whsec_{}", key(65)),
            key(32),
            "whsec_not base64!".to_owned(),
            "whsec_".to_owned(),
        ] {
            // The answer names the rule, never the value it was sent.
            assert_eq!(
                WebhookSecret::parse(&refused).unwrap_err(),
                "must be 'whsec_' followed by the base64 of 24 to 64 bytes"
            );
        }
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(format!("{secret:?}"), "WebhookSecret(..)");
    }
}
