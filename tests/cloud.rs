//! AWS Batch offload against a moto server on 127.0.0.1 that this test binary starts (with
//! the fake Docker engine, so each job really runs the `bna worker` built here), and the
//! `--local` stand-in. The moto venv is created once under the target dir and reused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

#[path = "support/aws_emulator.rs"]
mod aws_emulator;
#[path = "support/fake_aws.rs"]
mod fake_aws;
use aws_emulator::{
    bna_bin, emulator, helsinki, http_get, http_put, repo, BUCKET, JOB_DEFINITION, QUEUE,
};
use bna_cloud::{record, Backend, JobRecord, JobState};
use fake_aws::{FakeAws, Request, Response};

/// A scratch folder with a cloud settings file for `organization`.
struct Ctx {
    dir: tempfile::TempDir,
    config: PathBuf,
    endpoint: String,
}

/// Environment variables that must not leak from the machine running the tests into bna.
const AWS_ENV: [&str; 8] = [
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_MAX_ATTEMPTS",
];

impl Ctx {
    /// Against the shared moto server. moto writes every Batch log to `/aws/batch/job`
    /// whatever the job definition says, so the log group is set to that.
    fn new(organization: &str) -> Ctx {
        let ctx = Ctx::at(organization, &emulator().endpoint);
        ctx.set("log_group", "/aws/batch/job".into());
        ctx
    }

    /// No cloud settings at all: for `batch submit --local`, which runs the worker here.
    fn local() -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        Ctx {
            config: dir.path().join("no-cloud.json"),
            endpoint: String::new(),
            dir,
        }
    }

    /// Settings pointing at `endpoint`, without starting the emulator.
    fn at(organization: &str, endpoint: &str) -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cloud.json");
        std::fs::write(
            &config,
            serde_json::json!({
                "region": "us-east-1",
                "bucket": BUCKET,
                "job_queue": QUEUE,
                "job_definition": JOB_DEFINITION,
                "organization": organization,
                "endpoint_url": endpoint,
            })
            .to_string(),
        )
        .unwrap();
        Ctx {
            dir,
            config,
            endpoint: endpoint.into(),
        }
    }

    /// Changes one field of the settings file.
    fn set(&self, key: &str, value: serde_json::Value) {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&self.config).unwrap()).unwrap();
        v[key] = value;
        std::fs::write(&self.config, v.to_string()).unwrap();
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bna_bin());
        for v in AWS_ENV {
            c.env_remove(v);
        }
        c.args(args)
            .env("BNA_CLOUD_CONFIG", &self.config)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        c
    }

    fn bna(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run bna")
    }

    /// A project holding one recorded AWS job, as `bna batch submit` leaves it.
    fn project_with_job(&self, name: &str, job_id: &str) -> PathBuf {
        let path = self.path(name);
        let project = bna_engine::store::Project::create_or_open(&path).unwrap();
        let base = format!("s3://{BUCKET}/bna/test/bna--test--1");
        record::save(
            &project,
            &JobRecord {
                job_id: job_id.into(),
                backend: Backend::Aws,
                organization: "Test".into(),
                job_name: "bna--test--1".into(),
                region: Some("us-east-1".into()),
                job_queue: Some(QUEUE.into()),
                submitted_at: "2026-01-01T00:00:00Z".into(),
                input_uri: format!("{base}/input"),
                output_uri: format!("{base}/output"),
                state: JobState::Running,
                status_reason: None,
                exit_code: None,
                timeline: Vec::new(),
                superseded_by: None,
                fetched_at: None,
            },
        )
        .unwrap();
        path
    }

    fn bna_ok(&self, args: &[&str]) -> String {
        succeeded(args, self.bna(args))
    }

    /// `bna batch submit --local` of the Helsinki centre with a synthetic population into
    /// `project`, with more arguments.
    fn submit_local(&self, project: &Path, extra: &[&str]) -> Output {
        let args = local_submit_args(project, extra);
        self.bna(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn submit_local_ok(&self, project: &Path, extra: &[&str]) -> String {
        let args = local_submit_args(project, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        succeeded(&args, self.bna(&args))
    }

    fn submit(&self, boundary: &Path, osm: &Path, project: &Path) -> (String, String) {
        self.submit_with(boundary, osm, project, &[])
    }

    /// `submit` with more `bna batch submit` arguments (`--jobs …`).
    fn submit_with(
        &self,
        boundary: &Path,
        osm: &Path,
        project: &Path,
        extra: &[&str],
    ) -> (String, String) {
        let mut args = vec![
            "batch",
            "submit",
            "--boundary",
            boundary.to_str().unwrap(),
            "--osm",
            osm.to_str().unwrap(),
            "--population",
            "synthetic",
            "--out",
            project.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = self.bna_ok(&args);
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("submitted job "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no job id in {out}"))
            .to_string();
        (id, out)
    }

    /// `status --wait --json`; its exit code follows the job: 0 succeeded, 2 the worker
    /// refused the input, 1 any other failure.
    fn wait(&self, project: &Path, job: &str) -> serde_json::Value {
        let o = self.bna(&[
            "batch",
            "status",
            project.to_str().unwrap(),
            "--job",
            job,
            "--wait",
            "--interval",
            "1",
            "--timeout",
            "240",
            "--json",
        ]);
        let out = String::from_utf8_lossy(&o.stdout);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let want = match (v["state"].as_str(), v["progress"]["error"]["kind"].as_str()) {
            (Some("SUCCEEDED"), _) => 0,
            (_, Some("bad_input")) => 2,
            _ if v["exit_code"] == 2 => 2,
            _ => 1,
        };
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(want), "{v:#}\n{e}");
        if want != 0 {
            assert!(e.contains(&format!("error: job {job} FAILED")), "{e}");
        }
        v
    }
}

/// The arguments of `bna batch submit --local` for the Helsinki centre, synthetic population.
fn local_submit_args(project: &Path, extra: &[&str]) -> Vec<String> {
    let (b, o) = helsinki();
    let mut args: Vec<String> = ["batch", "submit", "--local", "--boundary"]
        .map(String::from)
        .into();
    args.push(b.display().to_string());
    args.extend(["--osm".into(), o.display().to_string()]);
    args.extend(["--population", "synthetic", "--out"].map(String::from));
    args.push(project.display().to_string());
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// The stdout of a command that must have succeeded.
fn succeeded(args: &[&str], o: Output) -> String {
    assert!(
        o.status.success(),
        "bna {args:?} failed ({}):\n{}\n{}\nemulator logs in {}/moto-logs",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        env!("CARGO_TARGET_TMPDIR")
    );
    String::from_utf8(o.stdout).unwrap()
}

fn scores_json(ctx_bna: impl Fn(&[&str]) -> String, project: &Path) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&ctx_bna(&["scores", "--json", project.to_str().unwrap()])).unwrap();
    v["overall_scores"].clone()
}

fn local_scores(ctx: &Ctx) -> serde_json::Value {
    local_scores_with(ctx, &[])
}

/// The scores of `bna analyze` on Helsinki with `extra` arguments.
fn local_scores_with(ctx: &Ctx, extra: &[&str]) -> serde_json::Value {
    let (b, o) = helsinki();
    let local = ctx.path("local.bna");
    let mut args = vec![
        "analyze",
        "--quiet",
        "--boundary",
        b.to_str().unwrap(),
        "--osm",
        o.to_str().unwrap(),
        "--population",
        "synthetic",
        "--out",
        local.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ctx.bna_ok(&args);
    scores_json(|a| ctx.bna_ok(a), &local)
}

/// A census block file and a LODES file (DC's: none of their blocks is in Helsinki, which
/// the run says in jobs_source) so that a job records a jobs source.
fn jobs_args() -> (PathBuf, PathBuf) {
    (
        repo("data/us-dc/tl_2021_11_tabblock20.zip"),
        repo("data/us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz"),
    )
}

#[test]
fn end_to_end_submit_run_fetch_matches_local_scores() {
    let ctx = Ctx::new("E2E Org");
    let (b, o) = helsinki();
    let project = ctx.path("cloud.bna");
    let (blocks, jobs_file) = jobs_args();
    let extra = [
        "--blocks",
        blocks.to_str().unwrap(),
        "--jobs",
        jobs_file.to_str().unwrap(),
    ];
    let (job, _) = ctx.submit_with(&b, &o, &project, &extra);

    let st = ctx.wait(&project, &job);
    assert_eq!(st["state"], "SUCCEEDED", "{st:#}");
    let states: Vec<&str> = st["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.first(), Some(&"SUBMITTED"), "{states:?}");
    assert_eq!(states.last(), Some(&"SUCCEEDED"), "{states:?}");
    assert!(states.len() >= 3, "the poller saw the job move: {states:?}");
    assert_eq!(st["progress"]["state"], "succeeded", "{st:#}");
    assert_eq!(
        st["progress"]["stages"].as_array().unwrap().len(),
        8,
        "{st:#}"
    );

    // The worker's own log lines, through CloudWatch Logs (moto's float timestamps and all).
    let logs = ctx.bna_ok(&["batch", "logs", project.to_str().unwrap()]);
    assert!(
        logs.contains("bna worker: stage connectivity finished"),
        "{logs}"
    );
    // A log group that is not the job's: said, not an empty success.
    ctx.set("log_group", "/aws/batch/bna".into());
    let wrong_group = ctx.bna(&["batch", "logs", project.to_str().unwrap()]);
    let e = one_line_error(&wrong_group, 2);
    assert!(
        e.contains("/aws/batch/bna") && e.contains("--log-group"),
        "{e}"
    );
    ctx.set("log_group", "/aws/batch/job".into());

    let exports = ctx.path("exports");
    let fetched = ctx.bna_ok(&[
        "batch",
        "fetch",
        project.to_str().unwrap(),
        "--exports",
        exports.to_str().unwrap(),
    ]);
    assert!(fetched.contains("imported the results"), "{fetched}");
    assert!(
        exports.join("neighborhood_overall_scores.geojson").exists()
            || std::fs::read_dir(&exports).unwrap().count() > 3,
        "{fetched}"
    );
    let cloud = scores_json(|a| ctx.bna_ok(a), &project);
    assert!(cloud.as_array().is_some_and(|a| !a.is_empty()), "{cloud}");
    assert_eq!(
        cloud,
        local_scores_with(&ctx, &extra),
        "cloud and local scores differ"
    );

    // Provenance names the files the user gave, not the worker's scratch copies: in the
    // scores, their JSON and the run's record.
    let human = ctx.bna_ok(&["scores", project.to_str().unwrap()]);
    let meta: serde_json::Value =
        serde_json::from_str(&ctx.bna_ok(&["scores", "--json", project.to_str().unwrap()]))
            .unwrap();
    let jobs_source = meta["metadata"]["jobs_source"].as_str().unwrap_or_default();
    assert!(
        jobs_source.starts_with("dc_wac_S000_JT00_2021.csv.gz ("),
        "{meta:#}"
    );
    assert!(
        !human.contains("in-jobs") && !human.contains("jobs-dc_wac"),
        "{human}"
    );
    let conn = rusqlite::Connection::open(&project).unwrap();
    let run_source: String = conn
        .query_row("SELECT jobs_source FROM bna_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(run_source, jobs_source);
    let mut stmt = conn
        .prepare("SELECT role, path FROM bna_inputs ORDER BY role")
        .unwrap();
    let inputs: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        inputs,
        [
            ("blocks".to_string(), blocks.display().to_string()),
            ("boundary".to_string(), b.display().to_string()),
            ("jobs".to_string(), jobs_file.display().to_string()),
            ("osm".to_string(), o.display().to_string())
        ]
    );
}

#[test]
fn second_submission_terminates_the_older_job_of_the_organization() {
    let ctx = Ctx::new("Supersede Org");
    let other = Ctx::new("Supersede Org West");
    let (b, o) = helsinki();
    let project = ctx.path("p.bna");
    let (first, _) = ctx.submit(&b, &o, &project);
    // Another organization's job must survive.
    let other_project = other.path("o.bna");
    let (bystander, _) = other.submit(&b, &o, &other_project);
    let (second, out) = ctx.submit(&b, &o, &project);
    assert!(
        out.contains(&format!("terminated older job {first}")),
        "{out}"
    );
    assert!(!out.contains(&bystander), "{out}");

    let st = ctx.wait(&project, &first);
    assert_eq!(st["state"], "FAILED", "{st:#}");
    let reason = st["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("superseded") && reason.contains(&second),
        "{st:#}"
    );
    assert_eq!(st["superseded_by"], second.as_str());
    // Results of a superseded job are discarded.
    let o = ctx.bna(&["batch", "fetch", project.to_str().unwrap(), "--job", &first]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("superseded"));

    // Stop the remaining workers (TerminateJob via `bna batch cancel`). A Helsinki worker can
    // finish before the cancel arrives; then cancel is refused and the job stays a success.
    let mut bystander_cancelled = false;
    for (c, p) in [(&ctx, &project), (&other, &other_project)] {
        let o = c.bna(&["batch", "cancel", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0) => bystander_cancelled = std::ptr::eq(c, &other),
            Some(2) => assert!(err.contains("already ended (SUCCEEDED)"), "{err}"),
            _ => panic!("bna batch cancel {}: {}\n{err}", p.display(), o.status),
        }
    }
    // The bystander was never superseded: it ends cancelled by its own user, or succeeded.
    let st = other.wait(&other_project, &bystander);
    assert!(st["superseded_by"].is_null(), "{st:#}");
    if bystander_cancelled {
        assert_eq!(st["state"], "FAILED", "{st:#}");
        assert!(
            st["status_reason"]
                .as_str()
                .is_some_and(|r| r.contains("cancelled by the user")),
            "{st:#}"
        );
    } else {
        assert_eq!(st["state"], "SUCCEEDED", "{st:#}");
    }
}

#[test]
fn failed_job_shows_exit_code_and_worker_error() {
    let ctx = Ctx::new("Failing Org");
    // A Helsinki boundary with a Washington DC extract: bad input, exit 2, never retried.
    let (b, _) = helsinki();
    let dc_osm = repo("data/us-dc/dc-nw-2016-highways.osm.pbf");
    let project = ctx.path("bad.bna");
    let (job, _) = ctx.submit(&b, &dc_osm, &project);
    let st = ctx.wait(&project, &job);
    assert_eq!(st["state"], "FAILED", "{st:#}");
    assert_eq!(st["exit_code"], 2, "{st:#}");
    assert_eq!(st["progress"]["error"]["kind"], "bad_input", "{st:#}");
    let human = ctx.bna_ok(&["batch", "status", project.to_str().unwrap()]);
    assert!(
        human.contains("FAILED") && human.contains("exit code: 2"),
        "{human}"
    );
    assert!(human.contains("outside the OSM extract"), "{human}");
    // The message names the files the user gave, not the worker's scratch copies.
    let message = st["progress"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains(&dc_osm.display().to_string())
            || message.contains(&b.display().to_string()),
        "{message}"
    );
    assert!(
        !message.contains("/in/"),
        "a scratch path leaked: {message}"
    );
}

#[test]
fn a_fresh_process_reattaches_from_the_project_record() {
    let ctx = Ctx::new("Reattach Org");
    let (b, o) = helsinki();
    let project = ctx.path("r.bna");
    let (job, _) = ctx.submit(&b, &o, &project);
    // The record is in the .bna itself.
    let conn = rusqlite::Connection::open(&project).unwrap();
    let (id, org, output): (String, String, String) = conn
        .query_row(
            "SELECT job_id, organization, output_uri FROM bna_cloud_jobs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    drop(conn);
    assert_eq!((id.as_str(), org.as_str()), (job.as_str(), "Reattach Org"));
    assert!(output.starts_with(&format!("s3://{BUCKET}/")), "{output}");

    // No --job: the status command finds the job from the project alone.
    let st: serde_json::Value = serde_json::from_str(&ctx.bna_ok(&[
        "batch",
        "status",
        project.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(st["job_id"], job.as_str());
    assert!(!st["timeline"].as_array().unwrap().is_empty());
    let p = project.to_str().unwrap();
    let out = ctx.bna_ok(&["batch", "cancel", p]);
    assert!(
        out.contains(&format!("asked AWS Batch to terminate job {job}")),
        "{out}"
    );
    let st = ctx.wait(&project, &job);
    assert_eq!(st["state"], "FAILED", "{st:#}");

    // What an ended job allows, each said in one line with exit 2.
    let cases = [
        (
            vec!["batch", "fetch", p],
            "ended without results (FAILED: cancelled by the user",
        ),
        (
            vec!["batch", "cancel", p],
            "has already ended (FAILED); there is nothing to cancel",
        ),
    ];
    for (args, needle) in cases {
        let e = one_line_error(&ctx.bna(&args), 2);
        assert!(
            e.contains(needle) && !e.contains("has not finished"),
            "{args:?}: {e}"
        );
    }
    // A killed worker's unfinished stage is not "running".
    let human = ctx.bna_ok(&["batch", "status", p]);
    assert!(!human.contains(" running ("), "{human}");
    assert_ne!(st["progress"]["state"], "running", "{st:#}");
}

#[test]
fn local_stand_in_runs_the_worker_path_without_aws() {
    let ctx = Ctx::local();
    let project = ctx.path("local-job.bna");
    let out = ctx.submit_local_ok(&project, &["--organization", "Local Org"]);
    assert!(out.contains("SUCCEEDED"), "{out}");
    let st: serde_json::Value = serde_json::from_str(&ctx.bna_ok(&[
        "batch",
        "status",
        project.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(st["backend"], "local");
    assert_eq!(st["progress"]["state"], "succeeded");
    assert!(st["output_uri"].as_str().unwrap().starts_with("file:///"));
    assert_eq!(scores_json(|a| ctx.bna_ok(a), &project), local_scores(&ctx));
}

/// The one line of a failed command: exit `code`, "error: …" on stderr, short, and none of
/// the SDK's debug text.
fn one_line_error(o: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        lines.iter().filter(|l| l.starts_with("error:")).count() == 1 && last.starts_with("error:"),
        "not one error line:\n{err}"
    );
    assert!(last.len() < 450, "{} bytes: {last}", last.len());
    for dump in [
        "DispatchFailure",
        "ServiceError",
        "HTTP/1.1",
        "x-amz",
        "ProfileFile",
        "source:",
        "{ ",
    ] {
        assert!(!last.contains(dump), "debug text {dump:?} in: {last}");
    }
    last.to_string()
}

/// Runs `cmd`, killing it (and failing) if it is still running after `limit`: a test of
/// hangs must not hang itself.
fn output_within(cmd: &mut Command, limit: Duration) -> Result<Output, String> {
    let t0 = std::time::Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still ran after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(child.wait_with_output().unwrap())
}

fn s3_missing(_: &Request) -> Option<Response> {
    Some(Response::s3_error(
        404,
        "NoSuchKey",
        "The specified key does not exist.",
    ))
}

#[test]
fn a_silent_endpoint_cannot_hang_any_batch_command() {
    // Accepts every connection, reads the request, never answers.
    let fake = FakeAws::start(|_| None);
    let ctx = Ctx::at("Silent Org", &fake.endpoint);
    let project = ctx.project_with_job("silent.bna", "job-silent");
    let p = project.to_str().unwrap().to_string();
    let (b, o) = helsinki();
    let new = ctx.path("new.bna");
    // (command, most seconds it may take, what its one line says)
    let cases: Vec<(Vec<String>, u64, &str)> = vec![
        (
            vec!["batch".into(), "status".into(), p.clone()],
            100,
            "did not answer in time",
        ),
        (
            [
                "batch",
                "status",
                &p,
                "--wait",
                "--timeout",
                "10",
                "--interval",
                "1",
            ]
            .map(String::from)
            .to_vec(),
            40,
            "within 10 s (--timeout)",
        ),
        (
            [
                "batch",
                "submit",
                "--boundary",
                b.to_str().unwrap(),
                "--osm",
                o.to_str().unwrap(),
                "--population",
                "synthetic",
                "--out",
                new.to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec(),
            150,
            "did not answer in time",
        ),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(args, limit, needle)| {
            let mut cmd = ctx.command(&args.iter().map(String::as_str).collect::<Vec<_>>());
            std::thread::spawn(move || {
                let out = output_within(&mut cmd, Duration::from_secs(limit));
                (args, needle, out)
            })
        })
        .collect();
    for run in runs {
        let (args, needle, out) = run.join().unwrap();
        let out = out.unwrap_or_else(|hung| panic!("{args:?} {hung} against a silent endpoint"));
        let e = one_line_error(&out, 1);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    assert!(!fake.requests.lock().unwrap().is_empty());
}

#[test]
fn credential_problems_are_one_sentence_naming_the_fix() {
    fn rejecting_s3(code: &'static str) -> impl Fn(&Request) -> Option<Response> {
        move |_| {
            Some(Response::s3_error(
                403,
                code,
                "The request signature we calculated does not match.",
            ))
        }
    }
    fn rejecting_batch(code: &'static str) -> impl Fn(&Request) -> Option<Response> {
        move |r| match r.method.as_str() {
            "GET" => s3_missing(r),
            _ => Some(Response::json_error(
                403,
                code,
                "The security token included in the request is invalid.",
            )),
        }
    }
    let no_aws_files = [
        ("HOME", "/nonexistent-home"),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ];
    // A credentials file that is no profile file at all; kept for the whole test.
    let bad_dir = tempfile::tempdir().unwrap();
    let bad_path = bad_dir.path().join("credentials");
    std::fs::write(&bad_path, "this is not a profile file\n").unwrap();
    let bad_credentials: &'static str = Box::leak(bad_path.display().to_string().into_boxed_str());
    type Route = Box<dyn Fn(&Request) -> Option<Response> + Send + Sync>;
    struct Case {
        name: &'static str,
        command: &'static str,
        /// Environment keys are removed and AWS files hidden when false.
        keys: bool,
        extra_env: Vec<(&'static str, &'static str)>,
        settings_profile: Option<&'static str>,
        route: Route,
        needles: Vec<&'static str>,
    }
    let cases = vec![
        Case {
            name: "no credentials at all",
            command: "submit",
            keys: false,
            extra_env: vec![],
            settings_profile: None,
            route: Box::new(|_| None),
            needles: vec!["no AWS credentials found", "AWS_ACCESS_KEY_ID", "--profile"],
        },
        Case {
            name: "an access key without its secret",
            command: "status",
            keys: false,
            extra_env: vec![("AWS_ACCESS_KEY_ID", "AKIAONLY")],
            settings_profile: None,
            route: Box::new(|_| None),
            needles: vec!["AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"],
        },
        Case {
            name: "an unparsable credentials file",
            command: "status",
            keys: false,
            extra_env: vec![("AWS_SHARED_CREDENTIALS_FILE", bad_credentials)],
            settings_profile: None,
            route: Box::new(|_| None),
            needles: vec![bad_credentials, "line 1", "AWS_SHARED_CREDENTIALS_FILE"],
        },
        Case {
            name: "missing profile given with --profile",
            command: "status --profile nosuch",
            keys: false,
            extra_env: vec![],
            settings_profile: None,
            route: Box::new(|_| None),
            needles: vec![
                "AWS profile \"nosuch\" (--profile) is not defined in /nonexistent/config (AWS_CONFIG_FILE)",
                "aws configure --profile nosuch",
            ],
        },
        Case {
            name: "missing profile from the settings",
            command: "logs",
            keys: false,
            extra_env: vec![],
            settings_profile: Some("gone"),
            route: Box::new(|_| None),
            needles: vec!["AWS profile \"gone\" (the profile setting in ", "cloud.json)"],
        },
        Case {
            name: "missing profile from AWS_PROFILE",
            command: "cancel",
            keys: false,
            extra_env: vec![("AWS_PROFILE", "absent")],
            settings_profile: None,
            route: Box::new(|_| None),
            needles: vec!["AWS profile \"absent\" (AWS_PROFILE) is not defined"],
        },
        Case {
            name: "keys rejected by S3",
            command: "submit",
            keys: true,
            extra_env: vec![],
            settings_profile: None,
            route: Box::new(rejecting_s3("SignatureDoesNotMatch")),
            needles: vec![
                "AWS rejected the credentials of the AWS_ACCESS_KEY_ID environment variable (SignatureDoesNotMatch)",
            ],
        },
        Case {
            name: "keys rejected by Batch",
            command: "status",
            keys: true,
            extra_env: vec![],
            settings_profile: None,
            route: Box::new(rejecting_batch("UnrecognizedClientException")),
            needles: vec!["DescribeJobs job-1: AWS rejected the credentials", "UnrecognizedClientException"],
        },
        Case {
            name: "token rejected",
            command: "cancel --profile ignored-when-keys-are-set",
            keys: true,
            extra_env: vec![],
            settings_profile: None,
            route: Box::new(rejecting_batch("InvalidClientTokenId")),
            needles: vec!["rejected the credentials", "(InvalidClientTokenId)"],
        },
        Case {
            name: "permission missing",
            command: "fetch",
            keys: true,
            extra_env: vec![],
            settings_profile: None,
            route: Box::new(rejecting_s3("AccessDenied")),
            needles: vec!["lacks the permission for this (AccessDenied)", "README"],
        },
    ];
    let (b, o) = helsinki();
    for case in cases {
        let fake = FakeAws::start(case.route);
        let ctx = Ctx::at("Credential Org", &fake.endpoint);
        if let Some(p) = case.settings_profile {
            ctx.set("profile", p.into());
        }
        let project = ctx.project_with_job("c.bna", "job-1");
        let mut args: Vec<String> = vec!["batch".into()];
        let mut words = case.command.split_whitespace().map(String::from);
        let sub = words.next().unwrap();
        args.push(sub.clone());
        if sub == "submit" {
            for a in [
                "--boundary",
                b.to_str().unwrap(),
                "--osm",
                o.to_str().unwrap(),
            ] {
                args.push(a.into());
            }
            args.extend(["--out".into(), ctx.path("new.bna").display().to_string()]);
        } else {
            args.push(project.display().to_string());
        }
        args.extend(words);
        let mut cmd = ctx.command(&args.iter().map(String::as_str).collect::<Vec<_>>());
        if !case.keys {
            // Nothing from this machine: no keys, no profiles, no instance role.
            cmd.env_clear()
                .env("BNA_CLOUD_CONFIG", &ctx.config)
                .env("AWS_EC2_METADATA_DISABLED", "true");
            for (k, v) in no_aws_files {
                cmd.env(k, v);
            }
        }
        for (k, v) in &case.extra_env {
            cmd.env(k, v);
        }
        let t0 = std::time::Instant::now();
        let out = cmd.output().unwrap();
        let e = one_line_error(&out, 1);
        for n in &case.needles {
            assert!(e.contains(n), "{}: {n:?} missing in: {e}", case.name);
        }
        assert!(
            t0.elapsed().as_secs() < 30,
            "{}: took {:?}",
            case.name,
            t0.elapsed()
        );
    }
}

#[test]
fn logs_say_why_they_are_empty_and_read_float_timestamps() {
    fn describe(status: &str, stream: Option<&str>) -> String {
        let container = stream
            .map(|s| format!(r#","container":{{"logStreamName":"{s}"}}"#))
            .unwrap_or_default();
        format!(
            r#"{{"jobs":[{{"jobId":"job-1","jobName":"bna--test--1","jobQueue":"q","jobDefinition":"d","status":"{status}","startedAt":1700000000000{container}}}]}}"#
        )
    }
    struct Case {
        state: &'static str,
        stream: Option<&'static str>,
        /// GetLogEvents' answer (None: never asked).
        events: Option<Response>,
        stdout: &'static str,
        stderr: &'static str,
        code: i32,
    }
    let stream = Some("bna-worker/default/abc");
    let cases = [
        Case {
            state: "RUNNABLE",
            stream: None,
            events: None,
            stdout: "",
            stderr: "has no log yet: it is RUNNABLE",
            code: 0,
        },
        Case {
            state: "FAILED",
            stream: None,
            events: None,
            stdout: "",
            stderr: "before its container started, so it has no log",
            code: 0,
        },
        Case {
            state: "SUCCEEDED",
            stream,
            events: Some(Response::json_error(
                400,
                "ResourceNotFoundException",
                "The specified log stream does not exist.",
            )),
            stdout: "",
            stderr: "log group /aws/batch/bna has no stream bna-worker/default/abc",
            code: 2,
        },
        Case {
            state: "SUCCEEDED",
            stream,
            events: Some(Response::json(
                200,
                r#"{"events":[{"timestamp":1795358358367.879,"message":"bna worker: stage osm finished","ingestionTime":1795358358368.5}],"nextForwardToken":"f/1","nextBackwardToken":"b/1"}"#,
            )),
            stdout: "bna worker: stage osm finished",
            stderr: "",
            code: 0,
        },
    ];
    for Case {
        state,
        stream,
        events,
        stdout,
        stderr,
        code,
    } in cases
    {
        let answer = describe(state, stream);
        let fake =
            FakeAws::start(
                move |r| match (r.method.as_str(), r.path.as_str(), r.target()) {
                    ("GET", _, _) => s3_missing(r),
                    (_, "/v1/describejobs", _) => Some(Response::json(200, &answer)),
                    (_, "/v1/listjobs", _) => Some(Response::json(200, r#"{"jobSummaryList":[]}"#)),
                    (_, _, Some("GetLogEvents")) => events.clone(),
                    _ => Some(Response::json_error(400, "UnknownOperation", "not faked")),
                },
            );
        // The default log group: the one the shipped job definition writes to.
        let ctx = Ctx::at("Log Org", &fake.endpoint);
        let project = ctx.project_with_job("l.bna", "job-1");
        let o = ctx.bna(&["batch", "logs", project.to_str().unwrap()]);
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        );
        assert_eq!(o.status.code(), Some(code), "{state}: {out}{err}");
        assert!(
            out.contains(stdout) && (!stdout.is_empty() || out.is_empty()),
            "{state}: {out}"
        );
        assert!(err.contains(stderr), "{state}: {err}");
        if code == 2 {
            let e = one_line_error(&o, 2);
            assert!(e.contains("--log-group"), "{e}");
        }
    }
}

#[test]
fn a_failed_submission_leaves_nothing_in_the_bucket() {
    let (b, o) = helsinki();
    for (setting, wrong, org) in [
        ("job_queue", "no-such-queue", "Cleanup Queue Org"),
        (
            "job_definition",
            "no-such-definition",
            "Cleanup Definition Org",
        ),
    ] {
        let ctx = Ctx::new(org);
        ctx.set(setting, wrong.into());
        let project = ctx.path("p.bna");
        // The organization's other files, which the clean-up must leave alone.
        let slug = org.to_lowercase().replace(' ', "-");
        let control = format!("bna/{slug}/older-job/output/progress.json");
        assert!(http_put(
            &ctx.endpoint,
            &format!("/{BUCKET}/{control}"),
            "{}"
        ));
        let out = ctx.bna(&[
            "batch",
            "submit",
            "--boundary",
            b.to_str().unwrap(),
            "--osm",
            o.to_str().unwrap(),
            "--out",
            project.to_str().unwrap(),
        ]);
        let e = one_line_error(&out, 2);
        assert!(
            e.contains(wrong) && e.contains("check the job_queue and job_definition settings"),
            "{e}"
        );
        let listing = http_get(
            &ctx.endpoint,
            &format!("/{BUCKET}?list-type=2&prefix=bna/{slug}/"),
        );
        assert!(listing.contains("ListBucketResult"), "{listing}");
        let keys: Vec<&str> = listing
            .split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next())
            .collect();
        assert_eq!(keys, [control.as_str()], "{setting}: uploads left behind");
        // Nor an empty project the submission created.
        assert!(
            !project.exists(),
            "{setting}: {} left behind",
            project.display()
        );
    }
}

#[test]
fn a_missing_project_and_a_project_without_a_job_are_both_bad_input() {
    let fake = FakeAws::start(|_| {
        Some(Response::json_error(
            500,
            "NotExpected",
            "no call should reach AWS",
        ))
    });
    let ctx = Ctx::at("Nothing Org", &fake.endpoint);
    let empty = ctx.path("empty.bna");
    drop(bna_engine::store::Project::create_or_open(&empty).unwrap());
    let missing = ctx.path("missing.bna");
    for command in ["status", "logs", "cancel", "fetch"] {
        for (project, needle) in [
            (&missing, "no such project"),
            (&empty, "no cloud job recorded in this project"),
        ] {
            // The project is judged before credentials: the same answer without any.
            for keys in [true, false] {
                let mut cmd = ctx.command(&["batch", command, project.to_str().unwrap()]);
                if !keys {
                    cmd.env_remove("AWS_ACCESS_KEY_ID")
                        .env_remove("AWS_SECRET_ACCESS_KEY")
                        .env("HOME", "/nonexistent-home");
                }
                let e = one_line_error(&cmd.output().unwrap(), 2);
                assert!(
                    e.contains(needle),
                    "{command} {} keys={keys}: {e}",
                    project.display()
                );
            }
        }
        assert!(!missing.exists(), "{command} created the missing project");
    }
    assert!(fake.requests.lock().unwrap().is_empty());
}

#[test]
fn an_endpoint_answering_web_pages_is_the_environment() {
    let fake = FakeAws::start(|_| {
        Some(Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>".into(),
        })
    });
    let ctx = Ctx::at("Html Org", &fake.endpoint);
    let project = ctx.project_with_job("h.bna", "job-1");
    let o = ctx.bna(&["batch", "status", project.to_str().unwrap()]);
    let e = one_line_error(&o, 1);
    assert!(
        e.contains("did not answer like S3") && e.contains("endpoint_url"),
        "{e}"
    );
}

#[test]
fn configure_refuses_each_malformed_setting_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cloud.json");
    // (option, value, words of the refusal)
    let cases = [
        (
            "--endpoint-url",
            "notaurl",
            "not an http:// or https:// URL",
        ),
        (
            "--endpoint-url",
            "ftp://x",
            "not an http:// or https:// URL",
        ),
        (
            "--endpoint-url",
            "http://user:pw@127.0.0.1:5000",
            "holds credentials",
        ),
        ("--region", "us east 1", "not an AWS region"),
        ("--bucket", "Bad Bucket", "not an S3 bucket name"),
        ("--organization", "a/b", "must not contain"),
        ("--organization", "../../etc", "must not contain"),
        ("--prefix", "../..", "not a key prefix"),
        ("--log-group", "", "not a log group name"),
    ];
    for (option, value, needle) in cases {
        let o = Command::new(bna_bin())
            .args(["batch", "configure", option, value])
            .env("BNA_CLOUD_CONFIG", &config)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let e = one_line_error(&o, 2);
        assert!(
            e.starts_with(&format!("error: {option}")) && e.contains(needle),
            "{option} {value:?}: {e}"
        );
        assert!(!e.contains("pw@"), "the password is printed: {e}");
        assert!(!config.exists(), "{option} {value:?} was saved");
    }
    // A valid set is saved.
    let o = Command::new(bna_bin())
        .args([
            "batch",
            "configure",
            "--region",
            "us-east-1",
            "--bucket",
            "bna-test",
            "--endpoint-url",
            "http://127.0.0.1:5000",
            "--organization",
            "City of Example",
        ])
        .env("BNA_CLOUD_CONFIG", &config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn fetched_exports_are_written_like_bna_export() {
    let ctx = Ctx::local();
    let submit = |out: &Path| ctx.submit_local(out, &[]);
    // --out is checked as `bna analyze` checks it: a link is refused, not followed.
    std::fs::write(ctx.path("target.bna"), b"").unwrap();
    let link = ctx.path("lsym.bna");
    std::os::unix::fs::symlink(ctx.path("target.bna"), &link).unwrap();
    let e = one_line_error(&submit(&link), 2);
    assert!(e.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read(ctx.path("target.bna")).unwrap(), b"");

    let project = ctx.path("m.bna");
    let out = submit(&project);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = project.to_str().unwrap();
    let fetch = |exports: &Path, force: bool| {
        let mut args = vec!["batch", "fetch", p, "--exports", exports.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        ctx.bna(&args)
    };

    // A fresh folder, then the same folder again: bna's own files are replaced.
    let fresh = ctx.path("fresh");
    for round in 0..2 {
        let o = fetch(&fresh, false);
        assert!(
            o.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(fresh.join("neighborhood_ways.geojson").is_file());
    }

    let victim = ctx.path("victim.txt");
    std::fs::write(&victim, b"victim").unwrap();
    let mine = b"my own ways" as &[u8];
    // (what is in the way, --force, exit code, words of the refusal)
    type Setup = fn(&Path, &Path);
    let own_file: Setup =
        |d, _| std::fs::write(d.join("neighborhood_ways.geojson"), b"my own ways").unwrap();
    let link_out: Setup = |d, victim| {
        std::os::unix::fs::symlink(victim, d.join("neighborhood_boundary.geojson")).unwrap()
    };
    let cases: [(&str, Setup, bool, i32, &str); 4] = [
        ("own file", own_file, false, 2, "not written by bna"),
        ("own file forced", own_file, true, 0, ""),
        ("link", link_out, false, 2, "symbolic link"),
        ("link forced", link_out, true, 2, "symbolic link"),
    ];
    for (name, setup, force, code, needle) in cases {
        let d = ctx.path(&format!("exports-{}", name.replace(' ', "-")));
        std::fs::create_dir_all(&d).unwrap();
        setup(&d, &victim);
        let o = fetch(&d, force);
        if code == 0 {
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_ne!(
                std::fs::read(d.join("neighborhood_ways.geojson")).unwrap(),
                mine
            );
        } else {
            let e = one_line_error(&o, code);
            assert!(e.contains(needle), "{name}: {e}");
            if name.starts_with("own") {
                assert_eq!(
                    std::fs::read(d.join("neighborhood_ways.geojson")).unwrap(),
                    mine
                );
            }
            // Nothing was exported: a refusal leaves the folder as it was.
            assert!(
                !d.join("neighborhood_overall_scores.geojson").exists(),
                "{name}"
            );
        }
        assert_eq!(std::fs::read(&victim).unwrap(), b"victim", "{name}");
    }

    // --exports naming a file (the project itself): refused in one sentence, exit 2.
    let before = std::fs::read(&project).unwrap();
    let e = one_line_error(&fetch(&project, false), 2);
    assert!(e.contains("--exports is not a folder"), "{e}");
    assert_eq!(std::fs::read(&project).unwrap(), before);
}

/// `--osm-clip` travels in the bundle: the worker's project records the mode asked for and
/// scores as `bna analyze` does with it.
#[test]
fn the_bundle_carries_the_osm_clip_mode_to_the_worker() {
    let ctx = Ctx::local();
    let project = ctx.path("clip-job.bna");
    let out = ctx.submit_local_ok(
        &project,
        &["--organization", "Local Org", "--osm-clip", "buffer"],
    );
    assert!(out.contains("SUCCEEDED"), "{out}");
    let meta: serde_json::Value =
        serde_json::from_str(&ctx.bna_ok(&["scores", "--json", project.to_str().unwrap()]))
            .unwrap();
    assert_eq!(
        meta["metadata"]["parameters"]["osm_clip"], "buffer",
        "{meta}"
    );
    assert_eq!(
        scores_json(|a| ctx.bna_ok(a), &project),
        local_scores_with(&ctx, &["--osm-clip", "buffer"])
    );
}
