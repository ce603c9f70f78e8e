//! The scenario workbench ("what if we build this?"), a panel on the right: select roads or
//! a crossing on the map, choose what would be built, apply it as a named scenario; list,
//! show, compare and delete scenarios; rank the biggest gains; export a report.
//!
//! This module holds the state and what the panel starts; the widgets are in
//! `scenario_panel`, the map side in [`super::scenario_map`]. Every scenario operation is a
//! `bna_engine::scenario` call on a background [`Task`], which reads and writes the project file
//! itself; the UI only keeps what the calls return. The imported data and the base results
//! are never written (the library's guarantee).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use eframe::egui::{self, Context, Pos2, Rect};
use walkers::lon_lat;

use super::draw::{self, View};
use super::geometry::MapGeometry;
use super::jobs::JobError;
use super::scenario_map::{
    self as smap, click_select, format_delta, format_value, geom_of_road, MapInput, Overlay,
};
use super::scenario_route::{self as sroute, RoutePick};
use super::state::{BnaApp, Status};
use bna_engine::model::{
    AttributeChange, CrossingControl, Direction, IntersectionEdit, ProjectData, SegmentEdit,
};
use bna_engine::pipeline::{self, Observer, Stage};
use bna_engine::progress::StageProgress;
use bna_engine::scenario::{
    self, Candidates, Comparison, Edit, Facility, Gains, ScenarioError, ScenarioResult,
    ScenarioSummary, BASE,
};

/// What a map click selects while the panel is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditTool {
    Roads,
    Crossing,
}

/// What would be built on the selected roads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    Build(Facility),
    SpeedLimit,
    FewerLanes,
}

impl Upgrade {
    pub const ALL: [Upgrade; 5] = [
        Upgrade::Build(Facility::BikeLane),
        Upgrade::Build(Facility::BufferedLane),
        Upgrade::Build(Facility::ProtectedTrack),
        Upgrade::SpeedLimit,
        Upgrade::FewerLanes,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Upgrade::Build(Facility::BikeLane) => "Bike lane",
            Upgrade::Build(Facility::BufferedLane) => "Buffered bike lane",
            Upgrade::Build(Facility::ProtectedTrack) => "Protected bike track",
            Upgrade::SpeedLimit => "Lower speed limit",
            Upgrade::FewerLanes => "Fewer lanes",
        }
    }
}

/// Crossing controls in the order the panel offers them.
pub const CONTROLS: [(CrossingControl, &str); 4] = [
    (CrossingControl::Signal, "Traffic signal"),
    (CrossingControl::AllWayStop, "All-way stop"),
    (CrossingControl::Rrfb, "Flashing beacon (RRFB)"),
    (CrossingControl::Island, "Refuge island"),
];

fn control_label(c: CrossingControl) -> &'static str {
    CONTROLS
        .iter()
        .find(|(k, _)| *k == c)
        .map_or("Crossing", |(_, l)| l)
}

/// How the map colours blocks while a comparison is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockMode {
    /// Scenario B's block scores, on the usual score ramp.
    Score,
    /// B − A, on the diverging scale; unchanged blocks are not filled.
    Change,
}

/// A comparison drawn on the map: the map geometry carries scenario B's stress and the block
/// values of `mode`, so the ordinary layers draw it.
pub struct Shown {
    pub comparison: Comparison,
    /// B against the base when A is not the base: the stress and scores of B everywhere (the
    /// A–B comparison lists only where they differ).
    vs_base: Option<Comparison>,
    pub mode: BlockMode,
    pub geometry: MapGeometry,
    /// Roads edited in either scenario or whose stress differs (indices into the geometry).
    pub changed: Vec<usize>,
    /// Legend end of the change scale.
    pub scale: f64,
}

impl Shown {
    fn build(
        c: Comparison,
        vs_base: Option<Comparison>,
        mode: BlockMode,
        base: &MapGeometry,
    ) -> Shown {
        let mut s = Shown {
            comparison: c,
            vs_base,
            mode,
            geometry: base.clone(),
            changed: Vec::new(),
            scale: 1.0,
        };
        s.refresh(base);
        s
    }

    /// Scenario B's city scores, in the rows the base's are stored as.
    pub fn scores_b(&self) -> Vec<bna_engine::model::ScoreRow> {
        self.comparison
            .scores
            .iter()
            .map(|s| bna_engine::model::ScoreRow {
                score_id: s.score_id.clone(),
                score_original: s.b_original,
                score_normalized: s.b,
                human_explanation: s.human_explanation.clone(),
            })
            .collect()
    }

    /// Scenario B's block overall scores: the base's, with those B changed.
    pub fn block_scores_b(&self, base: &[bna_engine::model::BlockScores]) -> Vec<f64> {
        let b = self.vs_base.as_ref().unwrap_or(&self.comparison);
        let changed: std::collections::HashMap<u32, f64> =
            b.blocks.iter().map(|d| (d.block, d.b)).collect();
        base.iter()
            .map(|s| changed.get(&s.block).copied().unwrap_or(s.overall_score))
            .collect()
    }

    /// Recomputes the geometry's stress and block values from the base's.
    pub(super) fn refresh(&mut self, base: &MapGeometry) {
        let c = &self.comparison;
        let b = self.vs_base.as_ref().unwrap_or(c);
        let g = &mut self.geometry;
        for (seg, orig) in g.segments.iter_mut().zip(&base.segments) {
            seg.ft = orig.ft;
            seg.tf = orig.tf;
        }
        for s in &b.segments {
            if let Some(i) = geom_of_road(g, s.road_id) {
                g.segments[i].ft = s.stress_b.ft_seg;
                g.segments[i].tf = s.stress_b.tf_seg;
            }
        }
        match self.mode {
            BlockMode::Score => {
                for (blk, orig) in g.blocks.iter_mut().zip(&base.blocks) {
                    blk.score = orig.score;
                }
                for d in &b.blocks {
                    if let Some(i) = g.block_geom(d.block) {
                        if g.blocks[i].score.is_some() {
                            g.blocks[i].score = Some(d.b);
                        }
                    }
                }
            }
            BlockMode::Change => {
                for blk in &mut g.blocks {
                    blk.score = None;
                }
                for d in c.blocks.iter().filter(|d| d.delta != 0.0) {
                    if let Some(i) = g.block_geom(d.block) {
                        g.blocks[i].score = Some(d.delta);
                    }
                }
            }
        }
        let max = c.blocks.iter().map(|d| d.delta.abs()).fold(0.0, f64::max);
        self.scale = smap::nice_scale(max);
        self.changed = c
            .segments
            .iter()
            .filter_map(|s| geom_of_road(g, s.road_id))
            .collect();
    }
}

/// Progress and cancellation of a task, as the library's observer.
struct TaskProgress {
    total: AtomicU64,
    done: AtomicU64,
    cancel: AtomicBool,
    stage: Mutex<Option<Stage>>,
    repaint: Option<Context>,
}

impl TaskProgress {
    fn wake(&self) {
        if let Some(ctx) = &self.repaint {
            ctx.request_repaint();
        }
    }
}

impl StageProgress for TaskProgress {
    fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

impl Observer for TaskProgress {
    fn stage_started(&self, stage: Stage) {
        *self.stage.lock().unwrap_or_else(|e| e.into_inner()) = Some(stage);
        self.wake();
    }
    fn stage_finished(&self, _: Stage, _: f64, _: bool) {}
    fn warning(&self, _: &str) {}
}

/// What a task returns.
enum Output {
    Listed(Vec<ScenarioSummary>),
    Applied(Box<ScenarioResult>, Vec<ScenarioSummary>),
    Compared(Box<(Comparison, Option<Comparison>)>, BlockMode),
    Deleted(String, Vec<ScenarioSummary>),
    Gains(Box<Gains>),
    Report(PathBuf),
}

type Slot = Arc<Mutex<Option<Result<Output, JobError>>>>;

/// One scenario call on its own thread.
pub struct Task {
    pub what: String,
    progress: Arc<TaskProgress>,
    slot: Slot,
    handle: Option<JoinHandle<()>>,
}

impl Task {
    fn spawn(
        what: String,
        repaint: Option<Context>,
        work: impl FnOnce(&TaskProgress) -> Result<Output, ScenarioError> + Send + 'static,
    ) -> Task {
        let progress = Arc::new(TaskProgress {
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            stage: Mutex::new(None),
            repaint,
        });
        let slot: Slot = Arc::new(Mutex::new(None));
        let (p, s) = (Arc::clone(&progress), Arc::clone(&slot));
        let handle = std::thread::Builder::new()
            .name("bna-scenario".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(p.as_ref())));
                let r = match r {
                    Ok(Ok(o)) => Ok(o),
                    Ok(Err(e)) if e.is_cancelled() => Err(JobError::Cancelled),
                    Ok(Err(e)) => Err(JobError::Failed(e.to_string())),
                    Err(_) => Err(JobError::Failed(
                        "internal error: the scenario task stopped unexpectedly".into(),
                    )),
                };
                *s.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                p.wake();
            });
        let handle = match handle {
            Ok(h) => Some(h),
            Err(e) => {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Err(JobError::Failed(
                    format!("cannot start a background thread: {e}"),
                )));
                None
            }
        };
        Task {
            what,
            progress,
            slot,
            handle,
        }
    }

    fn take(&mut self) -> Option<Result<Output, JobError>> {
        let r = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        if r.is_some() {
            self.join();
        }
        r
    }

    fn cancel(&self) {
        self.progress.cancel.store(true, Ordering::Relaxed);
    }

    fn join(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }

    /// (done, total) of the current stage.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.progress.done.load(Ordering::Relaxed),
            self.progress.total.load(Ordering::Relaxed),
        )
    }
}

/// The workbench's state. Fields the UI tests read are public.
pub struct ScenarioState {
    pub open: bool,
    pub tool: EditTool,
    /// Roads selected for an edit: indices into the map geometry's segments.
    pub selected: BTreeSet<usize>,
    /// The intersection selected for a crossing edit: its `int_id` and local position.
    pub crossing: Option<(u32, Pos2)>,
    pub upgrade: Upgrade,
    pub control: CrossingControl,
    pub speed_mph: u32,
    pub lanes: u32,
    pub name: String,
    /// The user typed the name; until then it follows the selection.
    pub(super) name_edited: bool,
    /// The base first, then the stored scenarios (`scenario::list`).
    pub list: Vec<ScenarioSummary>,
    listed: Option<PathBuf>,
    pub applied: Option<ScenarioResult>,
    pub compare_a: String,
    pub compare_b: String,
    pub shown: Option<Shown>,
    pub gains: Option<Gains>,
    /// Geometry indices of each ranked gain's roads, in rank order.
    pub gain_roads: Vec<Vec<usize>>,
    /// The first road of each, for the map's rank markers.
    gain_heads: Vec<usize>,
    pub gains_candidates: usize,
    pub gains_top: usize,
    /// Rank whole stretches of a street instead of single segments.
    pub corridors: bool,
    /// The last outcome, shown under the Apply button: Ok(message) or Err(reason).
    pub message: Option<Result<String, String>>,
    pub gains_message: Option<Result<String, String>>,
    pub(crate) box_origin: Option<Pos2>,
    pub route: RoutePick,
    pub(super) task: Option<Task>,
    pub(super) gains_task: Option<Task>,
    repaint: Option<Context>,
}

impl Default for ScenarioState {
    fn default() -> Self {
        ScenarioState::new(false, None)
    }
}

impl ScenarioState {
    fn new(open: bool, repaint: Option<Context>) -> Self {
        ScenarioState {
            open,
            tool: EditTool::Roads,
            selected: BTreeSet::new(),
            crossing: None,
            upgrade: Upgrade::Build(Facility::ProtectedTrack),
            control: CrossingControl::Signal,
            speed_mph: 20,
            lanes: 1,
            name: String::new(),
            name_edited: false,
            list: Vec::new(),
            listed: None,
            applied: None,
            compare_a: BASE.to_owned(),
            compare_b: BASE.to_owned(),
            shown: None,
            gains: None,
            gain_roads: Vec::new(),
            gain_heads: Vec::new(),
            gains_candidates: bna_engine::params::SCENARIO_GAINS_DEFAULT_CANDIDATES,
            gains_top: 10,
            corridors: false,
            message: None,
            gains_message: None,
            box_origin: None,
            route: RoutePick::default(),
            task: None,
            gains_task: None,
            repaint,
        }
    }
}

impl Drop for ScenarioState {
    fn drop(&mut self) {
        // A task writing the project must finish its transaction, not die mid-write.
        for t in [&mut self.task, &mut self.gains_task].into_iter().flatten() {
            t.cancel();
            t.join();
        }
    }
}

impl ScenarioState {
    /// A new project: nothing of the old one's scenarios applies; the panel stays as it was.
    pub(crate) fn reset(&mut self) {
        // Dropping the old state waits for its tasks (see `Drop`).
        *self = ScenarioState::new(self.open, self.repaint.take());
    }

    /// The running scenario call other than the gains search, if any.
    pub fn task(&self) -> Option<&Task> {
        self.task.as_ref()
    }

    pub fn gains_task(&self) -> Option<&Task> {
        self.gains_task.as_ref()
    }

    pub fn is_busy(&self) -> bool {
        self.task.is_some() || self.gains_task.is_some()
    }

    /// The geometry the map draws while the panel shows a comparison.
    /// The scenario the map shows, when it is not the base.
    pub fn shown_scenario(&self) -> Option<&Shown> {
        self.shown
            .as_ref()
            .filter(|s| self.open && s.comparison.b != bna_engine::scenario::BASE)
    }

    pub(crate) fn map_geometry(&self) -> Option<&MapGeometry> {
        self.shown
            .as_ref()
            .filter(|_| self.open)
            .map(|s| &s.geometry)
    }

    /// The legend end of the change scale, when blocks are coloured by change.
    pub(crate) fn change_scale(&self) -> Option<f64> {
        self.shown
            .as_ref()
            .filter(|s| self.open && s.mode == BlockMode::Change)
            .map(|s| s.scale)
    }

    /// Whether the map shows roads a scenario changed (for the legend).
    pub(crate) fn shows_changes(&self) -> bool {
        self.open && self.shown.as_ref().is_some_and(|s| !s.changed.is_empty())
    }

    pub(crate) fn overlay(&self, pointer: Option<Pos2>) -> Option<Overlay<'_>> {
        if !self.open {
            return None;
        }
        let changed = self.shown.as_ref().map_or(&[][..], |s| &s.changed[..]);
        Some(Overlay {
            selected: &self.selected,
            crossing: self
                .crossing
                .filter(|_| self.tool == EditTool::Crossing)
                .map(|c| c.1),
            changed,
            gains: &self.gain_heads,
            route_start: self.route.start.filter(|_| self.tool == EditTool::Roads),
            box_rect: self
                .box_origin
                .zip(pointer)
                .map(|(a, b)| Rect::from_two_pos(a, b)),
        })
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.list.iter().map(|s| s.name.clone()).collect()
    }
}

/// The edits that building `upgrade` on `roads` means. Fewer lanes sets the lanes of each
/// direction that has more than `lanes` (or, when the lanes are unknown, of both).
pub fn edits_for(
    data: &ProjectData,
    roads: &[u32],
    upgrade: Upgrade,
    speed_mph: u32,
    lanes: u32,
) -> Vec<Edit> {
    let mut out = Vec::new();
    for &road_id in roads {
        match upgrade {
            Upgrade::Build(facility) => out.push(Edit::Build { road_id, facility }),
            Upgrade::SpeedLimit => out.push(Edit::Segment(SegmentEdit {
                road_id,
                change: AttributeChange::SpeedLimit(Some(speed_mph)),
            })),
            Upgrade::FewerLanes => {
                let Some(seg) = data.segments.get(road_id as usize) else {
                    continue;
                };
                let a = &seg.attrs;
                let unknown = a.ft_lanes.is_none() && a.tf_lanes.is_none();
                for (direction, now) in [(Direction::Ft, a.ft_lanes), (Direction::Tf, a.tf_lanes)] {
                    if unknown || now.is_some_and(|n| n > lanes) {
                        out.push(Edit::Segment(SegmentEdit {
                            road_id,
                            change: AttributeChange::Lanes {
                                direction,
                                lanes: Some(lanes),
                            },
                        }));
                    }
                }
            }
        }
    }
    out
}

/// A name for the edit that says what and where ("Protected bike track on 14th Street NW and
/// 2 more"), not taken by an existing scenario.
pub fn default_name(
    what: &str,
    places: &[String],
    extra_places: usize,
    taken: &[String],
) -> String {
    let mut name = match places.first() {
        None => return String::new(),
        Some(first) => format!("{what} on {first}"),
    };
    if extra_places > 0 {
        name.push_str(&format!(" and {extra_places} more"));
    }
    unique_name(name, taken)
}

/// `name`, or `name (2)`, `name (3)` … if taken: applying under a taken name would replace
/// that scenario.
pub fn unique_name(name: String, taken: &[String]) -> String {
    let mut unique = name.clone();
    let mut k = 2;
    while taken.contains(&unique) || unique == BASE {
        unique = format!("{name} ({k})");
        k += 1;
    }
    unique
}

/// Distinct street names of `roads`, in order, unnamed roads as "road N".
pub(super) fn road_names(data: &ProjectData, roads: impl Iterator<Item = u32>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in roads {
        let n = data
            .segments
            .get(r as usize)
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| format!("road {r}"));
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Names of the streets meeting at intersection `int_id`, joined with " & ".
pub(super) fn crossing_place(data: &ProjectData, int_id: u32) -> String {
    let names = road_names(
        data,
        data.segments
            .iter()
            .filter(|s| s.intersection_from == int_id || s.intersection_to == int_id)
            .map(|s| s.road_id),
    );
    let named: Vec<&String> = names.iter().filter(|n| !n.starts_with("road ")).collect();
    if named.is_empty() {
        format!("intersection {int_id}")
    } else {
        named
            .iter()
            .take(3)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

impl BnaApp {
    pub fn scenarios(&self) -> &ScenarioState {
        &self.scenario
    }

    pub fn scenarios_mut(&mut self) -> &mut ScenarioState {
        &mut self.scenario
    }

    /// Opens the workbench; map clicks then select for editing instead of inspecting.
    pub fn open_scenarios(&mut self) {
        self.scenario.open = true;
        self.selection = None;
        self.drawing = None;
    }

    fn project_path(&self) -> Option<PathBuf> {
        self.project.as_ref().map(|p| p.path.clone())
    }

    fn spawn_task(
        &mut self,
        what: String,
        work: impl FnOnce(&TaskProgress) -> Result<Output, ScenarioError> + Send + 'static,
    ) {
        if self.job.is_none() {
            self.status = Status::Working(what.clone());
        }
        self.scenario.task = Some(Task::spawn(what, self.scenario.repaint.clone(), work));
    }

    /// Per frame: collect finished tasks, read the scenario list of a newly opened project.
    pub(crate) fn scenario_frame(&mut self, ctx: &Context) {
        self.scenario.repaint = Some(ctx.clone());
        if let Some(r) = self.scenario.task.as_mut().and_then(|t| t.take()) {
            self.scenario.task = None;
            self.task_done(r);
        }
        if let Some(r) = self.scenario.gains_task.as_mut().and_then(|t| t.take()) {
            self.scenario.gains_task = None;
            self.gains_done(r);
        }
        let path = self
            .project_path()
            .filter(|p| self.scenario.listed.as_ref() != Some(p));
        if let Some(path) = path.filter(|_| self.scenario.open && self.scenario.task.is_none()) {
            self.scenario.listed = Some(path.clone());
            self.spawn_task("Reading the scenarios".into(), move |_| {
                Ok(Output::Listed(scenario::list(&path)?))
            });
        }
        if self.scenario.open
            && !ctx.egui_wants_keyboard_input()
            && ctx.input(|i| i.key_pressed(egui::Key::Escape))
            && !self.scenario.route.cancel()
        {
            self.scenario.selected.clear();
            self.scenario.crossing = None;
            self.scenario.box_origin = None;
        }
        if self.scenario.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn finish_status(&mut self, r: &Result<String, String>) {
        if self.job.is_some() {
            return;
        }
        self.status = match r {
            Ok(m) => Status::Done(m.clone()),
            Err(m) if m == "cancelled" => Status::Cancelled,
            Err(m) => Status::Failed(m.clone()),
        };
    }

    fn task_done(&mut self, r: Result<Output, JobError>) {
        let s = &mut self.scenario;
        let msg: Result<String, String> = match r {
            Err(e) => Err(e.to_string()),
            Ok(Output::Listed(l)) => {
                s.list = l;
                // Ready to compare the newest work against the base.
                if s.compare_a == s.compare_b {
                    if let Some(last) = s.list.iter().rev().find(|x| x.name != BASE) {
                        s.compare_a = BASE.to_owned();
                        s.compare_b = last.name.clone();
                    }
                }
                self.status = Status::Done(format!(
                    "{} scenario(s) in the project",
                    self.scenario.list.len().saturating_sub(1)
                ));
                return;
            }
            Ok(Output::Applied(r, l)) => {
                s.list = l;
                let delta = r.overall.zip(r.base_overall).map(|(b, a)| b - a);
                let m = format!(
                    "Applied \"{}\": overall score {} ({} against the base), re-scored in {:.2} s",
                    r.name,
                    format_value(r.overall),
                    format_delta(delta),
                    r.rescore_seconds
                );
                s.selected.clear();
                s.crossing = None;
                s.name_edited = false;
                s.compare_a = BASE.to_owned();
                s.compare_b = r.name.clone();
                let name = r.name.clone();
                s.applied = Some(*r);
                s.message = Some(Ok(m.clone()));
                self.finish_status(&Ok(m));
                self.start_compare(BASE, &name, BlockMode::Score);
                return;
            }
            Ok(Output::Compared(c, mode)) => {
                let (c, vs_base) = *c;
                if let Some(p) = &self.project {
                    let m = format!("Showing \"{}\" against \"{}\"", c.b, c.a);
                    s.shown = Some(Shown::build(c, vs_base, mode, &p.geometry));
                    // The map's banner says what is shown; the panel keeps the last
                    // outcome (e.g. the score of the scenario just applied).
                    self.finish_status(&Ok(m));
                }
                return;
            }
            Ok(Output::Deleted(name, l)) => {
                s.list = l;
                if s.shown
                    .as_ref()
                    .is_some_and(|v| v.comparison.a == name || v.comparison.b == name)
                {
                    s.shown = None;
                }
                for x in [&mut s.compare_a, &mut s.compare_b] {
                    if *x == name {
                        *x = BASE.to_owned();
                    }
                }
                Ok(format!("Deleted \"{name}\""))
            }
            Ok(Output::Report(p)) => Ok(format!("Report written to {}", p.display())),
            Ok(Output::Gains(_)) => return,
        };
        self.scenario.message = Some(msg.clone());
        self.finish_status(&msg);
    }

    fn gains_done(&mut self, r: Result<Output, JobError>) {
        let msg = match r {
            Ok(Output::Gains(g)) => {
                let m = format!(
                    "Re-scored {} of {} candidates in {:.1} s",
                    g.evaluated, g.eligible, g.seconds
                );
                if let Some(p) = &self.project {
                    self.scenario.gain_roads = g
                        .ranked
                        .iter()
                        .map(|x| {
                            x.candidate
                                .edits
                                .iter()
                                .filter_map(|e| e.road_id())
                                .filter_map(|r| geom_of_road(&p.geometry, r))
                                .collect()
                        })
                        .collect();
                }
                self.scenario.gain_heads = self
                    .scenario
                    .gain_roads
                    .iter()
                    .filter_map(|r| r.first().copied())
                    .collect();
                self.scenario.gains = Some(*g);
                Ok(m)
            }
            Ok(_) => return,
            Err(JobError::Cancelled) => Err("Biggest gains: cancelled".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        self.finish_status(&msg);
        self.scenario.gains_message = Some(msg);
    }

    /// The edits the panel describes for the current selection.
    pub fn pending_edits(&self) -> Vec<Edit> {
        let Some(p) = &self.project else {
            return Vec::new();
        };
        let s = &self.scenario;
        match s.tool {
            EditTool::Roads => {
                let roads: Vec<u32> = s
                    .selected
                    .iter()
                    .filter_map(|&i| p.geometry.segments.get(i).map(|g| g.segment))
                    .collect();
                edits_for(&p.data, &roads, s.upgrade, s.speed_mph, s.lanes)
            }
            EditTool::Crossing => s
                .crossing
                .map(|(int_id, _)| {
                    vec![Edit::Crossing(IntersectionEdit {
                        int_id,
                        control: s.control,
                    })]
                })
                .unwrap_or_default(),
        }
    }

    /// The name the panel proposes for the current selection.
    pub(super) fn proposed_name(&self) -> String {
        let Some(p) = &self.project else {
            return String::new();
        };
        let s = &self.scenario;
        let taken = s.names();
        match s.tool {
            EditTool::Roads => {
                let names = road_names(
                    &p.data,
                    s.selected
                        .iter()
                        .filter_map(|&i| p.geometry.segments.get(i).map(|g| g.segment)),
                );
                let what = match s.upgrade {
                    Upgrade::SpeedLimit => format!("{} mph", s.speed_mph),
                    Upgrade::FewerLanes => format!("{} lane(s) each way", s.lanes),
                    u => u.label().to_owned(),
                };
                default_name(
                    &what,
                    &names[..names.len().min(1)],
                    names.len().saturating_sub(1),
                    &taken,
                )
            }
            EditTool::Crossing => match s.crossing {
                Some((id, _)) => unique_name(
                    format!(
                        "{} at {}",
                        control_label(s.control),
                        crossing_place(&p.data, id)
                    ),
                    &taken,
                ),
                None => String::new(),
            },
        }
    }

    /// Re-scores the project with the panel's edits as scenario `name` (background thread).
    pub fn apply_scenario(&mut self) {
        let edits = self.pending_edits();
        let name = self.scenario.name.trim().to_owned();
        if edits.is_empty() {
            self.scenario.message = Some(Err(match self.scenario.tool {
                EditTool::Roads => "Select one or more roads on the map first".into(),
                EditTool::Crossing => "Select an intersection on the map first".into(),
            }));
            return;
        }
        self.start_apply(name, edits);
    }

    /// Scores a stale scenario (scored against an earlier analysis) again with its own edits
    /// on the project's current analysis.
    pub fn reapply_scenario(&mut self, name: &str) {
        let edits = self.scenario.list.iter().find(|s| s.name == name);
        if let Some(edits) = edits.map(|s| s.edits.clone()) {
            self.start_apply(name.to_owned(), edits);
        }
    }

    fn start_apply(&mut self, name: String, edits: Vec<Edit>) {
        let Some(path) = self.project_path() else {
            return;
        };
        if self.scenario.task.is_some() {
            return;
        }
        self.scenario.message = None;
        self.spawn_task(format!("Re-scoring \"{name}\""), move |obs| {
            let r = scenario::apply(&path, &name, &edits, obs)?;
            let list = scenario::list(&path)?;
            Ok(Output::Applied(Box::new(r), list))
        });
    }

    fn start_compare(&mut self, a: &str, b: &str, mode: BlockMode) {
        let Some(path) = self.project_path() else {
            return;
        };
        if self.scenario.task.is_some() {
            return;
        }
        let (a, b) = (a.to_owned(), b.to_owned());
        self.scenario.compare_a = a.clone();
        self.scenario.compare_b = b.clone();
        self.spawn_task(format!("Comparing \"{b}\" with \"{a}\""), move |_| {
            // One load of the base for both comparisons.
            let base = pipeline::load_results(&path)?;
            let c = scenario::compare_loaded(&base, &path, &a, &b)?;
            let vs_base = if a == BASE {
                None
            } else {
                Some(scenario::compare_loaded(&base, &path, BASE, &b)?)
            };
            Ok(Output::Compared(Box::new((c, vs_base)), mode))
        });
    }

    /// Shows scenario `name` on the map (its stress and block scores, roads it changed).
    pub fn show_scenario(&mut self, name: &str) {
        self.start_compare(BASE, name, BlockMode::Score);
    }

    /// Compares `b` against `a`: the map colours blocks by the change of their score.
    pub fn compare_scenarios(&mut self, a: &str, b: &str) {
        self.start_compare(a, b, BlockMode::Change);
    }

    pub fn delete_scenario(&mut self, name: &str) {
        let Some(path) = self.project_path() else {
            return;
        };
        if self.scenario.task.is_some() {
            return;
        }
        let name = name.to_owned();
        self.spawn_task(format!("Deleting \"{name}\""), move |_| {
            scenario::delete(&path, &name)?;
            Ok(Output::Deleted(name, scenario::list(&path)?))
        });
    }

    /// Ranks protected tracks on the most promising roads (background, cancellable).
    pub fn find_gains(&mut self) {
        let Some(path) = self.project_path() else {
            return;
        };
        if self.scenario.gains_task.is_some() {
            return;
        }
        let limit = self.scenario.gains_candidates.max(1);
        let top = self.scenario.gains_top.max(1);
        let candidates = if self.scenario.corridors {
            Candidates::Corridors { limit }
        } else {
            Candidates::ProtectedTracks { limit }
        };
        self.scenario.gains = None;
        self.scenario.gain_roads.clear();
        self.scenario.gain_heads.clear();
        self.scenario.gains_message = None;
        let what = "Finding the biggest gains".to_owned();
        if self.job.is_none() {
            self.status = Status::Working(what.clone());
        }
        self.scenario.gains_task = Some(Task::spawn(
            what,
            self.scenario.repaint.clone(),
            move |obs| {
                let g = scenario::biggest_gains(&path, candidates, top, obs)?;
                Ok(Output::Gains(Box::new(g)))
            },
        ));
    }

    pub fn cancel_gains(&mut self) {
        if let Some(t) = &self.scenario.gains_task {
            t.cancel();
        }
    }

    /// Selects the roads of ranked gain `rank` (0 = best) for a protected track, and zooms
    /// to them.
    pub fn pick_gain(&mut self, rank: usize) {
        let Some(roads) = self.scenario.gain_roads.get(rank).cloned() else {
            return;
        };
        let s = &mut self.scenario;
        s.tool = EditTool::Roads;
        s.upgrade = Upgrade::Build(Facility::ProtectedTrack);
        s.selected = roads.iter().copied().collect();
        s.name_edited = false;
        self.zoom_to_segments(&roads);
    }

    /// Centres the map on the roads `idx` (geometry indices) at street zoom.
    pub fn zoom_to_segments(&mut self, idx: &[usize]) {
        let Some(p) = &self.project else { return };
        let g = &p.geometry;
        let r = idx
            .iter()
            .filter_map(|&i| g.segments.get(i))
            .fold(Rect::NOTHING, |r, s| r.union(s.bbox));
        if !r.is_finite() || r.is_negative() {
            return;
        }
        // At least a few hundred metres around (local units are zoom-0 pixels: 256 per
        // world), so the road is seen in its neighbourhood.
        let min = 3.0e-3;
        let r = Rect::from_center_size(r.center(), r.size().max(egui::vec2(min, min)) * 1.6);
        let size = self
            .last_view
            .map_or(egui::vec2(800.0, 600.0), |v| v.screen.size());
        let z = draw::fit_zoom(r, size).min(17.0);
        let (lon, lat) = g.to_lon_lat(r.center());
        let _ = self.map_memory.set_zoom(z);
        self.map_memory.center_at(lon_lat(lon, lat));
    }

    /// Writes the HTML report of the compared pair to `out` (background thread).
    pub fn export_report(&mut self, out: &Path) {
        let (a, b) = (
            self.scenario.compare_a.clone(),
            self.scenario.compare_b.clone(),
        );
        let Some(path) = self.project_path() else {
            return;
        };
        if a == b {
            self.scenario.message = Some(Err(
                "Choose two different scenarios under Compare before exporting a report".into(),
            ));
            return;
        }
        if self.scenario.task.is_some() {
            return;
        }
        let out = out.to_path_buf();
        self.spawn_task(format!("Writing the report of \"{b}\""), move |_| {
            let html = scenario::report_html(&path, &a, &b)?;
            std::fs::write(&out, html).map_err(|e| {
                ScenarioError::Input(format!(
                    "{}: cannot write the report ({e}); choose a folder you can write to",
                    out.display()
                ))
            })?;
            Ok(Output::Report(out))
        });
    }

    /// Applies a pointer action on the map (see [`smap::map_input`]).
    pub(crate) fn scenario_map_input(&mut self, input: MapInput, view: &View) {
        let Some(p) = &self.project else { return };
        let g = &p.geometry;
        let s = &mut self.scenario;
        match input {
            MapInput::Click { pos, toggle } => match s.tool {
                EditTool::Roads => {
                    let hit = g.nearest_segment(view.to_local(pos), 6.0 / view.scale);
                    if s.route.on {
                        sroute::pick(&mut s.route, &mut s.selected, &p.data, g, hit);
                    } else {
                        click_select(&mut s.selected, hit, toggle);
                    }
                }
                EditTool::Crossing => {
                    let local = view.to_local(pos);
                    let pts = p
                        .data
                        .intersections
                        .iter()
                        .map(|i| (i.int_id, g.to_local(i.point_ll.x(), i.point_ll.y())));
                    s.crossing = smap::nearest_point(pts, local, 10.0 / view.scale).map(|id| {
                        let i = p.data.intersections.iter().find(|i| i.int_id == id);
                        let pos = i.map_or(local, |i| g.to_local(i.point_ll.x(), i.point_ll.y()));
                        (id, pos)
                    });
                }
            },
            MapInput::BoxStart(o) => s.box_origin = Some(o),
            MapInput::BoxEnd(e) => {
                if let Some(o) = s.box_origin.take() {
                    let area = Rect::from_two_pos(view.to_local(o), view.to_local(e));
                    s.tool = EditTool::Roads;
                    s.selected.extend(smap::segments_in(g, area));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposed_names_say_what_and_where_and_never_clobber() {
        let taken = vec!["base".to_owned(), "Bike lane on K St".to_owned()];
        // (what, places, extra, expected)
        let rows: [(&str, &[&str], usize, &str); 5] = [
            (
                "Protected bike track",
                &["14th St NW"],
                0,
                "Protected bike track on 14th St NW",
            ),
            (
                "Protected bike track",
                &["14th St NW"],
                2,
                "Protected bike track on 14th St NW and 2 more",
            ),
            ("Bike lane", &["K St"], 0, "Bike lane on K St (2)"),
            ("Bike lane", &[], 0, ""),
            ("20 mph", &["road 7"], 0, "20 mph on road 7"),
        ];
        for (what, places, extra, want) in rows {
            let places: Vec<String> = places.iter().map(|s| s.to_string()).collect();
            assert_eq!(default_name(what, &places, extra, &taken), want);
        }
        let mut taken = taken;
        taken.push("Signal at A & B".into());
        taken.push("Signal at A & B (2)".into());
        assert_eq!(
            unique_name("Signal at A & B".into(), &taken),
            "Signal at A & B (3)"
        );
        assert_eq!(unique_name("base".into(), &taken), "base (2)");
    }

    #[test]
    fn upgrades_are_offered_once_each_with_their_own_label() {
        let labels: BTreeSet<&str> = Upgrade::ALL.iter().map(|u| u.label()).collect();
        assert_eq!(labels.len(), Upgrade::ALL.len());
        let controls: BTreeSet<&str> = CONTROLS.iter().map(|c| c.1).collect();
        assert_eq!(controls.len(), 4);
        assert_eq!(
            control_label(CrossingControl::Rrfb),
            "Flashing beacon (RRFB)"
        );
    }
}
