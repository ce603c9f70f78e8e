//! `bna_engine::scenario` and `bna scenario` on the bundled DC case: scenarios are stored beside the
//! base results without altering them, compared, ranked and reported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bna_engine::model::{
    CrossingControl, FunctionalClass, IntersectionEdit, ProjectData, HIGH_STRESS, LOW_STRESS,
};
use bna_engine::pipeline::{self, SilentObserver};
use bna_engine::scenario::{self, Candidates, Edit, Facility, BASE};
use bna_engine::store::Project;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

struct Analysed {
    _dir: tempfile::TempDir,
    project: PathBuf,
    stored: ProjectData,
    /// Result blob and score table as first written, to check scenarios never change them.
    blob: Vec<u8>,
    table: Vec<(String, Option<f64>)>,
}

fn snapshot(project: &Path) -> (Vec<u8>, Vec<(String, Option<f64>)>) {
    let p = Project::create_or_open(project).unwrap();
    let blob = p
        .connection()
        .query_row("SELECT data FROM bna_results_blob", [], |r| r.get(0))
        .unwrap();
    let table = p
        .overall_scores()
        .unwrap()
        .into_iter()
        .map(|r| (r.score_id, r.score_normalized))
        .collect();
    (blob, table)
}

fn dc() -> &'static Analysed {
    static DC: OnceLock<Analysed> = OnceLock::new();
    DC.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("dc.bna");
        let req = bna_engine::pipeline::demo::dc_request(&data_dir(), project.clone());
        pipeline::run(&req, &SilentObserver::default()).expect("analyse DC");
        let stored = pipeline::load_results(&project).unwrap();
        let (blob, table) = snapshot(&project);
        Analysed {
            _dir: dir,
            project,
            stored,
            blob,
            table,
        }
    })
}

fn obs() -> SilentObserver {
    SilentObserver::default()
}

fn track(road_id: u32) -> Vec<Edit> {
    vec![Edit::Build {
        road_id,
        facility: Facility::ProtectedTrack,
    }]
}

/// The most promising protected track by the gains prefilter: a high-stress segment joining
/// two low-stress islands.
fn best_track_road() -> u32 {
    let (c, _) = scenario::protected_track_candidates(&dc().stored, 1);
    c[0].edits[0].road_id().unwrap()
}

#[test]
fn applying_stores_a_scenario_and_leaves_the_base_results_byte_identical() {
    let a = dc();
    let road = best_track_road();
    let r = scenario::apply(&a.project, "one-track", &track(road), &obs()).unwrap();
    assert_eq!(
        r.base_overall,
        scenario::overall_of(&a.stored.overall_scores)
    );
    assert!(r.stress_changed.contains(&road));
    let (blob, table) = snapshot(&a.project);
    assert!(blob == a.blob, "the base result blob changed");
    assert_eq!(table, a.table);
    let list = scenario::list(&a.project).unwrap();
    assert_eq!(list[0].name, BASE);
    let s = list.iter().find(|s| s.name == "one-track").expect("listed");
    assert_eq!(s.edits, track(road));
    assert_eq!(s.overall, r.overall);
    assert!(!s.stale);
    // Re-applying under the same name replaces it.
    scenario::apply(&a.project, "one-track", &track(road), &obs()).unwrap();
    let n = scenario::list(&a.project)
        .unwrap()
        .iter()
        .filter(|s| s.name == "one-track")
        .count();
    assert_eq!(n, 1);
}

#[test]
fn base_against_base_has_no_differences() {
    let a = dc();
    let c = scenario::compare(&a.project, BASE, BASE).unwrap();
    assert_eq!(c.scores.len(), a.stored.overall_scores.len());
    for s in &c.scores {
        assert_eq!(s.a, s.b, "{}", s.score_id);
        assert!(s.delta.is_none_or(|d| d == 0.0), "{}", s.score_id);
    }
    assert!(c.blocks.is_empty() && c.segments.is_empty());
    assert_eq!((c.people_gaining, c.blocks_gaining), (0.0, 0));
    assert_eq!((c.people_losing, c.blocks_losing), (0.0, 0));
}

#[test]
fn a_protected_track_raises_scores_and_the_comparison_agrees_with_the_stored_ones() {
    let a = dc();
    let road = best_track_road();
    let r = scenario::apply(&a.project, "track", &track(road), &obs()).unwrap();
    let base = r.base_overall.unwrap();
    let after = r.overall.unwrap();
    assert!(after >= base, "{after} < {base}");
    // The stored scenario scores are what a direct re-scoring gives.
    let (segs, _) = scenario::expand(&track(road));
    let direct = pipeline::rescore(&a.project, &segs, &obs()).unwrap();
    assert_eq!(r.overall_scores, direct.data.overall_scores);

    let c = scenario::compare(&a.project, BASE, "track").unwrap();
    assert_eq!(c.overall_delta(), Some(after - base));
    for (s, row) in c.scores.iter().zip(&r.overall_scores) {
        assert_eq!(s.b, row.score_normalized, "{}", s.score_id);
    }
    let seg = c
        .segments
        .iter()
        .find(|s| s.road_id == road)
        .expect("edited segment listed");
    assert!(seg.edited_in_b && !seg.edited_in_a);
    assert!(seg.high_stress_change < 0, "{seg:?}");
    assert_eq!(seg.stress_b.ft_seg, Some(LOW_STRESS));
    // Block deltas agree with the direct re-scoring; gaining people are the population of
    // the blocks whose low-stress reach grew.
    let reach = scenario::low_stress_reach(&direct.data);
    let mut gaining = 0.0;
    for b in &c.blocks {
        let direct_score = direct
            .data
            .block_scores
            .iter()
            .find(|s| s.block == b.block)
            .map_or(0.0, |s| s.overall_score);
        assert_eq!(b.b, direct_score, "block {}", b.geoid);
        assert_eq!(b.reach_b, reach[b.block as usize]);
        assert!(b.delta >= 0.0 && b.reach_b >= b.reach_a, "{b:?}");
        if b.reach_b > b.reach_a {
            gaining += a.stored.blocks[b.block as usize].population;
        }
    }
    assert_eq!(c.people_gaining, gaining);
    assert_eq!(c.people_losing, 0.0);
    if after > base {
        assert!(c.people_gaining > 0.0 && c.blocks.iter().any(|b| b.delta > 0.0));
    }
    // And the other way round, every delta flips.
    let back = scenario::compare(&a.project, "track", BASE).unwrap();
    assert_eq!(back.overall_delta(), Some(base - after));
    assert_eq!(back.people_losing, c.people_gaining);
}

#[test]
fn a_signal_makes_a_hard_crossing_low_stress() {
    let a = dc();
    let segs = &a.stored.segments;
    let s = segs
        .iter()
        .find(|s| {
            s.attrs.functional_class == FunctionalClass::Residential
                && s.stress.ft_int == Some(HIGH_STRESS)
        })
        .expect("DC has hard crossings");
    let edits = vec![Edit::Crossing(IntersectionEdit {
        int_id: s.intersection_to,
        control: CrossingControl::Signal,
    })];
    let r = scenario::apply(&a.project, "signal", &edits, &obs()).unwrap();
    assert!(r.stress_changed.contains(&s.road_id));
    assert!(r.overall >= r.base_overall);
    let c = scenario::compare(&a.project, BASE, "signal").unwrap();
    let d = c
        .segments
        .iter()
        .find(|x| x.road_id == s.road_id)
        .expect("listed");
    assert_eq!(d.stress_b.ft_int, Some(LOW_STRESS));
    assert!(!d.edited_in_b, "a crossing edit edits no segment");
}

#[test]
fn the_report_holds_the_score_table_and_the_map() {
    let a = dc();
    let road = best_track_road();
    scenario::apply(&a.project, "report-track", &track(road), &obs()).unwrap();
    let html = scenario::report_html(&a.project, BASE, "report-track").unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(r#"<table id="score-table">"#));
    for row in &a.stored.overall_scores {
        assert!(
            html.contains(&format!("<td>{}</td>", row.score_id)),
            "{}",
            row.score_id
        );
    }
    assert!(html.contains("<svg") && html.contains("</svg>"));
    assert!(
        html.contains(&format!("road {road} ")),
        "edited segment on the map"
    );
    // Self-contained: nothing is fetched.
    for external in ["src=", "href=", "url(", "@import"] {
        assert!(!html.contains(external), "{external}");
    }
}

#[test]
fn gains_are_ranked_and_the_top_one_matches_an_explicit_apply() {
    let a = dc();
    let g = scenario::biggest_gains(
        &a.project,
        Candidates::ProtectedTracks { limit: 48 },
        3,
        &obs(),
    )
    .unwrap();
    // Most single segments gain nothing on their own; 48 (the CLI's default) hold a gain.
    assert_eq!(g.evaluated, 48);
    assert!(g.eligible >= 48);
    assert_eq!(g.ranked.len(), 3.min(g.evaluated - g.without_gain));
    assert!(!g.ranked.is_empty(), "the best prefiltered track gains");
    assert!(g.ranked.windows(2).all(|w| w[0].delta >= w[1].delta));
    let top = &g.ranked[0];
    assert!(top.delta >= 0.0);
    let r = scenario::apply(&a.project, "gains-top", &top.candidate.edits, &obs()).unwrap();
    assert_eq!(r.overall.unwrap() - r.base_overall.unwrap(), top.delta);
}

#[test]
fn bad_names_and_unknown_scenarios_are_refused() {
    let a = dc();
    let e = scenario::apply(&a.project, BASE, &[], &obs()).unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("dc.bna"), "{e}");
    let e = scenario::compare(&a.project, BASE, "no-such").unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("no-such"), "{e}");
    let n = a.stored.intersections.len() as u32;
    let bad = [Edit::Crossing(IntersectionEdit {
        int_id: n,
        control: CrossingControl::Rrfb,
    })];
    let e = scenario::apply(&a.project, "bad", &bad, &obs()).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains(&n.to_string()),
        "{e}"
    );
    assert!(scenario::list(&a.project)
        .unwrap()
        .iter()
        .all(|s| s.name != "bad"));
}

#[test]
fn the_cli_applies_and_compares() {
    let a = dc();
    let dir = tempfile::tempdir().unwrap();
    let edits = dir.path().join("edits.json");
    let road = best_track_road();
    std::fs::write(
        &edits,
        format!(r#"[{{"kind":"build","road_id":{road},"facility":"protected_track"}}]"#),
    )
    .unwrap();
    let bna = env!("CARGO_BIN_EXE_bna");
    let out = Command::new(bna)
        .args(["scenario", "apply"])
        .arg(&a.project)
        .arg(&edits)
        .args(["--name", "cli", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("scenario cli: overall score"), "{stdout}");
    let out = Command::new(bna)
        .args(["scenario", "compare"])
        .arg(&a.project)
        .args([BASE, "cli", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lib = scenario::compare(&a.project, BASE, "cli").unwrap();
    assert_eq!(v["people_gaining"].as_f64(), Some(lib.people_gaining));
    assert_eq!(
        v["scores"].as_array().unwrap().len(),
        a.stored.overall_scores.len()
    );
    // A malformed edits file is bad input (exit 2) naming the file.
    std::fs::write(&edits, r#"[{"kind":"paint"}]"#).unwrap();
    let out = Command::new(bna)
        .args(["scenario", "apply"])
        .arg(&a.project)
        .arg(&edits)
        .args(["--name", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("edits.json"));
}

#[test]
fn corridor_candidates_are_contiguous_runs_of_one_street_and_rank_like_an_apply() {
    let a = dc();
    let (all, eligible) = scenario::corridor_candidates(&a.stored, usize::MAX);
    assert_eq!(all.len(), eligible);
    assert!(
        !all.is_empty(),
        "DC has streets with several high-stress segments"
    );
    for c in &all {
        let roads: Vec<u32> = c.edits.iter().filter_map(|e| e.road_id()).collect();
        assert!(roads.len() >= 2, "{}", c.label);
        let segs: Vec<_> = roads
            .iter()
            .map(|&r| &a.stored.segments[r as usize])
            .collect();
        let name = segs[0].name.clone().expect("named");
        assert!(segs
            .iter()
            .all(|s| s.name.as_deref() == Some(name.as_str())));
        assert!(c.label.contains(&name), "{}", c.label);
        assert!(segs.iter().all(|s| !matches!(
            s.attrs.functional_class,
            FunctionalClass::Motorway
                | FunctionalClass::MotorwayLink
                | FunctionalClass::Trunk
                | FunctionalClass::TrunkLink
        )));
        // Contiguous: growing from the first segment through shared intersections reaches all.
        let mut reached = vec![segs[0]];
        let mut grew = true;
        while grew {
            grew = false;
            for s in &segs {
                let touches = reached.iter().any(|r| {
                    [r.intersection_from, r.intersection_to]
                        .iter()
                        .any(|i| *i == s.intersection_from || *i == s.intersection_to)
                });
                if touches && !reached.iter().any(|r| r.road_id == s.road_id) {
                    reached.push(s);
                    grew = true;
                }
            }
        }
        assert_eq!(reached.len(), segs.len(), "{} is one stretch", c.label);
        for e in &c.edits {
            assert!(
                matches!(
                    e,
                    Edit::Build {
                        facility: Facility::ProtectedTrack,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in all
        .iter()
        .flat_map(|c| c.edits.iter().filter_map(|e| e.road_id()))
    {
        assert!(seen.insert(r), "road {r} in two corridors");
    }
    let (two, n) = scenario::corridor_candidates(&a.stored, 2);
    assert_eq!(n, eligible);
    assert_eq!(two.len(), 2.min(eligible));
    assert_eq!(
        two[0].label, all[0].label,
        "the limit keeps the best by the prefilter"
    );
    let g =
        scenario::biggest_gains(&a.project, Candidates::Corridors { limit: 2 }, 2, &obs()).unwrap();
    assert_eq!(g.evaluated, two.len());
    let top = &g.ranked[0];
    let r = scenario::apply(&a.project, "corridor-top", &top.candidate.edits, &obs()).unwrap();
    assert_eq!(r.overall.unwrap() - r.base_overall.unwrap(), top.delta);
    assert!(top.delta > 0.0, "a whole stretch of track raises the score");
    // The CLI ranks the same candidates.
    let out = Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(["scenario", "gains"])
        .arg(&a.project)
        .args(["--corridors", "--candidates", "2", "--top", "1", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["ranked"][0]["candidate"]["label"], top.candidate.label);
    assert_eq!(cli["evaluated"], 2.min(eligible));
    let km = cli["ranked"][0]["length_km"].as_f64().expect("length_km");
    assert!((km - top.length_km).abs() < 1e-9 && km > 0.0, "{km}");
    assert_eq!(
        cli["ranked"][0]["people_gaining_per_km"].as_f64(),
        Some(top.people_gaining_per_km)
    );
    assert!(cli["without_gain"].is_u64());
    let text = Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(["scenario", "gains"])
        .arg(&a.project)
        .args(["--corridors", "--candidates", "2", "--top", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("gained nothing"), "{text}");
    assert!(text.contains("people/km"), "{text}");
    assert!(text.contains(&format!("{:.2}", top.length_km)), "{text}");
}

#[test]
fn gains_leave_out_candidates_that_gain_nothing_and_corridors_stay_in_the_study_area() {
    let a = dc();
    let g = scenario::biggest_gains(
        &a.project,
        Candidates::ProtectedTracks { limit: 12 },
        12,
        &obs(),
    )
    .unwrap();
    assert_eq!(g.evaluated, 12);
    assert_eq!(g.ranked.len() + g.without_gain, g.evaluated);
    for x in &g.ranked {
        assert!(x.delta > 0.0, "{} gains nothing", x.candidate.label);
        assert!(x.length_km > 0.0, "{}", x.candidate.label);
        let per_km = x.people_gaining / x.length_km;
        assert!((x.people_gaining_per_km - per_km).abs() < 1e-9);
    }

    let buffer = bna_engine::params::SCENARIO_CORRIDOR_BOUNDARY_BUFFER_M;
    let area = scenario::StudyArea::of(&a.stored);
    let (corridors, eligible) = scenario::corridor_candidates(&a.stored, usize::MAX);
    assert!(eligible > 0);
    for c in &corridors {
        for road in c.edits.iter().filter_map(Edit::road_id) {
            let seg = &a.stored.segments[road as usize];
            for p in seg.geom.points() {
                let d = area.distance_m(p);
                assert!(
                    d <= buffer,
                    "{}: road {road} runs {d:.0} m outside the boundary",
                    c.label
                );
            }
        }
    }
    // The rule removes something: the network reaches 2680 m past the boundary.
    let outside = a
        .stored
        .segments
        .iter()
        .filter(|s| s.geom.points().any(|p| area.distance_m(p) > buffer))
        .count();
    assert!(outside > 0, "the DC extract has roads beyond the buffer");
}
