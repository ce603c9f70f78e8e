//! Background work: analysing (always through `pipeline::run`) and opening projects. The UI
//! thread never blocks on either; it polls a [`Job`]'s shared state once per frame.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use bna_engine::model::ProjectData;
use bna_engine::pipeline::{self, AnalysisRequest, Observer, PipelineError, Stage};
use bna_engine::progress::StageProgress;
use bna_engine::store::Project;

use super::geometry::MapGeometry;
use super::task::TaskShared;

/// A project read back from its `.bna` file, with its map geometry prepared off the UI thread.
pub struct LoadedProject {
    pub path: PathBuf,
    pub data: ProjectData,
    pub geometry: MapGeometry,
    /// Warnings of the run that produced it (empty when only opened).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for LoadedProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedProject")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why a job produced no project: the one-line reason shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

impl From<PipelineError> for JobError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Cancelled => JobError::Cancelled,
            other => JobError::Failed(other.to_string()),
        }
    }
}

impl From<bna_engine::store::StoreError> for JobError {
    fn from(e: bna_engine::store::StoreError) -> Self {
        JobError::Failed(e.to_string())
    }
}

/// What a job does.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// Run the analysis, then open the project it wrote.
    Analyse(AnalysisRequest),
    /// Open the project if it already holds results of this engine version, else analyse.
    /// Used for the demo, so a second start is instant rather than a re-save.
    OpenOrAnalyse(AnalysisRequest),
    /// Open an existing project.
    Open(PathBuf),
}

impl JobKind {
    pub fn target(&self) -> &Path {
        match self {
            JobKind::Analyse(r) | JobKind::OpenOrAnalyse(r) => &r.out,
            JobKind::Open(p) => p,
        }
    }
}

/// Where one pipeline stage is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StageState {
    Pending,
    Running {
        since: Instant,
    },
    Done {
        seconds: f64,
        from_checkpoint: bool,
    },
    /// The run ended (failed or cancelled) while this stage was running: its clock stops.
    Stopped {
        seconds: f64,
    },
}

/// One row of the progress display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageRow {
    pub stage: Stage,
    pub state: StageState,
    pub done: u64,
    pub total: u64,
}

struct Log {
    stages: [StageState; Stage::ALL.len()],
    warnings: Vec<String>,
    result: Option<Result<Box<LoadedProject>, JobError>>,
    finished: bool,
}

/// State shared between the worker thread (as the pipeline's [`Observer`]) and the UI.
/// Progress counts are atomics because rayon workers call `inc` concurrently in hot loops.
#[derive(Debug)]
pub struct JobShared {
    task: TaskShared<Log>,
    current: AtomicUsize,
    totals: [AtomicU64; Stage::ALL.len()],
    dones: [AtomicU64; Stage::ALL.len()],
}

fn stage_index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0)
}

impl JobShared {
    /// `repaint` wakes the UI on stage events; `None` for synchronous callers.
    pub fn new(repaint: Option<eframe::egui::Context>) -> Self {
        let log = Log {
            stages: [StageState::Pending; Stage::ALL.len()],
            warnings: Vec::new(),
            result: None,
            finished: false,
        };
        JobShared {
            task: TaskShared::new(log, repaint),
            current: AtomicUsize::new(0),
            totals: Default::default(),
            dones: Default::default(),
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.task.log()
    }

    fn wake(&self) {
        self.task.wake();
    }

    pub fn cancel(&self) {
        self.task.cancel();
    }

    /// When the job started.
    pub fn started(&self) -> Instant {
        self.task.started
    }

    pub fn stages(&self) -> Vec<StageRow> {
        let log = self.log();
        Stage::ALL
            .iter()
            .enumerate()
            .map(|(i, &stage)| StageRow {
                stage,
                state: log.stages[i],
                done: self.dones[i].load(Ordering::Relaxed),
                total: self.totals[i].load(Ordering::Relaxed),
            })
            .collect()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.log().warnings.clone()
    }

    pub fn is_finished(&self) -> bool {
        self.log().finished
    }

    /// The outcome, once; `None` while running or after it was taken.
    pub fn take_result(&self) -> Option<Result<Box<LoadedProject>, JobError>> {
        self.log().result.take()
    }

    fn finish(&self, result: Result<Box<LoadedProject>, JobError>) {
        {
            let mut log = self.log();
            // A stage left running by a failure would otherwise count up for ever.
            for stage in log.stages.iter_mut() {
                if let StageState::Running { since } = *stage {
                    *stage = StageState::Stopped {
                        seconds: since.elapsed().as_secs_f64(),
                    };
                }
            }
            log.result = Some(result);
            log.finished = true;
        }
        self.wake();
    }
}

impl StageProgress for JobShared {
    fn set_total(&self, total: u64) {
        let i = self.current.load(Ordering::Relaxed);
        self.totals[i].store(total, Ordering::Relaxed);
    }
    fn inc(&self, n: u64) {
        let i = self.current.load(Ordering::Relaxed);
        self.dones[i].fetch_add(n, Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }
}

impl Observer for JobShared {
    fn stage_started(&self, stage: Stage) {
        let i = stage_index(stage);
        self.current.store(i, Ordering::Relaxed);
        self.log().stages[i] = StageState::Running {
            since: Instant::now(),
        };
        self.wake();
    }

    fn stage_finished(&self, stage: Stage, seconds: f64, from_checkpoint: bool) {
        let i = stage_index(stage);
        // A restored stage reports no counts; show it as complete rather than 0/0.
        if self.totals[i].load(Ordering::Relaxed) == 0 {
            self.totals[i].store(1, Ordering::Relaxed);
            self.dones[i].store(1, Ordering::Relaxed);
        }
        self.log().stages[i] = StageState::Done {
            seconds,
            from_checkpoint,
        };
        self.wake();
    }

    fn warning(&self, message: &str) {
        self.log().warnings.push(message.to_owned());
    }
}

/// Reads a project's results and prepares its map; the one way the app opens a `.bna`.
pub fn load_project(path: &Path) -> Result<LoadedProject, JobError> {
    if !path.is_file() {
        return Err(JobError::Failed(format!(
            "{}: project not found",
            path.display()
        )));
    }
    let project = Project::create_or_open(path)?;
    let data = project.read_results()?.ok_or_else(|| {
        JobError::Failed(format!(
            "{}: the project has no results yet; run an analysis into it",
            path.display()
        ))
    })?;
    let mut geometry = MapGeometry::new(&data);
    geometry.add_water(&project.basemap_water()?);
    Ok(LoadedProject {
        path: path.to_path_buf(),
        data,
        geometry,
        warnings: Vec::new(),
    })
}

/// Runs the analysis through `pipeline::run`, then opens what it wrote. The worker thread
/// and the tests call this same function.
pub fn analyse_and_load(
    req: &AnalysisRequest,
    obs: &dyn Observer,
) -> Result<LoadedProject, JobError> {
    let outcome = pipeline::run(req, obs)?;
    let mut loaded = load_project(&req.out)?;
    loaded.warnings = outcome.warnings;
    Ok(loaded)
}

/// Whether `path` already holds results written by this engine version.
fn has_current_results(path: &Path) -> bool {
    path.is_file()
        && Project::create_or_open(path)
            .ok()
            .and_then(|p| p.metadata().ok().flatten())
            .is_some_and(|m| m.engine_version == pipeline::ENGINE_VERSION)
}

/// Does the work of `kind`, reporting to `obs`.
pub fn execute(kind: &JobKind, obs: &JobShared) -> Result<LoadedProject, JobError> {
    match kind {
        JobKind::Analyse(req) => analyse_and_load(req, obs),
        JobKind::OpenOrAnalyse(req) => {
            if has_current_results(&req.out) {
                if let Ok(loaded) = load_project(&req.out) {
                    return Ok(loaded);
                }
            }
            if let Some(dir) = req.out.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    JobError::Failed(format!("{}: cannot create folder ({e})", dir.display()))
                })?;
            }
            analyse_and_load(req, obs)
        }
        JobKind::Open(path) => load_project(path),
    }
}

/// A job on its own thread.
pub struct Job {
    pub kind: JobKind,
    pub shared: Arc<JobShared>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("kind", &self.kind).finish()
    }
}

impl Job {
    /// Starts `kind` on a new thread. A `previous` job is waited for first (it should have
    /// been cancelled): a cancelled run may still delete the project it created, and must
    /// not do so under the new run.
    pub fn spawn(
        kind: JobKind,
        repaint: Option<eframe::egui::Context>,
        previous: Option<Job>,
    ) -> Job {
        let shared = Arc::new(JobShared::new(repaint));
        let worker = Arc::clone(&shared);
        let work = kind.clone();
        let previous = previous.and_then(|mut p| p.handle.take());
        let handle = std::thread::Builder::new()
            .name("bna-job".into())
            .spawn(move || {
                if let Some(p) = previous {
                    let _ = p.join();
                }
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    execute(&work, &worker)
                }))
                .unwrap_or_else(|_| {
                    Err(JobError::Failed(
                        "internal error: the analysis stopped unexpectedly".into(),
                    ))
                });
                worker.finish(result.map(Box::new));
            });
        let handle = match handle {
            Ok(h) => Some(h),
            Err(e) => {
                shared.finish(Err(JobError::Failed(format!(
                    "cannot start a background thread: {e}"
                ))));
                None
            }
        };
        Job {
            kind,
            shared,
            handle,
        }
    }

    pub fn is_analysis(&self) -> bool {
        !matches!(self.kind, JobKind::Open(_))
    }

    /// Asks the worker to stop; it finishes on its own at the pipeline's next check.
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Blocks until the worker ends (tests, and app shutdown).
    pub fn join(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
