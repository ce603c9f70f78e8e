//! What a comparison found, as one value (`--json` prints it) and as a readable table.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::blocks::BlockComparison;
use super::segments::SegmentComparison;
use super::side::SourceKind;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideSummary {
    pub path: PathBuf,
    pub kind: SourceKind,
}

/// One city score on both sides; `delta` = b − a, `None` when a side lacks it or is NULL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CityDelta {
    pub score_id: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub delta: Option<f64>,
}

/// Destinations of one category on both sides (`None`: that side has no table of it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestinationCount {
    pub category: String,
    pub a: Option<usize>,
    pub b: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub a: SideSummary,
    pub b: SideSummary,
    pub segments: SegmentComparison,
    pub blocks: BlockComparison,
    pub city: Vec<CityDelta>,
    pub destinations: Vec<DestinationCount>,
}

/// `(a, b)` → the city rows: A's order, then scores only B has.
pub fn city_deltas(a: &[(String, Option<f64>)], b: &[(String, Option<f64>)]) -> Vec<CityDelta> {
    let find = |side: &[(String, Option<f64>)], id: &str| {
        side.iter().find(|(s, _)| s == id).map(|(_, v)| *v)
    };
    let ids = a.iter().map(|(id, _)| id).chain(
        b.iter()
            .map(|(id, _)| id)
            .filter(|id| find(a, id).is_none()),
    );
    ids.map(|id| {
        let (x, y) = (find(a, id).flatten(), find(b, id).flatten());
        CityDelta {
            score_id: id.clone(),
            a: x,
            b: y,
            delta: x.zip(y).map(|(x, y)| y - x),
        }
    })
    .collect()
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "NULL".to_string(), |v| format!("{v:.decimals$}"))
}

fn count(v: Option<usize>) -> String {
    v.map_or_else(|| "–".to_string(), |v| v.to_string())
}

fn share(part: usize, whole: usize) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

/// The report as text tables for a terminal.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let s = &r.segments;
    let _ = writeln!(o, "A: {} ({})", r.a.path.display(), r.a.kind.label());
    let _ = writeln!(o, "B: {} ({})", r.b.path.display(), r.b.kind.label());
    let by = match s.matched_by {
        super::matching::MatchedBy::EndPoints => "OSM id + end points within 2 m",
        super::matching::MatchedBy::OsmId => "OSM id only (a side has no geometry)",
    };
    let _ = writeln!(o, "\nSegments (matched by {by})");
    let _ = writeln!(
        o,
        "  matched {} of A's {} ({}) and of B's {} ({})",
        s.matched,
        s.a_total,
        share(s.matched, s.a_total),
        s.b_total,
        share(s.matched, s.b_total)
    );
    let _ = writeln!(o, "  {:<18} {:>15} {:>9}", "agreement", "same/matched", "%");
    for (name, g) in s.agreements() {
        let _ = writeln!(
            o,
            "  {name:<18} {:>15} {:>8.2} %",
            format!("{}/{}", g.agree, g.total),
            g.percent()
        );
    }
    for d in s.differing.iter().take(10) {
        let what: Vec<String> = d
            .differences
            .iter()
            .map(|f| {
                format!(
                    "{} {}→{}",
                    f.column,
                    f.a.as_deref().unwrap_or("NULL"),
                    f.b.as_deref().unwrap_or("NULL")
                )
            })
            .collect();
        let _ = writeln!(o, "    way {}: {}", d.osm_id, what.join(", "));
    }
    if s.differing.len() > 10 {
        let _ = writeln!(
            o,
            "    … and {} more differing segments",
            s.differing.len() - 10
        );
    }

    let b = &r.blocks;
    let _ = writeln!(
        o,
        "\nBlocks: A {}, B {}, common {}",
        b.a_total, b.b_total, b.common
    );
    let _ = writeln!(
        o,
        "  {:<20} {:>8} {:>10} {:>10} {:>11}",
        "score", "compared", "mean |Δ|", "max |Δ|", "NULL on one"
    );
    for d in &b.scores {
        let _ = writeln!(
            o,
            "  {:<20} {:>8} {:>10.3} {:>10.3} {:>11}",
            d.column, d.compared, d.mean_abs, d.max_abs, d.null_on_one_side
        );
    }
    if b.worst.is_empty() {
        let _ = writeln!(o, "  every common block has the same overall score");
    } else {
        let _ = writeln!(o, "  most different overall scores (Δ = B − A):");
        for d in &b.worst {
            let _ = writeln!(
                o,
                "    {:<16} A {:>8} B {:>8} Δ {:>8}",
                d.geoid,
                num(d.a, 2),
                num(d.b, 2),
                num(d.delta, 2)
            );
        }
    }

    let _ = writeln!(o, "\nCity scores (Δ = B − A)");
    let _ = writeln!(o, "  {:<42} {:>10} {:>10} {:>9}", "score", "A", "B", "Δ");
    for c in &r.city {
        let _ = writeln!(
            o,
            "  {:<42} {:>10} {:>10} {:>9}",
            c.score_id,
            num(c.a, 2),
            num(c.b, 2),
            num(c.delta, 2)
        );
    }

    let both: Vec<&DestinationCount> = r
        .destinations
        .iter()
        .filter(|d| d.a.is_some() && d.b.is_some())
        .collect();
    if both.is_empty() {
        let _ = writeln!(o, "\nDestinations: no category has a table on both sides");
    } else {
        let _ = writeln!(o, "\nDestinations (categories with a table on both sides)");
        let _ = writeln!(o, "  {:<20} {:>6} {:>6}", "category", "A", "B");
        for d in both {
            let mark = if d.a == d.b { "" } else { "  ≠" };
            let _ = writeln!(
                o,
                "  {:<20} {:>6} {:>6}{mark}",
                d.category,
                count(d.a),
                count(d.b)
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: &str, v: Option<f64>) -> (String, Option<f64>) {
        (id.to_string(), v)
    }

    #[test]
    fn city_rows_follow_a_then_what_only_b_has() {
        let a = [
            s("overall_score", Some(20.0)),
            s("core_services", None),
            s("a_only", Some(1.0)),
        ];
        let b = [
            s("b_only", Some(2.0)),
            s("overall_score", Some(20.5)),
            s("core_services", None),
        ];
        let got: Vec<(String, Option<f64>)> = city_deltas(&a, &b)
            .into_iter()
            .map(|c| (c.score_id, c.delta))
            .collect();
        assert_eq!(
            got,
            [
                s("overall_score", Some(0.5)),
                s("core_services", None),
                s("a_only", None),
                s("b_only", None)
            ]
        );
    }
}
