//! The score table printed by `bna analyze` and `bna scores`.

use std::fmt::Write;
use std::path::Path;

use bna_engine::model::{RunMetadata, ScoreRow, StageTiming};

/// Category rows are flush left; their sub-categories are indented under them.
fn indent(score_id: &str) -> usize {
    match score_id {
        "overall_score" | "people" | "opportunity" | "core_services" | "retail" | "recreation"
        | "transit" => 0,
        s if s.starts_with("opportunity_")
            || s.starts_with("core_services_")
            || s.starts_with("recreation_") =>
        {
            2
        }
        _ => 0,
    }
}

pub fn score_table(project: &Path, rows: &[ScoreRow], meta: &RunMetadata) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "BNA scores — {}", project.display());
    let _ = writeln!(
        out,
        "population: {}{}",
        meta.population_source.as_str(),
        meta.jobs_source
            .as_deref()
            .map(|j| format!("; jobs: {j}"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "{:<46} {:>10}", "score", "value");
    let _ = writeln!(out, "{}", "-".repeat(57));
    let order = |id: &str| if id == "overall_score" { 0 } else { 1 };
    let mut sorted: Vec<&ScoreRow> = rows.iter().collect();
    sorted.sort_by_key(|r| order(&r.score_id));
    for r in sorted {
        let value = match r.score_normalized.or(r.score_original) {
            Some(v) => format!("{v:.2}"),
            None => "—".to_owned(),
        };
        let name = format!("{}{}", " ".repeat(indent(&r.score_id)), r.score_id);
        let _ = writeln!(out, "{name:<46} {value:>10}");
    }
    out
}

pub fn timing_line(timings: &[StageTiming]) -> String {
    let total: f64 = timings.iter().map(|t| t.seconds).sum();
    let parts: Vec<String> = timings
        .iter()
        .map(|t| {
            let mark = if t.from_checkpoint {
                " (checkpoint)"
            } else {
                ""
            };
            format!("{} {:.2}s{mark}", t.stage, t.seconds)
        })
        .collect();
    format!("timing: total {total:.2}s — {}", parts.join(", "))
}
