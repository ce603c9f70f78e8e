//! How a road is drawn, so that its stress reads without colour: the blue and red of low and
//! high stress are the same grey to a reader without colour vision (and on a greyscale
//! print), so stress also sets the line's shape. Low stress is a line with a white casing,
//! high stress a wider line without one, "no bikes" a thin dashed grey line. The road class
//! sets the width on top, as on any road map: arterials wide, service ways and paths thin.

use eframe::egui::Color32;

use super::geometry::stress_color;
use bna_engine::model::{FunctionalClass, Stress, HIGH_STRESS, LOW_STRESS};

/// Width of the white casing around low-stress roads, on each side (px).
pub const CASING_PX: f32 = 1.25;
/// Dash and gap of "no bikes" roads (px).
pub const NO_BIKES_DASH: (f32, f32) = (5.0, 4.0);
/// Thinnest line drawn (px): thinner would vanish into the feather.
const MIN_WIDTH: f32 = 1.0;

/// One road's stroke.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoadStyle {
    pub width: f32,
    pub color: Color32,
    /// A wider line of this colour drawn under the core.
    pub casing: Option<(f32, Color32)>,
    /// Dash and gap lengths (px); `None`: solid.
    pub dash: Option<(f32, f32)>,
}

/// The width factor of a road class: arterials 1.5×, collectors 1.25×, local streets 1×,
/// tracks and paths 0.75× the zoom's base width.
pub fn class_factor(c: FunctionalClass) -> f32 {
    use FunctionalClass as F;
    match c {
        F::Motorway | F::MotorwayLink | F::Trunk | F::TrunkLink | F::Primary | F::PrimaryLink => {
            1.5
        }
        F::Secondary | F::SecondaryLink | F::Tertiary | F::TertiaryLink => 1.25,
        F::Residential | F::Unclassified | F::LivingStreet => 1.0,
        F::Track | F::Path => 0.75,
    }
}

/// The stroke of a road of stress `stress` (`None`: no bikes), class width factor `factor`,
/// at a zoom whose base width is `base` px.
pub fn road_style(stress: Option<Stress>, factor: f32, base: f32) -> RoadStyle {
    let w = (base * factor).max(MIN_WIDTH);
    let color = stress_color(stress);
    match stress {
        Some(LOW_STRESS) => RoadStyle {
            width: w,
            color,
            casing: Some((w + 2.0 * CASING_PX, Color32::WHITE)),
            dash: None,
        },
        Some(s) if s >= HIGH_STRESS => RoadStyle {
            width: (w * 1.4).max(w + 1.0),
            color,
            casing: None,
            dash: None,
        },
        Some(_) => RoadStyle {
            width: w * 1.2,
            color,
            casing: None,
            dash: None,
        },
        None => RoadStyle {
            width: (w * 0.8).max(MIN_WIDTH),
            color,
            casing: None,
            dash: Some(NO_BIKES_DASH),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::relative_luminance;

    #[test]
    fn stress_is_told_by_shape_as_well_as_colour() {
        // (stress, factor, base) → (width, casing width, dashed)
        let cases = [
            (Some(1), 1.0, 2.0, (2.0, Some(4.5), false)),
            (Some(3), 1.0, 2.0, (3.0, None, false)),
            (Some(4), 1.5, 2.0, (4.2, None, false)),
            (Some(2), 1.0, 2.0, (2.4, None, false)),
            (None, 1.0, 2.0, (1.6, None, true)),
            // Thin lines stay visible, and high stress is at least a pixel wider.
            (None, 0.75, 1.2, (1.0, None, true)),
            (Some(3), 0.75, 1.2, (2.0, None, false)),
        ];
        for (stress, factor, base, (width, casing, dashed)) in cases {
            let s = road_style(stress, factor, base);
            assert!((s.width - width).abs() < 1e-5, "{stress:?}: {s:?}");
            assert_eq!(
                s.casing.map(|c| (c.0 * 100.0).round() / 100.0),
                casing,
                "{stress:?}"
            );
            assert_eq!(s.dash.is_some(), dashed, "{stress:?}");
        }
    }

    #[test]
    fn in_greyscale_low_and_high_stress_still_differ() {
        let (low, high) = (road_style(Some(1), 1.0, 2.6), road_style(Some(3), 1.0, 2.6));
        // Their colours are nearly one grey: the complaint, kept as a fact.
        let (l, h) = (
            relative_luminance(low.color),
            relative_luminance(high.color),
        );
        assert!((l - h).abs() < 0.05, "{l} {h}");
        // So the shape differs: a cased line against a wider bare one.
        assert!(low.casing.is_some() && high.casing.is_none());
        assert!(high.width >= low.width + 1.0);
    }

    #[test]
    fn class_widths_rank_arterials_over_paths() {
        use FunctionalClass as F;
        let order = [F::Primary, F::Tertiary, F::Residential, F::Path];
        for pair in order.windows(2) {
            assert!(class_factor(pair[0]) > class_factor(pair[1]), "{pair:?}");
        }
        for c in F::ALL {
            assert!((0.5..=2.0).contains(&class_factor(c)), "{c:?}");
        }
    }
}
