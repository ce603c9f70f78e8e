//! Block ↔ road association (spec §5.3, `census_blocks.sql`): a road belongs to a block when it
//! intersects the block buffered by 15 m and either lies wholly inside that buffer or overlaps
//! it by more than 30 m.

use std::f64::consts::PI;

use geo::algorithm::buffer::{BufferStyle, LineJoin};
use geo::coordinate_position::CoordPos;
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{BoundingRect, Buffer, Coord, CoordinatePosition, Line, LineString, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::{Block, Segment};
use crate::params::{BLOCK_ROAD_BUFFER_M, BLOCK_ROAD_MIN_LENGTH_M};

type RoadBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Pieces of a line shorter than this (metres) are numerical slivers at a crossing point and do
/// not decide whether the line leaves the area.
const SLIVER_M: f64 = 1e-7;

/// Road ids (sorted) of each block, in block order.
pub fn block_roads(blocks: &[Block], segments: &[Segment]) -> Vec<Vec<u32>> {
    let boxes: Vec<RoadBox> = segments
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let b = s.geom.bounding_rect()?;
            let rect = Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
            Some(GeomWithData::new(rect, i as u32))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);

    blocks
        .par_iter()
        .map(|block| roads_of_block(&block.geom, segments, &tree))
        .collect()
}

/// `ST_Buffer(geom, 15)` with PostGIS's default 8 segments per quarter circle.
pub fn block_buffer(geom: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let style = BufferStyle::new(BLOCK_ROAD_BUFFER_M).line_join(LineJoin::Round(PI / 16.0));
    geom.buffer_with_style(style)
}

fn roads_of_block(
    geom: &MultiPolygon<f64>,
    segments: &[Segment],
    tree: &RTree<RoadBox>,
) -> Vec<u32> {
    let buffer = block_buffer(geom);
    let Some(env) = buffer.bounding_rect() else {
        return Vec::new();
    };
    let edges: Vec<Line<f64>> = buffer
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.lines())
        .collect();
    let query = AABB::from_corners([env.min().x, env.min().y], [env.max().x, env.max().y]);
    let mut roads: Vec<u32> = tree
        .locate_in_envelope_intersecting(&query)
        .map(|b| b.data)
        .filter(|&r| belongs(&overlap(&segments[r as usize].geom, &buffer, &edges)))
        .collect();
    roads.sort_unstable();
    roads
}

/// How a line meets an area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlap {
    /// `ST_Intersects(area, line)`.
    pub intersects: bool,
    /// `ST_Contains(area, line)`.
    pub contained: bool,
    /// `ST_Length(ST_Intersection(area, line))`.
    pub inside_length: f64,
}

/// The §5.3 rule on a road's overlap with the block buffer.
pub fn belongs(o: &Overlap) -> bool {
    o.intersects && (o.contained || o.inside_length > BLOCK_ROAD_MIN_LENGTH_M)
}

/// Exact line/area overlay: each line segment is cut at its crossings with the area's rings
/// and every piece is classified by its midpoint. `edges` are the area's ring edges.
pub fn overlap(line: &LineString<f64>, area: &MultiPolygon<f64>, edges: &[Line<f64>]) -> Overlap {
    let mut intersects = false;
    let mut any_outside = false;
    let mut any_inside = false;
    let mut inside_length = 0.0;
    let mut cuts: Vec<f64> = Vec::new();

    if line.0.len() == 1 {
        intersects = area.coordinate_position(&line.0[0]) != CoordPos::Outside;
    }
    for seg in line.lines() {
        let (p, d) = (seg.start, seg.delta());
        let len2 = d.x * d.x + d.y * d.y;
        if len2 == 0.0 {
            intersects |= area.coordinate_position(&p) != CoordPos::Outside;
            continue;
        }
        let len = len2.sqrt();
        let param =
            |c: Coord<f64>| (((c.x - p.x) * d.x + (c.y - p.y) * d.y) / len2).clamp(0.0, 1.0);
        cuts.clear();
        cuts.extend([0.0, 1.0]);
        let seg_box = seg.bounding_rect();
        for e in edges {
            if !boxes_overlap(seg_box, e.bounding_rect()) {
                continue;
            }
            match line_intersection(seg, *e) {
                Some(LineIntersection::SinglePoint { intersection, .. }) => {
                    intersects = true;
                    cuts.push(param(intersection));
                }
                Some(LineIntersection::Collinear { intersection }) => {
                    intersects = true;
                    cuts.push(param(intersection.start));
                    cuts.push(param(intersection.end));
                }
                None => {}
            }
        }
        cuts.sort_unstable_by(f64::total_cmp);
        for w in cuts.windows(2) {
            let piece = (w[1] - w[0]) * len;
            if piece <= 0.0 {
                continue;
            }
            let t = 0.5 * (w[0] + w[1]);
            let mid = Coord {
                x: p.x + d.x * t,
                y: p.y + d.y * t,
            };
            match area.coordinate_position(&mid) {
                CoordPos::Outside => any_outside |= piece > SLIVER_M,
                pos => {
                    intersects = true;
                    inside_length += piece;
                    any_inside |= pos == CoordPos::Inside && piece > SLIVER_M;
                }
            }
        }
    }
    Overlap {
        intersects,
        contained: intersects && !any_outside && any_inside,
        inside_length,
    }
}

fn boxes_overlap(a: geo::Rect<f64>, b: geo::Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::graph::tests::seg;
    use geo::{polygon, Polygon};

    /// A 100 m × 100 m block with its lower-left corner at the origin.
    fn square_block() -> Block {
        let p: Polygon<f64> = polygon![
            (x: 0.0, y: 0.0),
            (x: 100.0, y: 0.0),
            (x: 100.0, y: 100.0),
            (x: 0.0, y: 100.0),
            (x: 0.0, y: 0.0),
        ];
        Block {
            geoid: "b".into(),
            geom: MultiPolygon(vec![p]),
            geom_ll: MultiPolygon(vec![]),
            population: 0.0,
            jobs: 0.0,
            aland: None,
        }
    }

    fn road(id: u32, coords: &[(f64, f64)]) -> Segment {
        seg(id, 0, 1, coords)
    }

    #[test]
    fn buffer_and_overlap_rules() {
        // (road geometry, expected membership, why)
        let rows: [(&[(f64, f64)], bool); 8] = [
            // Parallel to the south edge, 10 m away, 40 m long: inside the buffer, > 30 m.
            (&[(30.0, -10.0), (70.0, -10.0)], true),
            // Same 20 m away: outside the 15 m buffer.
            (&[(30.0, -20.0), (70.0, -20.0)], false),
            // From 5 m inside the block out to 35 m beyond the buffer: 20 m inside the buffer,
            // not contained.
            (&[(5.0, 50.0), (-50.0, 50.0)], false),
            // Wholly inside the buffer although only 20 m long.
            (&[(40.0, -10.0), (60.0, -10.0)], true),
            // 35 m inside the buffer (x from 20 down to -15), the rest outside.
            (&[(20.0, 50.0), (-60.0, 50.0)], true),
            // 10 m inside the buffer only.
            (&[(-5.0, 50.0), (-60.0, 50.0)], false),
            // Crossing the block: 130 m inside the buffer.
            (&[(50.0, -50.0), (50.0, 150.0)], true),
            // Long road passing 10 m from the block: about 51 m of it within 15 m.
            (&[(-100.0, -10.0), (40.0, -10.0)], true),
        ];
        let segments: Vec<Segment> = rows
            .iter()
            .enumerate()
            .map(|(i, (c, _))| road(i as u32, c))
            .collect();
        let got = block_roads(&[square_block()], &segments);
        let want: Vec<u32> = rows
            .iter()
            .enumerate()
            .filter(|(_, (_, w))| *w)
            .map(|(i, _)| i as u32)
            .collect();
        assert_eq!(got, vec![want]);
    }

    #[test]
    fn overlap_measures_the_inside_length() {
        let block = square_block();
        let buffer = block_buffer(&block.geom);
        let edges: Vec<Line<f64>> = buffer.iter().flat_map(|p| p.exterior().lines()).collect();
        // From x = 5 (inside the block) to x = -50: inside the buffer from 5 to -15 = 20 m.
        let o = overlap(
            &LineString::from(vec![(5.0, 50.0), (-50.0, 50.0)]),
            &buffer,
            &edges,
        );
        assert!(o.intersects);
        assert!(!o.contained);
        assert!((o.inside_length - 20.0).abs() < 1e-6, "{}", o.inside_length);
        // Wholly inside.
        let o = overlap(
            &LineString::from(vec![(40.0, -10.0), (60.0, -10.0)]),
            &buffer,
            &edges,
        );
        assert!(o.contained);
        assert!((o.inside_length - 20.0).abs() < 1e-9);
        // Disjoint.
        let o = overlap(
            &LineString::from(vec![(40.0, -20.0), (60.0, -20.0)]),
            &buffer,
            &edges,
        );
        assert_eq!(
            o,
            Overlap {
                intersects: false,
                contained: false,
                inside_length: 0.0
            }
        );
    }

    #[test]
    fn rule_table() {
        let o = |intersects, contained, inside_length| Overlap {
            intersects,
            contained,
            inside_length,
        };
        let rows = [
            (o(true, true, 5.0), true),
            (o(true, false, 30.0), false),
            (o(true, false, 30.01), true),
            (o(false, false, 0.0), false),
        ];
        for (ov, want) in rows {
            assert_eq!(belongs(&ov), want, "{ov:?}");
        }
    }

    #[test]
    fn block_without_nearby_roads_has_none() {
        let segments = vec![road(0, &[(1000.0, 0.0), (1100.0, 0.0)])];
        assert_eq!(
            block_roads(&[square_block()], &segments),
            vec![Vec::<u32>::new()]
        );
    }
}
