//! The reference's two cuts of an OSM extract (brokenspoke-analyzer 3.2.4), reproduced so that
//! the original region extract gives the reference's network (`--osm-clip boundary`):
//!
//! 1. its prepare step, `osmium extract -p <boundary>` with the default `complete_ways`
//!    strategy: every node inside the boundary polygon, every way with at least one such node
//!    (whole, with all its nodes), every relation with a member among them;
//! 2. its import, `osmconvert --drop-broken-refs -b=<ST_Extent of the kept census blocks>`:
//!    only the nodes of step 1 inside the box, every way with at least one of them, and in
//!    each way only the references to those nodes.
//!
//! Both tools hold coordinates as integers of 1e-7° and compare them exactly, so these rules
//! do too: a node on an edge is decided as the tools decide it, not by floating point.

use std::collections::{HashMap, HashSet};

use geo::{Coord, MultiPolygon, Rect};

/// OSM's fixed-point unit: both tools store a coordinate as `round(degrees × 10⁷)`.
const UNITS_PER_DEGREE: f64 = 1e7;

/// A coordinate in 1e-7° as osmium and osmconvert hold a node's location (exact for the
/// 7 decimals of OSM data; osmium rounds a polygon's coordinates the same way, `lround`).
pub fn fixed(degrees: f64) -> i32 {
    (degrees * UNITS_PER_DEGREE).round() as i32
}

fn fixed_coord(c: Coord<f64>) -> (i32, i32) {
    (fixed(c.x), fixed(c.y))
}

/// A box in 1e-7°, edges included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedBox {
    pub min_x: i32,
    pub min_y: i32,
    pub max_x: i32,
    pub max_y: i32,
}

impl FixedBox {
    /// The box osmconvert applies for `-b=<minlon>,<minlat>,<maxlon>,<maxlat>`: each bound
    /// multiplied by 10⁷ and truncated toward zero (`(int32_t)(x*10000000L)`), which moves a
    /// west or south bound below zero half a unit inward at most.
    pub fn osmconvert(r: Rect<f64>) -> Self {
        let t = |d: f64| (d * UNITS_PER_DEGREE).trunc() as i32;
        Self {
            min_x: t(r.min().x),
            min_y: t(r.min().y),
            max_x: t(r.max().x),
            max_y: t(r.max().y),
        }
    }

    pub fn contains(&self, (x, y): (i32, i32)) -> bool {
        x >= self.min_x && x <= self.max_x && y >= self.min_y && y <= self.max_y
    }

    /// `minlon,minlat,maxlon,maxlat` in degrees, as recorded in the project.
    pub fn to_degrees_text(&self) -> String {
        let d = |v: i32| {
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            format!("{sign}{}.{:07}", a / 10_000_000, a % 10_000_000)
        };
        format!(
            "{},{},{},{}",
            d(self.min_x),
            d(self.min_y),
            d(self.max_x),
            d(self.max_y)
        )
    }
}

type Edge = ((i32, i32), (i32, i32));

/// A boundary as `osmium extract -p` tests it: every ring's edges (outer and inner) in one
/// even-odd test in integer arithmetic, a vertex counting as inside.
#[derive(Debug, Clone)]
pub struct FixedPolygon {
    envelope: FixedBox,
    /// Edges grouped in horizontal bands, as osmium groups them, so that a region's millions
    /// of nodes are each tested against a few edges only.
    bands: Vec<Vec<Edge>>,
    band_height: i64,
}

impl FixedPolygon {
    pub fn new(polygon: &MultiPolygon<f64>) -> Option<Self> {
        let mut edges: Vec<Edge> = Vec::new();
        for p in polygon {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                edges.extend(
                    ring.lines()
                        .map(|l| (fixed_coord(l.start), fixed_coord(l.end))),
                );
            }
        }
        let xs = edges.iter().flat_map(|(a, b)| [a.0, b.0]);
        let ys = edges.iter().flat_map(|(a, b)| [a.1, b.1]);
        let envelope = FixedBox {
            min_x: xs.clone().min()?,
            max_x: xs.max()?,
            min_y: ys.clone().min()?,
            max_y: ys.max()?,
        };
        let count = (edges.len() / 10).clamp(1, 10_000);
        let band_height =
            ((i64::from(envelope.max_y) - i64::from(envelope.min_y)) / count as i64).max(1);
        let mut bands = vec![Vec::new(); count];
        let band_of = |y: i32| ((i64::from(y) - i64::from(envelope.min_y)) / band_height) as usize;
        for e in edges {
            let (lo, hi) = (e.0 .1.min(e.1 .1), e.0 .1.max(e.1 .1));
            for band in bands.iter_mut().take(band_of(hi) + 1).skip(band_of(lo)) {
                band.push(e);
            }
        }
        Some(Self {
            envelope,
            bands,
            band_height,
        })
    }

    /// osmium's `ExtractPolygon::contains`: inside the envelope, then a vertex of the ring, or
    /// an odd number of edges crossed by a ray towards +x.
    pub fn contains(&self, p: (i32, i32)) -> bool {
        if !self.envelope.contains(p) {
            return false;
        }
        let band = ((i64::from(p.1) - i64::from(self.envelope.min_y)) / self.band_height) as usize;
        let mut inside = false;
        for &(first, second) in &self.bands[band.min(self.bands.len() - 1)] {
            if first == p || second == p {
                return true;
            }
            if (second.1 > p.1) != (first.1 > p.1) {
                let ax = i64::from(first.0) - i64::from(second.0);
                let ay = i64::from(first.1) - i64::from(second.1);
                let tx = i64::from(p.0) - i64::from(second.0);
                let ty = i64::from(p.1) - i64::from(second.1);
                if (ay > 0) == (tx * ay < ax * ty) {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

/// osmium's `complete_ways`: a way with any node inside is kept whole, nodes outside included.
pub fn keeps_whole_way(nodes: &[i64], inside: impl Fn(i64) -> bool) -> bool {
    nodes.iter().any(|&n| inside(n))
}

/// `osmconvert -b --drop-broken-refs` on one way: `None` (dropped) when no node is inside,
/// else exactly its nodes inside, in order. A way that leaves the box and comes back is joined
/// straight across the gap, and a way left with one node is still written: osm2pgrouting
/// then makes no edge of it but counts its node as used, which can split a crossing way.
pub fn cut_way(nodes: &[i64], inside: impl Fn(i64) -> bool) -> Option<Vec<i64>> {
    let kept: Vec<i64> = nodes.iter().copied().filter(|&n| inside(n)).collect();
    (!kept.is_empty()).then_some(kept)
}

/// Both cuts, for one boundary and the bounding box of its kept census blocks.
#[derive(Debug, Clone)]
pub struct ReferenceClip {
    polygon: FixedPolygon,
    bbox: FixedBox,
}

impl ReferenceClip {
    /// `None` when the boundary has no ring (a validated boundary always has one).
    pub fn new(boundary_ll: &MultiPolygon<f64>, blocks_bbox_ll: Rect<f64>) -> Option<Self> {
        Some(Self {
            polygon: FixedPolygon::new(boundary_ll)?,
            bbox: FixedBox::osmconvert(blocks_bbox_ll),
        })
    }

    pub fn bbox(&self) -> FixedBox {
        self.bbox
    }

    /// Runs both cuts over the file's nodes and ways (every way's node list, whatever its
    /// tags: the tools do not look at tags).
    pub fn cut<'a>(
        &self,
        coords: &HashMap<i64, Coord<f64>>,
        ways: impl Iterator<Item = &'a [i64]>,
    ) -> Cut {
        let in_polygon: HashSet<i64> = coords
            .iter()
            .filter(|(_, c)| self.polygon.contains(fixed_coord(**c)))
            .map(|(id, _)| *id)
            .collect();
        let mut after_osmium = in_polygon.clone();
        for nodes in ways {
            if keeps_whole_way(nodes, |n| in_polygon.contains(&n)) {
                after_osmium.extend(nodes.iter().copied());
            }
        }
        let kept = after_osmium
            .into_iter()
            .filter(|id| {
                coords
                    .get(id)
                    .is_some_and(|c| self.bbox.contains(fixed_coord(*c)))
            })
            .collect();
        Cut { in_polygon, kept }
    }
}

/// What both cuts left of one file.
#[derive(Debug, Clone)]
pub struct Cut {
    /// Nodes inside the boundary polygon (what osmium's step keeps ways for).
    in_polygon: HashSet<i64>,
    /// Nodes left after both steps.
    kept: HashSet<i64>,
}

impl Cut {
    pub fn keeps_node(&self, id: i64) -> bool {
        self.kept.contains(&id)
    }

    /// One way through both cuts: `None` when either drops it, else its remaining nodes.
    pub fn way(&self, nodes: &[i64]) -> Option<Vec<i64>> {
        if !keeps_whole_way(nodes, |n| self.in_polygon.contains(&n)) {
            return None;
        }
        cut_way(nodes, |n| self.kept.contains(&n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Polygon};

    fn square() -> MultiPolygon<f64> {
        // 0..1° square with a 0.4..0.6° hole.
        let p: Polygon<f64> = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 0.4, y: 0.4), (x: 0.6, y: 0.4), (x: 0.6, y: 0.6), (x: 0.4, y: 0.6), (x: 0.4, y: 0.4)]],
        );
        MultiPolygon(vec![p])
    }

    #[test]
    fn polygon_test_is_osmiums() {
        let poly = FixedPolygon::new(&square()).unwrap();
        let f = |x: f64, y: f64| (fixed(x), fixed(y));
        // (point, inside)
        let cases = [
            (f(0.5, 0.2), true),
            (f(0.5, 0.5), false), // in the hole
            (f(1.5, 0.5), false),
            (f(0.0, 0.0), true), // a vertex
            (f(0.4, 0.4), true), // a vertex of the hole
            (f(-0.0000001, 0.5), false),
            (f(0.9999999, 0.9999999), true),
            (f(0.5, 1.0000001), false),
        ];
        for (p, want) in cases {
            assert_eq!(poly.contains(p), want, "{p:?}");
        }
    }

    #[test]
    fn osmconvert_box_truncates_toward_zero_and_includes_its_edges() {
        let r = Rect::new(
            Coord {
                x: -77.03670705,
                y: 38.91914499,
            },
            Coord {
                x: -77.01780709,
                y: 38.93742709,
            },
        );
        let b = FixedBox::osmconvert(r);
        assert_eq!(
            (b.min_x, b.min_y, b.max_x, b.max_y),
            (-770367070, 389191449, -770178070, 389374270)
        );
        assert_eq!(
            b.to_degrees_text(),
            "-77.0367070,38.9191449,-77.0178070,38.9374270"
        );
        let cases = [
            ((-770367070, 389191449), true),
            ((-770367071, 389191449), false),
            ((-770178070, 389374270), true),
            ((-770178069, 389300000), false),
        ];
        for (p, want) in cases {
            assert_eq!(b.contains(p), want, "{p:?}");
        }
    }

    #[test]
    fn the_clip_rule_for_one_way() {
        let inside = |n: i64| n < 10;
        // (way, after `osmconvert --drop-broken-refs`)
        let cases: [(&[i64], Option<Vec<i64>>); 6] = [
            (&[1, 2, 3], Some(vec![1, 2, 3])),   // inside
            (&[1, 2, 11, 12], Some(vec![1, 2])), // crossing: cut at the box
            (&[11, 1, 2, 12], Some(vec![1, 2])), // crossing twice
            (&[1, 11, 2], Some(vec![1, 2])),     // out and back: joined across the gap
            (&[11, 12, 13], None),               // outside: dropped
            (&[11, 5, 12], Some(vec![5])),       // left with one node: written, no edge
        ];
        for (way, want) in cases {
            assert_eq!(cut_way(way, inside), want, "{way:?}");
        }
        // osmium keeps a way with any node inside whole.
        let whole: [(&[i64], bool); 3] = [(&[11, 5, 12], true), (&[11, 12], false), (&[], false)];
        for (way, want) in whole {
            assert_eq!(keeps_whole_way(way, inside), want, "{way:?}");
        }
    }

    #[test]
    fn both_cuts_keep_what_the_reference_keeps() {
        // Nodes: 1 inside the polygon; 2 outside the polygon but inside the box; 3 outside both;
        // 4 inside the box, outside the polygon, on no way kept by step 1.
        let c = |x: f64, y: f64| Coord { x, y };
        let coords: HashMap<i64, Coord<f64>> = [
            (1, c(0.5, 0.2)),
            (2, c(1.05, 0.2)),
            (3, c(3.0, 0.2)),
            (4, c(1.05, 0.8)),
        ]
        .into();
        let bbox = Rect::new(c(0.0, 0.0), c(1.1, 1.0));
        let clip = ReferenceClip::new(&square(), bbox).unwrap();
        let ways: Vec<Vec<i64>> = vec![vec![1, 2, 3], vec![4, 3]];
        let cut = clip.cut(&coords, ways.iter().map(|w| w.as_slice()));
        let kept: Vec<bool> = (1..=4).map(|n| cut.keeps_node(n)).collect();
        assert_eq!(kept, [true, true, false, false]);
        assert_eq!(cut.way(&ways[0]), Some(vec![1, 2]));
        assert_eq!(cut.way(&ways[1]), None);
    }
}
