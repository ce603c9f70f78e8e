//! A corridor drawn by a planner: the shortest chain of segments joining two chosen segments
//! on the road network as built, ignoring stress and one-way rules (a planner sketching
//! where a facility would go is not riding it).

use std::collections::HashMap;

use petgraph::algo::astar;
use petgraph::graph::{NodeIndex, UnGraph};

use super::graph::st_length;
use crate::model::Segment;

/// Road ids from `from_road` to `to_road`, in order, each sharing an intersection with the
/// next; the chain with the least total length. `None` when either id is unknown or no chain
/// exists.
pub fn route_between(segments: &[Segment], from_road: u32, to_road: u32) -> Option<Vec<u32>> {
    // Line graph: a node per segment, an edge between segments meeting at an intersection,
    // weighted by half of each length so a chain's cost is its length minus half of each end
    // (the same for every chain between the same two ends).
    let mut g = UnGraph::<u32, f64>::with_capacity(segments.len(), segments.len() * 2);
    let mut node: HashMap<u32, NodeIndex> = HashMap::with_capacity(segments.len());
    let mut half = Vec::with_capacity(segments.len());
    let mut at: HashMap<u32, Vec<NodeIndex>> = HashMap::new();
    for s in segments {
        let n = g.add_node(s.road_id);
        node.insert(s.road_id, n);
        half.push(0.5 * st_length(&s.geom));
        at.entry(s.intersection_from).or_default().push(n);
        if s.intersection_to != s.intersection_from {
            at.entry(s.intersection_to).or_default().push(n);
        }
    }
    for meeting in at.values() {
        for (i, &a) in meeting.iter().enumerate() {
            for &b in &meeting[i + 1..] {
                g.add_edge(a, b, half[a.index()] + half[b.index()]);
            }
        }
    }
    let (start, goal) = (*node.get(&from_road)?, *node.get(&to_road)?);
    let (_, path) = astar(&g, start, |n| n == goal, |e| *e.weight(), |_| 0.0)?;
    Some(path.into_iter().map(|n| g[n]).collect())
}

/// Total length in metres of `roads` (ids into `segments`, which is indexed by road id).
pub fn route_length(segments: &[Segment], roads: &[u32]) -> f64 {
    roads
        .iter()
        .filter_map(|&r| segments.get(r as usize))
        .map(|s| st_length(&s.geom))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::graph::tests::seg;

    /// A straight segment of `len` metres along x from `x0`.
    fn line(road_id: u32, from: u32, to: u32, x0: f64, len: f64) -> Segment {
        seg(road_id, from, to, &[(x0, 0.0), (x0 + len, 0.0)])
    }

    #[test]
    fn routes_on_tiny_networks() {
        // Straight: 0 -a- 1 -b- 2 -c- 3, plus a spur d at 1.
        let straight = vec![
            line(0, 0, 1, 0.0, 10.0),
            line(1, 1, 2, 10.0, 10.0),
            line(2, 2, 3, 20.0, 10.0),
            line(3, 1, 9, 10.0, 5.0),
        ];
        // Fork between intersections 1 and 3: one long segment (100 m) or two short ones via
        // 2 (1 + 1 m), so fewer hops loses to less length; segment 5 is isolated on 7-8. The
        // long branch is listed first so insertion order cannot decide.
        let fork = vec![
            line(0, 0, 1, 0.0, 10.0),
            line(1, 1, 3, 10.0, 100.0),
            line(3, 1, 2, 10.0, 1.0),
            line(4, 2, 3, 11.0, 1.0),
            line(6, 3, 5, 12.0, 10.0),
            line(5, 7, 8, 500.0, 10.0),
        ];
        type Case<'a> = (&'a str, &'a [Segment], u32, u32, Option<Vec<u32>>);
        let cases: [Case; 7] = [
            ("straight", &straight, 0, 2, Some(vec![0, 1, 2])),
            ("straight backwards", &straight, 2, 0, Some(vec![2, 1, 0])),
            ("neighbours", &straight, 0, 3, Some(vec![0, 3])),
            ("same segment", &straight, 1, 1, Some(vec![1])),
            (
                "fork takes the shorter branch",
                &fork,
                0,
                6,
                Some(vec![0, 3, 4, 6]),
            ),
            ("disconnected", &fork, 0, 5, None),
            ("unknown road", &straight, 0, 42, None),
        ];
        for (what, segs, from, to, want) in cases {
            assert_eq!(route_between(segs, from, to), want, "{what}");
        }
    }

    #[test]
    fn route_length_sums_the_segments() {
        let segs = vec![line(0, 0, 1, 0.0, 10.0), line(1, 1, 2, 10.0, 2.5)];
        assert_eq!(route_length(&segs, &[0, 1]), 12.5);
    }
}
