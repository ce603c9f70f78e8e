//! Every colour the app draws text in, and the background it is drawn on, in one place, so
//! that each pair can be checked against WCAG AA (4.5:1 for normal text). egui's dark theme
//! fades weak text to about 2.7:1 and egui_plot fades crowded axis labels further; the map's
//! stress and change colours are chosen for lines on a map, not for text on a dark panel.

use eframe::egui::{self, Color32, Rangef};
use egui_plot::AxisHints;

/// The text colours of one theme and the backgrounds they are drawn on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub dark: bool,
    /// The panel and window fill: the background of every text below.
    pub panel_fill: Color32,
    /// The striped rows of a grid, the other background text sits on.
    pub stripe_fill: Color32,
    /// Body text.
    pub text: Color32,
    /// Helper text and instructions: quieter than body text, still over 4.5:1.
    pub weak_text: Color32,
    /// Axis tick labels of the charts.
    pub chart_label: Color32,
    pub error: Color32,
    pub warn: Color32,
    /// Good news: a better score, a boundary the extract covers, a finished step.
    pub good: Color32,
    /// A worse score (the purple of the map's "worse", adjusted for text).
    pub bad: Color32,
    /// Stress levels in text (the map's blue and red, adjusted for text).
    pub low_stress: Color32,
    pub high_stress: Color32,
}

/// egui's dark theme, with text raised to AA.
pub const DARK: Palette = Palette {
    dark: true,
    panel_fill: Color32::from_gray(27),
    // The lighter rows of a striped grid (egui's faint background over the panel).
    stripe_fill: Color32::from_gray(32),
    text: Color32::from_gray(190),
    weak_text: Color32::from_gray(150),
    chart_label: Color32::from_gray(170),
    error: Color32::from_rgb(255, 110, 100),
    warn: Color32::from_rgb(255, 160, 40),
    good: Color32::from_rgb(110, 200, 130),
    bad: Color32::from_rgb(200, 150, 230),
    low_stress: Color32::from_rgb(110, 175, 235),
    high_stress: Color32::from_rgb(255, 120, 110),
};

/// The light theme, for projectors in bright rooms: dark text on near-white.
pub const LIGHT: Palette = Palette {
    dark: false,
    panel_fill: Color32::from_gray(248),
    // egui's light faint background darkens the stripes; this is no lighter than it.
    stripe_fill: Color32::from_gray(236),
    text: Color32::from_gray(30),
    weak_text: Color32::from_gray(85),
    chart_label: Color32::from_gray(60),
    error: Color32::from_rgb(185, 20, 20),
    warn: Color32::from_rgb(150, 75, 0),
    good: Color32::from_rgb(20, 115, 45),
    bad: Color32::from_rgb(120, 50, 160),
    low_stress: Color32::from_rgb(20, 90, 165),
    high_stress: Color32::from_rgb(185, 20, 20),
};

/// The palette of a theme (`dark` or light).
pub fn palette(dark: bool) -> &'static Palette {
    if dark {
        &DARK
    } else {
        &LIGHT
    }
}

/// The palette the `ui` is drawn in.
pub fn of(ui: &egui::Ui) -> &'static Palette {
    palette(ui.visuals().dark_mode)
}

impl Palette {
    /// Every text colour, with its name for the contrast test.
    pub fn text_colors(&self) -> [(&'static str, Color32); 9] {
        [
            ("text", self.text),
            ("weak text", self.weak_text),
            ("chart label", self.chart_label),
            ("error", self.error),
            ("warning", self.warn),
            ("good", self.good),
            ("bad", self.bad),
            ("low stress", self.low_stress),
            ("high stress", self.high_stress),
        ]
    }

    /// The app's visuals: egui's theme with these text colours.
    pub fn visuals(&self) -> egui::Visuals {
        let mut v = if self.dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        };
        v.panel_fill = self.panel_fill;
        v.window_fill = self.panel_fill;
        v.widgets.noninteractive.fg_stroke.color = self.text;
        v.weak_text_color = Some(self.weak_text);
        v.error_fg_color = self.error;
        v.warn_fg_color = self.warn;
        v
    }

    /// A chart axis whose tick labels are drawn at full [`Palette::chart_label`] colour:
    /// egui_plot fades labels that are close together, down to 2:1; these are shown whole
    /// or not at all.
    pub fn chart_axis<'a>(&self, hints: AxisHints<'a>, min_spacing: f32) -> AxisHints<'a> {
        hints
            .label_spacing(Rangef::new(min_spacing, min_spacing + 0.5))
            .tick_label_color(self.chart_label)
    }
}

/// Sets the visuals of the chosen theme unless they are already set (checked each frame:
/// cheap, and a test harness gets them too).
pub fn apply(ctx: &egui::Context, dark: bool) {
    let p = palette(dark);
    let v = &ctx.global_style().visuals;
    if v.weak_text_color != Some(p.weak_text) || v.dark_mode != dark {
        ctx.set_visuals(p.visuals());
    }
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
        let old_helper = contrast_ratio(Color32::from_gray(0x5f), DARK.panel_fill);
        let old_chart = contrast_ratio(Color32::from_gray(0x4d), DARK.panel_fill);
        assert!((old_helper - 2.7).abs() < 0.1, "{old_helper}");
        assert!((old_chart - 2.0).abs() < 0.1, "{old_chart}");
    }

    #[test]
    fn every_text_colour_meets_wcag_aa_on_its_backgrounds_in_both_themes() {
        for p in [DARK, LIGHT] {
            for (name, color) in p.text_colors() {
                for (bg_name, bg) in [("panel", p.panel_fill), ("striped row", p.stripe_fill)] {
                    let r = contrast_ratio(color, bg);
                    assert!(
                        r >= 4.5,
                        "dark={}: {name} on the {bg_name}: {r:.2}:1",
                        p.dark
                    );
                }
            }
        }
    }

    #[test]
    fn the_visuals_use_these_colours() {
        for p in [DARK, LIGHT] {
            let v = p.visuals();
            assert_eq!(v.dark_mode, p.dark);
            assert_eq!(v.panel_fill, p.panel_fill);
            assert_eq!(v.window_fill, p.panel_fill);
            assert_eq!(v.text_color(), p.text);
            assert_eq!(v.weak_text_color(), p.weak_text);
            assert_eq!(v.error_fg_color, p.error);
            assert_eq!(v.warn_fg_color, p.warn);
            // The stripes egui draws are no further from the text than the test assumes.
            let stripe = v.faint_bg_color;
            if p.dark {
                assert!(p.panel_fill.r().saturating_add(stripe.r()) <= p.stripe_fill.r());
            } else {
                // Additive over the light panel: stripes are lighter, dark text only gains,
                // and the test's darker stripe is the harder case.
                assert_eq!(stripe.a(), 0, "{stripe:?}");
                assert!(p.stripe_fill.r() <= p.panel_fill.r());
            }
        }
    }
}
