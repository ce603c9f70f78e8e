//! Splitting OSM ways into routable segments and intersections (spec §3.2), clipping them to
//! boundary ⊕ 2680 m (§1 step 11), classifying them (§3.3) and removing orphans.

use std::collections::HashMap;
use std::hash::BuildHasher;

use geo::{Coord, Distance, Euclidean, Intersects, LineString, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::{RTree, AABB};

use crate::ingest::node_uses::IdHash;
use crate::ingest::osm::OsmExtract;
use crate::ingest::osm2pgsql;
use crate::model::{
    Intersection, IntersectionFlags, Segment, SegmentAttributes, SegmentStress, Tags,
};
use crate::spatial::Projection;

/// Cuts a way after every interior node used more than once (`Way::split_me` of
/// osm2pgrouting 2.3.8; `counts` from `ingest::node_uses`). Pieces of fewer than two nodes are
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
    let counts = &extract.node_uses;
    let coords = &extract.node_coords;

    let mut raw: Vec<(usize, Vec<i64>)> = extract
        .highway_ways
        .iter()
        .enumerate()
        .flat_map(|(wi, w)| {
            split_way(present_prefix(&w.nodes, coords), counts)
                .into_iter()
                .map(move |piece| (wi, piece))
        })
        .collect();
    // Identical geometry (same nodes, same order): osm2pgrouting deletes a piece identical to
    // one an earlier export chunk inserted, and keeps identical pieces of one chunk (§3.2,
    // `ingest::node_uses::export_chunks`).
    let chunk = |wi: usize| {
        let id = extract.highway_ways[wi].id;
        extract.way_chunks.get(&id).copied().unwrap_or(0)
    };
    let keep: Vec<bool> = {
        let mut first_chunk: HashMap<&[i64], u32, IdHash> =
            HashMap::with_capacity_and_hasher(raw.len(), IdHash::default());
        for (wi, p) in &raw {
            let c = first_chunk.entry(p.as_slice()).or_insert(u32::MAX);
            *c = (*c).min(chunk(*wi));
        }
        raw.iter()
            .map(|(wi, p)| first_chunk[p.as_slice()] == chunk(*wi))
            .collect()
    };
    let mut keep = keep.into_iter();
    raw.retain(|_| keep.next().unwrap_or(false));

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

    // A closed way that osm2pgsql stores as an area is missing from the line table that the
    // reference's functional-class rules join, so it gets no class (spec §2).
    let attrs: Vec<Option<SegmentAttributes>> = extract
        .highway_ways
        .par_iter()
        .map(|w| {
            if osm2pgsql::way_is_area(&w.nodes, &w.tags) {
                None
            } else {
                classify(&w.tags)
            }
        })
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
    use crate::ingest::node_uses::count_node_uses;
    use crate::ingest::osm::OsmWay;
    use std::collections::HashSet;
    use std::path::Path;

    /// Use counts when every way given is a highway way.
    fn counts(ways: &[&[i64]]) -> HashMap<i64, u32, IdHash> {
        count_node_uses(ways.iter().copied(), ways.iter().copied(), &HashSet::new())
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
        let way: &[i64] = &[1, 2, 3];
        let c = count_node_uses(
            std::iter::once(way),
            std::iter::once(way),
            &HashSet::from([2]),
        );
        assert_eq!(split_way(&[1, 2, 3], &c), vec![vec![1, 2], vec![2, 3]]);
    }

    /// `bna`'s segments of an OSM file in `tests/fixtures/osm2pgrouting-split/`, as the
    /// `osm_id,source_osm,target_osm` lines of osm2pgrouting's `ways` table, next to the lines
    /// of osm2pgrouting 2.3.8's own output for that file (`expected`), both sorted.
    fn pieces_and_osm2pgrouting(file: &str, expected: &str) -> (Vec<String>, Vec<String>) {
        use crate::progress::Counter;
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/osm2pgrouting-split");
        let x = crate::ingest::osm::read_osm(&dir.join(file), &Counter::default()).unwrap();
        let r = x.bbox_ll.unwrap();
        let c = |x: f64, y: f64| Coord { x, y };
        let (lo, hi) = (r.min(), r.max());
        let boundary_ll = MultiPolygon::new(vec![geo::Polygon::new(
            LineString::new(vec![
                c(lo.x - 0.001, lo.y - 0.001),
                c(hi.x + 0.001, lo.y - 0.001),
                c(hi.x + 0.001, hi.y + 0.001),
                c(lo.x - 0.001, hi.y + 0.001),
                c(lo.x - 0.001, lo.y - 0.001),
            ]),
            vec![],
        )]);
        let proj = Projection::for_boundary(&boundary_ll).unwrap();
        let built = build_network(
            &x,
            &proj,
            &proj.project(&boundary_ll),
            2680.0,
            crate::network::attributes::derive_attributes,
        );
        let node = |i: u32| built.intersections[i as usize].osm_id;
        let mut got: Vec<String> = built
            .segments
            .iter()
            .map(|s| {
                let (a, b) = (node(s.intersection_from), node(s.intersection_to));
                format!("{},{a},{b}", s.osm_id)
            })
            .collect();
        got.sort();
        let want = std::fs::read_to_string(dir.join(expected)).unwrap();
        let mut want: Vec<String> = want.lines().skip(1).map(String::from).collect();
        want.sort();
        (got, want)
    }

    /// `crafted.osm`: roads cut where they share a node with a building, a landuse area, a
    /// `highway=construction` way, an untagged way, a gate way left with one node, and at a
    /// node tagged `highway=services`; not at a `highway=traffic_signals` node of one road.
    #[test]
    fn splits_like_osm2pgrouting_at_nodes_shared_with_any_way() {
        let (got, want) = pieces_and_osm2pgrouting("crafted.osm", "ways.csv");
        assert_eq!(got, want);
    }

    /// `chunks.osm.gz`: three identical roads, ways 1 and 2 in osm2pgrouting's first export
    /// chunk of 20,000 ways (both kept) and way 30000 in the second (deleted as a duplicate).
    #[test]
    fn identical_pieces_are_dropped_only_across_export_chunks() {
        let (got, want) = pieces_and_osm2pgrouting("chunks.osm.gz", "chunks-ways.csv");
        assert_eq!(got, want);
    }

    /// A closed highway way that osm2pgsql stores as an area (a pedestrian plaza with
    /// `area=yes`, a parking lot's service loop) is not in its line table, so the reference
    /// never classifies it; the same way open, or closed without such a tag, is classified.
    #[test]
    fn closed_highway_areas_get_no_class() {
        let tags = |pairs: &[(&str, &str)]| -> Tags {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let plaza = [
            ("highway", "pedestrian"),
            ("bicycle", "yes"),
            ("area", "yes"),
        ];
        let parking = [
            ("highway", "service"),
            ("bicycle", "yes"),
            ("amenity", "parking"),
        ];
        /// Tags, closed, classified.
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, bool);
        let cases: [Case; 5] = [
            (&plaza, true, false),
            (&plaza, false, true),
            (&parking, true, false),
            (&[("highway", "pedestrian"), ("bicycle", "yes")], true, true),
            (&[("highway", "residential"), ("area", "no")], true, true),
        ];
        for (t, closed, classified) in cases {
            let mut x = OsmExtract::default();
            // A square of 100 m sides (0.001°) and a road meeting it at node 1, so that the
            // way is no orphan.
            for (id, lon, lat) in [
                (1, 0.0, 0.0),
                (2, 0.001, 0.0),
                (3, 0.001, 0.001),
                (4, 0.0, 0.001),
                (5, -0.001, 0.0),
            ] {
                x.node_coords.insert(id, Coord { x: lon, y: lat });
            }
            let square = if closed {
                vec![1, 2, 3, 4, 1]
            } else {
                vec![1, 2, 3, 4]
            };
            x.highway_ways = vec![
                OsmWay {
                    id: 10,
                    nodes: square,
                    tags: tags(t),
                },
                OsmWay {
                    id: 11,
                    nodes: vec![5, 1],
                    tags: tags(&[("highway", "residential")]),
                },
            ];
            let refs = x.highway_ways.iter().map(|w| w.nodes.as_slice());
            x.node_uses = count_node_uses(refs.clone(), refs, &HashSet::new());
            let c = |x: f64, y: f64| Coord { x, y };
            let boundary_ll = MultiPolygon::new(vec![geo::Polygon::new(
                LineString::new(vec![
                    c(-0.01, -0.01),
                    c(0.01, -0.01),
                    c(0.01, 0.01),
                    c(-0.01, 0.01),
                    c(-0.01, -0.01),
                ]),
                vec![],
            )]);
            let proj = Projection::for_boundary(&boundary_ll).unwrap();
            let built = build_network(
                &x,
                &proj,
                &proj.project(&boundary_ll),
                2680.0,
                crate::network::attributes::derive_attributes,
            );
            assert_eq!(
                built.segments.iter().any(|s| s.osm_id == 10),
                classified,
                "{t:?}, closed: {closed}"
            );
        }
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
