//! A golden case's `bna analyze` (`tests/fixtures/<case>/case.json`), shared by the golden test
//! and the tests that use a case's project (`bna compare`).
#![allow(dead_code)] // each test binary uses its own part of it

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (fixtures and data paths in `case.json` are relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test; `BNA_TEST_BIN` overrides it for worktrees that share a target.
pub fn bin() -> PathBuf {
    std::env::var_os("BNA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bna")))
}

/// The folder of the case `name`.
pub fn case_dir(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The case's `analyze` arguments, with paths made absolute (an argument that names an
/// existing file or folder under the root is a path).
pub fn analyze_args(dir: &Path) -> Vec<OsString> {
    let name = dir.display();
    let case: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap())
            .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
    let args = case["analyze"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}/case.json: `analyze` is not a list"));
    args.iter()
        .map(|a| {
            let a = a
                .as_str()
                .unwrap_or_else(|| panic!("{name}/case.json: {a} is not a string"));
            let p = root().join(a);
            if !a.starts_with('-') && p.exists() {
                p.into_os_string()
            } else {
                a.into()
            }
        })
        .collect()
}

/// Runs the case's `bna analyze` into `project`, panicking with bna's stderr if it fails.
pub fn analyze(dir: &Path, project: &Path) {
    let o = Command::new(bin())
        .args(["analyze", "--quiet", "--out"])
        .arg(project)
        .args(analyze_args(dir))
        .output()
        .expect("run bna");
    assert!(
        o.status.success(),
        "{}: bna analyze failed: {}",
        dir.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}
