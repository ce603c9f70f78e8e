//! `bna bench`: how long the analysis takes, stage by stage, and how much memory it needs, on
//! the bundled cases (BENCHMARKS.md records the figures).
//!
//! Every run analyses into a fresh project (no checkpoint can be reused) in a child process
//! (`bna bench --child CASE --child-out FILE`), so that the peak resident memory the child
//! reports (VmHWM) belongs to that one analysis and not to the runs before it.
//!
//! `dc-rescore` times `pipeline::rescore` instead: one DC analysis is made first (untimed),
//! then every run re-scores it in a child after giving one high-stress segment a protected
//! bike track.

use super::out::{errln, out, outln};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use bna_engine::model::{ProjectData, StageTiming};
use bna_engine::pipeline::{
    self, AnalysisRequest, OsmClip, PopulationChoice, SilentObserver, Stage,
};
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
    /// Internal: the segment `dc-rescore` edits.
    #[arg(long, hide = true)]
    child_road: Option<u32>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CaseArg {
    /// Washington DC, Columbia Heights (US mode, 2.3 km²).
    Dc,
    /// Helsinki centre (international mode, 0.8 km², extract smaller than the buffer).
    Helsinki,
    /// Porto, all four sizes.
    Porto,
    /// Porto, Baixa (4 km²).
    PortoSmall,
    /// Porto centre (25 km²).
    PortoMedium,
    /// Porto and Vila Nova de Gaia (180 km²).
    PortoLarge,
    /// The whole extract less the routing buffer (1,180 km²).
    PortoFull,
    /// Re-scoring DC after an edit of one segment (no re-import).
    DcRescore,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    Dc,
    Helsinki,
    PortoSmall,
    PortoMedium,
    PortoLarge,
    PortoFull,
    DcRescore,
}

impl Case {
    const ALL: [Case; 7] = [
        Case::Dc,
        Case::Helsinki,
        Case::PortoSmall,
        Case::PortoMedium,
        Case::PortoLarge,
        Case::PortoFull,
        Case::DcRescore,
    ];

    fn name(self) -> &'static str {
        match self {
            Case::Dc => "dc",
            Case::Helsinki => "helsinki",
            Case::PortoSmall => "porto-small",
            Case::PortoMedium => "porto-medium",
            Case::PortoLarge => "porto-large",
            Case::PortoFull => "porto-full",
            Case::DcRescore => "dc-rescore",
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
                osm_clip: OsmClip::default(),
                out: out.clone(),
            }
        };
        match self {
            Case::Dc | Case::DcRescore => demo_request(DemoCity::Dc, out),
            Case::Helsinki => demo_request(DemoCity::Helsinki, out),
            Case::PortoSmall => porto("small"),
            Case::PortoMedium => porto("medium"),
            Case::PortoLarge => porto("large"),
            Case::PortoFull => porto("full"),
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
                    matches!(
                        c,
                        Case::PortoSmall | Case::PortoMedium | Case::PortoLarge | Case::PortoFull
                    )
                }
                CaseArg::PortoSmall => *c == Case::PortoSmall,
                CaseArg::PortoMedium => *c == Case::PortoMedium,
                CaseArg::PortoLarge => *c == Case::PortoLarge,
                CaseArg::PortoFull => *c == Case::PortoFull,
                CaseArg::DcRescore => *c == Case::DcRescore,
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

impl RunReport {
    /// The measurements of one child run, taken as it ends (so the peak memory is final).
    fn measured(timings: &[StageTiming], total_s: f64, data: &ProjectData) -> Self {
        let area_m2 = geo::Area::unsigned_area(&data.projection.project(&data.boundary_ll));
        RunReport {
            stages: timings
                .iter()
                .map(|t| (t.stage.clone(), t.seconds))
                .collect(),
            total_s,
            peak_rss_kib: peak_rss_kib(),
            area_km2: area_m2 / 1e6,
            segments: data.segments.len(),
            blocks: data.blocks.len(),
            pairs: data.pairs.len(),
        }
    }
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
        return child(case, out, a.child_road);
    }
    let exe = std::env::current_exe().context("cannot find the bna executable to run")?;
    let tmp = tempfile::tempdir()?;
    let mut summaries = Vec::new();
    for case in selected(&a.cases) {
        let mut reports = Vec::new();
        // dc-rescore: every run re-scores the same analysis, made here once.
        let base = tmp.path().join("dc-rescore-base.bna");
        let road = if case == Case::DcRescore {
            spawn_child(&exe, Case::Dc, &base, None)?;
            Some(segment_to_edit(&base)?)
        } else {
            None
        };
        for i in 1..=a.runs {
            let out = match case {
                Case::DcRescore => base.clone(),
                _ => tmp.path().join(format!("{}-{i}.bna", case.name())),
            };
            let r = spawn_child(&exe, case, &out, road)?;
            errln!(
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
            if case != Case::DcRescore {
                let _ = std::fs::remove_file(&out);
            }
            reports.push(r);
        }
        let _ = std::fs::remove_file(&base);
        summaries.push(summarise(case, &reports));
    }
    let machine = machine();
    if a.json {
        let v = serde_json::json!({ "machine": machine, "runs": a.runs, "cases": summaries });
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        out!("{}", table(&machine, a.runs, &summaries));
    }
    Ok(())
}

fn spawn_child(exe: &Path, case: Case, out: &Path, road: Option<u32>) -> anyhow::Result<RunReport> {
    let mut cmd = Command::new(exe);
    cmd.arg("bench")
        .arg("--child")
        .arg(case.name())
        .arg("--child-out")
        .arg(out);
    if let Some(r) = road {
        cmd.arg("--child-road").arg(r.to_string());
    }
    let output = cmd
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

/// The segment `dc-rescore` edits: the first two-way major road that is high stress both
/// ways, so that a protected track changes its stress (and may change connectivity).
fn segment_to_edit(project: &Path) -> anyhow::Result<u32> {
    use bna_engine::model::{FunctionalClass as C, HIGH_STRESS};
    let data = bna_engine::store::Project::create_or_open(project)?
        .read_results()?
        .context("the DC analysis wrote no results")?;
    data.segments
        .iter()
        .find(|s| {
            matches!(
                s.attrs.functional_class,
                C::Primary | C::Secondary | C::Tertiary
            ) && s.attrs.one_way.is_none()
                && s.stress.ft_seg == Some(HIGH_STRESS)
                && s.stress.tf_seg == Some(HIGH_STRESS)
        })
        .map(|s| s.road_id)
        .context("DC has no high-stress two-way major road to edit")
}

fn child_rescore(project: PathBuf, road: u32) -> anyhow::Result<()> {
    use bna_engine::model::{AttributeChange, BikeInfra, Direction, SegmentEdit};
    let edits = [Direction::Ft, Direction::Tf].map(|direction| SegmentEdit {
        road_id: road,
        change: AttributeChange::BikeInfra {
            direction,
            infra: Some(BikeInfra::Track),
            width_ft: Some(7.0),
        },
    });
    let t0 = Instant::now();
    let outcome = pipeline::rescore(&project, &edits, &SilentObserver::default())?;
    let total_s = t0.elapsed().as_secs_f64();
    if !outcome.stress_changed.contains(&road) {
        bail!("dc-rescore: the edit of segment {road} did not change its stress");
    }
    let data = &outcome.data;
    let report = RunReport::measured(&outcome.timings, total_s, data);
    outln!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn child(case: Case, out: PathBuf, road: Option<u32>) -> anyhow::Result<()> {
    if case == Case::DcRescore {
        let road = road.context("dc-rescore needs --child-road")?;
        return child_rescore(out, road);
    }
    let req = case.request(out);
    let t0 = Instant::now();
    let outcome = pipeline::run(&req, &SilentObserver::default())?;
    let total_s = t0.elapsed().as_secs_f64();
    let data = &outcome.data;
    let report = RunReport::measured(&data.metadata.stage_timings, total_s, data);
    outln!("{}", serde_json::to_string(&report)?);
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

/// The stages a case reports, in order: the pipeline's, or those of `pipeline::rescore`.
fn stage_names(case: Case) -> Vec<&'static str> {
    match case {
        Case::DcRescore => RESCORE_STAGES.to_vec(),
        _ => Stage::ALL.iter().map(|s| s.name()).collect(),
    }
}

const RESCORE_STAGES: [&str; 4] = ["load", "stress", "connectivity", "scoring"];

fn summarise(case: Case, reports: &[RunReport]) -> CaseSummary {
    let stage_median_s = stage_names(case)
        .iter()
        .map(|&name| {
            let times: Vec<f64> = reports
                .iter()
                .filter_map(|r| r.stages.iter().find(|(n, _)| n == name).map(|t| t.1))
                .collect();
            (name.to_owned(), median(&times))
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
    // A new header whenever the stages change (the analyses, then re-scoring).
    let mut last_stages: Option<Vec<&str>> = None;
    for c in cases {
        let stages: Vec<&str> = c.stage_median_s.iter().map(|(n, _)| n.as_str()).collect();
        if last_stages.as_ref() != Some(&stages) {
            let mut head = format!(
                "{:<13} {:>6} {:>8} {:>6}",
                "case", "km²", "segments", "blocks"
            );
            for s in &stages {
                let _ = write!(head, " {:>w$}", s, w = s.len().max(6));
            }
            let _ = write!(head, " {:>7} {:>9}", "total", "peak MiB");
            let _ = writeln!(out, "{head}");
            let _ = writeln!(out, "{}", "-".repeat(head.chars().count()));
            last_stages = Some(stages);
        }
        let _ = write!(
            out,
            "{:<13} {:>6.1} {:>8} {:>6}",
            c.case, c.area_km2, c.segments, c.blocks
        );
        for (name, secs) in &c.stage_median_s {
            let _ = write!(out, " {secs:>w$.3}", w = name.len().max(6));
        }
        let peak = c
            .peak_rss_mib
            .map_or("n/a".to_owned(), |m| format!("{m:.0}"));
        let _ = writeln!(out, " {:>7.3} {peak:>9}", c.total_median_s);
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
        assert_eq!(names(&[]).len(), 7);
        assert_eq!(
            names(&[CaseArg::Porto, CaseArg::Dc]),
            [
                "dc",
                "porto-small",
                "porto-medium",
                "porto-large",
                "porto-full"
            ]
        );
        assert_eq!(
            names(&[CaseArg::PortoLarge, CaseArg::Porto]),
            ["porto-small", "porto-medium", "porto-large", "porto-full"]
        );
        assert_eq!(
            names(&[CaseArg::DcRescore, CaseArg::PortoLarge]),
            ["porto-large", "dc-rescore"]
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
        let rescore = summarise(
            Case::DcRescore,
            &[RunReport {
                stages: RESCORE_STAGES
                    .iter()
                    .map(|n| (n.to_string(), 0.1))
                    .collect(),
                ..report(0.1, 512)
            }],
        );
        assert_eq!(rescore.stage_median_s.len(), RESCORE_STAGES.len());
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
            &[s, rescore],
        );
        assert!(
            t.contains("porto-small") && t.contains("connectivity"),
            "{t}"
        );
        // Re-scoring gets its own header after the analyses.
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("case")).count(),
            2,
            "{t}"
        );
        assert!(
            lines[1].contains("boundary") && !lines[1].contains("load"),
            "{t}"
        );
        assert!(
            lines[4].contains("load") && lines[6].starts_with("dc-rescore"),
            "{t}"
        );
    }
}
