//! The layering rule, checked on the real dependency graph: the engine builds without any UI,
//! cloud or download code, downloads without UI or cloud, the cloud client without UI. Cargo
//! already refuses a dependency cycle; this catches a heavy crate creeping in sideways.

use std::process::Command;

/// The crates `package` pulls in for a normal (non-test) build, by name.
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(bna_test_support::repo_root())
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn offenders(package: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = normal_dependencies(package)
        .into_iter()
        .filter(|name| {
            forbidden
                .iter()
                .any(|f| name == f || (f.ends_with('-') && name.starts_with(f)))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

const UI: [&str; 5] = ["egui", "eframe", "walkers", "rfd", "winit"];
const CLOUD: [&str; 3] = ["aws-", "tokio", "hyper"];
const DOWNLOADS: [&str; 1] = ["ureq"];

#[test]
fn each_layer_builds_without_the_layers_above_it() {
    let cases: [(&str, Vec<&str>); 3] = [
        ("bna-engine", [&UI[..], &CLOUD[..], &DOWNLOADS[..]].concat()),
        ("bna-fetch", [&UI[..], &CLOUD[..]].concat()),
        ("bna-cloud", UI.to_vec()),
    ];
    for (package, forbidden) in cases {
        let found = offenders(package, &forbidden);
        assert!(
            found.is_empty(),
            "{package} now depends on {found:?}; move that code to the crate that needs it"
        );
    }
    // The check itself sees the graph: the app does pull in egui.
    assert!(!offenders("bna-app", &UI).is_empty());
}
