//! AWS Batch offload against a moto server on 127.0.0.1 that this test binary starts (with
//! the fake Docker engine, so each job really runs the `bna worker` built here), and the
//! `--local` stand-in. The moto venv is created once under the target dir and reused.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const MOTO_REQUIREMENTS: [&str; 3] = [
    "moto[batch,s3,logs,iam,ec2]==5.2.5",
    "flask<4",
    "flask-cors",
];
const BUCKET: &str = "bna-test";
const QUEUE: &str = "bna-test-queue";
const JOB_DEFINITION: &str = "bna-worker-test";

/// The `bna` under test. `BNA_TEST_BIN` overrides it for machines where several checkouts
/// share one target dir and may rebuild `target/debug/bna` while these tests run.
fn bna_bin() -> PathBuf {
    std::env::var_os("BNA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bna")))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn helsinki() -> (PathBuf, PathBuf) {
    (
        repo("data/helsinki/boundary-centre.geojson"),
        repo("data/helsinki/helsinki-center.osm.pbf"),
    )
}

struct Emulator {
    endpoint: String,
    // Killed by their own parent-exit watchdog when this process ends; kept for the record.
    _children: Mutex<Vec<Child>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

fn run_checked(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A venv with moto under the target dir, created on first use (about a minute) and reused.
fn moto_venv() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("moto-venv-5.2.5");
    if venv.join(".complete").exists() {
        return venv;
    }
    let partial = venv.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let t0 = Instant::now();
    run_checked(
        Command::new("python3").args(["-m", "venv"]).arg(&partial),
        "python3 -m venv (on Debian install python3-venv; packaging/dev/test.sh does)",
    );
    run_checked(
        Command::new(partial.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check"])
            .args(MOTO_REQUIREMENTS),
        "pip install moto (needs PyPI)",
    );
    std::fs::write(partial.join(".complete"), MOTO_REQUIREMENTS.join("\n")).unwrap();
    // Another test run may have finished first; either copy is complete.
    if std::fs::rename(&partial, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    eprintln!("moto venv installed in {:.0} s", t0.elapsed().as_secs_f64());
    venv
}

fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    // moto answers its config GET with 201.
    buf.split_whitespace()
        .nth(1)
        .is_some_and(|code| code.starts_with('2'))
}

fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    let f = std::fs::File::create(log).unwrap();
    cmd.stdout(f.try_clone().unwrap())
        .stderr(f)
        .env("MOTO_EXIT_WITH_PARENT", "1")
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        let venv = moto_venv();
        let py = venv.join("bin/python");
        let scripts = repo("packaging/dev/aws-emulator");
        // One folder, overwritten by each run: the logs of the latest run.
        let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("moto-logs");
        std::fs::create_dir_all(&log_dir).unwrap();
        let (dport, mport) = (free_port(), free_port());
        let dockerd = spawn_logged(
            Command::new(&py)
                .arg(scripts.join("fake_dockerd.py"))
                .arg(dport.to_string()),
            &log_dir.join("fake_dockerd.log"),
        );
        let moto = spawn_logged(
            Command::new(&py)
                .arg(scripts.join("run_moto.py"))
                .arg(mport.to_string())
                .env("DOCKER_HOST", format!("tcp://127.0.0.1:{dport}"))
                .env("MOTO_BATCH_TRANSITION_SECS", "1"),
            &log_dir.join("moto.log"),
        );
        let t0 = Instant::now();
        while !(http_ok(mport, "/moto-api/config") && http_ok(dport, "/_ping")) {
            if t0.elapsed() > Duration::from_secs(60) {
                panic!(
                    "the AWS emulator did not start within 60 s on ports {mport}/{dport}; logs:\n{}\n{}",
                    std::fs::read_to_string(log_dir.join("moto.log")).unwrap_or_default(),
                    std::fs::read_to_string(log_dir.join("fake_dockerd.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let endpoint = format!("http://127.0.0.1:{mport}");
        run_checked(
            Command::new(&py)
                .arg(scripts.join("setup_batch.py"))
                .args([&endpoint, BUCKET, QUEUE, JOB_DEFINITION])
                .arg(bna_bin()),
            "setting up bucket, queue and job definition in moto",
        );
        Emulator {
            endpoint,
            _children: Mutex::new(vec![dockerd, moto]),
        }
    })
}

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
