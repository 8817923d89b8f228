//! Every store port in memory, for tests that need no local server and
//! tests that make the store fail on purpose ([`FaultPlan`]). Each call is
//! atomic (one lock), as each DynamoDB request is, and the same contract
//! suite holds it to the DynamoDB adapter's behaviour.

use super::faults::{Call, FaultPlan};
use super::tables::Tables;
use crate::adapters::contention::retry_contended;
use crate::ports::StoreError;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    faults: FaultPlan,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where a test says which calls fail next.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// The changes committed since the last call, oldest first: what
    /// DynamoDB's stream would carry to the event feed.
    pub fn take_changes(&self) -> Vec<crate::domain::webhook::change::Change> {
        std::mem::take(&mut self.lock().changes.unread)
    }

    /// Everything the store holds, people shown whole: what a test of
    /// erasure reads, as it scans the DynamoDB table.
    pub fn audit_dump(&self) -> String {
        let tables = self.lock();
        crate::domain::redaction::unredacted(|| format!("{:?}", *tables))
    }

    /// Runs one call: injected faults fail its attempts first (cancellations
    /// are retried by the same policy as DynamoDB's), then `apply` runs on
    /// the tables, all or nothing.
    pub(super) async fn run<T>(
        &self,
        call: Call,
        apply: impl FnOnce(&mut Tables) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        retry_contended(|| async { self.faults.attempt(call) }).await?;
        apply(&mut self.lock())
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}
