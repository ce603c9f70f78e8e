//! Destinations (spec §6.2): classify OSM points and areas into the 13 categories, deduplicate
//! or cluster them the way `sql/connectivity/destinations/*.sql` does, and record the census
//! blocks each destination lies in.
//!
//! Deliberate parity choices (see the module tests for each):
//! - Multipolygon areas are exploded into one row per polygon part, because osm2pgsql runs
//!   without `--multi-geometry` and the SQL sees each part as its own row.
//! - "Drop polygons contained in another" uses `ST_Contains` semantics, so two *identical*
//!   polygons contain each other and both are dropped, exactly as the SQL `DELETE` does.
//! - The doctors/dentists/hospitals/pharmacies point insert has an OR-precedence bug
//!   (`A OR B AND NOT EXISTS(...)`): points matching the first tag are inserted even inside a
//!   clustered polygon. Replicated for parity.
//! - `transit` uses SQL three-valued logic for `NOT (railway = 'station' AND station =
//!   'miniature')`: a bare `public_transport=station` is *not* transit.

use std::collections::BTreeMap;

use geo::orient::Direction as Winding;
use geo::{
    BoundingRect, Centroid, Contains, Coord, Distance, Euclidean, Intersects, LineString,
    MultiPoint, MultiPolygon, Orient, Point, Polygon, Rect,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::{Block, Destination, DestinationCategory, OsmFeature, Tags};
use crate::params;

/// How a point matching a category's tag filter is deduplicated against the category's
/// polygons. `Unguarded` reproduces the OR-precedence bug: the point is inserted even when it
/// lies inside a polygon of the same category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointMatch {
    No,
    Guarded,
    Unguarded,
}

/// How a category turns its matching polygons and points into destinations (§6.2 table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dedup {
    /// One destination per polygon; polygons contained in another are dropped; points not
    /// intersecting a kept polygon are added (schools, supermarkets, social services).
    Separate,
    /// Polygons are grouped with `ST_ClusterWithin(tol)` and unioned; points not intersecting a
    /// cluster are added one by one.
    Clustered(f64),
    /// Polygons and 10 m point buffers are clustered together; no separate points.
    Retail,
    /// Polygons as `Separate`; points farther than the tolerance from every polygon are
    /// clustered with `ST_ClusterWithin(tol)`, one destination per cluster centroid.
    Transit(f64),
}

/// The dedup/cluster rule of a category.
pub fn dedup_rule(category: DestinationCategory) -> Dedup {
    use DestinationCategory as C;
    match category {
        C::Schools | C::Supermarkets | C::SocialServices => Dedup::Separate,
        C::Colleges => Dedup::Clustered(params::COLLEGES_CLUSTER_M),
        C::Universities => Dedup::Clustered(params::UNIVERSITIES_CLUSTER_M),
        C::Doctors | C::Dentists | C::Hospitals | C::Pharmacies => {
            Dedup::Clustered(params::HEALTH_CLUSTER_M)
        }
        C::Parks => Dedup::Clustered(params::PARKS_CLUSTER_M),
        C::CommunityCenters => Dedup::Clustered(params::COMMUNITY_CENTERS_CLUSTER_M),
        C::Retail => Dedup::Retail,
        C::Transit => Dedup::Transit(params::TRANSIT_CLUSTER_M),
    }
}

fn tag<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.get(key).map(String::as_str)
}

fn tag_in(tags: &Tags, key: &str, values: &[&str]) -> bool {
    tag(tags, key).is_some_and(|v| values.contains(&v))
}

/// `shop IS NOT NULL AND shop NOT IN ('no', 'supermarket')`.
fn is_retail_shop(tags: &Tags) -> bool {
    tag(tags, "shop").is_some_and(|v| v != "no" && v != "supermarket")
}

/// SQL `a = 'value'` in three-valued logic: NULL when the tag is absent.
fn sql_eq(tags: &Tags, key: &str, value: &str) -> Option<bool> {
    tag(tags, key).map(|v| v == value)
}

fn sql_and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// The transit `WHERE` clause (same for polygons and points). A NULL result excludes the row.
fn is_transit(tags: &Tags) -> bool {
    let amenity = tag_in(tags, "amenity", &["bus_station", "ferry_terminal"]);
    let rail_station = tag(tags, "railway") == Some("station");
    let not_miniature = tag(tags, "station") != Some("miniature");
    // `NOT (railway = 'station' AND station = 'miniature')` is TRUE only when one side is
    // known false; with both tags absent it is NULL and the row does not match.
    let miniature = sql_and(
        sql_eq(tags, "railway", "station"),
        sql_eq(tags, "station", "miniature"),
    );
    let pt_station = tag(tags, "public_transport") == Some("station") && miniature == Some(false);
    amenity || (rail_station && not_miniature) || pt_station
}

/// Does an OSM polygon with these tags belong to `category` (polygon filter of §6.2)?
pub fn polygon_matches(category: DestinationCategory, tags: &Tags) -> bool {
    use DestinationCategory as C;
    match category {
        C::Retail => {
            tag(tags, "landuse") == Some("retail")
                || tag(tags, "building") == Some("retail")
                || is_retail_shop(tags)
        }
        C::Transit => is_transit(tags),
        _ => point_matches(category, tags) != PointMatch::No,
    }
}

/// Does an OSM point with these tags belong to `category`, and is its polygon guard applied?
pub fn point_matches(category: DestinationCategory, tags: &Tags) -> PointMatch {
    use DestinationCategory as C;
    let guarded = |m: bool| {
        if m {
            PointMatch::Guarded
        } else {
            PointMatch::No
        }
    };
    // `first OR second AND NOT EXISTS(...)`: the first branch escapes the guard.
    let buggy = |first: bool, second: bool| {
        if first {
            PointMatch::Unguarded
        } else {
            guarded(second)
        }
    };
    match category {
        C::Schools => guarded(tag_in(tags, "amenity", &["school", "kindergarten"])),
        C::Colleges => guarded(tag(tags, "amenity") == Some("college")),
        C::Universities => guarded(tag(tags, "amenity") == Some("university")),
        C::Doctors => buggy(
            tag_in(tags, "amenity", &["clinic", "doctors"]),
            tag_in(tags, "healthcare", &["doctor", "doctors", "clinic"]),
        ),
        C::Dentists => buggy(
            tag(tags, "amenity") == Some("dentist"),
            tag(tags, "healthcare") == Some("dentist"),
        ),
        C::Hospitals => buggy(
            tag_in(tags, "amenity", &["hospital", "hospitals"]),
            tag(tags, "healthcare") == Some("hospital"),
        ),
        C::Pharmacies => buggy(
            tag(tags, "amenity") == Some("pharmacy"),
            tag(tags, "shop") == Some("chemist"),
        ),
        C::Supermarkets => guarded(tag(tags, "shop") == Some("supermarket")),
        C::SocialServices => guarded(tag(tags, "amenity") == Some("social_facility")),
        C::Parks => guarded(
            tag(tags, "amenity") == Some("park")
                || tag_in(tags, "leisure", &["park", "nature_reserve", "playground"]),
        ),
        C::CommunityCenters => guarded(tag_in(
            tags,
            "amenity",
            &["community_centre", "community_center"],
        )),
        C::Retail => guarded(is_retail_shop(tags)),
        C::Transit => guarded(is_transit(tags)),
    }
}

/// One destination before block assignment.
#[derive(Debug, Clone)]
struct Candidate {
    osm_id: Option<i64>,
    name: Option<String>,
    point: Point<f64>,
    polygon: Option<MultiPolygon<f64>>,
}

/// A polygon row of `neighborhood_osm_full_polygon` (one part of an area).
struct PolyRow<'a> {
    feature: &'a OsmFeature,
    poly: Polygon<f64>,
}

struct PointRow<'a> {
    feature: &'a OsmFeature,
    point: Point<f64>,
    guard: PointMatch,
}

fn name_of(f: &OsmFeature) -> Option<String> {
    f.tags.get("name").cloned()
}

fn aabb_of(rect: Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y])
}

fn expand(rect: Rect<f64>, by: f64) -> AABB<[f64; 2]> {
    AABB::from_corners(
        [rect.min().x - by, rect.min().y - by],
        [rect.max().x + by, rect.max().y + by],
    )
}

type Indexed = GeomWithData<Rectangle<[f64; 2]>, usize>;

fn index_rects(rects: &[Rect<f64>]) -> RTree<Indexed> {
    RTree::bulk_load(
        rects
            .iter()
            .enumerate()
            .map(|(i, r)| GeomWithData::new(Rectangle::from_aabb(aabb_of(*r)), i))
            .collect(),
    )
}

fn point_rect(p: Point<f64>) -> Rect<f64> {
    Rect::new(p.0, p.0)
}

fn poly_rect(p: &Polygon<f64>) -> Rect<f64> {
    p.bounding_rect()
        .unwrap_or_else(|| Rect::new(Coord::zero(), Coord::zero()))
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// `ST_ClusterWithin(geoms, tol)`: single-linkage groups of geometries whose distance is
/// ≤ `tol`. Groups are returned ordered by their first member, members ascending.
pub fn cluster_within(
    rects: &[Rect<f64>],
    tol: f64,
    distance: impl Fn(usize, usize) -> f64,
) -> Vec<Vec<usize>> {
    let tree = index_rects(rects);
    let mut parent: Vec<usize> = (0..rects.len()).collect();
    for (i, r) in rects.iter().enumerate() {
        for cand in tree.locate_in_envelope_intersecting(&expand(*r, tol)) {
            let j = cand.data;
            if j <= i || find(&mut parent, i) == find(&mut parent, j) {
                continue;
            }
            if distance(i, j) <= tol {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..rects.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

/// Indices of polygons that are contained in some *other* polygon of the list (`ST_Contains`
/// with `s.id != id`; identical twins contain each other, so both are dropped).
pub fn contained_in_another(polys: &[Polygon<f64>]) -> Vec<bool> {
    let rects: Vec<Rect<f64>> = polys.iter().map(poly_rect).collect();
    let tree = index_rects(&rects);
    polys
        .iter()
        .enumerate()
        .map(|(i, inner)| {
            tree.locate_in_envelope_intersecting(&aabb_of(rects[i]))
                .any(|c| c.data != i && polys[c.data].contains(inner))
        })
        .collect()
}

/// `ST_Buffer(point, r)` with PostGIS' default 8 segments per quarter circle.
pub fn buffer_point(p: Point<f64>, r: f64) -> Polygon<f64> {
    const SEGMENTS: usize = 32;
    let mut ring: Vec<Coord<f64>> = (0..SEGMENTS)
        .map(|k| {
            let a = k as f64 * std::f64::consts::TAU / SEGMENTS as f64;
            Coord {
                x: p.x() + r * a.cos(),
                y: p.y() + r * a.sin(),
            }
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString::new(ring), vec![])
}

/// Union of a cluster's polygons (`ST_Buffer(ST_CollectionExtract(cluster, 3), 0)`).
fn union_of(polys: &[&Polygon<f64>]) -> MultiPolygon<f64> {
    match polys {
        [one] => MultiPolygon::new(vec![(*one).clone()]),
        many => geo::unary_union(many.iter().copied()),
    }
}

fn centroid_or_first(mp: &MultiPolygon<f64>) -> Point<f64> {
    mp.centroid().unwrap_or_else(|| {
        mp.0.first()
            .and_then(|p| p.exterior().0.first())
            .map(|c| Point(*c))
            .unwrap_or_else(|| Point::new(0.0, 0.0))
    })
}

fn split_rows<'a>(
    category: DestinationCategory,
    features: &'a [OsmFeature],
) -> (Vec<PolyRow<'a>>, Vec<PointRow<'a>>) {
    let mut polys = Vec::new();
    let mut points = Vec::new();
    for f in features {
        if let Some(area) = &f.area {
            if polygon_matches(category, &f.tags) {
                for part in &area.0 {
                    // Consistent winding so that unions do not cancel opposite rings.
                    polys.push(PolyRow {
                        feature: f,
                        poly: part.orient(Winding::Default),
                    });
                }
            }
        } else if let Some(point) = f.point {
            let guard = point_matches(category, &f.tags);
            if guard != PointMatch::No {
                points.push(PointRow {
                    feature: f,
                    point,
                    guard,
                });
            }
        }
    }
    (polys, points)
}

/// Drop contained polygons and make one destination per remaining polygon.
fn separate_polygons(polys: &[PolyRow]) -> Vec<Candidate> {
    let geoms: Vec<Polygon<f64>> = polys.iter().map(|r| r.poly.clone()).collect();
    let dropped = contained_in_another(&geoms);
    polys
        .iter()
        .zip(dropped)
        .filter(|(_, d)| !d)
        .map(|(r, _)| {
            let mp = MultiPolygon::new(vec![r.poly.clone()]);
            Candidate {
                osm_id: Some(r.feature.osm_id),
                name: name_of(r.feature),
                point: centroid_or_first(&mp),
                polygon: Some(mp),
            }
        })
        .collect()
}

/// Cluster polygons with `ST_ClusterWithin(tol)`; one unnamed destination per cluster.
fn clustered_polygons(polys: &[Polygon<f64>], tol: f64) -> Vec<Candidate> {
    let rects: Vec<Rect<f64>> = polys.iter().map(poly_rect).collect();
    cluster_within(&rects, tol, |i, j| Euclidean.distance(&polys[i], &polys[j]))
        .into_iter()
        .map(|group| {
            let members: Vec<&Polygon<f64>> = group.iter().map(|&i| &polys[i]).collect();
            let mp = union_of(&members);
            Candidate {
                osm_id: None,
                name: None,
                point: centroid_or_first(&mp),
                polygon: Some(mp),
            }
        })
        .collect()
}

/// Points kept after the polygon guard (`NOT EXISTS (... ST_Intersects(poly, point))`).
fn guarded_points(points: &[PointRow], kept: &[Candidate]) -> Vec<Candidate> {
    let polys: Vec<&MultiPolygon<f64>> = kept.iter().filter_map(|c| c.polygon.as_ref()).collect();
    let rects: Vec<Rect<f64>> = polys
        .iter()
        .map(|p| {
            p.bounding_rect()
                .unwrap_or_else(|| Rect::new(Coord::zero(), Coord::zero()))
        })
        .collect();
    let tree = index_rects(&rects);
    points
        .iter()
        .filter(|r| {
            r.guard == PointMatch::Unguarded
                || !tree
                    .locate_in_envelope_intersecting(&aabb_of(point_rect(r.point)))
                    .any(|c| polys[c.data].intersects(&r.point))
        })
        .map(|r| Candidate {
            osm_id: Some(r.feature.osm_id),
            name: name_of(r.feature),
            point: r.point,
            polygon: None,
        })
        .collect()
}

/// Transit points: drop those within `tol` of a kept polygon, cluster the rest.
fn transit_points(points: &[PointRow], kept: &[Candidate], tol: f64) -> Vec<Candidate> {
    let polys: Vec<&Polygon<f64>> = kept
        .iter()
        .filter_map(|c| c.polygon.as_ref())
        .flat_map(|mp| mp.0.iter())
        .collect();
    let rects: Vec<Rect<f64>> = polys.iter().map(|p| poly_rect(p)).collect();
    let tree = index_rects(&rects);
    let free: Vec<Point<f64>> = points
        .iter()
        .map(|r| r.point)
        .filter(|p| {
            !tree
                .locate_in_envelope_intersecting(&expand(point_rect(*p), tol))
                .any(|c| Euclidean.distance(p, polys[c.data]) <= tol)
        })
        .collect();
    let rects: Vec<Rect<f64>> = free.iter().map(|p| point_rect(*p)).collect();
    cluster_within(&rects, tol, |i, j| Euclidean.distance(free[i], free[j]))
        .into_iter()
        .map(|group| {
            let mp = MultiPoint::new(group.iter().map(|&i| free[i]).collect());
            Candidate {
                osm_id: None,
                name: None,
                point: mp.centroid().unwrap_or(free[group[0]]),
                polygon: None,
            }
        })
        .collect()
}

/// Classify and deduplicate one category (§6.2), without block assignment.
fn category_candidates(category: DestinationCategory, features: &[OsmFeature]) -> Vec<Candidate> {
    let (polys, points) = split_rows(category, features);
    match dedup_rule(category) {
        Dedup::Separate => {
            let mut out = separate_polygons(&polys);
            let pts = guarded_points(&points, &out);
            out.extend(pts);
            out
        }
        Dedup::Clustered(tol) => {
            let geoms: Vec<Polygon<f64>> = polys.into_iter().map(|r| r.poly).collect();
            let mut out = clustered_polygons(&geoms, tol);
            let pts = guarded_points(&points, &out);
            out.extend(pts);
            out
        }
        Dedup::Retail => {
            let mut geoms: Vec<Polygon<f64>> = polys.into_iter().map(|r| r.poly).collect();
            geoms.extend(
                points
                    .iter()
                    .map(|r| buffer_point(r.point, params::RETAIL_POINT_BUFFER_M)),
            );
            clustered_polygons(&geoms, params::RETAIL_CLUSTER_M)
        }
        Dedup::Transit(tol) => {
            let mut out = separate_polygons(&polys);
            let pts = transit_points(&points, &out, tol);
            out.extend(pts);
            out
        }
    }
}

/// Spatial index of block geometries for the `blockid20` assignment.
struct BlockIndex<'a> {
    blocks: &'a [Block],
    tree: RTree<Indexed>,
}

impl<'a> BlockIndex<'a> {
    fn new(blocks: &'a [Block]) -> Self {
        let rects: Vec<Rect<f64>> = blocks
            .iter()
            .map(|b| {
                b.geom
                    .bounding_rect()
                    .unwrap_or_else(|| Rect::new(Coord::zero(), Coord::zero()))
            })
            .collect();
        Self {
            blocks,
            tree: index_rects(&rects),
        }
    }

    /// Blocks intersecting the polygon, or the point (when `use_point`).
    fn assign(&self, c: &Candidate, use_point: bool) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        if let Some(poly) = &c.polygon {
            if let Some(r) = poly.bounding_rect() {
                for cand in self.tree.locate_in_envelope_intersecting(&aabb_of(r)) {
                    if self.blocks[cand.data].geom.intersects(poly) {
                        out.push(cand.data as u32);
                    }
                }
            }
        }
        if use_point || c.polygon.is_none() {
            for cand in self
                .tree
                .locate_in_envelope_intersecting(&aabb_of(point_rect(c.point)))
            {
                if self.blocks[cand.data].geom.intersects(&c.point) {
                    out.push(cand.data as u32);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Build every destination of the 13 categories (§6.2) and assign its blocks.
///
/// `features` are osm2pgsql-like rows already clipped to boundary ⊕ 2680 m: nodes (`point`)
/// and areas (`area`). Ids are dense from 0 in category order. Destinations touching no block
/// are kept (stored but never counted).
pub fn build_destinations(features: &[OsmFeature], blocks: &[Block]) -> Vec<Destination> {
    let index = BlockIndex::new(blocks);
    let mut out = Vec::new();
    for category in DestinationCategory::ALL {
        // retail.sql assigns blocks by polygon only; every other script also tests geom_pt.
        let use_point = category != DestinationCategory::Retail;
        for c in category_candidates(category, features) {
            let blocks = index.assign(&c, use_point);
            out.push(Destination {
                id: out.len() as u32,
                category,
                osm_id: c.osm_id,
                name: c.name,
                point: c.point,
                polygon: c.polygon,
                blocks,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OsmKind;
    use geo::{polygon, Area};
    use DestinationCategory as C;

    fn tags(kv: &[(&str, &str)]) -> Tags {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn square(x: f64, y: f64, side: f64) -> Polygon<f64> {
        polygon![
            (x: x, y: y),
            (x: x + side, y: y),
            (x: x + side, y: y + side),
            (x: x, y: y + side),
            (x: x, y: y),
        ]
    }

    fn area(id: i64, kv: &[(&str, &str)], polys: Vec<Polygon<f64>>) -> OsmFeature {
        OsmFeature {
            osm_id: id,
            kind: OsmKind::Way,
            tags: tags(kv),
            point: None,
            area: Some(MultiPolygon::new(polys)),
        }
    }

    fn node(id: i64, kv: &[(&str, &str)], x: f64, y: f64) -> OsmFeature {
        OsmFeature {
            osm_id: id,
            kind: OsmKind::Node,
            tags: tags(kv),
            point: Some(Point::new(x, y)),
            area: None,
        }
    }

    fn block(geoid: &str, poly: Polygon<f64>) -> Block {
        Block {
            geoid: geoid.to_string(),
            geom: MultiPolygon::new(vec![poly.clone()]),
            geom_ll: MultiPolygon::new(vec![poly]),
            population: 10.0,
            jobs: 0.0,
            aland: None,
        }
    }

    fn of(dests: &[Destination], cat: C) -> Vec<&Destination> {
        dests.iter().filter(|d| d.category == cat).collect()
    }

    /// One row per filter clause of the §6.2 table: (category, tags, polygon match, point
    /// match).
    #[test]
    fn tag_filters() {
        use PointMatch::{Guarded as G, No as N, Unguarded as U};
        type Row<'a> = (C, &'a [(&'a str, &'a str)], bool, PointMatch);
        let rows: &[Row] = &[
            (C::Schools, &[("amenity", "school")], true, G),
            (C::Schools, &[("amenity", "kindergarten")], true, G),
            (C::Schools, &[("amenity", "college")], false, N),
            (C::Colleges, &[("amenity", "college")], true, G),
            (C::Universities, &[("amenity", "university")], true, G),
            (C::Doctors, &[("amenity", "clinic")], true, U),
            (C::Doctors, &[("amenity", "doctors")], true, U),
            (C::Doctors, &[("healthcare", "doctor")], true, G),
            (C::Doctors, &[("healthcare", "doctors")], true, G),
            (C::Doctors, &[("healthcare", "clinic")], true, G),
            (
                C::Doctors,
                &[("amenity", "clinic"), ("healthcare", "clinic")],
                true,
                U,
            ),
            (C::Dentists, &[("amenity", "dentist")], true, U),
            (C::Dentists, &[("healthcare", "dentist")], true, G),
            (C::Hospitals, &[("amenity", "hospital")], true, U),
            (C::Hospitals, &[("amenity", "hospitals")], true, U),
            (C::Hospitals, &[("healthcare", "hospital")], true, G),
            (C::Pharmacies, &[("amenity", "pharmacy")], true, U),
            (C::Pharmacies, &[("shop", "chemist")], true, G),
            (C::Supermarkets, &[("shop", "supermarket")], true, G),
            (
                C::SocialServices,
                &[("amenity", "social_facility")],
                true,
                G,
            ),
            (C::Parks, &[("amenity", "park")], true, G),
            (C::Parks, &[("leisure", "park")], true, G),
            (C::Parks, &[("leisure", "nature_reserve")], true, G),
            (C::Parks, &[("leisure", "playground")], true, G),
            (C::Parks, &[("leisure", "pitch")], false, N),
            (
                C::CommunityCenters,
                &[("amenity", "community_centre")],
                true,
                G,
            ),
            (
                C::CommunityCenters,
                &[("amenity", "community_center")],
                true,
                G,
            ),
            (C::Retail, &[("landuse", "retail")], true, N),
            (C::Retail, &[("building", "retail")], true, N),
            (C::Retail, &[("shop", "bakery")], true, G),
            (C::Retail, &[("shop", "no")], false, N),
            (C::Retail, &[("shop", "supermarket")], false, N),
            // The supermarket exclusion sits inside the shop branch only.
            (
                C::Retail,
                &[("landuse", "retail"), ("shop", "supermarket")],
                true,
                N,
            ),
            (C::Transit, &[("amenity", "bus_station")], true, G),
            (C::Transit, &[("amenity", "ferry_terminal")], true, G),
            (C::Transit, &[("railway", "station")], true, G),
            (
                C::Transit,
                &[("railway", "station"), ("station", "subway")],
                true,
                G,
            ),
            (
                C::Transit,
                &[("railway", "station"), ("station", "miniature")],
                false,
                N,
            ),
            // NOT (NULL AND NULL) is NULL: a bare public_transport=station is not transit.
            (C::Transit, &[("public_transport", "station")], false, N),
            (
                C::Transit,
                &[("public_transport", "station"), ("railway", "halt")],
                true,
                G,
            ),
            (
                C::Transit,
                &[("public_transport", "station"), ("station", "light_rail")],
                true,
                G,
            ),
            (
                C::Transit,
                &[
                    ("public_transport", "station"),
                    ("railway", "station"),
                    ("station", "miniature"),
                ],
                false,
                N,
            ),
        ];
        for (cat, kv, poly, point) in rows {
            let t = tags(kv);
            assert_eq!(polygon_matches(*cat, &t), *poly, "polygon {cat:?} {kv:?}");
            // Retail polygon-only clauses (landuse/building) do not apply to points.
            assert_eq!(point_matches(*cat, &t), *point, "point {cat:?} {kv:?}");
        }
    }

    #[test]
    fn contained_school_polygon_is_dropped() {
        let feats = vec![
            area(
                1,
                &[("amenity", "school"), ("name", "Big")],
                vec![square(0.0, 0.0, 100.0)],
            ),
            area(2, &[("amenity", "school")], vec![square(10.0, 10.0, 20.0)]),
            area(3, &[("amenity", "school")], vec![square(500.0, 0.0, 50.0)]),
        ];
        let d = build_destinations(&feats, &[]);
        let schools = of(&d, C::Schools);
        assert_eq!(schools.len(), 2);
        assert_eq!(schools[0].osm_id, Some(1));
        assert_eq!(schools[0].name.as_deref(), Some("Big"));
        assert_eq!(schools[1].osm_id, Some(3));
        assert!((schools[0].point.x() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn identical_polygons_drop_each_other() {
        let feats = vec![
            area(1, &[("shop", "supermarket")], vec![square(0.0, 0.0, 10.0)]),
            area(2, &[("shop", "supermarket")], vec![square(0.0, 0.0, 10.0)]),
        ];
        assert!(of(&build_destinations(&feats, &[]), C::Supermarkets).is_empty());
    }

    #[test]
    fn multipolygon_parts_are_separate_rows() {
        let feats = vec![area(
            7,
            &[("amenity", "social_facility")],
            vec![square(0.0, 0.0, 10.0), square(100.0, 0.0, 10.0)],
        )];
        let d = build_destinations(&feats, &[]);
        assert_eq!(of(&d, C::SocialServices).len(), 2);
    }

    #[test]
    fn school_point_inside_polygon_is_not_added() {
        let feats = vec![
            area(1, &[("amenity", "school")], vec![square(0.0, 0.0, 100.0)]),
            node(2, &[("amenity", "school")], 50.0, 50.0),
            // On the boundary still intersects.
            node(3, &[("amenity", "school")], 100.0, 50.0),
            node(4, &[("amenity", "school")], 300.0, 50.0),
        ];
        let d = build_destinations(&feats, &[]);
        let ids: Vec<_> = of(&d, C::Schools).iter().map(|s| s.osm_id).collect();
        assert_eq!(ids, vec![Some(1), Some(4)]);
    }

    #[test]
    fn clustering_within_and_outside_tolerance() {
        // Colleges, tol 100: gap 100 → joined (≤ tol); gap 100.5 → separate.
        let feats = vec![
            area(1, &[("amenity", "college")], vec![square(0.0, 0.0, 10.0)]),
            area(2, &[("amenity", "college")], vec![square(110.0, 0.0, 10.0)]),
            // Chained: 2 and 3 are 100 apart, 1 and 3 are 210 apart (single linkage).
            area(3, &[("amenity", "college")], vec![square(220.0, 0.0, 10.0)]),
            area(4, &[("amenity", "college")], vec![square(330.5, 0.0, 10.0)]),
        ];
        let d = build_destinations(&feats, &[]);
        let colleges = of(&d, C::Colleges);
        assert_eq!(colleges.len(), 2);
        let first = colleges[0].polygon.as_ref().expect("cluster polygon");
        assert_eq!(first.0.len(), 3);
        assert!((first.unsigned_area() - 300.0).abs() < 1e-6);
        assert!((colleges[0].point.x() - 115.0).abs() < 1e-6);
        // Cluster rows carry neither osm_id nor name.
        assert_eq!(colleges[0].osm_id, None);
        assert_eq!(colleges[1].polygon.as_ref().map(|p| p.0.len()), Some(1));
    }

    #[test]
    fn overlapping_cluster_members_are_unioned() {
        let feats = vec![
            area(1, &[("leisure", "park")], vec![square(0.0, 0.0, 10.0)]),
            area(2, &[("leisure", "park")], vec![square(5.0, 0.0, 10.0)]),
        ];
        let d = build_destinations(&feats, &[]);
        let parks = of(&d, C::Parks);
        assert_eq!(parks.len(), 1);
        let poly = parks[0].polygon.as_ref().expect("polygon");
        assert!((poly.unsigned_area() - 150.0).abs() < 1e-6);
    }

    #[test]
    fn or_precedence_bug_is_replicated() {
        let polygon = vec![square(0.0, 0.0, 100.0)];
        let feats = vec![
            area(1, &[("amenity", "dentist")], polygon.clone()),
            // amenity=dentist escapes the guard: inserted although inside the polygon.
            node(2, &[("amenity", "dentist")], 50.0, 50.0),
            // healthcare=dentist is guarded: dropped.
            node(3, &[("healthcare", "dentist")], 50.0, 50.0),
            node(4, &[("healthcare", "dentist")], 500.0, 50.0),
        ];
        let d = build_destinations(&feats, &[]);
        let ids: Vec<_> = of(&d, C::Dentists).iter().map(|s| s.osm_id).collect();
        assert_eq!(ids, vec![None, Some(2), Some(4)]);
        // Parks parenthesise their OR list: both branches are guarded.
        let feats = vec![
            area(1, &[("leisure", "park")], polygon),
            node(2, &[("amenity", "park")], 50.0, 50.0),
            node(3, &[("leisure", "park")], 50.0, 50.0),
        ];
        assert_eq!(of(&build_destinations(&feats, &[]), C::Parks).len(), 1);
    }

    #[test]
    fn retail_points_are_buffered_and_clustered_with_polygons() {
        let feats = vec![
            area(1, &[("landuse", "retail")], vec![square(0.0, 0.0, 100.0)]),
            // 55 m from the polygon: its 10 m buffer is 45 m away → joins (tol 50).
            node(2, &[("shop", "bakery")], 155.0, 50.0),
            // 61 m from that shop: buffers 41 m apart → joins too (single linkage).
            node(3, &[("shop", "books")], 216.0, 50.0),
            // Far away shop: own cluster; supermarket ignored.
            node(4, &[("shop", "books")], 1000.0, 0.0),
            node(5, &[("shop", "supermarket")], 50.0, 50.0),
            // 71 m from the polygon: buffer 61 m away → separate.
            node(6, &[("shop", "books")], 50.0, -71.0),
        ];
        let blocks = vec![
            block("a", square(0.0, 0.0, 100.0)),
            block("far", square(990.0, -10.0, 5.0)),
        ];
        let d = build_destinations(&feats, &blocks);
        let retail = of(&d, C::Retail);
        assert_eq!(retail.len(), 3);
        let main = retail[0].polygon.as_ref().expect("polygon");
        assert_eq!(main.0.len(), 3);
        assert!(retail
            .iter()
            .all(|r| r.osm_id.is_none() && r.name.is_none()));
        assert_eq!(retail[0].blocks, vec![0]);
        // The buffered far shop reaches into block "far" (corner at 995,-5 is within 10 m).
        let far = retail
            .iter()
            .find(|r| r.point.x() > 900.0)
            .expect("far shop");
        assert_eq!(far.blocks, vec![1]);
    }

    #[test]
    fn retail_point_buffer_is_a_postgis_32_gon() {
        let b = buffer_point(Point::new(0.0, 0.0), 10.0);
        assert_eq!(b.exterior().0.len(), 33);
        let expected = 0.5 * 32.0 * 100.0 * (std::f64::consts::TAU / 32.0).sin();
        assert!((b.unsigned_area() - expected).abs() < 1e-9);
    }

    #[test]
    fn transit_points_near_polygons_dropped_others_clustered() {
        let feats = vec![
            area(
                1,
                &[("railway", "station"), ("name", "Central")],
                vec![square(0.0, 0.0, 50.0)],
            ),
            // 75 m from the polygon: within → dropped.
            node(2, &[("amenity", "bus_station")], 125.0, 25.0),
            // 76 m: kept; clustered with the next (70 m apart) but not the last.
            node(3, &[("amenity", "bus_station")], 126.0, 25.0),
            node(4, &[("amenity", "bus_station")], 196.0, 25.0),
            node(5, &[("amenity", "bus_station")], 272.0, 25.0),
        ];
        let d = build_destinations(&feats, &[]);
        let t = of(&d, C::Transit);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].name.as_deref(), Some("Central"));
        assert!((t[1].point.x() - 161.0).abs() < 1e-9);
        assert!(t[1].polygon.is_none() && t[1].osm_id.is_none());
        assert!((t[2].point.x() - 272.0).abs() < 1e-9);
    }

    #[test]
    fn transit_polygons_are_not_clustered_but_contained_ones_dropped() {
        let feats = vec![
            area(1, &[("railway", "station")], vec![square(0.0, 0.0, 50.0)]),
            area(2, &[("railway", "station")], vec![square(60.0, 0.0, 50.0)]),
            area(
                3,
                &[("public_transport", "station"), ("railway", "station")],
                vec![square(10.0, 10.0, 5.0)],
            ),
        ];
        let d = build_destinations(&feats, &[]);
        let ids: Vec<_> = of(&d, C::Transit).iter().map(|s| s.osm_id).collect();
        assert_eq!(ids, vec![Some(1), Some(2)]);
    }

    #[test]
    fn block_assignment_uses_polygon_or_centroid() {
        // A U-shaped park cluster around block "mid": its centroid lies in "mid" although no
        // part touches it.
        let feats = vec![
            area(1, &[("leisure", "park")], vec![square(0.0, 0.0, 10.0)]),
            area(2, &[("leisure", "park")], vec![square(40.0, 0.0, 10.0)]),
        ];
        let blocks = vec![
            block("left", square(0.0, 0.0, 10.0)),
            block("mid", square(20.0, 0.0, 10.0)),
            block("right", square(40.0, 0.0, 10.0)),
            block("away", square(0.0, 100.0, 10.0)),
        ];
        let d = build_destinations(&feats, &blocks);
        let parks = of(&d, C::Parks);
        assert_eq!(parks.len(), 1);
        assert_eq!(parks[0].blocks, vec![0, 1, 2]);
        assert_eq!(parks[0].id, 0);
    }

    #[test]
    fn retail_blocks_use_polygon_only() {
        // Two retail squares 40 m apart cluster; the centroid falls in the gap block.
        let feats = vec![
            area(1, &[("building", "retail")], vec![square(0.0, 0.0, 10.0)]),
            area(2, &[("building", "retail")], vec![square(50.0, 0.0, 10.0)]),
        ];
        let blocks = vec![
            block("gap", square(20.0, 0.0, 20.0)),
            block("left", square(-5.0, 0.0, 5.0)),
        ];
        let d = build_destinations(&feats, &blocks);
        let retail = of(&d, C::Retail);
        assert_eq!(retail.len(), 1);
        assert_eq!(retail[0].blocks, vec![1]);
    }

    #[test]
    fn destinations_without_blocks_are_kept_and_ids_dense() {
        let feats = vec![
            node(1, &[("amenity", "school")], 0.0, 0.0),
            node(2, &[("shop", "supermarket")], 5.0, 5.0),
        ];
        let d = build_destinations(&feats, &[]);
        assert_eq!(d.len(), 2);
        assert_eq!(d.iter().map(|x| x.id).collect::<Vec<_>>(), vec![0, 1]);
        assert!(d.iter().all(|x| x.blocks.is_empty()));
    }
}
