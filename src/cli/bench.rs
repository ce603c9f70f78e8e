//! `bna bench`: how long the analysis takes, stage by stage, and how much memory it needs, on
//! the bundled cases (BENCHMARKS.md records the figures).
//!
//! Every run analyses into a fresh project (no checkpoint can be reused) in a child process
//! (`bna bench --child CASE --child-out FILE`), so that the peak resident memory the child
//! reports (VmHWM) belongs to that one analysis and not to the runs before it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use bna::pipeline::{self, AnalysisRequest, PopulationChoice, SilentObserver, Stage};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use super::{data_dir, demo_request, DemoCity};

#[derive(Args)]
pub struct BenchArgs {
    /// Cases to run (repeat the option or separate with commas); `porto` is its three sizes.
    /// Default: every case.
    #[arg(long = "case", value_enum, value_delimiter = ',')]
    cases: Vec<CaseArg>,
    /// Analyses per case; the table shows the medians.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Internal: analyse one case into --child-out and print its measurements as JSON.
    #[arg(long, value_enum, hide = true, requires = "child_out")]
    child: Option<Case>,
    #[arg(long, hide = true)]
    child_out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CaseArg {
    /// Washington DC, Columbia Heights (US mode, 2.3 km²).
    Dc,
    /// Helsinki centre (international mode, 0.8 km², extract smaller than the buffer).
    Helsinki,
    /// Porto, all three sizes.
    Porto,
    /// Porto, Baixa (4 km²).
    PortoSmall,
    /// Porto centre (25 km²).
    PortoMedium,
    /// Porto and Vila Nova de Gaia (180 km²).
    PortoLarge,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    Dc,
    Helsinki,
    PortoSmall,
    PortoMedium,
    PortoLarge,
}

impl Case {
    const ALL: [Case; 5] = [
        Case::Dc,
        Case::Helsinki,
        Case::PortoSmall,
        Case::PortoMedium,
        Case::PortoLarge,
    ];

    fn name(self) -> &'static str {
        match self {
            Case::Dc => "dc",
            Case::Helsinki => "helsinki",
            Case::PortoSmall => "porto-small",
            Case::PortoMedium => "porto-medium",
            Case::PortoLarge => "porto-large",
        }
    }

    fn request(self, out: PathBuf) -> AnalysisRequest {
        let porto = |size: &str| {
            let d = data_dir().join("porto");
            AnalysisRequest {
                boundary: d.join(format!("boundary-{size}.geojson")),
                osm: d.join("porto-2015-highways.osm.pbf"),
                blocks: None,
                jobs: None,
                population: Some(PopulationChoice::Synthetic),
                city_fips: None,
                state_fips: None,
                residential_speed: None,
                out: out.clone(),
            }
        };
        match self {
            Case::Dc => demo_request(DemoCity::Dc, out),
            Case::Helsinki => demo_request(DemoCity::Helsinki, out),
            Case::PortoSmall => porto("small"),
            Case::PortoMedium => porto("medium"),
            Case::PortoLarge => porto("large"),
        }
    }
}

/// The cases asked for, in the canonical order, each once.
fn selected(args: &[CaseArg]) -> Vec<Case> {
    if args.is_empty() {
        return Case::ALL.to_vec();
    }
    Case::ALL
        .into_iter()
        .filter(|c| {
            args.iter().any(|a| match a {
                CaseArg::Dc => *c == Case::Dc,
                CaseArg::Helsinki => *c == Case::Helsinki,
                CaseArg::Porto => {
                    matches!(c, Case::PortoSmall | Case::PortoMedium | Case::PortoLarge)
                }
                CaseArg::PortoSmall => *c == Case::PortoSmall,
                CaseArg::PortoMedium => *c == Case::PortoMedium,
                CaseArg::PortoLarge => *c == Case::PortoLarge,
            })
        })
        .collect()
}

/// What one child run reports.
#[derive(Debug, Serialize, Deserialize)]
struct RunReport {
    /// (stage, seconds) in pipeline order.
    stages: Vec<(String, f64)>,
    /// Wall time of `pipeline::run`.
    total_s: f64,
    /// Peak resident set of the child process; None where /proc is unavailable.
    peak_rss_kib: Option<u64>,
    area_km2: f64,
    segments: usize,
    blocks: usize,
    pairs: usize,
}

#[derive(Debug, Serialize)]
struct CaseSummary {
    case: &'static str,
    area_km2: f64,
    segments: usize,
    blocks: usize,
    pairs: usize,
    runs: usize,
    /// Median seconds per stage, in pipeline order.
    stage_median_s: Vec<(String, f64)>,
    total_median_s: f64,
    /// End-to-end seconds of every run, in run order.
    total_s: Vec<f64>,
    /// The highest peak resident set over the runs.
    peak_rss_mib: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: Option<String>,
    memory_gib: Option<f64>,
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    if let Some(case) = a.child {
        let out = a.child_out.context("--child needs --child-out")?;
        return child(case, out);
    }
    let exe = std::env::current_exe().context("cannot find the bna executable to run")?;
    let tmp = tempfile::tempdir()?;
    let mut summaries = Vec::new();
    for case in selected(&a.cases) {
        let mut reports = Vec::new();
        for i in 1..=a.runs {
            let out = tmp.path().join(format!("{}-{i}.bna", case.name()));
            let r = spawn_child(&exe, case, &out)?;
            eprintln!(
                "{} run {i}/{}: {:.2} s, peak {}",
                case.name(),
                a.runs,
                r.total_s,
                r.peak_rss_kib.map_or("n/a".to_owned(), |k| format!(
                    "{:.0} MiB",
                    k as f64 / 1024.0
                ))
            );
            // Only the timings matter; large projects would otherwise pile up in /tmp.
            let _ = std::fs::remove_file(&out);
            reports.push(r);
        }
        summaries.push(summarise(case, &reports));
    }
    let machine = machine();
    if a.json {
        let v = serde_json::json!({ "machine": machine, "runs": a.runs, "cases": summaries });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", table(&machine, a.runs, &summaries));
    }
    Ok(())
}

fn spawn_child(exe: &Path, case: Case, out: &Path) -> anyhow::Result<RunReport> {
    let output = Command::new(exe)
        .arg("bench")
        .arg("--child")
        .arg(case.name())
        .arg("--child-out")
        .arg(out)
        .output()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    if !output.status.success() {
        bail!(
            "{}: the analysis failed: {}",
            case.name(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .with_context(|| format!("{}: unreadable measurement {line:?}", case.name()))
}

fn child(case: Case, out: PathBuf) -> anyhow::Result<()> {
    let req = case.request(out);
    let t0 = Instant::now();
    let outcome = pipeline::run(&req, &SilentObserver::default())?;
    let total_s = t0.elapsed().as_secs_f64();
    let data = &outcome.data;
    let area_m2 = geo::Area::unsigned_area(&data.projection.project(&data.boundary_ll));
    let report = RunReport {
        stages: data
            .metadata
            .stage_timings
            .iter()
            .map(|t| (t.stage.clone(), t.seconds))
            .collect(),
        total_s,
        peak_rss_kib: peak_rss_kib(),
        area_km2: area_m2 / 1e6,
        segments: data.segments.len(),
        blocks: data.blocks.len(),
        pairs: data.pairs.len(),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Peak resident set size of this process (Linux `VmHWM`, the figure `getrusage` reports as
/// `ru_maxrss`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    proc_field_kib(&status, "VmHWM:")
}

/// `Key:   123 kB` lines of /proc/self/status and /proc/meminfo.
fn proc_field_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn machine() -> Machine {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
    });
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| proc_field_kib(&s, "MemTotal:"))
        .map(|k| k as f64 / (1024.0 * 1024.0));
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory_gib,
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn summarise(case: Case, reports: &[RunReport]) -> CaseSummary {
    let stage_median_s = Stage::ALL
        .iter()
        .map(|s| {
            let times: Vec<f64> = reports
                .iter()
                .filter_map(|r| r.stages.iter().find(|(n, _)| n == s.name()).map(|t| t.1))
                .collect();
            (s.name().to_owned(), median(&times))
        })
        .collect();
    let total_s: Vec<f64> = reports.iter().map(|r| r.total_s).collect();
    let first = reports.first();
    CaseSummary {
        case: case.name(),
        area_km2: first.map_or(0.0, |r| r.area_km2),
        segments: first.map_or(0, |r| r.segments),
        blocks: first.map_or(0, |r| r.blocks),
        pairs: first.map_or(0, |r| r.pairs),
        runs: reports.len(),
        stage_median_s,
        total_median_s: median(&total_s),
        total_s,
        peak_rss_mib: reports
            .iter()
            .filter_map(|r| r.peak_rss_kib)
            .max()
            .map(|k| k as f64 / 1024.0),
    }
}

fn table(machine: &Machine, runs: u32, cases: &[CaseSummary]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "bna bench — {} CPUs ({}), {} memory; median of {runs} run(s), seconds",
        machine.cpus,
        machine.cpu_model.as_deref().unwrap_or("unknown CPU"),
        machine
            .memory_gib
            .map_or("unknown".to_owned(), |g| format!("{g:.1} GiB"))
    );
    let mut head = format!(
        "{:<13} {:>6} {:>8} {:>6}",
        "case", "km²", "segments", "blocks"
    );
    for s in Stage::ALL {
        let _ = write!(head, " {:>w$}", s.name(), w = s.name().len().max(6));
    }
    let _ = write!(head, " {:>7} {:>9}", "total", "peak MiB");
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "{}", "-".repeat(head.chars().count()));
    for c in cases {
        let _ = write!(
            out,
            "{:<13} {:>6.1} {:>8} {:>6}",
            c.case, c.area_km2, c.segments, c.blocks
        );
        for (name, secs) in &c.stage_median_s {
            let _ = write!(out, " {secs:>w$.2}", w = name.len().max(6));
        }
        let peak = c
            .peak_rss_mib
            .map_or("n/a".to_owned(), |m| format!("{m:.0}"));
        let _ = writeln!(out, " {:>7.2} {peak:>9}", c.total_median_s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        for (values, expected) in [
            (vec![3.0], 3.0),
            (vec![5.0, 1.0, 3.0], 3.0),
            (vec![4.0, 1.0, 3.0, 2.0], 2.5),
        ] {
            assert_eq!(median(&values), expected, "{values:?}");
        }
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn case_selection_expands_porto_and_keeps_order() {
        let names = |a: &[CaseArg]| selected(a).iter().map(|c| c.name()).collect::<Vec<_>>();
        assert_eq!(names(&[]).len(), 5);
        assert_eq!(
            names(&[CaseArg::Porto, CaseArg::Dc]),
            ["dc", "porto-small", "porto-medium", "porto-large"]
        );
        assert_eq!(
            names(&[CaseArg::PortoLarge, CaseArg::Porto]),
            ["porto-small", "porto-medium", "porto-large"]
        );
        assert_eq!(names(&[CaseArg::Helsinki]), ["helsinki"]);
    }

    #[test]
    fn reads_kib_fields_of_proc_files() {
        let status = "Name:\tbna\nVmPeak:\t  200 kB\nVmHWM:\t   12345 kB\n";
        assert_eq!(proc_field_kib(status, "VmHWM:"), Some(12345));
        assert_eq!(proc_field_kib(status, "VmRSS:"), None);
    }

    #[test]
    fn summary_takes_stage_medians_and_the_highest_peak() {
        let report = |t: f64, peak: u64| RunReport {
            stages: vec![("osm".into(), t), ("save".into(), 2.0 * t)],
            total_s: 3.0 * t,
            peak_rss_kib: Some(peak),
            area_km2: 4.0,
            segments: 10,
            blocks: 2,
            pairs: 4,
        };
        let s = summarise(
            Case::PortoSmall,
            &[report(1.0, 2048), report(3.0, 1024), report(2.0, 4096)],
        );
        let get = |n: &str| s.stage_median_s.iter().find(|(k, _)| k == n).unwrap().1;
        assert_eq!(get("osm"), 2.0);
        assert_eq!(get("save"), 4.0);
        // A stage no run reported has no median.
        assert!(get("blocks").is_nan());
        assert_eq!(s.total_median_s, 6.0);
        assert_eq!(s.peak_rss_mib, Some(4.0));
        assert_eq!(s.runs, 3);
        let t = table(
            &Machine {
                cpus: 2,
                cpu_model: None,
                memory_gib: None,
            },
            3,
            &[s],
        );
        assert!(
            t.contains("porto-small") && t.contains("connectivity"),
            "{t}"
        );
    }
}
