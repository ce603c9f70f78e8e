//! Trail clusters (spec §3.5, `paths.sql`): connected components of geometrically intersecting
//! `functional_class = path` segments, as `ST_ClusterIntersecting` builds them.

use geo::{BoundingRect, Intersects};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::{FunctionalClass, Segment, TrailCluster};
use crate::network::graph::{pg_rint, st_length};

type RoadBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Clusters the path segments and records each segment's cluster in `Segment::path_id`
/// (`None` for every other segment).
///
/// Clusters are ordered by their smallest `road_id` and `path_id` is the index in the returned
/// vector, so the result does not depend on hashing or thread scheduling. Lengths are rounded as
/// the reference's INTEGER columns `path_length` / `bbox_length` round them (half to even).
pub fn trail_clusters(segments: &mut [Segment]) -> Vec<TrailCluster> {
    let paths: Vec<u32> = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.attrs.functional_class == FunctionalClass::Path && !s.geom.0.is_empty())
        .map(|(i, _)| i as u32)
        .collect();

    let boxes: Vec<RoadBox> = paths
        .iter()
        .filter_map(|&r| {
            let b = segments[r as usize].geom.bounding_rect()?;
            let rect = Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
            Some(GeomWithData::new(rect, r))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);

    let mut sets = UnionFind::new(segments.len());
    for &r in &paths {
        let geom = &segments[r as usize].geom;
        let Some(b) = geom.bounding_rect() else {
            continue;
        };
        let env = AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
        for other in tree.locate_in_envelope_intersecting(&env) {
            let o = other.data;
            if o > r && geom.intersects(&segments[o as usize].geom) {
                sets.union(r, o);
            }
        }
    }

    // Group by root, in order of each cluster's smallest member (paths are in road order).
    let mut cluster_of_root: std::collections::HashMap<u32, usize> = Default::default();
    let mut members: Vec<Vec<u32>> = Vec::new();
    for &r in &paths {
        let root = sets.find(r);
        let idx = *cluster_of_root.entry(root).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[idx].push(r);
    }

    for s in segments.iter_mut() {
        s.path_id = None;
    }
    members
        .into_iter()
        .enumerate()
        .map(|(path_id, road_ids)| {
            let path_id = path_id as u32;
            let mut length = 0.0;
            let (mut min_x, mut min_y) = (f64::INFINITY, f64::INFINITY);
            let (mut max_x, mut max_y) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
            for &r in &road_ids {
                let s = &mut segments[r as usize];
                s.path_id = Some(path_id);
                length += st_length(&s.geom);
                for c in &s.geom.0 {
                    min_x = min_x.min(c.x);
                    min_y = min_y.min(c.y);
                    max_x = max_x.max(c.x);
                    max_y = max_y.max(c.y);
                }
            }
            let (dx, dy) = (max_x - min_x, max_y - min_y);
            TrailCluster {
                path_id,
                road_ids,
                path_length: pg_rint(length) as f64,
                bbox_length: pg_rint((dx * dx + dy * dy).sqrt()) as f64,
            }
        })
        .collect()
}

/// Disjoint sets over road ids, with path halving.
struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = self.parent[x as usize];
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller id becomes the root, which keeps the structure independent of call order.
        if ra < rb {
            self.parent[rb as usize] = ra;
        } else if rb < ra {
            self.parent[ra as usize] = rb;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::graph::tests::seg;
    use crate::params::{TRAIL_MIN_BBOX_M, TRAIL_MIN_LENGTH_M};

    fn path(road_id: u32, from: u32, to: u32, coords: &[(f64, f64)]) -> Segment {
        let mut s = seg(road_id, from, to, coords);
        s.attrs.functional_class = FunctionalClass::Path;
        s
    }

    #[test]
    fn crossing_paths_without_shared_node_join() {
        let mut segs = vec![
            path(0, 0, 1, &[(0.0, 0.0), (100.0, 0.0)]),
            // Crosses road 0 at (50, 0) without a shared node.
            path(1, 2, 3, &[(50.0, -50.0), (50.0, 50.0)]),
            // Far away: its own cluster.
            path(2, 4, 5, &[(1000.0, 0.0), (1100.0, 0.0)]),
            // A road touching road 2 is not a path and stays out.
            seg(3, 5, 6, &[(1100.0, 0.0), (1200.0, 0.0)]),
        ];
        let clusters = trail_clusters(&mut segs);
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0].road_ids, vec![0, 1]);
        assert_eq!(clusters[0].path_length, 200.0);
        assert_eq!(
            clusters[0].bbox_length,
            pg_rint(100.0f64.hypot(100.0)) as f64
        );
        assert_eq!(clusters[1].road_ids, vec![2]);
        let ids: Vec<_> = segs.iter().map(|s| s.path_id).collect();
        assert_eq!(ids, vec![Some(0), Some(0), Some(1), None]);
    }

    #[test]
    fn chained_paths_through_shared_nodes_join() {
        let mut segs = vec![
            path(0, 0, 1, &[(0.0, 0.0), (10.0, 0.0)]),
            path(1, 2, 3, &[(30.0, 0.0), (40.0, 0.0)]),
            path(2, 1, 2, &[(10.0, 0.0), (30.0, 0.0)]),
        ];
        let clusters = trail_clusters(&mut segs);
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].road_ids, vec![0, 1, 2]);
        assert_eq!(clusters[0].path_length, 40.0);
    }

    #[test]
    fn lengths_round_half_to_even_like_integer_columns() {
        let mut segs = vec![path(0, 0, 1, &[(0.0, 0.0), (4800.5, 0.0)])];
        let clusters = trail_clusters(&mut segs);
        assert_eq!(clusters[0].path_length, 4800.0);
        assert_eq!(clusters[0].bbox_length, 4800.0);
    }

    #[test]
    fn qualifies_thresholds_are_strict() {
        let c = |path_length, bbox_length| TrailCluster {
            path_id: 0,
            road_ids: vec![],
            path_length,
            bbox_length,
        };
        let rows = [
            (TRAIL_MIN_LENGTH_M + 1.0, TRAIL_MIN_BBOX_M + 1.0, true),
            (TRAIL_MIN_LENGTH_M, TRAIL_MIN_BBOX_M + 1.0, false),
            (TRAIL_MIN_LENGTH_M + 1.0, TRAIL_MIN_BBOX_M, false),
            (10_000.0, 100.0, false),
        ];
        for (len, bbox, want) in rows {
            assert_eq!(c(len, bbox).qualifies(), want, "{len} / {bbox}");
        }
    }
}
