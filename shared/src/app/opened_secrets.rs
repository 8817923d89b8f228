//! Secrets opened once per container and kept a while: each opening is a
//! KMS call, and a flood of requests (or a burst of deliveries) for one
//! owner meets a cold container with one call between them, not one each.
//! An entry serves only the ciphertext it was opened from, so a rotated or
//! replaced secret applies at once.

use crate::ports::{CipherError, SecretCipher, SecretContext};
use secrecy::SecretString;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an opened secret is kept.
pub const OPENED_SECRET_TTL: Duration = Duration::from_secs(300);

/// The most secrets kept: past it the oldest half go (a worker's containers
/// see a bounded set of owners; this bounds the rest).
const KEPT: usize = 1_024;

struct Opened {
    sealed: Vec<u8>,
    secret: SecretString,
    at: Instant,
}

pub struct OpenedSecrets<K> {
    entries: Mutex<HashMap<K, Opened>>,
    openers: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for OpenedSecrets<K> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            openers: Mutex::default(),
        }
    }
}

impl<K: Clone + Eq + Hash> OpenedSecrets<K> {
    fn cached(&self, owner: &K, sealed: &[u8]) -> Option<SecretString> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(owner)
            .filter(|opened| opened.sealed == sealed && opened.at.elapsed() < OPENED_SECRET_TTL)
            .map(|opened| opened.secret.clone())
    }

    /// `owner`'s secret `sealed` under `context`, opened at most once per
    /// `OPENED_SECRET_TTL` however many ask at once.
    pub async fn open(
        &self,
        cipher: &dyn SecretCipher,
        owner: &K,
        sealed: &[u8],
        context: &SecretContext,
    ) -> Result<SecretString, CipherError> {
        if let Some(secret) = self.cached(owner, sealed) {
            return Ok(secret);
        }
        let opener = Arc::clone(
            self.openers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(owner.clone())
                .or_default(),
        );
        let _opening = opener.lock().await;
        // Opened by whoever held the opener before us.
        if let Some(secret) = self.cached(owner, sealed) {
            return Ok(secret);
        }
        let secret = cipher.open(sealed, context).await?;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= KEPT {
            let mut ages: Vec<Instant> = entries.values().map(|o| o.at).collect();
            ages.sort();
            let cutoff = ages[ages.len() / 2];
            entries.retain(|_, opened| opened.at > cutoff);
        }
        entries.insert(
            owner.clone(),
            Opened {
                sealed: sealed.to_vec(),
                secret: secret.clone(),
                at: Instant::now(),
            },
        );
        Ok(secret)
    }
}
