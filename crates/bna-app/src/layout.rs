//! How much of the window the panels may take, and which ones the user folded. The map is the
//! work surface: panels are capped to a share of the window so that it never shrinks to a
//! strip, and each can fold to a thin bar. The folds are kept in the recent-projects file
//! (`paths::RecentProjects`), the one file where the app remembers things between runs.

use eframe::egui::{self, Context, Ui};
use serde::{Deserialize, Serialize};

use super::state::BnaApp;

/// Which panels are unfolded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelLayout {
    /// The project panel on the left (scores, layers, run form).
    pub project_panel: bool,
    /// The scenario panel on the right, while it is open.
    pub scenario_panel: bool,
    /// The map legend.
    pub legend: bool,
    /// The light theme (for projectors) instead of the dark one.
    pub light_theme: bool,
}

impl Default for PanelLayout {
    fn default() -> Self {
        PanelLayout {
            project_panel: true,
            scenario_panel: true,
            legend: true,
            light_theme: false,
        }
    }
}

/// Width of a folded panel: room for its unfold button.
pub const FOLDED_WIDTH: f32 = 30.0;

/// The widths a panel may take in a window `window` px wide: at most `share` of it, within
/// the panel's own `min..=max`, so that at 1024 px both panels together leave the map more
/// than a third of the window.
pub fn panel_width_range(window: f32, share: f32, min: f32, max: f32) -> (f32, f32) {
    let cap = (window * share).clamp(min, max);
    (min.min(cap), cap)
}

/// The project panel's range (its default is 340 px).
pub fn project_panel_range(window: f32) -> (f32, f32) {
    panel_width_range(window, 0.30, 240.0, 480.0)
}

/// The scenario panel's range (its default is 400 px).
pub fn scenario_panel_range(window: f32) -> (f32, f32) {
    panel_width_range(window, 0.32, 280.0, 560.0)
}

/// The inspector's width cap: a long tag value (a URL) wraps instead of widening it.
pub const INSPECTOR_MAX_WIDTH: f32 = 380.0;

/// A thin bar standing for a folded panel; true when its button asks to unfold it.
fn folded_bar(ui: &mut Ui, arrow: &str, what: &str) -> bool {
    ui.add_space(4.0);
    ui.button(arrow)
        .on_hover_text(format!("Show the {what}"))
        .clicked()
}

/// The fold button at the top of a panel; true when clicked.
fn fold_button(ui: &mut Ui, arrow: &str, what: &str) -> bool {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
        ui.small_button(arrow)
            .on_hover_text(format!("Fold the {what}: the map takes its room"))
            .clicked()
    })
    .inner
}

impl BnaApp {
    /// The project panel (left) and, while open, the scenario panel (right), each capped to
    /// a share of the window and foldable.
    pub(crate) fn panels(&mut self, ui: &mut Ui) {
        let window = ui.ctx().content_rect().width();
        let (min, max) = project_panel_range(window);
        // No slide animation: a folded panel is a different, fixed-width panel.
        let toggle = if self.layout.project_panel {
            egui::Panel::left("project")
                .default_size(340.0f32.clamp(min, max))
                .size_range(min..=max)
                .resizable(true)
                .show(ui, |ui| {
                    // Above the scroll area: its scroll bar would take the clicks.
                    let fold = fold_button(ui, "«", "project panel");
                    egui::ScrollArea::vertical().show(ui, |ui| self.side_panel(ui));
                    fold
                })
                .inner
        } else {
            egui::Panel::left("project_folded")
                .exact_size(FOLDED_WIDTH)
                .resizable(false)
                .show(ui, |ui| folded_bar(ui, "»", "project panel"))
                .inner
        };
        self.layout.project_panel ^= toggle;
        if !(self.scenario.open && self.project.is_some()) {
            return;
        }
        let (min, max) = scenario_panel_range(window);
        let toggle = if self.layout.scenario_panel {
            egui::Panel::right("scenarios")
                .default_size(400.0f32.clamp(min, max))
                .size_range(min..=max)
                .resizable(true)
                .show(ui, |ui| {
                    let fold = fold_button(ui, "»", "scenario panel");
                    egui::ScrollArea::vertical().show(ui, |ui| self.scenario_panel(ui));
                    fold
                })
                .inner
        } else {
            egui::Panel::right("scenarios_folded")
                .exact_size(FOLDED_WIDTH)
                .resizable(false)
                .show(ui, |ui| folded_bar(ui, "«", "scenario panel"))
                .inner
        };
        self.layout.scenario_panel ^= toggle;
    }

    /// The inspector: a window the user can move off the feature, placed first at the map's
    /// top right, no wider than [`INSPECTOR_MAX_WIDTH`].
    pub(crate) fn inspector_window(&mut self, ctx: &Context) {
        let mut open = true;
        let screen = ctx.content_rect();
        let max_h = (screen.height() - 140.0).max(200.0);
        let map_right = self.last_view.map_or(screen.right(), |v| v.screen.right());
        egui::Window::new("Inspector")
            .open(&mut open)
            .default_pos([map_right - INSPECTOR_MAX_WIDTH - 56.0, screen.top() + 34.0])
            .default_width(360.0)
            .max_width(INSPECTOR_MAX_WIDTH)
            .default_height(max_h)
            .max_height(max_h)
            .vscroll(true)
            .collapsible(true)
            .constrain(true)
            .show(ctx, |ui| {
                ui.set_max_width(INSPECTOR_MAX_WIDTH);
                self.inspector(ui)
            });
        if !open {
            self.selection = None;
        }
    }

    /// Saves the folds with the recent projects when the user changed one.
    pub(crate) fn remember_layout(&mut self) {
        if self.recent.layout == self.layout {
            return;
        }
        self.recent.layout = self.layout;
        if let Some(file) = &self.opts.recent_file {
            // Failing to save only costs the user their folds at the next start.
            let _ = self.recent.save(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_leave_the_map_a_third_of_a_small_window() {
        for window in [1024.0f32, 1280.0, 1440.0] {
            let left = project_panel_range(window).1;
            let right = scenario_panel_range(window).1;
            let map = window - left - right;
            assert!(map >= window / 3.0, "{window}: map {map}");
        }
        // Wide screens keep the panels' own maxima.
        assert_eq!(project_panel_range(3000.0), (240.0, 480.0));
        assert_eq!(scenario_panel_range(3000.0), (280.0, 560.0));
    }

    #[test]
    fn an_old_file_without_a_layout_unfolds_everything() {
        let l: PanelLayout = serde_json::from_str(r#"{"legend": false}"#).expect("parse");
        assert!(l.project_panel && l.scenario_panel && !l.legend && !l.light_theme);
        let l: PanelLayout = serde_json::from_str(r#"{"light_theme": true}"#).expect("parse");
        assert!(l.light_theme && l.legend);
    }
}
