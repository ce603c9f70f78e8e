//! The application state and the frame loop. Analysis and file reading happen in [`Job`]s;
//! this module only decides what to start, polls, and lays out the window.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, Context, Ui};
use walkers::{HttpTiles, MapMemory};

use super::drawing::Drawing;
use super::file_dialog::{PathRequest, PathUse, Pick};
use super::geometry::StressView;
use super::inputs::InputsState;
use super::jobs::{Job, JobError, JobKind, JobShared, LoadedProject};
use super::paths::RecentProjects;
use super::AppOptions;
use bna_engine::analysis::reach::{reach_from, BlockReach};
use bna_engine::pipeline::{AnalysisRequest, OsmClip, PopulationChoice};

/// Which map layers are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    pub roads: bool,
    pub blocks: bool,
    /// Destinations by category (spec §6).
    pub destinations: bool,
    pub boundary: bool,
    /// OSM raster tiles, fetched when online; the roads layer never depends on them.
    pub basemap: bool,
    pub stress_view: StressView,
}

impl Default for Layers {
    fn default() -> Self {
        Layers {
            roads: true,
            blocks: true,
            destinations: false,
            boundary: true,
            basemap: true,
            stress_view: StressView::Worse,
        }
    }
}

/// What the user clicked on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Index into `MapGeometry::segments`.
    Segment(usize),
    /// Index into `MapGeometry::blocks`.
    Block(usize),
}

/// What the app last did, for the status line.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Idle,
    Working(String),
    Done(String),
    Cancelled,
    Failed(String),
}

/// Where a failure's full sentence is shown, for the status line to point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePanel {
    SidePanel,
    CloudSettings,
    CloudConfirm,
    CloudJob,
}

impl FailurePanel {
    pub fn name(self) -> &'static str {
        match self {
            FailurePanel::SidePanel => "the side panel",
            FailurePanel::CloudSettings => "the Cloud settings window",
            FailurePanel::CloudConfirm => "the AWS Batch confirmation",
            FailurePanel::CloudJob => "the Cloud job window",
        }
    }
}

/// The status line of a failure: its start, and where to read all of it.
pub fn failure_status_line(message: &str, panel: FailurePanel) -> String {
    const MAX_CHARS: usize = 80;
    let short: String = if message.chars().count() > MAX_CHARS {
        message.chars().take(MAX_CHARS - 1).collect::<String>() + "…"
    } else {
        message.to_owned()
    };
    format!("Failed: {short} (see {})", panel.name())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulationMode {
    Auto,
    Census,
    Synthetic,
}

/// The "Run analysis" form: paths as text, so they can be typed when no file dialog exists.
#[derive(Debug, Clone, PartialEq)]
pub struct RunForm {
    pub boundary: String,
    pub osm: String,
    pub blocks: String,
    pub jobs: String,
    pub population: PopulationMode,
    /// 2-digit state FIPS and 7-digit place FIPS: the residential speed tables (spec §4).
    pub state_fips: String,
    pub city_fips: String,
    /// The residential default speed limit (mph) for roads without a maxspeed tag, as
    /// `bna analyze --residential-speed`; empty: the city or state table decides.
    pub residential_speed: String,
    /// How the extract is cut to the study area, as `bna analyze --osm-clip`.
    pub osm_clip: OsmClip,
    pub out: String,
}

impl Default for RunForm {
    fn default() -> Self {
        RunForm {
            boundary: String::new(),
            osm: String::new(),
            blocks: String::new(),
            jobs: String::new(),
            population: PopulationMode::Auto,
            state_fips: String::new(),
            city_fips: String::new(),
            residential_speed: String::new(),
            osm_clip: OsmClip::default(),
            out: String::new(),
        }
    }
}

fn opt_path(s: &str) -> Option<PathBuf> {
    let t = s.trim();
    (!t.is_empty()).then(|| PathBuf::from(t))
}

fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl RunForm {
    pub fn from_request(req: &AnalysisRequest) -> RunForm {
        let show = |p: &Path| p.display().to_string();
        RunForm {
            boundary: show(&req.boundary),
            osm: show(&req.osm),
            blocks: req.blocks.as_deref().map(show).unwrap_or_default(),
            jobs: req.jobs.as_deref().map(show).unwrap_or_default(),
            population: match req.population {
                None => PopulationMode::Auto,
                Some(PopulationChoice::Census) => PopulationMode::Census,
                Some(PopulationChoice::Synthetic) => PopulationMode::Synthetic,
            },
            state_fips: req.state_fips.clone().unwrap_or_default(),
            city_fips: req.city_fips.clone().unwrap_or_default(),
            residential_speed: req
                .residential_speed
                .map(|mph| mph.to_string())
                .unwrap_or_default(),
            osm_clip: req.osm_clip,
            out: show(&req.out),
        }
    }

    /// The text field a chosen path fills.
    pub fn field_mut(&mut self, f: super::file_dialog::FormField) -> &mut String {
        use super::file_dialog::FormField;
        match f {
            FormField::Boundary => &mut self.boundary,
            FormField::Osm => &mut self.osm,
            FormField::Blocks => &mut self.blocks,
            FormField::Jobs => &mut self.jobs,
            FormField::Out => &mut self.out,
        }
    }

    /// The residential speed typed, checked as the pipeline checks `--residential-speed`.
    pub fn residential_speed(&self) -> Result<Option<u32>, String> {
        let t = self.residential_speed.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let mph = t.parse::<u32>().map_err(|_| {
            format!("the residential speed {t:?} is not a whole number of mph, e.g. 25")
        })?;
        // The pipeline's own check, worded for the form rather than the command line.
        bna_engine::pipeline::check_residential_speed(mph)
            .map_err(|e| e.replace("--residential-speed", "the residential speed"))?;
        Ok(Some(mph))
    }

    /// The files the inputs summary looks at.
    pub fn input_files(&self) -> bna_engine::pipeline::InputFiles {
        bna_engine::pipeline::InputFiles {
            boundary: opt_path(&self.boundary),
            osm: opt_path(&self.osm),
            blocks: opt_path(&self.blocks),
            jobs: opt_path(&self.jobs),
        }
    }

    /// The request, or the one-line reason it is incomplete. File contents are checked by
    /// the pipeline, which names the file at fault.
    pub fn request(&self) -> Result<AnalysisRequest, String> {
        let boundary = opt_path(&self.boundary).ok_or("choose a boundary file")?;
        let osm = opt_path(&self.osm).ok_or("choose an OpenStreetMap extract (.osm.pbf)")?;
        let mut out = opt_path(&self.out).ok_or("choose where to save the project (.bna)")?;
        if out.extension().is_none() {
            out.set_extension("bna");
        }
        Ok(AnalysisRequest {
            boundary,
            osm,
            blocks: opt_path(&self.blocks),
            jobs: opt_path(&self.jobs),
            population: match self.population {
                PopulationMode::Auto => None,
                PopulationMode::Census => Some(PopulationChoice::Census),
                PopulationMode::Synthetic => Some(PopulationChoice::Synthetic),
            },
            city_fips: opt_text(&self.city_fips),
            state_fips: opt_text(&self.state_fips),
            residential_speed: self.residential_speed()?,
            osm_clip: self.osm_clip,
            out,
        })
    }
}

/// CPU time of the last frames, for the status bar and the performance report.
#[derive(Debug, Default)]
pub struct FrameStats {
    times: VecDeque<Duration>,
}

impl FrameStats {
    const WINDOW: usize = 120;

    pub fn record(&mut self, d: Duration) {
        if self.times.len() == Self::WINDOW {
            self.times.pop_front();
        }
        self.times.push_back(d);
    }

    pub fn average(&self) -> Option<Duration> {
        let n = u32::try_from(self.times.len()).ok().filter(|n| *n > 0)?;
        Some(self.times.iter().sum::<Duration>() / n)
    }

    pub fn max(&self) -> Option<Duration> {
        self.times.iter().max().copied()
    }
}

/// The desktop app. `show` draws one frame; the eframe wrapper and the tests both call it.
pub struct BnaApp {
    pub(crate) opts: AppOptions,
    pub(crate) project: Option<Box<LoadedProject>>,
    pub(crate) job: Option<Job>,
    /// The last finished job, kept for its stage rows and timings.
    pub(crate) finished: Option<std::sync::Arc<JobShared>>,
    /// Started on the first frame, once there is a Context to wake.
    pending: Option<JobKind>,
    pub(crate) status: Status,
    pub(crate) form: RunForm,
    pub(crate) run_form_open: bool,
    pub(crate) layers: Layers,
    pub(crate) selection: Option<Selection>,
    pub(crate) map_memory: MapMemory,
    pub(crate) fit_pending: bool,
    pub(crate) tiles: Option<HttpTiles>,
    pub(crate) recent: RecentProjects,
    pub(crate) frames: FrameStats,
    /// The map transform of the last frame drawn (for tests and hit testing).
    pub(crate) last_view: Option<super::draw::View>,
    /// A boundary being drawn on the map; `None` when not drawing.
    pub(crate) drawing: Option<Drawing>,
    /// The last boundary drawn and saved: its file and corners, drawn until the form
    /// points elsewhere.
    pub(crate) drawn: Option<(PathBuf, Vec<(f64, f64)>)>,
    pub(crate) inputs: InputsState,
    /// "Get data": the fetch form and the fetch under way.
    pub(crate) fetch: super::fetch_ui::FetchUi,
    /// Blocks reached from the selected block (data block index, reach).
    pub(crate) reach: Option<(u32, BlockReach)>,
    pub(crate) scenario: super::scenario_ui::ScenarioState,
    /// AWS Batch offload: settings window, followed job (`cloud_ui`).
    pub(crate) cloud: super::cloud_ui::CloudUi,
    /// The system file dialog's availability and the in-app path prompt open now.
    pub(crate) dialogs: super::file_dialog::FileDialogs,
    /// Panels folded or unfolded by the user, remembered with the recent projects.
    pub(crate) layout: super::layout::PanelLayout,
    /// Scroll the side panel to the run form (after "New analysis") on the next frame.
    pub(crate) scroll_to_form: bool,
    /// Scroll the side panel to the score (after a run finished) on the next frame.
    pub(crate) scroll_to_score: bool,
    /// The failure shown in a window rather than only in the side panel, and which window;
    /// applies while `status` is that very failure.
    pub(crate) failure_panel: Option<(String, FailurePanel)>,
    /// The attribute table of road segments under the map.
    pub(crate) table: super::segment_table::SegmentTable,
    /// A picture of the map asked for (a path was chosen), taken next frame.
    pub(crate) shot_asked: Option<super::map_export::ShotUse>,
    /// The screenshot under way.
    pub(crate) shot: Option<super::map_export::PendingShot>,
    /// The open project compared with another analysis (Compare menu).
    pub(crate) compare: super::compare_ui::CompareState,
}

impl BnaApp {
    pub fn new(opts: AppOptions) -> BnaApp {
        let recent = opts
            .recent_file
            .as_deref()
            .map(RecentProjects::load)
            .unwrap_or_default();
        let demo = opts
            .demo_project
            .clone()
            .map(|out| bna_engine::pipeline::demo::dc_request(&opts.data_dir, out));
        let pending = match (&opts.open, &demo) {
            (Some(p), _) => Some(JobKind::Open(p.clone())),
            (None, Some(req)) => Some(JobKind::OpenOrAnalyse(req.clone())),
            (None, None) => None,
        };
        let form = demo.as_ref().map(RunForm::from_request).unwrap_or_default();
        let recent_layout = recent.layout;
        BnaApp {
            opts,
            project: None,
            job: None,
            finished: None,
            pending,
            status: Status::Idle,
            form,
            run_form_open: false,
            layers: Layers::default(),
            selection: None,
            map_memory: MapMemory::default(),
            fit_pending: false,
            tiles: None,
            recent,
            frames: FrameStats::default(),
            last_view: None,
            drawing: None,
            drawn: None,
            inputs: InputsState::default(),
            fetch: Default::default(),
            reach: None,
            scenario: Default::default(),
            cloud: Default::default(),
            dialogs: Default::default(),
            layout: recent_layout,
            scroll_to_form: false,
            scroll_to_score: false,
            failure_panel: None,
            table: Default::default(),
            shot_asked: None,
            shot: None,
            compare: Default::default(),
        }
    }

    pub fn project(&self) -> Option<&LoadedProject> {
        self.project.as_deref()
    }

    /// The open project, to change what the map and inspector show (tests).
    pub fn project_mut(&mut self) -> Option<&mut LoadedProject> {
        self.project.as_deref_mut()
    }

    /// The panels the user folded.
    pub fn layout(&self) -> super::layout::PanelLayout {
        self.layout
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Fails with `message`, which `panel` shows in full.
    pub(crate) fn fail_in(&mut self, message: String, panel: FailurePanel) {
        self.failure_panel = Some((message.clone(), panel));
        self.status = Status::Failed(message);
    }

    /// Where the status line sends the user for the current failure.
    pub fn failure_panel(&self) -> Option<FailurePanel> {
        let Status::Failed(m) = &self.status else {
            return None;
        };
        Some(match &self.failure_panel {
            Some((msg, panel)) if msg == m => *panel,
            _ => FailurePanel::SidePanel,
        })
    }

    pub fn layers(&self) -> Layers {
        self.layers
    }

    pub fn layers_mut(&mut self) -> &mut Layers {
        &mut self.layers
    }

    pub fn form_mut(&mut self) -> &mut RunForm {
        &mut self.form
    }

    pub fn form(&self) -> &RunForm {
        &self.form
    }

    /// The boundary being drawn, if the user is drawing one.
    pub fn drawing(&self) -> Option<&Drawing> {
        self.drawing.as_ref()
    }

    /// Starts drawing a new boundary on the map.
    pub fn start_drawing(&mut self) {
        self.drawing = Some(Drawing::default());
        self.selection = None;
    }

    pub fn cancel_drawing(&mut self) {
        self.drawing = None;
    }

    /// Closes the drawn shape: if the engine accepts it, saves it as GeoJSON (next to the
    /// project being set up, else in the app's data folder) and makes it the form's boundary;
    /// otherwise the drawing stays open with the reason shown.
    pub fn finish_drawing(&mut self) {
        let Some(d) = &mut self.drawing else { return };
        let Some(boundary) = d.close() else { return };
        let out = opt_path(&self.form.out);
        let dir = super::paths::data_home();
        if let Some(dir) = &dir {
            // Only needed when there is no project folder to save next to.
            let _ = std::fs::create_dir_all(dir);
        }
        let Some(path) = super::drawing::boundary_file(out.as_deref(), dir.as_deref()) else {
            d.refused = Some(
                "no folder to save the boundary in: choose where to save the project first".into(),
            );
            return;
        };
        if let Err(e) = bna_engine::ingest::boundary::write_boundary_geojson(&path, &boundary) {
            d.refused = Some(e.to_string());
            return;
        }
        self.form.boundary = path.display().to_string();
        self.drawn = Some((path.clone(), d.corners.clone()));
        self.drawing = None;
        self.run_form_open = true;
        self.scroll_to_form = true;
        self.status = Status::Done(format!("Boundary saved to {}", path.display()));
    }

    /// The last inputs summary read for the Run form's files.
    pub fn inputs_summary(&self) -> Option<&bna_engine::pipeline::InputsSummary> {
        self.inputs.summary.as_ref().map(|s| &s.1)
    }

    /// Blocks reached from the selected block, once a block is selected.
    pub fn reach(&self) -> Option<&BlockReach> {
        self.reach.as_ref().map(|r| &r.1)
    }

    fn update_reach(&mut self) {
        let block = match (self.selection, &self.project) {
            (Some(Selection::Block(i)), Some(p)) => p.geometry.blocks.get(i).map(|b| (b.block, p)),
            _ => None,
        };
        match block {
            None => self.reach = None,
            Some((b, _)) if self.reach.as_ref().is_some_and(|r| r.0 == b) => {}
            Some((b, p)) => self.reach = Some((b, reach_from(&p.data.pairs, b))),
        }
    }

    pub fn selection(&self) -> Option<Selection> {
        self.selection
    }

    pub fn select(&mut self, s: Option<Selection>) {
        self.selection = s;
    }

    pub fn recent(&self) -> &RecentProjects {
        &self.recent
    }

    pub fn frame_stats(&self) -> &FrameStats {
        &self.frames
    }

    /// Local-to-screen transform of the map in the last frame; `None` before a project is drawn.
    pub fn last_view(&self) -> Option<super::draw::View> {
        self.last_view
    }

    pub fn map_memory_mut(&mut self) -> &mut MapMemory {
        &mut self.map_memory
    }

    /// The stage rows the side panel shows: the running analysis's, else the last finished
    /// one's; empty once another project has been opened.
    pub fn run_stages(&self) -> Vec<super::jobs::StageRow> {
        self.job
            .as_ref()
            .filter(|j| j.is_analysis())
            .map(|j| j.shared.clone())
            .or_else(|| self.finished.clone())
            .map(|s| s.stages())
            .unwrap_or_default()
    }

    /// True while a job (analysis or open) runs.
    pub fn is_busy(&self) -> bool {
        self.job.is_some() || self.pending.is_some()
    }

    /// Queues `kind`; it starts on the next frame. A running job is cancelled and the new
    /// one waits for it to stop, so two runs never write the same project at once.
    pub fn start(&mut self, kind: JobKind) {
        self.pending = Some(kind);
    }

    pub fn cancel(&mut self) {
        if let Some(job) = &self.job {
            job.cancel();
        }
        if self.pending.take().is_some() && self.job.is_none() {
            self.status = Status::Cancelled;
        }
    }

    fn launch(&mut self, ctx: &Context) {
        let Some(kind) = self.pending.take() else {
            return;
        };
        let previous = self.job.take();
        if let Some(p) = &previous {
            p.cancel();
        }
        let what = match &kind {
            JobKind::Open(p) => format!("Opening {}", file_name(p)),
            JobKind::Analyse(r) | JobKind::OpenOrAnalyse(r) => {
                format!("Analysing into {}", file_name(&r.out))
            }
        };
        self.status = Status::Working(what);
        self.job = Some(Job::spawn(kind, Some(ctx.clone()), previous));
    }

    fn poll(&mut self) {
        let Some(job) = &self.job else { return };
        let Some(result) = job.shared.take_result() else {
            return;
        };
        let is_analysis = job.is_analysis();
        let mut job = self.job.take().expect("checked above");
        job.join();
        // Opened or not (a project whose only run is still in the cloud has no results).
        self.cloud.project_opened(job.kind.target());
        if is_analysis {
            self.finished = Some(job.shared.clone());
        }
        match result {
            Ok(loaded) => {
                if !is_analysis {
                    // The stage rows of an earlier run belong to the project that was open.
                    self.finished = None;
                }
                let secs = job.shared.started().elapsed().as_secs_f64();
                self.status = Status::Done(format!(
                    "{} {} in {secs:.1} s",
                    if is_analysis { "Analysed" } else { "Opened" },
                    file_name(&loaded.path)
                ));
                self.remember(&loaded.path);
                self.set_project(loaded);
                // The new score is what the user waited for: show it, wherever they scrolled.
                self.scroll_to_score = true;
            }
            Err(JobError::Cancelled) => self.status = Status::Cancelled,
            Err(JobError::Failed(m)) => self.status = Status::Failed(m),
        }
    }

    pub(crate) fn set_project(&mut self, loaded: Box<LoadedProject>) {
        self.selection = None;
        self.fit_pending = true;
        self.scenario.reset();
        self.compare.reset();
        self.table.invalidate();
        self.project = Some(loaded);
    }

    pub(crate) fn remember(&mut self, path: &Path) {
        // dunce: on Windows std's canonical form is `\\?\C:\…`, which the File menu would show.
        let path = dunce::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.touch(&path);
        if let Some(file) = &self.opts.recent_file {
            // Failing to save the list only costs the user a menu entry.
            let _ = self.recent.save(file);
        }
    }

    /// Copies the open project to `dest` and continues with the copy.
    pub fn save_as(&mut self, dest: &Path) -> Result<(), String> {
        let Some(project) = &mut self.project else {
            return Err("no project is open".into());
        };
        if self
            .job
            .as_ref()
            .is_some_and(|j| j.kind.target() == project.path.as_path())
        {
            return Err("wait for the running analysis of this project to finish".into());
        }
        let mut dest = dest.to_path_buf();
        if dest.extension().is_none() {
            dest.set_extension("bna");
        }
        if dest != project.path {
            std::fs::copy(&project.path, &dest)
                .map_err(|e| format!("{}: cannot save ({e})", dest.display()))?;
        }
        project.path = dest.clone();
        self.status = Status::Done(format!("Saved as {}", dest.display()));
        self.remember(&dest);
        Ok(())
    }

    /// One frame of the whole window.
    pub fn show(&mut self, ui: &mut Ui) {
        let t0 = Instant::now();
        let ctx = ui.ctx().clone();
        super::theme::apply(&ctx, !self.layout.light_theme);
        self.poll();
        self.poll_fetch(&ctx);
        self.launch(&ctx);
        self.scenario_frame(&ctx);
        self.compare_frame(&ctx);
        if self.opts.online_tiles && self.tiles.is_none() {
            self.tiles = Some(super::map_view::osm_tiles(&self.opts, &ctx));
        }

        // Before the panels: a shortcut may open the form they show, and a prompt's Esc
        // must not also reach the map.
        self.shortcuts(&ctx);
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        self.panels(ui);
        self.segment_table_panel(ui);
        egui::CentralPanel::no_frame().show(ui, |ui| self.map_ui(ui));
        self.cloud_frame(&ctx);
        self.drawing_keys(&ctx);
        self.update_reach();
        // With the scenario panel open, map clicks select for editing, not for inspecting.
        if self.selection.is_some() && self.project.is_some() && !self.scenario.open {
            self.inspector_window(&ctx);
        }
        // Before the prompt: a picture asked from it is taken the frame after, without it.
        self.map_shot_frame(&ctx);
        self.file_dialogs_frame(&ctx);
        if self.shot_asked.is_some() {
            ctx.request_repaint();
        }
        self.remember_layout();

        if self.job.is_some() {
            // Progress counts change without events; refresh them a few times a second.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        self.frames.record(t0.elapsed());
    }

    fn menu_bar(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                let item = |ui: &mut Ui, label: &str, key: &str, enabled: bool| {
                    ui.add_enabled(enabled, egui::Button::new(label).shortcut_text(key))
                        .clicked()
                };
                if item(ui, "New analysis…", super::keys::NEW, true) {
                    self.new_project();
                    ui.close();
                }
                if item(ui, "Open…", super::keys::OPEN, true) {
                    self.ask_open();
                    ui.close();
                }
                if item(ui, "Save As…", super::keys::SAVE, self.project.is_some()) {
                    self.ask_save_as();
                    ui.close();
                }
                self.share_menu_items(ui);
                ui.menu_button("Open Recent", |ui| {
                    if self.recent.projects.is_empty() {
                        ui.label("No recent projects");
                    }
                    let mut chosen = None;
                    for p in &self.recent.projects {
                        if ui.button(p.display().to_string()).clicked() {
                            chosen = Some(p.clone());
                        }
                    }
                    if let Some(p) = chosen {
                        self.start(JobKind::Open(p));
                        ui.close();
                    }
                });
                ui.separator();
                if ui.button("Open the DC demo").clicked() {
                    self.open_demo();
                    ui.close();
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.layers.roads, "Road stress");
                ui.checkbox(&mut self.layers.blocks, "Census blocks (score)");
                ui.checkbox(&mut self.layers.destinations, "Destinations");
                ui.checkbox(&mut self.layers.boundary, "Boundary");
                ui.checkbox(&mut self.layers.basemap, "OSM basemap (online)");
                ui.separator();
                ui.checkbox(&mut self.layout.light_theme, "Light theme")
                    .on_hover_text(
                        "Dark text on white panels, for projectors in bright rooms (remembered)",
                    );
                ui.checkbox(&mut self.table.open, "Segment table")
                    .on_hover_text("Every road segment, sortable and filterable, under the map");
                if ui.button("Zoom to project").clicked() {
                    self.fit_pending = true;
                    ui.close();
                }
            });
            self.scenario_menu(ui);
            self.compare_menu(ui);
            self.cloud_menu(ui);
            ui.menu_button("Help", super::keys::help_menu);
        });
    }

    pub(crate) fn open_demo(&mut self) {
        let out =
            self.opts.demo_project.clone().or_else(|| {
                super::paths::data_home().map(|d| d.join(super::demo::DEMO_PROJECT_FILE))
            });
        match out {
            Some(out) => {
                let req = bna_engine::pipeline::demo::dc_request(&self.opts.data_dir, out);
                self.start(JobKind::OpenOrAnalyse(req));
            }
            None => {
                self.status = Status::Failed(
                    "no data folder for the demo project: set HOME or XDG_DATA_HOME".into(),
                )
            }
        }
    }

    /// An empty run form, unfolded and scrolled into view, and where to save the project.
    pub fn new_project(&mut self) {
        self.form = RunForm::default();
        self.run_form_open = true;
        self.scroll_to_form = true;
        self.layout.project_panel = true;
        self.choose_path(
            PathRequest::new(PathUse::NewProject, Pick::Save, "Save the new project as")
                .filter("BNA project", &["bna"])
                .file_name("city.bna"),
        );
    }

    pub fn ask_open(&mut self) {
        self.choose_path(
            PathRequest::new(PathUse::OpenProject, Pick::File, "Open a project")
                .filter("BNA project", &["bna"]),
        );
    }

    pub fn ask_save_as(&mut self) {
        if self.project.is_none() {
            self.status = Status::Done("Nothing to save: open a project first".into());
            return;
        }
        self.choose_path(
            PathRequest::new(PathUse::SaveProjectAs, Pick::Save, "Save the project as")
                .filter("BNA project", &["bna"])
                .file_name("project.bna"),
        );
    }

    /// Starts the analysis described by the form, or shows why it cannot.
    pub fn run_form(&mut self) {
        match self.form.request() {
            Ok(req) => self.start(JobKind::Analyse(req)),
            Err(e) => self.status = Status::Failed(e),
        }
    }

    /// Keyboard shortcuts while drawing: Ctrl+Z undo, Enter close, Delete the last corner.
    fn drawing_keys(&mut self, ctx: &Context) {
        if self.drawing.is_none() || ctx.egui_wants_keyboard_input() {
            return;
        }
        let (undo, close, delete) = ctx.input(|i| {
            (
                i.modifiers.command && i.key_pressed(egui::Key::Z),
                i.key_pressed(egui::Key::Enter),
                i.key_pressed(egui::Key::Delete) || i.key_pressed(egui::Key::Backspace),
            )
        });
        if let Some(d) = &mut self.drawing {
            if undo {
                d.undo();
            }
            if delete && !d.corners.is_empty() {
                d.remove(d.corners.len() - 1);
            }
        }
        if close {
            self.finish_drawing();
        }
    }

    fn status_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            match &self.status {
                Status::Idle => ui.label("Ready"),
                Status::Working(s) => {
                    ui.spinner();
                    ui.label(format!("{s}…"))
                }
                Status::Done(s) => ui.label(s.as_str()),
                Status::Cancelled => ui.label("The run was cancelled"),
                Status::Failed(m) => {
                    let panel = self.failure_panel().unwrap_or(FailurePanel::SidePanel);
                    ui.colored_label(ui.visuals().error_fg_color, failure_status_line(m, panel))
                }
            };
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if let (Some(avg), Some(max)) = (self.frames.average(), self.frames.max()) {
                    ui.weak(format!(
                        "frame {:.1} ms avg, {:.1} ms max",
                        avg.as_secs_f64() * 1e3,
                        max.as_secs_f64() * 1e3
                    ));
                }
            });
        });
    }
}

impl Drop for BnaApp {
    fn drop(&mut self) {
        // Let a running analysis stop at its next check instead of dying mid-write.
        if let Some(job) = &mut self.job {
            job.cancel();
            job.join();
        }
    }
}

pub(crate) fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_request_rules() {
        let mut f = RunForm::default();
        assert_eq!(f.request().unwrap_err(), "choose a boundary file");
        f.boundary = "b.geojson".into();
        assert!(f.request().unwrap_err().contains(".osm.pbf"));
        f.osm = " city.osm.pbf ".into();
        assert!(f.request().unwrap_err().contains(".bna"));
        f.out = "out/city".into();
        f.population = PopulationMode::Synthetic;
        let r = f.request().expect("complete");
        assert_eq!(r.out, PathBuf::from("out/city.bna"));
        assert_eq!(r.osm, PathBuf::from("city.osm.pbf"));
        assert_eq!(r.blocks, None);
        assert_eq!(r.population, Some(PopulationChoice::Synthetic));
        assert_eq!(
            RunForm::from_request(&r).request().expect("round trip").out,
            r.out
        );
        // The network cut: the reference's by default, the ring when chosen, both kept
        // through a round trip (the Batch bundle is made from this request).
        assert_eq!(r.osm_clip, OsmClip::Boundary);
        f.osm_clip = OsmClip::Buffer;
        let ring = f.request().expect("complete");
        assert_eq!(ring.osm_clip, OsmClip::Buffer);
        assert_eq!(
            RunForm::from_request(&ring).request().unwrap().osm_clip,
            OsmClip::Buffer
        );
    }

    #[test]
    fn failure_status_lines() {
        let long = "x".repeat(100);
        let cases = [
            (
                "no AWS credentials found",
                FailurePanel::CloudConfirm,
                "Failed: no AWS credentials found (see the AWS Batch confirmation)".to_owned(),
            ),
            (
                "choose a boundary file",
                FailurePanel::SidePanel,
                "Failed: choose a boundary file (see the side panel)".to_owned(),
            ),
            (
                long.as_str(),
                FailurePanel::CloudJob,
                format!("Failed: {}… (see the Cloud job window)", "x".repeat(79)),
            ),
        ];
        for (msg, panel, want) in cases {
            assert_eq!(failure_status_line(msg, panel), want);
        }
    }

    #[test]
    fn frame_stats_window() {
        let mut s = FrameStats::default();
        assert_eq!(s.average(), None);
        for ms in 1..=200u64 {
            s.record(Duration::from_millis(ms));
        }
        // Only the last 120 frames (81..=200 ms) count.
        assert_eq!(s.average(), Some(Duration::from_micros(140_500)));
        assert_eq!(s.max(), Some(Duration::from_millis(200)));
    }
}
