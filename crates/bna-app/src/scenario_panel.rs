//! The scenario workbench's widgets: the side-panel entry, the Scenario menu, the banner over
//! the map and the panel's sections (select and apply, the stored scenarios, compare, biggest
//! gains). What they start is in [`super::scenario_ui`].

use eframe::egui::{self, Context, Rect, RichText, Ui};

use super::file_dialog::{PathRequest, PathUse, Pick};
use super::scenario_map::{self as smap, format_delta, format_value};
use super::scenario_ui::{crossing_place, road_names, BlockMode, EditTool, Upgrade, CONTROLS};
use super::state::BnaApp;
use super::theme;
use bna_engine::scenario::BASE;

fn message_line(ui: &mut Ui, m: &Option<Result<String, String>>) {
    match m {
        Some(Ok(s)) => {
            ui.add(egui::Label::new(RichText::new(s).color(theme::of(ui).good)).wrap());
        }
        Some(Err(s)) => {
            ui.add(egui::Label::new(RichText::new(s).color(ui.visuals().error_fg_color)).wrap());
        }
        None => {}
    }
}

impl BnaApp {
    /// The entry in the side panel.
    pub(crate) fn scenario_entry(&mut self, ui: &mut Ui) {
        if self.project.is_none() {
            return;
        }
        ui.separator();
        let label = if self.scenario.open {
            "Hide scenarios"
        } else {
            "What if? Scenarios…"
        };
        if ui
            .button(label)
            .on_hover_text("Edit the network, re-score it in a moment, compare before and after")
            .clicked()
        {
            if self.scenario.open {
                self.scenario.open = false;
            } else {
                self.open_scenarios();
            }
        }
    }

    pub(crate) fn scenario_menu(&mut self, ui: &mut Ui) {
        ui.menu_button("Scenario", |ui| {
            let has = self.project.is_some();
            let label = if self.scenario.open {
                "Hide scenarios panel"
            } else {
                "Scenarios panel"
            };
            if ui.add_enabled(has, egui::Button::new(label)).clicked() {
                if self.scenario.open {
                    self.scenario.open = false;
                } else {
                    self.open_scenarios();
                }
                ui.close();
            }
            let pair = self.scenario.compare_a != self.scenario.compare_b;
            if ui
                .add_enabled(has && pair, egui::Button::new("Export report…"))
                .on_disabled_hover_text("Compare two scenarios first")
                .clicked()
            {
                let file = format!(
                    "{}-vs-{}.html",
                    self.scenario.compare_b, self.scenario.compare_a
                )
                .replace(['/', '\\', ' '], "_");
                self.choose_path(
                    PathRequest::new(PathUse::ScenarioReport, Pick::Save, "Save the report")
                        .filter("HTML report", &["html"])
                        .file_name(&file),
                );
                ui.close();
            }
        });
    }

    /// What the map shows, over its top left, while a comparison is drawn.
    pub(crate) fn scenario_banner(&mut self, ctx: &Context, map: Rect) {
        let Some(shown) = self.scenario.shown.as_ref().filter(|_| self.scenario.open) else {
            return;
        };
        let c = &shown.comparison;
        let text = match shown.mode {
            BlockMode::Score => format!("Map: \"{}\" (roads it changed outlined)", c.b),
            BlockMode::Change => format!("Map: \"{}\" against \"{}\"", c.b, c.a),
        };
        let mut back = false;
        egui::Area::new(egui::Id::unique("scenario_banner"))
            .fixed_pos(map.left_top() + egui::vec2(10.0, 10.0))
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    // Clear of the zoom buttons on the map's right edge, even at 1024 px.
                    ui.set_max_width((map.width() - 100.0).max(160.0));
                    ui.horizontal_wrapped(|ui| {
                        ui.strong(text);
                        back = ui.button("Show the base").clicked();
                    });
                });
            });
        if back {
            self.scenario.shown = None;
        }
    }

    /// The workbench panel.
    pub(crate) fn scenario_panel(&mut self, ui: &mut Ui) {
        if self.project.is_none() {
            ui.label("Open a project first");
            return;
        }
        ui.horizontal(|ui| {
            ui.heading("Scenarios");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("Close").clicked() {
                    self.scenario.open = false;
                }
            });
        });
        ui.add(
            egui::Label::new(
                RichText::new(
                    "What if we build this? Each scenario is a named set of edits stored in the \
                     project; the imported data and the base results never change.",
                )
                .weak(),
            )
            .wrap(),
        );
        ui.separator();
        self.edit_section(ui);
        ui.separator();
        self.list_section(ui);
        ui.separator();
        self.compare_section(ui);
        ui.separator();
        self.gains_section(ui);
    }

    fn edit_section(&mut self, ui: &mut Ui) {
        ui.strong("1. Select on the map");
        let s = &mut self.scenario;
        ui.horizontal(|ui| {
            ui.radio_value(&mut s.tool, EditTool::Roads, "Roads");
            ui.radio_value(&mut s.tool, EditTool::Crossing, "A crossing");
        });
        let summary = self.selection_summary();
        let s = &mut self.scenario;
        match s.tool {
            EditTool::Roads => {
                ui.add(
                    egui::Label::new(
                        RichText::new(
                            "Click a road to select it; Shift or Ctrl+click adds or removes \
                             one; Shift+drag selects every road in a box.",
                        )
                        .weak(),
                    )
                    .wrap(),
                );
                if let Some(p) = &self.project {
                    super::scenario_route::controls(ui, &mut s.route, &p.data, &p.geometry);
                }
                ui.horizontal_wrapped(|ui| {
                    ui.label(summary);
                    if !s.selected.is_empty() && ui.small_button("Clear").clicked() {
                        s.selected.clear();
                    }
                });
                ui.add_space(4.0);
                ui.strong("2. What would be built");
                for u in Upgrade::ALL {
                    ui.radio_value(&mut s.upgrade, u, u.label());
                }
                match s.upgrade {
                    Upgrade::SpeedLimit => {
                        ui.horizontal(|ui| {
                            ui.label("Speed limit");
                            ui.add(
                                egui::DragValue::new(&mut s.speed_mph)
                                    .range(10..=45)
                                    .suffix(" mph"),
                            );
                        });
                    }
                    Upgrade::FewerLanes => {
                        ui.horizontal(|ui| {
                            ui.label("Lanes each way");
                            ui.add(egui::DragValue::new(&mut s.lanes).range(1..=3));
                        });
                    }
                    Upgrade::Build(_) => {}
                }
            }
            EditTool::Crossing => {
                ui.weak("Click an intersection on the map.");
                ui.label(summary);
                ui.add_space(4.0);
                ui.strong("2. What would be built");
                for (c, label) in CONTROLS {
                    ui.radio_value(&mut s.control, c, label);
                }
            }
        }
        ui.add_space(4.0);
        ui.strong("3. Name it and apply");
        if !self.scenario.name_edited {
            self.scenario.name = self.proposed_name();
        }
        let s = &mut self.scenario;
        ui.horizontal(|ui| {
            let l = ui.label("Scenario name");
            let r = ui
                .add(egui::TextEdit::singleline(&mut s.name).desired_width(f32::INFINITY))
                .labelled_by(l.id);
            if r.changed() {
                s.name_edited = true;
            }
        });
        let name_ok = !s.name.trim().is_empty() && s.name.trim() != BASE;
        if s.list.iter().any(|x| x.name == s.name.trim()) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Applying replaces the stored scenario of this name",
            );
        }
        let edits = self.pending_edits();
        let busy = self.scenario.task.is_some();
        ui.horizontal(|ui| {
            let apply = ui
                .add_enabled(
                    !edits.is_empty() && name_ok && !busy,
                    egui::Button::new(RichText::new("Apply").strong()),
                )
                .on_disabled_hover_text(if edits.is_empty() {
                    "Select what to change on the map first"
                } else if !name_ok {
                    "Give the scenario a name (\"base\" is the stored analysis)"
                } else {
                    "Wait for the running task"
                });
            if apply.clicked() {
                self.apply_scenario();
            }
            if let Some(t) = &self.scenario.task {
                ui.spinner();
                ui.label(format!("{}…", t.what));
            }
        });
        message_line(ui, &self.scenario.message);
    }

    fn selection_summary(&self) -> String {
        let Some(p) = &self.project else {
            return String::new();
        };
        let s = &self.scenario;
        match s.tool {
            EditTool::Roads => {
                if s.selected.is_empty() {
                    return "No road selected".into();
                }
                let names = road_names(
                    &p.data,
                    s.selected
                        .iter()
                        .filter_map(|&i| p.geometry.segments.get(i).map(|g| g.segment)),
                );
                let shown: Vec<&str> = names.iter().take(3).map(|s| s.as_str()).collect();
                let more = names.len().saturating_sub(3);
                format!(
                    "{} road segment(s) selected: {}{}",
                    s.selected.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more streets")
                    } else {
                        String::new()
                    }
                )
            }
            EditTool::Crossing => match s.crossing {
                Some((id, _)) => format!("Intersection {id}: {}", crossing_place(&p.data, id)),
                None => "No intersection selected".into(),
            },
        }
    }

    fn list_section(&mut self, ui: &mut Ui) {
        ui.strong("Scenarios in this project");
        let base_overall = self
            .scenario
            .list
            .iter()
            .find(|s| s.name == BASE)
            .and_then(|s| s.overall);
        let busy = self.scenario.task.is_some();
        let shown_b = self
            .scenario
            .shown
            .as_ref()
            .filter(|s| s.mode == BlockMode::Score)
            .map(|s| s.comparison.b.clone());
        let mut show = None;
        let mut delete = None;
        let mut reapply = None;
        // Long scenario names wrap: the panel is capped to leave the map its room, and the
        // other columns (score, change, two small buttons) take about 230 px.
        let name_width = (ui.available_width() - 230.0).clamp(95.0, 170.0);
        egui::Grid::new("scenario_list")
            .num_columns(4)
            .max_col_width(name_width)
            .striped(true)
            .spacing([10.0, 4.0])
            .show(ui, |ui| {
                ui.weak("scenario");
                ui.weak("overall");
                ui.weak("vs base");
                ui.weak("");
                ui.end_row();
                for s in &self.scenario.list {
                    let mut name = RichText::new(&s.name);
                    if s.name == BASE {
                        name = name.italics();
                    }
                    let hover = if s.name == BASE {
                        "The stored analysis".to_owned()
                    } else {
                        format!("{} edit(s), {}", s.edits.len(), s.created_at)
                    };
                    ui.add(egui::Label::new(name).wrap()).on_hover_text(hover);
                    ui.label(format_value(s.overall));
                    if s.name == BASE {
                        ui.weak("–");
                    } else {
                        let d = s.overall.zip(base_overall).map(|(b, a)| b - a);
                        ui.label(RichText::new(format_delta(d)).color(smap::delta_text_color(
                            d,
                            ui.visuals().text_color(),
                            super::theme::of(ui),
                        )));
                    }
                    ui.horizontal(|ui| {
                        if s.stale {
                            if ui
                                .add_enabled(!busy, egui::Button::new("Re-apply"))
                                .on_hover_text(
                                    "Scored against an earlier analysis of this project: \
                                     re-score its edits on the current one",
                                )
                                .clicked()
                            {
                                reapply = Some(s.name.clone());
                            }
                        } else {
                            let on = shown_b.as_deref() == Some(s.name.as_str());
                            if ui
                                .add_enabled(!busy, egui::Button::new("Show").small().selected(on))
                                .on_hover_text("Draw this scenario's stress and block scores")
                                .clicked()
                            {
                                show = Some(s.name.clone());
                            }
                        }
                        if s.name != BASE
                            && ui
                                .add_enabled(!busy, egui::Button::new("Delete").small())
                                .clicked()
                        {
                            delete = Some(s.name.clone());
                        }
                    });
                    ui.end_row();
                }
            });
        if self.scenario.list.is_empty() && busy {
            ui.weak("Reading…");
        }
        if let Some(n) = show {
            if n == BASE {
                self.scenario.shown = None;
            } else {
                self.show_scenario(&n);
            }
        }
        if let Some(n) = delete {
            self.delete_scenario(&n);
        }
        if let Some(n) = reapply {
            self.reapply_scenario(&n);
        }
    }

    fn compare_section(&mut self, ui: &mut Ui) {
        ui.strong("Compare");
        let names = self.scenario.names();
        let busy = self.scenario.task.is_some();
        let s = &mut self.scenario;
        let mut go = false;
        egui::Grid::new("compare_pick")
            .num_columns(2)
            .show(ui, |ui| {
                for (label, value) in [
                    ("A (before)", &mut s.compare_a),
                    ("B (after)", &mut s.compare_b),
                ] {
                    let l = ui.label(label);
                    egui::ComboBox::from_id_salt(label)
                        .selected_text(value.as_str())
                        .width(220.0)
                        .show_ui(ui, |ui| {
                            for n in &names {
                                ui.selectable_value(&mut *value, n.clone(), n.as_str());
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    ui.end_row();
                }
            });
        let pair = s.compare_a != s.compare_b;
        if ui
            .add_enabled(pair && !busy, egui::Button::new("Compare B with A"))
            .on_disabled_hover_text("Choose two different scenarios")
            .clicked()
        {
            go = true;
        }
        if go {
            let (a, b) = (
                self.scenario.compare_a.clone(),
                self.scenario.compare_b.clone(),
            );
            self.compare_scenarios(&a, &b);
        }
        let base_geometry = self.project.as_ref().map(|p| &p.geometry);
        let Some(shown) = self.scenario.shown.as_mut() else {
            return;
        };
        let mut mode = shown.mode;
        let c = &shown.comparison;
        ui.add_space(4.0);
        ui.label(RichText::new(format!("\"{}\" against \"{}\"", c.b, c.a)).strong());
        let gaining = format!(
            "People gaining a low-stress connection: {:.0} in {} blocks",
            c.people_gaining, c.blocks_gaining
        );
        ui.add(egui::Label::new(RichText::new(gaining).color(theme::of(ui).good).strong()).wrap());
        if c.blocks_losing > 0 {
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "People losing one: {:.0} in {} blocks",
                        c.people_losing, c.blocks_losing
                    ))
                    .color(theme::of(ui).bad),
                )
                .wrap(),
            );
        }
        ui.label(format!(
            "Blocks whose score changed: {}; road segments edited or changed stress: {}",
            c.blocks.iter().filter(|b| b.delta != 0.0).count(),
            c.segments.len()
        ));
        ui.horizontal(|ui| {
            ui.label("Map blocks by");
            ui.radio_value(&mut mode, BlockMode::Score, "score in B");
            ui.radio_value(&mut mode, BlockMode::Change, "change B − A");
        });
        // Three numbers take about 170 px; long labels wrap in what is left, so the table
        // fits the panel's cap at 1024 px.
        let label_width = (ui.available_width() - 175.0).clamp(90.0, 260.0);
        egui::Grid::new("score_deltas")
            .num_columns(4)
            .max_col_width(label_width)
            .striped(true)
            .spacing([10.0, 3.0])
            .show(ui, |ui| {
                ui.weak("score");
                ui.weak("A");
                ui.weak("B");
                ui.weak("change");
                ui.end_row();
                let ids: Vec<&str> = c.scores.iter().map(|s| s.score_id.as_str()).collect();
                for s in smap::table_order(&ids).into_iter().map(|i| &c.scores[i]) {
                    let mut label = RichText::new(smap::table_label(&s.score_id));
                    if s.score_id == "overall_score" {
                        label = label.strong();
                    }
                    let measures = bna_engine::analysis::score_text::find(&s.score_id)
                        .map_or(s.human_explanation.as_str(), |t| t.measures);
                    ui.add(egui::Label::new(label).wrap())
                        .on_hover_text(measures);
                    ui.label(format_value(s.a));
                    ui.label(format_value(s.b));
                    let better = smap::improvement(&s.score_id, s.delta);
                    ui.label(
                        RichText::new(format_delta(s.delta)).color(smap::delta_text_color(
                            better,
                            ui.visuals().text_color(),
                            super::theme::of(ui),
                        )),
                    );
                    ui.end_row();
                }
            });
        if mode != shown.mode {
            shown.mode = mode;
            if let Some(g) = base_geometry {
                shown.refresh(g);
            }
        }
    }

    fn gains_section(&mut self, ui: &mut Ui) {
        ui.strong("Biggest gains");
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Re-scores a protected track on each of the most promising high-stress roads \
                     (or along whole stretches of a street), one at a time, and ranks them by how \
                     much they raise the overall score.",
                )
                .weak(),
            )
            .wrap(),
        );
        let s = &mut self.scenario;
        ui.horizontal(|ui| {
            ui.radio_value(&mut s.corridors, false, "single road segments");
            ui.radio_value(&mut s.corridors, true, "whole streets");
        });
        ui.horizontal(|ui| {
            let l = ui.label("Candidates");
            ui.add(egui::DragValue::new(&mut s.gains_candidates).range(1..=5000))
                .labelled_by(l.id);
            let l = ui.label("show top");
            ui.add(egui::DragValue::new(&mut s.gains_top).range(1..=50))
                .labelled_by(l.id);
        });
        let mut start = false;
        let mut cancel = false;
        if let Some(t) = &s.gains_task {
            let (done, total) = t.counts();
            ui.horizontal(|ui| {
                let f = if total > 0 {
                    done as f32 / total as f32
                } else {
                    0.0
                };
                ui.add(
                    egui::ProgressBar::new(f.clamp(0.0, 1.0))
                        .desired_width(200.0)
                        .text(format!("{done}/{total} re-scored")),
                );
                cancel = ui.button("Cancel search").clicked();
            });
        } else {
            start = ui
                .button("Find biggest gains")
                .on_hover_text("Runs in the background; the map stays usable")
                .clicked();
        }
        message_line(ui, &s.gains_message);
        let mut picked = None;
        if let Some(g) = &s.gains {
            ui.weak(format!(
                "Overall score of the base: {}",
                format_value(g.base_overall)
            ));
            ui.add(egui::Label::new(RichText::new(gains_tally(g)).weak()).wrap());
            // One entry per upgrade, its figures on a line below: a table of four columns
            // would widen the panel past the map.
            for (i, x) in g.ranked.iter().enumerate() {
                let on = s
                    .gain_roads
                    .get(i)
                    .is_some_and(|r| !r.is_empty() && r.iter().all(|k| s.selected.contains(k)));
                if ui
                    .add(
                        egui::Button::new(format!("{}. {}", i + 1, x.candidate.label))
                            .wrap_mode(egui::TextWrapMode::Wrap)
                            .selected(on),
                    )
                    .on_hover_text("Select it and zoom to it; Apply makes it a scenario")
                    .clicked()
                {
                    picked = Some(i);
                }
                ui.horizontal(|ui| {
                    ui.add_space(16.0);
                    ui.label(
                        RichText::new(format!("score {}", format_delta(Some(x.delta)))).color(
                            smap::delta_text_color(
                                Some(x.delta),
                                ui.visuals().text_color(),
                                super::theme::of(ui),
                            ),
                        ),
                    );
                    ui.weak("·");
                    ui.label(gain_length_text(x))
                        .on_hover_text("Length of road built on: a proxy for its cost");
                    ui.weak("·");
                    ui.label(gain_per_km_text(x)).on_hover_text(format!(
                        "{:.0} people gain a low-stress connection: {:.0} per km built",
                        x.people_gaining, x.people_gaining_per_km
                    ));
                });
            }
        }
        if start {
            self.find_gains();
        }
        if cancel {
            self.cancel_gains();
        }
        if let Some(i) = picked {
            self.pick_gain(i);
        }
    }
}

/// How many candidates were re-scored and how many were left out for gaining nothing.
pub fn gains_tally(g: &bna_engine::scenario::Gains) -> String {
    if g.ranked.is_empty() {
        format!(
            "None of the {} candidates re-scored raised the overall score.",
            g.evaluated
        )
    } else {
        format!(
            "{} candidates re-scored; {} raised nothing and are not listed.",
            g.evaluated, g.without_gain
        )
    }
}

/// The length column of the gains list.
pub fn gain_length_text(g: &bna_engine::scenario::Gain) -> String {
    format!("{:.2} km", g.length_km)
}

/// The people gaining a low-stress connection per km built, in the gains list.
pub fn gain_per_km_text(g: &bna_engine::scenario::Gain) -> String {
    format!("{:.0} people gaining per km", g.people_gaining_per_km)
}
