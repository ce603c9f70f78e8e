//! AWS Batch offload against a moto server on 127.0.0.1 that this test binary starts (with
//! the fake Docker engine, so each job really runs the `bna worker` built here), and the
//! `--local` stand-in. The moto venv is created once under the target dir and reused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "support/aws_emulator.rs"]
mod aws_emulator;
use aws_emulator::{bna_bin, emulator, helsinki, repo, BUCKET, JOB_DEFINITION, QUEUE};

/// A scratch folder with a cloud settings file for `organization`.
struct Ctx {
    dir: tempfile::TempDir,
    config: PathBuf,
    endpoint: String,
}

impl Ctx {
    fn new(organization: &str) -> Ctx {
        let emu = emulator();
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
                "log_group": "/aws/batch/job",
                "endpoint_url": emu.endpoint,
            })
            .to_string(),
        )
        .unwrap();
        Ctx {
            dir,
            config,
            endpoint: emu.endpoint.clone(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn bna(&self, args: &[&str]) -> Output {
        Command::new(bna_bin())
            .args(args)
            .env("BNA_CLOUD_CONFIG", &self.config)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .stdin(Stdio::null())
            .output()
            .expect("run bna")
    }

    fn bna_ok(&self, args: &[&str]) -> String {
        let o = self.bna(args);
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

    fn submit(&self, boundary: &Path, osm: &Path, project: &Path) -> (String, String) {
        let out = self.bna_ok(&[
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
        ]);
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("submitted job "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no job id in {out}"))
            .to_string();
        (id, out)
    }

    fn wait(&self, project: &Path, job: &str) -> serde_json::Value {
        let out = self.bna_ok(&[
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
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

fn scores_json(ctx_bna: impl Fn(&[&str]) -> String, project: &Path) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&ctx_bna(&["scores", "--json", project.to_str().unwrap()])).unwrap();
    v["overall_scores"].clone()
}

fn local_scores(ctx: &Ctx) -> serde_json::Value {
    let (b, o) = helsinki();
    let local = ctx.path("local.bna");
    ctx.bna_ok(&[
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
    ]);
    scores_json(|a| ctx.bna_ok(a), &local)
}

#[test]
fn end_to_end_submit_run_fetch_matches_local_scores() {
    let ctx = Ctx::new("E2E Org");
    let (b, o) = helsinki();
    let project = ctx.path("cloud.bna");
    let (job, _) = ctx.submit(&b, &o, &project);

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

    // The worker's own log lines, through CloudWatch Logs.
    let logs = ctx.bna_ok(&["batch", "logs", project.to_str().unwrap()]);
    assert!(
        logs.contains("bna worker: stage connectivity finished"),
        "{logs}"
    );

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
    assert_eq!(cloud, local_scores(&ctx), "cloud and local scores differ");
    let _ = &ctx.endpoint;
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

    // Stop the remaining workers (TerminateJob via `bna batch cancel`).
    for (c, p) in [(&ctx, &project), (&other, &other_project)] {
        c.bna_ok(&["batch", "cancel", p.to_str().unwrap()]);
    }
    let st = other.wait(&other_project, &bystander);
    assert_eq!(st["state"], "FAILED");
    assert!(st["status_reason"]
        .as_str()
        .is_some_and(|r| r.contains("cancelled by the user")));
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
    ctx.bna_ok(&["batch", "cancel", project.to_str().unwrap()]);
    let st = ctx.wait(&project, &job);
    assert_eq!(st["state"], "FAILED", "{st:#}");
}

#[test]
fn local_stand_in_runs_the_worker_path_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Ctx {
        config: dir.path().join("no-cloud.json"),
        endpoint: String::new(),
        dir,
    };
    let (b, o) = helsinki();
    let project = ctx.path("local-job.bna");
    let out = ctx.bna_ok(&[
        "batch",
        "submit",
        "--local",
        "--organization",
        "Local Org",
        "--boundary",
        b.to_str().unwrap(),
        "--osm",
        o.to_str().unwrap(),
        "--population",
        "synthetic",
        "--out",
        project.to_str().unwrap(),
    ]);
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
