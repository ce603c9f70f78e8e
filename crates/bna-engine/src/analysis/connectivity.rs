//! Reachable roads and connected block pairs (spec §5.4, §5.5) and trail access (§7.1).
//!
//! Every source block gets one bounded multi-source Dijkstra on all links and one on the
//! low-stress links, seeded at cost 0 with the block's roads that intersect the boundary. The
//! reached roads are folded into per-target-block minimum costs through a road → blocks index,
//! which replaces the reference's correlated `MIN(... ANY(road_ids))` subqueries.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use geo::indexed::IntervalTreeMultiPolygon;
use geo::{
    BoundingRect, Contains, Coord, Distance, Euclidean, Intersects, Line, MultiPolygon, Rect,
};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::{Block, BlockPair, Segment, TrailCluster};
use crate::network::graph::{LineGraph, Network};
use crate::params::{LOW_STRESS_DETOUR_RATIO, MAX_TRIP_DISTANCE_M};
use crate::progress::{Cancelled, StageProgress};

const UNREACHED: u32 = u32::MAX;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectivityResult {
    /// Sorted by (source, target).
    pub pairs: Vec<BlockPair>,
    /// Pairs per source block, in block order.
    pub reachable_blocks: Vec<u32>,
    /// Qualifying trail clusters reached (low, high) per block, in block order.
    pub trail_counts: Vec<(u32, u32)>,
}

/// Runs §5.4–5.5 and the trail counts of §7.1 with every block as a source.
/// `block_roads[b]` are the road ids of block `b` (§5.3); trail clusters that do not
/// `qualify()` are ignored.
pub fn connectivity(
    graph: &LineGraph,
    segments: &[Segment],
    blocks: &[Block],
    block_roads: &[Vec<u32>],
    boundary: &MultiPolygon<f64>,
    trails: &[TrailCluster],
    progress: &dyn StageProgress,
) -> Result<ConnectivityResult, Cancelled> {
    progress.set_total(blocks.len() as u64);
    let n_vert = graph.vertex_count();
    let roads_of = |b: usize| block_roads.get(b).map(Vec::as_slice).unwrap_or(&[]);

    let in_boundary = roads_touching_boundary(segments, block_roads, boundary);
    let road_blocks = Inverted::build(n_vert, (0..blocks.len()).map(|b| (b as u32, roads_of(b))));
    let qualifying: Vec<&TrailCluster> = trails.iter().filter(|t| t.qualifies()).collect();
    let road_trails = Inverted::build(
        n_vert,
        qualifying
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u32, t.road_ids.as_slice())),
    );
    let shapes: Vec<BlockShape> = blocks.iter().map(|b| BlockShape::new(&b.geom)).collect();
    let ctx = Context {
        graph,
        blocks,
        shapes: &shapes,
        in_boundary: &in_boundary,
        road_blocks: &road_blocks,
        road_trails: &road_trails,
        n_trails: qualifying.len(),
    };

    let per_block: Vec<(Vec<BlockPair>, (u32, u32))> = (0..blocks.len())
        .into_par_iter()
        .map_init(
            || Workspace::new(n_vert, blocks.len(), qualifying.len()),
            |ws, s| {
                progress.check()?;
                let out = ctx.source_block(s as u32, roads_of, ws);
                progress.inc(1);
                Ok(out)
            },
        )
        .collect::<Result<_, Cancelled>>()?;

    let mut result = ConnectivityResult {
        pairs: Vec::with_capacity(per_block.iter().map(|(p, _)| p.len()).sum()),
        reachable_blocks: Vec::with_capacity(blocks.len()),
        trail_counts: Vec::with_capacity(blocks.len()),
    };
    for (pairs, trails) in per_block {
        result.reachable_blocks.push(pairs.len() as u32);
        result.trail_counts.push(trails);
        result.pairs.extend(pairs);
    }
    Ok(result)
}

/// The §5.5 `low_stress` rule: a shared road, or a low-stress cost within 1.25× the high-stress
/// cost (or any low-stress cost when the high-stress cost is NULL or 0).
pub fn is_low_stress_pair(shared_road: bool, low: Option<u32>, high: Option<u32>) -> bool {
    if shared_road {
        return true;
    }
    let Some(low) = low else {
        return false;
    };
    match high {
        None | Some(0) => true,
        // `low_stress_cost::FLOAT / high_stress_cost <= 1.25`
        Some(high) => low as f64 / high as f64 <= LOW_STRESS_DETOUR_RATIO,
    }
}

/// Whether each road intersects the boundary (the seed condition of §5.4). Only roads that some
/// block lists are tested; the rest are `false`.
pub fn roads_touching_boundary(
    segments: &[Segment],
    block_roads: &[Vec<u32>],
    boundary: &MultiPolygon<f64>,
) -> Vec<bool> {
    let mut wanted = vec![false; segments.len()];
    for &r in block_roads.iter().flatten() {
        if let Some(w) = wanted.get_mut(r as usize) {
            *w = true;
        }
    }
    let index = BoundaryIndex::new(boundary);
    segments
        .par_iter()
        .zip(wanted.par_iter())
        .map(|(s, &w)| w && index.intersects(&s.geom))
        .collect()
}

type EdgeBox = GeomWithData<Rectangle<[f64; 2]>, Line<f64>>;

/// The boundary prepared for many `ST_Intersects(boundary, road)` tests: a line intersects the
/// area iff its first vertex is inside or one of its segments touches a ring edge.
struct BoundaryIndex {
    area: IntervalTreeMultiPolygon<f64>,
    edges: RTree<EdgeBox>,
}

impl BoundaryIndex {
    fn new(boundary: &MultiPolygon<f64>) -> Self {
        let edges = boundary
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines())
            .map(|l| {
                let r = l.bounding_rect();
                let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                GeomWithData::new(rect, l)
            })
            .collect();
        Self {
            area: IntervalTreeMultiPolygon::new(boundary),
            edges: RTree::bulk_load(edges),
        }
    }

    fn intersects(&self, line: &geo::LineString<f64>) -> bool {
        let Some(&first) = line.0.first() else {
            return false;
        };
        if self.area.contains(&first) {
            return true;
        }
        let touches = |a: Coord<f64>, b: Coord<f64>| {
            let seg = Line::new(a, b);
            let r = seg.bounding_rect();
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            self.edges
                .locate_in_envelope_intersecting(&env)
                .any(|e| e.data.intersects(&seg))
        };
        if line.0.len() == 1 {
            return touches(first, first);
        }
        line.0.windows(2).any(|w| touches(w[0], w[1]))
    }
}

/// Items grouped by key in one flat array (CSR): `items_of(k)` lists, in input order, the items
/// whose key list contains `k`.
struct Inverted {
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl Inverted {
    fn build<'a>(n_keys: usize, lists: impl Iterator<Item = (u32, &'a [u32])> + Clone) -> Self {
        let mut offsets = vec![0u32; n_keys + 1];
        for (_, keys) in lists.clone() {
            for &k in keys {
                if (k as usize) < n_keys {
                    offsets[k as usize + 1] += 1;
                }
            }
        }
        for i in 0..n_keys {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut items = vec![0u32; offsets[n_keys] as usize];
        for (item, keys) in lists {
            for &k in keys {
                if (k as usize) < n_keys {
                    items[fill[k as usize] as usize] = item;
                    fill[k as usize] += 1;
                }
            }
        }
        Self { offsets, items }
    }

    #[inline]
    fn items_of(&self, key: u32) -> &[u32] {
        let k = key as usize;
        match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// What the `ST_DWithin(source, target, 2680)` test needs, precomputed per block.
struct BlockShape {
    env: Option<Rect<f64>>,
    anchor: Option<Coord<f64>>,
}

impl BlockShape {
    fn new(geom: &MultiPolygon<f64>) -> Self {
        Self {
            env: geom.bounding_rect(),
            anchor: geom
                .iter()
                .flat_map(|p| p.exterior().0.first())
                .next()
                .copied(),
        }
    }
}

/// `ST_DWithin(a, b, d)` for block polygons, with cheap accept/reject tests before the exact
/// polygon distance.
fn within_distance(a: &Block, sa: &BlockShape, b: &Block, sb: &BlockShape, d: f64) -> bool {
    let (Some(ea), Some(eb), Some(pa), Some(pb)) = (sa.env, sb.env, sa.anchor, sb.anchor) else {
        return false;
    };
    let gap_x = (eb.min().x - ea.max().x)
        .max(ea.min().x - eb.max().x)
        .max(0.0);
    let gap_y = (eb.min().y - ea.max().y)
        .max(ea.min().y - eb.max().y)
        .max(0.0);
    if gap_x * gap_x + gap_y * gap_y > d * d {
        return false;
    }
    let (dx, dy) = (pa.x - pb.x, pa.y - pb.y);
    if dx * dx + dy * dy <= d * d {
        return true;
    }
    Euclidean.distance(&a.geom, &b.geom) <= d
}

/// Per-thread buffers, sized once and reset through touched lists.
struct Workspace {
    dist: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<u64>>,
    seeds: Vec<u32>,
    high: Vec<u32>,
    low: Vec<u32>,
    reached_blocks: Vec<u32>,
    shared: Vec<u32>,
    trail_seen: Vec<u32>,
    /// Stamp for `shared` / `trail_seen`; bumped per use so they never need clearing.
    stamp: u32,
}

impl Workspace {
    fn new(n_vert: usize, n_blocks: usize, n_trails: usize) -> Self {
        Self {
            dist: vec![UNREACHED; n_vert],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            seeds: Vec::new(),
            high: vec![UNREACHED; n_blocks],
            low: vec![UNREACHED; n_blocks],
            reached_blocks: Vec::new(),
            shared: vec![0; n_blocks],
            trail_seen: vec![0; n_trails],
            stamp: 0,
        }
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // After 2^32 uses stale marks could alias; clear once and start over.
            self.shared.fill(0);
            self.trail_seen.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }
}

/// Bounded multi-source Dijkstra: afterwards `ws.touched` lists the reached vertices and
/// `ws.dist` holds their cost (≤ `max`); seeds cost 0. Call `reset_search` before reuse.
fn bounded_dijkstra(graph: &LineGraph, network: Network, max: u32, ws: &mut SearchBuffers<'_>) {
    let SearchBuffers {
        dist,
        touched,
        heap,
        seeds,
    } = ws;
    for &s in seeds.iter() {
        let Some(d) = dist.get_mut(s as usize) else {
            continue;
        };
        if *d != 0 {
            if *d == UNREACHED {
                touched.push(s);
            }
            *d = 0;
            heap.push(Reverse(s as u64));
        }
    }
    while let Some(Reverse(key)) = heap.pop() {
        let (d, v) = ((key >> 32) as u32, key as u32);
        if d > dist[v as usize] {
            continue; // stale entry
        }
        let (targets, costs) = graph.out_arcs(v, network);
        for (&t, &c) in targets.iter().zip(costs) {
            let nd = d.saturating_add(c);
            let slot = &mut dist[t as usize];
            if nd <= max && nd < *slot {
                if *slot == UNREACHED {
                    touched.push(t);
                }
                *slot = nd;
                heap.push(Reverse(((nd as u64) << 32) | t as u64));
            }
        }
    }
}

/// Borrowed view of the search part of a workspace.
struct SearchBuffers<'a> {
    dist: &'a mut Vec<u32>,
    touched: &'a mut Vec<u32>,
    heap: &'a mut BinaryHeap<Reverse<u64>>,
    seeds: &'a [u32],
}

fn reset_search(dist: &mut [u32], touched: &mut Vec<u32>) {
    for &v in touched.iter() {
        dist[v as usize] = UNREACHED;
    }
    touched.clear();
}

struct Context<'a> {
    graph: &'a LineGraph,
    blocks: &'a [Block],
    shapes: &'a [BlockShape],
    in_boundary: &'a [bool],
    road_blocks: &'a Inverted,
    road_trails: &'a Inverted,
    n_trails: usize,
}

impl Context<'_> {
    /// Pairs (sorted by target) and (low, high) trail counts of one source block.
    fn source_block<'r>(
        &self,
        s: u32,
        roads_of: impl Fn(usize) -> &'r [u32],
        ws: &mut Workspace,
    ) -> (Vec<BlockPair>, (u32, u32)) {
        let roads = roads_of(s as usize);
        let mut seeds = std::mem::take(&mut ws.seeds);
        seeds.clear();
        seeds.extend(
            roads
                .iter()
                .copied()
                .filter(|&r| self.in_boundary.get(r as usize).copied().unwrap_or(false)),
        );
        if seeds.is_empty() {
            ws.seeds = seeds;
            return (Vec::new(), (0, 0));
        }

        let high_trails = self.search(Network::All, &seeds, ws);
        let low_trails = self.search(Network::LowStress, &seeds, ws);
        ws.seeds = seeds;

        // Blocks sharing a road with the source (`road_ids && road_ids`), the source included.
        let stamp = ws.next_stamp();
        for &r in roads {
            for &b in self.road_blocks.items_of(r) {
                ws.shared[b as usize] = stamp;
            }
        }

        ws.reached_blocks.sort_unstable();
        let (src_block, src_shape) = (&self.blocks[s as usize], &self.shapes[s as usize]);
        let max = MAX_TRIP_DISTANCE_M as f64;
        let mut pairs = Vec::new();
        for &t in &ws.reached_blocks {
            let ti = t as usize;
            let high = Some(ws.high[ti]).filter(|&c| c != UNREACHED);
            let low = Some(ws.low[ti]).filter(|&c| c != UNREACHED);
            ws.high[ti] = UNREACHED;
            ws.low[ti] = UNREACHED;
            if !within_distance(
                src_block,
                src_shape,
                &self.blocks[ti],
                &self.shapes[ti],
                max,
            ) {
                continue;
            }
            pairs.push(BlockPair {
                source: s,
                target: t,
                low_stress: is_low_stress_pair(ws.shared[ti] == stamp, low, high),
                low_stress_cost: low,
                high_stress_cost: high,
            });
        }
        ws.reached_blocks.clear();
        (pairs, (low_trails, high_trails))
    }

    /// One bounded search; folds reached roads into per-block minimum costs and returns the
    /// number of qualifying trail clusters reached.
    fn search(&self, network: Network, seeds: &[u32], ws: &mut Workspace) -> u32 {
        bounded_dijkstra(
            self.graph,
            network,
            MAX_TRIP_DISTANCE_M,
            &mut SearchBuffers {
                dist: &mut ws.dist,
                touched: &mut ws.touched,
                heap: &mut ws.heap,
                seeds,
            },
        );
        let stamp = ws.next_stamp();
        let mut trails = 0;
        let per_block = match network {
            Network::All => &mut ws.high,
            Network::LowStress => &mut ws.low,
        };
        for &v in &ws.touched {
            let d = ws.dist[v as usize];
            for &b in self.road_blocks.items_of(v) {
                let slot = &mut per_block[b as usize];
                // The low-stress network is a subgraph searched from the same seeds, so every
                // block it reaches was already listed by the search on all links.
                if network == Network::All && *slot == UNREACHED {
                    ws.reached_blocks.push(b);
                }
                if d < *slot {
                    *slot = d;
                }
            }
            if self.n_trails > 0 {
                for &c in self.road_trails.items_of(v) {
                    if ws.trail_seen[c as usize] != stamp {
                        ws.trail_seen[c as usize] = stamp;
                        trails += 1;
                    }
                }
            }
        }
        reset_search(&mut ws.dist, &mut ws.touched);
        trails
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HIGH_STRESS;
    use crate::network::graph::build_line_graph;
    use crate::network::graph::tests::{ints, seg};
    use crate::progress::Counter;
    use geo::polygon;
    use std::sync::atomic::Ordering;

    fn square(x0: f64, y0: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0),
            (x: x0 + side, y: y0),
            (x: x0 + side, y: y0 + side),
            (x: x0, y: y0 + side),
            (x: x0, y: y0),
        ]])
    }

    fn block(geom: MultiPolygon<f64>) -> Block {
        Block {
            geoid: String::new(),
            geom,
            geom_ll: MultiPolygon(vec![]),
            population: 0.0,
            jobs: 0.0,
            aland: None,
        }
    }

    /// Straight chain of segments along y = 0 with the given lengths, joined end to end.
    fn chain(lengths: &[f64]) -> Vec<Segment> {
        let mut x = 0.0;
        lengths
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let s = seg(i as u32, i as u32, i as u32 + 1, &[(x, 0.0), (x + l, 0.0)]);
                x += l;
                s
            })
            .collect()
    }

    fn search(graph: &LineGraph, network: Network, seeds: &[u32]) -> Vec<(u32, u32)> {
        let mut dist = vec![UNREACHED; graph.vertex_count()];
        let mut touched = Vec::new();
        let mut heap = BinaryHeap::new();
        bounded_dijkstra(
            graph,
            network,
            MAX_TRIP_DISTANCE_M,
            &mut SearchBuffers {
                dist: &mut dist,
                touched: &mut touched,
                heap: &mut heap,
                seeds,
            },
        );
        let mut out: Vec<_> = touched.iter().map(|&v| (v, dist[v as usize])).collect();
        out.sort();
        out
    }

    #[test]
    fn dijkstra_bound_is_inclusive_at_2680() {
        // 0→1 = (1000+2360)/2 = 1680, 1→2 = 1680: road 2 at 3360 is beyond the bound.
        let far = chain(&[1000.0, 2360.0, 1000.0]);
        let g = build_line_graph(&far, &ints(4));
        assert_eq!(search(&g, Network::All, &[0]), vec![(0, 0), (1, 1680)]);

        // 0→1 = (1360+1000)/2 = 1180, 1→2 = (1000+2000)/2 = 1500 → 2680: reached.
        let at = chain(&[1360.0, 1000.0, 2000.0]);
        let g = build_line_graph(&at, &ints(4));
        assert_eq!(
            search(&g, Network::All, &[0]),
            vec![(0, 0), (1, 1180), (2, 2680)]
        );

        // One metre more on the last segment: 1→2 = (1000+2002)/2 = 1501 → 2681: not reached.
        let over = chain(&[1360.0, 1000.0, 2002.0]);
        let g = build_line_graph(&over, &ints(4));
        assert_eq!(search(&g, Network::All, &[0]), vec![(0, 0), (1, 1180)]);
    }

    #[test]
    fn multi_source_seeds_cost_zero_and_take_the_minimum() {
        let segs = chain(&[100.0, 100.0, 100.0, 100.0]);
        let g = build_line_graph(&segs, &ints(5));
        assert_eq!(
            search(&g, Network::All, &[0, 3]),
            vec![(0, 0), (1, 100), (2, 100), (3, 0)]
        );
    }

    #[test]
    fn low_stress_search_skips_high_stress_links() {
        let mut segs = chain(&[100.0, 100.0, 100.0]);
        segs[1].stress.ft_seg = Some(HIGH_STRESS);
        let g = build_line_graph(&segs, &ints(4));
        assert_eq!(search(&g, Network::LowStress, &[0]), vec![(0, 0)]);
        assert_eq!(
            search(&g, Network::All, &[0]),
            vec![(0, 0), (1, 100), (2, 200)]
        );
        // The other direction stays low stress (tf of road 1 is 1).
        assert_eq!(
            search(&g, Network::LowStress, &[2]),
            vec![(0, 200), (1, 100), (2, 0)]
        );
    }

    #[test]
    fn pair_rule_table() {
        let rows = [
            // (shared road, low, high, low_stress)
            (true, None, Some(100), true),
            (true, None, None, true),
            (false, Some(125), Some(100), true), // ratio 1.25 exactly
            (false, Some(126), Some(100), false), // ratio 1.26
            (false, Some(100), Some(100), true),
            (false, Some(50), Some(0), true), // high 0
            (false, Some(50), None, true),    // high NULL
            (false, None, Some(100), false),
            (false, None, None, false),
        ];
        for (shared, low, high, want) in rows {
            assert_eq!(
                is_low_stress_pair(shared, low, high),
                want,
                "shared={shared} low={low:?} high={high:?}"
            );
        }
    }

    /// Three blocks along a chain of 100 m roads; road 1 is high stress in both directions.
    ///
    /// ```text
    /// block 0 [0,100]   block 1 [100,200]   block 2 [200,300]     (x, all 0 ≤ y ≤ 50)
    /// road 0 ---------- road 1 ------------ road 2 -----------   (y = 0)
    /// ```
    fn three_blocks() -> (Vec<Segment>, Vec<Block>, Vec<Vec<u32>>) {
        let mut segs = chain(&[100.0, 100.0, 100.0]);
        segs[1].stress.ft_seg = Some(HIGH_STRESS);
        segs[1].stress.tf_seg = Some(HIGH_STRESS);
        let blocks = vec![
            block(square(0.0, 0.0, 50.0)),
            block(square(100.0, 0.0, 50.0)),
            block(square(200.0, 0.0, 50.0)),
        ];
        let roads = vec![vec![0], vec![1], vec![2]];
        (segs, blocks, roads)
    }

    fn run(
        segs: &[Segment],
        blocks: &[Block],
        roads: &[Vec<u32>],
        boundary: &MultiPolygon<f64>,
        trails: &[TrailCluster],
    ) -> ConnectivityResult {
        let g = build_line_graph(segs, &ints(segs.len() + 1));
        let progress = Counter::default();
        let r = connectivity(&g, segs, blocks, roads, boundary, trails, &progress)
            .expect("not cancelled");
        assert_eq!(progress.done.load(Ordering::Relaxed), blocks.len() as u64);
        r
    }

    fn pair(
        source: u32,
        target: u32,
        low_stress: bool,
        low: Option<u32>,
        high: Option<u32>,
    ) -> BlockPair {
        BlockPair {
            source,
            target,
            low_stress,
            low_stress_cost: low,
            high_stress_cost: high,
        }
    }

    #[test]
    fn pairs_costs_and_low_stress_flags() {
        let (segs, blocks, roads) = three_blocks();
        let boundary = square(-10.0, -10.0, 400.0);
        let r = run(&segs, &blocks, &roads, &boundary, &[]);
        let want = vec![
            pair(0, 0, true, Some(0), Some(0)),
            pair(0, 1, false, None, Some(100)),
            pair(0, 2, false, None, Some(200)),
            pair(1, 0, false, None, Some(100)),
            // A seed costs 0 on both networks, even on a high-stress road.
            pair(1, 1, true, Some(0), Some(0)),
            pair(1, 2, false, None, Some(100)),
            pair(2, 0, false, None, Some(200)),
            pair(2, 1, false, None, Some(100)),
            pair(2, 2, true, Some(0), Some(0)),
        ];
        assert_eq!(r.pairs, want);
        assert_eq!(r.reachable_blocks, vec![3, 3, 3]);
    }

    #[test]
    fn shared_road_makes_a_pair_low_stress() {
        let (segs, blocks, mut roads) = three_blocks();
        roads[1] = vec![0, 1]; // block 1 also lists road 0, shared with block 0
        let boundary = square(-10.0, -10.0, 400.0);
        let r = run(&segs, &blocks, &roads, &boundary, &[]);
        let p01 = r
            .pairs
            .iter()
            .find(|p| p.source == 0 && p.target == 1)
            .expect("pair");
        assert!(p01.low_stress);
        assert_eq!(p01.high_stress_cost, Some(0));
        assert_eq!(p01.low_stress_cost, Some(0));
    }

    #[test]
    fn detour_ratio_decides_low_stress() {
        // A direct high-stress road (0 → 1) of cost 100 and a low-stress detour through road 2.
        // Square-ish network: roads 0 (a→b), 1 (b→c) high stress, 2 (b→d), 3 (d→c).
        let mut segs = vec![
            seg(0, 0, 1, &[(0.0, 0.0), (100.0, 0.0)]),
            seg(1, 1, 2, &[(100.0, 0.0), (200.0, 0.0)]),
            seg(2, 1, 3, &[(100.0, 0.0), (100.0, 12.5), (150.0, 12.5)]),
            seg(3, 3, 2, &[(150.0, 12.5), (200.0, 12.5), (200.0, 0.0)]),
            seg(4, 2, 4, &[(200.0, 0.0), (300.0, 0.0)]),
        ];
        segs[1].stress.ft_seg = Some(HIGH_STRESS);
        segs[1].stress.tf_seg = Some(HIGH_STRESS);
        let g = build_line_graph(&segs, &ints(5));
        // High: 0 → 1 → 4 = 100 + 100 = 200. Low: 0 → 2 → 3 → 4 = 81 + 62 + 81 = 224 → 1.12.
        let high = search(&g, Network::All, &[0]);
        let low = search(&g, Network::LowStress, &[0]);
        assert_eq!(high.iter().find(|(v, _)| *v == 4), Some(&(4, 200)));
        assert_eq!(low.iter().find(|(v, _)| *v == 4), Some(&(4, 224)));

        let blocks = vec![
            block(square(0.0, -60.0, 50.0)),
            block(square(250.0, -60.0, 50.0)),
        ];
        let roads = vec![vec![0], vec![4]];
        let boundary = square(-10.0, -100.0, 400.0);
        let r = run(&segs, &blocks, &roads, &boundary, &[]);
        let p = r
            .pairs
            .iter()
            .find(|p| p.source == 0 && p.target == 1)
            .expect("pair");
        assert_eq!(
            (p.low_stress_cost, p.high_stress_cost),
            (Some(224), Some(200))
        );
        assert!(p.low_stress);
    }

    #[test]
    fn only_boundary_roads_seed_a_block() {
        let (segs, blocks, mut roads) = three_blocks();
        roads[0] = vec![0, 2]; // road 2 lies outside the boundary below
        let boundary = square(-10.0, -10.0, 150.0); // covers roads 0 and 1 only
        let r = run(&segs, &blocks, &roads, &boundary, &[]);
        let from0: Vec<_> = r
            .pairs
            .iter()
            .filter(|p| p.source == 0)
            .map(|p| p.target)
            .collect();
        assert_eq!(from0, vec![0, 1, 2]);
        let p02 = r
            .pairs
            .iter()
            .find(|p| p.source == 0 && p.target == 2)
            .expect("pair");
        // Seeded only from road 0: road 2 is at 200, not at 0.
        assert_eq!(p02.high_stress_cost, Some(200));
        assert!(p02.low_stress, "shared road 2");
        // Block 2's only road is outside: no seeds, no pairs.
        assert_eq!(r.reachable_blocks[2], 0);
    }

    #[test]
    fn targets_beyond_2680_m_polygon_distance_are_dropped() {
        // Road 0 is 5000 m long, so its midpoint-to-midpoint cost to road 1 is 2550, but the
        // far block lies ~4950 m away from the near one.
        let segs = chain(&[5000.0, 100.0]);
        let blocks = vec![
            block(square(0.0, 10.0, 40.0)),
            block(square(5000.0, 10.0, 40.0)),
        ];
        let roads = vec![vec![0], vec![1]];
        let boundary = square(-10.0, -10.0, 6000.0);
        let r = run(&segs, &blocks, &roads, &boundary, &[]);
        assert_eq!(
            r.pairs,
            vec![
                pair(0, 0, true, Some(0), Some(0)),
                pair(1, 1, true, Some(0), Some(0))
            ]
        );
    }

    #[test]
    fn trail_counts_per_block() {
        let (segs, blocks, roads) = three_blocks();
        let big = |path_id, road_ids| TrailCluster {
            path_id,
            road_ids,
            path_length: 5000.0,
            bbox_length: 4000.0,
        };
        let trails = vec![
            big(0, vec![2]),
            // Too short to qualify although reachable.
            TrailCluster {
                path_id: 1,
                road_ids: vec![0],
                path_length: 100.0,
                bbox_length: 100.0,
            },
            big(2, vec![1]),
        ];
        let boundary = square(-10.0, -10.0, 400.0);
        let r = run(&segs, &blocks, &roads, &boundary, &trails);
        // Block 0: low reaches road 0 only; high reaches roads 0–2 → both big trails.
        // Block 1: seeded on the high-stress road 1 itself (cost 0 on both networks, no
        // low-stress link out of it).
        // Block 2: low reaches road 2.
        assert_eq!(r.trail_counts, vec![(0, 2), (1, 2), (1, 2)]);
    }

    #[test]
    fn cancellation_stops_the_run() {
        let (segs, blocks, roads) = three_blocks();
        let g = build_line_graph(&segs, &ints(4));
        let progress = Counter::default();
        progress.cancel.store(true, Ordering::Relaxed);
        let boundary = square(-10.0, -10.0, 400.0);
        let r = connectivity(&g, &segs, &blocks, &roads, &boundary, &[], &progress);
        assert_eq!(r, Err(Cancelled));
    }

    /// Single-source Dijkstra straight over the link table (no CSR, no bound until the end),
    /// as the legacy per-road `pgr_drivingDistance` runs did.
    fn naive_costs(graph: &LineGraph, low_only: bool, from: u32) -> Vec<Option<u32>> {
        let mut dist = vec![None::<u32>; graph.vertex_count()];
        dist[from as usize] = Some(0);
        let mut done = vec![false; graph.vertex_count()];
        loop {
            let next = (0..dist.len())
                .filter(|&v| !done[v])
                .filter_map(|v| dist[v].map(|d| (d, v)))
                .min();
            let Some((d, v)) = next else { break };
            done[v] = true;
            for l in graph.links().iter().filter(|l| l.source_road as usize == v) {
                if low_only && l.stress != Some(1) {
                    continue;
                }
                let t = l.target_road as usize;
                let nd = d + l.cost;
                if dist[t].is_none_or(|old| nd < old) {
                    dist[t] = Some(nd);
                }
            }
        }
        dist.into_iter()
            .map(|d| d.filter(|&d| d <= MAX_TRIP_DISTANCE_M))
            .collect()
    }

    #[test]
    fn matches_a_naive_per_road_computation() {
        // A 12 × 12 grid of 400 m blocks' worth of roads with pseudo-random stress and one-ways,
        // and blocks of varied size; the per-block multi-source search must equal per-road
        // searches followed by a MIN over the block's roads (spec §5.4).
        let n = 12u32;
        let sp = 230.0;
        let mut state = 0x9e37_79b9_u64;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut segs = Vec::new();
        for i in 0..n {
            for j in 0..n {
                for (di, dj) in [(1, 0), (0, 1)] {
                    if i + di >= n || j + dj >= n {
                        continue;
                    }
                    let (x, y) = (i as f64 * sp, j as f64 * sp);
                    let (x2, y2) = ((i + di) as f64 * sp, (j + dj) as f64 * sp);
                    let r = rnd();
                    let mut s = seg(
                        segs.len() as u32,
                        i * n + j,
                        (i + di) * n + j + dj,
                        &[(x, y), (x2 + (r % 3) as f64 * 0.25, y2)],
                    );
                    if r % 4 == 0 {
                        s.stress.ft_seg = Some(HIGH_STRESS);
                    }
                    if r % 5 == 0 {
                        s.stress.tf_int = Some(HIGH_STRESS);
                    }
                    if r % 11 == 0 {
                        s.attrs.one_way = Some(crate::model::Direction::Ft);
                        s.stress.tf_seg = None;
                    }
                    segs.push(s);
                }
            }
        }
        let ints = ints((n * n) as usize);
        let g = build_line_graph(&segs, &ints);
        let mut blocks = Vec::new();
        for a in 0..8 {
            for b in 0..8 {
                let side = 60.0 + (rnd() % 200) as f64;
                blocks.push(block(square(
                    a as f64 * 330.0 + 10.0,
                    b as f64 * 330.0 + 10.0,
                    side,
                )));
            }
        }
        let roads = crate::analysis::block_roads::block_roads(&blocks, &segs);
        let boundary = square(100.0, 100.0, 2000.0);
        let r = run(&segs, &blocks, &roads, &boundary, &[]);

        let in_boundary = roads_touching_boundary(&segs, &roads, &boundary);
        let high: Vec<_> = (0..segs.len() as u32)
            .map(|v| naive_costs(&g, false, v))
            .collect();
        let low: Vec<_> = (0..segs.len() as u32)
            .map(|v| naive_costs(&g, true, v))
            .collect();
        let mut want = Vec::new();
        for s in 0..blocks.len() {
            let seeds: Vec<u32> = roads[s]
                .iter()
                .copied()
                .filter(|&x| in_boundary[x as usize])
                .collect();
            for t in 0..blocks.len() {
                let min_over = |table: &Vec<Vec<Option<u32>>>| {
                    seeds
                        .iter()
                        .flat_map(|&a| {
                            roads[t]
                                .iter()
                                .filter_map(move |&b| table[a as usize][b as usize])
                        })
                        .min()
                };
                let (h, l) = (min_over(&high), min_over(&low));
                let near = Euclidean.distance(&blocks[s].geom, &blocks[t].geom) <= 2680.0;
                if near && (h.is_some() || l.is_some()) {
                    let shared = roads[s].iter().any(|x| roads[t].contains(x));
                    want.push(pair(
                        s as u32,
                        t as u32,
                        is_low_stress_pair(shared, l, h),
                        l,
                        h,
                    ));
                }
            }
        }
        assert!(want.len() > 100, "test network too small: {}", want.len());
        assert!(want.iter().any(|p| !p.low_stress) && want.iter().any(|p| p.low_stress));
        assert_eq!(r.pairs, want);
        // Deterministic across runs.
        assert_eq!(run(&segs, &blocks, &roads, &boundary, &[]), r);
    }

    #[test]
    fn boundary_test_for_roads() {
        let boundary = square(0.0, 0.0, 100.0);
        let rows = [
            (vec![(10.0, 10.0), (20.0, 20.0)], true),      // inside
            (vec![(-10.0, 50.0), (10.0, 50.0)], true),     // crossing
            (vec![(-10.0, 50.0), (0.0, 50.0)], true),      // touching
            (vec![(-10.0, 50.0), (-1.0, 50.0)], false),    // outside
            (vec![(-10.0, -10.0), (-10.0, 200.0)], false), // outside, bbox overlapping
        ];
        let segments: Vec<Segment> = rows
            .iter()
            .enumerate()
            .map(|(i, (c, _))| seg(i as u32, 0, 1, c))
            .collect();
        let all: Vec<Vec<u32>> = vec![(0..rows.len() as u32).collect()];
        let got = roads_touching_boundary(&segments, &all, &boundary);
        let want: Vec<bool> = rows.iter().map(|(_, w)| *w).collect();
        assert_eq!(got, want);
    }
}
