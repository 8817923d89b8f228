//! API keys to users, with a short-lived cache of positive lookups so a warm
//! container spends no round trip on them.

use super::error::AppError;
use crate::domain::api_key::{ApiKeyHash, ApiKeySecret, KeyOwner};
use crate::ports::{Clock, KeyStore, SystemClock};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a key lookup is trusted. A key revoked elsewhere keeps working at
/// most this long in a warm container (where it was revoked it dies at once).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);
/// Beyond this many cached keys the cache is cleared rather than grown: a
/// container serves a handful of keys, and this caps a flood of valid ones.
const KEY_CACHE_MAX_ENTRIES: usize = 10_000;

/// Positive lookups only: an unknown key is asked again each time, so a key
/// created a moment ago works at once. Hand-written because it needs just a
/// map and a clock; a caching crate would bring eviction machinery that a
/// per-container map of a few keys does not need.
#[derive(Debug)]
struct KeyCache {
    ttl: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<ApiKeyHash, (KeyOwner, Instant)>>,
}

impl KeyCache {
    fn fresh(&self, at: Instant, now: Instant) -> bool {
        now.saturating_duration_since(at) < self.ttl
    }

    fn get(&self, hash: &ApiKeyHash) -> Option<KeyOwner> {
        let now = self.clock.now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| self.fresh(*at, now))
            .map(|(owner, _)| owner.clone())
    }

    fn put(&self, hash: ApiKeyHash, owner: KeyOwner) {
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= KEY_CACHE_MAX_ENTRIES {
            entries.retain(|_, (_, at)| self.fresh(*at, now));
            if entries.len() >= KEY_CACHE_MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, (owner, now));
    }

    fn forget(&self, hash: &ApiKeyHash) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(hash);
    }

    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Who a key belongs to, asked of the key store at most once a minute per
/// key in each container.
pub struct Authenticator {
    keys: Arc<dyn KeyStore>,
    cache: KeyCache,
}

impl Authenticator {
    /// The production cache: 60 seconds on the machine's clock.
    pub fn new(keys: Arc<dyn KeyStore>) -> Self {
        Self::with_clock(keys, KEY_CACHE_TTL, Arc::new(SystemClock))
    }

    pub fn with_clock(keys: Arc<dyn KeyStore>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            keys,
            cache: KeyCache {
                ttl,
                clock,
                entries: Mutex::new(HashMap::new()),
            },
        }
    }

    /// The key's owner; an unknown or revoked key is a 401.
    pub async fn authenticate(&self, key: &ApiKeySecret) -> Result<KeyOwner, AppError> {
        let hash = key.hash();
        if let Some(owner) = self.cache.get(&hash) {
            return Ok(owner);
        }
        let owner = self
            .keys
            .authenticate(&hash)
            .await?
            .ok_or(AppError::Unauthorized)?;
        self.cache.put(hash, owner.clone());
        Ok(owner)
    }

    /// A revoked key stops working in this container at once.
    pub fn forget(&self, hash: &ApiKeyHash) {
        self.cache.forget(hash);
    }

    /// How many lookups are cached (for tests of the cap).
    pub fn cached_keys(&self) -> usize {
        self.cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ApiKeyId, UserId};

    #[derive(Debug)]
    struct StoppedClock(Instant);

    impl Clock for StoppedClock {
        fn now(&self) -> Instant {
            self.0
        }

        fn timestamp(&self) -> crate::domain::time::Timestamp {
            crate::domain::time::Timestamp::now()
        }

        fn wall(&self) -> crate::domain::time::Timestamp {
            crate::domain::time::Timestamp::wall()
        }
    }

    fn owner() -> KeyOwner {
        KeyOwner {
            user_id: UserId::generate(),
            key_id: ApiKeyId::generate(),
        }
    }

    fn cache() -> KeyCache {
        KeyCache {
            ttl: KEY_CACHE_TTL,
            clock: Arc::new(StoppedClock(Instant::now())),
            entries: Mutex::new(HashMap::new()),
        }
    }

    #[test]
    fn a_forgotten_key_is_looked_up_again() {
        let cache = cache();
        let hash = ApiKeySecret::generate().hash();
        let who = owner();
        cache.put(hash.clone(), who.clone());
        assert_eq!(cache.get(&hash), Some(who));
        cache.forget(&hash);
        assert_eq!(cache.get(&hash), None);
    }

    #[test]
    fn the_cache_never_grows_past_its_cap() {
        let cache = cache();
        for _ in 0..KEY_CACHE_MAX_ENTRIES + 5 {
            cache.put(ApiKeySecret::generate().hash(), owner());
        }
        assert!(cache.len() <= KEY_CACHE_MAX_ENTRIES);
    }
}
