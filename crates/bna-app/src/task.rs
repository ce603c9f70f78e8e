//! What a background thread and the UI share: a cancel flag, the thread's log behind a lock, and
//! a way to wake the UI when the log changed. Runs, inspections, downloads and cloud jobs each
//! keep their own log type in one of these.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use eframe::egui::Context;

pub struct TaskShared<L> {
    cancel: AtomicBool,
    log: Mutex<L>,
    /// Wakes the UI; `None` for synchronous callers (tests, benches).
    repaint: Option<Context>,
    pub started: Instant,
}

impl<L> TaskShared<L> {
    pub fn new(log: L, repaint: Option<Context>) -> Self {
        TaskShared {
            cancel: AtomicBool::new(false),
            log: Mutex::new(log),
            repaint,
            started: Instant::now(),
        }
    }

    pub fn log(&self) -> MutexGuard<'_, L> {
        // A panic on the worker thread must not take the UI down with it.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the log, then wakes the UI to show it.
    pub fn update<R>(&self, f: impl FnOnce(&mut L) -> R) -> R {
        let r = f(&mut self.log());
        self.wake();
        r
    }

    pub fn wake(&self) {
        if let Some(ctx) = &self.repaint {
            ctx.request_repaint();
        }
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

impl<L> std::fmt::Debug for TaskShared<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskShared")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_holding_the_log_leaves_it_readable() {
        let shared = std::sync::Arc::new(TaskShared::new(vec![1], None));
        let worker = std::sync::Arc::clone(&shared);
        let _ = std::thread::spawn(move || {
            let _guard = worker.log();
            panic!("worker failed");
        })
        .join();
        assert_eq!(
            shared.update(|log| {
                log.push(2);
                log.len()
            }),
            2
        );
        assert!(!shared.is_cancelled());
        shared.cancel();
        assert!(shared.is_cancelled());
    }
}
