//! The routing graph (spec §5.1, §5.2, §4.7): a line graph whose vertices are road segments and
//! whose links are the allowed segment-to-segment moves at a shared intersection.
//!
//! Numbers follow `build_network.sql` exactly, including its integer columns: segment lengths
//! and azimuths are stored as PostgreSQL INTEGER (float → int rounds half to even, `rint`), the
//! turn angle is integer arithmetic and the link cost uses integer division.

use std::f64::consts::PI;

use geo::{Coord, LineString};
use petgraph::csr::Csr;
use petgraph::Directed;

use crate::model::{Direction, Intersection, Segment, Stress, LOW_STRESS};

/// One directed move from `source_road` to `target_road` through `intersection`
/// (a row of `neighborhood_ways_net_link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub source_road: u32,
    pub target_road: u32,
    pub intersection: u32,
    /// Metres: `(round(L_source) + round(L_target)) div 2`.
    pub cost: u32,
    /// `GREATEST(source_stress, int_stress, target_stress)`, NULLs ignored; `None` if all are NULL.
    pub stress: Option<Stress>,
    /// `false` for the single non-crossing (right-turn / straight) link of its approach.
    pub int_crossing: bool,
    /// Degrees, 0 = straight on, 90 = right; `None` when an azimuth is undefined (zero-length
    /// piece of geometry), as `ST_Azimuth` returns NULL.
    pub turn_angle: Option<i32>,
}

/// Which links a search may use: `All` is the reference's "high stress" network (every link),
/// `LowStress` keeps only links with `link_stress = 1` (spec §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    All,
    LowStress,
}

type Adjacency = Csr<(), u32, Directed, u32>;

/// The line graph: the link table plus two compressed adjacencies (all links, low-stress links)
/// that Dijkstra scans as plain slices.
#[derive(Debug, Clone)]
pub struct LineGraph {
    links: Vec<Link>,
    all: Adjacency,
    low: Adjacency,
}

impl LineGraph {
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// One vertex per segment; vertex id = `road_id`.
    pub fn vertex_count(&self) -> usize {
        self.all.node_count()
    }

    /// Number of distinct (source, target) arcs in a network. Parallel links between the same two
    /// segments (two segments sharing both end intersections) have the same cost, so they collapse
    /// to one arc.
    pub fn arc_count(&self, network: Network) -> usize {
        self.adjacency(network).edge_count()
    }

    /// Out-neighbours of `road` and the matching costs, as parallel slices.
    #[inline]
    pub fn out_arcs(&self, road: u32, network: Network) -> (&[u32], &[u32]) {
        let adj = self.adjacency(network);
        (adj.neighbors_slice(road), adj.edges_slice(road))
    }

    fn adjacency(&self, network: Network) -> &Adjacency {
        match network {
            Network::All => &self.all,
            Network::LowStress => &self.low,
        }
    }
}

/// PostgreSQL float → INTEGER assignment (`rint`: nearest, ties to even).
pub fn pg_rint(x: f64) -> i64 {
    x.round_ties_even() as i64
}

/// `ST_Length` of a metric line (sum of segment lengths, computed as PostGIS does).
pub fn st_length(line: &LineString<f64>) -> f64 {
    line.0
        .windows(2)
        .map(|w| {
            let (dx, dy) = (w[1].x - w[0].x, w[1].y - w[0].y);
            (dx * dx + dy * dy).sqrt()
        })
        .sum()
}

/// `ST_LineInterpolatePoint(line, 0.5)`, following liblwgeom's walk along the segments.
pub fn line_midpoint(line: &LineString<f64>) -> Option<Coord<f64>> {
    let first = *line.0.first()?;
    if line.0.len() == 1 {
        return Some(first);
    }
    let target = 0.5 * st_length(line);
    let mut walked = 0.0;
    for w in line.0.windows(2) {
        let (dx, dy) = (w[1].x - w[0].x, w[1].y - w[0].y);
        let seg = (dx * dx + dy * dy).sqrt();
        if target < walked + seg {
            let f = (target - walked) / seg;
            return Some(Coord {
                x: w[0].x + dx * f,
                y: w[0].y + dy * f,
            });
        }
        walked += seg;
    }
    line.0.last().copied()
}

/// `ST_Azimuth(a, b)` in radians, clockwise from north; `None` for coincident points. The
/// quadrant-by-quadrant formula is liblwgeom's `azimuth_pt_pt`, kept so that integer-rounded
/// degrees agree with the reference to the last bit.
pub fn st_azimuth(a: Coord<f64>, b: Coord<f64>) -> Option<f64> {
    if a.x == b.x {
        return if a.y < b.y {
            Some(0.0)
        } else if a.y > b.y {
            Some(PI)
        } else {
            None
        };
    }
    if a.y == b.y {
        return Some(if a.x < b.x { PI / 2.0 } else { PI * 1.5 });
    }
    let (adx, ady) = ((a.x - b.x).abs(), (a.y - b.y).abs());
    Some(if a.x < b.x {
        if a.y < b.y {
            (adx / ady).atan()
        } else {
            (ady / adx).atan() + PI / 2.0
        }
    } else if a.y > b.y {
        (adx / ady).atan() + PI
    } else {
        (ady / adx).atan() + (PI + PI / 2.0)
    })
}

/// `degrees(ST_Azimuth(a, b))` stored in an INTEGER column.
pub fn azimuth_degrees(a: Coord<f64>, b: Coord<f64>) -> Option<i32> {
    // PostgreSQL's degrees() divides by RADIANS_PER_DEGREE (not multiply by 180/π).
    st_azimuth(a, b).map(|r| pg_rint(r / (PI / 180.0)) as i32)
}

/// `(target_azi − source_azi + 360) % 360` on integers.
pub fn turn_angle(source_azi: Option<i32>, target_azi: Option<i32>) -> Option<i32> {
    Some((target_azi? - source_azi? + 360).rem_euclid(360))
}

/// Link cost from the two segment lengths in metres (spec §5.1).
pub fn link_cost(source_len: f64, target_len: f64) -> u32 {
    let sum = pg_rint(source_len) + pg_rint(target_len);
    (sum / 2).clamp(0, u32::MAX as i64) as u32
}

/// PostgreSQL `GREATEST`: the maximum of the non-NULL arguments, NULL if all are NULL.
pub fn greatest(values: &[Option<Stress>]) -> Option<Stress> {
    values.iter().flatten().copied().max()
}

/// Index of the approach's non-crossing link among `angles` (spec §5.2), reproducing
/// `ORDER BY (sin(a) > 0)::INT DESC, CASE WHEN sin(a) > 0 THEN cos(a) ELSE -cos(a) END LIMIT 1`:
/// NULL angles sort first under DESC; ties keep the first candidate (the reference leaves them
/// to `LIMIT 1`).
pub fn non_crossing_choice(angles: &[Option<i32>]) -> Option<usize> {
    // Sort key, smaller is better: (rank of the first ORDER BY term, second term).
    let key = |a: Option<i32>| -> (u8, f64) {
        match a {
            None => (0, f64::INFINITY),
            Some(deg) => {
                let rad = deg as f64 * (PI / 180.0);
                // sin(π) is 1.2e-16 > 0 in floating point, so a 180° reversal counts as a right
                // turn, exactly as in the SQL.
                if rad.sin() > 0.0 {
                    (1, rad.cos())
                } else {
                    (2, -rad.cos())
                }
            }
        }
    };
    let mut best: Option<(usize, (u8, f64))> = None;
    for (i, &a) in angles.iter().enumerate() {
        let k = key(a);
        let better = match best {
            None => true,
            Some((_, bk)) => k.0 < bk.0 || (k.0 == bk.0 && k.1 < bk.1),
        };
        if better {
            best = Some((i, k));
        }
    }
    best.map(|(i, _)| i)
}

/// Whether a bicycle may leave `seg` through intersection `at` (spec §5.1).
fn can_leave(seg: &Segment, at: u32) -> bool {
    match seg.attrs.one_way {
        None => true,
        Some(Direction::Ft) => seg.intersection_to == at,
        Some(Direction::Tf) => seg.intersection_from == at,
    }
}

/// Whether a bicycle may enter `seg` from intersection `at` (spec §5.1).
fn can_enter(seg: &Segment, at: u32) -> bool {
    match seg.attrs.one_way {
        None => true,
        Some(Direction::Ft) => seg.intersection_from == at,
        Some(Direction::Tf) => seg.intersection_to == at,
    }
}

/// Per-segment geometry facts the link rules need, computed once.
struct SegmentGeo {
    length: f64,
    start: Option<Coord<f64>>,
    mid: Option<Coord<f64>>,
    end: Option<Coord<f64>>,
}

impl SegmentGeo {
    fn new(line: &LineString<f64>) -> Self {
        Self {
            length: st_length(line),
            start: line.0.first().copied(),
            mid: line_midpoint(line),
            end: line.0.last().copied(),
        }
    }
}

fn azimuth_opt(a: Option<Coord<f64>>, b: Option<Coord<f64>>) -> Option<i32> {
    azimuth_degrees(a?, b?)
}

/// Builds the line graph from segments (`road_id` = index) and intersections (`int_id` = index).
/// Segment endpoints that are not valid intersection indices are ignored.
pub fn build_line_graph(segments: &[Segment], intersections: &[Intersection]) -> LineGraph {
    let geo: Vec<SegmentGeo> = segments.iter().map(|s| SegmentGeo::new(&s.geom)).collect();

    // Segments touching each intersection, in road order; a loop segment is listed once, as the
    // SQL join `int_id IN (from, to)` matches it once.
    let n_int = intersections.len();
    let mut incident: Vec<Vec<u32>> = vec![Vec::new(); n_int];
    for (road, seg) in segments.iter().enumerate() {
        let (f, t) = (seg.intersection_from as usize, seg.intersection_to as usize);
        if f < n_int {
            incident[f].push(road as u32);
        }
        if t != f && t < n_int {
            incident[t].push(road as u32);
        }
    }

    let mut links = Vec::new();
    let mut approach_angles: Vec<Option<i32>> = Vec::new();
    for (int_id, roads) in incident.iter().enumerate() {
        let i = int_id as u32;
        for &a in roads {
            let sa = &segments[a as usize];
            if !can_leave(sa, i) {
                continue;
            }
            let ga = &geo[a as usize];
            let leaves_at_to = sa.intersection_to == i;
            let source_azi = if leaves_at_to {
                azimuth_opt(ga.mid, ga.end)
            } else {
                azimuth_opt(ga.mid, ga.start)
            };
            let source_stress = if leaves_at_to {
                sa.stress.ft_seg
            } else {
                sa.stress.tf_seg
            };
            let int_stress = if leaves_at_to {
                sa.stress.ft_int
            } else {
                sa.stress.tf_int
            };

            let first = links.len();
            for &b in roads {
                if b == a {
                    continue; // no U-turn onto the same segment
                }
                let sb = &segments[b as usize];
                if !can_enter(sb, i) {
                    continue;
                }
                let gb = &geo[b as usize];
                let enters_at_to = sb.intersection_to == i;
                let target_azi = if enters_at_to {
                    azimuth_opt(gb.end, gb.mid)
                } else {
                    azimuth_opt(gb.start, gb.mid)
                };
                let target_stress = if enters_at_to {
                    sb.stress.tf_seg
                } else {
                    sb.stress.ft_seg
                };
                links.push(Link {
                    source_road: a,
                    target_road: b,
                    intersection: i,
                    cost: link_cost(ga.length, gb.length),
                    // Provisional: int_stress is settled once the approach's non-crossing link
                    // is known.
                    stress: greatest(&[source_stress, int_stress, target_stress]),
                    int_crossing: true,
                    turn_angle: turn_angle(source_azi, target_azi),
                });
            }

            let group = &mut links[first..];
            approach_angles.clear();
            approach_angles.extend(group.iter().map(|l| l.turn_angle));
            if let Some(k) = non_crossing_choice(&approach_angles) {
                let l = &mut group[k];
                l.int_crossing = false;
                let target_stress = {
                    let sb = &segments[l.target_road as usize];
                    if sb.intersection_to == i {
                        sb.stress.tf_seg
                    } else {
                        sb.stress.ft_seg
                    }
                };
                l.stress = greatest(&[source_stress, Some(LOW_STRESS), target_stress]);
            }
        }
    }

    let n = segments.len();
    let all = adjacency(
        n,
        links.iter().map(|l| (l.source_road, l.target_road, l.cost)),
    );
    let low = adjacency(
        n,
        links
            .iter()
            .filter(|l| l.stress == Some(LOW_STRESS))
            .map(|l| (l.source_road, l.target_road, l.cost)),
    );
    LineGraph { links, all, low }
}

fn adjacency(n: usize, arcs: impl Iterator<Item = (u32, u32, u32)>) -> Adjacency {
    let mut arcs: Vec<(u32, u32, u32)> = arcs.collect();
    arcs.sort_unstable();
    // Parallel links between the same two segments share one cost (it depends only on the two
    // lengths), so keeping one arc per pair changes no distance.
    arcs.dedup_by_key(|&mut (s, t, _)| (s, t));
    let mut adj = Adjacency::from_sorted_edges(&arcs)
        .expect("arcs are sorted and unique by (source, target)");
    while adj.node_count() < n {
        adj.add_node(());
    }
    adj
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{FunctionalClass, SegmentAttributes, SegmentStress, HIGH_STRESS};
    use geo::Point;

    /// A test segment between two intersections, two-way, all stresses 1.
    pub(crate) fn seg(road_id: u32, from: u32, to: u32, coords: &[(f64, f64)]) -> Segment {
        Segment {
            road_id,
            osm_id: road_id as i64,
            name: None,
            intersection_from: from,
            intersection_to: to,
            geom: LineString::from(coords.to_vec()),
            geom_ll: LineString::new(vec![]),
            tags: Default::default(),
            attrs: SegmentAttributes::unattributed(FunctionalClass::Residential),
            stress: SegmentStress {
                ft_seg: Some(LOW_STRESS),
                tf_seg: Some(LOW_STRESS),
                ft_int: Some(LOW_STRESS),
                tf_int: Some(LOW_STRESS),
            },
            stress_rules: Default::default(),
            path_id: None,
        }
    }

    pub(crate) fn ints(n: usize) -> Vec<Intersection> {
        (0..n)
            .map(|i| Intersection {
                int_id: i as u32,
                osm_id: i as i64,
                point: Point::new(0.0, 0.0),
                point_ll: Point::new(0.0, 0.0),
                flags: Default::default(),
            })
            .collect()
    }

    fn link(g: &LineGraph, s: u32, t: u32) -> Option<Link> {
        g.links()
            .iter()
            .find(|l| l.source_road == s && l.target_road == t)
            .copied()
    }

    fn pairs(g: &LineGraph) -> Vec<(u32, u32)> {
        let mut v: Vec<_> = g
            .links()
            .iter()
            .map(|l| (l.source_road, l.target_road))
            .collect();
        v.sort();
        v
    }

    /// Star around intersection 0 at the origin: east (0), south (1), west (2), north (3) arms,
    /// each digitised from the centre outwards, 100 m long.
    fn star() -> Vec<Segment> {
        vec![
            seg(0, 0, 1, &[(0.0, 0.0), (100.0, 0.0)]),
            seg(1, 0, 2, &[(0.0, 0.0), (0.0, -100.0)]),
            seg(2, 0, 3, &[(0.0, 0.0), (-100.0, 0.0)]),
            seg(3, 0, 4, &[(0.0, 0.0), (0.0, 100.0)]),
        ]
    }

    #[test]
    fn rint_rounds_half_to_even() {
        let rows = [
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (10.5, 10),
            (20.5, 20),
            (2.6, 3),
            (-0.5, 0),
        ];
        for (x, want) in rows {
            assert_eq!(pg_rint(x), want, "rint({x})");
        }
    }

    #[test]
    fn cost_rounds_each_length_then_integer_divides() {
        let rows = [
            (10.5, 20.5, 15), // (10 + 20) div 2
            (11.5, 20.5, 16), // (12 + 20) div 2
            (10.0, 21.0, 15), // 31 div 2
            (0.4, 0.4, 0),
            (100.0, 100.0, 100),
        ];
        for (a, b, want) in rows {
            assert_eq!(link_cost(a, b), want, "cost({a}, {b})");
        }
    }

    #[test]
    fn cost_in_graph_uses_segment_lengths() {
        let segs = vec![
            seg(0, 0, 1, &[(0.0, 0.0), (10.5, 0.0)]),
            seg(1, 1, 2, &[(10.5, 0.0), (31.0, 0.0)]),
        ];
        let g = build_line_graph(&segs, &ints(3));
        assert_eq!(link(&g, 0, 1).map(|l| l.cost), Some(15));
        assert_eq!(link(&g, 1, 0).map(|l| l.cost), Some(15));
    }

    #[test]
    fn greatest_ignores_nulls() {
        let rows: [(&[Option<Stress>], Option<Stress>); 5] = [
            (&[Some(1), Some(1), Some(1)], Some(1)),
            (&[Some(1), Some(3), Some(1)], Some(3)),
            (&[None, Some(1), None], Some(1)),
            (&[None, None, Some(3)], Some(3)),
            (&[None, None, None], None),
        ];
        for (vals, want) in rows {
            assert_eq!(greatest(vals), want, "{vals:?}");
        }
    }

    #[test]
    fn two_way_star_links_every_ordered_pair_without_u_turns() {
        let g = build_line_graph(&star(), &ints(5));
        assert_eq!(g.vertex_count(), 4);
        let got = pairs(&g);
        let mut want = Vec::new();
        for a in 0..4 {
            for b in 0..4 {
                if a != b {
                    want.push((a, b));
                }
            }
        }
        assert_eq!(got, want);
        assert!(g.links().iter().all(|l| l.intersection == 0));
    }

    #[test]
    fn one_way_rules_limit_leaving_and_entering() {
        // Chain 0 -(road 0)-> 1 -(road 1)-> 2, both one-way 'ft': only 0 → 1 is allowed.
        let mut segs = vec![
            seg(0, 0, 1, &[(0.0, 0.0), (100.0, 0.0)]),
            seg(1, 1, 2, &[(100.0, 0.0), (200.0, 0.0)]),
        ];
        segs[0].attrs.one_way = Some(Direction::Ft);
        segs[1].attrs.one_way = Some(Direction::Ft);
        let g = build_line_graph(&segs, &ints(3));
        assert_eq!(pairs(&g), vec![(0, 1)]);

        // Road 1 'tf' (travel 2 → 1): it can be left at 1 but not entered there.
        segs[1].attrs.one_way = Some(Direction::Tf);
        let g = build_line_graph(&segs, &ints(3));
        assert!(pairs(&g).is_empty());

        // Road 0 'tf' (travel 1 → 0) and road 1 'tf' (travel 2 → 1): 1 → 0 only.
        segs[0].attrs.one_way = Some(Direction::Tf);
        let g = build_line_graph(&segs, &ints(3));
        assert_eq!(pairs(&g), vec![(1, 0)]);

        // Road 0 two-way, road 1 'ft': 0 → 1 allowed, 1 → 0 not (1 cannot be left at 1).
        segs[0].attrs.one_way = None;
        segs[1].attrs.one_way = Some(Direction::Ft);
        let g = build_line_graph(&segs, &ints(3));
        assert_eq!(pairs(&g), vec![(0, 1)]);
    }

    #[test]
    fn azimuths_match_postgis_quadrants() {
        let o = Coord { x: 0.0, y: 0.0 };
        let rows = [
            ((0.0, 1.0), Some(0)),
            ((1.0, 1.0), Some(45)),
            ((1.0, 0.0), Some(90)),
            ((1.0, -1.0), Some(135)),
            ((0.0, -1.0), Some(180)),
            ((-1.0, -1.0), Some(225)),
            ((-1.0, 0.0), Some(270)),
            ((-1.0, 1.0), Some(315)),
            ((0.0, 0.0), None),
        ];
        for ((x, y), want) in rows {
            assert_eq!(azimuth_degrees(o, Coord { x, y }), want, "({x}, {y})");
        }
    }

    #[test]
    fn midpoint_walks_along_the_line() {
        let l = LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 30.0)]);
        assert_eq!(line_midpoint(&l), Some(Coord { x: 10.0, y: 10.0 }));
    }

    #[test]
    fn turn_angles_at_a_star() {
        // Coming from the west arm (road 2) heading east: straight = east (0), right = south.
        let g = build_line_graph(&star(), &ints(5));
        let rows = [(0, Some(0)), (1, Some(90)), (3, Some(270))];
        for (target, want) in rows {
            assert_eq!(link(&g, 2, target).and_then(|l| l.turn_angle), want);
        }
    }

    #[test]
    fn non_crossing_choice_rules() {
        let rows: [(&[Option<i32>], Option<usize>); 7] = [
            // Sharpest right (smallest cos) wins among rightward turns.
            (&[Some(0), Some(90), Some(270)], Some(1)),
            (&[Some(45), Some(135)], Some(1)),
            // No rightward turn: the one closest to straight (largest cos).
            (&[Some(270), Some(0), Some(300)], Some(1)),
            (&[Some(270), Some(330)], Some(1)),
            // A NULL angle sorts first.
            (&[Some(90), None], Some(1)),
            // 180° is "rightward" in floating point (sin π > 0) and has the smallest cos.
            (&[Some(90), Some(180)], Some(1)),
            (&[], None),
        ];
        for (angles, want) in rows {
            assert_eq!(non_crossing_choice(angles), want, "{angles:?}");
        }
    }

    #[test]
    fn right_turn_link_gets_int_stress_one() {
        // All segments low stress, but the approach from the west has a high-stress crossing.
        let mut segs = star();
        segs[2].stress.tf_int = Some(HIGH_STRESS); // road 2 is left at its `from` end (tf)
        let g = build_line_graph(&segs, &ints(5));
        let right = link(&g, 2, 1).expect("right turn west → south");
        assert!(!right.int_crossing);
        assert_eq!(right.stress, Some(LOW_STRESS));
        for t in [0, 3] {
            let l = link(&g, 2, t).expect("link");
            assert!(l.int_crossing);
            assert_eq!(l.stress, Some(HIGH_STRESS));
        }
        // Exactly one non-crossing link per approach.
        for s in 0..4 {
            let n = g
                .links()
                .iter()
                .filter(|l| l.source_road == s && !l.int_crossing)
                .count();
            assert_eq!(n, 1, "approach from road {s}");
        }
    }

    #[test]
    fn straight_is_non_crossing_when_no_right_turn() {
        // T junction approached from the west with only straight (east) and left (north) options.
        let mut segs = vec![
            seg(0, 0, 1, &[(0.0, 0.0), (100.0, 0.0)]),
            seg(1, 0, 2, &[(0.0, 0.0), (-100.0, 0.0)]),
            seg(2, 0, 3, &[(0.0, 0.0), (0.0, 100.0)]),
        ];
        segs[1].stress.tf_int = Some(HIGH_STRESS);
        let g = build_line_graph(&segs, &ints(4));
        let straight = link(&g, 1, 0).expect("straight");
        let left = link(&g, 1, 2).expect("left");
        assert!(!straight.int_crossing);
        assert_eq!(straight.stress, Some(LOW_STRESS));
        assert!(left.int_crossing);
        assert_eq!(left.stress, Some(HIGH_STRESS));
    }

    #[test]
    fn link_stress_uses_direction_of_travel() {
        // Road 0 digitised 0 → 1 and left at 1 (ft); road 1 digitised 2 → 1 and entered at its
        // `to` end, i.e. travelled tf.
        let mut segs = vec![
            seg(0, 0, 1, &[(0.0, 0.0), (100.0, 0.0)]),
            seg(1, 2, 1, &[(200.0, 0.0), (100.0, 0.0)]),
        ];
        segs[1].stress.tf_seg = Some(HIGH_STRESS);
        segs[1].stress.ft_seg = None;
        let g = build_line_graph(&segs, &ints(3));
        assert_eq!(link(&g, 0, 1).and_then(|l| l.stress), Some(HIGH_STRESS));
        // Leaving road 1 at 1 is its ft direction (NULL), entering road 0 at its `to` end is tf
        // (1): GREATEST ignores the NULL.
        assert_eq!(link(&g, 1, 0).and_then(|l| l.stress), Some(LOW_STRESS));
    }

    #[test]
    fn low_stress_network_excludes_stress_three_links() {
        let mut segs = star();
        segs[3].stress.ft_seg = Some(HIGH_STRESS);
        segs[3].stress.tf_seg = Some(HIGH_STRESS);
        let g = build_line_graph(&segs, &ints(5));
        assert_eq!(g.arc_count(Network::All), 12);
        let (low_targets, _) = g.out_arcs(0, Network::LowStress);
        assert!(!low_targets.contains(&3));
        assert!(low_targets.contains(&1));
        let (low_from_3, _) = g.out_arcs(3, Network::LowStress);
        assert!(low_from_3.is_empty());
        let (all_from_3, costs) = g.out_arcs(3, Network::All);
        assert_eq!(all_from_3, &[0, 1, 2]);
        assert_eq!(costs, &[100, 100, 100]);
    }

    #[test]
    fn vertices_without_links_still_count() {
        let segs = vec![
            seg(0, 0, 1, &[(0.0, 0.0), (1.0, 0.0)]),
            seg(1, 1, 2, &[(1.0, 0.0), (2.0, 0.0)]),
            seg(2, 3, 4, &[(5.0, 0.0), (6.0, 0.0)]),
        ];
        let g = build_line_graph(&segs, &ints(5));
        assert_eq!(g.vertex_count(), 3);
        assert!(g.out_arcs(2, Network::All).0.is_empty());
    }
}
