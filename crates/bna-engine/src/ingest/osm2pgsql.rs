//! What osm2pgsql 1.8 with the reference's `scripts/pfb.style` makes of OSM objects, where
//! that decides what the reference sees (spec §2, §6.2):
//!
//! - a closed way with a tag the style flags `polygon` (or `area=yes`), and not `area=no`, is
//!   an area: it is written to the polygon table and *not* to the line table, so the
//!   reference's functional-class rules (which join the line table) never classify it;
//! - `type=multipolygon` and `type=boundary` relations are areas;
//! - an area osmium's assembler cannot build (rings that cross, a ring left open, no area) is
//!   written nowhere.
//!
//! Checked by running Debian's osm2pgsql 1.8.0 with `pfb.style` on crafted files
//! (`docs/methodology.md`, "Destinations: what osm2pgsql keeps").

use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{Coord, Line, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::Tags;

/// The keys `pfb.style` flags `polygon` for ways (`amenity`, `building`, … `operator`).
pub const WAY_POLYGON_KEYS: [&str; 10] = [
    "amenity",
    "building",
    "healthcare",
    "landuse",
    "leisure",
    "operator",
    "public_transport",
    "railway",
    "station",
    "shop",
];

/// osm2pgsql's C transform: a polygon-flagged key makes an area; `area=yes|1|true` forces
/// one and `area=no|0|false` forbids it (the `area` tag is read even though the style
/// does not list it).
pub fn way_tags_make_area(tags: &Tags) -> bool {
    match tags.get("area").map(String::as_str) {
        Some("yes" | "1" | "true") => true,
        Some("no" | "0" | "false") => false,
        _ => WAY_POLYGON_KEYS.iter().any(|k| tags.contains_key(*k)),
    }
}

/// osmium's `Way::is_closed`: the first and last node are the same node.
pub fn is_closed(nodes: &[i64]) -> bool {
    nodes.len() >= 2 && nodes.first() == nodes.last()
}

/// Whether osm2pgsql treats the way as an area, so that it is not in the line table.
pub fn way_is_area(nodes: &[i64], tags: &Tags) -> bool {
    is_closed(nodes) && way_tags_make_area(tags)
}

/// Relations osm2pgsql assembles into areas.
pub fn relation_is_area(tags: &Tags) -> bool {
    tags.get("type")
        .is_some_and(|t| t == "multipolygon" || t == "boundary")
}

/// Whether osmium's area assembler (what osm2pgsql 1.8 uses for ways and relations alike)
/// builds this area: every ring keeps at least three distinct corners and some area once
/// repeated points are dropped, and no two edges of any rings cross. Rings touching at a
/// corner are fine, and so are edges running back over themselves (spikes), which osmium
/// removes.
pub fn area_is_valid(area: &MultiPolygon<f64>) -> bool {
    let mut edges: Vec<Line<f64>> = Vec::new();
    for polygon in area {
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            let mut pts: Vec<Coord<f64>> = ring.0.clone();
            pts.dedup();
            if pts.len() < 4 || pts.first() != pts.last() || ring_area_is_zero(&pts) {
                return false;
            }
            edges.extend(pts.windows(2).map(|w| Line::new(w[0], w[1])));
        }
    }
    !any_edges_cross(&edges)
}

/// Twice the signed area, measured from the first corner so that lon/lat magnitudes do not
/// swamp a small ring; OSM's 1e-7° grid makes any real ring's area far above the threshold.
fn ring_area_is_zero(pts: &[Coord<f64>]) -> bool {
    let o = pts[0];
    let twice: f64 = pts
        .windows(2)
        .map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y))
        .sum();
    twice.abs() < 1e-15
}

fn any_edges_cross(edges: &[Line<f64>]) -> bool {
    let envelope = |l: &Line<f64>| {
        AABB::from_corners(
            [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
            [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
        )
    };
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(
        edges
            .iter()
            .enumerate()
            .map(|(i, l)| GeomWithData::new(Rectangle::from_aabb(envelope(l)), i))
            .collect(),
    );
    edges.iter().enumerate().any(|(i, a)| {
        tree.locate_in_envelope_intersecting(&envelope(a))
            .filter(|c| c.data > i)
            .any(|c| {
                matches!(
                    line_intersection(*a, edges[c.data]),
                    Some(LineIntersection::SinglePoint {
                        is_proper: true,
                        ..
                    })
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon};

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Each row is one object of the crafted file osm2pgsql 1.8.0 was run on, with where it
    /// put it (polygon table or not).
    #[test]
    fn closed_ways_are_areas_as_for_osm2pgsql() {
        let cases: [(&[(&str, &str)], bool); 11] = [
            (&[("leisure", "park")], true),
            (&[("leisure", "park"), ("area", "no")], false),
            (&[("amenity", "college"), ("area", "no")], false),
            (&[("highway", "service"), ("amenity", "parking")], true),
            (&[("highway", "pedestrian"), ("area", "yes")], true),
            (&[("highway", "service"), ("area", "yes")], true),
            (&[("highway", "footway"), ("landuse", "grass")], true),
            (&[("highway", "footway"), ("leisure", "park")], true),
            (&[("highway", "residential")], false),
            (&[("building", "yes"), ("amenity", "university")], true),
            (&[("highway", "service"), ("operator", "X")], true),
        ];
        for (t, area) in cases {
            assert_eq!(way_is_area(&[1, 2, 3, 1], &tags(t)), area, "{t:?}");
            assert!(!way_is_area(&[1, 2, 3], &tags(t)), "open: {t:?}");
        }
        assert!(relation_is_area(&tags(&[("type", "boundary")])));
        assert!(relation_is_area(&tags(&[("type", "multipolygon")])));
        assert!(!relation_is_area(&tags(&[("type", "route")])));
    }

    fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
        let mut c: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
        c.push(c[0]);
        LineString::new(c)
    }

    fn mp(rings: &[(LineString<f64>, Vec<LineString<f64>>)]) -> MultiPolygon<f64> {
        MultiPolygon::new(
            rings
                .iter()
                .map(|(o, i)| Polygon::new(o.clone(), i.clone()))
                .collect(),
        )
    }

    /// The shapes osm2pgsql 1.8.0 kept or dropped in the crafted file (lon/lat, 0.002° sides).
    #[test]
    fn invalid_areas_are_dropped_as_by_osmium() {
        let (x, y, s) = (-77.0, 38.8, 0.002);
        let square = |x: f64, y: f64| ring(&[(x, y), (x + s, y), (x + s, y + s), (x, y + s)]);
        let cases: Vec<(&str, MultiPolygon<f64>, bool)> = vec![
            ("square", mp(&[(square(x, y), vec![])]), true),
            (
                "repeated corner",
                mp(&[(
                    ring(&[(x, y), (x + s, y), (x + s, y), (x + s, y + s), (x, y + s)]),
                    vec![],
                )]),
                true,
            ),
            (
                "bow tie",
                mp(&[(
                    ring(&[(x, y), (x + s, y + s), (x + s, y), (x, y + s)]),
                    vec![],
                )]),
                false,
            ),
            (
                "spike",
                mp(&[(
                    ring(&[
                        (x, y),
                        (x + s, y),
                        (x + 2.0 * s, y + s / 2.0),
                        (x + s, y),
                        (x + s, y + s),
                        (x, y + s),
                    ]),
                    vec![],
                )]),
                true,
            ),
            (
                "collinear, no area",
                mp(&[(ring(&[(x, y), (x + s / 2.0, y), (x + s, y)]), vec![])]),
                false,
            ),
            (
                "two outers overlapping",
                mp(&[
                    (square(x, y), vec![]),
                    (square(x + s / 2.0, y + s / 2.0), vec![]),
                ]),
                false,
            ),
            (
                "inner partly outside",
                mp(&[(square(x, y), vec![square(x + s / 2.0, y + s / 2.0)])]),
                false,
            ),
            (
                "two outers touching at a corner",
                mp(&[(square(x, y), vec![]), (square(x + s, y + s), vec![])]),
                true,
            ),
        ];
        for (what, area, valid) in cases {
            assert_eq!(area_is_valid(&area), valid, "{what}");
        }
    }
}
