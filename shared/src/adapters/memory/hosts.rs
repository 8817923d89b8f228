//! Host names and the addresses they resolve to, as a test sets them: a
//! name pointing inside without asking any name server.

use crate::ports::webhook_sender::HostResolver;
use async_trait::async_trait;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryHosts {
    names: Mutex<HashMap<String, Vec<IpAddr>>>,
}

impl MemoryHosts {
    pub fn new() -> Self {
        Self::default()
    }

    /// `name` resolves to `addresses` from now on.
    pub fn point(&self, name: &str, addresses: &[IpAddr]) {
        self.names
            .lock()
            .expect("hosts lock")
            .insert(name.to_owned(), addresses.to_vec());
    }
}

#[async_trait]
impl HostResolver for MemoryHosts {
    async fn addresses(&self, host: &str) -> Vec<IpAddr> {
        self.names
            .lock()
            .expect("hosts lock")
            .get(host)
            .cloned()
            .unwrap_or_default()
    }
}
