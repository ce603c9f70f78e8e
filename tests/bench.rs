//! `bna bench` on the smallest case, once: the command runs the analysis in a child process
//! and reports every stage, the end-to-end time and the peak memory.

use std::process::Command;

#[test]
fn bench_reports_stage_medians_and_peak_memory_for_helsinki() {
    let out = Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(["bench", "--case", "helsinki", "--runs", "1", "--json"])
        .output()
        .expect("run bna bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["runs"], 1);
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 1);
    let c = &cases[0];
    assert_eq!(c["case"], "helsinki");
    assert!(c["segments"].as_u64().unwrap() > 100, "{c}");
    let stages: Vec<&str> = c["stage_median_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "boundary",
            "osm",
            "blocks",
            "stress",
            "connectivity",
            "destinations",
            "scoring",
            "save"
        ]
    );
    let stage_sum: f64 = c["stage_median_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[1].as_f64().unwrap())
        .sum();
    let total = c["total_median_s"].as_f64().unwrap();
    // With one run, the stages add up to the end-to-end time (minus untimed glue).
    assert!(total > 0.0 && stage_sum <= total * 1.01, "{c}");
    if cfg!(target_os = "linux") {
        let peak = c["peak_rss_mib"].as_f64().unwrap();
        assert!(peak > 10.0 && peak < 2048.0, "{peak}");
    }
    assert!(v["machine"]["cpus"].as_u64().unwrap() >= 1);
}

#[test]
fn bench_rejects_zero_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(["bench", "--case", "helsinki", "--runs", "0"])
        .output()
        .expect("run bna bench");
    assert_eq!(out.status.code(), Some(2));
}
