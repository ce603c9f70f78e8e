//! Per-frame drawing of the project layers as egui meshes. Building our own triangles (one
//! mesh per layer) instead of one egui path per segment skips egui's path tessellator, which
//! dominates frame time with thousands of polylines.

use eframe::egui::{epaint::Mesh, vec2, Color32, Pos2, Rect, Vec2};

use super::geometry::{shown_stress, MapGeometry, StressView};
use super::road_style::{road_style, RoadStyle};

/// Local units → screen: `screen = origin + local * scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub origin: Pos2,
    pub scale: f32,
    /// The visible screen rectangle.
    pub screen: Rect,
}

impl View {
    #[inline]
    pub fn to_screen(&self, p: Pos2) -> Pos2 {
        self.origin + p.to_vec2() * self.scale
    }

    pub fn to_local(&self, s: Pos2) -> Pos2 {
        ((s - self.origin) / self.scale).to_pos2()
    }

    /// The visible area in local units, grown by `margin_px` screen pixels.
    pub fn visible_local(&self, margin_px: f32) -> Rect {
        let r = self.screen.expand(margin_px);
        Rect::from_min_max(self.to_local(r.min), self.to_local(r.max))
    }
}

/// Anti-aliased polylines: a solid core and a one-pixel feather on each side, four vertices
/// per point shared by the pieces that meet there (mitred joins, square caps).
pub struct LineBuilder {
    pub mesh: Mesh,
    /// Screen points of the polyline being built, reused across polylines.
    scratch: Vec<Pos2>,
}

const FEATHER: f32 = 1.0;
/// Vertices closer than this (px) to the last one kept are dropped: at city zoom most
/// vertices of a road are sub-pixel.
const MIN_STEP_PX: f32 = 1.0;
/// Sharper turns than this (1/cos of half the turn) are not mitred further, so spikes stay short.
const MITER_LIMIT: f32 = 2.0;

impl Default for LineBuilder {
    fn default() -> Self {
        Self::new()
    }
}

fn perp(d: Vec2) -> Vec2 {
    vec2(-d.y, d.x)
}

impl LineBuilder {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(points: usize) -> Self {
        let mut mesh = Mesh::default();
        mesh.vertices.reserve(points * 4);
        mesh.indices.reserve(points * 18);
        LineBuilder {
            mesh,
            scratch: Vec::new(),
        }
    }

    /// A polyline given in local units.
    pub fn polyline(&mut self, view: &View, points: &[Pos2], width: f32, color: Color32) {
        let mut pts = std::mem::take(&mut self.scratch);
        pts.clear();
        let n = points.len();
        for (k, p) in points.iter().enumerate() {
            let s = view.to_screen(*p);
            match pts.last() {
                None => pts.push(s),
                Some(&last) => {
                    let d2 = (s - last).length_sq();
                    if d2 >= MIN_STEP_PX * MIN_STEP_PX || (k + 1 == n && d2 > 1e-6) {
                        pts.push(s);
                    }
                }
            }
        }
        self.stroke(&pts, width, color);
        self.scratch = pts;
    }

    /// A dashed polyline (local units): `dash` px drawn, `gap` px skipped, along the line.
    pub fn dashed(
        &mut self,
        view: &View,
        points: &[Pos2],
        width: f32,
        color: Color32,
        dash: f32,
        gap: f32,
    ) {
        let mut pts = std::mem::take(&mut self.scratch);
        pts.clear();
        pts.extend(points.iter().map(|p| view.to_screen(*p)));
        for piece in dash_pieces(&pts, dash, gap) {
            self.stroke(&piece, width, color);
        }
        self.scratch = pts;
    }

    /// A road in its style: casing first (under), then the core, solid or dashed.
    pub fn road(
        &mut self,
        casings: &mut LineBuilder,
        view: &View,
        points: &[Pos2],
        style: &RoadStyle,
    ) {
        if let Some((w, c)) = style.casing {
            casings.polyline(view, points, w, c);
        }
        match style.dash {
            Some((dash, gap)) => self.dashed(view, points, style.width, style.color, dash, gap),
            None => self.polyline(view, points, style.width, style.color),
        }
    }

    /// Strokes screen points that are pairwise distinct.
    pub fn stroke(&mut self, pts: &[Pos2], width: f32, color: Color32) {
        let n = pts.len();
        if n < 2 {
            return;
        }
        let h = (width - FEATHER).max(0.5) * 0.5;
        let out = h + FEATHER;
        let base = self.mesh.vertices.len() as u32;
        for i in 0..n {
            let (normal, p) = if i == 0 {
                let d = (pts[1] - pts[0]).normalized();
                (perp(d), pts[0] - d * h)
            } else if i == n - 1 {
                let d = (pts[i] - pts[i - 1]).normalized();
                (perp(d), pts[i] + d * h)
            } else {
                let n0 = perp((pts[i] - pts[i - 1]).normalized());
                let n1 = perp((pts[i + 1] - pts[i]).normalized());
                let m = n0 + n1;
                let len = m.length();
                if len < 1e-3 {
                    // A U-turn: no meaningful miter.
                    (n1, pts[i])
                } else {
                    let m = m / len;
                    let scale = (1.0 / m.dot(n1).max(1.0 / MITER_LIMIT)).min(MITER_LIMIT);
                    (m * scale, pts[i])
                }
            };
            self.mesh
                .colored_vertex(p + normal * out, Color32::TRANSPARENT);
            self.mesh.colored_vertex(p + normal * h, color);
            self.mesh.colored_vertex(p - normal * h, color);
            self.mesh
                .colored_vertex(p - normal * out, Color32::TRANSPARENT);
        }
        for i in 0..(n as u32 - 1) {
            let a = base + 4 * i;
            let b = a + 4;
            for k in 0..3 {
                self.mesh.add_triangle(a + k, a + k + 1, b + k);
                self.mesh.add_triangle(a + k + 1, b + k + 1, b + k);
            }
        }
    }
}

/// The dashes of a screen polyline: pieces `dash` px long every `dash + gap` px.
pub fn dash_pieces(pts: &[Pos2], dash: f32, gap: f32) -> Vec<Vec<Pos2>> {
    let mut pieces = Vec::new();
    let mut cur: Vec<Pos2> = Vec::new();
    // Distance into the current dash-and-gap period.
    let mut at = 0.0f32;
    let period = dash + gap;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b - a).length();
        if len < 1e-6 {
            continue;
        }
        let mut t = 0.0f32;
        while t < len {
            let drawing = at < dash;
            let left = if drawing { dash - at } else { period - at };
            let step = left.min(len - t);
            let p0 = a + (b - a) * (t / len);
            let p1 = a + (b - a) * ((t + step) / len);
            if drawing {
                if cur.is_empty() {
                    cur.push(p0);
                }
                cur.push(p1);
            }
            t += step;
            at += step;
            if at >= dash && drawing && !cur.is_empty() {
                pieces.push(std::mem::take(&mut cur));
            }
            if at >= period {
                at -= period;
            }
        }
    }
    if cur.len() >= 2 {
        pieces.push(cur);
    }
    pieces
}

/// Line width (px) of roads at a zoom level: hairlines for the whole city, wider in streets.
pub fn road_width(zoom: f64) -> f32 {
    match zoom {
        z if z < 13.0 => 1.2,
        z if z < 14.5 => 1.8,
        z if z < 16.0 => 2.6,
        z if z < 17.5 => 3.6,
        _ => 5.0,
    }
}

/// How far roads outside the study area (they only matter for routing) fade into the land.
pub const OUTSIDE_FADE: f32 = 0.6;

/// Land colour under everything: what shows where there are no tiles.
pub const LAND: Color32 = Color32::from_rgb(0xf2, 0xef, 0xe9);

/// The road layer: visible segments coloured by stress.
pub fn roads(
    g: &MapGeometry,
    view: &View,
    width: f32,
    stress_view: StressView,
    selected: Option<usize>,
) -> Mesh {
    let visible = view.visible_local(width * 2.0);
    let mut out = Mesh::default();
    // The routing buffer under the study area, and high stress last so that it stays
    // visible where roads overlap; each pass's casings under its cores.
    for (inside, high) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut casings = LineBuilder::new();
        let mut lines = LineBuilder::with_capacity(g.seg_points.len() / 4);
        for s in &g.segments {
            if s.inside != inside || !s.bbox.intersects(visible) {
                continue;
            }
            let stress = shown_stress(s.ft, s.tf, stress_view);
            if stress.is_some_and(|v| v > 1) != high {
                continue;
            }
            let mut style = road_style(stress, s.class_width, width);
            // Faded by mixing with the land colour, not by transparency: translucent
            // pieces would darken where their caps overlap.
            if !inside {
                style.color = style.color.lerp_to_gamma(LAND, OUTSIDE_FADE);
                style.casing = None;
            }
            lines.road(&mut casings, view, g.segment_points(s), &style);
        }
        out.append(casings.mesh);
        out.append(lines.mesh);
    }
    if let Some(s) = selected.and_then(|i| g.segments.get(i)) {
        let pts = g.segment_points(s);
        let style = road_style(shown_stress(s.ft, s.tf, stress_view), s.class_width, width);
        let mut halo = LineBuilder::new();
        halo.polyline(
            view,
            pts,
            style.width + 6.0,
            Color32::from_rgb(0xff, 0xd4, 0x00),
        );
        let mut casings = LineBuilder::new();
        let mut core = LineBuilder::new();
        core.road(&mut casings, view, pts, &style);
        out.append(halo.mesh);
        out.append(casings.mesh);
        out.append(core.mesh);
    }
    out
}

/// The block layer: filled by `fill` (None = not drawn), outlined when zoomed in.
pub fn blocks(
    g: &MapGeometry,
    view: &View,
    fill: impl Fn(Option<f64>) -> Option<Color32>,
    outline: Option<Color32>,
    selected: Option<usize>,
) -> Mesh {
    let visible = view.visible_local(2.0);
    let mut mesh = Mesh::default();
    let mut lines = LineBuilder::new();
    for (i, b) in g.blocks.iter().enumerate() {
        if !b.bbox.intersects(visible) {
            continue;
        }
        if let Some(color) = fill(b.score) {
            let tri = &g.block_indices[b.triangles.start as usize..b.triangles.end as usize];
            // Vertices are shared through the global index buffer; copy just this block's.
            let base = mesh.vertices.len() as u32;
            let lo = tri.iter().copied().min().unwrap_or(0);
            let hi = tri.iter().copied().max().map_or(0, |m| m + 1);
            for v in &g.block_vertices[lo as usize..hi as usize] {
                mesh.colored_vertex(view.to_screen(*v), color);
            }
            mesh.indices.extend(tri.iter().map(|k| base + k - lo));
        }
        let ring_color = if selected == Some(i) {
            Some(Color32::from_rgb(0xff, 0xd4, 0x00))
        } else {
            outline
        };
        if let Some(c) = ring_color {
            let w = if selected == Some(i) { 3.0 } else { 1.0 };
            for r in b.rings.clone() {
                lines.polyline(view, g.ring(r), w, c);
            }
        }
    }
    mesh.append(lines.mesh);
    mesh
}

/// Filled triangles (local vertices, an index list) in one colour.
pub fn fill(view: &View, vertices: &[Pos2], indices: &[u32], color: Color32) -> Mesh {
    let mut mesh = Mesh::default();
    mesh.vertices.reserve(vertices.len());
    for v in vertices {
        mesh.colored_vertex(view.to_screen(*v), color);
    }
    mesh.indices.extend_from_slice(indices);
    mesh
}

/// Water blue of the offline basemap.
pub const WATER: Color32 = Color32::from_rgb(0xaa, 0xd3, 0xdf);

/// Park green of the offline basemap.
pub const PARK: Color32 = Color32::from_rgb(0xcd, 0xe6, 0xc3);

/// Fills the blocks `indices` (into `MapGeometry::blocks`) with one colour.
pub fn block_set(g: &MapGeometry, view: &View, indices: &[usize], color: Color32) -> Mesh {
    let visible = view.visible_local(2.0);
    let mut mesh = Mesh::default();
    for b in indices.iter().filter_map(|&i| g.blocks.get(i)) {
        if !b.bbox.intersects(visible) {
            continue;
        }
        let tri = &g.block_indices[b.triangles.start as usize..b.triangles.end as usize];
        let base = mesh.vertices.len() as u32;
        let lo = tri.iter().copied().min().unwrap_or(0);
        let hi = tri.iter().copied().max().map_or(0, |m| m + 1);
        for v in &g.block_vertices[lo as usize..hi as usize] {
            mesh.colored_vertex(view.to_screen(*v), color);
        }
        mesh.indices.extend(tri.iter().map(|k| base + k - lo));
    }
    mesh
}

pub const POINT_RIM: Color32 = Color32::from_rgb(0x26, 0x26, 0x26);

/// Round markers (octagons with a white rim) at local points, one mesh for all of them.
pub fn points<'a>(
    view: &View,
    points: impl Iterator<Item = (Pos2, Color32)> + 'a,
    radius: f32,
) -> Mesh {
    let visible = view.visible_local(radius + 1.0);
    let mut mesh = Mesh::default();
    let dirs: Vec<Vec2> = (0..8)
        .map(|k| {
            let a = k as f32 * std::f32::consts::TAU / 8.0;
            vec2(a.cos(), a.sin())
        })
        .collect();
    for (p, color) in points {
        if !visible.contains(p) {
            continue;
        }
        let c = view.to_screen(p);
        // A dark rim: the yellow and sky-blue dots need it on the pale land and parks.
        for (r, col) in [(radius + 1.0, POINT_RIM), (radius, color)] {
            let base = mesh.vertices.len() as u32;
            mesh.colored_vertex(c, col);
            for d in &dirs {
                mesh.colored_vertex(c + *d * r, col);
            }
            for k in 0..8u32 {
                mesh.add_triangle(base, base + 1 + k, base + 1 + (k + 1) % 8);
            }
        }
    }
    mesh
}

/// The study-area outline.
pub fn boundary(g: &MapGeometry, view: &View) -> Mesh {
    let mut lines = LineBuilder::new();
    for r in g.boundary_rings.clone() {
        let pts = g.ring(r);
        lines.polyline(view, pts, 5.0, Color32::from_white_alpha(200));
        lines.polyline(view, pts, 2.5, Color32::from_rgb(0x30, 0x30, 0x30));
    }
    lines.mesh
}

/// Zoom that fits `bounds` (local units) into `size` pixels, with a margin.
pub fn fit_zoom(bounds: Rect, size: Vec2) -> f64 {
    let sx = size.x as f64 / bounds.width().max(1e-9) as f64;
    let sy = size.y as f64 / bounds.height().max(1e-9) as f64;
    (sx.min(sy) * 0.9).log2().clamp(2.0, 19.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eframe::egui::pos2;

    fn view() -> View {
        View {
            origin: pos2(100.0, 100.0),
            scale: 2.0,
            screen: Rect::from_min_max(pos2(0.0, 0.0), pos2(200.0, 200.0)),
        }
    }

    #[test]
    fn view_round_trip() {
        let v = view();
        let p = pos2(3.0, -7.5);
        assert_eq!(v.to_local(v.to_screen(p)), p);
        let vis = v.visible_local(0.0);
        assert_eq!(
            vis,
            Rect::from_min_max(pos2(-50.0, -50.0), pos2(50.0, 50.0))
        );
    }

    #[test]
    fn stroke_shares_four_vertices_per_point() {
        let mut l = LineBuilder::new();
        let pts = [pos2(0.0, 0.0), pos2(10.0, 0.0), pos2(10.0, 10.0)];
        l.stroke(&pts, 3.0, Color32::RED);
        assert_eq!(l.mesh.vertices.len(), 12);
        assert_eq!(l.mesh.indices.len(), 36);
        assert!(l.mesh.is_valid());
        // The square cap reaches half the core width past the first point.
        let min_x = l
            .mesh
            .vertices
            .iter()
            .map(|v| v.pos.x)
            .fold(f32::MAX, f32::min);
        assert_eq!(min_x, -1.0);
        // The right-angle join is mitred: its core corner is sqrt(2) * half-width out.
        let corner = l.mesh.vertices[5].pos;
        assert!(
            ((corner - pos2(10.0, 0.0)).length() - 2f32.sqrt()).abs() < 1e-4,
            "{corner:?}"
        );
        // A single point draws nothing.
        l.stroke(&pts[..1], 3.0, Color32::RED);
        assert_eq!(l.mesh.vertices.len(), 12);
    }

    #[test]
    fn polyline_drops_subpixel_vertices_but_keeps_the_end() {
        let v = View {
            origin: Pos2::ZERO,
            scale: 1.0,
            screen: Rect::EVERYTHING,
        };
        let pts: Vec<Pos2> = (0..=100).map(|i| pos2(i as f32 * 0.1, 0.0)).collect();
        let mut l = LineBuilder::new();
        l.polyline(&v, &pts, 2.0, Color32::RED);
        // 10 px long, steps of 0.1 px: about one point per px, not 100.
        let points = l.mesh.vertices.len() / 4;
        assert!((10..=12).contains(&points), "{points}");
        assert!(l.mesh.is_valid());
        let max_x = l.mesh.vertices.iter().map(|v| v.pos.x).fold(0.0, f32::max);
        assert!(max_x >= 10.0, "the last vertex is always drawn");
    }

    #[test]
    fn dashes_follow_the_line_across_vertices() {
        let pts = [pos2(0.0, 0.0), pos2(7.0, 0.0), pos2(7.0, 11.0)];
        // 18 px long; 5 on, 4 off: dashes at 0–5, 9–14 (turning the corner at 7), 18.
        let pieces = dash_pieces(&pts, 5.0, 4.0);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!(pieces[0], vec![pos2(0.0, 0.0), pos2(5.0, 0.0)]);
        assert_eq!(
            pieces[1],
            vec![pos2(7.0, 2.0), pos2(7.0, 7.0)],
            "the second dash starts 2 px after the corner"
        );
        let across = dash_pieces(&[pos2(0.0, 0.0), pos2(3.0, 0.0), pos2(3.0, 4.0)], 5.0, 4.0);
        assert_eq!(
            across,
            vec![vec![pos2(0.0, 0.0), pos2(3.0, 0.0), pos2(3.0, 2.0)]]
        );
        // Shorter than a dash: one piece, the whole line.
        assert_eq!(
            dash_pieces(&[pos2(0.0, 0.0), pos2(2.0, 0.0)], 5.0, 4.0).len(),
            1
        );
        assert!(dash_pieces(&[pos2(1.0, 1.0)], 5.0, 4.0).is_empty());
    }

    #[test]
    fn points_skip_what_is_off_screen() {
        let v = view();
        let on = (pos2(0.0, 0.0), Color32::RED);
        let off = (pos2(500.0, 0.0), Color32::RED);
        let m = points(&v, [on, off].into_iter(), 4.0);
        // Two octagon fans (rim and fill) of 9 vertices for the one visible point.
        assert_eq!(m.vertices.len(), 18);
        assert!(m.is_valid());
    }

    #[test]
    fn fit_zoom_fits() {
        let b = Rect::from_min_max(pos2(0.0, 0.0), pos2(0.01, 0.005));
        let z = fit_zoom(b, vec2(1000.0, 800.0));
        let scale = 2f64.powf(z);
        assert!(0.01 * scale <= 1000.0 && 0.01 * scale > 800.0, "{z}");
    }
}
