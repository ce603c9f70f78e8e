//! Submit, re-attach, follow and fetch: the operations the CLI and the app call. Every call
//! blocks (the client owns its own runtime); the app runs them on a background thread.

use std::path::{Path, PathBuf};

use aws_sdk_batch::types::JobStatus as BatchStatus;
use serde::{Deserialize, Serialize};

use super::aws::{download_location, read_location, remove_location, Aws, AwsOptions};
use super::aws_error::NamedProfile;
use super::bundle;
use super::bundle::JobInputs;
use super::jobs::{self, JobState, TimelineEntry};
pub use super::logs::LogLine;
use super::logs::{self, LogAbsence};
use super::record::{self, Backend, JobRecord};
use super::settings::{settings_path, CloudSettings};
use super::uri::{file_uri, Location};
use super::worker::{self, Progress, RunState, PROGRESS_FILE, RESULT_FILE};
use super::CloudError;
use bna_engine::model::ScoreRow;
use bna_engine::pipeline::AnalysisRequest;
use bna_engine::store::{self, ExportFormat, Overwrite, Project};

/// A job the new submission terminated (one active job per organization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupersededJob {
    pub job_id: String,
    pub job_name: String,
    pub state: JobState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub record: JobRecord,
    pub superseded: Vec<SupersededJob>,
}

/// What a poll learned; the record in the project is updated to match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub job_id: String,
    pub job_name: String,
    pub backend: Backend,
    pub state: JobState,
    /// Batch's reason (terminate/cancel reason, "Essential container in task exited", a
    /// blocked-queue reason while RUNNABLE).
    pub status_reason: Option<String>,
    pub exit_code: Option<i32>,
    pub log_stream: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    pub runnable_warning: Option<String>,
    pub superseded_by: Option<String>,
    pub output_uri: String,
    /// The worker's own `progress.json` (stages, errors, scores), once it has written one.
    pub progress: Option<Progress>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogChunk {
    pub lines: Vec<LogLine>,
    /// Pass back to get only newer lines; unchanged when there is nothing new.
    pub next_token: Option<String>,
    /// Why there are no lines, when the log itself is missing (not just quiet).
    #[serde(default)]
    pub absent: Option<LogAbsence>,
}

/// Where `fetch_results` writes the GeoJSON exports, and whether files bna did not write may
/// be replaced there (`--force`), as `bna export` does.
#[derive(Debug, Clone, Copy)]
pub struct ExportsTo<'a> {
    pub dir: &'a Path,
    pub overwrite: Overwrite,
}

/// Refuses an `--exports` path that is not a folder (a file, the project itself) before
/// anything is downloaded: `bna export` refuses the same, and the staging folder the export
/// is written in could not be made inside it.
fn check_exports_dir(dir: &Path) -> Result<(), CloudError> {
    let not_folder = std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) && !dir.is_dir();
    if not_folder {
        return Err(CloudError::BadInput(format!(
            "{}: --exports is not a folder; give a folder for the exports (it is created when missing)",
            dir.display()
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fetched {
    pub job_id: String,
    pub overall_scores: Vec<ScoreRow>,
    pub exports: Vec<PathBuf>,
}

/// AWS access built from the cloud settings; `local()` for projects whose jobs ran here.
pub struct CloudClient {
    settings: Option<CloudSettings>,
    aws: Option<Aws>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn open_project(path: &Path) -> Result<Project, CloudError> {
    Ok(Project::create_or_open(path)?)
}

/// The project of a job that was submitted: never created here, so a mistyped path is
/// reported instead of becoming an empty project.
fn open_existing_project(path: &Path) -> Result<Project, CloudError> {
    if !path.exists() {
        return Err(CloudError::NotFound(format!(
            "{}: no such project; check the path, or submit a job with `bna batch submit --out {}`",
            path.display(),
            path.display()
        )));
    }
    open_project(path)
}

impl CloudClient {
    pub fn connect(settings: CloudSettings) -> Result<CloudClient, CloudError> {
        Self::connect_as(settings, None)
    }

    /// `connect` with an AWS profile (the `--profile` option) that wins over the settings'.
    pub fn connect_as(
        settings: CloudSettings,
        profile: Option<String>,
    ) -> Result<CloudClient, CloudError> {
        settings.check_complete()?;
        let named = |name: String, origin: String| NamedProfile { name, origin };
        let profile = match profile.filter(|p| !p.is_empty()) {
            Some(p) => Some(named(p, "--profile".into())),
            None => settings.profile.clone().filter(|p| !p.is_empty()).map(|p| {
                let file = settings_path()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|_| "the cloud settings".into());
                named(p, format!("the profile setting in {file}"))
            }),
        };
        let aws = Aws::connect(&AwsOptions {
            region: Some(settings.region.clone()),
            profile,
            endpoint_url: settings.endpoint_url.clone(),
        })?;
        Ok(CloudClient {
            settings: Some(settings),
            aws: Some(aws),
        })
    }

    /// Every AWS call gives up at `deadline` (None: only the per-call limits apply).
    pub fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
        if let Some(aws) = &mut self.aws {
            aws.set_deadline(deadline);
        }
    }

    /// For local jobs only: any AWS operation fails with a `Config` error.
    pub fn local() -> CloudClient {
        CloudClient {
            settings: None,
            aws: None,
        }
    }

    pub fn settings(&self) -> Option<&CloudSettings> {
        self.settings.as_ref()
    }

    fn aws(&self) -> Result<(&Aws, &CloudSettings), CloudError> {
        match (&self.aws, &self.settings) {
            (Some(a), Some(s)) => Ok((a, s)),
            _ => Err(CloudError::Config(
                "this needs AWS: configure it with `bna batch configure`".into(),
            )),
        }
    }

    /// Uploads the bundle for `req` (its `out` is the project), submits the job, terminates
    /// the organization's older active jobs, and records the job in the project.
    pub fn submit(&self, req: &AnalysisRequest) -> Result<Submitted, CloudError> {
        self.submit_inputs(&JobInputs::from(req))
    }

    /// `submit` for any job inputs, e.g. download instructions instead of files.
    pub fn submit_inputs(&self, req: &JobInputs) -> Result<Submitted, CloudError> {
        let (aws, s) = self.aws()?;
        let slug = jobs::org_slug(&s.organization).ok_or_else(|| {
            CloudError::Config(format!(
                "organization {:?} has no letters or digits; set another with `bna batch configure --organization`",
                s.organization
            ))
        })?;
        let prepared = bundle::prepare(req, &s.organization)?;
        let created = !req.out.exists();
        let project = open_project(&req.out)?;
        let submitted_ms = now_ms();
        let name = jobs::job_name(&slug, submitted_ms);
        let base = Location::S3 {
            bucket: s.bucket.clone(),
            key: format!("{}/{slug}/{name}", s.prefix.trim_matches('/')),
        };
        let (input, output) = (base.join("input"), base.join("output"));
        let job_id = match self.upload_and_submit(&prepared, &name, &base) {
            Ok(id) => id,
            Err(e) => {
                // A project this submission created would hold nothing.
                drop(project);
                if created {
                    let _ = std::fs::remove_file(&req.out);
                }
                return Err(e);
            }
        };
        let mut rec = JobRecord {
            job_id: job_id.clone(),
            backend: Backend::Aws,
            organization: s.organization.clone(),
            job_name: name.clone(),
            region: Some(s.region.clone()),
            job_queue: Some(s.job_queue.clone()),
            submitted_at: now_rfc3339(),
            input_uri: input.uri(),
            output_uri: output.uri(),
            state: JobState::Submitted,
            status_reason: None,
            exit_code: None,
            timeline: Vec::new(),
            superseded_by: None,
            fetched_at: None,
        };
        jobs::observe(&mut rec.timeline, JobState::Submitted, submitted_ms);
        // Record before superseding, so the new job is never lost if that step fails.
        record::save(&project, &rec)?;

        let reason = format!(
            "superseded by job {job_id} ({name}): a newer analysis for organization {}",
            s.organization
        );
        let mut superseded = Vec::new();
        for old in org_active_jobs(aws, &s.job_queue, &slug)? {
            let SupersededJob {
                job_id: old_id,
                job_name: old_name,
                state,
            } = old;
            if old_id == job_id {
                continue;
            }
            aws.call(
                &format!("TerminateJob {old_id}"),
                aws.batch
                    .terminate_job()
                    .job_id(&old_id)
                    .reason(&reason)
                    .send(),
            )?;
            if let Some(mut old) = record::find(&project, &old_id)? {
                old.superseded_by = Some(job_id.clone());
                old.status_reason = Some(reason.clone());
                record::save(&project, &old)?;
            }
            superseded.push(SupersededJob {
                job_id: old_id,
                job_name: old_name,
                state,
            });
        }
        rec = record::find(&project, &job_id)?.unwrap_or(rec);
        Ok(Submitted {
            record: rec,
            superseded,
        })
    }

    /// Uploads the bundle under `base`/input and submits the job; returns its id. Nothing
    /// is recorded until Batch accepts the job, so on failure the uploads are removed rather
    /// than left behind, unaccounted for.
    fn upload_and_submit(
        &self,
        prepared: &bundle::PreparedBundle,
        name: &str,
        base: &Location,
    ) -> Result<String, CloudError> {
        let (aws, s) = self.aws()?;
        let (input, output) = (base.join("input"), base.join("output"));
        if let Err(e) = bundle::upload(Some(aws), prepared, &input) {
            // Unreachable AWS would not answer the clean-up either; with rejected keys it
            // fails as the upload did, which says nothing new.
            if !matches!(e, CloudError::Transient(_)) {
                let _ = remove_location(Some(aws), base);
            }
            return Err(e);
        }
        let submitted = aws
            .call(
                &format!(
                    "SubmitJob to queue {} with job definition {}",
                    s.job_queue, s.job_definition
                ),
                aws.batch
                    .submit_job()
                    .job_name(name)
                    .job_queue(&s.job_queue)
                    .job_definition(&s.job_definition)
                    .parameters("input", input.uri())
                    .parameters("output", output.uri())
                    .tags("bna:organization", &s.organization)
                    .send(),
            )
            .map_err(|e| match e {
                CloudError::BadInput(_) | CloudError::NotFound(_) => e.with_suffix(
                    "; check the job_queue and job_definition settings (`bna batch configure --queue … --job-definition …`)",
                ),
                e => e,
            })
            .and_then(|out| {
                out.job_id()
                    .map(String::from)
                    .ok_or_else(|| CloudError::Transient("SubmitJob returned no job id".into()))
            });
        submitted.map_err(|e| match remove_location(Some(aws), base) {
            Ok(()) => e,
            Err(c) => e.with_suffix(&format!(
                "; its uploaded inputs under {base} could not be removed ({c})"
            )),
        })
    }

    /// The latest job of the project (or `job_id`), asked from Batch (or, for a local job,
    /// from its output folder); the project's record is updated.
    pub fn poll(&self, project_path: &Path, job_id: Option<&str>) -> Result<JobStatus, CloudError> {
        let project = open_existing_project(project_path)?;
        let mut rec = find_record(&project, job_id)?;
        let now = now_ms();
        let mut progress = self.read_progress(&rec)?;
        let mut log_stream = None;
        match rec.backend {
            Backend::Local => {}
            Backend::Aws => {
                let (aws, _) = self.aws()?;
                let out = aws.call(
                    &format!("DescribeJobs {}", rec.job_id),
                    aws.batch.describe_jobs().jobs(&rec.job_id).send(),
                )?;
                let j = out.jobs().first().ok_or_else(|| {
                    CloudError::NotFound(format!(
                        "job {} ({}) is no longer known to AWS Batch (finished jobs are kept about 7 days); its results, if any, are under {}",
                        rec.job_id, rec.job_name, rec.output_uri
                    ))
                })?;
                let state = j
                    .status()
                    .and_then(|s| JobState::parse(s.as_str()))
                    .ok_or_else(|| {
                        CloudError::Transient(format!(
                            "DescribeJobs {}: unknown status {:?}",
                            rec.job_id,
                            j.status()
                        ))
                    })?;
                let last_attempt = j.attempts().last().and_then(|a| a.container());
                rec.exit_code = j
                    .container()
                    .and_then(|c| c.exit_code())
                    .or_else(|| last_attempt.and_then(|c| c.exit_code()));
                if rec.exit_code.is_none() && state == JobState::Failed {
                    rec.exit_code = self.exit_code_from_list(&rec)?;
                }
                log_stream = j
                    .container()
                    .and_then(|c| c.log_stream_name())
                    .or_else(|| last_attempt.and_then(|c| c.log_stream_name()))
                    .map(String::from);
                if let Some(r) = j.status_reason() {
                    rec.status_reason = Some(r.to_string());
                }
                rec.state = state;
                jobs::observe(&mut rec.timeline, state, now);
            }
        }
        record::save(&project, &rec)?;
        if let Some(p) = &mut progress {
            p.settle(rec.state);
        }
        let threshold = self
            .settings
            .as_ref()
            .map(|s| s.runnable_warning_secs)
            .unwrap_or(bna_engine::params::CLOUD_RUNNABLE_WARNING_SECS);
        Ok(JobStatus {
            runnable_warning: jobs::runnable_warning(
                &rec.timeline,
                now,
                threshold,
                rec.status_reason.as_deref(),
            ),
            job_id: rec.job_id,
            job_name: rec.job_name,
            backend: rec.backend,
            state: rec.state,
            status_reason: rec.status_reason,
            exit_code: rec.exit_code,
            log_stream,
            timeline: rec.timeline,
            superseded_by: rec.superseded_by,
            output_uri: rec.output_uri,
            progress,
        })
    }

    /// DescribeJobs may omit the exit code of a failed job (moto does); ListJobs carries it.
    fn exit_code_from_list(&self, rec: &JobRecord) -> Result<Option<i32>, CloudError> {
        let (aws, s) = self.aws()?;
        let queue = rec.job_queue.clone().unwrap_or_else(|| s.job_queue.clone());
        let page = aws.call(
            &format!("ListJobs on queue {queue}"),
            aws.batch
                .list_jobs()
                .job_queue(&queue)
                .job_status(BatchStatus::Failed)
                .send(),
        )?;
        Ok(page
            .job_summary_list()
            .iter()
            .find(|j| j.job_id() == Some(rec.job_id.as_str()))
            .and_then(|j| j.container())
            .and_then(|c| c.exit_code()))
    }

    fn read_progress(&self, rec: &JobRecord) -> Result<Option<Progress>, CloudError> {
        let loc = Location::parse(&rec.output_uri)?.join(PROGRESS_FILE);
        match read_location(self.aws.as_ref(), &loc) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                // The worker writes JSON; a page of markup came from something that is not
                // S3 (a proxy, a web server at endpoint_url): the environment, not the job.
                if bytes.trim_ascii_start().starts_with(b"<") {
                    CloudError::Transient(format!(
                        "{loc}: {} did not answer like S3 (it sent a web page instead of the job's progress record); check the endpoint_url setting in {}",
                        self.settings
                            .as_ref()
                            .and_then(|s| s.endpoint_url.as_deref())
                            .unwrap_or("the S3 endpoint"),
                        settings_path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|_| "the cloud settings".into())
                    ))
                } else {
                    CloudError::BadInput(format!("{loc}: unreadable progress record: {e}"))
                }
            }),
            Err(CloudError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// CloudWatch lines of the job's log stream after `token` (from the start when None).
    /// An ended job whose stream is not in the configured log group is an error naming the
    /// setting; a job without a log yet gives no lines and says why in `absent`.
    pub fn tail_logs(
        &self,
        status: &JobStatus,
        token: Option<String>,
    ) -> Result<LogChunk, CloudError> {
        if status.backend == Backend::Local {
            return Err(CloudError::BadInput(format!(
                "job {} ran on this machine: its log went to the terminal; progress is in {}/{PROGRESS_FILE}",
                status.job_id, status.output_uri
            )));
        }
        let (aws, s) = self.aws()?;
        let absent = |found: bool| {
            logs::absence(
                status.state,
                status.log_stream.as_deref(),
                found,
                &s.log_group,
            )
            .map_err(|a| a.into_error(&status.job_id, status.state))
        };
        let Some(stream) = &status.log_stream else {
            return Ok(LogChunk {
                lines: Vec::new(),
                next_token: token,
                absent: absent(false)?,
            });
        };
        let what = format!("GetLogEvents {}/{stream}", s.log_group);
        let result = aws.call_raw(
            &what,
            aws.logs
                .get_log_events()
                .log_group_name(&s.log_group)
                .log_stream_name(stream)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send(),
        )?;
        match result {
            Ok(out) => Ok(LogChunk {
                lines: out
                    .events()
                    .iter()
                    .map(|e| LogLine {
                        timestamp_ms: e.timestamp(),
                        message: e.message().unwrap_or_default().to_string(),
                    })
                    .collect(),
                next_token: out.next_forward_token().map(String::from).or(token),
                absent: None,
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                Ok(LogChunk {
                    lines: Vec::new(),
                    next_token: token,
                    absent: absent(false)?,
                })
            }
            Err(e) => {
                // Emulators write float timestamps the SDK refuses; the answer is fine.
                let lenient = e
                    .raw_response()
                    .filter(|r| r.status().is_success())
                    .and_then(|r| r.body().bytes())
                    .and_then(logs::lenient_log_events);
                match lenient {
                    Some((lines, next)) => Ok(LogChunk {
                        lines,
                        next_token: next.or(token),
                        absent: None,
                    }),
                    None => Err(aws.error(&what, &e)),
                }
            }
        }
    }

    /// Terminates the project's latest job (or `job_id`): TerminateJob, which also stops a
    /// job that is already running (CancelJob would not). An ended job is refused.
    pub fn cancel(
        &self,
        project_path: &Path,
        job_id: Option<&str>,
    ) -> Result<JobStatus, CloudError> {
        let before = self.poll(project_path, job_id)?;
        if before.backend == Backend::Local {
            return Err(CloudError::BadInput(format!(
                "job {} ran on this machine and has finished; there is nothing to cancel",
                before.job_id
            )));
        }
        if let Some(refusal) = jobs::cancel_refusal(&before.job_id, before.state) {
            return Err(CloudError::BadInput(refusal));
        }
        let (aws, _) = self.aws()?;
        aws.call(
            &format!("TerminateJob {}", before.job_id),
            aws.batch
                .terminate_job()
                .job_id(&before.job_id)
                .reason("cancelled by the user (bna batch cancel)")
                .send(),
        )?;
        self.poll(project_path, Some(&before.job_id))
    }

    /// Imports the results of the project's latest job (or `job_id`) into the project, and
    /// copies the GeoJSON exports into `exports_dir` when given.
    pub fn fetch_results(
        &self,
        project_path: &Path,
        job_id: Option<&str>,
        exports_to: Option<ExportsTo>,
    ) -> Result<Fetched, CloudError> {
        if let Some(e) = &exports_to {
            check_exports_dir(e.dir)?;
        }
        let mut project = open_existing_project(project_path)?;
        let mut rec = find_record(&project, job_id)?;
        if let Some(newer) = &rec.superseded_by {
            return Err(CloudError::BadInput(format!(
                "job {} was superseded by job {newer}; its results are discarded, fetch the newer job",
                rec.job_id
            )));
        }
        let output = Location::parse(&rec.output_uri)?;
        match self.read_progress(&rec)? {
            Some(p) if p.state == RunState::Succeeded => {}
            Some(p) if p.state == RunState::Failed => {
                return Err(CloudError::BadInput(format!(
                    "job {} failed: {}; nothing to fetch",
                    rec.job_id,
                    p.error
                        .map(|e| e.message)
                        .unwrap_or_else(|| "no error recorded".into())
                )));
            }
            _ => {
                // The record may predate the job's end (a cancel, a killed worker): ask.
                drop(project);
                let (state, reason) = match self.poll(project_path, Some(&rec.job_id)) {
                    Ok(st) => (st.state, st.status_reason),
                    Err(_) => (rec.state, rec.status_reason.clone()),
                };
                return Err(CloudError::BadInput(jobs::nothing_to_fetch(
                    &rec.job_id,
                    state,
                    reason.as_deref(),
                    &project_path.display().to_string(),
                    &rec.output_uri,
                )));
            }
        };
        // Download next to the project so the import never crosses file systems.
        let dir = project_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".bna-fetch-")
            .tempdir_in(dir)
            .map_err(|e| CloudError::io(dir, e))?;
        let local = tmp.path().join(RESULT_FILE);
        download_location(self.aws.as_ref(), &output.join(RESULT_FILE), &local)?;
        let mut data = Project::create_or_open(&local)?
            .read_results()?
            .ok_or_else(|| {
                CloudError::BadInput(format!(
                    "{}: the job's result file holds no results",
                    output.join(RESULT_FILE)
                ))
            })?;
        // Provenance names the user's files, not the worker's scratch copies; a bundle that
        // is gone (or predates `source`) leaves the worker's names.
        let input = Location::parse(&rec.input_uri)?;
        if let Ok(b) = bundle::read(self.aws.as_ref(), &input) {
            bundle::restore_input_names(&mut data.metadata.inputs, &b.inputs);
        }
        project.write_results(&data)?;
        // Recorded before the exports: the import happened even when an export is refused.
        rec.fetched_at = Some(now_rfc3339());
        record::save(&project, &rec)?;

        // The exports are written from the imported project by the store's export, as
        // `bna export` writes them: staged and renamed into place, never through a link or
        // over a file bna did not write (unless forced), so the user's folder is safe.
        let exports = match exports_to {
            None => Vec::new(),
            Some(e) => {
                std::fs::create_dir_all(e.dir).map_err(|err| CloudError::io(e.dir, err))?;
                store::export_with(&project, ExportFormat::GeoJson, e.dir, e.overwrite).map_err(
                    |err| {
                        let suffix = format!(
                            " (the results are imported into {}; nothing was exported)",
                            project_path.display()
                        );
                        // A refused file is the user's to move (or --force); the rest is
                        // the environment's.
                        if err.is_bad_input() {
                            CloudError::BadInput(format!("{err}{suffix}"))
                        } else {
                            CloudError::Store(err).with_suffix(&suffix)
                        }
                    },
                )?
            }
        };
        Ok(Fetched {
            job_id: rec.job_id,
            overall_scores: data.overall_scores,
            exports,
        })
    }
}

/// The job `job_id` (else the latest) recorded in `project`, or `NotFound` saying how to submit.
pub fn find_record(project: &Project, job_id: Option<&str>) -> Result<JobRecord, CloudError> {
    let rec = match job_id {
        Some(id) => record::find(project, id)?,
        None => record::latest(project)?,
    };
    rec.ok_or_else(|| {
        CloudError::NotFound(format!(
            "{}: no {} recorded in this project; submit one with `bna batch submit --out {}`",
            project.path().display(),
            job_id
                .map(|j| format!("job {j}"))
                .unwrap_or_else(|| "cloud job".into()),
            project.path().display()
        ))
    })
}

/// `bna batch submit --local`: the same bundle → worker → fetch path, on this machine, with
/// file:// locations in a hidden folder next to the project. Blocks until the worker ends.
pub fn submit_local(req: &JobInputs, organization: &str) -> Result<(Submitted, i32), CloudError> {
    let slug = jobs::org_slug(organization).unwrap_or_else(|| "local".into());
    let project_path = std::path::absolute(&req.out).map_err(|e| CloudError::io(&req.out, e))?;
    let project = open_project(&project_path)?;
    let submitted_ms = now_ms();
    let name = format!("local-{}", jobs::job_name(&slug, submitted_ms));
    let stem = project_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    let base = project_path
        .parent()
        .unwrap_or(Path::new("/"))
        .join(format!(".{stem}.bna-jobs"))
        .join(&name);
    let (input, output) = (base.join("input"), base.join("output"));
    let prepared = bundle::prepare(req, organization)?;
    bundle::upload(None, &prepared, &Location::File(input.clone()))?;
    let mut rec = JobRecord {
        job_id: name.clone(),
        backend: Backend::Local,
        organization: organization.into(),
        job_name: name,
        region: None,
        job_queue: None,
        submitted_at: now_rfc3339(),
        input_uri: file_uri(&input),
        output_uri: file_uri(&output),
        state: JobState::Running,
        status_reason: None,
        exit_code: None,
        timeline: Vec::new(),
        superseded_by: None,
        fetched_at: None,
    };
    jobs::observe(&mut rec.timeline, JobState::Running, submitted_ms);
    record::save(&project, &rec)?;
    drop(project);

    let code = worker::run(&rec.input_uri, &rec.output_uri);
    let project = open_project(&project_path)?;
    rec.exit_code = Some(code);
    rec.state = if code == 0 {
        JobState::Succeeded
    } else {
        JobState::Failed
    };
    if code != 0 {
        let client = CloudClient::local();
        rec.status_reason = client
            .read_progress(&rec)
            .ok()
            .flatten()
            .and_then(|p| p.error)
            .map(|e| format!("worker {}: {}", e.kind, e.message));
    }
    jobs::observe(&mut rec.timeline, rec.state, now_ms());
    record::save(&project, &rec)?;
    Ok((
        Submitted {
            record: rec,
            superseded: Vec::new(),
        },
        code,
    ))
}

/// The organization's unfinished jobs in `queue`: what a submission terminates, and what the
/// app's confirmation lists before it does.
pub(crate) fn org_active_jobs(
    aws: &Aws,
    queue: &str,
    slug: &str,
) -> Result<Vec<SupersededJob>, CloudError> {
    let mut out = Vec::new();
    for state in JobState::ACTIVE {
        let mut token: Option<String> = None;
        loop {
            let page = aws.call(
                &format!("ListJobs on queue {queue}"),
                aws.batch
                    .list_jobs()
                    .job_queue(queue)
                    .job_status(BatchStatus::from(state.as_str()))
                    .set_next_token(token.clone())
                    .send(),
            )?;
            for j in page.job_summary_list() {
                if let (Some(id), Some(name)) = (j.job_id(), j.job_name()) {
                    if jobs::is_org_job(name, slug) {
                        out.push(SupersededJob {
                            job_id: id.into(),
                            job_name: name.into(),
                            state,
                        });
                    }
                }
            }
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}
