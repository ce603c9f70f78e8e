//! Block scores of the two sides, paired by GEOID: mean and largest |Δ| of the overall score
//! and of each category's score, and the blocks that differ most.

use std::collections::BTreeMap;

use serde::Serialize;

use super::side::BlockRecord;

/// The block columns compared: the overall score, then one score per category of the city
/// score (people, employment, K-12, opportunity, core services, retail, recreation, transit).
pub const BLOCK_SCORES: [&str; 9] = [
    "overall_score",
    "pop_score",
    "emp_score",
    "schools_score",
    "opportunity_score",
    "core_services_score",
    "retail_score",
    "recreation_score",
    "transit_score",
];

/// How many of the most different blocks a report lists.
pub const WORST_SHOWN: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreDelta {
    pub column: &'static str,
    /// Blocks where both sides have a number.
    pub compared: usize,
    /// Blocks where exactly one side is NULL (not in the means).
    pub null_on_one_side: usize,
    pub mean_abs: f64,
    pub max_abs: f64,
}

/// One block's overall score on both sides (`None`: NULL).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockDelta {
    pub geoid: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// b − a; `None` when a side is NULL.
    pub delta: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockComparison {
    pub a_total: usize,
    pub b_total: usize,
    pub common: usize,
    pub scores: Vec<ScoreDelta>,
    /// The blocks with the largest |Δ overall| (NULL on one side first), at most
    /// [`WORST_SHOWN`].
    pub worst: Vec<BlockDelta>,
    /// Every common block's overall score, by GEOID (for the difference layer).
    #[serde(skip)]
    pub overall: Vec<BlockDelta>,
}

pub fn compare_blocks(a: &[BlockRecord], b: &[BlockRecord]) -> BlockComparison {
    let by_geoid: BTreeMap<&str, &BlockRecord> = b.iter().map(|r| (r.geoid.as_str(), r)).collect();
    let common: Vec<(&BlockRecord, &BlockRecord)> = a
        .iter()
        .filter_map(|ra| by_geoid.get(ra.geoid.as_str()).map(|rb| (ra, *rb)))
        .collect();
    let value = |r: &BlockRecord, c: &str| r.values.get(c).copied().flatten();
    let scores = BLOCK_SCORES
        .iter()
        .map(|&column| {
            let mut d = ScoreDelta {
                column,
                compared: 0,
                null_on_one_side: 0,
                mean_abs: 0.0,
                max_abs: 0.0,
            };
            let mut sum = 0.0;
            for (ra, rb) in &common {
                match (value(ra, column), value(rb, column)) {
                    (Some(x), Some(y)) => {
                        d.compared += 1;
                        sum += (y - x).abs();
                        d.max_abs = d.max_abs.max((y - x).abs());
                    }
                    (None, None) => {}
                    _ => d.null_on_one_side += 1,
                }
            }
            if d.compared > 0 {
                d.mean_abs = sum / d.compared as f64;
            }
            d
        })
        .collect();
    let overall: Vec<BlockDelta> = common
        .iter()
        .map(|(ra, rb)| {
            let (x, y) = (value(ra, "overall_score"), value(rb, "overall_score"));
            BlockDelta {
                geoid: ra.geoid.clone(),
                a: x,
                b: y,
                delta: x.zip(y).map(|(x, y)| y - x),
            }
        })
        .collect();
    let mut worst: Vec<BlockDelta> = overall
        .iter()
        .filter(|d| d.delta != Some(0.0) && (d.a.is_some() || d.b.is_some()))
        .cloned()
        .collect();
    // NULL on one side is the largest difference there is.
    let size = |d: &BlockDelta| d.delta.map_or(f64::INFINITY, f64::abs);
    worst.sort_by(|x, y| size(y).total_cmp(&size(x)).then(x.geoid.cmp(&y.geoid)));
    worst.truncate(WORST_SHOWN);
    BlockComparison {
        a_total: a.len(),
        b_total: b.len(),
        common: common.len(),
        scores,
        worst,
        overall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(geoid: &str, overall: Option<f64>, pop: Option<f64>) -> BlockRecord {
        BlockRecord {
            geoid: geoid.into(),
            values: [
                ("overall_score".to_string(), overall),
                ("pop_score".to_string(), pop),
            ]
            .into_iter()
            .collect(),
            geom_ll: None,
        }
    }

    #[test]
    fn deltas_are_over_common_blocks_with_numbers_on_both_sides() {
        let a = [
            block("1", Some(10.0), Some(0.5)),
            block("2", Some(20.0), None),
            block("3", Some(30.0), None),
            block("only-a", Some(1.0), None),
        ];
        let b = [
            block("3", Some(30.0), None),
            block("2", Some(26.0), Some(0.1)),
            block("1", Some(8.0), Some(0.5)),
            block("only-b", Some(1.0), None),
        ];
        let c = compare_blocks(&a, &b);
        assert_eq!((c.a_total, c.b_total, c.common), (4, 4, 3));
        let overall = &c.scores[0];
        assert_eq!((overall.compared, overall.null_on_one_side), (3, 0));
        assert!((overall.mean_abs - 8.0 / 3.0).abs() < 1e-12);
        assert_eq!(overall.max_abs, 6.0);
        let pop = &c.scores[1];
        assert_eq!(
            (pop.compared, pop.null_on_one_side, pop.max_abs),
            (1, 1, 0.0)
        );
        let worst: Vec<(&str, Option<f64>)> = c
            .worst
            .iter()
            .map(|d| (d.geoid.as_str(), d.delta))
            .collect();
        assert_eq!(worst, [("2", Some(6.0)), ("1", Some(-2.0))]);
        assert_eq!(c.overall.len(), 3);
    }
}
