//! The Compare menu and the comparison window: the open project against another `.bna`
//! project or the reference BNA's export folder (issue 14). The work runs in
//! [`super::compare_task`]; the map draws [`super::compare_view`]'s layer while the window is
//! open, and closing the window removes it.

use std::path::PathBuf;

use eframe::egui::{self, Color32, Context, RichText, Ui};

use super::compare_task::{CompareTask, Compared};
use super::compare_view::{abs_delta_color, CompareOverlay, SegmentStatus};
use super::file_dialog::{PathRequest, PathUse, Pick};
use super::state::{file_name, BnaApp, Status};

/// The comparison under way and the one shown.
#[derive(Debug, Default)]
pub struct CompareState {
    /// Chosen, to start on the next frame (which has a Context to wake).
    pub(crate) pending: Option<PathBuf>,
    pub(crate) task: Option<CompareTask>,
    pub(crate) shown: Option<Box<Compared>>,
}

impl CompareState {
    /// Forgets both (another project was opened: the layer belongs to the old one).
    pub fn reset(&mut self) {
        *self = CompareState::default();
    }

    /// The difference layer to draw over the map.
    pub fn overlay(&self) -> Option<&CompareOverlay> {
        self.shown.as_ref().map(|c| &c.overlay)
    }
}

/// The Compare menu's entries (the UI tests click them by these).
pub const WITH_PROJECT: &str = "Compare with a project…";
pub const WITH_REFERENCE: &str = "Compare with a reference export…";
pub const CLEAR: &str = "Clear comparison";
/// The comparison window's title and its button that removes the layer.
pub const WINDOW_TITLE: &str = "Comparison";
pub const CLOSE: &str = "Close and clear";

impl BnaApp {
    pub(crate) fn compare_menu(&mut self, ui: &mut Ui) {
        ui.menu_button("Compare", |ui| {
            let open = self.project.is_some();
            if ui
                .add_enabled(open, egui::Button::new(WITH_PROJECT))
                .on_hover_text("Another .bna analysis of the same place, e.g. cut another way")
                .on_disabled_hover_text("Open a project first")
                .clicked()
            {
                self.choose_path(
                    PathRequest::new(PathUse::CompareWith, Pick::File, "Compare with a project")
                        .filter("BNA project", &["bna"]),
                );
                ui.close();
            }
            if ui
                .add_enabled(open, egui::Button::new(WITH_REFERENCE))
                .on_hover_text(
                    "The reference BNA's export folder (its CSV tables or GeoJSON export)",
                )
                .on_disabled_hover_text("Open a project first")
                .clicked()
            {
                self.choose_path(PathRequest::new(
                    PathUse::CompareWith,
                    Pick::Folder,
                    "Compare with the reference's export folder",
                ));
                ui.close();
            }
            let shown = self.compare.shown.is_some() || self.is_comparing();
            if ui.add_enabled(shown, egui::Button::new(CLEAR)).clicked() {
                self.compare.reset();
                ui.close();
            }
        });
    }

    /// Compares the open project with `other` (a chosen path), from the next frame on.
    pub fn compare_with(&mut self, other: PathBuf) {
        self.compare.pending = Some(other);
    }

    fn start_comparing_with(&mut self, other: PathBuf, ctx: &Context) {
        let Some(p) = &self.project else {
            self.status = Status::Done("Nothing to compare: open a project first".into());
            return;
        };
        self.status = Status::Working(format!("Comparing with {}", file_name(&other)));
        self.compare.shown = None;
        self.compare.task = Some(CompareTask::spawn(
            p.path.clone(),
            other,
            p.geometry.origin_ll,
            Some(ctx.clone()),
        ));
    }

    /// The comparison shown, once it is done.
    pub fn comparison(&self) -> Option<&Compared> {
        self.compare.shown.as_deref()
    }

    /// True while a comparison runs.
    pub fn is_comparing(&self) -> bool {
        self.compare.pending.is_some() || self.compare.task.is_some()
    }

    /// Takes a finished comparison and draws its window.
    pub(crate) fn compare_frame(&mut self, ctx: &Context) {
        if let Some(other) = self.compare.pending.take() {
            self.start_comparing_with(other, ctx);
        }
        if let Some(answer) = self.compare.task.as_ref().and_then(|t| t.take()) {
            let task = self.compare.task.take().expect("checked above");
            let secs = task.started().elapsed().as_secs_f64();
            match answer {
                Ok(c) => {
                    self.status = Status::Done(format!(
                        "Compared with {} in {secs:.1} s",
                        file_name(&task.other)
                    ));
                    self.compare.shown = Some(c);
                }
                Err(e) => self.status = Status::Failed(e),
            }
        }
        let Some(c) = &self.compare.shown else { return };
        let mut open = true;
        let mut clear = false;
        egui::Window::new(WINDOW_TITLE)
            .open(&mut open)
            // Left of the map's zoom buttons, tall enough for the summary on a laptop screen.
            .default_pos(ctx.content_rect().right_top() + egui::vec2(-570.0, 40.0))
            .default_width(440.0)
            .default_height((ctx.content_rect().height() * 0.75).min(640.0))
            .collapsible(true)
            .vscroll(true)
            .show(ctx, |ui| {
                clear = comparison_window(ui, c);
            });
        if clear || !open {
            self.compare.reset();
        }
    }
}

fn swatch(ui: &mut Ui, color: Color32, label: &str) {
    ui.horizontal(|ui| {
        let (r, _) = ui.allocate_exact_size(egui::vec2(22.0, 10.0), egui::Sense::hover());
        // A grey rim: every swatch shows on the dark and the light theme.
        ui.painter().rect(
            r,
            2.0,
            color,
            egui::Stroke::new(1.0, Color32::from_gray(128)),
            egui::StrokeKind::Outside,
        );
        ui.label(label);
    });
}

fn rows(ui: &mut Ui, id: &str, rows: &[(String, String)]) {
    egui::Grid::new(id)
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (label, value) in rows {
                ui.label(label.as_str());
                ui.label(value.as_str());
                ui.end_row();
            }
        });
}

/// The window's contents; true when "Close and clear" was pressed.
fn comparison_window(ui: &mut Ui, c: &Compared) -> bool {
    let s = &c.summary;
    // At the top: the window scrolls, and the way out must never be below the fold.
    let clear = ui
        .button(CLOSE)
        .on_hover_text("Removes the difference layer from the map")
        .clicked();
    ui.label(format!("A: {} (this project)", file_name(&c.a)));
    ui.label(format!("B: {} ({})", file_name(&c.b), c.b_kind.label()));
    ui.weak("Δ = B − A");
    ui.add_space(4.0);
    ui.strong("Road segments");
    rows(ui, "compare_segments", &s.segments);
    ui.add_space(4.0);
    ui.strong("Census blocks");
    rows(ui, "compare_blocks", &s.blocks);
    ui.add_space(4.0);
    ui.strong("On the map");
    let o = &c.overlay;
    for status in SegmentStatus::ALL {
        swatch(
            ui,
            status.color(),
            &format!("{} ({})", status.label(), o.count(status)),
        );
    }
    if o.undrawn_segments > 0 {
        ui.weak(format!(
            "{} differing segments have no line to draw",
            o.undrawn_segments
        ));
    }
    if !o.blocks.is_empty() {
        swatch(
            ui,
            abs_delta_color(o.max_abs_delta, o.max_abs_delta),
            &format!(
                "Block score differs, darker by |Δ| up to {:.2} ({})",
                o.max_abs_delta,
                o.blocks.len()
            ),
        );
    }
    ui.add_space(4.0);
    ui.strong("City scores");
    egui::Grid::new("compare_city")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            for h in ["Score", "A", "B", "Δ"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for r in &s.city {
                ui.label(r.label.as_str());
                ui.label(r.a.as_str());
                ui.label(r.b.as_str());
                ui.label(r.delta.as_str());
                ui.end_row();
            }
        });
    clear
}
