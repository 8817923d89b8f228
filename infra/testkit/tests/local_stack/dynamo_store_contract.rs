//! The store contract, on the DynamoDB adapter against the local server
//! (each test on a table of its own).

use shared::ports::Store;
use std::sync::Arc;
use testkit::TestStack;

testkit::store_contract!(async { TestStack::start().await.local.store as Arc<dyn Store> });
