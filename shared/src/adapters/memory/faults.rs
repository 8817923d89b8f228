//! Failures a test can ask the memory store for, as DynamoDB would produce
//! them: each injected fault fails one attempt of the next call it applies to.

use crate::adapters::contention::WriteFailure;
use crate::ports::StoreError;
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The table is over its capacity. Retried like DynamoDB's SDK and our
    /// transaction policy retry it.
    Throttled,
    /// Another transaction holds an item: cancels transactions only (reads
    /// and single-item writes pass it by, as they do in DynamoDB).
    TransactionConflict,
    /// Unreachable or timed out, after the SDK's retries: the call fails.
    Unavailable,
}

/// What kind of call meets a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Call {
    Read,
    Write,
    /// Several items written at once (a DynamoDB transaction).
    Transaction,
}

#[derive(Debug, thiserror::Error)]
#[error("injected fault: {0:?}")]
struct Injected(Fault);

/// The faults still to happen, in order; `None` lets one call through.
#[derive(Debug, Default)]
pub struct FaultPlan {
    pending: Mutex<VecDeque<Option<Fault>>>,
}

impl FaultPlan {
    /// The next `times` attempts that `fault` applies to fail with it.
    pub fn fail_next(&self, times: usize, fault: Fault) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend(std::iter::repeat_n(Some(fault), times));
    }

    /// The next `calls` calls (of any kind) succeed before the faults
    /// queued after this: aims a fault past, say, the membership read.
    pub fn pass_next(&self, calls: usize) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend(std::iter::repeat_n(None, calls));
    }

    /// How many injected faults have not happened yet.
    pub fn remaining(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// One attempt at a call: the next fault, if it applies to this call.
    pub(super) fn attempt(&self, call: Call) -> Result<(), WriteFailure> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let applies = match pending.front() {
            None => return Ok(()),
            Some(None) => true,
            Some(Some(Fault::TransactionConflict)) => call == Call::Transaction,
            Some(Some(Fault::Throttled | Fault::Unavailable)) => true,
        };
        if !applies {
            return Ok(());
        }
        match pending.pop_front().flatten() {
            None => Ok(()),
            Some(Fault::Unavailable) => Err(WriteFailure::Failed(StoreError::Transient(Box::new(
                Injected(Fault::Unavailable),
            )))),
            Some(fault) => Err(WriteFailure::Contended(format!("{fault:?}"))),
        }
    }
}
