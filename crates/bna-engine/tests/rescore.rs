//! `pipeline::rescore` on the bundled DC case: attribute edits re-score the stored network
//! without touching the project file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bna_engine::model::{
    AttributeChange, BikeInfra, Direction, FunctionalClass, ProjectData, SegmentEdit, HIGH_STRESS,
    LOW_STRESS,
};
use bna_engine::pipeline::{self, SilentObserver};
use bna_engine::store::Project;

fn data_dir() -> PathBuf {
    bna_test_support::repo_root().join("data")
}

struct Analysed {
    _dir: tempfile::TempDir,
    project: PathBuf,
    stored: ProjectData,
}

fn dc() -> &'static Analysed {
    static DC: OnceLock<Analysed> = OnceLock::new();
    DC.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("dc.bna");
        let req = bna_engine::pipeline::demo::dc_request(&data_dir(), project.clone());
        pipeline::run(&req, &SilentObserver::default()).expect("analyse DC");
        let stored = Project::create_or_open(&project)
            .unwrap()
            .read_results()
            .unwrap()
            .unwrap();
        Analysed {
            _dir: dir,
            project,
            stored,
        }
    })
}

fn rescore(edits: &[SegmentEdit]) -> pipeline::RescoreOutcome {
    pipeline::rescore(&dc().project, edits, &SilentObserver::default()).expect("rescore")
}

fn overall(d: &ProjectData) -> f64 {
    d.overall_scores
        .iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized)
        .expect("overall_score row")
}

fn sha(p: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(p).unwrap()).to_vec()
}

#[test]
fn no_edits_reproduce_the_stored_results_exactly() {
    let a = dc();
    let r = rescore(&[]);
    assert!(r.restressed.is_empty() && r.stress_changed.is_empty());
    assert_eq!(r.data.pairs, a.stored.pairs);
    assert_eq!(r.data.block_scores, a.stored.block_scores);
    assert_eq!(r.data.overall_scores, a.stored.overall_scores);
    assert_eq!(r.data.mileage, a.stored.mileage);
    let stages: Vec<&str> = r.timings.iter().map(|t| t.stage.as_str()).collect();
    assert_eq!(stages, ["load", "stress", "connectivity", "scoring"]);
}

#[test]
fn a_protected_track_makes_high_stress_roads_low_stress_and_never_lowers_the_score() {
    let a = dc();
    let before = sha(&a.project);
    let base = overall(&a.stored);
    // High-stress two-way major roads, each scored on its own and then all together.
    let candidates: Vec<u32> = a
        .stored
        .segments
        .iter()
        .filter(|s| {
            matches!(
                s.attrs.functional_class,
                FunctionalClass::Primary | FunctionalClass::Secondary | FunctionalClass::Tertiary
            ) && s.attrs.one_way.is_none()
                && s.stress.ft_seg == Some(HIGH_STRESS)
                && s.stress.tf_seg == Some(HIGH_STRESS)
        })
        .map(|s| s.road_id)
        .take(4)
        .collect();
    assert_eq!(candidates.len(), 4, "DC has high-stress major roads");
    let track = |road_id: u32, direction: Direction| SegmentEdit {
        road_id,
        change: AttributeChange::BikeInfra {
            direction,
            infra: Some(BikeInfra::Track),
            width_ft: Some(7.0),
        },
    };
    let sets: Vec<Vec<u32>> = candidates
        .iter()
        .map(|&r| vec![r])
        .chain([candidates.clone()])
        .collect();
    let mut all_scores = Vec::new();
    for set in sets {
        let edits: Vec<SegmentEdit> = set
            .iter()
            .flat_map(|&r| [track(r, Direction::Ft), track(r, Direction::Tf)])
            .collect();
        let r = rescore(&edits);
        for &road in &set {
            let s = &r.data.segments[road as usize];
            assert_eq!(s.stress.ft_seg, Some(LOW_STRESS), "road {road}");
            assert_eq!(s.stress.tf_seg, Some(LOW_STRESS), "road {road}");
            assert_eq!(s.attrs.ft_bike_infra, Some(BikeInfra::Track));
            assert!(r.stress_changed.contains(&road), "road {road}");
            assert!(r.restressed.contains(&road));
        }
        // Only the edited roads' own segment stress can change with bike infrastructure.
        for s in &r.data.segments {
            if !set.contains(&s.road_id) {
                assert_eq!(s.stress, a.stored.segments[s.road_id as usize].stress);
            }
        }
        let low_pairs = |d: &ProjectData| d.pairs.iter().filter(|p| p.low_stress).count();
        assert!(low_pairs(&r.data) >= low_pairs(&a.stored), "{set:?}");
        let score = overall(&r.data);
        assert!(score >= base, "{set:?}: {score} < {base}");
        all_scores.push(score);
    }
    // The four tracks together score at least as well as any one of them.
    let together = *all_scores.last().unwrap();
    assert!(all_scores.iter().all(|&s| s <= together), "{all_scores:?}");
    // Scenarios never alter the project.
    assert_eq!(sha(&a.project), before);
}

#[test]
fn calming_a_crossed_road_lowers_the_crossing_stress_of_its_neighbours() {
    let a = dc();
    let segs = &a.stored.segments;
    // A residential segment whose crossing at its far end is hard because of a major road
    // there (not a motorway or trunk, which stays hard whatever its attributes).
    let (road, int) = segs
        .iter()
        .find(|s| {
            s.attrs.functional_class == FunctionalClass::Residential
                && s.stress.ft_int == Some(HIGH_STRESS)
                && !s.stress_rules[2].contains("motorway")
        })
        .map(|s| (s.road_id, s.intersection_to))
        .expect("DC has hard crossings of major roads");
    let crossed: Vec<u32> = segs
        .iter()
        .filter(|s| {
            (s.intersection_from == int || s.intersection_to == int)
                && matches!(
                    s.attrs.functional_class,
                    FunctionalClass::Primary
                        | FunctionalClass::Secondary
                        | FunctionalClass::Tertiary
                )
        })
        .map(|s| s.road_id)
        .collect();
    assert!(!crossed.is_empty());
    let edits: Vec<SegmentEdit> = crossed
        .iter()
        .flat_map(|&r| {
            [
                AttributeChange::SpeedLimit(Some(20)),
                AttributeChange::Lanes {
                    direction: Direction::Ft,
                    lanes: Some(1),
                },
                AttributeChange::Lanes {
                    direction: Direction::Tf,
                    lanes: Some(1),
                },
            ]
            .map(|change| SegmentEdit { road_id: r, change })
        })
        .collect();
    let r = rescore(&edits);
    let s = &r.data.segments[road as usize];
    assert_eq!(s.stress.ft_int, Some(LOW_STRESS), "{:?}", s.stress_rules);
    assert!(r.stress_changed.contains(&road));
    assert!(!crossed.contains(&road));
}

#[test]
fn an_edit_of_a_missing_segment_is_refused() {
    let a = dc();
    let n = a.stored.segments.len() as u32;
    let err = pipeline::rescore(
        &a.project,
        &[SegmentEdit {
            road_id: n,
            change: AttributeChange::SpeedLimit(Some(20)),
        }],
        &SilentObserver::default(),
    )
    .err()
    .expect("refused");
    assert!(err.is_bad_input());
    let msg = err.to_string();
    assert!(
        msg.contains("dc.bna") && msg.contains(&n.to_string()),
        "{msg}"
    );

    let missing = a.project.with_file_name("missing.bna");
    let err = pipeline::rescore(&missing, &[], &SilentObserver::default())
        .err()
        .expect("refused");
    assert!(err.is_bad_input() && err.to_string().contains("missing.bna"));
    assert!(!missing.exists(), "rescore must not create a project");
}
