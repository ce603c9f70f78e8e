//! Agreement of the matched segments: the four stress columns and the functional class, with
//! side A turned to side B's direction when the two are drawn opposite ways.

use serde::Serialize;

use super::matching::{Matching, Pair};
use super::side::{SegmentRecord, STRESS_COLUMNS};

/// How many of `total` compared values are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Agreement {
    pub agree: usize,
    pub total: usize,
}

impl Agreement {
    pub fn percent(self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * self.agree as f64 / self.total as f64
        }
    }

    fn count(&mut self, equal: bool) {
        self.total += 1;
        self.agree += usize::from(equal);
    }
}

/// One column of a matched segment whose two values differ (`None`: NULL).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    pub column: &'static str,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// A matched pair that differs somewhere.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentDiff {
    pub osm_id: i64,
    #[serde(skip)]
    pub pair: Pair,
    pub differences: Vec<FieldDiff>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentComparison {
    pub a_total: usize,
    pub b_total: usize,
    pub matched: usize,
    pub matched_by: super::matching::MatchedBy,
    /// In [`STRESS_COLUMNS`] order, then the functional class.
    pub ft_seg_stress: Agreement,
    pub tf_seg_stress: Agreement,
    pub ft_int_stress: Agreement,
    pub tf_int_stress: Agreement,
    pub functional_class: Agreement,
    pub differing: Vec<SegmentDiff>,
    /// Segments of one side that match none of the other (indexes into that side).
    #[serde(skip)]
    pub only_a: Vec<usize>,
    #[serde(skip)]
    pub only_b: Vec<usize>,
}

impl SegmentComparison {
    /// The five agreements with their column names, in report order.
    pub fn agreements(&self) -> [(&'static str, Agreement); 5] {
        [
            (STRESS_COLUMNS[0], self.ft_seg_stress),
            (STRESS_COLUMNS[1], self.tf_seg_stress),
            (STRESS_COLUMNS[2], self.ft_int_stress),
            (STRESS_COLUMNS[3], self.tf_int_stress),
            ("functional_class", self.functional_class),
        ]
    }
}

/// A's stress in B's direction: from-to and to-from swap on a reversed match.
pub fn oriented(s: &SegmentRecord, reversed: bool) -> [Option<i64>; 4] {
    let [ft_seg, tf_seg, ft_int, tf_int] = s.stress;
    if reversed {
        [tf_seg, ft_seg, tf_int, ft_int]
    } else {
        s.stress
    }
}

pub fn compare_segments(
    a: &[SegmentRecord],
    b: &[SegmentRecord],
    matching: &Matching,
) -> SegmentComparison {
    let mut stress = [Agreement::default(); 4];
    let mut class = Agreement::default();
    let mut differing = Vec::new();
    for p in &matching.pairs {
        let (sa, sb) = (&a[p.a], &b[p.b]);
        let va = oriented(sa, p.reversed);
        let mut differences = Vec::new();
        for k in 0..4 {
            let equal = va[k] == sb.stress[k];
            stress[k].count(equal);
            if !equal {
                differences.push(FieldDiff {
                    column: STRESS_COLUMNS[k],
                    a: va[k].map(|v| v.to_string()),
                    b: sb.stress[k].map(|v| v.to_string()),
                });
            }
        }
        let equal = sa.functional_class == sb.functional_class;
        class.count(equal);
        if !equal {
            differences.push(FieldDiff {
                column: "functional_class",
                a: sa.functional_class.clone(),
                b: sb.functional_class.clone(),
            });
        }
        if !differences.is_empty() {
            differing.push(SegmentDiff {
                osm_id: sa.osm_id,
                pair: *p,
                differences,
            });
        }
    }
    SegmentComparison {
        a_total: a.len(),
        b_total: b.len(),
        matched: matching.pairs.len(),
        matched_by: matching.by,
        ft_seg_stress: stress[0],
        tf_seg_stress: stress[1],
        ft_int_stress: stress[2],
        tf_int_stress: stress[3],
        functional_class: class,
        differing,
        only_a: matching.only_a.clone(),
        only_b: matching.only_b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::matching::match_segments;

    fn seg(fc: &str, stress: [Option<i64>; 4], line: &[[f64; 2]]) -> SegmentRecord {
        SegmentRecord {
            osm_id: 1,
            functional_class: Some(fc.into()),
            stress,
            line_ll: Some(line.to_vec()),
        }
    }

    #[test]
    fn a_reversed_match_compares_from_to_with_to_from() {
        let ab = [[0.0, 0.0], [0.0, 0.001]];
        let ba = [[0.0, 0.001], [0.0, 0.0]];
        let one_way = [Some(3), None, Some(1), None];
        let cases = [
            // (B's line, B's stress, B's class, differing columns)
            (ab, one_way, "primary", vec![]),
            (ba, [None, Some(3), None, Some(1)], "primary", vec![]),
            (
                ab,
                [None, Some(3), None, Some(1)],
                "primary",
                vec![
                    "ft_seg_stress",
                    "tf_seg_stress",
                    "ft_int_stress",
                    "tf_int_stress",
                ],
            ),
            (
                ab,
                [Some(1), None, Some(1), None],
                "secondary",
                vec!["ft_seg_stress", "functional_class"],
            ),
        ];
        for (line, stress, fc, expected) in cases {
            let a = [seg("primary", one_way, &ab)];
            let b = [seg(fc, stress, &line)];
            let c = compare_segments(&a, &b, &match_segments(&a, &b));
            assert_eq!(c.matched, 1);
            let got: Vec<&str> = c
                .differing
                .iter()
                .flat_map(|d| d.differences.iter().map(|f| f.column))
                .collect();
            assert_eq!(got, expected, "{line:?} {stress:?} {fc}");
            let disagreeing: usize = c.agreements().iter().map(|(_, g)| g.total - g.agree).sum();
            assert_eq!(disagreeing, expected.len());
        }
    }

    #[test]
    fn agreement_of_nothing_is_full_and_otherwise_a_share() {
        assert_eq!(Agreement::default().percent(), 100.0);
        assert_eq!(Agreement { agree: 1, total: 4 }.percent(), 25.0);
    }
}
