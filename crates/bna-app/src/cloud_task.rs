//! Following an AWS Batch job from the app: one background thread per followed job submits
//! (or re-attaches), polls every few seconds, tails the CloudWatch log, terminates on request
//! and, on success, imports the results and reads the project back. Every `cloud` call
//! blocks on the network, so none of them runs on the UI thread; the frame only reads
//! [`TaskView`] under a short lock.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use eframe::egui::Context;

use super::jobs::{load_project, LoadedProject};
use super::task::TaskShared;
use bna_cloud::worker::{Progress, RunState};
use bna_cloud::{
    record, Backend, CloudClient, CloudError, CloudSettings, JobRecord, JobState, JobStatus,
    SupersededJob, TimelineEntry,
};
use bna_engine::pipeline::{AnalysisRequest, Stage};
use bna_engine::store::{Project, StoreError};

/// Log lines kept for the panel; older ones are dropped (the whole log stays in CloudWatch).
pub const MAX_LOG_LINES: usize = 5000;

/// Log reads after the job ended, while new lines keep arriving.
const LOG_DRAIN_POLLS: usize = 3;

/// Where the followed job is, from the app's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskPhase {
    /// Reading the project's job record (re-attach).
    Checking,
    /// Uploading the bundle and calling SubmitJob.
    Submitting,
    /// Polling a job that has not finished.
    Following,
    /// The job succeeded; downloading result.bna and importing it.
    Fetching,
    /// The results are in the project and it was read back.
    Fetched,
    /// The job failed or was superseded: nothing to import.
    Ended,
    /// The project has no active job: nothing to show.
    Nothing,
    /// Submitting, polling or fetching failed for good; the message says what to fix.
    Error(String),
}

/// What the panel shows; written by the task thread, read by the frame.
#[derive(Debug)]
pub struct TaskView {
    pub project: PathBuf,
    pub phase: TaskPhase,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub status: Option<JobStatus>,
    /// "terminated the older job …" after a submission that superseded others.
    pub notice: Option<String>,
    /// The last poll failed in a way that may pass (network); polling goes on.
    pub poll_error: Option<String>,
    pub log_error: Option<String>,
    pub logs: Vec<String>,
    pub cancel_sent: bool,
    /// The project read back after the import, for the UI thread to take.
    pub loaded: Option<Box<LoadedProject>>,
}

enum Command {
    Cancel,
}

/// How the task starts.
#[derive(Debug, Clone)]
pub enum TaskStart {
    /// Upload `req`'s inputs and submit it (its `out` is the project).
    Submit {
        settings: Box<CloudSettings>,
        req: Box<AnalysisRequest>,
    },
    /// Follow the project's latest job if it has not finished; settings are read only if
    /// the job runs on AWS.
    Attach {
        project: PathBuf,
        settings_file: PathBuf,
    },
}

/// What the task thread has learnt of the job, as the UI shows it.
type Shared = TaskShared<TaskView>;

/// A followed job. Dropping it stops the thread at its next wait; the job itself goes on in
/// AWS, and reopening the project re-attaches.
pub struct CloudTask {
    shared: Arc<Shared>,
    commands: Sender<Command>,
}

impl std::fmt::Debug for CloudTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudTask").finish_non_exhaustive()
    }
}

impl CloudTask {
    pub fn spawn(start: TaskStart, interval: Duration, repaint: Option<Context>) -> CloudTask {
        let (project, phase) = match &start {
            TaskStart::Submit { req, .. } => (req.out.clone(), TaskPhase::Submitting),
            TaskStart::Attach { project, .. } => (project.clone(), TaskPhase::Checking),
        };
        let shared = Arc::new(Shared::new(
            TaskView {
                project,
                phase,
                job_id: None,
                job_name: None,
                status: None,
                notice: None,
                poll_error: None,
                log_error: None,
                logs: Vec::new(),
                cancel_sent: false,
                loaded: None,
            },
            repaint,
        ));
        let (tx, rx) = mpsc::channel();
        let worker = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("bna-cloud".into())
            .spawn(move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(start, &worker, &rx, interval)
                }));
                if outcome.is_err() {
                    worker.update(|v| {
                        v.phase = TaskPhase::Error(
                            "internal error: following the cloud job stopped unexpectedly; reopen the project to re-attach".into(),
                        )
                    });
                }
            });
        if let Err(e) = spawned {
            shared.update(|v| {
                v.phase = TaskPhase::Error(format!("cannot start a background thread: {e}"))
            });
        }
        CloudTask {
            shared,
            commands: tx,
        }
    }

    pub fn view(&self) -> MutexGuard<'_, TaskView> {
        self.shared.log()
    }

    /// Asks the thread to terminate the job (TerminateJob) at once.
    pub fn cancel(&self) {
        if self.commands.send(Command::Cancel).is_ok() {
            self.shared.log().cancel_sent = true;
        }
    }
}

fn run(start: TaskStart, shared: &Shared, rx: &Receiver<Command>, interval: Duration) {
    let error = |e: String| shared.update(|v| v.phase = TaskPhase::Error(e));
    let (client, project, job_id) = match start {
        TaskStart::Submit { settings, req } => {
            let client = match CloudClient::connect(*settings) {
                Ok(c) => c,
                Err(e) => return error(e.to_string()),
            };
            match client.submit(&req) {
                Ok(sub) => {
                    let org = sub.record.organization.clone();
                    shared.update(|v| {
                        v.job_id = Some(sub.record.job_id.clone());
                        v.job_name = Some(sub.record.job_name.clone());
                        v.notice = superseded_notice(&sub.superseded, &org);
                        v.phase = TaskPhase::Following;
                    });
                    (client, req.out, sub.record.job_id)
                }
                Err(e) => return error(format!("could not submit the job: {e}")),
            }
        }
        TaskStart::Attach {
            project,
            settings_file,
        } => {
            let rec = match active_record(&project) {
                Ok(Some(r)) => r,
                Ok(None) => return shared.update(|v| v.phase = TaskPhase::Nothing),
                Err(e) => return error(e.to_string()),
            };
            shared.update(|v| {
                v.job_id = Some(rec.job_id.clone());
                v.job_name = Some(rec.job_name.clone());
                v.phase = TaskPhase::Following;
            });
            let client = match rec.backend {
                Backend::Local => CloudClient::local(),
                Backend::Aws => match CloudSettings::load_from(&settings_file)
                    .and_then(CloudClient::connect)
                {
                    Ok(c) => c,
                    Err(e) => {
                        return error(format!(
                            "job {} is recorded as {} on AWS Batch, but the app cannot reach AWS: {e}; fix it in Cloud > Settings…, then reopen the project",
                            rec.job_id, rec.state
                        ))
                    }
                },
            };
            (client, project, rec.job_id)
        }
    };
    follow(&client, &project, &job_id, shared, rx, interval);
}

/// The project's latest job when it still needs following (not finished on the last poll)
/// or importing. Never creates a file: the project may have been deleted since it was listed.
fn active_record(project: &Path) -> Result<Option<JobRecord>, CloudError> {
    if !project.is_file() {
        return Ok(None);
    }
    let p = Project::create_or_open(project)?;
    // Asking `record` would create its table: opening a project must not write to it.
    let has_jobs: bool = p
        .connection()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bna_cloud_jobs')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| {
            CloudError::Store(StoreError::Sqlite {
                path: project.to_path_buf(),
                source: e,
            })
        })?;
    if !has_jobs {
        return Ok(None);
    }
    let Some(rec) = record::latest(&p)? else {
        return Ok(None);
    };
    if needs_following(&rec) {
        return Ok(Some(rec));
    }
    let results = p.metadata()?.map(|m| m.finished_at);
    Ok(needs_import(&rec, results.as_deref()).then_some(rec))
}

/// A job is followed again after a restart while its last known state is not terminal;
/// a superseded job is not, since its results are discarded anyway.
pub fn needs_following(rec: &JobRecord) -> bool {
    !rec.state.is_terminal() && rec.superseded_by.is_none()
}

/// A job that succeeded but was never imported (the app quit in between, or `bna batch
/// status` saw it end) is imported on reopening, unless the project holds results computed
/// after the job was submitted: those are newer than the job's inputs and must not be
/// overwritten. Unreadable times count as newer, so nothing is overwritten on a guess.
pub fn needs_import(rec: &JobRecord, results_finished_at: Option<&str>) -> bool {
    if rec.state != JobState::Succeeded || rec.fetched_at.is_some() || rec.superseded_by.is_some() {
        return false;
    }
    let Some(results) = results_finished_at else {
        return true;
    };
    match (
        humantime::parse_rfc3339_weak(results),
        humantime::parse_rfc3339_weak(&rec.submitted_at),
    ) {
        (Ok(results), Ok(submitted)) => results < submitted,
        _ => false,
    }
}

fn follow(
    client: &CloudClient,
    project: &Path,
    job_id: &str,
    shared: &Shared,
    rx: &Receiver<Command>,
    interval: Duration,
) {
    let mut token: Option<String> = None;
    loop {
        match client.poll(project, Some(job_id)) {
            Ok(st) => {
                tail(client, &st, &mut token, shared);
                let (state, superseded) = (st.state, st.superseded_by.is_some());
                shared.update(|v| {
                    v.status = Some(st.clone());
                    v.poll_error = None;
                });
                if state.is_terminal() {
                    if state == JobState::Succeeded && !superseded {
                        fetch(client, project, job_id, shared);
                    } else {
                        shared.update(|v| v.phase = TaskPhase::Ended);
                    }
                    // CloudWatch can lag the job's end by a few seconds: the last lines
                    // (often the reason of a failure) may come after the final state.
                    for _ in 0..LOG_DRAIN_POLLS {
                        if matches!(
                            rx.recv_timeout(interval),
                            Err(RecvTimeoutError::Disconnected)
                        ) || tail(client, &st, &mut token, shared) == 0
                        {
                            break;
                        }
                    }
                    return;
                }
            }
            // A job AWS no longer knows, or settings that cannot work, will not recover.
            Err(e) if e.is_bad_input() => {
                return shared.update(|v| v.phase = TaskPhase::Error(e.to_string()));
            }
            Err(e) => shared.update(|v| {
                v.poll_error = Some(format!("{e} (retrying every {} s)", interval.as_secs()))
            }),
        }
        match rx.recv_timeout(interval) {
            Ok(Command::Cancel) => {
                if let Err(e) = client.cancel(project, Some(job_id)) {
                    shared.update(|v| {
                        v.cancel_sent = false;
                        v.poll_error = Some(format!("could not terminate the job: {e}"));
                    });
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Appends the log lines after `token`; returns how many arrived.
fn tail(
    client: &CloudClient,
    st: &JobStatus,
    token: &mut Option<String>,
    shared: &Shared,
) -> usize {
    if st.backend != Backend::Aws || st.log_stream.is_none() {
        return 0;
    }
    match client.tail_logs(st, token.clone()) {
        Ok(chunk) => {
            *token = chunk.next_token;
            let lines: Vec<String> = chunk
                .lines
                .iter()
                .map(|l| log_line(l.timestamp_ms, &l.message))
                .collect();
            let n = lines.len();
            shared.update(|v| {
                push_logs(&mut v.logs, lines);
                v.log_error = None;
            });
            n
        }
        Err(e) => {
            shared.update(|v| v.log_error = Some(e.to_string()));
            0
        }
    }
}

fn fetch(client: &CloudClient, project: &Path, job_id: &str, shared: &Shared) {
    shared.update(|v| v.phase = TaskPhase::Fetching);
    let loaded = client
        .fetch_results(project, Some(job_id), None)
        .map_err(|e| format!("could not import the results of job {job_id}: {e}"))
        .and_then(|_| load_project(project).map_err(|e| e.to_string()));
    shared.update(|v| match loaded {
        Ok(p) => {
            v.loaded = Some(Box::new(p));
            v.phase = TaskPhase::Fetched;
        }
        Err(e) => v.phase = TaskPhase::Error(e),
    });
}

fn push_logs(logs: &mut Vec<String>, lines: Vec<String>) {
    logs.extend(lines);
    if logs.len() > MAX_LOG_LINES {
        logs.drain(..logs.len() - MAX_LOG_LINES);
    }
}

fn log_line(timestamp_ms: Option<i64>, message: &str) -> String {
    let message = message.trim_end();
    match timestamp_ms {
        Some(ms) => format!("{} {message}", clock(ms)),
        None => message.to_owned(),
    }
}

/// Says which older jobs of the organization the submission terminated.
pub fn superseded_notice(superseded: &[SupersededJob], organization: &str) -> Option<String> {
    if superseded.is_empty() {
        return None;
    }
    let jobs: Vec<String> = superseded
        .iter()
        .map(|j| format!("{} ({}, was {})", j.job_id, j.job_name, j.state))
        .collect();
    Some(format!(
        "Terminated the older job{} of {organization}: {}. One analysis per organization runs at a time; the older results are discarded.",
        if jobs.len() == 1 { "" } else { "s" },
        jobs.join(", ")
    ))
}

/// How a state row of the timeline is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowMark {
    /// Observed, and the job has moved on.
    Seen,
    /// The job passed it between two polls.
    Skipped,
    /// Where the job is now.
    Current,
    /// Not reached yet.
    Waiting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineRow {
    pub state: JobState,
    /// When it was (last) observed, Unix milliseconds.
    pub at_ms: Option<i64>,
    pub mark: RowMark,
}

/// The fixed SUBMITTED → … → SUCCEEDED/FAILED rows with what was observed of each; only
/// the end the job reached (or SUCCEEDED, while it runs) is listed.
pub fn timeline_rows(timeline: &[TimelineEntry], current: JobState) -> Vec<TimelineRow> {
    let last = if current == JobState::Failed {
        JobState::Failed
    } else {
        JobState::Succeeded
    };
    let states: Vec<JobState> = JobState::ACTIVE.into_iter().chain([last]).collect();
    let at = states.iter().position(|s| *s == current).unwrap_or(0);
    states
        .iter()
        .enumerate()
        .map(|(i, &state)| {
            // A retried job can go back to RUNNABLE: show the latest time.
            let at_ms = timeline
                .iter()
                .rev()
                .find(|e| e.state == state)
                .map(|e| e.at_ms);
            let mark = match i.cmp(&at) {
                std::cmp::Ordering::Equal => RowMark::Current,
                std::cmp::Ordering::Greater => RowMark::Waiting,
                std::cmp::Ordering::Less if at_ms.is_some() => RowMark::Seen,
                std::cmp::Ordering::Less => RowMark::Skipped,
            };
            TimelineRow { state, at_ms, mark }
        })
        .collect()
}

/// `HH:MM:SS UTC` of a Unix time in milliseconds.
pub fn clock(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} UTC", s.get(11..19).unwrap_or(&s))
}

/// A short duration: "45 s", "3 min 05 s", "2 h 07 min".
pub fn elapsed(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

/// The worker's own progress (from its progress.json), one line.
pub fn progress_line(p: &Progress) -> Option<String> {
    let last = p.stages.last()?;
    let n = Stage::ALL.len();
    Some(match p.state {
        RunState::Succeeded => format!("Worker finished all {} stages", p.stages.len()),
        RunState::Failed => format!(
            "Worker stopped in stage {} ({} of {n})",
            last.stage,
            p.stages.len()
        ),
        RunState::Interrupted => format!(
            "Worker was stopped in stage {} ({} of {n}) when the job ended",
            last.stage,
            p.stages.len()
        ),
        RunState::Running if last.finished => format!(
            "Worker: stage {} finished ({} of {n})",
            last.stage,
            p.stages.len()
        ),
        RunState::Running if p.total > 0 => format!(
            "Worker: stage {} running ({} of {n}), {} / {}",
            last.stage,
            p.stages.len(),
            p.done.min(p.total),
            p.total
        ),
        RunState::Running => format!(
            "Worker: stage {} running ({} of {n})",
            last.stage,
            p.stages.len()
        ),
    })
}

/// The one line shown in red for a failed job: Batch's statusReason, else the worker's error.
pub fn failure_line(st: &JobStatus) -> Option<String> {
    if st.state != JobState::Failed {
        return None;
    }
    let worker = st
        .progress
        .as_ref()
        .and_then(|p| p.error.as_ref())
        .map(|e| e.message.clone());
    let reason = st
        .status_reason
        .clone()
        .or(worker)
        .unwrap_or_else(|| "AWS Batch gave no reason; see the log below".into());
    Some(format!("FAILED: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_cloud::worker::{StageReport, WorkerError};

    fn tl(states: &[(JobState, i64)]) -> Vec<TimelineEntry> {
        states
            .iter()
            .map(|&(state, at_ms)| TimelineEntry { state, at_ms })
            .collect()
    }

    #[test]
    fn timeline_rows_mark_seen_skipped_current_waiting() {
        use JobState::*;
        use RowMark::*;
        // (observed, current, expected marks of SUBMITTED..RUNNING + end, end state)
        let cases: [(Vec<TimelineEntry>, JobState, [RowMark; 6], JobState); 5] = [
            (
                tl(&[(Submitted, 0)]),
                Submitted,
                [Current, Waiting, Waiting, Waiting, Waiting, Waiting],
                Succeeded,
            ),
            (
                tl(&[(Submitted, 0), (Runnable, 5)]),
                Runnable,
                [Seen, Skipped, Current, Waiting, Waiting, Waiting],
                Succeeded,
            ),
            (
                tl(&[(Submitted, 0), (Running, 5), (Succeeded, 9)]),
                Succeeded,
                [Seen, Skipped, Skipped, Skipped, Seen, Current],
                Succeeded,
            ),
            (
                tl(&[(Submitted, 0), (Failed, 9)]),
                Failed,
                [Seen, Skipped, Skipped, Skipped, Skipped, Current],
                Failed,
            ),
            // A retried attempt goes back to RUNNABLE: the later time is shown.
            (
                tl(&[(Submitted, 0), (Runnable, 1), (Running, 2), (Runnable, 7)]),
                Runnable,
                [Seen, Skipped, Current, Waiting, Waiting, Waiting],
                Succeeded,
            ),
        ];
        for (timeline, current, marks, end) in cases {
            let rows = timeline_rows(&timeline, current);
            assert_eq!(
                rows.iter().map(|r| r.mark).collect::<Vec<_>>(),
                marks,
                "{timeline:?} at {current}"
            );
            assert_eq!(rows[5].state, end);
            assert_eq!(rows[0].state, Submitted);
        }
        let rows = timeline_rows(
            &tl(&[(Submitted, 0), (Runnable, 1), (Running, 2), (Runnable, 7)]),
            Runnable,
        );
        assert_eq!(rows[2].at_ms, Some(7));
        assert_eq!(rows[1].at_ms, None);
    }

    #[test]
    fn clock_and_elapsed_formats() {
        // (ms, clock, elapsed)
        let cases = [
            (0, "00:00:00 UTC", "0 s"),
            (59_999, "00:00:59 UTC", "59 s"),
            (65_000, "00:01:05 UTC", "1 min 05 s"),
            (3_600_000 + 7 * 60_000, "01:07:00 UTC", "1 h 07 min"),
            (1_700_000_000_000, "22:13:20 UTC", "472222 h 13 min"),
        ];
        for (ms, c, e) in cases {
            assert_eq!(clock(ms), c, "{ms}");
            assert_eq!(elapsed(ms), e, "{ms}");
        }
        assert_eq!(elapsed(-5), "0 s");
    }

    fn progress(state: RunState, stages: &[(&str, bool)], done: u64, total: u64) -> Progress {
        let mut p: Progress = serde_json::from_value(serde_json::json!({
            "state": "running", "job_id": null, "attempt": null, "engine_version": "x",
            "updated_at": "t", "stages": [], "done": 0, "total": 0, "warnings": [],
            "error": null, "outputs": [], "overall_scores": []
        }))
        .expect("progress.json shape");
        p.state = state;
        p.done = done;
        p.total = total;
        p.stages = stages
            .iter()
            .map(|&(s, finished)| StageReport {
                stage: s.into(),
                finished,
                seconds: None,
                from_checkpoint: false,
            })
            .collect();
        p
    }

    #[test]
    fn progress_lines() {
        let cases = [
            (progress(RunState::Running, &[], 0, 0), None),
            (
                progress(
                    RunState::Running,
                    &[("boundary", true), ("osm", false)],
                    0,
                    0,
                ),
                Some("Worker: stage osm running (2 of 8)"),
            ),
            (
                progress(
                    RunState::Running,
                    &[("boundary", true), ("osm", true), ("blocks", false)],
                    40,
                    30,
                ),
                Some("Worker: stage blocks running (3 of 8), 30 / 30"),
            ),
            (
                progress(RunState::Running, &[("boundary", true)], 0, 0),
                Some("Worker: stage boundary finished (1 of 8)"),
            ),
            (
                progress(RunState::Failed, &[("boundary", false)], 0, 0),
                Some("Worker stopped in stage boundary (1 of 8)"),
            ),
            (
                progress(RunState::Succeeded, &[("a", true); 8], 0, 0),
                Some("Worker finished all 8 stages"),
            ),
            (
                progress(
                    RunState::Interrupted,
                    &[("boundary", true), ("osm", false)],
                    0,
                    0,
                ),
                Some("Worker was stopped in stage osm (2 of 8) when the job ended"),
            ),
        ];
        for (p, want) in cases {
            assert_eq!(progress_line(&p).as_deref(), want, "{p:?}");
        }
    }

    fn status(state: JobState, reason: Option<&str>, worker: Option<&str>) -> JobStatus {
        let mut p = progress(RunState::Failed, &[], 0, 0);
        p.error = worker.map(|m| WorkerError {
            kind: "bad_input".into(),
            message: m.into(),
            exit_code: 2,
        });
        JobStatus {
            job_id: "j".into(),
            job_name: "n".into(),
            backend: Backend::Aws,
            state,
            status_reason: reason.map(String::from),
            exit_code: None,
            log_stream: None,
            timeline: Vec::new(),
            runnable_warning: None,
            superseded_by: None,
            output_uri: "s3://b/k".into(),
            progress: Some(p),
        }
    }

    #[test]
    fn failure_line_prefers_batch_reason_then_worker_error() {
        let cases = [
            (status(JobState::Running, Some("r"), None), None),
            (
                status(
                    JobState::Failed,
                    Some("Essential container in task exited"),
                    Some("w"),
                ),
                Some("FAILED: Essential container in task exited"),
            ),
            (
                status(JobState::Failed, None, Some("boundary outside the extract")),
                Some("FAILED: boundary outside the extract"),
            ),
            (
                status(JobState::Failed, None, None),
                Some("FAILED: AWS Batch gave no reason; see the log below"),
            ),
        ];
        for (st, want) in cases {
            assert_eq!(failure_line(&st).as_deref(), want, "{st:?}");
        }
    }

    #[test]
    fn superseded_notice_names_every_terminated_job() {
        let job = |id: &str, state| SupersededJob {
            job_id: id.into(),
            job_name: format!("bna--acme--{id}"),
            state,
        };
        assert_eq!(superseded_notice(&[], "Acme"), None);
        let one = superseded_notice(&[job("a1", JobState::Running)], "Acme").expect("one");
        assert!(
            one.starts_with("Terminated the older job of Acme: a1 (bna--acme--a1, was RUNNING)."),
            "{one}"
        );
        let two = superseded_notice(
            &[job("a1", JobState::Running), job("a2", JobState::Runnable)],
            "Acme",
        )
        .expect("two");
        assert!(
            two.starts_with("Terminated the older jobs of Acme: a1"),
            "{two}"
        );
        assert!(two.contains("a2 (bna--acme--a2, was RUNNABLE)"), "{two}");
    }

    #[test]
    fn log_buffer_keeps_the_newest_lines() {
        let mut logs = Vec::new();
        push_logs(
            &mut logs,
            (0..MAX_LOG_LINES).map(|i| i.to_string()).collect(),
        );
        push_logs(&mut logs, vec!["new".into(), "newer".into()]);
        assert_eq!(logs.len(), MAX_LOG_LINES);
        assert_eq!(logs.first().map(String::as_str), Some("2"));
        assert_eq!(logs.last().map(String::as_str), Some("newer"));
        assert_eq!(log_line(Some(0), "hello\n"), "00:00:00 UTC hello");
        assert_eq!(log_line(None, "hello"), "hello");
    }

    fn record(state: JobState, superseded: Option<&str>) -> JobRecord {
        JobRecord {
            job_id: "j".into(),
            backend: Backend::Aws,
            organization: "o".into(),
            job_name: "n".into(),
            region: None,
            job_queue: None,
            submitted_at: "2026-11-23T20:00:00.000Z".into(),
            input_uri: "s3://b/i".into(),
            output_uri: "s3://b/o".into(),
            state,
            status_reason: None,
            exit_code: None,
            timeline: Vec::new(),
            superseded_by: superseded.map(String::from),
            fetched_at: None,
        }
    }

    #[test]
    fn only_unfinished_unsuperseded_jobs_are_followed_again() {
        let rec = record;
        let cases = [
            (JobState::Submitted, None, true),
            (JobState::Runnable, None, true),
            (JobState::Running, None, true),
            (JobState::Running, Some("newer"), false),
            (JobState::Succeeded, None, false),
            (JobState::Failed, None, false),
        ];
        for (state, sup, want) in cases {
            assert_eq!(needs_following(&rec(state, sup)), want, "{state} {sup:?}");
        }
    }

    #[test]
    fn a_succeeded_job_is_imported_unless_newer_results_are_in_the_project() {
        // (state, superseded, fetched, results finished at, import)
        let cases = [
            (JobState::Succeeded, None, false, None, true),
            (
                JobState::Succeeded,
                None,
                false,
                Some("2026-11-23T19:59:59Z"),
                true,
            ),
            (
                JobState::Succeeded,
                None,
                false,
                Some("2026-11-23T20:00:01Z"),
                false,
            ),
            (JobState::Succeeded, None, false, Some("yesterday"), false),
            (JobState::Succeeded, None, true, None, false),
            (JobState::Succeeded, Some("newer"), false, None, false),
            (JobState::Failed, None, false, None, false),
            (JobState::Running, None, false, None, false),
        ];
        for (state, sup, fetched, results, want) in cases {
            let mut rec = record(state, sup);
            rec.fetched_at = fetched.then(|| "2026-11-23T21:00:00Z".into());
            assert_eq!(
                needs_import(&rec, results),
                want,
                "{state} {sup:?} fetched {fetched} results {results:?}"
            );
        }
    }
}
