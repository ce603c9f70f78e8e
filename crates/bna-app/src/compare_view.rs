//! A comparison of the open project with another analysis (`bna_engine::compare`) as the app
//! shows it: the difference layer prepared in the map's local units (segments whose stress or
//! class differ, or that one side lacks; blocks whose overall score differs, shaded by |Δ|),
//! and the summary's rows. Pure functions, so the rules are tested without a window; the
//! painting reuses the map's line and fill builders.

use std::collections::HashMap;

use eframe::egui::{epaint::Mesh, pos2, Color32, Painter, Pos2, Rect, Shape};

use super::draw::{self, LineBuilder, View};
use super::geometry::{mercator, shown_stress, StressView};
use super::road_style::road_style;
use super::scenario_map::{format_delta, format_value, table_label, table_order};
use bna_engine::compare::report::Report;
use bna_engine::compare::side::{SegmentRecord, Side};
use bna_engine::model::Stress;

/// Why a segment is in the difference layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentStatus {
    /// Matched, with a different stress or road class.
    Differs,
    /// Only the open project (A) has it.
    OnlyA,
    /// Only the other analysis (B) has it.
    OnlyB,
}

impl SegmentStatus {
    pub const ALL: [SegmentStatus; 3] = [
        SegmentStatus::Differs,
        SegmentStatus::OnlyA,
        SegmentStatus::OnlyB,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SegmentStatus::Differs => "Stress or class differs",
            SegmentStatus::OnlyA => "Only in this project",
            SegmentStatus::OnlyB => "Only in the other analysis",
        }
    }

    /// Apart from the stress colours (blue, orange, red, grey) the roads are drawn in.
    pub fn color(self) -> Color32 {
        match self {
            SegmentStatus::Differs => Color32::from_rgb(0xd0, 0x1c, 0x8b),
            SegmentStatus::OnlyA => Color32::from_rgb(0x75, 0x70, 0xb3),
            SegmentStatus::OnlyB => Color32::from_rgb(0x00, 0xa6, 0xd6),
        }
    }
}

/// One segment of the difference layer, local units.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffSegment {
    pub status: SegmentStatus,
    pub osm_id: i64,
    /// Segment stress of the side whose line is drawn, both directions.
    pub ft: Option<Stress>,
    pub tf: Option<Stress>,
    pub points: Vec<Pos2>,
    pub bbox: Rect,
}

/// One block whose overall score differs, local units.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffBlock {
    pub geoid: String,
    /// B − A.
    pub delta: f64,
    pub vertices: Vec<Pos2>,
    pub indices: Vec<u32>,
    pub rings: Vec<Vec<Pos2>>,
    pub bbox: Rect,
}

/// The difference layer drawn over the map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareOverlay {
    pub segments: Vec<DiffSegment>,
    pub blocks: Vec<DiffBlock>,
    /// Differing or one-sided segments with no line to draw (a reference CSV without one).
    pub undrawn_segments: usize,
    /// The largest |Δ| drawn: the end of the blocks' shading.
    pub max_abs_delta: f64,
}

impl CompareOverlay {
    pub fn count(&self, status: SegmentStatus) -> usize {
        self.segments.iter().filter(|s| s.status == status).count()
    }
}

/// Lon/lat → the map's local units around `origin_ll` (as `MapGeometry::to_local`).
pub fn local_of(origin_ll: (f64, f64)) -> impl Fn(f64, f64) -> Pos2 {
    let o = mercator(origin_ll.0, origin_ll.1);
    move |lon, lat| {
        let m = mercator(lon, lat);
        pos2((m[0] - o[0]) as f32, (m[1] - o[1]) as f32)
    }
}

fn bbox_of<'a>(points: impl IntoIterator<Item = &'a Pos2>) -> Rect {
    points
        .into_iter()
        .fold(Rect::NOTHING, |r, p| r.union(Rect::from_min_max(*p, *p)))
}

/// A record's segment stress (forward, backward) as the map's stress levels.
fn seg_stress(r: &SegmentRecord) -> [Option<Stress>; 2] {
    [r.stress[0], r.stress[1]].map(|v| v.and_then(|v| Stress::try_from(v).ok()))
}

/// The difference layer of `report` (B = `b` measured against A = `a`), the same rows as
/// `compare::layer::layer_tables`: differing pairs drawn with A's line, one-sided segments
/// with their own, blocks with a non-zero overall Δ with whichever side has their shape.
pub fn build_overlay(
    report: &Report,
    a: &Side,
    b: &Side,
    to_local: impl Fn(f64, f64) -> Pos2,
) -> CompareOverlay {
    let mut o = CompareOverlay::default();
    let s = &report.segments;
    let rows = s
        .differing
        .iter()
        .map(|d| {
            let (sa, sb) = (&a.segments[d.pair.a], &b.segments[d.pair.b]);
            let drawn = if sa.line_ll.is_some() { sa } else { sb };
            (SegmentStatus::Differs, drawn)
        })
        .chain(
            s.only_a
                .iter()
                .map(|&i| (SegmentStatus::OnlyA, &a.segments[i])),
        )
        .chain(
            s.only_b
                .iter()
                .map(|&j| (SegmentStatus::OnlyB, &b.segments[j])),
        );
    for (status, r) in rows {
        match r.line_ll.as_ref().filter(|l| l.len() >= 2) {
            Some(line) => {
                let points: Vec<Pos2> = line.iter().map(|p| to_local(p[0], p[1])).collect();
                let [ft, tf] = seg_stress(r);
                o.segments.push(DiffSegment {
                    status,
                    osm_id: r.osm_id,
                    ft,
                    tf,
                    bbox: bbox_of(&points),
                    points,
                });
            }
            None => o.undrawn_segments += 1,
        }
    }

    let mut shapes = HashMap::new();
    // A's shape first: it is the project on screen.
    for side in [b, a] {
        for r in &side.blocks {
            if let Some(g) = r.geom_ll.as_ref().filter(|g| !g.0.is_empty()) {
                shapes.insert(r.geoid.as_str(), g);
            }
        }
    }
    for d in &report.blocks.overall {
        let Some(delta) = d.delta.filter(|v| *v != 0.0 && v.is_finite()) else {
            continue;
        };
        let Some(shape) = shapes.get(d.geoid.as_str()) else {
            continue;
        };
        let mut block = DiffBlock {
            geoid: d.geoid.clone(),
            delta,
            vertices: Vec::new(),
            indices: Vec::new(),
            rings: Vec::new(),
            bbox: Rect::NOTHING,
        };
        for poly in &shape.0 {
            use geo::TriangulateEarcut;
            let raw = poly.earcut_triangles_raw();
            let base = block.vertices.len() as u32;
            block
                .vertices
                .extend(raw.vertices.iter().map(|v| to_local(v[0], v[1])));
            block
                .indices
                .extend(raw.triangle_indices.iter().map(|&k| base + k as u32));
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                block
                    .rings
                    .push(ring.0.iter().map(|c| to_local(c.x, c.y)).collect());
            }
        }
        block.bbox = bbox_of(block.rings.iter().flatten());
        o.max_abs_delta = o.max_abs_delta.max(delta.abs());
        o.blocks.push(block);
    }
    o
}

/// Palest shade of a changed block: a block 0.01 points apart must still show.
const MIN_SHADE: f32 = 0.2;
/// The pale end of the blocks' |Δ| ramp (BrBG's brown side: apart from the stress colours).
pub const SMALL_DELTA_COLOR: Color32 = Color32::from_rgb(0xf6, 0xe8, 0xc3);
/// The dark end of the ramp.
pub const LARGE_DELTA_COLOR: Color32 = Color32::from_rgb(0x8c, 0x51, 0x0a);
/// Block fill opacity: the roads under the overlay stay readable.
pub const BLOCK_ALPHA: u8 = 120;

/// Colour of a block `|delta|` apart, on a ramp ending at `max_abs`.
pub fn abs_delta_color(delta: f64, max_abs: f64) -> Color32 {
    let t = (delta.abs() / max_abs.max(f64::MIN_POSITIVE)).min(1.0) as f32;
    let t = if t.is_finite() { t } else { 0.0 };
    SMALL_DELTA_COLOR.lerp_to_gamma(LARGE_DELTA_COLOR, MIN_SHADE + (1.0 - MIN_SHADE) * t)
}

/// Draws the difference layer over the project's layers: blocks shaded by |Δ| and outlined,
/// then a halo along each differing road with the road drawn again inside it in its own
/// stress style, so the halo says what differs without hiding what the road is (a road only
/// the other side has shows that side's stress).
pub fn paint_overlay(
    painter: &Painter,
    view: &View,
    zoom: f64,
    stress_view: StressView,
    o: &CompareOverlay,
) {
    let visible = view.visible_local(8.0);
    let mut fill = Mesh::default();
    let mut outlines = LineBuilder::new();
    for b in o.blocks.iter().filter(|b| b.bbox.intersects(visible)) {
        let color = abs_delta_color(b.delta, o.max_abs_delta);
        let base = fill.vertices.len() as u32;
        for v in &b.vertices {
            fill.colored_vertex(view.to_screen(*v), color.gamma_multiply_u8(BLOCK_ALPHA));
        }
        fill.indices.extend(b.indices.iter().map(|k| base + k));
        for r in &b.rings {
            outlines.polyline(view, r, 1.5, color);
        }
    }
    painter.add(Shape::mesh(fill));
    painter.add(Shape::mesh(outlines.mesh));
    let width = draw::road_width(zoom);
    let mut halos = LineBuilder::new();
    let mut casings = LineBuilder::new();
    let mut cores = LineBuilder::new();
    for s in o.segments.iter().filter(|s| s.bbox.intersects(visible)) {
        let style = road_style(shown_stress(s.ft, s.tf, stress_view), 1.0, width);
        halos.polyline(view, &s.points, style.width + 6.0, s.status.color());
        cores.road(&mut casings, view, &s.points, &style);
    }
    painter.add(Shape::mesh(halos.mesh));
    painter.add(Shape::mesh(casings.mesh));
    painter.add(Shape::mesh(cores.mesh));
}

/// "12.5 %" of `part` in `whole`; "–" of nothing.
pub fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

/// A stress or class column as people read it.
pub fn column_label(column: &str) -> &str {
    match column {
        "ft_seg_stress" => "Road stress, forward",
        "tf_seg_stress" => "Road stress, backward",
        "ft_int_stress" => "Crossing stress, forward",
        "tf_int_stress" => "Crossing stress, backward",
        "functional_class" => "Road class",
        other => other,
    }
}

/// One city score on both sides, formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityRow {
    pub label: String,
    pub a: String,
    pub b: String,
    pub delta: String,
}

/// What the comparison window lists: (label, value) rows, then the city scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub segments: Vec<(String, String)>,
    pub blocks: Vec<(String, String)>,
    pub city: Vec<CityRow>,
}

/// The words of "matched N of A's …" the window shows (the UI test finds it by this text).
pub fn matched_text(matched: usize, a_total: usize, b_total: usize) -> String {
    format!(
        "{matched} of {a_total} here ({}), of {b_total} there ({})",
        percent(matched, a_total),
        percent(matched, b_total)
    )
}

/// The summary rows of `report`.
pub fn summary(report: &Report) -> Summary {
    let s = &report.segments;
    let mut segments = vec![(
        "Matched segments".to_owned(),
        matched_text(s.matched, s.a_total, s.b_total),
    )];
    for (column, g) in s.agreements() {
        segments.push((
            column_label(column).to_owned(),
            format!("{} of {} agree ({:.1} %)", g.agree, g.total, g.percent()),
        ));
    }
    segments.push((
        "Differing / one side only".to_owned(),
        format!(
            "{} differ, {} only here, {} only there",
            s.differing.len(),
            s.only_a.len(),
            s.only_b.len()
        ),
    ));
    let b = &report.blocks;
    let mut blocks = vec![(
        "Blocks in common".to_owned(),
        format!("{} (here {}, there {})", b.common, b.a_total, b.b_total),
    )];
    if let Some(o) = b.scores.iter().find(|d| d.column == "overall_score") {
        blocks.push((
            "Block score |Δ|".to_owned(),
            format!(
                "mean {:.2}, max {:.2} over {} blocks",
                o.mean_abs, o.max_abs, o.compared
            ),
        ));
    }
    let differing = b
        .overall
        .iter()
        .filter(|d| d.delta.is_some_and(|v| v != 0.0))
        .count();
    blocks.push((
        "Blocks whose score differs".to_owned(),
        differing.to_string(),
    ));
    let ids: Vec<&str> = report.city.iter().map(|c| c.score_id.as_str()).collect();
    let city = table_order(&ids)
        .into_iter()
        .map(|i| {
            let c = &report.city[i];
            CityRow {
                label: table_label(&c.score_id),
                a: format_value(c.a),
                b: format_value(c.b),
                delta: format_delta(c.delta),
            }
        })
        .collect();
    Summary {
        segments,
        blocks,
        city,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_engine::compare::side::{BlockRecord, SegmentRecord, SourceKind};
    use std::collections::BTreeMap;

    fn seg(osm_id: i64, stress: i64, fc: &str, line: &[[f64; 2]]) -> SegmentRecord {
        SegmentRecord {
            osm_id,
            functional_class: Some(fc.into()),
            stress: [Some(stress), Some(stress), Some(1), Some(1)],
            line_ll: Some(line.to_vec()),
        }
    }

    fn block(geoid: &str, overall: Option<f64>, x: f64) -> BlockRecord {
        let square = geo::MultiPolygon(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (x, 0.0),
                (x + 0.001, 0.0),
                (x + 0.001, 0.001),
                (x, 0.001),
                (x, 0.0),
            ]),
            vec![],
        )]);
        BlockRecord {
            geoid: geoid.into(),
            values: BTreeMap::from([("overall_score".to_string(), overall)]),
            geom_ll: Some(square),
        }
    }

    fn side(segments: Vec<SegmentRecord>, blocks: Vec<BlockRecord>, overall: f64) -> Side {
        Side {
            path: "x.bna".into(),
            kind: SourceKind::Project,
            segments,
            blocks,
            city: vec![
                ("people".into(), Some(50.0)),
                ("overall_score".into(), Some(overall)),
            ],
            destinations: BTreeMap::new(),
        }
    }

    /// A: roads 1 (low stress), 2, 3; B: road 1 high stress, 2 the same, 4 new.
    fn pair() -> (Side, Side) {
        let l = |k: f64| [[k * 0.01, 0.0], [k * 0.01, 0.002]];
        let a = side(
            vec![
                seg(1, 1, "primary", &l(1.0)),
                seg(2, 1, "secondary", &l(2.0)),
                seg(3, 1, "tertiary", &l(3.0)),
            ],
            vec![
                block("b1", Some(40.0), 0.0),
                block("b2", Some(10.0), 0.1),
                block("b3", None, 0.2),
            ],
            20.0,
        );
        let b = side(
            vec![
                seg(1, 3, "primary", &l(1.0)),
                seg(2, 1, "secondary", &l(2.0)),
                seg(4, 3, "tertiary", &l(4.0)),
            ],
            vec![
                block("b1", Some(37.5), 0.0),
                block("b2", Some(10.0), 0.1),
                block("b3", Some(5.0), 0.2),
            ],
            21.234,
        );
        (a, b)
    }

    #[test]
    fn the_layer_holds_differing_and_one_sided_roads_and_blocks_that_moved() {
        let (a, b) = pair();
        let report = bna_engine::compare::compare(&a, &b);
        let o = build_overlay(&report, &a, &b, local_of((0.0, 0.0)));
        let got: Vec<(SegmentStatus, i64)> =
            o.segments.iter().map(|s| (s.status, s.osm_id)).collect();
        assert_eq!(
            got,
            [
                (SegmentStatus::Differs, 1),
                (SegmentStatus::OnlyA, 3),
                (SegmentStatus::OnlyB, 4)
            ]
        );
        assert_eq!(o.undrawn_segments, 0);
        // b2 did not move; b3 is NULL on one side, so it has no Δ to shade.
        let blocks: Vec<(&str, f64)> = o
            .blocks
            .iter()
            .map(|b| (b.geoid.as_str(), b.delta))
            .collect();
        assert_eq!(blocks, [("b1", -2.5)]);
        assert_eq!(o.max_abs_delta, 2.5);
        let b1 = &o.blocks[0];
        assert_eq!(b1.indices.len(), 6, "a square is two triangles");
        assert_eq!(b1.rings.len(), 1);
        assert!(b1.bbox.is_positive());
        // Local units: east is +x, north is −y, as the map draws them.
        let road = &o.segments[0].points;
        assert!(road[0].x > 0.0 && road[1].y < road[0].y, "{road:?}");
        assert_eq!(o.count(SegmentStatus::Differs), 1);
        // The differing road keeps this project's stress; the new one has the other's.
        assert_eq!((o.segments[0].ft, o.segments[0].tf), (Some(1), Some(1)));
        assert_eq!(o.segments[2].ft, Some(3));
    }

    #[test]
    fn a_side_without_lines_leaves_its_segments_undrawn() {
        let (a, mut b) = pair();
        for s in &mut b.segments {
            s.line_ll = None;
        }
        let report = bna_engine::compare::compare(&a, &b);
        let o = build_overlay(&report, &a, &b, local_of((0.0, 0.0)));
        // Matched by OSM id alone: road 1 differs (drawn with A's line), 3 only here
        // (drawn), 4 only there (no line).
        let drawn: Vec<i64> = o.segments.iter().map(|s| s.osm_id).collect();
        assert_eq!(drawn, [1, 3]);
        assert_eq!(o.undrawn_segments, 1);
    }

    #[test]
    fn the_summary_reads_the_report() {
        let (a, b) = pair();
        let s = summary(&bna_engine::compare::compare(&a, &b));
        let find = |rows: &[(String, String)], label: &str| {
            rows.iter()
                .find(|(l, _)| l == label)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no row {label}: {rows:?}"))
        };
        let rows = [
            (
                "Matched segments",
                "2 of 3 here (66.7 %), of 3 there (66.7 %)",
            ),
            ("Road stress, forward", "1 of 2 agree (50.0 %)"),
            ("Crossing stress, backward", "2 of 2 agree (100.0 %)"),
            ("Road class", "2 of 2 agree (100.0 %)"),
            (
                "Differing / one side only",
                "1 differ, 1 only here, 1 only there",
            ),
        ];
        for (label, want) in rows {
            assert_eq!(find(&s.segments, label), want, "{label}");
        }
        assert_eq!(find(&s.blocks, "Blocks in common"), "3 (here 3, there 3)");
        assert_eq!(
            find(&s.blocks, "Block score |Δ|"),
            "mean 1.25, max 2.50 over 2 blocks"
        );
        assert_eq!(find(&s.blocks, "Blocks whose score differs"), "1");
        // Reading order: the overall score first, with its human label and two decimals.
        assert_eq!(
            s.city,
            [
                CityRow {
                    label: "Overall BNA score".into(),
                    a: "20.00".into(),
                    b: "21.23".into(),
                    delta: "+1.23".into()
                },
                CityRow {
                    label: "People".into(),
                    a: "50.00".into(),
                    b: "50.00".into(),
                    delta: "0.00".into()
                },
            ]
        );
    }

    #[test]
    fn percents_and_labels() {
        let rows = [(1, 3, "33.3 %"), (0, 0, "–"), (5, 5, "100.0 %")];
        for (part, whole, want) in rows {
            assert_eq!(percent(part, whole), want);
        }
        assert_eq!(column_label("tf_int_stress"), "Crossing stress, backward");
        assert_eq!(column_label("new_column"), "new_column");
    }

    #[test]
    fn block_shades_darken_with_the_difference() {
        let d = |c: Color32| {
            (c.r() as i32 - SMALL_DELTA_COLOR.r() as i32).abs()
                + (c.g() as i32 - SMALL_DELTA_COLOR.g() as i32).abs()
                + (c.b() as i32 - SMALL_DELTA_COLOR.b() as i32).abs()
        };
        assert_eq!(abs_delta_color(-4.0, 4.0), LARGE_DELTA_COLOR);
        assert_eq!(abs_delta_color(9.0, 4.0), LARGE_DELTA_COLOR);
        let faint = abs_delta_color(0.01, 4.0);
        assert!(d(faint) > 0, "a tiny difference still shows");
        assert!(d(abs_delta_color(2.0, 4.0)) > d(faint));
        assert!(d(abs_delta_color(f64::NAN, 4.0)) > 0);
    }
}
