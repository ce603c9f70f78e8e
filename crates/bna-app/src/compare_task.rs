//! Comparing the open project with another analysis off the UI thread: both sides are read
//! back and compared by `bna_engine::compare::compare_paths` (as `bna compare`), and the
//! difference layer is prepared in the map's local units before the UI sees it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui::Context;

use super::compare_view::{build_overlay, local_of, summary, CompareOverlay, Summary};
use super::task::TaskShared;
use bna_engine::compare::{compare_paths, Report, SourceKind};

/// A finished comparison, ready to draw.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The open project (A).
    pub a: PathBuf,
    /// The other analysis (B).
    pub b: PathBuf,
    pub b_kind: SourceKind,
    pub report: Report,
    pub overlay: CompareOverlay,
    pub summary: Summary,
}

/// Compares `project` (A) with `other` (B), the layer in local units around `origin_ll`;
/// the error is the engine's one sentence naming the file and the fix.
pub fn run_compare(
    project: &Path,
    other: &Path,
    origin_ll: (f64, f64),
) -> Result<Compared, String> {
    let (a, b, report) = compare_paths(project, other).map_err(|e| e.to_string())?;
    let overlay = build_overlay(&report, &a, &b, local_of(origin_ll));
    Ok(Compared {
        a: project.to_path_buf(),
        b: other.to_path_buf(),
        b_kind: b.kind,
        summary: summary(&report),
        report,
        overlay,
    })
}

type Answer = Option<Result<Box<Compared>, String>>;

/// One comparison under way; its answer is taken once.
pub struct CompareTask {
    pub other: PathBuf,
    shared: Arc<TaskShared<Answer>>,
}

impl CompareTask {
    /// Starts comparing on a thread; `ctx` is woken when it is done.
    pub fn spawn(
        project: PathBuf,
        other: PathBuf,
        origin_ll: (f64, f64),
        ctx: Option<Context>,
    ) -> CompareTask {
        let shared = Arc::new(TaskShared::new(None, ctx));
        let worker = Arc::clone(&shared);
        let b = other.clone();
        let started = std::thread::Builder::new()
            .name("bna-compare".into())
            .spawn(move || {
                let answer = std::panic::catch_unwind(|| run_compare(&project, &b, origin_ll))
                    .unwrap_or_else(|_| {
                        Err(format!(
                            "comparing with {} failed with an internal error; please report it",
                            b.display()
                        ))
                    });
                worker.update(|a| *a = Some(answer.map(Box::new)));
            });
        if let Err(e) = started {
            shared.update(|a| *a = Some(Err(format!("cannot start a thread to compare: {e}"))));
        }
        CompareTask { other, shared }
    }

    /// The answer, once, when the thread has one.
    pub fn take(&self) -> Answer {
        self.shared.log().take()
    }

    pub fn started(&self) -> std::time::Instant {
        self.shared.started
    }
}

impl std::fmt::Debug for CompareTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompareTask")
            .field("other", &self.other)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(t: &CompareTask) -> Result<Box<Compared>, String> {
        let t0 = std::time::Instant::now();
        loop {
            if let Some(a) = t.take() {
                assert!(t.take().is_none(), "the answer is taken once");
                return a;
            }
            assert!(t0.elapsed().as_secs() < 60, "no answer");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn a_missing_project_or_a_folder_without_tables_is_one_sentence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.bna");
        let t = CompareTask::spawn(missing.clone(), dir.path().into(), (0.0, 0.0), None);
        let e = wait(&t).unwrap_err();
        assert!(e.contains(&missing.display().to_string()), "{e}");
        assert!(!e.contains('\n'), "{e}");

        let not_a_project = dir.path().join("notes.bna");
        std::fs::write(&not_a_project, "not sqlite").expect("write");
        let e = run_compare(&not_a_project, dir.path(), (0.0, 0.0)).unwrap_err();
        assert!(e.contains("notes.bna"), "{e}");
    }
}
