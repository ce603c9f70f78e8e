//! Progress reporting and cancellation for long-running work. Lower layers only see this
//! trait; the CLI (progress bars), the app (UI state) and the worker (progress.json) implement it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Returned by long-running work that stopped because the user cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

pub trait StageProgress: Sync {
    /// Units of work in this stage (segments, blocks, …); may be called again to refine it.
    fn set_total(&self, total: u64);
    fn inc(&self, n: u64);
    fn is_cancelled(&self) -> bool;

    fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Counts progress and never cancels: for tests and callers that do not display progress.
#[derive(Debug, Default)]
pub struct Counter {
    pub total: AtomicU64,
    pub done: AtomicU64,
    pub cancel: AtomicBool,
}

impl StageProgress for Counter {
    fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
