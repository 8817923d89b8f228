//! A job queue in memory: what was sent, in order, for tests to read back
//! or hand to a worker.

use crate::jobs::Job;
use crate::ports::{JobQueue, QueueError};
use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub struct MemoryQueue<J> {
    sent: Mutex<Vec<J>>,
    unavailable: AtomicBool,
}

impl<J> Default for MemoryQueue<J> {
    fn default() -> Self {
        Self {
            sent: Mutex::new(Vec::new()),
            unavailable: AtomicBool::new(false),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the memory queue was told to be unavailable")]
struct Unavailable;

impl<J: Clone> MemoryQueue<J> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every later send fails (transiently) until this is called with false.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Everything sent so far, oldest first, left in the queue.
    pub fn sent(&self) -> Vec<J> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Everything sent so far, taken out of the queue.
    pub fn take(&self) -> Vec<J> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl<J: Job + Clone> JobQueue<J> for MemoryQueue<J> {
    async fn enqueue(&self, job: &J) -> Result<(), QueueError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(QueueError {
                transient: true,
                source: Box::new(Unavailable),
            });
        }
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job.clone());
        Ok(())
    }

    /// Tests hand queued jobs to workers when they choose, so a delay
    /// changes nothing here.
    async fn enqueue_delayed(&self, job: &J, _delay: Duration) -> Result<(), QueueError> {
        self.enqueue(job).await
    }
}
