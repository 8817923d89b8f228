//! The widget's session tokens: short-lived, bound to one assistant, one
//! session and one origin, and signed with HMAC-SHA256 under a key only the
//! server holds (read from the secret store when a visitor first needs it).
//!
//! Written here rather than taken from a JWT crate on purpose: the token is
//! opaque to its holder and read only by this server, so a fixed algorithm
//! and a fixed layout leave nothing to negotiate (no `alg` header to
//! confuse), and the cryptography itself is RustCrypto's.

use crate::domain::ids::{AssistantId, WidgetSessionId};
use crate::domain::time::Timestamp;
use crate::domain::widget::AllowedOrigin;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use std::time::Duration;

type HmacSha256 = Hmac<hmac_sha256::Sha256>;

/// How long a token is good for; the widget asks for a new one (resuming
/// its session) when it lapses.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The shortest signing key accepted: 256 bits.
pub const MIN_KEY_BYTES: usize = 32;
const VERSION: &str = "wt1";

/// What a token vouches for.
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetClaims {
    pub assistant_id: AssistantId,
    pub session_id: WidgetSessionId,
    pub origin: AllowedOrigin,
    pub expires_at: Timestamp,
}

/// Why a token was refused, in words for the 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum TokenError {
    Missing,
    Invalid,
    Expired,
    Misdirected,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => {
                "a widget token is required: send 'Authorization: Widget <token>' from init"
            }
            Self::Invalid => "the widget token is not valid; call init for a new one",
            Self::Expired => "the widget token has expired; call init for a new one",
            Self::Misdirected => {
                "the widget token was issued for another assistant, session or origin"
            }
        }
    }
}

/// `Debug` shows the key redacted (`secrecy`'s own rule).
#[derive(Debug)]
pub struct WidgetTokens {
    key: SecretSlice<u8>,
    lifetime: Duration,
}

impl WidgetTokens {
    /// `None` for a key shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: SecretSlice<u8>) -> Option<Self> {
        (key.expose_secret().len() >= MIN_KEY_BYTES).then_some(Self {
            key,
            lifetime: TOKEN_LIFETIME,
        })
    }

    /// A signer with a key of its own, for a process whose tokens no other
    /// process checks (tests, benchmarks).
    pub fn with_random_key() -> Self {
        use rand::RngCore;
        let mut key = vec![0u8; MIN_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        Self::new(key.into()).expect("a key of the minimum length")
    }

    /// The same key with another lifetime (tests of expiry).
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key length")
    }

    /// A token for this session on this origin, and when it lapses.
    pub fn issue(
        &self,
        assistant: &AssistantId,
        session: &WidgetSessionId,
        origin: &AllowedOrigin,
        now: Timestamp,
    ) -> (String, Timestamp) {
        let expires_at = now.plus(self.lifetime);
        let body = format!(
            "{VERSION}.{assistant}.{session}.{}.{}",
            URL_SAFE_NO_PAD.encode(origin.as_str()),
            expires_at.millis()
        );
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        (format!("{body}.{signature}"), expires_at)
    }

    /// The claims of a token this server signed that has not expired.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<WidgetClaims, TokenError> {
        let (body, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        // Constant time: a forger learns nothing from how long this takes.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let parts: Vec<&str> = body.split('.').collect();
        let [VERSION, assistant, session, origin, expires] = parts[..] else {
            return Err(TokenError::Invalid);
        };
        let origin = URL_SAFE_NO_PAD
            .decode(origin)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| AllowedOrigin::parse(&text).ok());
        let claims = WidgetClaims {
            assistant_id: AssistantId::parse(assistant).ok_or(TokenError::Invalid)?,
            session_id: WidgetSessionId::parse(session).ok_or(TokenError::Invalid)?,
            origin: origin.ok_or(TokenError::Invalid)?,
            expires_at: Timestamp::from_millis(expires.parse().map_err(|_| TokenError::Invalid)?),
        };
        if claims.expires_at.millis() <= now.millis() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(byte: u8) -> WidgetTokens {
        WidgetTokens::new(vec![byte; 32].into()).unwrap()
    }

    #[test]
    fn a_token_vouches_for_its_assistant_session_and_origin_until_it_expires() {
        let (ast, sess) = (AssistantId::generate(), WidgetSessionId::generate());
        let origin = AllowedOrigin::parse("https://shop.example.com").unwrap();
        let now = Timestamp::from_millis(1_000_000);
        let (token, expires_at) = tokens(7).issue(&ast, &sess, &origin, now);
        let claims = tokens(7).verify(&token, now).unwrap();
        assert_eq!(
            (claims.assistant_id, claims.session_id, claims.origin),
            (ast, sess, origin)
        );
        assert_eq!(expires_at.millis() - now.millis(), 30 * 60 * 1000);
        assert_eq!(
            tokens(7).verify(&token, expires_at),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_forged_or_altered_token_is_refused() {
        let origin = AllowedOrigin::parse("https://shop.example.com").unwrap();
        let now = Timestamp::from_millis(1_000_000);
        let (token, _) = tokens(7).issue(
            &AssistantId::generate(),
            &WidgetSessionId::generate(),
            &origin,
            now,
        );
        assert_eq!(tokens(8).verify(&token, now), Err(TokenError::Invalid));
        let other = AssistantId::generate();
        let parts: Vec<&str> = token.split('.').collect();
        let swapped = [
            parts[0],
            other.as_str(),
            parts[2],
            parts[3],
            parts[4],
            parts[5],
        ]
        .join(".");
        assert_eq!(tokens(7).verify(&swapped, now), Err(TokenError::Invalid));
        let later = [
            parts[0],
            parts[1],
            parts[2],
            parts[3],
            "99999999999999",
            parts[5],
        ]
        .join(".");
        assert_eq!(tokens(7).verify(&later, now), Err(TokenError::Invalid));
        for junk in ["", "wt1", "a.b.c", &format!("{token}x")] {
            assert_eq!(
                tokens(7).verify(junk, now),
                Err(TokenError::Invalid),
                "{junk}"
            );
        }
        assert!(
            WidgetTokens::new(vec![1; 31].into()).is_none(),
            "a short key"
        );
    }
}
