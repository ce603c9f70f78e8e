//! The inputs summary next to the Run form: `pipeline::inspect_inputs` on a background
//! thread, superseded whenever the chosen files change.

use std::sync::Arc;

use bna_engine::pipeline::{inspect_inputs, InputFiles, InputsSummary, PipelineError};
use bna_engine::progress::StageProgress;

use super::task::TaskShared;

/// The inspection thread's result, once it has one.
type Shared = TaskShared<Option<InputsSummary>>;

impl StageProgress for Shared {
    fn set_total(&self, _: u64) {}
    fn inc(&self, _: u64) {}
    fn is_cancelled(&self) -> bool {
        TaskShared::is_cancelled(self)
    }
}

/// One inspection of one set of files.
pub struct InspectJob {
    pub files: InputFiles,
    shared: Arc<Shared>,
}

impl InspectJob {
    pub fn spawn(files: InputFiles, repaint: Option<eframe::egui::Context>) -> InspectJob {
        let shared = Arc::new(Shared::new(None, repaint));
        let worker = Arc::clone(&shared);
        let work = files.clone();
        // If the thread cannot start, the summary simply never appears; the run still
        // validates every file itself.
        let _ = std::thread::Builder::new()
            .name("bna-inspect".into())
            .spawn(move || {
                let summary = match inspect_inputs(&work, worker.as_ref()) {
                    Ok(s) => s,
                    Err(PipelineError::Cancelled) => return,
                    Err(e) => InputsSummary {
                        osm: Some(Err(e.to_string())),
                        ..Default::default()
                    },
                };
                worker.update(|result| *result = Some(summary));
            });
        InspectJob { files, shared }
    }

    pub fn cancel(&self) {
        self.shared.cancel();
    }

    pub fn take(&self) -> Option<InputsSummary> {
        self.shared.log().take()
    }
}

/// The latest summary, and the inspection under way.
#[derive(Default)]
pub struct InputsState {
    pub job: Option<InspectJob>,
    pub summary: Option<(InputFiles, InputsSummary)>,
}

impl InputsState {
    /// Starts an inspection when `files` differ from what is shown or being read; collects
    /// a finished one.
    pub fn update(&mut self, files: InputFiles, ctx: &eframe::egui::Context) {
        if let Some(job) = &self.job {
            if let Some(s) = job.take() {
                self.summary = Some((job.files.clone(), s));
                self.job = None;
            }
        }
        let current = self
            .job
            .as_ref()
            .map(|j| &j.files)
            .or(self.summary.as_ref().map(|s| &s.0));
        if current == Some(&files) {
            return;
        }
        if let Some(old) = self.job.take() {
            old.cancel();
        }
        self.job = Some(InspectJob::spawn(files, Some(ctx.clone())));
    }

    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }
}
