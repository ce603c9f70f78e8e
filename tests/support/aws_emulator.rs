//! The AWS emulator shared by the cloud tests (`tests/cloud.rs`, `tests/app_cloud.rs`): a
//! moto server on 127.0.0.1 with the fake Docker engine, so each Batch job really runs the
//! `bna worker` built here. Started once per test binary; the moto venv is created once under
//! the target dir and reused.
// Each test binary uses a part of this file.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const MOTO_REQUIREMENTS: [&str; 3] = [
    "moto[batch,s3,logs,iam,ec2]==5.2.5",
    "flask<4",
    "flask-cors",
];
pub const BUCKET: &str = "bna-test";
pub const QUEUE: &str = "bna-test-queue";
pub const JOB_DEFINITION: &str = "bna-worker-test";

/// The `bna` under test. `BNA_TEST_BIN` overrides it for machines where several checkouts
/// share one target dir and may rebuild `target/debug/bna` while these tests run.
pub fn bna_bin() -> PathBuf {
    std::env::var_os("BNA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bna")))
}

pub fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

pub fn helsinki() -> (PathBuf, PathBuf) {
    (
        repo("data/helsinki/boundary-centre.geojson"),
        repo("data/helsinki/helsinki-center.osm.pbf"),
    )
}

pub struct Emulator {
    pub endpoint: String,
    // Killed by their own parent-exit watchdog when this process ends; kept for the record.
    _children: Mutex<Vec<Child>>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

pub fn run_checked(cmd: &mut Command, what: &str) {
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
pub fn moto_venv() -> PathBuf {
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

pub fn http_ok(port: u16, path: &str) -> bool {
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

/// The body of a plain GET (moto answers unsigned S3 requests).
pub fn http_get(endpoint: &str, path: &str) -> String {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{endpoint}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf
}

/// A plain PUT of `body` (moto takes unsigned S3 uploads); true on a 2xx answer.
pub fn http_put(endpoint: &str, path: &str, body: &str) -> bool {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{endpoint}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.split_whitespace()
        .nth(1)
        .is_some_and(|code| code.starts_with('2'))
}

pub fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    let f = std::fs::File::create(log).unwrap();
    cmd.stdout(f.try_clone().unwrap())
        .stderr(f)
        .env("MOTO_EXIT_WITH_PARENT", "1")
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

pub fn emulator() -> &'static Emulator {
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
