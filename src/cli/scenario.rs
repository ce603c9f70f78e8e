//! `bna scenario …`: apply, list, compare, rank and report scenarios (library: `bna_engine::scenario`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bna_engine::params;
use bna_engine::pipeline::SilentObserver;
use bna_engine::scenario::{self, Candidates, Edit};
use bna_engine::store;
use clap::{Args, Subcommand};

use super::observer::CliObserver;
use super::out::{out, outln};

#[derive(Args)]
pub struct ScenarioArgs {
    #[command(subcommand)]
    command: ScenarioCommand,
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Re-score the project with the edits of a JSON file and store them as scenario NAME.
    Apply {
        project: PathBuf,
        /// JSON array of edits, e.g. [{"kind":"build","road_id":12,"facility":"protected_track"}].
        edits: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        quiet: bool,
    },
    /// List the base analysis and the stored scenarios.
    List {
        project: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Every score of scenario B against scenario A ("base" is the stored analysis).
    Compare {
        project: PathBuf,
        a: String,
        b: String,
        #[arg(long)]
        json: bool,
    },
    /// Rank protected tracks (single segments, or whole stretches of a street with
    /// --corridors) by how much they raise the overall score.
    Gains {
        project: PathBuf,
        /// Candidates are contiguous runs of segments with the same street name.
        #[arg(long)]
        corridors: bool,
        /// How many of the best to list (at least 1).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        top: u32,
        /// How many candidates to re-score (the most promising by a cheap prefilter; at least 1).
        #[arg(long, default_value_t = params::SCENARIO_GAINS_DEFAULT_CANDIDATES as u32,
              value_parser = clap::value_parser!(u32).range(1..))]
        candidates: u32,
        #[arg(long)]
        json: bool,
    },
    /// Write a self-contained HTML report of scenario B against A.
    Report {
        project: PathBuf,
        a: String,
        b: String,
        #[arg(long)]
        out: PathBuf,
        /// Replace a file at --out that is not an earlier report (never the project itself).
        #[arg(long)]
        force: bool,
    },
    /// Delete a stored scenario.
    Delete { project: PathBuf, name: String },
}

pub fn run(a: ScenarioArgs) -> anyhow::Result<()> {
    match a.command {
        ScenarioCommand::Apply {
            project,
            edits,
            name,
            quiet,
        } => apply(&project, &edits, &name, quiet),
        ScenarioCommand::List { project, json } => list(&project, json),
        ScenarioCommand::Compare {
            project,
            a,
            b,
            json,
        } => compare(&project, &a, &b, json),
        ScenarioCommand::Gains {
            project,
            corridors,
            top,
            candidates,
            json,
        } => {
            let c = if corridors {
                Candidates::Corridors {
                    limit: candidates as usize,
                }
            } else {
                Candidates::ProtectedTracks {
                    limit: candidates as usize,
                }
            };
            gains(&project, c, top as usize, json)
        }
        ScenarioCommand::Report {
            project,
            a,
            b,
            out,
            force,
        } => report(&project, &a, &b, &out, super::overwrite(force)),
        ScenarioCommand::Delete { project, name } => Ok(scenario::delete(&project, &name)?),
    }
}

fn apply(project: &Path, edits: &Path, name: &str, quiet: bool) -> anyhow::Result<()> {
    // The same input check as the analysis inputs: a device or pipe never ends, and the file
    // is read whole, so its size is capped.
    bna_engine::ingest::check_input_size(
        edits,
        params::MAX_EDITS_FILE_BYTES,
        "scenario edits file",
    )
    .map_err(|e| scenario::ScenarioError::Input(e.to_string()))?;
    let text = std::fs::read_to_string(edits)
        .with_context(|| format!("{}: cannot read the edits file", edits.display()))?;
    // Windows editors save UTF-8 with a byte-order mark, which serde_json refuses.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let edits: Vec<Edit> = serde_json::from_str(text).map_err(|e| {
        scenario::ScenarioError::Input(format!(
            "{}: not a JSON array of edits ({e}); see README \"Scenarios\" for the format",
            edits.display()
        ))
    })?;
    let obs = CliObserver::new(quiet);
    let r = scenario::apply(project, name, &edits, &obs)?;
    let delta = r.overall.zip(r.base_overall).map(|(b, a)| b - a);
    outln!(
        "scenario {name}: overall score {} (base {}, delta {}); {} segments changed stress; re-scored in {:.2} s",
        fmt(r.overall),
        fmt(r.base_overall),
        fmt_signed(delta),
        r.stress_changed.len(),
        r.rescore_seconds
    );
    Ok(())
}

fn report(
    project: &Path,
    a: &str,
    b: &str,
    out: &Path,
    overwrite: store::Overwrite,
) -> anyhow::Result<()> {
    // Refused before the comparison is computed, not after.
    store::check_replaceable(out, project, overwrite, scenario::is_report)?;
    let html = scenario::report_html(project, a, b)?;
    store::write_output_file(
        out,
        html.as_bytes(),
        project,
        overwrite,
        scenario::is_report,
    )?;
    outln!("{}", out.display());
    Ok(())
}

fn fmt(x: Option<f64>) -> String {
    x.map_or_else(|| "NULL".into(), |v| format!("{v:.4}"))
}

fn fmt_signed(x: Option<f64>) -> String {
    x.map_or_else(|| "NULL".into(), |v| format!("{v:+.4}"))
}

fn list(project: &Path, json: bool) -> anyhow::Result<()> {
    let rows = scenario::list(project)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "{:<24} {:>8} {:>6}  created",
        "scenario",
        "overall",
        "edits"
    );
    for r in rows {
        outln!(
            "{:<24} {:>8} {:>6}  {}{}",
            scenario::printable_name(&r.name),
            r.overall.map_or("NULL".into(), |v| format!("{v:.2}")),
            r.edits.len(),
            r.created_at,
            if r.stale { "  (stale: re-apply)" } else { "" }
        );
    }
    Ok(())
}

fn compare(project: &Path, a: &str, b: &str, json: bool) -> anyhow::Result<()> {
    let c = scenario::compare(project, a, b)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&c)?);
        return Ok(());
    }
    let mut out = String::new();
    let _ = writeln!(out, "{b} vs {a} — {}", project.display());
    let _ = writeln!(out, "{:<36} {:>10} {:>10} {:>10}", "score", a, b, "delta");
    for s in &c.scores {
        let _ = writeln!(
            out,
            "{:<36} {:>10} {:>10} {:>10}",
            s.score_id,
            fmt(s.a),
            fmt(s.b),
            fmt_signed(s.delta)
        );
    }
    let _ = writeln!(
        out,
        "people gaining a low-stress connection: {:.0} ({} blocks); losing: {:.0} ({} blocks)",
        c.people_gaining, c.blocks_gaining, c.people_losing, c.blocks_losing
    );
    let _ = writeln!(
        out,
        "blocks whose score changed: {}; segments edited or changed stress: {}",
        c.blocks.iter().filter(|b| b.delta != 0.0).count(),
        c.segments.len()
    );
    out!("{out}");
    Ok(())
}

fn gains(project: &Path, candidates: Candidates, top: usize, json: bool) -> anyhow::Result<()> {
    let g = scenario::biggest_gains(project, candidates, top, &SilentObserver::default())?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&g)?);
        return Ok(());
    }
    outln!(
        "base overall score {}; re-scored {} of {} candidates in {:.1} s; {} gained nothing \
         and are not listed",
        fmt(g.base_overall),
        g.evaluated,
        g.eligible,
        g.seconds,
        g.without_gain
    );
    outln!(
        "{:>4} {:>9} {:>9} {:>7} {:>8} {:>9}  upgrade",
        "rank",
        "overall",
        "delta",
        "km",
        "people",
        "people/km"
    );
    for (i, x) in g.ranked.iter().enumerate() {
        outln!(
            "{:>4} {:>9} {:>9} {:>7.2} {:>8.0} {:>9.0}  {}",
            i + 1,
            fmt(x.overall),
            fmt_signed(Some(x.delta)),
            x.length_km,
            x.people_gaining,
            x.people_gaining_per_km,
            x.candidate.label
        );
    }
    Ok(())
}
