//! The side panel (scores, layers, run form, progress) and the inspector.

use eframe::egui::{self, RichText, Ui};
use egui_plot::{AxisHints, Bar, BarChart, GridMark, Plot};

use super::geometry::{score_color, StressView};
use super::inputs::InputsState;
use super::jobs::{JobKind, StageRow, StageState};
use super::state::{file_name, BnaApp, PopulationMode, Selection, Status};
use super::theme;
use bna_engine::analysis::reach::BlockReach;
use bna_engine::analysis::score_text;
use bna_engine::model::{
    Access, DestinationCategory, FunctionalClass, PopulationSource, ProjectData, ScoreRow, Segment,
};
use bna_engine::pipeline::{BlocksSummary, BoundarySummary, JobsSummary, OsmClip, OsmSummary};

/// The six category scores of the BNA summary (`score_id`s), in the order the BNA site shows
/// them; their labels and descriptions are in [`score_text`].
pub const CATEGORIES: [&str; 6] = [
    "people",
    "opportunity",
    "core_services",
    "retail",
    "recreation",
    "transit",
];

/// The tooltip of a category score: what it measures, then what its value here means.
pub fn category_tooltip(data: &ProjectData, id: &str) -> String {
    tooltip_for(data, score(data, id), id)
}

/// The tooltip of category `id` whose score (base or scenario) is `value`.
fn tooltip_for(data: &ProjectData, value: Option<f64>, id: &str) -> String {
    let Some(text) = score_text::find(id) else {
        return String::new();
    };
    let present = data
        .destinations
        .iter()
        .filter(|d| text.destinations.contains(&d.category))
        .count();
    let here = match value {
        None => score_text::DASH_MEANS.to_owned(),
        Some(_) if text.destinations.is_empty() => String::new(),
        Some(0.0) if present == 0 => "The project holds no destinations of this kind: there \
                                       is nothing to reach, so the score is 0."
            .to_owned(),
        Some(0.0) => format!(
            "{present} destinations of this kind are in the project, but none can be reached \
             on low-stress roads."
        ),
        Some(_) => format!("{present} destinations of this kind are in the project."),
    };
    [text.measures, here.as_str()]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A city score (0–100) by `score_id`; `None` when the city has nothing in that category.
pub fn score(data: &ProjectData, id: &str) -> Option<f64> {
    score_in(&data.overall_scores, id)
}

/// A score (0–100) of `rows` (the base's or a scenario's) by `score_id`.
pub fn score_in(rows: &[ScoreRow], id: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.score_id == id)
        .and_then(|r| r.score_normalized)
}

fn original(data: &ProjectData, id: &str) -> Option<f64> {
    data.overall_scores
        .iter()
        .find(|r| r.score_id == id)
        .and_then(|r| r.score_original)
}

/// How the overall score is printed (and found by the UI tests).
pub fn format_score(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

impl BnaApp {
    pub(crate) fn side_panel(&mut self, ui: &mut Ui) {
        if let Some(p) = &self.project {
            let heading = ui.heading(file_name(&p.path));
            if std::mem::take(&mut self.scroll_to_score) {
                heading.scroll_to_me(Some(egui::Align::TOP));
            }
            ui.add(egui::Label::new(RichText::new(p.path.display().to_string()).weak()).wrap());
            ui.separator();
            // One source of truth: the numbers of what the map shows.
            match self.scenario.shown_scenario() {
                Some(s) => {
                    let shown = ShownScores {
                        title: scenario_score_title(&s.comparison.b),
                        rows: s.scores_b(),
                        blocks: s.block_scores_b(&p.data.block_scores),
                        base: Some(score(&p.data, "overall_score")),
                    };
                    scores(ui, &p.data, &shown);
                }
                None => {
                    let shown = ShownScores {
                        title: "BNA score".to_owned(),
                        rows: p.data.overall_scores.clone(),
                        blocks: p
                            .data
                            .block_scores
                            .iter()
                            .map(|b| b.overall_score)
                            .collect(),
                        base: None,
                    };
                    scores(ui, &p.data, &shown);
                }
            }
            ui.separator();
            population(ui, &p.data);
            self.scenario_entry(ui);
        } else {
            ui.heading("No project open");
        }
        ui.separator();
        self.layer_controls(ui);
        ui.separator();
        self.run_section(ui);
        self.progress_section(ui);
        if let Some(p) = &self.project {
            ui.separator();
            egui::CollapsingHeader::new("Stage timings")
                .default_open(true)
                .show(ui, |ui| timings(ui, &p.data));
        }
    }

    fn layer_controls(&mut self, ui: &mut Ui) {
        ui.strong("Layers");
        let l = &mut self.layers;
        ui.checkbox(&mut l.roads, "Road stress");
        ui.add_enabled_ui(l.roads, |ui| {
            ui.horizontal(|ui| {
                ui.add_space(20.0);
                ui.radio_value(&mut l.stress_view, StressView::Worse, "worse direction");
                ui.radio_value(&mut l.stress_view, StressView::Better, "better direction");
            });
        });
        ui.checkbox(&mut l.blocks, "Census blocks (score)");
        ui.checkbox(&mut l.destinations, "Destinations");
        ui.checkbox(&mut l.boundary, "Boundary");
        ui.checkbox(&mut l.basemap, "OSM basemap (online)")
            .on_hover_text("Raster tiles from openstreetmap.org when online; the roads are drawn from the project either way.");
    }

    fn run_section(&mut self, ui: &mut Ui) {
        let header = egui::CollapsingHeader::new("Run analysis")
            .open(self.run_form_open.then_some(true))
            .show(ui, |ui| {
                self.fetch_section(ui);
                let f = &mut self.form;
                let mut pick = None;
                egui::Grid::new("run_form")
                    .num_columns(3)
                    .spacing([6.0, 4.0])
                    .show(ui, |ui| {
                        use super::file_dialog::FormField as F;
                        let rows = [
                            (F::Boundary, "Boundary", &mut f.boundary, &["geojson", "json", "shp", "zip"][..]),
                            (F::Osm, "OSM extract", &mut f.osm, &["pbf"][..]),
                            (F::Blocks, "Census blocks", &mut f.blocks, &["zip", "shp", "geojson", "json"][..]),
                            (F::Jobs, "Jobs (LODES)", &mut f.jobs, &["gz", "csv"][..]),
                            (F::Out, "Save as", &mut f.out, &["bna"][..]),
                        ];
                        for (field, label, value, ext) in rows {
                            if file_row(ui, label, value) {
                                pick = Some(file_request(field, label, ext));
                            }
                        }
                        fips_row(ui, "State FIPS", &mut f.state_fips, "state residential speed, e.g. 50");
                        fips_row(ui, "City FIPS", &mut f.city_fips, "city residential speed, e.g. 5010675");
                        speed_row(ui, &mut f.residential_speed);
                        network_row(ui, &mut f.osm_clip);
                        let name = ui.label("Population");
                        egui::ComboBox::from_id_salt("population")
                            .selected_text(match f.population {
                                PopulationMode::Auto => "automatic",
                                PopulationMode::Census => "census",
                                PopulationMode::Synthetic => "synthetic grid",
                            })
                            .show_ui(ui, |ui| {
                                ui.selectable_value(&mut f.population, PopulationMode::Auto, "automatic")
                                    .on_hover_text("Census when a block file is given, the synthetic grid otherwise");
                                ui.selectable_value(&mut f.population, PopulationMode::Census, "census");
                                ui.selectable_value(&mut f.population, PopulationMode::Synthetic, "synthetic grid");
                            })
                            .response
                            .labelled_by(name.id);
                        ui.end_row();
                    });
                if let Some(req) = pick {
                    self.choose_path(req);
                }
                if let Err(e) = self.form.residential_speed() {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                ui.horizontal(|ui| {
                    let can_draw = self.project.is_some() && self.drawing.is_none();
                    if ui
                        .add_enabled(can_draw, egui::Button::new("Draw boundary on map"))
                        .on_disabled_hover_text("Open a project first: the map is drawn from it")
                        .clicked()
                    {
                        self.start_drawing();
                    }
                });
                let files = self.form.input_files();
                self.inputs.update(files, ui.ctx());
                inputs_summary(ui, &self.inputs);
                ui.horizontal(|ui| {
                    if ui.button("Run").clicked() {
                        self.run_form();
                    }
                    self.cloud_run_button(ui);
                    let running = self.job.as_ref().is_some_and(|j| j.is_analysis());
                    if ui.add_enabled(running, egui::Button::new("Cancel")).clicked() {
                        self.cancel();
                    }
                });
            });
        // Once the user folds it, the header is theirs again.
        if header.header_response.clicked() {
            self.run_form_open = false;
        }
        if std::mem::take(&mut self.scroll_to_form) {
            header.header_response.scroll_to_me(Some(egui::Align::TOP));
        }
    }

    fn progress_section(&mut self, ui: &mut Ui) {
        let live = self
            .job
            .as_ref()
            .filter(|j| j.is_analysis())
            .map(|j| j.shared.clone());
        let shared = live.clone().or_else(|| self.finished.clone());
        if let Some(shared) = &shared {
            let rows = shared.stages();
            if rows.iter().any(|r| r.state != StageState::Pending) {
                ui.add_space(4.0);
                stage_rows(ui, &rows);
            }
            for w in shared.warnings() {
                ui.colored_label(ui.visuals().warn_fg_color, format!("Warning: {w}"));
            }
        }
        match &self.status {
            Status::Working(what) if live.is_some() => {
                let secs = shared.map_or(0.0, |s| s.started().elapsed().as_secs_f64());
                ui.label(format!("{what} – {secs:.1} s"));
            }
            Status::Cancelled => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    RichText::new("Cancelled").strong(),
                );
            }
            Status::Failed(reason) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    RichText::new(format!("Error: {reason}")).strong(),
                );
            }
            _ => {}
        }
        if let Some(job) = &self.job {
            if let JobKind::OpenOrAnalyse(_) = job.kind {
                ui.weak("Preparing the bundled demo city (Washington DC)…");
            }
        }
    }

    pub(crate) fn inspector(&mut self, ui: &mut Ui) {
        let Some(p) = &self.project else { return };
        match self.selection {
            Some(Selection::Segment(i)) => {
                if let Some(seg) = p
                    .geometry
                    .segments
                    .get(i)
                    .and_then(|g| p.data.segments.get(g.segment as usize))
                {
                    segment_inspector(ui, seg, p.data.residential_speed_limit);
                }
            }
            Some(Selection::Block(i)) => {
                if let Some(b) = p.geometry.blocks.get(i) {
                    // Reach first: it is what the map shows, and the access table is long.
                    if let Some((_, r)) = self.reach.as_ref().filter(|r| r.0 == b.block) {
                        ui.add(egui::Label::new(RichText::new(reach_line(r)).strong()).wrap());
                        ui.add_space(4.0);
                    }
                    block_inspector(ui, &p.data, b.block as usize);
                }
            }
            None => {}
        }
    }
}

/// A path of the run form; true when its "…" button asks for a file.
fn file_row(ui: &mut Ui, label: &str, value: &mut String) -> bool {
    let name = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(170.0))
        .labelled_by(name.id);
    let clicked = ui
        .small_button("…")
        .on_hover_text(format!("Choose the {} file", label.to_lowercase()))
        .clicked();
    ui.end_row();
    clicked
}

fn file_request(
    field: super::file_dialog::FormField,
    label: &str,
    ext: &[&str],
) -> super::file_dialog::PathRequest {
    use super::file_dialog::{FormField, PathRequest, PathUse, Pick};
    let req = |pick| {
        PathRequest::new(PathUse::FormField(field), pick, &format!("{label} file"))
            .filter(label, ext)
    };
    match field {
        FormField::Out => req(Pick::Save).file_name("city.bna"),
        _ => req(Pick::File),
    }
}

/// The label of the run form's residential speed field (the UI tests type into it).
pub const RESIDENTIAL_SPEED_LABEL: &str = "Residential speed (mph)";

/// The residential default speed: what a residential road without a maxspeed tag is assumed
/// to allow, which decides its stress.
fn speed_row(ui: &mut Ui, value: &mut String) {
    let name = ui.label(RESIDENTIAL_SPEED_LABEL);
    ui.add(
        egui::TextEdit::singleline(value)
            .desired_width(170.0)
            .hint_text("from the city or state table"),
    )
    .labelled_by(name.id)
    .on_hover_text(
        "Assumed speed limit of residential roads without a maxspeed tag, as \
         bna analyze --residential-speed; empty: the city, else the state table, else none.",
    );
    ui.end_row();
}

/// How the extract is cut to the study area (`bna analyze --osm-clip`).
fn network_row(ui: &mut Ui, value: &mut OsmClip) {
    let text = |c: OsmClip| match c {
        OsmClip::Boundary => "as the BNA (boundary)",
        OsmClip::Buffer => "2680 m ring (legacy)",
    };
    let name = ui.label("Road network");
    egui::ComboBox::from_id_salt("osm_clip")
        .selected_text(text(*value))
        .show_ui(ui, |ui| {
            ui.selectable_value(value, OsmClip::Boundary, text(OsmClip::Boundary))
                .on_hover_text(
                    "The reference BNA's cut: roads touching the boundary, then the box of the \
                     census blocks. The same network, so the same scores, as the BNA.",
                );
            ui.selectable_value(value, OsmClip::Buffer, text(OsmClip::Buffer))
                .on_hover_text(
                    "Every road within 2680 m of the boundary, so routes may leave the study \
                     area as a rider would (the legacy PFB method).",
                );
        })
        .response
        .labelled_by(name.id);
    ui.end_row();
}

/// A FIPS code of the run form: it picks the residential speed tables.
fn fips_row(ui: &mut Ui, label: &str, value: &mut String, hint: &str) {
    let name = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(170.0))
        .labelled_by(name.id)
        .on_hover_text(hint);
    ui.end_row();
}

/// The title of the score while the map shows scenario `name`.
pub fn scenario_score_title(name: &str) -> String {
    format!("BNA score of scenario \"{name}\"")
}

/// The scores the side panel shows: the base's, or those of the scenario on the map.
struct ShownScores {
    title: String,
    rows: Vec<ScoreRow>,
    /// Block overall scores, for the histogram.
    blocks: Vec<f64>,
    /// The base's overall score, shown beside a scenario's.
    base: Option<Option<f64>>,
}

fn scores(ui: &mut Ui, data: &ProjectData, shown: &ShownScores) {
    let rows = &shown.rows[..];
    let overall = score_in(rows, "overall_score");
    ui.add(egui::Label::new(RichText::new(&shown.title).strong()).wrap());
    ui.horizontal(|ui| {
        ui.label(RichText::new(format_score(overall)).size(46.0).strong());
        ui.vertical(|ui| {
            ui.add_space(14.0);
            ui.weak("out of 100");
            if let Some(base) = shown.base {
                let delta = overall.zip(base).map(|(s, b)| s - b);
                ui.weak(format!(
                    "base {}{}",
                    format_score(base),
                    delta.map_or_else(String::new, |d| format!(", {d:+.1}"))
                ));
            }
        });
    });
    let bars: Vec<Bar> = CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let v = score_in(rows, id).unwrap_or(0.0);
            Bar::new((CATEGORIES.len() - 1 - i) as f64, v)
                .name(score_text::label(id))
                .fill(score_color(v))
                .width(0.7)
        })
        .collect();
    let chart = BarChart::new("Category scores", bars)
        .horizontal()
        .element_formatter(Box::new(|b, _| format!("{}: {:.1}", b.name, b.value)));
    Plot::new("category_scores")
        .height(160.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_grid([true, false])
        .include_x(0.0)
        .include_x(100.0)
        .include_y(-0.5)
        .include_y(CATEGORIES.len() as f64 - 0.5)
        .custom_x_axes(vec![theme::of(ui).chart_axis(AxisHints::new_x(), 20.0)])
        .custom_y_axes(vec![theme::of(ui).chart_axis(AxisHints::new_y(), 12.0)])
        .y_grid_spacer(|_| {
            (0..CATEGORIES.len())
                .map(|i| GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .y_axis_formatter(|m, _| {
            let i = CATEGORIES.len() as f64 - 1.0 - m.value;
            CATEGORIES
                .get(i.round() as usize)
                .filter(|_| (i - i.round()).abs() < 1e-6 && i >= 0.0)
                .map(|id| score_text::label(id).to_owned())
                .unwrap_or_default()
        })
        .y_axis_min_width(84.0)
        .show(ui, |plot| plot.bar_chart(chart));
    histogram(ui, &shown.blocks);
    egui::Grid::new("category_values")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for id in CATEGORIES {
                let value = score_in(rows, id);
                let tip = tooltip_for(data, value, id);
                ui.label(score_text::label(id)).on_hover_text(&tip);
                ui.label(format_score(value)).on_hover_text(&tip);
                ui.end_row();
            }
        });
    ui.add(
        egui::Label::new(
            RichText::new(format!(
                "{} {}",
                score_text::DASH_MEANS,
                score_text::ZERO_MEANS
            ))
            .weak(),
        )
        .wrap(),
    );
}

fn population(ui: &mut Ui, data: &ProjectData) {
    let m = &data.metadata;
    let (src, why) = match m.population_source {
        PopulationSource::Census => ("census", "block population from the census file"),
        PopulationSource::Synthetic => (
            "synthetic",
            "a 500 m grid of 100 people per cell (spec §9), not census counts",
        ),
    };
    egui::Grid::new("population_grid")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Population");
            ui.label(RichText::new(src).strong()).on_hover_text(why);
            ui.end_row();
            let people: f64 = data.blocks.iter().map(|b| b.population).sum();
            ui.label("People");
            ui.label(format!("{people:.0} in {} blocks", data.blocks.len()));
            ui.end_row();
            for (id, what) in [
                ("total_miles_low_stress", "Low-stress miles"),
                ("total_miles_high_stress", "High-stress miles"),
            ] {
                if let Some(v) = original(data, id) {
                    ui.label(what);
                    ui.label(format!("{v:.1}"));
                    ui.end_row();
                }
            }
        });
    if let Some(j) = &m.jobs_source {
        ui.add(egui::Label::new(RichText::new(format!("Jobs: {j}")).weak()).wrap());
    }
    ui.add(egui::Label::new(RichText::new(format!("Population: {why}.")).weak()).wrap());
}

fn timings(ui: &mut Ui, data: &ProjectData) {
    let t = &data.metadata.stage_timings;
    egui::Grid::new("timings")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for s in t {
                ui.label(&s.stage);
                ui.label(format!("{:.2} s", s.seconds));
                ui.weak(if s.from_checkpoint { "checkpoint" } else { "" });
                ui.end_row();
            }
            ui.strong("total");
            ui.strong(format!("{:.2} s", t.iter().map(|s| s.seconds).sum::<f64>()));
            ui.end_row();
        });
    ui.weak(format!(
        "engine {} · {}",
        data.metadata.engine_version, data.metadata.finished_at
    ));
}

fn stage_rows(ui: &mut Ui, rows: &[StageRow]) {
    egui::Grid::new("stages")
        .num_columns(3)
        .spacing([6.0, 3.0])
        .show(ui, |ui| {
            for r in rows {
                ui.label(r.stage.name());
                let (fraction, text, secs) = match r.state {
                    StageState::Pending => (0.0, String::new(), String::new()),
                    StageState::Running { since } => {
                        let f = if r.total > 0 {
                            r.done as f32 / r.total as f32
                        } else {
                            0.0
                        };
                        let text = if r.total > 0 {
                            format!("{}/{}", r.done, r.total)
                        } else {
                            "working".to_owned()
                        };
                        (f, text, format!("{:.1} s", since.elapsed().as_secs_f64()))
                    }
                    StageState::Stopped { seconds } => {
                        (0.0, "stopped".to_owned(), format!("{seconds:.2} s"))
                    }
                    StageState::Done {
                        seconds,
                        from_checkpoint,
                    } => {
                        let text = if from_checkpoint {
                            "restored".to_owned()
                        } else if r.total > 1 {
                            format!("{}/{}", r.done.min(r.total), r.total)
                        } else {
                            "done".to_owned()
                        };
                        (1.0, text, format!("{seconds:.2} s"))
                    }
                };
                let running = matches!(r.state, StageState::Running { .. });
                ui.add(
                    egui::ProgressBar::new(fraction.clamp(0.0, 1.0))
                        .desired_width(150.0)
                        .desired_height(14.0)
                        .text(text)
                        .animate(running && r.total == 0),
                );
                ui.label(secs);
                ui.end_row();
            }
        });
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn stress_text(s: Option<u8>, p: &super::theme::Palette) -> RichText {
    match s {
        Some(1) => RichText::new("1 low").color(p.low_stress),
        Some(v) => RichText::new(format!("{v} high")).color(p.high_stress),
        None => RichText::new("no bikes").color(p.weak_text),
    }
}

/// One stress value and the rule id that decided it (wrapped: rule ids are sentences).
fn stress_line(ui: &mut Ui, what: &str, stress: Option<u8>, rule: &str) {
    ui.horizontal(|ui| {
        ui.label(format!("{what}:"));
        let p = super::theme::of(ui);
        ui.label(stress_text(stress, p).strong());
    });
    ui.add(egui::Label::new(RichText::new(rule).monospace().weak()).wrap());
}

/// The speed limit the stress rules used: the tag's, else the default they assumed and where
/// that default comes from, so "speed <= 25 mph" beside an untagged road is explained.
pub fn speed_text(s: &Segment, residential_default: Option<u32>) -> String {
    use bna_engine::params::{
        PRIMARY_DEFAULTS, SECONDARY_DEFAULTS, TERTIARY_DEFAULTS, UNCLASSIFIED_DEFAULT_SPEED,
    };
    use FunctionalClass as C;
    if let Some(mph) = s.attrs.speed_limit {
        return format!("{mph} (tagged)");
    }
    let class = s.attrs.functional_class;
    let assumed = |mph: u32, source: &str| format!("not tagged, assumed {mph} ({source})");
    match class {
        C::Residential => match residential_default {
            Some(mph) => assumed(
                mph,
                "the project's residential default: the run's residential speed, else the \
                 city, else the state table",
            ),
            None => "not tagged, and no residential default (none set, no city or state table \
                     applies), so high stress"
                .to_owned(),
        },
        C::Primary | C::PrimaryLink => assumed(PRIMARY_DEFAULTS.0, "primary road default"),
        C::Secondary | C::SecondaryLink => assumed(SECONDARY_DEFAULTS.0, "secondary road default"),
        C::Tertiary | C::TertiaryLink => assumed(TERTIARY_DEFAULTS.0, "tertiary road default"),
        C::Unclassified => assumed(UNCLASSIFIED_DEFAULT_SPEED, "unclassified road default"),
        _ => format!(
            "not tagged (the {} rule does not use speed)",
            class.as_str()
        ),
    }
}

fn segment_inspector(ui: &mut Ui, s: &Segment, residential_default: Option<u32>) {
    ui.strong(s.name.as_deref().unwrap_or("(unnamed road)"));
    ui.label(format!("segment {} · OSM way {}", s.road_id, s.osm_id));
    ui.add_space(4.0);
    ui.strong("Traffic stress");
    let rows = [
        (
            "ft: along the way's drawn direction",
            s.stress.ft_seg,
            &s.stress_rules[0],
            s.stress.ft_int,
            &s.stress_rules[2],
        ),
        (
            "tf: against it",
            s.stress.tf_seg,
            &s.stress_rules[1],
            s.stress.tf_int,
            &s.stress_rules[3],
        ),
    ];
    for (dir, seg, seg_rule, int, int_rule) in rows {
        ui.label(dir);
        ui.indent(dir, |ui| {
            stress_line(ui, "segment", seg, seg_rule);
            stress_line(ui, "intersection", int, int_rule);
        });
    }
    ui.add_space(4.0);
    let a = &s.attrs;
    egui::CollapsingHeader::new("Derived attributes")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("attrs")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    let mut row = |k: &str, v: String| {
                        ui.label(k);
                        ui.add(egui::Label::new(v).wrap());
                        ui.end_row();
                    };
                    row("functional class", a.functional_class.as_str().to_owned());
                    row("speed limit (mph)", speed_text(s, residential_default));
                    row("one-way (cars)", opt(a.one_way_car.map(|d| d.as_str())));
                    row("one-way (bikes)", opt(a.one_way.map(|d| d.as_str())));
                    row(
                        "lanes ft / tf",
                        format!("{} / {}", opt(a.ft_lanes), opt(a.tf_lanes)),
                    );
                    row(
                        "crossing lanes ft / tf / twltl",
                        format!(
                            "{} / {} / {}",
                            opt(a.ft_cross_lanes),
                            opt(a.tf_cross_lanes),
                            opt(a.twltl_cross_lanes)
                        ),
                    );
                    row(
                        "parking ft / tf",
                        format!("{} / {}", opt(a.ft_park), opt(a.tf_park)),
                    );
                    row(
                        "bike infra ft",
                        format!(
                            "{} ({} ft)",
                            opt(a.ft_bike_infra.map(|b| b.as_str())),
                            opt(a.ft_bike_infra_width)
                        ),
                    );
                    row(
                        "bike infra tf",
                        format!(
                            "{} ({} ft)",
                            opt(a.tf_bike_infra.map(|b| b.as_str())),
                            opt(a.tf_bike_infra_width)
                        ),
                    );
                    row("width (ft)", opt(a.width_ft));
                    row("crosswalk", a.xwalk.to_string());
                    row("bicycle=no", a.bicycle_no.to_string());
                    row("trail cluster", opt(s.path_id));
                });
        });
    egui::CollapsingHeader::new(format!("OSM tags ({})", s.tags.len()))
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("tags")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    for (k, v) in &s.tags {
                        ui.monospace(k);
                        // Values can be URLs: wrap them rather than widen the inspector.
                        ui.add(egui::Label::new(RichText::new(v).monospace()).wrap());
                        ui.end_row();
                    }
                });
        });
}

fn access_row(ui: &mut Ui, name: &str, a: &Access) {
    let f = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
    ui.label(name);
    ui.label(f(a.low));
    ui.label(f(a.high));
    ui.label(
        a.score
            .map_or_else(|| "–".to_owned(), |v| format!("{:.2}", v)),
    );
    ui.end_row();
}

fn block_inspector(ui: &mut Ui, data: &ProjectData, block: usize) {
    let Some(b) = data.blocks.get(block) else {
        return;
    };
    ui.strong(format!("Block {}", b.geoid));
    let s = data.block_scores.iter().find(|s| s.block as usize == block);
    egui::Grid::new("block")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |k: &str, v: String| {
                ui.label(k);
                ui.label(v);
                ui.end_row();
            };
            row("population", format!("{:.0}", b.population));
            row("jobs", format!("{:.0}", b.jobs));
            if let Some(s) = s {
                row("BNA score", format!("{:.1}", s.overall_score));
                row(
                    "opportunity",
                    opt(s.opportunity_score.map(|v| format!("{v:.1}"))),
                );
                row(
                    "core services",
                    opt(s.core_services_score.map(|v| format!("{v:.1}"))),
                );
                row(
                    "recreation",
                    opt(s.recreation_score.map(|v| format!("{v:.1}"))),
                );
                row("reachable blocks", s.reachable_blocks.to_string());
            } else {
                row("BNA score", "not scored (outside the boundary)".to_owned());
            }
        });
    let Some(s) = s else { return };
    ui.add_space(4.0);
    ui.strong("Access: low-stress / all, and score");
    egui::Grid::new("access")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            ui.weak("measure");
            ui.weak("low");
            ui.weak("high");
            ui.weak("score");
            ui.end_row();
            access_row(ui, "people", &s.pop);
            access_row(ui, "jobs", &s.emp);
            for (cat, a) in DestinationCategory::ALL.iter().zip(&s.destinations) {
                access_row(ui, cat.table_name(), a);
            }
            access_row(ui, "trails", &s.trails);
        });
}

/// Width of a histogram bin, score points.
pub const HISTOGRAM_BIN: f64 = 10.0;

/// Block overall scores counted in 10-point bins (100 goes in the last bin).
pub fn score_histogram(data: &ProjectData) -> [usize; 10] {
    histogram_bins(data.block_scores.iter().map(|s| s.overall_score))
}

fn histogram_bins(scores: impl Iterator<Item = f64>) -> [usize; 10] {
    let mut bins = [0; 10];
    for s in scores {
        let i = ((s / HISTOGRAM_BIN).floor().max(0.0) as usize).min(9);
        bins[i] += 1;
    }
    bins
}

fn histogram(ui: &mut Ui, blocks: &[f64]) {
    ui.add_space(4.0);
    ui.label("Block score distribution");
    let bins = histogram_bins(blocks.iter().copied());
    let bars: Vec<Bar> = bins
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mid = (i as f64 + 0.5) * HISTOGRAM_BIN;
            Bar::new(mid, n as f64)
                .width(HISTOGRAM_BIN * 0.9)
                .fill(score_color(mid))
                .name(format!("{}–{}", i * 10, i * 10 + 10))
        })
        .collect();
    let chart = BarChart::new("Blocks", bars).element_formatter(Box::new(|b, _| {
        format!("score {}: {} blocks", b.name, b.value)
    }));
    Plot::new("score_histogram")
        .height(110.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_grid([false, true])
        .include_x(0.0)
        .include_x(100.0)
        .include_y(0.0)
        .custom_x_axes(vec![
            theme::of(ui).chart_axis(AxisHints::new_x().label("block BNA score"), 24.0)
        ])
        .custom_y_axes(vec![
            theme::of(ui).chart_axis(AxisHints::new_y().label("blocks"), 12.0)
        ])
        .show(ui, |plot| plot.bar_chart(chart));
}

/// Reach of a block, as shown in the inspector.
pub fn reach_line(r: &BlockReach) -> String {
    format!(
        "Reaches {} blocks on the low-stress network, {} on the full network",
        r.low_stress.len(),
        r.full.len()
    )
}

fn bbox_text(r: Option<geo::Rect<f64>>) -> String {
    r.map_or_else(
        || "no extent".to_owned(),
        |r| {
            format!(
                "{:.3}, {:.3} – {:.3}, {:.3}",
                r.min().x,
                r.min().y,
                r.max().x,
                r.max().y
            )
        },
    )
}

pub fn boundary_line(s: &BoundarySummary) -> String {
    format!(
        "{} polygon(s), {:.2} km², {}",
        s.polygons,
        s.area_km2,
        bbox_text(Some(s.bbox))
    )
}

pub fn osm_line(s: &OsmSummary) -> String {
    format!(
        "{} nodes, {} ways ({} roads and paths), {} relations, {} destination features; {}",
        s.nodes,
        s.ways,
        s.highway_ways,
        s.relations,
        s.pois,
        bbox_text(s.bbox)
    )
}

pub fn blocks_line(s: &BlocksSummary) -> String {
    let pop = s.population.map_or_else(
        || "no population column".to_owned(),
        |p| format!("population {p:.0}"),
    );
    format!("{} blocks, {pop}; {}", s.blocks, bbox_text(s.bbox))
}

pub fn jobs_line(s: &JobsSummary) -> String {
    let matched = s
        .matching_blocks
        .map(|m| format!(", {m} of them in the block file"))
        .unwrap_or_default();
    format!(
        "{:.0} jobs in {} workplace blocks{matched}",
        s.jobs, s.geocodes
    )
}

fn summary_row<T>(
    ui: &mut Ui,
    name: &str,
    v: &Option<Result<T, String>>,
    line: impl Fn(&T) -> String,
) {
    let Some(v) = v else { return };
    ui.label(name);
    match v {
        Ok(s) => ui.add(egui::Label::new(line(s)).wrap()),
        Err(e) => {
            ui.add(egui::Label::new(RichText::new(e).color(ui.visuals().error_fg_color)).wrap())
        }
    };
    ui.end_row();
}

fn inputs_summary(ui: &mut Ui, inputs: &InputsState) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong("Inputs");
        // No spinner: it would repaint forever; the reader wakes the UI when done.
        if inputs.is_busy() {
            ui.weak("reading the files…");
        }
    });
    let Some((_, s)) = &inputs.summary else {
        return;
    };
    egui::Grid::new("inputs_summary")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            summary_row(ui, "Boundary", &s.boundary, boundary_line);
            summary_row(ui, "OSM", &s.osm, osm_line);
            summary_row(ui, "Blocks", &s.blocks, blocks_line);
            summary_row(ui, "Jobs", &s.jobs, jobs_line);
        });
    if let Some(c) = s.coverage {
        let text = c.describe();
        let color = match c {
            bna_engine::pipeline::Coverage::Full => super::theme::of(ui).good,
            bna_engine::pipeline::Coverage::BoundaryOnly => ui.visuals().warn_fg_color,
            _ => ui.visuals().error_fg_color,
        };
        ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
    }
}
