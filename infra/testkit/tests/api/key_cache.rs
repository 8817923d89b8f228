//! The key cache's one-minute trust, on a clock the test moves.

use shared::adapters::memory::MemoryStore;
use shared::app::authentication::{Authenticator, KEY_CACHE_TTL};
use shared::ports::{Clock, KeyStore};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    fn advance_to(&self, elapsed: Duration) {
        *self.elapsed.lock().unwrap() = elapsed;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap()
    }

    fn timestamp(&self) -> shared::domain::time::Timestamp {
        shared::domain::time::Timestamp::now().plus(*self.elapsed.lock().unwrap())
    }

    fn wall(&self) -> shared::domain::time::Timestamp {
        shared::domain::time::Timestamp::wall().plus(*self.elapsed.lock().unwrap())
    }
}

#[tokio::test]
async fn a_key_revoked_in_another_container_works_here_for_59_seconds_and_not_at_61() {
    assert_eq!(KEY_CACHE_TTL, Duration::from_secs(60));
    let store = Arc::new(MemoryStore::new());
    let user = shared::domain::ids::UserId::generate();
    let (key, secret) = store.create_api_key(&user, "k".into()).await.unwrap();
    let clock = Arc::new(ManualClock {
        start: Instant::now(),
        elapsed: Mutex::new(Duration::ZERO),
    });
    let here = Authenticator::with_clock(store.clone(), KEY_CACHE_TTL, clock.clone());
    assert_eq!(here.authenticate(&secret).await.unwrap().key_id, key.id);
    // Revoked by another container: this one's cache does not hear of it.
    store.revoke_api_key(&user, &key.id).await.unwrap();
    clock.advance_to(Duration::from_secs(59));
    assert!(
        here.authenticate(&secret).await.is_ok(),
        "still cached at 59 s"
    );
    clock.advance_to(Duration::from_secs(61));
    assert!(
        matches!(
            here.authenticate(&secret).await,
            Err(shared::app::error::AppError::Unauthorized)
        ),
        "asked again, and refused, at 61 s"
    );
}

#[tokio::test]
async fn a_key_revoked_in_this_container_stops_at_once() {
    let store = Arc::new(MemoryStore::new());
    let user = shared::domain::ids::UserId::generate();
    let (key, secret) = store.create_api_key(&user, "k".into()).await.unwrap();
    let here = Authenticator::new(store.clone());
    here.authenticate(&secret).await.unwrap();
    let hash = store.revoke_api_key(&user, &key.id).await.unwrap();
    here.forget(&hash);
    assert!(here.authenticate(&secret).await.is_err());
    assert_eq!(here.cached_keys(), 0);
}
