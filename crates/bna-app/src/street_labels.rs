//! Street names on the offline basemap, when zoomed in to street level: each name once, along
//! the longest straight piece of that street on screen, never over another label and never
//! longer than the piece it sits on. Only the roads in view are looked at, so it costs
//! nothing at city zoom (no labels) and little at street zoom (a few hundred segments).

use std::collections::HashMap;

use eframe::egui::{pos2, vec2, Color32, FontId, Painter, Pos2, Rect, Vec2};

use super::draw::View;
use super::geometry::MapGeometry;
use bna_engine::model::ProjectData;

/// Labels appear from this zoom on (street level).
pub const MIN_ZOOM: f64 = 16.0;
/// At most this many labels in view.
const MAX_LABELS: usize = 60;
const FONT_SIZE: f32 = 11.0;

/// A place a name could go: the middle of a straight piece of its street, on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub mid: Pos2,
    /// Radians, kept within ±90° so that text never reads upside down.
    pub angle: f32,
    /// Length of the piece (px).
    pub length: f32,
    /// Width and height of the text (px).
    pub size: Vec2,
}

/// The screen box a label takes (its rotated rectangle's bounding box, a little padded).
pub fn label_box(c: &Candidate<'_>) -> Rect {
    let (s, co) = c.angle.sin_cos();
    let (hw, hh) = (c.size.x / 2.0 + 3.0, c.size.y / 2.0 + 2.0);
    let ex = (hw * co).abs() + (hh * s).abs();
    let ey = (hw * s).abs() + (hh * co).abs();
    Rect::from_center_size(c.mid, vec2(2.0 * ex, 2.0 * ey))
}

/// Which candidates get a label: one per name (its longest piece), longest first, only
/// where the text fits on the piece and clear of the labels already placed.
pub fn place<'a>(mut cands: Vec<Candidate<'a>>, max: usize) -> Vec<Candidate<'a>> {
    let mut best: HashMap<&str, usize> = HashMap::new();
    for (i, c) in cands.iter().enumerate() {
        let keep = best.get(c.name).is_none_or(|&j| cands[j].length < c.length);
        if keep {
            best.insert(c.name, i);
        }
    }
    let mut chosen: Vec<usize> = best.into_values().collect();
    chosen.sort_by(|&a, &b| {
        cands[b]
            .length
            .total_cmp(&cands[a].length)
            .then(cands[a].name.cmp(cands[b].name))
    });
    let mut placed: Vec<Rect> = Vec::new();
    let mut out_idx = Vec::new();
    for i in chosen {
        let c = &cands[i];
        if c.size.x + 8.0 > c.length {
            continue;
        }
        let r = label_box(c);
        if placed.iter().any(|p| p.intersects(r)) {
            continue;
        }
        placed.push(r);
        out_idx.push(i);
        if out_idx.len() == max {
            break;
        }
    }
    out_idx.sort_unstable();
    let mut out = Vec::with_capacity(out_idx.len());
    for (k, c) in cands.drain(..).enumerate() {
        if out_idx.binary_search(&k).is_ok() {
            out.push(c);
        }
    }
    out
}

/// The angle of `a → b` folded into ±90°.
pub fn upright_angle(a: Pos2, b: Pos2) -> f32 {
    let d = b - a;
    let mut ang = d.y.atan2(d.x);
    if ang > std::f32::consts::FRAC_PI_2 {
        ang -= std::f32::consts::PI;
    } else if ang < -std::f32::consts::FRAC_PI_2 {
        ang += std::f32::consts::PI;
    }
    ang
}

/// Paints the street names of the roads in view, at street zoom.
pub fn paint(painter: &Painter, g: &MapGeometry, data: &ProjectData, view: &View, zoom: f64) {
    if zoom < MIN_ZOOM {
        return;
    }
    let visible = view.visible_local(0.0);
    let font = FontId::proportional(FONT_SIZE);
    let ink = Color32::from_gray(40);
    let mut widths: HashMap<&str, Vec2> = HashMap::new();
    let mut cands = Vec::new();
    for s in g.segments.iter().filter(|s| s.bbox.intersects(visible)) {
        let Some(name) = data
            .segments
            .get(s.segment as usize)
            .and_then(|d| d.name.as_deref())
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        // The longest straight piece of this segment on screen.
        let pts = g.segment_points(s);
        let Some((a, b)) = pts
            .windows(2)
            .map(|w| (view.to_screen(w[0]), view.to_screen(w[1])))
            .filter(|(a, b)| view.screen.contains(*a) && view.screen.contains(*b))
            .max_by(|x, y| (x.1 - x.0).length().total_cmp(&(y.1 - y.0).length()))
        else {
            continue;
        };
        let size = *widths.entry(name).or_insert_with(|| {
            painter
                .layout_no_wrap(name.to_owned(), font.clone(), ink)
                .size()
        });
        cands.push(Candidate {
            name,
            mid: pos2((a.x + b.x) / 2.0, (a.y + b.y) / 2.0),
            angle: upright_angle(a, b),
            length: (b - a).length(),
            size,
        });
    }
    for c in place(cands, MAX_LABELS) {
        let galley = painter.layout_no_wrap(c.name.to_owned(), font.clone(), ink);
        let halo = painter.layout_no_wrap(c.name.to_owned(), font.clone(), Color32::WHITE);
        let (s, co) = c.angle.sin_cos();
        let half = galley.size() / 2.0;
        // The text's top-left corner, so that its centre lands on the piece's middle.
        let corner = c.mid - vec2(half.x * co - half.y * s, half.x * s + half.y * co);
        for d in [
            vec2(-1.0, 0.0),
            vec2(1.0, 0.0),
            vec2(0.0, -1.0),
            vec2(0.0, 1.0),
        ] {
            painter.add(
                eframe::egui::epaint::TextShape::new(corner + d, halo.clone(), Color32::WHITE)
                    .with_angle(c.angle),
            );
        }
        painter.add(eframe::egui::epaint::TextShape::new(corner, galley, ink).with_angle(c.angle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, x: f32, y: f32, length: f32, width: f32) -> Candidate<'_> {
        Candidate {
            name,
            mid: pos2(x, y),
            angle: 0.0,
            length,
            size: vec2(width, 12.0),
        }
    }

    #[test]
    fn one_label_per_street_on_its_longest_piece_without_overlaps() {
        let cands = vec![
            cand("Main St", 100.0, 100.0, 80.0, 40.0),
            cand("Main St", 300.0, 100.0, 150.0, 40.0),
            // Overlaps the longer Main St piece: dropped.
            cand("Oak Ave", 310.0, 104.0, 120.0, 40.0),
            // Longer than its piece: dropped.
            cand("Very Long Boulevard Name", 100.0, 300.0, 60.0, 140.0),
            cand("Elm", 100.0, 400.0, 50.0, 20.0),
        ];
        let got: Vec<(&str, f32)> = place(cands, 10).iter().map(|c| (c.name, c.mid.x)).collect();
        assert_eq!(got, [("Main St", 300.0), ("Elm", 100.0)]);
        // The cap keeps the longest.
        let many = (0..5)
            .map(|k| {
                cand(
                    ["a", "b", "c", "d", "e"][k],
                    0.0,
                    k as f32 * 50.0,
                    100.0 + k as f32,
                    20.0,
                )
            })
            .collect();
        let names: Vec<&str> = place(many, 2).iter().map(|c| c.name).collect();
        assert_eq!(names, ["d", "e"]);
    }

    #[test]
    fn text_never_reads_upside_down() {
        use std::f32::consts::{FRAC_PI_2, FRAC_PI_4};
        let o = pos2(0.0, 0.0);
        let cases = [
            (pos2(10.0, 0.0), 0.0),
            (pos2(-10.0, 0.0), 0.0),
            (pos2(10.0, 10.0), FRAC_PI_4),
            (pos2(-10.0, -10.0), FRAC_PI_4),
            (pos2(0.0, 10.0), FRAC_PI_2),
        ];
        for (b, want) in cases {
            let got = upright_angle(o, b);
            assert!((got - want).abs() < 1e-5, "{b:?}: {got}");
        }
    }

    #[test]
    fn a_rotated_label_boxes_its_corners() {
        let mut c = cand("x", 50.0, 50.0, 100.0, 40.0);
        assert_eq!(label_box(&c).size(), vec2(46.0, 16.0));
        c.angle = std::f32::consts::FRAC_PI_2;
        let s = label_box(&c).size();
        assert!(
            (s.x - 16.0).abs() < 1e-3 && (s.y - 46.0).abs() < 1e-3,
            "{s:?}"
        );
    }
}
