//! Progress bars on stderr, one per stage, with counts and elapsed time.

use std::sync::Mutex;

use bna_engine::pipeline::{Observer, Stage};
use bna_engine::progress::StageProgress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct CliObserver {
    multi: MultiProgress,
    current: Mutex<Option<ProgressBar>>,
}

impl CliObserver {
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            current: Mutex::new(None),
        }
    }

    fn bar(&self) -> Option<ProgressBar> {
        self.current.lock().ok().and_then(|b| b.clone())
    }
}

impl StageProgress for CliObserver {
    fn set_total(&self, total: u64) {
        if let Some(b) = self.bar() {
            b.set_length(total);
        }
    }
    fn inc(&self, n: u64) {
        if let Some(b) = self.bar() {
            b.inc(n);
        }
    }
    fn is_cancelled(&self) -> bool {
        false
    }
}

impl Observer for CliObserver {
    fn stage_started(&self, stage: Stage) {
        let style = ProgressStyle::with_template(
            "{prefix:>13} [{bar:30.cyan/blue}] {human_pos}/{human_len} {elapsed_precise} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = self.multi.add(
            ProgressBar::new(0)
                .with_style(style)
                .with_prefix(stage.name()),
        );
        if let Ok(mut c) = self.current.lock() {
            *c = Some(bar);
        }
    }

    fn stage_finished(&self, _stage: Stage, seconds: f64, from_checkpoint: bool) {
        if let Some(b) = self.bar() {
            let how = if from_checkpoint {
                "restored from checkpoint"
            } else {
                "done"
            };
            b.finish_with_message(format!("{how} in {seconds:.2} s"));
        }
    }

    fn warning(&self, message: &str) {
        let _ = self.multi.println(format!("warning: {message}"));
    }
}
