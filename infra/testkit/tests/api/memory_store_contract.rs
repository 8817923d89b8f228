//! The store contract, on the memory store.

use shared::adapters::memory::MemoryStore;
use shared::ports::Store;
use std::sync::Arc;

testkit::store_contract!(async { Arc::new(MemoryStore::new()) as Arc<dyn Store> });
