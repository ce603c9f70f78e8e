//! The scenario workbench on the map: what a click or a Shift+drag selects for editing, and
//! the overlays drawn over the project layers (roads selected for an edit, the chosen
//! crossing, roads a scenario changed, "biggest gains" candidates). The rules (colour scale,
//! selection, number formats) are free functions so they can be tested without a window.

use std::collections::BTreeSet;

use eframe::egui::{
    self, pos2, vec2, Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Response, Shape,
    Stroke,
};

use super::draw::{self, LineBuilder, View};
use super::geometry::{shown_stress, MapGeometry, StressView};
use super::road_style::road_style;

/// Block score change, worse end of the diverging scale (PRGn: colour-blind safe, and apart
/// from both the blue/red stress pair and the viridis score ramp).
pub const WORSE_COLOR: Color32 = Color32::from_rgb(0x76, 0x2a, 0x83);
/// Better end of the diverging scale.
pub const BETTER_COLOR: Color32 = Color32::from_rgb(0x1b, 0x78, 0x37);
/// The middle of the scale: no change.
pub const NO_CHANGE_COLOR: Color32 = Color32::from_rgb(0xf7, 0xf7, 0xf7);
/// The palest a changed block is drawn (fraction of the way to the end colour): a block that
/// gained 0.01 points has still changed and must not vanish into the map.
const MIN_CHANGE_SHADE: f32 = 0.25;

/// Fill opacity of blocks whose score a scenario changed: stronger than the score
/// choropleth's, since only changed blocks are filled.
pub const CHANGE_ALPHA: u8 = 170;

/// Roads selected for an edit (the same yellow as the inspector's selection).
pub const SELECTED_COLOR: Color32 = Color32::from_rgb(0xff, 0xd4, 0x00);
/// Roads whose stress a scenario changed, or that it edits.
pub const CHANGED_COLOR: Color32 = Color32::from_rgb(0x1a, 0x1a, 0x1a);
/// "Biggest gains" candidates.
pub const GAIN_COLOR: Color32 = Color32::from_rgb(0xff, 0x7f, 0x00);

/// Colour of a block whose score changed by `delta`, on a symmetric scale of ±`scale`.
pub fn delta_color(delta: f64, scale: f64) -> Color32 {
    if delta == 0.0 || !delta.is_finite() {
        return NO_CHANGE_COLOR;
    }
    let t = (delta.abs() / scale.max(f64::MIN_POSITIVE)).min(1.0) as f32;
    let t = MIN_CHANGE_SHADE + (1.0 - MIN_CHANGE_SHADE) * t;
    let end = if delta > 0.0 {
        BETTER_COLOR
    } else {
        WORSE_COLOR
    };
    NO_CHANGE_COLOR.lerp_to_gamma(end, t)
}

/// The end of the legend for changes up to `max_abs`: 1, 2 or 5 times a power of ten, so the
/// legend reads in round numbers.
pub fn nice_scale(max_abs: f64) -> f64 {
    if !max_abs.is_finite() || max_abs <= 0.0 {
        return 1.0;
    }
    let e = max_abs.log10().floor() as i32;
    // Dividing by an exact power of ten keeps 0.005 exactly 0.005 for the legend's labels.
    let at = |m: f64| {
        if e >= 0 {
            m * 10f64.powi(e)
        } else {
            m / 10f64.powi(-e)
        }
    };
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(at)
        .find(|v| *v >= max_abs * (1.0 - 1e-9))
        .unwrap_or(at(10.0))
}

/// A score (0–100) in the scenario tables: two decimals, since one edit moves the city score
/// by hundredths.
pub fn format_value(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

/// A score change with its sign ("+0.21", "−0.05"); "0.00" when it rounds to nothing, so a
/// tiny loss never reads "−0.00".
pub fn format_delta(d: Option<f64>) -> String {
    match d {
        None => "–".to_owned(),
        Some(v) if !v.is_finite() => "–".to_owned(),
        Some(v) if v.abs() < 0.005 => "0.00".to_owned(),
        Some(v) if v > 0.0 => format!("+{v:.2}"),
        Some(v) => format!("−{:.2}", -v),
    }
}

/// Colour of a printed change: green gain, purple loss, grey nothing (as the map).
pub fn delta_text_color(d: Option<f64>, neutral: Color32, p: &super::theme::Palette) -> Color32 {
    match d {
        Some(v) if v >= 0.005 => p.good,
        Some(v) if v <= -0.005 => p.bad,
        _ => neutral,
    }
}

/// A change of score `score_id` signed so that positive is better: fewer high-stress miles
/// are an improvement, though the number falls.
pub fn improvement(score_id: &str, delta: Option<f64>) -> Option<f64> {
    let lower_is_better = score_id.contains("high_stress");
    delta.map(|d| if lower_is_better { -d } else { d })
}

/// Score rows in the order the comparison table shows them: reading order (the overall
/// score first, the one number a council asks for; each group before its members), scores
/// the text table does not know last, in their own order.
pub fn table_order(ids: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| bna_engine::analysis::score_text::reading_position(ids[i]));
    order
}

/// A score's row label in the comparison table: its human label, members of a group
/// indented under it; the overall row says so (the side panel's "BNA score" may be the
/// scenario's, titled with its name).
pub fn table_label(id: &str) -> String {
    use bna_engine::analysis::score_text;
    match score_text::find(id) {
        Some(t) if t.id == "overall_score" => format!("Overall {}", t.label),
        Some(t) if t.parent.is_some() => format!("    {}", t.label),
        Some(t) => t.label.to_owned(),
        None => id.replace('_', " "),
    }
}

/// A plain click selects only the road hit (or clears the selection on empty map); with
/// Shift or Ctrl (`toggle`) it adds the road, or removes it if already selected.
pub fn click_select(sel: &mut BTreeSet<usize>, hit: Option<usize>, toggle: bool) {
    match (hit, toggle) {
        (Some(i), true) => {
            if !sel.remove(&i) {
                sel.insert(i);
            }
        }
        (Some(i), false) => {
            sel.clear();
            sel.insert(i);
        }
        (None, true) => {}
        (None, false) => sel.clear(),
    }
}

/// Roads (indices into `g.segments`) with a vertex, or the middle of a piece, in `area`
/// (local units).
pub fn segments_in(g: &MapGeometry, area: Rect) -> Vec<usize> {
    g.segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.bbox.intersects(area))
        .filter(|(_, s)| {
            let pts = g.segment_points(s);
            pts.iter().any(|p| area.contains(*p))
                || pts
                    .windows(2)
                    .any(|w| area.contains(w[0] + (w[1] - w[0]) * 0.5))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The id of the point nearest to `p` within `tolerance` (same units).
pub fn nearest_point(
    points: impl Iterator<Item = (u32, Pos2)>,
    p: Pos2,
    tolerance: f32,
) -> Option<u32> {
    points
        .map(|(id, q)| (id, q.distance(p)))
        .filter(|(_, d)| *d <= tolerance)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

/// Index into `g.segments` of data segment `road_id` (segments without a drawable line have
/// none).
pub fn geom_of_road(g: &MapGeometry, road_id: u32) -> Option<usize> {
    g.segments
        .binary_search_by_key(&road_id, |s| s.segment)
        .ok()
}

/// What the pointer did on the map while the scenario panel is open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MapInput {
    Click {
        pos: Pos2,
        toggle: bool,
    },
    /// Shift+drag began here (screen).
    BoxStart(Pos2),
    /// The box drag ended here (screen).
    BoxEnd(Pos2),
}

/// This frame's pointer input on the map; `boxing` while a box drag is under way.
pub fn map_input(response: &Response, boxing: bool) -> Option<MapInput> {
    let mods = response.ctx.input(|i| i.modifiers);
    if boxing {
        if response.drag_stopped() {
            return response
                .ctx
                .input(|i| i.pointer.latest_pos())
                .map(MapInput::BoxEnd);
        }
        return None;
    }
    if mods.shift && response.drag_started_by(egui::PointerButton::Primary) {
        // Where the press began, not where the pointer is once the drag is recognised.
        return response
            .ctx
            .input(|i| i.pointer.press_origin())
            .map(MapInput::BoxStart);
    }
    if response.clicked() {
        return response.interact_pointer_pos().map(|pos| MapInput::Click {
            pos,
            toggle: mods.shift || mods.command,
        });
    }
    None
}

/// What the scenario panel draws over the map.
pub struct Overlay<'a> {
    pub selected: &'a BTreeSet<usize>,
    /// The chosen intersection, local units.
    pub crossing: Option<Pos2>,
    pub changed: &'a [usize],
    /// Candidates in rank order.
    pub gains: &'a [usize],
    /// The first road of a route being picked.
    pub route_start: Option<usize>,
    /// A box being dragged, screen.
    pub box_rect: Option<Rect>,
}

/// Draws `o` over the roads: a halo under each highlighted road, then the road again in its
/// stress colour, so the highlight never hides what the road is.
pub fn paint_overlay(
    painter: &Painter,
    g: &MapGeometry,
    view: &View,
    zoom: f64,
    stress_view: StressView,
    o: &Overlay<'_>,
) {
    let width = draw::road_width(zoom);
    let mut halos = LineBuilder::new();
    let mut casings = LineBuilder::new();
    let mut cores = LineBuilder::new();
    let route_start: Vec<usize> = o.route_start.into_iter().collect();
    let layers: [(&[usize], Color32, f32); 3] = [
        (o.changed, CHANGED_COLOR, 4.0),
        (o.gains, GAIN_COLOR, 6.0),
        (&route_start, super::scenario_route::ROUTE_START_COLOR, 8.0),
    ];
    let selected: Vec<usize> = o.selected.iter().copied().collect();
    for (set, color, extra) in
        layers
            .into_iter()
            .chain([(selected.as_slice(), SELECTED_COLOR, 6.0)])
    {
        for s in set.iter().filter_map(|&i| g.segments.get(i)) {
            let pts = g.segment_points(s);
            let style = road_style(shown_stress(s.ft, s.tf, stress_view), s.class_width, width);
            halos.polyline(view, pts, style.width + extra, color);
            cores.road(&mut casings, view, pts, &style);
        }
    }
    painter.add(Shape::mesh(halos.mesh));
    painter.add(Shape::mesh(casings.mesh));
    painter.add(Shape::mesh(cores.mesh));
    // Rank numbers of the gains, best on top.
    for (rank, s) in o
        .gains
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(k, &i)| g.segments.get(i).map(|s| (k + 1, s)))
    {
        let pts = g.segment_points(s);
        let mid = view.to_screen(pts[pts.len() / 2]);
        if !view.screen.contains(mid) {
            continue;
        }
        painter.circle(mid, 9.0, GAIN_COLOR, Stroke::new(1.5, Color32::WHITE));
        painter.text(
            mid,
            Align2::CENTER_CENTER,
            rank.to_string(),
            FontId::proportional(11.0),
            Color32::BLACK,
        );
    }
    if let Some(c) = o.crossing {
        let p = view.to_screen(c);
        painter.circle(p, 8.0, SELECTED_COLOR, Stroke::new(2.5, CHANGED_COLOR));
    }
    if let Some(r) = o.box_rect {
        painter.rect(
            r,
            CornerRadius::ZERO,
            SELECTED_COLOR.gamma_multiply_u8(50),
            Stroke::new(1.5, Color32::from_rgb(0x8a, 0x70, 0x00)),
            egui::StrokeKind::Inside,
        );
    }
}

/// Legend rows of the change scale: a bar from −`scale` to +`scale` and its three labels,
/// drawn from `(x, y)` (the bar's vertical centre) `w` wide; returns the next row's y.
pub fn change_legend(painter: &Painter, x: f32, y: f32, w: f32, scale: f64, line_h: f32) -> f32 {
    let text = Color32::from_gray(30);
    let bar = Rect::from_min_size(pos2(x, y - 6.0), vec2(w, 12.0));
    let mut mesh = egui::Mesh::default();
    let steps = 20;
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let t1 = (i + 1) as f32 / steps as f32;
        let v = ((t0 + t1) as f64 - 1.0) * scale;
        mesh.add_colored_rect(
            Rect::from_min_max(
                pos2(bar.left() + bar.width() * t0, bar.top()),
                pos2(bar.left() + bar.width() * t1, bar.bottom()),
            ),
            delta_color(v, scale).gamma_multiply_u8(CHANGE_ALPHA),
        );
    }
    painter.add(Shape::mesh(mesh));
    let y = y + line_h;
    let small = FontId::proportional(11.0);
    for (pos, align, v) in [
        (bar.left(), Align2::LEFT_CENTER, -scale),
        (bar.center().x, Align2::CENTER_CENTER, 0.0),
        (bar.right(), Align2::RIGHT_CENTER, scale),
    ] {
        painter.text(pos2(pos, y), align, legend_label(v), small.clone(), text);
    }
    y + line_h
}

/// A legend end: "+5", "−0.5", "0".
pub fn legend_label(v: f64) -> String {
    if v == 0.0 {
        "0".to_owned()
    } else {
        format!("{v:+}").replace('-', "−")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_colours_run_from_purple_through_grey_to_green() {
        // (delta, scale, expected)
        let rows = [
            (0.0, 1.0, NO_CHANGE_COLOR),
            (1.0, 1.0, BETTER_COLOR),
            (-1.0, 1.0, WORSE_COLOR),
            (3.0, 1.0, BETTER_COLOR),
            (-7.5, 5.0, WORSE_COLOR),
            (f64::NAN, 1.0, NO_CHANGE_COLOR),
        ];
        for (d, s, want) in rows {
            assert_eq!(delta_color(d, s), want, "{d} on ±{s}");
        }
        // A tiny change is still visibly coloured, and more change is more colour.
        let faint = delta_color(0.001, 10.0);
        assert_ne!(faint, NO_CHANGE_COLOR);
        let dist = |c: Color32| {
            (c.r() as i32 - NO_CHANGE_COLOR.r() as i32).abs()
                + (c.g() as i32 - NO_CHANGE_COLOR.g() as i32).abs()
                + (c.b() as i32 - NO_CHANGE_COLOR.b() as i32).abs()
        };
        assert!(dist(delta_color(5.0, 10.0)) > dist(faint));
        assert!(dist(delta_color(-5.0, 10.0)) > dist(delta_color(-0.5, 10.0)));
        // Gains are greenish, losses purplish.
        let g = delta_color(0.5, 1.0);
        assert!(g.g() > g.r() && g.g() > g.b(), "{g:?}");
        let p = delta_color(-0.5, 1.0);
        assert!(p.r() > p.g() && p.b() > p.g(), "{p:?}");
    }

    #[test]
    fn legend_scale_is_a_round_number_at_least_the_largest_change() {
        let rows = [
            (0.0, 1.0),
            (-1.0, 1.0),
            (0.3, 0.5),
            (0.5, 0.5),
            (0.51, 1.0),
            (7.0, 10.0),
            (12.0, 20.0),
            (100.0, 100.0),
            (0.0042, 0.005),
        ];
        for (max, want) in rows {
            let got = nice_scale(max);
            assert!((got - want).abs() < 1e-12, "{max}: {got} != {want}");
            assert!(max <= 0.0 || got >= max);
        }
        assert_eq!(legend_label(nice_scale(0.0042)), "+0.005");
        assert_eq!(legend_label(-nice_scale(3.0)), "−5");
        assert_eq!(legend_label(0.0), "0");
    }

    #[test]
    fn deltas_are_signed_with_two_decimals() {
        let rows = [
            (None, "–"),
            (Some(1.234), "+1.23"),
            (Some(-0.5), "−0.50"),
            (Some(0.001), "0.00"),
            (Some(-0.004), "0.00"),
            (Some(0.0), "0.00"),
            (Some(f64::INFINITY), "–"),
            (Some(12.0), "+12.00"),
        ];
        for (d, want) in rows {
            assert_eq!(format_delta(d), want, "{d:?}");
        }
        assert_eq!(format_value(Some(45.678)), "45.68");
        assert_eq!(format_value(None), "–");
        let n = Color32::GRAY;
        for p in [super::super::theme::DARK, super::super::theme::LIGHT] {
            assert_eq!(delta_text_color(Some(0.2), n, &p), p.good);
            assert_eq!(delta_text_color(Some(-0.2), n, &p), p.bad);
            assert_eq!(delta_text_color(Some(0.001), n, &p), n);
            assert_eq!(delta_text_color(None, n, &p), n);
        }
    }

    #[test]
    fn fewer_high_stress_miles_count_as_better() {
        // (score id, delta, improvement)
        let rows = [
            ("overall_score", Some(1.5), Some(1.5)),
            ("total_miles_high_stress", Some(-5.3), Some(5.3)),
            ("total_miles_low_stress", Some(5.4), Some(5.4)),
            ("people", Some(-0.2), Some(-0.2)),
            ("people", None, None),
        ];
        for (id, d, want) in rows {
            assert_eq!(improvement(id, d), want, "{id}");
        }
        assert_eq!(
            table_order(&["people", "retail", "overall_score", "transit"]),
            [2, 0, 1, 3]
        );
        assert_eq!(
            table_order(&[
                "core_services_grocery",
                "x_unknown",
                "core_services",
                "overall_score"
            ]),
            [3, 2, 0, 1],
            "a group before its member, unknown ids last"
        );
        assert_eq!(table_order(&["a", "b"]), [0, 1]);
        let labels = [
            ("overall_score", "Overall BNA score"),
            ("core_services", "Core services"),
            ("opportunity_employment", "    Employment"),
            ("some_new_score", "some new score"),
        ];
        for (id, want) in labels {
            assert_eq!(table_label(id), want, "{id}");
        }
    }

    #[test]
    fn click_selection_rules() {
        // (selection before, road hit, Shift/Ctrl held, selection after)
        type Row<'a> = (&'a [usize], Option<usize>, bool, &'a [usize]);
        let rows: [Row; 7] = [
            (&[], Some(3), false, &[3]),
            (&[1, 2], Some(3), false, &[3]),
            (&[1, 2], Some(3), true, &[1, 2, 3]),
            (&[1, 2, 3], Some(2), true, &[1, 3]),
            (&[1, 2], None, true, &[1, 2]),
            (&[1, 2], None, false, &[]),
            (&[2], Some(2), false, &[2]),
        ];
        for (before, hit, toggle, after) in rows {
            let mut sel: BTreeSet<usize> = before.iter().copied().collect();
            click_select(&mut sel, hit, toggle);
            let got: Vec<usize> = sel.into_iter().collect();
            assert_eq!(got, after, "{before:?} + {hit:?} (toggle {toggle})");
        }
    }

    #[test]
    fn nearest_point_within_tolerance() {
        let pts = [
            (7, pos2(0.0, 0.0)),
            (9, pos2(10.0, 0.0)),
            (4, pos2(4.0, 0.0)),
        ];
        let rows = [
            (pos2(1.0, 0.0), 2.0, Some(7)),
            (pos2(3.0, 0.0), 2.0, Some(4)),
            (pos2(9.0, 1.0), 2.0, Some(9)),
            (pos2(7.0, 0.0), 2.0, None),
            (pos2(7.5, 0.0), 3.0, Some(9)),
        ];
        for (p, tol, want) in rows {
            assert_eq!(nearest_point(pts.into_iter(), p, tol), want, "{p:?} ±{tol}");
        }
    }
}
