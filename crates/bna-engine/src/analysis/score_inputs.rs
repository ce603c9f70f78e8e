//! `neighborhood_score_inputs` (spec §7.5, the reference's `score_inputs.sql`): the 132 rows of
//! city-wide statistics behind the scores — per measure the median, 30th and 70th percentile
//! and average of the blocks' low- to high-stress ratios, the population-weighted block score
//! (the `use_*` rows that feed `neighborhood_overall_scores`), and per destination category
//! the same statistics of the destinations' bike sheds (`bike_shed`).
//!
//! The rows' order, names and texts are the reference's own (`score_inputs_rows.csv`, taken
//! from brokenspoke-analyzer 3.2.4, MIT licence); each row names the statistic that fills it.

use std::sync::OnceLock;

use crate::model::{Access, Block, BlockScores, Destination, DestinationCategory};

use super::bike_shed::Shed;
use super::scoring::{float_to_numeric4, weighted_city_score};

/// One row as the reference writes it. `score` is NUMERIC(16,4) (rounded to 4 decimals).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreInput {
    pub category: String,
    pub score_name: String,
    pub score: Option<f64>,
    pub notes: String,
    pub human_explanation: String,
    /// The `use_*` column set on this row (`pop`, `emp`, `k12`, …), if any.
    pub use_flag: Option<String>,
}

/// Every `use_*` column of the table, in the reference's column order.
pub const USE_FLAGS: [&str; 16] = [
    "pop",
    "emp",
    "k12",
    "tech",
    "univ",
    "doctor",
    "dentist",
    "hospital",
    "pharmacy",
    "retail",
    "grocery",
    "social_svcs",
    "parks",
    "trails",
    "comm_ctrs",
    "transit",
];

/// The statistic of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// PERCENTILE_CONT(p) of the blocks' low / NULLIF(high, 0).
    BlockPercentile(f64),
    /// Σ low / Σ high over the blocks (0 when Σ high = 0).
    BlockRatio,
    /// The same on integer columns: integer division, as the reference's destination counts.
    BlockRatioInt,
    /// Σ pop20 · score / P (the `use_*` rows; P: see [`weighted`]).
    Weighted,
    /// The same statistics over the destinations' bike sheds.
    ShedPercentile(f64),
    ShedRatio,
}

struct RowSpec {
    category: String,
    score_name: String,
    kind: Kind,
    /// A block measure (`pop`, `schools`, …) or, for shed rows, a destination table name.
    measure: String,
    use_flag: Option<String>,
    notes: String,
    human_explanation: String,
}

const ROWS_CSV: &str = include_str!("score_inputs_rows.csv");

fn specs() -> &'static [RowSpec] {
    static SPECS: OnceLock<Vec<RowSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let mut r = csv::Reader::from_reader(ROWS_CSV.as_bytes());
        r.records()
            .map(|rec| {
                let rec = rec.expect("score_inputs_rows.csv is valid CSV (tested)");
                let kind = match &rec[2] {
                    "block_ratio" => Kind::BlockRatio,
                    "block_ratio_int" => Kind::BlockRatioInt,
                    "weighted" => Kind::Weighted,
                    "shed_ratio" => Kind::ShedRatio,
                    k => {
                        let (shed, p) = k
                            .strip_prefix("shed_percentile_")
                            .map(|p| (true, p))
                            .or_else(|| k.strip_prefix("block_percentile_").map(|p| (false, p)))
                            .expect("a known kind (tested)");
                        let p: f64 = p.parse().expect("a percentile (tested)");
                        if shed {
                            Kind::ShedPercentile(p)
                        } else {
                            Kind::BlockPercentile(p)
                        }
                    }
                };
                RowSpec {
                    category: rec[0].to_string(),
                    score_name: rec[1].to_string(),
                    kind,
                    measure: rec[3].to_string(),
                    use_flag: (!rec[4].is_empty()).then(|| rec[4].to_string()),
                    notes: rec[5].to_string(),
                    human_explanation: rec[6].to_string(),
                }
            })
            .collect()
    })
}

/// The `Access` of one reference block measure (`pop`, `emp`, `trails`, or a destination
/// table name such as `schools`).
pub fn measure_access(s: &BlockScores, measure: &str) -> Access {
    match measure {
        "pop" => s.pop,
        "emp" => s.emp,
        "trails" => s.trails,
        other => DestinationCategory::ALL
            .iter()
            .position(|c| c.table_name() == other)
            .map(|i| s.destinations[i])
            .unwrap_or_default(),
    }
}

/// PERCENTILE_CONT(p): linear interpolation between the sorted values; NULL without values.
pub fn percentile_cont(mut values: Vec<f64>, p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let pos = p * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(values[lo] + (values[hi] - values[lo]) * (pos - lo as f64))
}

/// `CASE WHEN Σ high = 0 THEN 0 ELSE Σ low / Σ high END`, where SUM skips NULL and a SUM of
/// nothing is NULL (so is the ratio). `int`: the columns are integers and so is the division.
fn sum_ratio(pairs: impl Iterator<Item = (Option<f64>, Option<f64>)>, int: bool) -> Option<f64> {
    let (mut low, mut high) = (None::<f64>, None::<f64>);
    for (l, h) in pairs {
        if let Some(l) = l {
            low = Some(low.unwrap_or(0.0) + l);
        }
        if let Some(h) = h {
            high = Some(high.unwrap_or(0.0) + h);
        }
    }
    match high {
        Some(0.0) => Some(0.0),
        Some(h) => low.map(|l| if int { (l / h).trunc() } else { l / h }),
        None => None,
    }
}

/// `low::FLOAT / NULLIF(high, 0)`.
fn ratio(low: Option<f64>, high: Option<f64>) -> Option<f64> {
    match (low, high) {
        (Some(l), Some(h)) if h != 0.0 => Some(l / h),
        _ => None,
    }
}

/// Σ pop20 · score / P over the blocks, P = the population of every block (people, jobs) or of
/// the blocks that reach the measure at all (`tmp_pop`, an INTEGER); P = 0 gives 0.
fn weighted(blocks: &[Block], scores: &[BlockScores], measure: &str) -> Option<f64> {
    let pop: Vec<f64> = blocks.iter().map(|b| b.population).collect();
    let whole = matches!(measure, "pop" | "emp");
    weighted_city_score(&pop, scores, |s| measure_access(s, measure), whole)
}

/// The table's rows, in the reference's order. `sheds[i]` is the shed of `destinations[i]`;
/// every block of the project is inside the boundary (≥ 50 % of its area), as the reference's
/// `ST_Intersects` filter asks.
pub fn score_inputs(
    blocks: &[Block],
    scores: &[BlockScores],
    destinations: &[Destination],
    sheds: &[Shed],
) -> Vec<ScoreInput> {
    let shed_of = |table: &str| -> Vec<&Shed> {
        destinations
            .iter()
            .zip(sheds)
            .filter(|(d, s)| d.category.table_name() == table && s.pop_high_stress.is_some())
            .map(|(_, s)| s)
            .collect()
    };
    specs()
        .iter()
        .map(|spec| {
            let m = spec.measure.as_str();
            let block_access = || scores.iter().map(|s| measure_access(s, m));
            let value = match spec.kind {
                Kind::BlockPercentile(p) => percentile_cont(
                    block_access()
                        .filter_map(|a| ratio(a.low, a.high))
                        .collect(),
                    p,
                ),
                Kind::BlockRatio => sum_ratio(block_access().map(|a| (a.low, a.high)), false),
                Kind::BlockRatioInt => sum_ratio(block_access().map(|a| (a.low, a.high)), true),
                Kind::Weighted => weighted(blocks, scores, m),
                Kind::ShedPercentile(p) => percentile_cont(
                    shed_of(m)
                        .iter()
                        .filter_map(|s| ratio(s.pop_low_stress, s.pop_high_stress))
                        .collect(),
                    p,
                ),
                Kind::ShedRatio => sum_ratio(
                    shed_of(m)
                        .iter()
                        .map(|s| (s.pop_low_stress, s.pop_high_stress)),
                    false,
                ),
            };
            ScoreInput {
                category: spec.category.clone(),
                score_name: spec.score_name.clone(),
                score: value.map(|v| float_to_numeric4(v) as f64 / 1e4),
                notes: spec.notes.clone(),
                human_explanation: spec.human_explanation.clone(),
                use_flag: spec.use_flag.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_table_is_the_references_132_rows_with_one_row_per_use_flag() {
        let rows = specs();
        assert_eq!(rows.len(), 132);
        let mut flags: Vec<&str> = rows.iter().filter_map(|r| r.use_flag.as_deref()).collect();
        assert_eq!(flags.len(), 16);
        flags.sort_unstable();
        let mut expected = USE_FLAGS.to_vec();
        expected.sort_unstable();
        assert_eq!(flags, expected);
        // Every use row is a weighted block score; every measure names a block measure or a
        // destination table.
        for r in rows {
            assert_eq!(
                r.use_flag.is_some(),
                r.kind == Kind::Weighted,
                "{}",
                r.score_name
            );
            let known = ["pop", "emp", "trails"].contains(&r.measure.as_str())
                || DestinationCategory::ALL
                    .iter()
                    .any(|c| c.table_name() == r.measure);
            assert!(known, "{}", r.measure);
        }
    }

    #[test]
    fn percentiles_interpolate_like_postgresql() {
        let cases: [(&[f64], f64, Option<f64>); 5] = [
            (&[], 0.5, None),
            (&[3.0], 0.7, Some(3.0)),
            (&[4.0, 1.0, 2.0, 3.0], 0.5, Some(2.5)),
            (&[1.0, 2.0, 3.0, 4.0], 0.3, Some(1.9)),
            (&[0.0, 10.0], 0.7, Some(7.0)),
        ];
        for (values, p, expected) in cases {
            let got = percentile_cont(values.to_vec(), p);
            match (got, expected) {
                (Some(g), Some(e)) => assert!((g - e).abs() < 1e-12, "{values:?} {p}: {g}"),
                _ => assert_eq!(got, expected, "{values:?} {p}"),
            }
        }
    }

    #[test]
    fn sums_skip_nulls_and_integer_columns_divide_as_integers() {
        type Sums<'a> = &'a [(Option<f64>, Option<f64>)];
        let cases: [(Sums, bool, Option<f64>); 6] = [
            (&[], false, None),
            (&[(Some(1.0), Some(0.0))], false, Some(0.0)),
            (
                &[(Some(1.0), Some(4.0)), (None, Some(4.0))],
                false,
                Some(0.125),
            ),
            (&[(Some(3.0), Some(4.0))], true, Some(0.0)),
            (&[(Some(9.0), Some(4.0))], true, Some(2.0)),
            (&[(None, Some(4.0))], false, None),
        ];
        for (pairs, int, expected) in cases {
            assert_eq!(
                sum_ratio(pairs.iter().copied(), int),
                expected,
                "{pairs:?} {int}"
            );
        }
    }
}
