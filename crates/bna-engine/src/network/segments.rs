//! Splitting OSM ways into routable segments and intersections (spec §3.2), clipping them to
//! boundary ⊕ 2680 m (§1 step 11), classifying them (§3.3) and removing orphans.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use geo::{Coord, Distance, Euclidean, Intersects, LineString, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::{RTree, AABB};

use crate::ingest::osm::{OsmExtract, OsmWay};
use crate::model::{
    Intersection, IntersectionFlags, Segment, SegmentAttributes, SegmentStress, Tags,
};
use crate::spatial::Projection;

/// Node use counts as osm2pgrouting computes them: one per reference in an imported way,
/// plus two for a node whose own tags match the import config (`highway=motorway_junction`).
///
/// Deviation (documented): only imported highway ways count, as in bikescore-bna, because the
/// reference's osm2pgrouting 3.0 behaviour for non-highway ways is unverified (§3.2).
pub fn node_use_counts(ways: &[OsmWay], control_nodes: &HashMap<i64, Tags>) -> HashMap<i64, u32> {
    use_counts(ways, control_nodes)
}

fn use_counts<S: BuildHasher + Default>(
    ways: &[OsmWay],
    control_nodes: &HashMap<i64, Tags>,
) -> HashMap<i64, u32, S> {
    let mut counts: HashMap<i64, u32, S> = HashMap::default();
    for w in ways {
        for n in &w.nodes {
            *counts.entry(*n).or_default() += 1;
        }
    }
    for (id, tags) in control_nodes {
        if tags
            .get("highway")
            .is_some_and(|h| h == "motorway_junction")
        {
            if let Some(c) = counts.get_mut(id) {
                *c += 2;
            }
        }
    }
    counts
}

/// Cuts a way after every interior node used more than once. Pieces of fewer than two nodes are
/// dropped.
pub fn split_way<S: BuildHasher>(nodes: &[i64], counts: &HashMap<i64, u32, S>) -> Vec<Vec<i64>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 1..nodes.len() {
        let last = i == nodes.len() - 1;
        if last || counts.get(&nodes[i]).copied().unwrap_or(0) > 1 {
            if i > start {
                pieces.push(nodes[start..=i].to_vec());
            }
            start = i;
        }
    }
    pieces
}

/// Keeps the nodes present in the extract: a way that leaves a clipped extract is truncated at
/// its first missing node (what `osmconvert --drop-broken-refs` does upstream).
fn present_prefix<'a>(nodes: &'a [i64], coords: &HashMap<i64, Coord<f64>>) -> &'a [i64] {
    let end = nodes
        .iter()
        .position(|n| !coords.contains_key(n))
        .unwrap_or(nodes.len());
    &nodes[..end]
}

pub struct NetworkBuild {
    pub segments: Vec<Segment>,
    pub intersections: Vec<Intersection>,
    /// Segments dropped because they got no functional class or were orphans (for reporting).
    pub unclassified_dropped: usize,
    pub orphans_dropped: usize,
}

struct Piece {
    way: usize,
    nodes: Vec<i64>,
    geom_ll: LineString<f64>,
    geom: LineString<f64>,
}

/// Builds segments and intersections from the extract. `classify` derives attributes from a
/// way's tags (None = not part of the network); it is passed in so this module holds only the
/// topology rules.
pub fn build_network(
    extract: &OsmExtract,
    proj: &Projection,
    boundary: &MultiPolygon<f64>,
    buffer_m: f64,
    classify: impl Fn(&Tags) -> Option<SegmentAttributes> + Sync,
) -> NetworkBuild {
    let counts: HashMap<i64, u32, IdHash> =
        use_counts(&extract.highway_ways, &extract.control_nodes);
    let coords = &extract.node_coords;

    let mut raw: Vec<(usize, Vec<i64>)> = extract
        .highway_ways
        .iter()
        .enumerate()
        .flat_map(|(wi, w)| {
            split_way(present_prefix(&w.nodes, coords), &counts)
                .into_iter()
                .map(move |piece| (wi, piece))
        })
        .collect();
    // Identical geometry (same nodes, same order) is imported once (§3.2): the first wins.
    let first: Vec<bool> = {
        let mut seen: HashSet<&[i64], IdHash> =
            HashSet::with_capacity_and_hasher(raw.len(), IdHash::default());
        raw.iter().map(|(_, p)| seen.insert(p.as_slice())).collect()
    };
    let mut first = first.into_iter();
    raw.retain(|_| first.next().unwrap_or(false));

    let boundary_rect = geo::BoundingRect::bounding_rect(boundary);
    let window_ll = lon_lat_window(&proj.unproject(boundary), buffer_m);
    let reach = BoundaryReach::new(boundary, buffer_m);
    let pieces: Vec<Piece> = raw
        .into_par_iter()
        .filter_map(|(way, nodes)| {
            let (Some(r), Some(window)) = (boundary_rect, window_ll) else {
                return None;
            };
            let ll: Vec<Coord<f64>> = nodes.iter().map(|n| coords[n]).collect();
            let geom_ll = LineString::new(ll);
            // Most of an extract is far from the boundary: reject it before projecting.
            if !window.intersects(&geo::BoundingRect::bounding_rect(&geom_ll)?) {
                return None;
            }
            let geom = proj.project(&geom_ll);
            let seg_rect = geo::BoundingRect::bounding_rect(&geom)?;
            let near = rect_gap(&r, &seg_rect) <= buffer_m && reach.reaches(&geom);
            near.then_some(Piece {
                way,
                nodes,
                geom_ll,
                geom,
            })
        })
        .collect();

    let attrs: Vec<Option<SegmentAttributes>> = extract
        .highway_ways
        .par_iter()
        .map(|w| classify(&w.tags))
        .collect();
    let before = pieces.len();
    let classified: Vec<Piece> = pieces
        .into_iter()
        .filter(|p| attrs[p.way].is_some())
        .collect();
    let unclassified_dropped = before - classified.len();

    // Orphans: neither endpoint shared with another remaining segment (a one-hop check, §3.3).
    let mut touching: HashMap<i64, u32, IdHash> = HashMap::default();
    for p in &classified {
        let (a, b) = (p.nodes[0], *p.nodes.last().expect("≥2 nodes"));
        *touching.entry(a).or_default() += 1;
        if b != a {
            *touching.entry(b).or_default() += 1;
        }
    }
    let before = classified.len();
    let kept: Vec<Piece> = classified
        .into_iter()
        .filter(|p| {
            let (a, b) = (p.nodes[0], *p.nodes.last().expect("≥2 nodes"));
            touching[&a] > 1 || touching[&b] > 1
        })
        .collect();
    let orphans_dropped = before - kept.len();

    let mut int_index: HashMap<i64, u32, IdHash> = HashMap::default();
    let mut intersections: Vec<Intersection> = Vec::new();
    let mut intersection_of = |node: i64| -> u32 {
        *int_index.entry(node).or_insert_with(|| {
            let ll = coords[&node];
            intersections.push(Intersection {
                int_id: intersections.len() as u32,
                osm_id: node,
                point: Point::from(proj.forward(ll)),
                point_ll: Point::from(ll),
                flags: IntersectionFlags::default(),
            });
            (intersections.len() - 1) as u32
        })
    };
    let segments: Vec<Segment> = kept
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let w = &extract.highway_ways[p.way];
            Segment {
                road_id: i as u32,
                osm_id: w.id,
                name: w.tags.get("name").cloned(),
                intersection_from: intersection_of(p.nodes[0]),
                intersection_to: intersection_of(*p.nodes.last().expect("≥2 nodes")),
                geom: p.geom,
                geom_ll: p.geom_ll,
                tags: w.tags.clone(),
                attrs: attrs[p.way].clone().expect("filtered above"),
                stress: SegmentStress::default(),
                stress_rules: Default::default(),
                path_id: None,
            }
        })
        .collect();
    NetworkBuild {
        segments,
        intersections,
        unclassified_dropped,
        orphans_dropped,
    }
}

/// Multiplicative (Fx-style) hashing for OSM ids and node lists. std's SipHash resists
/// adversarial keys, which a local extract does not need, and it was the larger part of
/// splitting a city's ways.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdHash = BuildHasherDefault<IdHasher>;

/// `Euclidean.distance(line, boundary) <= buffer` without comparing every segment of the line
/// with every edge of the boundary: a detailed boundary (a union of census tracts has
/// hundreds of vertices) made that O(segments · edges) test the slowest part of reading OSM.
struct BoundaryReach<'a> {
    boundary: &'a MultiPolygon<f64>,
    /// Every ring edge (exteriors and holes) of the boundary.
    edges: RTree<rstar::primitives::Line<[f64; 2]>>,
    buffer: f64,
}

impl<'a> BoundaryReach<'a> {
    fn new(boundary: &'a MultiPolygon<f64>, buffer: f64) -> Self {
        let edges = boundary
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines())
            .map(|l| rstar::primitives::Line::new([l.start.x, l.start.y], [l.end.x, l.end.y]))
            .collect();
        Self {
            boundary,
            edges: RTree::bulk_load(edges),
            buffer,
        }
    }

    /// Outside the boundary, the distance from a line to the area is its distance to the
    /// nearest ring edge; so the line is within reach when some edge is, or when it lies inside.
    fn reaches(&self, line: &LineString<f64>) -> bool {
        let b = self.buffer;
        for seg in line.lines() {
            let (lo, hi) = (
                [
                    seg.start.x.min(seg.end.x) - b,
                    seg.start.y.min(seg.end.y) - b,
                ],
                [
                    seg.start.x.max(seg.end.x) + b,
                    seg.start.y.max(seg.end.y) + b,
                ],
            );
            let near_edge = self
                .edges
                .locate_in_envelope_intersecting(&AABB::from_corners(lo, hi))
                .any(|e| {
                    let edge = geo::Line::new(Coord::from(e.from), Coord::from(e.to));
                    Euclidean.distance(&seg, &edge) <= b
                });
            if near_edge {
                return true;
            }
        }
        // No edge within reach of any segment, so the line does not cross the boundary: it is
        // wholly inside (distance 0) or wholly outside and farther than the buffer.
        line.0.first().is_some_and(|c| self.boundary.intersects(c))
    }
}

/// A lon/lat rectangle holding every point within `buffer_m` of `boundary_ll`, with twice the
/// margin needed: a degree of latitude is at least 110.574 km and a degree of longitude at
/// least 111.32 km × cos(latitude), and the factor 2 covers the projection's scale error
/// (under 0.1 % inside a UTM zone, a few percent well outside it).
fn lon_lat_window(boundary_ll: &MultiPolygon<f64>, buffer_m: f64) -> Option<geo::Rect<f64>> {
    let r = geo::BoundingRect::bounding_rect(boundary_ll)?;
    let dlat = 2.0 * buffer_m / 110_574.0;
    let max_abs_lat = (r.min().y.abs().max(r.max().y.abs()) + dlat).min(89.0);
    let dlon = 2.0 * buffer_m / (111_320.0 * max_abs_lat.to_radians().cos());
    Some(geo::Rect::new(
        Coord {
            x: r.min().x - dlon,
            y: r.min().y - dlat,
        },
        Coord {
            x: r.max().x + dlon,
            y: r.max().y + dlat,
        },
    ))
}

/// Distance between two rectangles (0 when they overlap): a cheap lower bound that skips the
/// exact distance for far-away segments.
fn rect_gap(a: &geo::Rect<f64>, b: &geo::Rect<f64>) -> f64 {
    let dx = (a.min().x - b.max().x).max(b.min().x - a.max().x).max(0.0);
    let dy = (a.min().y - b.max().y).max(b.min().y - a.max().y).max(0.0);
    dx.hypot(dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(ways: &[&[i64]]) -> HashMap<i64, u32> {
        let ways: Vec<OsmWay> = ways
            .iter()
            .enumerate()
            .map(|(i, n)| OsmWay {
                id: i as i64,
                nodes: n.to_vec(),
                tags: Tags::new(),
            })
            .collect();
        node_use_counts(&ways, &HashMap::new())
    }

    #[test]
    fn splits_at_shared_interior_nodes_only() {
        // Way A 1-2-3-4-5 crossed at 3 by way B 6-3-7; node 5 is A's end, shared with nothing.
        let c = counts(&[&[1, 2, 3, 4, 5], &[6, 3, 7]]);
        assert_eq!(
            split_way(&[1, 2, 3, 4, 5], &c),
            vec![vec![1, 2, 3], vec![3, 4, 5]]
        );
        assert_eq!(split_way(&[6, 3, 7], &c), vec![vec![6, 3], vec![3, 7]]);
    }

    #[test]
    fn closed_way_counts_its_start_twice_but_is_not_split_there() {
        let c = counts(&[&[1, 2, 3, 1]]);
        assert_eq!(c[&1], 2);
        assert_eq!(split_way(&[1, 2, 3, 1], &c), vec![vec![1, 2, 3, 1]]);
    }

    #[test]
    fn motorway_junction_node_always_splits() {
        let ways = vec![OsmWay {
            id: 1,
            nodes: vec![1, 2, 3],
            tags: Tags::new(),
        }];
        let mut control = HashMap::new();
        control.insert(
            2,
            Tags::from([("highway".to_owned(), "motorway_junction".to_owned())]),
        );
        let c = node_use_counts(&ways, &control);
        assert_eq!(split_way(&[1, 2, 3], &c), vec![vec![1, 2], vec![2, 3]]);
    }

    #[test]
    fn truncates_at_first_missing_node() {
        let coords: HashMap<i64, Coord<f64>> =
            [(1, Coord { x: 0.0, y: 0.0 }), (2, Coord { x: 1.0, y: 0.0 })].into();
        assert_eq!(present_prefix(&[1, 2, 3, 1], &coords), &[1, 2]);
    }

    #[test]
    fn rect_gap_is_zero_on_overlap_and_euclidean_apart() {
        let a = geo::Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 1.0, y: 1.0 });
        let b = geo::Rect::new(Coord { x: 4.0, y: 5.0 }, Coord { x: 6.0, y: 6.0 });
        assert_eq!(rect_gap(&a, &a), 0.0);
        assert!((rect_gap(&a, &b) - 5.0).abs() < 1e-12);
    }
}
