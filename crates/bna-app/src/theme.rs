//! Every colour the app draws text in, and the background it is drawn on, in one place, so
//! that each pair can be checked against WCAG AA (4.5:1 for normal text). egui's dark theme
//! fades weak text to about 2.7:1 and egui_plot fades crowded axis labels further; the map's
//! stress and change colours are chosen for lines on a map, not for text on a dark panel.

use eframe::egui::{self, Color32, Rangef};
use egui_plot::AxisHints;

/// egui's dark panel and window fill: the background of every text below.
pub const PANEL_FILL: Color32 = Color32::from_gray(27);
/// The lighter rows of a striped grid (egui's faint background over the panel).
pub const STRIPE_FILL: Color32 = Color32::from_gray(32);

/// Body text.
pub const TEXT: Color32 = Color32::from_gray(190);
/// Helper text and instructions: quieter than body text, still 5:1.
pub const WEAK_TEXT: Color32 = Color32::from_gray(150);
/// Axis tick labels of the charts.
pub const CHART_LABEL: Color32 = Color32::from_gray(170);
pub const ERROR_TEXT: Color32 = Color32::from_rgb(255, 110, 100);
pub const WARN_TEXT: Color32 = Color32::from_rgb(255, 160, 40);
/// Good news: a better score, a boundary the extract covers, a finished step.
pub const GOOD_TEXT: Color32 = Color32::from_rgb(110, 200, 130);
/// A worse score (the purple of the map's "worse", lightened for text).
pub const BAD_TEXT: Color32 = Color32::from_rgb(200, 150, 230);
/// Stress levels in text (the map's blue and red, lightened for text).
pub const LOW_STRESS_TEXT: Color32 = Color32::from_rgb(110, 175, 235);
pub const HIGH_STRESS_TEXT: Color32 = Color32::from_rgb(255, 120, 110);

/// Every text colour above, with its name for the contrast test.
pub const TEXT_COLORS: [(&str, Color32); 9] = [
    ("text", TEXT),
    ("weak text", WEAK_TEXT),
    ("chart label", CHART_LABEL),
    ("error", ERROR_TEXT),
    ("warning", WARN_TEXT),
    ("good", GOOD_TEXT),
    ("bad", BAD_TEXT),
    ("low stress", LOW_STRESS_TEXT),
    ("high stress", HIGH_STRESS_TEXT),
];

/// The app's visuals: egui's dark theme with the text colours above.
pub fn visuals() -> egui::Visuals {
    let mut v = egui::Visuals::dark();
    v.panel_fill = PANEL_FILL;
    v.window_fill = PANEL_FILL;
    v.widgets.noninteractive.fg_stroke.color = TEXT;
    v.weak_text_color = Some(WEAK_TEXT);
    v.error_fg_color = ERROR_TEXT;
    v.warn_fg_color = WARN_TEXT;
    v
}

/// Sets [`visuals`] unless they are already set (checked each frame: cheap, and a test
/// harness gets them too).
pub fn apply(ctx: &egui::Context) {
    if ctx.global_style().visuals.weak_text_color != Some(WEAK_TEXT) {
        ctx.set_visuals(visuals());
    }
}

/// A chart axis whose tick labels are drawn at full [`CHART_LABEL`] colour: egui_plot fades
/// labels that are close together, down to 2:1; these are shown whole or not at all.
pub fn chart_axis(hints: AxisHints<'_>, min_spacing: f32) -> AxisHints<'_> {
    hints
        .label_spacing(Rangef::new(min_spacing, min_spacing + 0.5))
        .tick_label_color(CHART_LABEL)
}

/// WCAG 2.1 relative luminance of an opaque sRGB colour.
pub fn relative_luminance(c: Color32) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// WCAG 2.1 contrast ratio of two opaque colours (1 to 21).
pub fn contrast_ratio(a: Color32, b: Color32) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_ratio_matches_known_pairs() {
        assert!((contrast_ratio(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 1e-9);
        // The greys the issue measured: #5F5F5F and #4D4D4D on #1B1B1B.
        let old_helper = contrast_ratio(Color32::from_gray(0x5f), PANEL_FILL);
        let old_chart = contrast_ratio(Color32::from_gray(0x4d), PANEL_FILL);
        assert!((old_helper - 2.7).abs() < 0.1, "{old_helper}");
        assert!((old_chart - 2.0).abs() < 0.1, "{old_chart}");
    }

    #[test]
    fn every_text_colour_meets_wcag_aa_on_its_backgrounds() {
        for (name, color) in TEXT_COLORS {
            for (bg_name, bg) in [("panel", PANEL_FILL), ("striped row", STRIPE_FILL)] {
                let r = contrast_ratio(color, bg);
                assert!(r >= 4.5, "{name} on the {bg_name}: {r:.2}:1");
            }
        }
    }

    #[test]
    fn the_visuals_use_these_colours() {
        let v = visuals();
        assert_eq!(v.panel_fill, PANEL_FILL);
        assert_eq!(v.window_fill, PANEL_FILL);
        assert_eq!(v.text_color(), TEXT);
        assert_eq!(v.weak_text_color(), WEAK_TEXT);
        assert_eq!(v.error_fg_color, ERROR_TEXT);
        assert_eq!(v.warn_fg_color, WARN_TEXT);
        // The stripe over the panel is no lighter than the background the test assumes.
        let stripe = v.faint_bg_color;
        assert!(PANEL_FILL.r().saturating_add(stripe.r()) <= STRIPE_FILL.r());
    }
}
