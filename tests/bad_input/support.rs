//! Running the `bna` binary under test and checking what it says.
#![allow(dead_code)] // each table uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(p)
}

/// The binary under test (`BNA_TEST_BIN` overrides it, as in tests/reliability.rs).
pub fn bin() -> PathBuf {
    std::env::var_os("BNA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bna")))
}

pub fn bna<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(bin()).args(args).output().expect("run bna")
}

/// A user-facing failure: the expected exit code and one line on stderr, no Rust debug dump,
/// no panic.
#[track_caller]
pub fn assert_one_line_failure(out: &Output, code: i32, must_mention: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    for bad in ["panicked", "RUST_BACKTRACE", " { ", "Os {", "Custom {"] {
        assert!(!err.contains(bad), "debug text {bad:?} in: {err}");
    }
    for m in must_mention {
        assert!(err.contains(m), "{m:?} not mentioned in: {err}");
    }
}

/// `bna` with extra environment variables (e.g. the fetch test timeouts).
pub fn bna_env<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bna")
}
