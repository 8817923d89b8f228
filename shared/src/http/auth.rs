//! Bearer-key authentication into a [`Caller`], with a short-lived cache of
//! key lookups so a warm container spends no round trip on them.

use super::error::ApiError;
use super::state::AppState;
use crate::adapters::dynamo::KeyOwner;
use crate::domain::api_key::{ApiKeyHash, ApiKeySecret};
use crate::domain::ids::{ApiKeyId, UserId};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a key lookup is trusted. A key revoked elsewhere keeps working at
/// most this long in a warm container (where it was revoked it dies at once).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);
/// Beyond this many cached keys the cache is cleared rather than grown: a
/// container serves a handful of keys, and this caps a flood of valid ones.
const KEY_CACHE_MAX_ENTRIES: usize = 10_000;

/// The authenticated user behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub key_id: ApiKeyId,
}

/// Positive lookups only: an unknown key is asked again each time, so a key
/// created a moment ago works at once. Hand-written because it needs just a
/// map and a clock; a caching crate would bring eviction machinery that a
/// per-container map of a few keys does not need.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<ApiKeyHash, (KeyOwner, Instant)>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, hash: &ApiKeyHash) -> Option<KeyOwner> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(owner, _)| owner.clone())
    }

    fn put(&self, hash: ApiKeyHash, owner: KeyOwner) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= KEY_CACHE_MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
            if entries.len() >= KEY_CACHE_MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, (owner, Instant::now()));
    }

    pub fn forget(&self, hash: &ApiKeyHash) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(hash);
    }
}

/// The key from `Authorization: Bearer <key>`; the scheme is case-insensitive.
fn bearer_key(parts: &Parts) -> Option<ApiKeySecret> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    ApiKeySecret::parse(key.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer_key(parts).ok_or(ApiError::Unauthorized)?;
        let hash = key.hash();
        let owner = match state.keys.get(&hash) {
            Some(owner) => owner,
            None => {
                let owner = state
                    .store
                    .authenticate(&hash)
                    .await?
                    .ok_or(ApiError::Unauthorized)?;
                state.keys.put(hash, owner.clone());
                owner
            }
        };
        tracing::Span::current().record("user_id", owner.user_id.as_str());
        Ok(Caller {
            user_id: owner.user_id,
            key_id: owner.key_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> KeyOwner {
        KeyOwner {
            user_id: UserId::generate(),
            key_id: ApiKeyId::generate(),
        }
    }

    #[test]
    fn a_cached_key_expires_after_its_time() {
        let cache = KeyCache::new(Duration::from_millis(0));
        let hash = ApiKeySecret::generate().hash();
        cache.put(hash.clone(), owner());
        assert_eq!(cache.get(&hash), None);
    }

    #[test]
    fn a_forgotten_key_is_looked_up_again() {
        let cache = KeyCache::new(KEY_CACHE_TTL);
        let hash = ApiKeySecret::generate().hash();
        let who = owner();
        cache.put(hash.clone(), who.clone());
        assert_eq!(cache.get(&hash), Some(who));
        cache.forget(&hash);
        assert_eq!(cache.get(&hash), None);
    }

    #[test]
    fn the_cache_never_grows_past_its_cap() {
        let cache = KeyCache::new(KEY_CACHE_TTL);
        for _ in 0..KEY_CACHE_MAX_ENTRIES + 5 {
            cache.put(ApiKeySecret::generate().hash(), owner());
        }
        assert!(cache.entries.lock().unwrap().len() <= KEY_CACHE_MAX_ENTRIES);
    }
}
