//! The score table printed by `bna analyze` and `bna scores`.

use std::fmt::Write;
use std::path::Path;

use bna_engine::model::{RunMetadata, ScoreRow, StageTiming};
use bna_engine::pipeline::{OsmClip, PARAM_OSM_CLIP, PARAM_OSM_CLIP_BBOX};

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
    if let Some(clip) = osm_clip_line(meta) {
        let _ = writeln!(out, "{clip}");
    }
    if let Some(speed) = residential_speed_line(meta) {
        let _ = writeln!(out, "{speed}");
    }
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

/// What the network was cut to, as the run recorded it; projects from before `--osm-clip`
/// were all cut to the routing ring.
fn osm_clip_line(meta: &RunMetadata) -> Option<String> {
    let p = &meta.parameters;
    let clip = match p.get(PARAM_OSM_CLIP) {
        Some(name) => OsmClip::parse(name)?,
        None => OsmClip::Buffer,
    };
    let bbox = p
        .get(PARAM_OSM_CLIP_BBOX)
        .map(|b| format!("; box {b}"))
        .unwrap_or_default();
    Some(format!("OSM clip: {}{bbox}", clip.describe()))
}

/// The speed assumed on untagged residential streets and where it came from; projects from
/// before the source was recorded say nothing rather than guess.
fn residential_speed_line(meta: &RunMetadata) -> Option<String> {
    let p = &meta.parameters;
    let mph = p.get("residential_speed_default_mph")?;
    let source = p.get("residential_speed_default_source")?;
    Some(match mph.parse::<u32>() {
        Ok(mph) => format!("untagged residential streets: {mph} mph ({source})"),
        Err(_) => format!("untagged residential streets: no default speed ({source})"),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// (parameter, value) pairs of a run.
    type Params<'a> = &'a [(&'a str, &'a str)];

    fn meta(params: Params) -> RunMetadata {
        RunMetadata {
            engine_version: String::new(),
            finished_at: String::new(),
            population_source: bna_engine::model::PopulationSource::Census,
            jobs_source: None,
            parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            inputs: vec![],
            stage_timings: vec![],
            projection_epsg: 32618,
        }
    }

    #[test]
    fn the_osm_clip_line_says_what_the_network_was_cut_to() {
        // (parameters, the line's start, or None)
        let cases: [(Params, Option<&str>); 4] = [
            (
                &[
                    (PARAM_OSM_CLIP, "boundary"),
                    (PARAM_OSM_CLIP_BBOX, "1,2,3,4"),
                ],
                Some("OSM clip: boundary"),
            ),
            (&[(PARAM_OSM_CLIP, "buffer")], Some("OSM clip: buffer")),
            // Projects from before the option were all cut to the ring.
            (&[], Some("OSM clip: buffer")),
            (&[(PARAM_OSM_CLIP, "ring")], None),
        ];
        for (params, want) in cases {
            let got = osm_clip_line(&meta(params));
            match (got.as_deref(), want) {
                (Some(line), Some(start)) => assert!(line.starts_with(start), "{line}"),
                (None, None) => {}
                (got, _) => panic!("{params:?}: {got:?}"),
            }
        }
        let line = osm_clip_line(&meta(&[
            (PARAM_OSM_CLIP, "boundary"),
            (PARAM_OSM_CLIP_BBOX, "1,2,3,4"),
        ]))
        .unwrap();
        assert!(line.ends_with("box 1,2,3,4"), "{line}");
    }

    #[test]
    fn the_residential_speed_line_names_the_value_and_its_source() {
        let mph = "residential_speed_default_mph";
        let src = "residential_speed_default_source";
        let cases: [(Params, Option<&str>); 4] = [
            (
                &[(mph, "20"), (src, "PeopleForBikes state table, state FIPS 11")],
                Some("untagged residential streets: 20 mph (PeopleForBikes state table, state FIPS 11)"),
            ),
            (
                &[(mph, "none"), (src, "none: no table row")],
                Some("untagged residential streets: no default speed (none: no table row)"),
            ),
            // An older project recorded only the value (as debug text): no line, no guess.
            (&[(mph, "Some(20)")], None),
            (&[], None),
        ];
        for (params, want) in cases {
            assert_eq!(
                residential_speed_line(&meta(params)).as_deref(),
                want,
                "{params:?}"
            );
        }
    }
}
