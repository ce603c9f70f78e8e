//! `bna batch …` (AWS Batch offload) and `bna worker` (what runs in the container).

use super::out::{errln, outln};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bna_cloud::bundle::{Download, DownloadArea, DownloadSources, JobInputs};
use bna_cloud::jobs::{self, WaitEnd};
use bna_cloud::{
    self as cloud, Backend, CloudClient, CloudError, CloudSettings, ExportsTo, JobStatus,
};
use bna_engine::pipeline;
use bna_engine::store::Project;
use clap::Subcommand;

use super::AnalyzeArgs;

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// Bundle prefix: s3://BUCKET/KEY or file:///PATH (holds bundle.json).
    #[arg(long)]
    input: String,
    /// Output prefix for progress.json, result.bna and exports.
    #[arg(long)]
    output: String,
}

/// Options every command that talks to AWS takes.
#[derive(clap::Args)]
pub struct AwsArgs {
    /// AWS named profile for this command (wins over the saved one and AWS_PROFILE).
    #[arg(long)]
    profile: Option<String>,
}

#[derive(Subcommand)]
pub enum BatchCommand {
    /// Save cloud settings (outside any project; no credentials: use an AWS profile or env).
    Configure(ConfigureArgs),
    /// Upload the inputs and run the analysis on AWS Batch (or here with --local); the job
    /// is recorded in the --out project. Older active jobs of the organization are terminated.
    Submit {
        #[command(flatten)]
        analysis: AnalyzeArgs,
        #[command(flatten)]
        download: DownloadArgs,
        /// Run the same bundle → worker path on this machine (file:// locations, no AWS).
        #[arg(long)]
        local: bool,
        /// Organization for --local runs (default: the configured one, else "local").
        #[arg(long)]
        organization: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Re-attach to the project's latest job and show its state.
    Status {
        project: PathBuf,
        #[arg(long)]
        job: Option<String>,
        /// Poll until the job succeeds or fails. Exits 0 only when it succeeded, so scripts
        /// can rely on it: 2 when the worker refused the job's input (fix it and submit
        /// again), 1 when the job failed otherwise (cancelled, superseded, crashed).
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds, however slow AWS is to answer.
        #[arg(long, default_value_t = 24 * 3600)]
        timeout: u64,
        /// Seconds between polls.
        #[arg(long, default_value_t = bna_engine::params::CLOUD_POLL_SECS)]
        interval: u64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Print the job's CloudWatch log.
    Logs {
        project: PathBuf,
        #[arg(long)]
        job: Option<String>,
        /// Keep printing new lines until the job ends.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Terminate the project's latest job (refused when it has already ended).
    Cancel {
        project: PathBuf,
        #[arg(long)]
        job: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Import the job's results into the project (and its GeoJSON exports into --exports).
    Fetch {
        project: PathBuf,
        #[arg(long)]
        job: Option<String>,
        /// Folder for the GeoJSON exports, written like `bna export --format geojson`.
        #[arg(long)]
        exports: Option<PathBuf>,
        /// With --exports: replace files in the way that bna did not write (never the project).
        #[arg(long, requires = "exports")]
        force: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// Download instructions for the worker instead of uploaded files (as `bna fetch` takes
/// them); any file also given (--osm, --blocks, --jobs) is uploaded and wins.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("download_area").args(["place", "fips", "state"])))]
pub struct DownloadArgs {
    /// Let the worker download everything for a US place, e.g. "Washington, DC".
    #[arg(long, conflicts_with = "boundary")]
    place: Option<String>,
    /// Let the worker download everything for a US place by 7-digit FIPS, e.g. 1150000.
    #[arg(long, conflicts_with = "boundary")]
    fips: Option<String>,
    /// With --boundary: let the worker download census blocks, jobs (and OSM unless --osm
    /// is given) for this US state (FIPS, abbreviation or name).
    #[arg(long, requires = "boundary")]
    state: Option<String>,
    /// LODES year (default: the latest published).
    #[arg(long, requires = "download_area")]
    lodes_year: Option<u16>,
    /// TIGER/Line 2020 base URL the worker downloads from.
    #[arg(long, requires = "download_area")]
    base_url_tiger: Option<String>,
    /// LODES 8 base URL the worker downloads from.
    #[arg(long, requires = "download_area")]
    base_url_lodes: Option<String>,
    /// Overpass API interpreter URL the worker queries.
    #[arg(long, requires = "download_area")]
    base_url_overpass: Option<String>,
}

impl DownloadArgs {
    fn to_download(&self) -> Option<Download> {
        let area = match (&self.place, &self.fips, &self.state) {
            (Some(p), _, _) => DownloadArea::Place(p.clone()),
            (_, Some(f), _) => DownloadArea::Fips(f.clone()),
            (_, _, Some(_)) => DownloadArea::Boundary,
            _ => return None,
        };
        let sources = DownloadSources {
            tiger: self.base_url_tiger.clone(),
            lodes: self.base_url_lodes.clone(),
            overpass: self.base_url_overpass.clone(),
        };
        Some(Download {
            area,
            state: self.state.clone(),
            lodes_year: self.lodes_year,
            sources: (sources != DownloadSources::default()).then_some(sources),
        })
    }
}

#[derive(clap::Args)]
pub struct ConfigureArgs {
    #[arg(long)]
    region: Option<String>,
    /// AWS named profile to save (credentials stay in ~/.aws); "" clears it. Every other
    /// batch command also takes --profile for one run.
    #[arg(long)]
    profile: Option<String>,
    #[arg(long)]
    bucket: Option<String>,
    /// Key prefix inside the bucket.
    #[arg(long)]
    prefix: Option<String>,
    #[arg(long)]
    queue: Option<String>,
    #[arg(long)]
    job_definition: Option<String>,
    #[arg(long)]
    organization: Option<String>,
    #[arg(long)]
    log_group: Option<String>,
    /// S3/Batch/Logs endpoint of an emulator (e.g. moto on http://127.0.0.1:5000).
    #[arg(long)]
    endpoint_url: Option<String>,
}

pub fn worker(a: WorkerArgs) -> i32 {
    cloud::worker::run(&a.input, &a.output)
}

pub fn run(cmd: BatchCommand) -> anyhow::Result<()> {
    match cmd {
        BatchCommand::Configure(a) => configure(a),
        BatchCommand::Submit {
            analysis,
            download,
            local,
            organization,
            aws,
        } => submit(analysis, download, local, organization, aws),
        BatchCommand::Status {
            project,
            job,
            wait,
            timeout,
            interval,
            json,
            aws,
        } => {
            let poll = Poll {
                wait,
                timeout,
                interval,
                json,
            };
            status(&project, job.as_deref(), poll, aws)
        }
        BatchCommand::Logs {
            project,
            job,
            follow,
            aws,
        } => logs(&project, job.as_deref(), follow, aws),
        BatchCommand::Cancel { project, job, aws } => {
            let s = client_for(&project, job.as_deref(), aws)?.cancel(&project, job.as_deref())?;
            outln!(
                "asked AWS Batch to terminate job {} (now {}); follow it with `bna batch status {} --wait`",
                s.job_id,
                s.state,
                project.display()
            );
            Ok(())
        }
        BatchCommand::Fetch {
            project,
            job,
            exports,
            force,
            aws,
        } => {
            let exports_to = exports.as_deref().map(|dir| ExportsTo {
                dir,
                overwrite: super::overwrite(force),
            });
            let f = client_for(&project, job.as_deref(), aws)?.fetch_results(
                &project,
                job.as_deref(),
                exports_to,
            )?;
            outln!(
                "imported the results of job {} into {}",
                f.job_id,
                project.display()
            );
            for e in &f.exports {
                outln!("{}", e.display());
            }
            if let Some(s) = f
                .overall_scores
                .iter()
                .find(|r| r.score_id == "overall_score")
            {
                outln!(
                    "overall score: {}",
                    s.score_normalized
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or("–".into())
                );
            }
            Ok(())
        }
    }
}

fn configure(a: ConfigureArgs) -> anyhow::Result<()> {
    let mut s = CloudSettings::load_optional()?.unwrap_or_default();
    let set = |field: &mut String, v: Option<String>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut s.region, a.region);
    set(&mut s.bucket, a.bucket);
    set(&mut s.prefix, a.prefix);
    set(&mut s.job_queue, a.queue);
    set(&mut s.job_definition, a.job_definition);
    set(&mut s.organization, a.organization);
    set(&mut s.log_group, a.log_group);
    if a.profile.is_some() {
        s.profile = a.profile.filter(|p| !p.is_empty());
    }
    if a.endpoint_url.is_some() {
        s.endpoint_url = a.endpoint_url.filter(|p| !p.is_empty());
    }
    // Checked before saving: a bad value would otherwise surface only at the first AWS call.
    s.check_values()?;
    let path = s.save()?;
    outln!("saved {}", path.display());
    if let Err(e) = s.check_complete() {
        errln!("note: {e}");
    }
    Ok(())
}

fn submit(
    a: AnalyzeArgs,
    d: DownloadArgs,
    local: bool,
    organization: Option<String>,
    aws: AwsArgs,
) -> anyhow::Result<()> {
    // The project is checked as `bna analyze` checks it (never through a link, never over
    // a non-project), before anything is uploaded or run.
    bna_engine::store::ProjectClaim::check(&a.out)?;
    // The worker would refuse these too, but only after the upload and a queued job.
    let p = a.parameters();
    let checks = [
        p.state_fips.as_deref().map(pipeline::check_state_fips),
        p.city_fips.as_deref().map(pipeline::check_city_fips),
        p.residential_speed.map(pipeline::check_residential_speed),
    ];
    if let Some(Err(why)) = checks.into_iter().flatten().find(Result::is_err) {
        return Err(pipeline::PipelineError::Input(why).into());
    }
    let req = match d.to_download() {
        // The request's own parameters lack the method settings (`--osm-clip`).
        None => JobInputs {
            parameters: a.parameters(),
            ..JobInputs::from(&a.to_request()?)
        },
        Some(download) => JobInputs {
            boundary: a.boundary.clone(),
            osm: a.osm.clone(),
            blocks: a.blocks.clone(),
            jobs: a.jobs.clone(),
            parameters: a.parameters(),
            download: Some(download),
            out: a.out.clone(),
        },
    };
    if local {
        let org = match organization {
            Some(o) => o,
            None => CloudSettings::load_optional()?
                .map(|s| s.organization)
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| "local".into()),
        };
        let (sub, code) = cloud::submit_local(&req, &org)?;
        outln!("local job {} {}", sub.record.job_id, sub.record.state);
        if code != 0 {
            anyhow::bail!(
                "local job {} failed (exit {code}): {}",
                sub.record.job_id,
                sub.record.status_reason.unwrap_or_default()
            );
        }
        let f = CloudClient::local().fetch_results(&req.out, Some(&sub.record.job_id), None)?;
        outln!(
            "imported the results of job {} into {}",
            f.job_id,
            req.out.display()
        );
        return Ok(());
    }
    let mut settings = CloudSettings::load()?;
    if let Some(o) = organization {
        settings.organization = o;
    }
    let client = CloudClient::connect_as(settings, aws.profile)?;
    let sub = client.submit_inputs(&req)?;
    for old in &sub.superseded {
        outln!(
            "terminated older job {} ({}, {}) of organization {}: superseded by this submission",
            old.job_id,
            old.job_name,
            old.state,
            sub.record.organization
        );
    }
    outln!(
        "submitted job {} ({}); follow it with `bna batch status {} --wait`",
        sub.record.job_id,
        sub.record.job_name,
        req.out.display()
    );
    Ok(())
}

/// A client that can serve the job: local jobs need no AWS settings.
fn client_for(project: &Path, job: Option<&str>, aws: AwsArgs) -> anyhow::Result<CloudClient> {
    if !project.exists() {
        return Err(CloudError::NotFound(format!(
            "{}: no such project; check the path, or submit a job with `bna batch submit --out {}`",
            project.display(),
            project.display()
        ))
        .into());
    }
    // A project without the job is the user's mistake whatever the credentials: say so
    // before AWS is set up, so the answer does not depend on the environment.
    let p = Project::create_or_open(project)?;
    let rec = cloud::client::find_record(&p, job)?;
    drop(p);
    if rec.backend == Backend::Local {
        return Ok(CloudClient::local());
    }
    Ok(CloudClient::connect_as(
        CloudSettings::load()?,
        aws.profile,
    )?)
}

struct Poll {
    wait: bool,
    timeout: u64,
    interval: u64,
    json: bool,
}

fn status(project: &Path, job: Option<&str>, poll: Poll, aws: AwsArgs) -> anyhow::Result<()> {
    let mut client = client_for(project, job, aws)?;
    // --timeout bounds the whole wait, even a poll that AWS never answers; a limit past the
    // end of time is no limit.
    let deadline = poll
        .wait
        .then(|| Instant::now().checked_add(Duration::from_secs(poll.timeout)))
        .flatten();
    client.set_deadline(deadline);
    let timed_out = |last: Option<&JobStatus>| timeout_error(project, poll.timeout, last);
    let mut last: Option<JobStatus> = None;
    loop {
        let s = match client.poll(project, job) {
            Ok(s) => s,
            Err(_) if deadline.is_some_and(|d| Instant::now() >= d) => {
                return Err(timed_out(last.as_ref()))
            }
            Err(e) => return Err(e.into()),
        };
        if !poll.json && last.as_ref().map(|l| l.state) != Some(s.state) {
            errln!("{} {}", s.job_id, s.state);
        }
        if !poll.wait || s.state.is_terminal() {
            if poll.json {
                outln!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_status(&s);
            }
            return if poll.wait {
                wait_result(project, &s)
            } else {
                Ok(())
            };
        }
        let left = deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        });
        if left.is_zero() {
            return Err(timed_out(Some(&s)));
        }
        last = Some(s);
        std::thread::sleep(Duration::from_secs(poll.interval.max(1)).min(left));
    }
}

/// The end of `status --wait` (see `jobs::wait_end`): a failed job is an error, after its
/// status has been printed.
fn wait_result(project: &Path, s: &JobStatus) -> anyhow::Result<()> {
    let kind = s
        .progress
        .as_ref()
        .and_then(|p| p.error.as_ref())
        .map(|e| e.kind.as_str());
    let why = s.status_reason.as_deref().unwrap_or("no reason given");
    let logs = format!("see `bna batch logs {}`", project.display());
    match jobs::wait_end(s.state, s.exit_code, kind) {
        WaitEnd::Succeeded => Ok(()),
        WaitEnd::InputRefused => Err(CloudError::BadInput(format!(
            "job {} FAILED: the worker refused its input ({why}); fix the input and submit again, {logs}",
            s.job_id
        ))
        .into()),
        WaitEnd::Failed => Err(anyhow::anyhow!("job {} FAILED ({why}); {logs}", s.job_id)),
    }
}

fn timeout_error(project: &Path, timeout: u64, last: Option<&JobStatus>) -> anyhow::Error {
    match last {
        Some(s) => anyhow::anyhow!(
            "job {} still {} after {timeout} s (--timeout); check again with `bna batch status {}`",
            s.job_id,
            s.state,
            project.display()
        ),
        None => anyhow::anyhow!(
            "no answer from AWS about the job of {} within {timeout} s (--timeout); check the network and the endpoint_url setting, then try again",
            project.display()
        ),
    }
}

fn print_status(s: &JobStatus) {
    outln!("job {} ({}): {}", s.job_id, s.job_name, s.state);
    let fmt_time = |ms: i64| {
        let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
        humantime::format_rfc3339_seconds(t).to_string()
    };
    let tl: Vec<String> = s
        .timeline
        .iter()
        .map(|e| format!("{} {}", e.state, fmt_time(e.at_ms)))
        .collect();
    outln!("  timeline: {}", tl.join(" → "));
    if let Some(r) = &s.status_reason {
        outln!("  reason: {r}");
    }
    if let Some(c) = s.exit_code {
        outln!("  exit code: {c}");
    }
    if let Some(by) = &s.superseded_by {
        outln!("  superseded by job {by}");
    }
    if let Some(p) = &s.progress {
        if let Some(st) = p.stages.last() {
            outln!(
                "  worker: stage {} {} ({} of 8 stages started)",
                st.stage,
                p.stage_word(st),
                p.stages.len()
            );
        }
        if let Some(e) = &p.error {
            outln!("  worker error ({}): {}", e.kind, e.message);
        }
    }
    if let Some(w) = &s.runnable_warning {
        outln!("  warning: {w}");
    }
    outln!("  output: {}", s.output_uri);
}

fn logs(project: &Path, job: Option<&str>, follow: bool, aws: AwsArgs) -> anyhow::Result<()> {
    let client = client_for(project, job, aws)?;
    let mut token = None;
    let mut said_why = false;
    loop {
        let s = client.poll(project, job)?;
        let chunk = client.tail_logs(&s, token.clone())?;
        for l in &chunk.lines {
            outln!("{}", l.message);
        }
        // An empty output must not look like an empty log.
        if let Some(why) = chunk.absent.as_ref().filter(|_| !said_why) {
            errln!("note: {}", why.message(&s.job_id, s.state));
            said_why = true;
        }
        let nothing_new = chunk.lines.is_empty();
        token = chunk.next_token;
        if !follow || (s.state.is_terminal() && nothing_new) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(bna_engine::params::CLOUD_POLL_SECS));
    }
}
