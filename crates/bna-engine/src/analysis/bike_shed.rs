//! The "bike shed" of each destination (spec §6.3, the last two statements of the reference's
//! `access_<category>.sql`): the population of the blocks that reach any of the destination's
//! blocks, on the full network and on the low-stress one. Reported only (the destination
//! tables and `score_inputs`), never part of a score.

use geo::{Intersects, MultiPolygon};

use crate::model::{Block, BlockPair, Destination, DestinationCategory};
use crate::spatial::Projection;

/// One destination's shed. `None` is the reference's NULL: a destination outside the boundary
/// is not computed; a SUM over no block is NULL.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shed {
    pub pop_low_stress: Option<f64>,
    pub pop_high_stress: Option<f64>,
    pub pop_score: Option<f64>,
}

/// `pop_score`: NULL without a high-stress shed, 0 when it is empty of people, else low / high
/// (NULL when no block reaches the destination at low stress, as `NULL::FLOAT / n` is).
pub fn shed_score(low: Option<f64>, high: Option<f64>) -> Option<f64> {
    match high {
        None => None,
        Some(0.0) => Some(0.0),
        Some(h) => low.map(|l| l / h),
    }
}

/// Whether the reference computes a destination's shed: its point intersects the boundary
/// (retail: its polygon, `access_retail.sql`).
pub fn counted(d: &Destination, boundary_ll: &MultiPolygon<f64>, projection: &Projection) -> bool {
    match (&d.polygon, d.category) {
        (Some(poly), DestinationCategory::Retail) => {
            projection.unproject(poly).intersects(boundary_ll)
        }
        _ => projection.unproject(&d.point).intersects(boundary_ll),
    }
}

/// The shed of every destination, in `destinations` order. `pairs` are the connected block
/// pairs (every pair is connected on the full network; `low_stress` marks the low-stress ones).
pub fn bike_sheds(
    blocks: &[Block],
    pairs: &[BlockPair],
    destinations: &[Destination],
    boundary_ll: &MultiPolygon<f64>,
    projection: &Projection,
) -> Vec<Shed> {
    // Sources reaching each target block: (source, low stress).
    let mut into: Vec<Vec<(u32, bool)>> = vec![Vec::new(); blocks.len()];
    for p in pairs {
        if let Some(v) = into.get_mut(p.target as usize) {
            v.push((p.source, p.low_stress));
        }
    }
    // Per block: 0 unseen, 1 reaches on the full network, 2 also at low stress; reset after
    // each destination through `touched`.
    let mut seen = vec![0u8; blocks.len()];
    let mut touched = Vec::new();
    destinations
        .iter()
        .map(|d| {
            if !counted(d, boundary_ll, projection) {
                return Shed::default();
            }
            for &t in &d.blocks {
                for &(s, low) in into.get(t as usize).map_or(&[][..], Vec::as_slice) {
                    let Some(mark) = seen.get_mut(s as usize) else {
                        continue;
                    };
                    if *mark == 0 {
                        touched.push(s);
                    }
                    *mark = (*mark).max(if low { 2 } else { 1 });
                }
            }
            let (mut low, mut high) = (None::<f64>, None::<f64>);
            for &s in &touched {
                let pop = blocks[s as usize].population;
                high = Some(high.unwrap_or(0.0) + pop);
                if seen[s as usize] == 2 {
                    low = Some(low.unwrap_or(0.0) + pop);
                }
                seen[s as usize] = 0;
            }
            touched.clear();
            Shed {
                pop_low_stress: low,
                pop_high_stress: high,
                pop_score: shed_score(low, high),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Point};

    #[test]
    fn the_score_follows_the_reference_case_expression() {
        let cases = [
            (None, None, None),
            (None, Some(0.0), Some(0.0)),
            (None, Some(10.0), None),
            (Some(5.0), Some(10.0), Some(0.5)),
        ];
        for (low, high, expected) in cases {
            assert_eq!(shed_score(low, high), expected, "{low:?} {high:?}");
        }
    }

    fn block(population: f64) -> Block {
        Block {
            geoid: String::new(),
            geom: MultiPolygon(vec![]),
            geom_ll: MultiPolygon(vec![]),
            population,
            jobs: 0.0,
            aland: None,
        }
    }

    fn pair(source: u32, target: u32, low_stress: bool) -> BlockPair {
        BlockPair {
            source,
            target,
            low_stress,
            low_stress_cost: None,
            high_stress_cost: None,
        }
    }

    #[test]
    fn a_shed_counts_each_reaching_block_once() {
        let projection = Projection::for_lon_lat(-77.0, 38.9);
        let at = |lon: f64, lat: f64| projection.project(&Point::new(lon, lat));
        let boundary: MultiPolygon<f64> = polygon![
            (x: -77.1, y: 38.8), (x: -76.9, y: 38.8), (x: -76.9, y: 39.0), (x: -77.1, y: 39.0)
        ]
        .into();
        let dest = |blocks: Vec<u32>, lon: f64| Destination {
            id: 1,
            category: DestinationCategory::Schools,
            osm_id: None,
            name: None,
            point: at(lon, 38.9),
            polygon: None,
            blocks,
        };
        let blocks = [block(10.0), block(20.0), block(40.0)];
        // Block 0 reaches both of the school's blocks (counted once); block 1 only at high
        // stress; block 2 reaches nothing.
        let pairs = [
            pair(0, 1, true),
            pair(0, 2, true),
            pair(1, 1, false),
            pair(1, 2, false),
            pair(2, 0, true),
        ];
        let destinations = [
            dest(vec![1, 2], -77.0),
            dest(vec![1], -75.0),
            dest(vec![], -77.0),
        ];
        let got = bike_sheds(&blocks, &pairs, &destinations, &boundary, &projection);
        assert_eq!(
            got,
            [
                Shed {
                    pop_low_stress: Some(10.0),
                    pop_high_stress: Some(30.0),
                    pop_score: Some(10.0 / 30.0)
                },
                // Outside the boundary: not computed.
                Shed::default(),
                // No block reaches it: SUM over nothing.
                Shed::default(),
            ]
        );
    }
}
