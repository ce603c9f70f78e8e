//! Scenarios: "what if we build this?". A scenario is a named list of [`Edit`]s on top of the
//! stored analysis; applying it re-scores the edited network (`pipeline::rescore_loaded`) and
//! stores its scores in the project's `bna_scenario_*` tables. The imported data and the base
//! results are never altered; the base analysis is the implicit scenario [`BASE`].
//!
//! The desktop app and the CLI call [`apply`], [`list`], [`compare`], [`biggest_gains`] and
//! [`report_html`]; all of them take the project path and do their own I/O.

mod gains;
mod report;
mod store;

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::{
    AttributeChange, BikeInfra, Direction, IntersectionEdit, ProjectData, ScoreRow, SegmentEdit,
    SegmentStress, StageTiming, HIGH_STRESS,
};
use crate::params;
use crate::pipeline::{self, Observer, PipelineError, Stage};
use crate::progress::StageProgress;
use crate::store::StoreError;

pub use gains::{
    biggest_gains, corridor_candidates, protected_track_candidates, Candidate, Candidates, Gain,
    Gains, StudyArea,
};
pub use report::{is_report, report_html};

/// The name of the stored analysis when used as a scenario.
pub const BASE: &str = "base";

/// One edit of a scenario, as stored in `bna_scenarios.edits_json` and read from the CLI's
/// edits file (a JSON array), e.g. `{"kind":"build","road_id":12,"facility":"protected_track"}`,
/// `{"kind":"segment","road_id":12,"change":{"SpeedLimit":20}}`,
/// `{"kind":"crossing","int_id":7,"control":"rrfb"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// One attribute of one segment (speed limit, lanes, parking, bike infrastructure).
    Segment(SegmentEdit),
    /// A bike facility built in both directions of a segment.
    Build { road_id: u32, facility: Facility },
    /// A crossing control added at an intersection.
    Crossing(IntersectionEdit),
}

/// Bike facilities a planner can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facility {
    BikeLane,
    BufferedLane,
    ProtectedTrack,
}

impl Facility {
    fn infra(self) -> (BikeInfra, f64) {
        match self {
            Facility::BikeLane => (BikeInfra::Lane, params::SCENARIO_BIKE_LANE_WIDTH_FT),
            Facility::BufferedLane => (
                BikeInfra::BufferedLane,
                params::SCENARIO_BUFFERED_LANE_WIDTH_FT,
            ),
            Facility::ProtectedTrack => (BikeInfra::Track, params::SCENARIO_TRACK_WIDTH_FT),
        }
    }
}

impl Edit {
    /// The segment this edit changes, if any.
    pub fn road_id(&self) -> Option<u32> {
        match self {
            Edit::Segment(e) => Some(e.road_id),
            Edit::Build { road_id, .. } => Some(*road_id),
            Edit::Crossing(_) => None,
        }
    }
}

/// The segment and intersection edits that `edits` amount to, in order.
pub fn expand(edits: &[Edit]) -> (Vec<SegmentEdit>, Vec<IntersectionEdit>) {
    let mut segs = Vec::new();
    let mut ints = Vec::new();
    for e in edits {
        match e {
            Edit::Segment(s) => segs.push(s.clone()),
            Edit::Build { road_id, facility } => {
                let (infra, width) = facility.infra();
                for direction in [Direction::Ft, Direction::Tf] {
                    segs.push(SegmentEdit {
                        road_id: *road_id,
                        change: AttributeChange::BikeInfra {
                            direction,
                            infra: Some(infra),
                            width_ft: Some(width),
                        },
                    });
                }
            }
            Edit::Crossing(c) => ints.push(c.clone()),
        }
    }
    (segs, ints)
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Input(String),
}

impl ScenarioError {
    /// The user must change something (a name, an edit, the project), as for `PipelineError`.
    pub fn is_bad_input(&self) -> bool {
        match self {
            ScenarioError::Pipeline(p) => p.is_bad_input(),
            ScenarioError::Input(_) => true,
            _ => false,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self, ScenarioError::Pipeline(PipelineError::Cancelled))
    }
}

/// What [`apply`] stored.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    /// `overall_score` (normalized) of the base analysis and of the scenario.
    pub base_overall: Option<f64>,
    pub overall: Option<f64>,
    pub overall_scores: Vec<ScoreRow>,
    /// Segments whose stress was recomputed, and those whose stress changed.
    pub restressed: Vec<u32>,
    pub stress_changed: Vec<u32>,
    /// `stress`, `connectivity`, `scoring` of the re-scoring.
    pub timings: Vec<StageTiming>,
    /// Re-scoring time, without loading and storing.
    pub rescore_seconds: f64,
}

/// A stored scenario, as [`list`] reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub name: String,
    pub created_at: String,
    pub edits: Vec<Edit>,
    pub overall: Option<f64>,
    /// Scored against an earlier analysis than the project's latest: re-apply it.
    pub stale: bool,
}

/// One score row of two scenarios.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreDelta {
    pub score_id: String,
    pub human_explanation: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// `b − a` of `score_normalized`; `None` if either is NULL.
    pub delta: Option<f64>,
    pub a_original: Option<f64>,
    pub b_original: Option<f64>,
}

/// A block whose score or low-stress reach differs between the two scenarios.
#[derive(Debug, Clone, Serialize)]
pub struct BlockDelta {
    /// Index into `ProjectData::blocks` (`block_id` in the tables).
    pub block: u32,
    pub geoid: String,
    pub population: f64,
    pub a: f64,
    pub b: f64,
    pub delta: f64,
    /// Blocks reachable at low stress (connected pairs with `low_stress`).
    pub reach_a: u32,
    pub reach_b: u32,
}

/// A segment edited in either scenario or whose stress differs between them.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentDelta {
    pub road_id: u32,
    pub name: Option<String>,
    pub edited_in_a: bool,
    pub edited_in_b: bool,
    pub stress_a: SegmentStress,
    pub stress_b: SegmentStress,
    /// High-stress directions (segment or crossing) in b minus those in a: negative is better.
    pub high_stress_change: i32,
}

/// Scenario `b` against scenario `a` (see docs/methodology.md, "Scenarios").
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    /// Every row of `neighborhood_overall_scores`, in table order.
    pub scores: Vec<ScoreDelta>,
    /// Blocks whose score or low-stress reach changed, by `block`.
    pub blocks: Vec<BlockDelta>,
    /// By `road_id`.
    pub segments: Vec<SegmentDelta>,
    /// Population of the blocks that reach more blocks at low stress in b than in a.
    pub people_gaining: f64,
    pub blocks_gaining: usize,
    /// Population of the blocks that reach fewer blocks at low stress in b than in a.
    pub people_losing: f64,
    pub blocks_losing: usize,
}

impl Comparison {
    /// The delta of `overall_score`.
    pub fn overall_delta(&self) -> Option<f64> {
        self.scores
            .iter()
            .find(|s| s.score_id == "overall_score")
            .and_then(|s| s.delta)
    }
}

/// `overall_score` (normalized) of a score table.
pub fn overall_of(rows: &[ScoreRow]) -> Option<f64> {
    rows.iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized)
}

/// Re-scores the project at `project` with `edits` and stores the result as scenario `name`
/// (replacing a scenario of that name). The base results are not touched.
pub fn apply(
    project: &Path,
    name: &str,
    edits: &[Edit],
    obs: &dyn Observer,
) -> Result<ScenarioResult, ScenarioError> {
    check_new_name(project, name)?;
    check_edits(project, edits)?;
    let base = pipeline::load_results(project)?;
    apply_loaded(&base, project, name, edits, obs)
}

/// [`apply`] with the base results already loaded (by `pipeline::load_results(project)`).
pub fn apply_loaded(
    base: &ProjectData,
    project: &Path,
    name: &str,
    edits: &[Edit],
    obs: &dyn Observer,
) -> Result<ScenarioResult, ScenarioError> {
    check_new_name(project, name)?;
    check_edits(project, edits)?;
    let (segs, ints) = expand(edits);
    let t0 = Instant::now();
    let out = pipeline::rescore_loaded(base, project, &segs, &ints, obs)?;
    let rescore_seconds = t0.elapsed().as_secs_f64();
    let t_save = Instant::now();
    obs.stage_started(Stage::Save);
    let mut db = store::Db::open(project)?;
    db.save(name, edits, base, &out.data, rescore_seconds)?;
    obs.stage_finished(Stage::Save, t_save.elapsed().as_secs_f64(), false);
    Ok(ScenarioResult {
        name: name.to_owned(),
        base_overall: overall_of(&base.overall_scores),
        overall: overall_of(&out.data.overall_scores),
        overall_scores: out.data.overall_scores,
        restressed: out.restressed,
        stress_changed: out.stress_changed,
        timings: out.timings,
        rescore_seconds,
    })
}

/// The base analysis and every stored scenario, base first, then by name.
pub fn list(project: &Path) -> Result<Vec<ScenarioSummary>, ScenarioError> {
    let base = pipeline::load_results(project)?;
    let db = store::Db::open(project)?;
    let mut out = vec![ScenarioSummary {
        name: BASE.to_owned(),
        created_at: base.metadata.finished_at.clone(),
        edits: Vec::new(),
        overall: overall_of(&base.overall_scores),
        stale: false,
    }];
    out.extend(db.list()?);
    Ok(out)
}

/// Removes scenario `name`; an input error if there is none.
pub fn delete(project: &Path, name: &str) -> Result<(), ScenarioError> {
    if name == BASE {
        return Err(ScenarioError::Input(format!(
            "{}: \"{BASE}\" is the analysis itself, not a scenario, and cannot be deleted; \
             `bna scenario list` shows the scenarios",
            project.display()
        )));
    }
    check_name(project, name)?;
    store::Db::open(project)?.delete(name)
}

/// Scenario `b` against `a` (either may be [`BASE`]).
pub fn compare(project: &Path, a: &str, b: &str) -> Result<Comparison, ScenarioError> {
    let base = pipeline::load_results(project)?;
    compare_loaded(&base, project, a, b)
}

/// [`compare`] with the base results already loaded.
pub fn compare_loaded(
    base: &ProjectData,
    project: &Path,
    a: &str,
    b: &str,
) -> Result<Comparison, ScenarioError> {
    let db = store::Db::open(project)?;
    let va = db.view(base, a)?;
    let vb = db.view(base, b)?;
    Ok(diff(base, &va, &vb))
}

/// Scores, block scores, low-stress reach and stress of one scenario, complete (the tables
/// hold only what differs from the base for stress).
pub(crate) struct View {
    pub name: String,
    pub edits: Vec<Edit>,
    pub scores: Vec<ScoreRow>,
    /// By block index.
    pub block_score: Vec<f64>,
    pub reach: Vec<u32>,
    pub stress: Vec<SegmentStress>,
}

impl View {
    pub(crate) fn of_base(base: &ProjectData) -> View {
        let mut block_score = vec![0.0; base.blocks.len()];
        for s in &base.block_scores {
            block_score[s.block as usize] = s.overall_score;
        }
        View {
            name: BASE.to_owned(),
            edits: Vec::new(),
            scores: base.overall_scores.clone(),
            block_score,
            reach: low_stress_reach(base),
            stress: base.segments.iter().map(|s| s.stress).collect(),
        }
    }
}

/// Per block, how many blocks it reaches at low stress.
pub fn low_stress_reach(data: &ProjectData) -> Vec<u32> {
    let mut reach = vec![0u32; data.blocks.len()];
    for p in data.pairs.iter().filter(|p| p.low_stress) {
        reach[p.source as usize] += 1;
    }
    reach
}

fn high_directions(s: &SegmentStress) -> i32 {
    [s.ft_seg, s.tf_seg, s.ft_int, s.tf_int]
        .iter()
        .filter(|x| **x == Some(HIGH_STRESS))
        .count() as i32
}

fn diff(base: &ProjectData, a: &View, b: &View) -> Comparison {
    let scores = b
        .scores
        .iter()
        .map(|rb| {
            let ra = a.scores.iter().find(|r| r.score_id == rb.score_id);
            let an = ra.and_then(|r| r.score_normalized);
            ScoreDelta {
                score_id: rb.score_id.clone(),
                human_explanation: rb.human_explanation.clone(),
                a: an,
                b: rb.score_normalized,
                delta: an.zip(rb.score_normalized).map(|(x, y)| y - x),
                a_original: ra.and_then(|r| r.score_original),
                b_original: rb.score_original,
            }
        })
        .collect();
    let mut c = Comparison {
        a: a.name.clone(),
        b: b.name.clone(),
        scores,
        blocks: Vec::new(),
        segments: Vec::new(),
        people_gaining: 0.0,
        blocks_gaining: 0,
        people_losing: 0.0,
        blocks_losing: 0,
    };
    for (i, blk) in base.blocks.iter().enumerate() {
        let (sa, sb) = (a.block_score[i], b.block_score[i]);
        let (ra, rb) = (a.reach[i], b.reach[i]);
        if rb > ra {
            c.people_gaining += blk.population;
            c.blocks_gaining += 1;
        } else if rb < ra {
            c.people_losing += blk.population;
            c.blocks_losing += 1;
        }
        if sa != sb || ra != rb {
            c.blocks.push(BlockDelta {
                block: i as u32,
                geoid: blk.geoid.clone(),
                population: blk.population,
                a: sa,
                b: sb,
                delta: sb - sa,
                reach_a: ra,
                reach_b: rb,
            });
        }
    }
    let edited = |v: &View, r: u32| v.edits.iter().any(|e| e.road_id() == Some(r));
    for (i, seg) in base.segments.iter().enumerate() {
        let r = i as u32;
        let (ea, eb) = (edited(a, r), edited(b, r));
        let (sa, sb) = (a.stress[i], b.stress[i]);
        if ea || eb || sa != sb {
            c.segments.push(SegmentDelta {
                road_id: r,
                name: seg.name.clone(),
                edited_in_a: ea,
                edited_in_b: eb,
                stress_a: sa,
                stress_b: sb,
                high_stress_change: high_directions(&sb) - high_directions(&sa),
            });
        }
    }
    c
}

/// Longest scenario name, in characters: it is shown in lists, tables and report titles.
const MAX_NAME_CHARS: usize = 80;

/// A name for a new scenario: [`check_name`], and nothing that could disguise it where it is
/// listed (line breaks, control characters, bidirectional overrides, invisible characters,
/// spaces at either end).
fn check_new_name(project: &Path, name: &str) -> Result<(), ScenarioError> {
    check_name(project, name)?;
    let refuse = |why: String| {
        ScenarioError::Input(format!(
            "{}: scenario name {name:?} {why}; choose another --name of letters, digits, spaces \
             and punctuation",
            project.display()
        ))
    };
    if let Some(c) = name.chars().find(|&c| is_disguising(c)) {
        return Err(refuse(format!(
            "contains the control or invisible character U+{:04X}",
            u32::from(c)
        )));
    }
    if name.trim() != name {
        return Err(refuse("starts or ends with a space".into()));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(refuse(format!(
            "is {chars} characters long, more than {MAX_NAME_CHARS}"
        )));
    }
    Ok(())
}

/// `name` as it may be shown in a list: names stored before [`check_new_name`] existed can
/// still hold control or bidirectional characters, which are shown escaped (`\u{202e}`) so they
/// cannot rearrange or forge the lines around them.
pub fn printable_name(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.chars().any(is_disguising) {
        return name.into();
    }
    name.chars()
        .map(|c| match c {
            c if is_disguising(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

/// Control characters (newline, tab, C1), the Unicode bidirectional controls (embeddings,
/// overrides, isolates, marks) and invisible format characters.
fn is_disguising(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Every segment edit's value must be one a street can have.
fn check_edits(project: &Path, edits: &[Edit]) -> Result<(), ScenarioError> {
    for (i, e) in edits.iter().enumerate() {
        if let Edit::Segment(s) = e {
            crate::network::edits::check_change(&s.change).map_err(|why| {
                ScenarioError::Input(format!(
                    "{}: edit {i} (segment {}): {why}",
                    project.display(),
                    s.road_id
                ))
            })?;
        }
    }
    Ok(())
}

fn check_name(project: &Path, name: &str) -> Result<(), ScenarioError> {
    if name.trim().is_empty() || name == BASE {
        return Err(ScenarioError::Input(format!(
            "{}: scenario name {name:?} is reserved or empty; choose another --name",
            project.display()
        )));
    }
    Ok(())
}

/// An observer for work run many times at once: it forwards cancellation and reports nothing.
struct Quiet<'a>(&'a dyn Observer);

impl StageProgress for Quiet<'_> {
    fn set_total(&self, _: u64) {}
    fn inc(&self, _: u64) {}
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

impl Observer for Quiet<'_> {
    fn stage_started(&self, _: Stage) {}
    fn stage_finished(&self, _: Stage, _: f64, _: bool) {}
    fn warning(&self, _: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CrossingControl, LOW_STRESS};

    #[test]
    fn edits_read_from_json_in_every_form() {
        let json = r#"[
            {"kind":"build","road_id":3,"facility":"protected_track"},
            {"kind":"segment","road_id":4,"change":{"SpeedLimit":20}},
            {"kind":"segment","road_id":4,"change":{"Lanes":{"direction":"Ft","lanes":1}}},
            {"kind":"crossing","int_id":7,"control":"rrfb"}
        ]"#;
        let edits: Vec<Edit> = serde_json::from_str(json).unwrap();
        let (segs, ints) = expand(&edits);
        assert_eq!(segs.len(), 4, "a build is one edit per direction");
        for (s, d) in segs[..2].iter().zip([Direction::Ft, Direction::Tf]) {
            assert_eq!(s.road_id, 3);
            assert_eq!(
                s.change,
                AttributeChange::BikeInfra {
                    direction: d,
                    infra: Some(BikeInfra::Track),
                    width_ft: Some(params::SCENARIO_TRACK_WIDTH_FT)
                }
            );
        }
        assert_eq!(segs[2].change, AttributeChange::SpeedLimit(Some(20)));
        assert_eq!(
            ints,
            [IntersectionEdit {
                int_id: 7,
                control: CrossingControl::Rrfb
            }]
        );
        // Round trip: what is stored reads back the same.
        let back: Vec<Edit> =
            serde_json::from_str(&serde_json::to_string(&edits).unwrap()).unwrap();
        assert_eq!(back, edits);
        assert!(serde_json::from_str::<Vec<Edit>>(r#"[{"kind":"paint","road_id":1}]"#).is_err());
    }

    #[test]
    fn facilities_map_to_their_infrastructure() {
        let cases = [
            (Facility::BikeLane, BikeInfra::Lane),
            (Facility::BufferedLane, BikeInfra::BufferedLane),
            (Facility::ProtectedTrack, BikeInfra::Track),
        ];
        for (f, want) in cases {
            let (infra, width) = f.infra();
            assert_eq!(infra, want);
            assert!(width >= params::MIN_LOW_STRESS_LANE_WIDTH_FT, "{f:?}");
        }
    }

    #[test]
    fn high_directions_count_high_stress_only() {
        let s = SegmentStress {
            ft_seg: Some(HIGH_STRESS),
            tf_seg: Some(LOW_STRESS),
            ft_int: None,
            tf_int: Some(HIGH_STRESS),
        };
        assert_eq!(high_directions(&s), 2);
        assert_eq!(high_directions(&SegmentStress::default()), 0);
    }

    #[test]
    fn base_is_a_reserved_name() {
        let p = Path::new("x.bna");
        for bad in [BASE, "", "  "] {
            let e = check_name(p, bad).unwrap_err();
            assert!(e.is_bad_input() && e.to_string().contains("x.bna"), "{e}");
        }
        assert!(check_name(p, "tracks").is_ok());
    }

    #[test]
    fn stored_names_are_listed_with_their_tricks_escaped() {
        let cases = [
            ("protected tracks", "protected tracks"),
            ("Étape 2 — vélo", "Étape 2 — vélo"),
            ("a\u{202E}gnp.exe", "a\\u{202e}gnp.exe"),
            ("base\nnew", "base\\u{a}new"),
        ];
        for (stored, shown) in cases {
            assert_eq!(printable_name(stored), shown, "{stored:?}");
        }
    }

    #[test]
    fn new_names_cannot_disguise_themselves() {
        let p = Path::new("x.bna");
        // (name, None = accepted, or an error fragment)
        let long = "a".repeat(MAX_NAME_CHARS + 1);
        let cases = [
            ("protected tracks", None),
            ("Étape 2 — vélo", None),
            ("自転車", None),
            ("a\u{202E}gnp.exe", Some("U+202E")),
            ("base\nnew", Some("U+000A")),
            ("tab\there", Some("U+0009")),
            ("\u{2067}x\u{2069}", Some("U+2067")),
            ("zero\u{200B}width", Some("U+200B")),
            ("esc\u{1b}[31m", Some("U+001B")),
            (" padded", Some("starts or ends")),
            (long.as_str(), Some("more than 80")),
            ("base", Some("reserved")),
        ];
        for (name, want) in cases {
            match (check_new_name(p, name), want) {
                (Ok(()), None) => {}
                (Err(e), Some(frag)) => {
                    assert!(e.is_bad_input(), "{name:?}");
                    let msg = e.to_string();
                    assert!(
                        msg.contains(frag) && msg.contains("x.bna"),
                        "{name:?}: {msg}"
                    );
                    assert_eq!(msg.lines().count(), 1, "{name:?}: {msg}");
                }
                (got, _) => panic!("{name:?}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn edits_out_of_range_name_their_position() {
        let edit = |lanes| {
            Edit::Segment(SegmentEdit {
                road_id: 7,
                change: AttributeChange::Lanes {
                    direction: Direction::Ft,
                    lanes: Some(lanes),
                },
            })
        };
        let p = Path::new("x.bna");
        assert!(check_edits(p, &[edit(2)]).is_ok());
        let e = check_edits(p, &[edit(2), edit(u32::MAX)]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.bna: edit 1 (segment 7): 4294967295 lanes"),
            "{e}"
        );
    }
}
