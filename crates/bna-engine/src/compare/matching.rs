//! Pairing the road segments of two sides. Segment ids are row numbers in the reference, so a
//! segment is known by its OSM way id and where it lies: two segments of one way match when
//! their end points (and second vertices, which tell the two halves of a loop apart) lie within
//! [`MATCH_TOLERANCE_M`], in either direction. When a side has no geometry (the golden
//! fixtures keep only the compared columns), the segments of each way are paired as a
//! multiset instead: equal rows first, then the rest in order.

use std::collections::BTreeMap;

use serde::Serialize;

use super::side::SegmentRecord;

/// End points further apart than this are different segments (the reference's check script
/// uses the same 2 m).
pub const MATCH_TOLERANCE_M: f64 = 2.0;

/// Metres per degree of latitude, and of longitude at the equator (the check script's rough
/// figures; at 2 m the shape of the Earth does not matter).
const M_PER_DEG_LAT: f64 = 110_540.0;
const M_PER_DEG_LON: f64 = 111_320.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// OSM id and end points within [`MATCH_TOLERANCE_M`].
    EndPoints,
    /// OSM id only, as a multiset (a side without geometry).
    OsmId,
}

/// Segment `a` of side A is segment `b` of side B; `reversed`: drawn the other way, so A's
/// from-to direction is B's to-from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub reversed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Matching {
    pub by: MatchedBy,
    pub pairs: Vec<Pair>,
    pub only_a: Vec<usize>,
    pub only_b: Vec<usize>,
}

/// Distance in metres between two lon/lat points, flat-earth at their latitude.
fn metres(p: [f64; 2], q: [f64; 2]) -> f64 {
    let dx = (p[0] - q[0]) * M_PER_DEG_LON * p[1].to_radians().cos();
    let dy = (p[1] - q[1]) * M_PER_DEG_LAT;
    dx.hypot(dy)
}

/// How far apart two lines are at their ends, drawn the same way and drawn opposite ways.
fn end_distance(a: &[[f64; 2]], b: &[[f64; 2]]) -> Option<(f64, bool)> {
    let (fa, la, fb, lb) = (a.first()?, a.last()?, b.first()?, b.last()?);
    let second = |l: &[[f64; 2]]| l[1.min(l.len() - 1)];
    let second_last = |l: &[[f64; 2]]| l[l.len().saturating_sub(2)];
    let forward = metres(*fa, *fb)
        .max(metres(*la, *lb))
        .max(metres(second(a), second(b)));
    let backward = metres(*fa, *lb)
        .max(metres(*la, *fb))
        .max(metres(second(a), second_last(b)));
    Some(if forward <= backward {
        (forward, false)
    } else {
        (backward, true)
    })
}

/// Pairs the segments of `a` and `b` one to one.
pub fn match_segments(a: &[SegmentRecord], b: &[SegmentRecord]) -> Matching {
    let by_way = |side: &[SegmentRecord]| {
        let mut m: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, s) in side.iter().enumerate() {
            m.entry(s.osm_id).or_default().push(i);
        }
        m
    };
    let (ways_a, ways_b) = (by_way(a), by_way(b));
    let with_lines = |side: &[SegmentRecord]| side.iter().all(|s| s.line_ll.is_some());
    let by = if with_lines(a) && with_lines(b) {
        MatchedBy::EndPoints
    } else {
        MatchedBy::OsmId
    };
    let mut pairs = Vec::new();
    for (osm_id, ia) in &ways_a {
        let Some(ib) = ways_b.get(osm_id) else {
            continue;
        };
        match by {
            MatchedBy::EndPoints => pairs.extend(pair_by_ends(a, b, ia, ib)),
            MatchedBy::OsmId => pairs.extend(pair_as_multiset(a, b, ia, ib)),
        }
    }
    pairs.sort_by_key(|p| p.a);
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    for p in &pairs {
        used_a[p.a] = true;
        used_b[p.b] = true;
    }
    let unused = |used: Vec<bool>| {
        used.iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(i, _)| i)
            .collect()
    };
    Matching {
        by,
        pairs,
        only_a: unused(used_a),
        only_b: unused(used_b),
    }
}

/// Closest pairs first, each segment used once.
fn pair_by_ends(a: &[SegmentRecord], b: &[SegmentRecord], ia: &[usize], ib: &[usize]) -> Vec<Pair> {
    let mut candidates = Vec::new();
    for &i in ia {
        for &j in ib {
            let (Some(la), Some(lb)) = (&a[i].line_ll, &b[j].line_ll) else {
                continue;
            };
            if let Some((d, reversed)) = end_distance(la, lb) {
                if d <= MATCH_TOLERANCE_M {
                    candidates.push((d, i, j, reversed));
                }
            }
        }
    }
    candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let (mut done_a, mut done_b) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for (_, i, j, reversed) in candidates {
        if done_a.contains(&i) || done_b.contains(&j) {
            continue;
        }
        done_a.push(i);
        done_b.push(j);
        out.push(Pair {
            a: i,
            b: j,
            reversed,
        });
    }
    out
}

/// Equal rows first, then what is left of each side in order.
fn pair_as_multiset(
    a: &[SegmentRecord],
    b: &[SegmentRecord],
    ia: &[usize],
    ib: &[usize],
) -> Vec<Pair> {
    let same = |x: &SegmentRecord, y: &SegmentRecord| {
        x.functional_class == y.functional_class && x.stress == y.stress
    };
    let mut left_b: Vec<usize> = ib.to_vec();
    let mut left_a = Vec::new();
    let mut out = Vec::new();
    for &i in ia {
        match left_b.iter().position(|&j| same(&a[i], &b[j])) {
            Some(k) => out.push(Pair {
                a: i,
                b: left_b.remove(k),
                reversed: false,
            }),
            None => left_a.push(i),
        }
    }
    out.extend(left_a.into_iter().zip(left_b).map(|(i, j)| Pair {
        a: i,
        b: j,
        reversed: false,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(osm_id: i64, line: Option<&[[f64; 2]]>, ft: i64) -> SegmentRecord {
        SegmentRecord {
            osm_id,
            functional_class: Some("residential".into()),
            stress: [Some(ft), Some(1), Some(1), Some(1)],
            line_ll: line.map(<[_]>::to_vec),
        }
    }

    /// About 1.1 m of latitude.
    const D: f64 = 0.00001;

    #[test]
    fn segments_match_by_way_and_end_points_in_either_direction() {
        let ab: &[[f64; 2]] = &[[-77.0, 38.9], [-77.0, 38.901]];
        let ba: &[[f64; 2]] = &[[-77.0, 38.901], [-77.0, 38.9]];
        let near: &[[f64; 2]] = &[[-77.0, 38.9 + D], [-77.0, 38.901 + D]];
        let far: &[[f64; 2]] = &[[-77.0, 38.9 + 3.0 * D], [-77.0, 38.901]];
        type Case<'a> = (&'a [[f64; 2]], i64, Option<bool>);
        let cases: [Case; 5] = [
            (ab, 1, Some(false)),
            (ba, 1, Some(true)),
            (near, 1, Some(false)),
            (far, 1, None),
            (ab, 2, None),
        ];
        for (line, osm_id, expected) in cases {
            let m = match_segments(&[seg(1, Some(ab), 1)], &[seg(osm_id, Some(line), 1)]);
            assert_eq!(m.by, MatchedBy::EndPoints);
            assert_eq!(
                m.pairs.first().map(|p| p.reversed),
                expected,
                "{line:?} {osm_id}"
            );
            assert_eq!(m.only_a.len() + m.pairs.len(), 1);
            assert_eq!(m.only_b.len() + m.pairs.len(), 1);
        }
    }

    #[test]
    fn the_closest_of_two_halves_of_a_way_wins() {
        let first: &[[f64; 2]] = &[[0.0, 0.0], [0.0, 0.001]];
        let second: &[[f64; 2]] = &[[0.0, 0.001], [0.0, 0.002]];
        let a = [seg(5, Some(first), 1), seg(5, Some(second), 3)];
        let b = [seg(5, Some(second), 3), seg(5, Some(first), 1)];
        let m = match_segments(&a, &b);
        let got: Vec<(usize, usize)> = m.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(got, [(0, 1), (1, 0)]);
    }

    #[test]
    fn without_geometry_a_way_pairs_equal_rows_first() {
        let a = [
            seg(5, Some(&[[0.0, 0.0], [1.0, 1.0]]), 1),
            seg(5, None, 3),
            seg(6, None, 1),
        ];
        let b = [seg(5, None, 3), seg(5, None, 3), seg(5, None, 1)];
        let m = match_segments(&a, &b);
        assert_eq!(m.by, MatchedBy::OsmId);
        let got: Vec<(usize, usize)> = m.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(got, [(0, 2), (1, 0)]);
        assert_eq!(m.only_a, [2]);
        assert_eq!(m.only_b, [1]);
    }
}
