//! A cipher in memory with KMS's contract: a sealed secret opens only under
//! the context it was sealed with, every seal gives a new ciphertext, and
//! the ciphertext holds nothing of the plaintext.

use crate::ports::{CipherError, SecretCipher, SecretContext};
use async_trait::async_trait;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct MemoryCipher {
    sealed: Mutex<HashMap<Vec<u8>, (SecretContext, String)>>,
    unavailable: AtomicBool,
    opened: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refusal(&'static str);

impl MemoryCipher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every later call fails (transiently) until this is called with false.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// How many secrets were opened: a cache in front of this should keep
    /// the count down.
    pub fn opened(&self) -> usize {
        self.opened.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), CipherError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(CipherError::Transient(Box::new(Refusal(
                "the memory cipher was told to be unavailable",
            ))))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl SecretCipher for MemoryCipher {
    async fn seal(
        &self,
        plaintext: &SecretString,
        context: &SecretContext,
    ) -> Result<Vec<u8>, CipherError> {
        self.check()?;
        let handle: Vec<u8> = (0..32).map(|_| rand::rng().random()).collect();
        self.sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                handle.clone(),
                (context.clone(), plaintext.expose_secret().to_owned()),
            );
        Ok(handle)
    }

    async fn open(
        &self,
        sealed: &[u8],
        context: &SecretContext,
    ) -> Result<SecretString, CipherError> {
        self.check()?;
        self.opened.fetch_add(1, Ordering::SeqCst);
        match self
            .sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sealed)
        {
            Some((bound, plaintext)) if bound == context => {
                Ok(SecretString::from(plaintext.clone()))
            }
            Some(_) => Err(CipherError::Refused(Box::new(Refusal(
                "the encryption context does not match",
            )))),
            None => Err(CipherError::Refused(Box::new(Refusal(
                "not a ciphertext of this key",
            )))),
        }
    }
}
