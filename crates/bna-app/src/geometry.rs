//! Map geometry prepared once per project, so that a frame is one multiply-add per vertex.
//!
//! Coordinates are Web Mercator "world pixels at zoom 0" (the 256 px tile walkers lays out),
//! relative to an origin near the project and stored as f32: subtracting the origin in f64
//! first keeps sub-pixel precision at street zoom levels.

use std::ops::Range;

use eframe::egui::{pos2, Color32, Pos2, Rect};
use geo::{BoundingRect, Intersects, TriangulateEarcut};

use bna_engine::model::{DestinationCategory, ProjectData, Stress, HIGH_STRESS, LOW_STRESS};

/// Size of a zoom-0 tile: one world is this many units wide.
pub const WORLD_SIZE: f64 = 256.0;

/// Lon/lat → world pixels at zoom 0 (the formula of walkers' `MercatorProjection`).
pub fn mercator(lon: f64, lat: f64) -> [f64; 2] {
    use std::f64::consts::PI;
    let x = (1.0 + lon.to_radians() / PI) / 2.0;
    let y = (1.0 - lat.to_radians().tan().asinh() / PI) / 2.0;
    [x * WORLD_SIZE, y * WORLD_SIZE]
}

/// Inverse of [`mercator`]: (lon, lat).
pub fn inverse_mercator(x: f64, y: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let lon = (x / WORLD_SIZE * 2.0 - 1.0) * 180.0;
    let lat = ((1.0 - y / WORLD_SIZE * 2.0) * PI)
        .sinh()
        .atan()
        .to_degrees();
    (lon, lat)
}

/// Which direction's stress colours a two-way segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StressView {
    /// The more stressful direction: what a rider must be ready for.
    Worse,
    /// The less stressful direction.
    Better,
}

/// Stress shown for a segment from its ft/tf segment stress; `None` = no bikes either way.
pub fn shown_stress(ft: Option<Stress>, tf: Option<Stress>, view: StressView) -> Option<Stress> {
    match (ft, tf) {
        (Some(a), Some(b)) => Some(match view {
            StressView::Worse => a.max(b),
            StressView::Better => a.min(b),
        }),
        (a, b) => a.or(b),
    }
}

/// Blue for low stress, red for high: a pair that colour-blind readers also tell apart.
pub const LOW_STRESS_COLOR: Color32 = Color32::from_rgb(0x1f, 0x78, 0xb4);
pub const HIGH_STRESS_COLOR: Color32 = Color32::from_rgb(0xe3, 0x1a, 0x1c);
/// Legacy stress 2 (spec §4.1: counts as not low).
pub const MID_STRESS_COLOR: Color32 = Color32::from_rgb(0xfd, 0x8d, 0x3c);
pub const NO_BIKES_COLOR: Color32 = Color32::from_rgb(0x9e, 0x9e, 0x9e);

pub fn stress_color(stress: Option<Stress>) -> Color32 {
    match stress {
        Some(LOW_STRESS) => LOW_STRESS_COLOR,
        Some(s) if s >= HIGH_STRESS => HIGH_STRESS_COLOR,
        Some(_) => MID_STRESS_COLOR,
        None => NO_BIKES_COLOR,
    }
}

/// Stops of the block score ramp (viridis, 0 → 100): a hue family apart from the stress pair.
const SCORE_RAMP: [(f32, [u8; 3]); 5] = [
    (0.0, [0x44, 0x01, 0x54]),
    (25.0, [0x3b, 0x52, 0x8b]),
    (50.0, [0x21, 0x91, 0x8c]),
    (75.0, [0x5e, 0xc9, 0x62]),
    (100.0, [0xfd, 0xe7, 0x25]),
];

/// Opaque colour of a block score on the 0–100 ramp.
pub fn score_color(score: f64) -> Color32 {
    let s = (score as f32).clamp(0.0, 100.0);
    let i = SCORE_RAMP
        .windows(2)
        .position(|w| s <= w[1].0)
        .unwrap_or(SCORE_RAMP.len() - 2);
    let (a, ca) = SCORE_RAMP[i];
    let (b, cb) = SCORE_RAMP[i + 1];
    let t = (s - a) / (b - a);
    let mix = |k: usize| (ca[k] as f32 + (cb[k] as f32 - ca[k] as f32) * t).round() as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

/// The BNA score categories destinations feed (spec §7.4), for the map legend: thirteen
/// colours would not be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationGroup {
    Opportunity,
    CoreServices,
    Recreation,
    Retail,
    Transit,
}

impl DestinationGroup {
    pub const ALL: [DestinationGroup; 5] = [
        Self::Opportunity,
        Self::CoreServices,
        Self::Recreation,
        Self::Retail,
        Self::Transit,
    ];

    pub fn of(c: DestinationCategory) -> Self {
        use DestinationCategory::*;
        match c {
            Schools | Colleges | Universities => Self::Opportunity,
            Doctors | Dentists | Hospitals | Pharmacies | Supermarkets | SocialServices => {
                Self::CoreServices
            }
            Parks | CommunityCenters => Self::Recreation,
            Retail => Self::Retail,
            Transit => Self::Transit,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Opportunity => "Schools, colleges",
            Self::CoreServices => "Health, food, social",
            Self::Recreation => "Parks, community",
            Self::Retail => "Retail",
            Self::Transit => "Transit",
        }
    }

    /// Okabe–Ito colours: distinct for colour-blind readers and from the stress pair.
    pub fn color(self) -> Color32 {
        match self {
            Self::Opportunity => Color32::from_rgb(0xcc, 0x79, 0xa7),
            Self::CoreServices => Color32::from_rgb(0xe6, 0x9f, 0x00),
            Self::Recreation => Color32::from_rgb(0x00, 0x9e, 0x73),
            // Okabe–Ito yellow: their sky blue was too close to the low-stress blue.
            Self::Retail => Color32::from_rgb(0xf0, 0xe4, 0x42),
            Self::Transit => Color32::from_rgb(0x00, 0x00, 0x00),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SegmentGeom {
    /// Index into `ProjectData::segments`.
    pub segment: u32,
    /// Range into [`MapGeometry::seg_points`].
    pub points: Range<u32>,
    pub bbox: Rect,
    pub ft: Option<Stress>,
    pub tf: Option<Stress>,
    /// Touches the study area; roads only in the routing buffer are drawn faded.
    pub inside: bool,
    /// The road class's width factor (`road_style::class_factor`).
    pub class_width: f32,
}

#[derive(Debug, Clone)]
pub struct BlockGeom {
    /// Index into `ProjectData::blocks`.
    pub block: u32,
    /// Range into [`MapGeometry::block_indices`] (triangles).
    pub triangles: Range<u32>,
    /// Range into [`MapGeometry::rings`] (outlines).
    pub rings: Range<u32>,
    pub bbox: Rect,
    /// The block's overall score, if it was scored.
    pub score: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct MapGeometry {
    /// Lon/lat of the local origin.
    pub origin_ll: (f64, f64),
    origin: [f64; 2],
    /// Extent of everything drawn, local units.
    pub bounds: Rect,
    /// Extent of the study area (the boundary), local units: what the map zooms to.
    pub focus: Rect,
    pub seg_points: Vec<Pos2>,
    pub segments: Vec<SegmentGeom>,
    pub block_vertices: Vec<Pos2>,
    pub block_indices: Vec<u32>,
    pub blocks: Vec<BlockGeom>,
    /// Outline rings (blocks and boundary), each a range into `ring_points`.
    pub rings: Vec<Range<u32>>,
    pub ring_points: Vec<Pos2>,
    /// Range into `rings` for the boundary outline.
    pub boundary_rings: Range<u32>,
    /// Destination points (centroids of areas and clusters), local units.
    pub destinations: Vec<(Pos2, DestinationGroup)>,
    /// Park areas (from the project's OSM data), triangulated: part of the offline basemap.
    pub park_vertices: Vec<Pos2>,
    pub park_indices: Vec<u32>,
    /// Water areas (from the project's OSM data), triangulated: the rest of the offline basemap.
    pub water_vertices: Vec<Pos2>,
    pub water_indices: Vec<u32>,
}

fn bbox_of(points: &[Pos2]) -> Rect {
    Rect::from_points(points)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl MapGeometry {
    pub fn new(data: &ProjectData) -> MapGeometry {
        let origin_ll = data
            .boundary_ll
            .bounding_rect()
            .map(|r| (r.center().x, r.center().y))
            .or_else(|| {
                data.segments
                    .first()
                    .and_then(|s| s.geom_ll.0.first())
                    .map(|c| (c.x, c.y))
            })
            .unwrap_or((0.0, 0.0));
        let mut g = MapGeometry {
            origin_ll,
            origin: mercator(origin_ll.0, origin_ll.1),
            bounds: Rect::NOTHING,
            focus: Rect::NOTHING,
            seg_points: Vec::new(),
            segments: Vec::new(),
            block_vertices: Vec::new(),
            block_indices: Vec::new(),
            blocks: Vec::new(),
            rings: Vec::new(),
            ring_points: Vec::new(),
            boundary_rings: 0..0,
            destinations: Vec::new(),
            park_vertices: Vec::new(),
            park_indices: Vec::new(),
            water_vertices: Vec::new(),
            water_indices: Vec::new(),
        };

        for (k, seg) in data.segments.iter().enumerate() {
            let start = g.seg_points.len();
            for c in &seg.geom_ll.0 {
                let p = g.to_local(c.x, c.y);
                g.seg_points.push(p);
            }
            let pts = &g.seg_points[start..];
            if pts.len() < 2 {
                g.seg_points.truncate(start);
                continue;
            }
            let bbox = bbox_of(pts);
            g.bounds = g.bounds.union(bbox);
            g.segments.push(SegmentGeom {
                segment: to_u32(k),
                points: to_u32(start)..to_u32(g.seg_points.len()),
                bbox,
                ft: seg.stress.ft_seg,
                tf: seg.stress.tf_seg,
                inside: seg.geom_ll.intersects(&data.boundary_ll),
                class_width: super::road_style::class_factor(seg.attrs.functional_class),
            });
        }

        let mut scores = vec![None; data.blocks.len()];
        for s in &data.block_scores {
            if let Some(slot) = scores.get_mut(s.block as usize) {
                *slot = Some(s.overall_score);
            }
        }
        for (i, block) in data.blocks.iter().enumerate() {
            let tri_start = g.block_indices.len();
            let ring_start = g.rings.len();
            for poly in &block.geom_ll.0 {
                let raw = poly.earcut_triangles_raw();
                let base = to_u32(g.block_vertices.len());
                for v in &raw.vertices {
                    let p = g.to_local(v[0], v[1]);
                    g.block_vertices.push(p);
                }
                g.block_indices
                    .extend(raw.triangle_indices.iter().map(|&k| base + to_u32(k)));
                g.push_ring(poly.exterior());
                for hole in poly.interiors() {
                    g.push_ring(hole);
                }
            }
            let ring_pts: Vec<Pos2> = g.rings[ring_start..]
                .iter()
                .flat_map(|r| {
                    g.ring_points[r.start as usize..r.end as usize]
                        .iter()
                        .copied()
                })
                .collect();
            if ring_pts.is_empty() {
                continue;
            }
            let bbox = bbox_of(&ring_pts);
            g.bounds = g.bounds.union(bbox);
            g.blocks.push(BlockGeom {
                block: to_u32(i),
                triangles: to_u32(tri_start)..to_u32(g.block_indices.len()),
                rings: to_u32(ring_start)..to_u32(g.rings.len()),
                bbox,
                score: scores[i],
            });
        }

        let boundary_start = g.rings.len();
        for poly in &data.boundary_ll.0 {
            g.push_ring(poly.exterior());
            for hole in poly.interiors() {
                g.push_ring(hole);
            }
        }
        g.boundary_rings = to_u32(boundary_start)..to_u32(g.rings.len());
        for r in g.boundary_rings.clone() {
            let range = g.rings[r as usize].clone();
            let bbox = bbox_of(&g.ring_points[range.start as usize..range.end as usize]);
            g.bounds = g.bounds.union(bbox);
            g.focus = g.focus.union(bbox);
        }
        for d in &data.destinations {
            if let (DestinationCategory::Parks, Some(area)) = (d.category, &d.polygon) {
                // Taken out and put back: the indices continue from the vertices already in.
                let (mut vertices, mut indices) = (
                    std::mem::take(&mut g.park_vertices),
                    std::mem::take(&mut g.park_indices),
                );
                g.triangulate(
                    &data.projection.unproject(area),
                    &mut vertices,
                    &mut indices,
                );
                g.park_vertices = vertices;
                g.park_indices = indices;
            }
            let ll = data.projection.inverse(d.point.0);
            let p = g.to_local(ll.x, ll.y);
            g.destinations.push((p, DestinationGroup::of(d.category)));
        }
        if !g.bounds.is_positive() {
            g.bounds = Rect::from_center_size(Pos2::ZERO, eframe::egui::vec2(1e-3, 1e-3));
        }
        if !g.focus.is_positive() {
            g.focus = g.bounds;
        }
        g
    }

    /// Adds the project's water areas (lon/lat, from `Project::basemap_water`) to the basemap.
    pub fn add_water(&mut self, water_ll: &[geo::MultiPolygon<f64>]) {
        let (mut vertices, mut indices) = (
            std::mem::take(&mut self.water_vertices),
            std::mem::take(&mut self.water_indices),
        );
        for area in water_ll {
            self.triangulate(area, &mut vertices, &mut indices);
        }
        self.water_vertices = vertices;
        self.water_indices = indices;
    }

    /// Appends the triangles of a lon/lat area, in local units, to a mesh's buffers.
    fn triangulate(
        &self,
        area_ll: &geo::MultiPolygon<f64>,
        vertices: &mut Vec<Pos2>,
        indices: &mut Vec<u32>,
    ) {
        triangulate_into(area_ll, |x, y| self.to_local(x, y), vertices, indices);
    }

    fn push_ring(&mut self, ring: &geo::LineString<f64>) {
        let start = self.ring_points.len();
        for c in &ring.0 {
            let p = self.to_local(c.x, c.y);
            self.ring_points.push(p);
        }
        self.rings
            .push(to_u32(start)..to_u32(self.ring_points.len()));
    }

    /// Lon/lat → local units.
    pub fn to_local(&self, lon: f64, lat: f64) -> Pos2 {
        let m = mercator(lon, lat);
        pos2(
            (m[0] - self.origin[0]) as f32,
            (m[1] - self.origin[1]) as f32,
        )
    }

    /// Local units → (lon, lat).
    pub fn to_lon_lat(&self, p: Pos2) -> (f64, f64) {
        inverse_mercator(self.origin[0] + p.x as f64, self.origin[1] + p.y as f64)
    }

    pub fn segment_points(&self, s: &SegmentGeom) -> &[Pos2] {
        &self.seg_points[s.points.start as usize..s.points.end as usize]
    }

    pub fn ring(&self, ring: u32) -> &[Pos2] {
        let r = &self.rings[ring as usize];
        &self.ring_points[r.start as usize..r.end as usize]
    }

    /// Index (into `segments`) of the segment nearest to `p` within `tolerance`, local units.
    pub fn nearest_segment(&self, p: Pos2, tolerance: f32) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        for (i, s) in self.segments.iter().enumerate() {
            if !s.bbox.expand(tolerance).contains(p) {
                continue;
            }
            let d = self
                .segment_points(s)
                .windows(2)
                .map(|w| distance_to_segment(p, w[0], w[1]))
                .fold(f32::INFINITY, f32::min);
            if d <= tolerance && best.is_none_or(|(_, bd)| d < bd) {
                best = Some((i, d));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Index into `blocks` of data block `block` (blocks without geometry have none).
    pub fn block_geom(&self, block: u32) -> Option<usize> {
        self.blocks.binary_search_by_key(&block, |b| b.block).ok()
    }

    /// Index (into `blocks`) of the block containing `p`.
    pub fn block_at(&self, p: Pos2) -> Option<usize> {
        self.blocks.iter().position(|b| {
            b.bbox.contains(p)
                && self.block_indices[b.triangles.start as usize..b.triangles.end as usize]
                    .chunks_exact(3)
                    .any(|t| {
                        in_triangle(
                            p,
                            self.block_vertices[t[0] as usize],
                            self.block_vertices[t[1] as usize],
                            self.block_vertices[t[2] as usize],
                        )
                    })
        })
    }
}

pub fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let len2 = ab.length_sq();
    let t = if len2 > 0.0 {
        ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (a + ab * t).distance(p)
}

fn in_triangle(p: Pos2, a: Pos2, b: Pos2, c: Pos2) -> bool {
    let cross = |o: Pos2, u: Pos2, v: Pos2| (u.x - o.x) * (v.y - o.y) - (u.y - o.y) * (v.x - o.x);
    let d1 = cross(p, a, b);
    let d2 = cross(p, b, c);
    let d3 = cross(p, c, a);
    let neg = d1 < 0.0 || d2 < 0.0 || d3 < 0.0;
    let pos = d1 > 0.0 || d2 > 0.0 || d3 > 0.0;
    !(neg && pos)
}

/// Appends the triangles of `area` to a mesh's buffers; the new indices continue after the
/// vertices already there.
fn triangulate_into(
    area: &geo::MultiPolygon<f64>,
    to_local: impl Fn(f64, f64) -> Pos2,
    vertices: &mut Vec<Pos2>,
    indices: &mut Vec<u32>,
) {
    for poly in &area.0 {
        let raw = poly.earcut_triangles_raw();
        let base = to_u32(vertices.len());
        vertices.extend(raw.vertices.iter().map(|v| to_local(v[0], v[1])));
        indices.extend(raw.triangle_indices.iter().map(|&k| base + to_u32(k)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_triangulate_into_one_mesh_with_their_own_vertices() {
        let square = |x: f64, side: f64| {
            geo::MultiPolygon(vec![geo::Polygon::new(
                geo::LineString::from(vec![
                    (x, 0.0),
                    (x + side, 0.0),
                    (x + side, side),
                    (x, side),
                    (x, 0.0),
                ]),
                vec![],
            )])
        };
        let (mut v, mut i) = (Vec::new(), Vec::new());
        for (x, side) in [(0.0, 1.0), (10.0, 3.0)] {
            triangulate_into(
                &square(x, side),
                |x, y| pos2(x as f32, y as f32),
                &mut v,
                &mut i,
            );
        }
        let area: f32 = i
            .chunks_exact(3)
            .map(|t| {
                let (a, b, c) = (v[t[0] as usize], v[t[1] as usize], v[t[2] as usize]);
                ((b - a).x * (c - a).y - (b - a).y * (c - a).x).abs() / 2.0
            })
            .sum();
        // 1 + 9: the second square's triangles use its own vertices, not the first's.
        assert!((area - 10.0).abs() < 1e-4, "{area}");
        assert!(i.iter().all(|&k| (k as usize) < v.len()));
    }

    #[test]
    fn mercator_matches_known_points_and_inverts() {
        // (lon, lat, x, y) in zoom-0 world pixels.
        let rows = [
            (0.0, 0.0, 128.0, 128.0),
            (-180.0, 0.0, 0.0, 128.0),
            (180.0, 0.0, 256.0, 128.0),
            (0.0, 85.051_128_78, 128.0, 0.0),
        ];
        for (lon, lat, x, y) in rows {
            let m = mercator(lon, lat);
            assert!(
                (m[0] - x).abs() < 1e-6 && (m[1] - y).abs() < 1e-6,
                "{lon},{lat}"
            );
            let (lo, la) = inverse_mercator(m[0], m[1]);
            assert!((lo - lon).abs() < 1e-9 && (la - lat).abs() < 1e-7);
        }
    }

    #[test]
    fn shown_stress_table() {
        use StressView::*;
        // (ft, tf, view, shown)
        let rows = [
            (Some(1), Some(3), Worse, Some(3)),
            (Some(1), Some(3), Better, Some(1)),
            (Some(3), None, Better, Some(3)),
            (None, Some(1), Worse, Some(1)),
            (None, None, Worse, None),
        ];
        for (ft, tf, view, want) in rows {
            assert_eq!(shown_stress(ft, tf, view), want, "{ft:?} {tf:?} {view:?}");
        }
    }

    #[test]
    fn stress_colors_are_distinct() {
        let c: Vec<_> = [Some(1), Some(2), Some(3), None]
            .into_iter()
            .map(stress_color)
            .collect();
        for i in 0..c.len() {
            for j in i + 1..c.len() {
                assert_ne!(c[i], c[j]);
            }
        }
    }

    #[test]
    fn score_ramp_ends_and_clamps() {
        assert_eq!(score_color(0.0), Color32::from_rgb(0x44, 0x01, 0x54));
        assert_eq!(score_color(100.0), Color32::from_rgb(0xfd, 0xe7, 0x25));
        assert_eq!(score_color(-5.0), score_color(0.0));
        assert_eq!(score_color(250.0), score_color(100.0));
        assert_eq!(score_color(50.0), Color32::from_rgb(0x21, 0x91, 0x8c));
    }

    #[test]
    fn every_destination_category_has_a_group_with_its_own_colour() {
        for c in DestinationCategory::ALL {
            assert!(DestinationGroup::ALL.contains(&DestinationGroup::of(c)));
        }
        let colors: Vec<_> = DestinationGroup::ALL.iter().map(|g| g.color()).collect();
        for (i, a) in colors.iter().enumerate() {
            assert!(!colors[i + 1..].contains(a));
            assert_ne!(*a, LOW_STRESS_COLOR);
            assert_ne!(*a, HIGH_STRESS_COLOR);
        }
    }

    #[test]
    fn hit_tests() {
        let a = pos2(0.0, 0.0);
        let b = pos2(10.0, 0.0);
        assert_eq!(distance_to_segment(pos2(5.0, 3.0), a, b), 3.0);
        assert_eq!(distance_to_segment(pos2(-4.0, 3.0), a, b), 5.0);
        assert!(in_triangle(pos2(1.0, 1.0), a, b, pos2(0.0, 10.0)));
        assert!(!in_triangle(pos2(9.0, 9.0), a, b, pos2(0.0, 10.0)));
    }
}
