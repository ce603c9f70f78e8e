//! `bna worker`: what runs inside the Batch container (and for `bna batch submit --local`).
//! Reads the bundle, runs `pipeline::run`, and writes to the output prefix:
//! `progress.json` (rewritten as stages start and finish), `result.bna`, and
//! `exports/geojson/*`. `progress.json` says `succeeded` only after everything else is written.
//! A bundle with a `download` section gets one more stage first, `download`: fetching the
//! inputs it does not supply.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::aws::{upload_location, write_location, Aws, AwsOptions};
use super::bundle;
use super::jobs::worker_exit_code;
use super::uri::Location;
use super::CloudError;
use bna_engine::model::ScoreRow;
use bna_engine::pipeline::{self, Observer, PipelineError, Stage};
use bna_engine::progress::StageProgress;
use bna_engine::store::{self, ExportFormat, Project};
use bna_fetch::{FetchObserver, Origin};

pub const PROGRESS_FILE: &str = "progress.json";
pub const RESULT_FILE: &str = "result.bna";
pub const EXPORTS_DIR: &str = "exports/geojson";
/// The first stage in `progress.json` of a bundle with download instructions.
pub const DOWNLOAD_STAGE: &str = "download";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    /// Never written by the worker: the job ended (killed, terminated, host lost) while
    /// its progress.json still said running.
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    pub stage: String,
    pub finished: bool,
    pub seconds: Option<f64>,
    pub from_checkpoint: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerError {
    /// "bad_input" (not retried) or "transient" (retried).
    pub kind: String,
    pub message: String,
    pub exit_code: i32,
}

/// The content of `progress.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub state: RunState,
    pub job_id: Option<String>,
    pub attempt: Option<String>,
    pub engine_version: String,
    pub updated_at: String,
    pub stages: Vec<StageReport>,
    /// Units done / total in the current stage.
    pub done: u64,
    pub total: u64,
    pub warnings: Vec<String>,
    pub error: Option<WorkerError>,
    /// Files written below the output prefix, relative names.
    pub outputs: Vec<String>,
    pub overall_scores: Vec<ScoreRow>,
}

impl Progress {
    /// A worker that was killed cannot say so: once Batch reports the job ended, a
    /// progress.json that still says running describes an interrupted run.
    pub fn settle(&mut self, job: super::jobs::JobState) {
        if job.is_terminal() && self.state == RunState::Running {
            self.state = RunState::Interrupted;
        }
    }

    /// "running", "finished" or "interrupted", for a stage of this run.
    pub fn stage_word(&self, stage: &StageReport) -> &'static str {
        match (stage.finished, self.state) {
            (true, _) => "finished",
            (false, RunState::Interrupted) => "interrupted",
            (false, RunState::Failed) => "failed",
            (false, _) => "running",
        }
    }

    fn new() -> Progress {
        Progress {
            state: RunState::Running,
            job_id: std::env::var("AWS_BATCH_JOB_ID").ok(),
            attempt: std::env::var("AWS_BATCH_JOB_ATTEMPT").ok(),
            engine_version: pipeline::ENGINE_VERSION.into(),
            updated_at: now(),
            stages: Vec::new(),
            done: 0,
            total: 0,
            warnings: Vec::new(),
            error: None,
            outputs: Vec::new(),
            overall_scores: Vec::new(),
        }
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Publishes `progress.json` on stage boundaries (not on every unit of work, which would be
/// thousands of writes) and logs each stage to stderr, which Batch sends to CloudWatch.
struct ProgressWriter<'a> {
    aws: Option<&'a Aws>,
    target: Location,
    doc: Mutex<Progress>,
    done: AtomicU64,
    total: AtomicU64,
    /// The worker's local input paths and the user's names for them, once the bundle is
    /// materialized: warnings show the user's names, not scratch paths.
    scratch: std::sync::OnceLock<Vec<(PathBuf, String)>>,
}

impl ProgressWriter<'_> {
    /// (scratch path, user's name) pairs; none before the bundle is materialized.
    fn scratch_names(&self) -> &[(PathBuf, String)] {
        self.scratch.get().map(Vec::as_slice).unwrap_or(&[])
    }

    fn publish(&self) {
        let bytes = match self.doc.lock() {
            Ok(mut d) => {
                d.updated_at = now();
                d.done = self.done.load(Ordering::Relaxed);
                d.total = self.total.load(Ordering::Relaxed);
                serde_json::to_vec_pretty(&*d).unwrap_or_default()
            }
            Err(_) => return,
        };
        // Progress is advisory: a failed write is reported, and the next stage retries it.
        if let Err(e) = write_location(self.aws, &self.target, bytes) {
            eprintln!("bna worker: warning: could not update {}: {e}", self.target);
        }
    }

    fn update(&self, f: impl FnOnce(&mut Progress)) {
        if let Ok(mut d) = self.doc.lock() {
            f(&mut d);
        }
        self.publish();
    }
}

impl StageProgress for ProgressWriter<'_> {
    fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        false
    }
}

impl ProgressWriter<'_> {
    fn begin(&self, name: &str) {
        eprintln!("bna worker: stage {name} started");
        self.done.store(0, Ordering::Relaxed);
        self.total.store(0, Ordering::Relaxed);
        self.update(|d| {
            d.stages.push(StageReport {
                stage: name.into(),
                finished: false,
                seconds: None,
                from_checkpoint: false,
            })
        });
    }

    fn end(&self, name: &str, seconds: f64, from_checkpoint: bool) {
        eprintln!("bna worker: stage {name} finished in {seconds:.2} s");
        self.update(|d| {
            if let Some(s) = d.stages.iter_mut().rev().find(|s| s.stage == name) {
                s.finished = true;
                s.seconds = Some(seconds);
                s.from_checkpoint = from_checkpoint;
            }
        });
    }
}

/// Downloads are logged (CloudWatch) and counted in bytes; `progress.json` is rewritten only
/// when a file is done, like at stage boundaries.
impl FetchObserver for ProgressWriter<'_> {
    fn started(&self, what: &str, url: &str, total: Option<u64>, offset: u64) {
        eprintln!("bna worker: downloading {what} from {url}");
        self.done.store(offset, Ordering::Relaxed);
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
    }
    fn progress(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }
    fn finished(&self, what: &str, _path: &Path, origin: Origin) {
        let how = match origin {
            Origin::Cache => "from the cache",
            Origin::Network => "downloaded",
            Origin::Given => "supplied",
        };
        eprintln!("bna worker: {what}: {how}");
        self.publish();
    }
    fn message(&self, text: &str) {
        eprintln!("bna worker: {text}");
    }
}

impl Observer for ProgressWriter<'_> {
    fn stage_started(&self, stage: Stage) {
        self.begin(stage.name());
    }

    fn stage_finished(&self, stage: Stage, seconds: f64, from_checkpoint: bool) {
        self.end(stage.name(), seconds, from_checkpoint);
    }

    fn warning(&self, message: &str) {
        let message = bundle::with_user_names(message, self.scratch_names());
        eprintln!("bna worker: warning: {message}");
        if let Ok(mut d) = self.doc.lock() {
            d.warnings.push(message);
        }
    }
}

/// Runs the worker and returns its process exit code: 0, `WORKER_EXIT_BAD_INPUT` or
/// `WORKER_EXIT_TRANSIENT`. Every failure is also written to `progress.json` when possible.
pub fn run(input: &str, output: &str) -> i32 {
    let (aws, input, output) = match connect(input, output) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bna worker: error: {e}");
            return worker_exit_code(e.is_bad_input());
        }
    };
    let outcome = execute(aws.as_ref(), &input, &output);
    match outcome {
        Ok(p) => {
            eprintln!(
                "bna worker: done; {} files written to {output}",
                p.outputs.len()
            );
            0
        }
        Err(e) => {
            let code = worker_exit_code(e.is_bad_input());
            eprintln!("bna worker: error: {e}");
            let mut doc = Progress::new();
            doc.state = RunState::Failed;
            doc.error = Some(WorkerError {
                kind: if e.is_bad_input() {
                    "bad_input"
                } else {
                    "transient"
                }
                .into(),
                message: e.to_string(),
                exit_code: code,
            });
            let bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
            if let Err(w) = write_location(aws.as_ref(), &output.join(PROGRESS_FILE), bytes) {
                eprintln!("bna worker: could not record the failure in {output}: {w}");
            }
            code
        }
    }
}

/// Parses both locations; AWS is set up only when one of them is in S3.
fn connect(input: &str, output: &str) -> Result<(Option<Aws>, Location, Location), CloudError> {
    let input = Location::parse(input)?;
    let output = Location::parse(output)?;
    let aws = match (&input, &output) {
        (Location::File(_), Location::File(_)) => None,
        _ => Some(Aws::connect(&AwsOptions::default())?),
    };
    Ok((aws, input, output))
}

fn execute(aws: Option<&Aws>, input: &Location, output: &Location) -> Result<Progress, CloudError> {
    let work = tempfile::Builder::new()
        .prefix("bna-worker-")
        .tempdir()
        .map_err(|e| CloudError::io(std::env::temp_dir(), e))?;
    let result_path = work.path().join(RESULT_FILE);
    let writer = ProgressWriter {
        aws,
        target: output.join(PROGRESS_FILE),
        doc: Mutex::new(Progress::new()),
        done: AtomicU64::new(0),
        total: AtomicU64::new(0),
        scratch: std::sync::OnceLock::new(),
    };
    writer.publish();
    eprintln!("bna worker: reading the bundle at {input}");
    let bundle = bundle::read(aws, input)?;
    let downloads = bundle.download.is_some();
    let started = std::time::Instant::now();
    if downloads {
        writer.begin(DOWNLOAD_STAGE);
    }
    let req = bundle::materialize(
        aws,
        input,
        &bundle,
        &work.path().join("in"),
        result_path.clone(),
        &writer,
    )?;
    if downloads {
        writer.end(DOWNLOAD_STAGE, started.elapsed().as_secs_f64(), false);
    }
    // Set once, here; a second set cannot happen, so its refusal is ignored.
    let _ = writer
        .scratch
        .set(bundle::scratch_paths(&req, &bundle.inputs));
    eprintln!(
        "bna worker: analysing for {} (bundle made by {})",
        bundle.organization, bundle.created_by
    );
    let outcome = pipeline::run(&req, &writer).map_err(|e| match e {
        // A cancelled worker was stopped from outside; running again is the right answer.
        PipelineError::Cancelled => CloudError::Transient("the analysis was cancelled".into()),
        // The user reads this in `bna batch status`: it must name the files they gave, not
        // the worker's scratch copies, which no longer exist anywhere they can look.
        e => {
            let message = bundle::with_user_names(&e.to_string(), writer.scratch_names());
            if e.is_bad_input() {
                CloudError::BadInput(message)
            } else {
                CloudError::Transient(message)
            }
        }
    })?;
    for w in &outcome.warnings {
        writer.warning(w);
    }

    let exports = work.path().join("exports");
    let files = {
        let project = Project::create_or_open(&result_path)?;
        store::export(&project, ExportFormat::GeoJson, &exports)?
    };
    let mut outputs = vec![RESULT_FILE.to_string()];
    upload_location(aws, &result_path, &output.join(RESULT_FILE))?;
    for f in files {
        let rel = relative(&f, &exports);
        let name = format!("{EXPORTS_DIR}/{rel}");
        upload_location(aws, &f, &output.join(&name))?;
        outputs.push(name);
    }
    let mut doc = writer
        .doc
        .lock()
        .map_err(|_| CloudError::Transient("progress state lost".into()))?
        .clone();
    doc.state = RunState::Succeeded;
    doc.updated_at = now();
    doc.outputs = outputs;
    doc.overall_scores = outcome.data.overall_scores.clone();
    // Unlike stage updates, the final record must land: it is what `fetch` trusts.
    let bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|e| CloudError::Transient(format!("progress.json: {e}")))?;
    write_location(aws, &output.join(PROGRESS_FILE), bytes)?;
    Ok(doc)
}

fn relative(f: &Path, root: &Path) -> String {
    f.strip_prefix(root)
        .unwrap_or(f)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobState;

    fn stage(name: &str, finished: bool) -> StageReport {
        StageReport {
            stage: name.into(),
            finished,
            seconds: None,
            from_checkpoint: false,
        }
    }

    #[test]
    fn an_ended_job_interrupts_a_running_worker() {
        // (worker said, Batch says, settled state, word for an unfinished stage)
        let cases = [
            (
                RunState::Running,
                JobState::Running,
                RunState::Running,
                "running",
            ),
            (
                RunState::Running,
                JobState::Failed,
                RunState::Interrupted,
                "interrupted",
            ),
            (
                RunState::Running,
                JobState::Succeeded,
                RunState::Interrupted,
                "interrupted",
            ),
            (
                RunState::Failed,
                JobState::Failed,
                RunState::Failed,
                "failed",
            ),
            (
                RunState::Succeeded,
                JobState::Succeeded,
                RunState::Succeeded,
                "running",
            ),
        ];
        for (worker, job, want, word) in cases {
            let mut p = Progress::new();
            p.state = worker;
            p.stages = vec![stage("boundary", true), stage("osm", false)];
            p.settle(job);
            assert_eq!(p.state, want, "{worker:?} {job}");
            assert_eq!(p.stage_word(&p.stages[1]), word, "{worker:?} {job}");
            assert_eq!(p.stage_word(&p.stages[0]), "finished");
        }
    }
}
