//! Scoring (spec §7): per-block access counts and scores (§7.1–7.4, `access_*.sql`,
//! `category_scores.sql`), the 23 city rows of `neighborhood_overall_scores` (§7.5–7.6) and the
//! infrastructure mileage (§7.7).
//!
//! SQL behaviour reproduced on purpose:
//! - `pop_*_stress` / `emp_*_stress` are INT columns: sums are rounded half away from zero
//!   before the score reads them back; SUM over no pair is NULL.
//! - Destination counts are COUNTs, never NULL; their score is NULL when nothing is reachable.
//! - Sums and differences of the numeric parameters (e.g. `:first + :second`) are exact
//!   decimals in PostgreSQL, so they are computed as such here (`dec_sum`).
//! - City rows are `NUMERIC(16,4)`: a float becomes NUMERIC through 15 significant digits,
//!   then rounds half away from zero; category rollups read the rounded members and are
//!   computed exactly (integer arithmetic) before their own rounding.

use geo::{BoundingRect, Coord, Distance, Euclidean, Length, Line, LineString, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::{
    Access, BikeInfra, Block, BlockPair, BlockScores, Destination, DestinationCategory, Direction,
    FunctionalClass, ScoreRow, Segment, HIGH_STRESS, LOW_STRESS,
};
use crate::params;

/// First/second/third destination values of a category.
pub type Steps = (f64, f64, f64);

/// Per-category steps (§7.3), in `DestinationCategory::ALL` order.
pub fn category_steps(category: DestinationCategory) -> Steps {
    use DestinationCategory as C;
    match category {
        C::Schools => params::SCHOOLS_STEPS,
        C::Colleges => params::COLLEGES_STEPS,
        C::Universities => params::UNIVERSITIES_STEPS,
        C::Doctors => params::DOCTORS_STEPS,
        C::Dentists => params::DENTISTS_STEPS,
        C::Hospitals => params::HOSPITALS_STEPS,
        C::Pharmacies => params::PHARMACIES_STEPS,
        C::Supermarkets => params::SUPERMARKETS_STEPS,
        C::SocialServices => params::SOCIAL_SERVICES_STEPS,
        C::Parks => params::PARKS_STEPS,
        C::CommunityCenters => params::COMMUNITY_CENTERS_STEPS,
        C::Retail => params::RETAIL_STEPS,
        C::Transit => params::TRANSIT_STEPS,
    }
}

/// Exact decimal sum of parameters given with at most 6 decimals, as PostgreSQL NUMERIC
/// evaluates `:max_score - :first - :second`; the result is the double nearest the exact
/// decimal (so `0.4 + 0.2 + 0.1` is `0.7`, not `0.7000000000000001`).
pub fn dec_sum(terms: &[f64]) -> f64 {
    let micros: i64 = terms.iter().map(|t| (t * 1e6).round() as i64).sum();
    micros as f64 / 1e6
}

/// Round half away from zero to an integer (NUMERIC → INT assignment).
pub fn round_half_away(x: f64) -> f64 {
    x.round()
}

/// People/jobs ratio score (§7.2, `access_population.sql`). `None` is SQL NULL.
pub fn ratio_score(low: Option<f64>, high: Option<f64>) -> Option<f64> {
    use params::{
        RATIO_MAX_SCORE as MAX, RATIO_SCORE1 as S1, RATIO_SCORE2 as S2, RATIO_SCORE3 as S3,
        RATIO_STEP1 as T1, RATIO_STEP2 as T2, RATIO_STEP3 as T3,
    };
    let high = high?;
    if high == 0.0 {
        return None;
    }
    // Every remaining CASE branch compares low, so a NULL low falls through to NULL.
    let low = low?;
    if low == 0.0 {
        return Some(0.0);
    }
    if high == low {
        return Some(MAX);
    }
    let r = low / high;
    let score = if r == T3 {
        S3
    } else if r == T2 {
        S2
    } else if r == T1 {
        S1
    } else if r > T3 {
        S3 + dec_sum(&[MAX, -S3]) * ((r - T3) / dec_sum(&[1.0, -T3]))
    } else if r > T2 {
        S2 + dec_sum(&[S3, -S2]) * ((r - T2) / dec_sum(&[T3, -T2]))
    } else if r > T1 {
        S1 + dec_sum(&[S2, -S1]) * ((r - T1) / dec_sum(&[T2, -T1]))
    } else {
        S1 * (r / T1)
    };
    Some(score)
}

/// Destination count score (§7.3 rules 1–7, `access_<X>.sql`).
pub fn destination_score(low: u32, high: u32, steps: Steps) -> Option<f64> {
    let (f, s, t) = steps;
    if high == 0 {
        return None;
    }
    if low == 0 {
        return Some(0.0);
    }
    if low == high {
        return Some(1.0);
    }
    let (l, h) = (f64::from(low), f64::from(high));
    let score = if f == 0.0 {
        l / h
    } else if s == 0.0 {
        f + (dec_sum(&[1.0, -f]) * (l - 1.0)) / (h - 1.0)
    } else if t == 0.0 {
        match low {
            1 => f,
            2 => dec_sum(&[f, s]),
            _ => dec_sum(&[f, s]) + (dec_sum(&[1.0, -f, -s]) * (l - 2.0)) / (h - 2.0),
        }
    } else {
        match low {
            1 => f,
            2 => dec_sum(&[f, s]),
            3 => dec_sum(&[f, s, t]),
            _ => dec_sum(&[f, s, t]) + (dec_sum(&[1.0, -f, -s, -t]) * (l - 3.0)) / (h - 3.0),
        }
    };
    Some(score)
}

fn idx(category: DestinationCategory) -> usize {
    DestinationCategory::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(0)
}

fn high_positive(a: &Access) -> bool {
    a.high.is_some_and(|h| h > 0.0)
}

fn score0(a: &Access) -> f64 {
    a.score.unwrap_or(0.0)
}

/// Weighted mean over the members whose `*_high_stress > 0`; 0 when none (`access_overall.sql`).
/// `always` members (employment) are in the denominator unconditionally and never gate.
fn gated_mean(members: &[(&Access, f64)], always: &[(&Access, f64)]) -> (bool, f64) {
    if !members.iter().any(|(a, _)| high_positive(a)) {
        return (false, 0.0);
    }
    let num: f64 = always
        .iter()
        .chain(members)
        .map(|(a, w)| w * score0(a))
        .sum();
    let den: f64 = always.iter().map(|(_, w)| w).sum::<f64>()
        + members
            .iter()
            .filter(|(a, _)| high_positive(a))
            .map(|(_, w)| w)
            .sum::<f64>();
    (true, num / den)
}

/// Block overall score, 0–100 (§7.4, `access_overall.sql`).
pub fn block_overall(s: &BlockScores) -> f64 {
    use params::*;
    use DestinationCategory as C;
    let d = |c: C| &s.destinations[idx(c)];
    let (has_opp, opp) = gated_mean(
        &[
            (d(C::Schools), W_SCHOOLS),
            (d(C::Colleges), W_COLLEGES),
            (d(C::Universities), W_UNIVERSITIES),
        ],
        &[(&s.emp, W_EMPLOYMENT)],
    );
    let (has_core, core) = gated_mean(
        &[
            (d(C::Doctors), W_DOCTORS),
            (d(C::Dentists), W_DENTISTS),
            (d(C::Hospitals), W_HOSPITALS),
            (d(C::Pharmacies), W_PHARMACIES),
            (d(C::Supermarkets), W_SUPERMARKETS),
            (d(C::SocialServices), W_SOCIAL_SERVICES),
        ],
        &[],
    );
    let (has_rec, rec) = gated_mean(
        &[
            (d(C::Parks), W_PARKS),
            (&s.trails, W_TRAILS),
            (d(C::CommunityCenters), W_COMMUNITY_CENTERS),
        ],
        &[],
    );
    let has_retail = high_positive(d(C::Retail));
    let has_transit = high_positive(d(C::Transit));
    let n = WEIGHT_PEOPLE * score0(&s.pop)
        + WEIGHT_OPPORTUNITY * opp
        + WEIGHT_CORE_SERVICES * core
        + WEIGHT_RETAIL * score0(d(C::Retail))
        + WEIGHT_RECREATION * rec
        + WEIGHT_TRANSIT * score0(d(C::Transit));
    let flag = |b: bool, w: f64| if b { w } else { 0.0 };
    let den = WEIGHT_PEOPLE
        + flag(has_opp, WEIGHT_OPPORTUNITY)
        + flag(has_core, WEIGHT_CORE_SERVICES)
        + flag(has_retail, WEIGHT_RETAIL)
        + flag(has_rec, WEIGHT_RECREATION)
        + flag(has_transit, WEIGHT_TRANSIT);
    100.0 * n / den
}

/// `category_scores.sql`: weights count only for non-NULL member scores; NULL if none.
pub fn category_score(members: &[(Option<f64>, f64)]) -> Option<f64> {
    let num: f64 = members.iter().map(|(s, w)| s.unwrap_or(0.0) * w).sum();
    let den: f64 = members
        .iter()
        .filter(|(s, _)| s.is_some())
        .map(|(_, w)| w)
        .sum();
    (den != 0.0).then(|| num / den)
}

fn fill_category_scores(s: &mut BlockScores) {
    use params::*;
    use DestinationCategory as C;
    let sc = |c: C| s.destinations[idx(c)].score;
    s.opportunity_score = category_score(&[
        (s.emp.score, W_EMPLOYMENT),
        (sc(C::Schools), W_SCHOOLS),
        (sc(C::Colleges), W_COLLEGES),
        (sc(C::Universities), W_UNIVERSITIES),
    ]);
    s.core_services_score = category_score(&[
        (sc(C::Doctors), W_DOCTORS),
        (sc(C::Dentists), W_DENTISTS),
        (sc(C::Hospitals), W_HOSPITALS),
        (sc(C::Pharmacies), W_PHARMACIES),
        (sc(C::Supermarkets), W_SUPERMARKETS),
        (sc(C::SocialServices), W_SOCIAL_SERVICES),
    ]);
    s.recreation_score = category_score(&[
        (sc(C::Parks), W_PARKS),
        (s.trails.score, W_TRAILS),
        (sc(C::CommunityCenters), W_COMMUNITY_CENTERS),
    ]);
}

/// Pairs grouped by source block (CSR layout): `(targets, low_stress)` per source.
fn pairs_by_source(n_blocks: usize, pairs: &[BlockPair]) -> (Vec<usize>, Vec<(u32, bool)>) {
    let mut start = vec![0usize; n_blocks + 1];
    for p in pairs {
        if (p.source as usize) < n_blocks {
            start[p.source as usize + 1] += 1;
        }
    }
    for i in 0..n_blocks {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut items = vec![(0u32, false); start[n_blocks]];
    for p in pairs {
        let s = p.source as usize;
        if s < n_blocks {
            items[fill[s]] = (p.target, p.low_stress);
            fill[s] += 1;
        }
    }
    (start, items)
}

/// Sum of a per-block value over distinct targets; NULL (None) when there is none, then
/// rounded as the INT column does.
fn shed_sum(targets: &[(u32, bool)], want_low: bool, value: impl Fn(usize) -> f64) -> Option<f64> {
    let mut seen: Vec<u32> = targets
        .iter()
        .filter(|(_, low)| !want_low || *low)
        .map(|(t, _)| *t)
        .collect();
    seen.sort_unstable();
    seen.dedup();
    if seen.is_empty() {
        return None;
    }
    Some(round_half_away(
        seen.iter().map(|&t| value(t as usize)).sum(),
    ))
}

/// Per-block scores (§7.1–7.4) for every block in `blocks` (all are source blocks).
///
/// `trail_counts[i]` = (low, high) qualifying trail clusters reached from block i.
pub fn score_blocks(
    blocks: &[Block],
    pairs: &[BlockPair],
    destinations: &[Destination],
    trail_counts: &[(u32, u32)],
) -> Vec<BlockScores> {
    let n = blocks.len();
    let (start, items) = pairs_by_source(n, pairs);
    // Destinations lying in each block, with their category index.
    let mut in_block: Vec<Vec<(u32, usize)>> = vec![Vec::new(); n];
    for (di, d) in destinations.iter().enumerate() {
        for &b in &d.blocks {
            if let Some(list) = in_block.get_mut(b as usize) {
                list.push((di as u32, idx(d.category)));
            }
        }
    }
    let n_dest = destinations.len();
    (0..n)
        .into_par_iter()
        .map_init(
            || (vec![u32::MAX; n_dest], vec![u32::MAX; n_dest]),
            |(seen_high, seen_low), b| {
                let targets = &items[start[b]..start[b + 1]];
                let mut high = [0u32; 13];
                let mut low = [0u32; 13];
                let stamp = b as u32;
                for &(t, is_low) in targets {
                    let Some(list) = in_block.get(t as usize) else {
                        continue;
                    };
                    for &(d, cat) in list {
                        if seen_high[d as usize] != stamp {
                            seen_high[d as usize] = stamp;
                            high[cat] += 1;
                        }
                        if is_low && seen_low[d as usize] != stamp {
                            seen_low[d as usize] = stamp;
                            low[cat] += 1;
                        }
                    }
                }
                let pop_of = |t: usize| blocks.get(t).map_or(0.0, |x| x.population);
                let jobs_of = |t: usize| blocks.get(t).map_or(0.0, |x| x.jobs);
                let access_sum = |value: &dyn Fn(usize) -> f64| {
                    let low = shed_sum(targets, true, value);
                    let high = shed_sum(targets, false, value);
                    Access {
                        low,
                        high,
                        score: ratio_score(low, high),
                    }
                };
                let count_access = |l: u32, h: u32, steps: Steps| Access {
                    low: Some(f64::from(l)),
                    high: Some(f64::from(h)),
                    score: destination_score(l, h, steps),
                };
                let destinations: [Access; 13] = std::array::from_fn(|k| {
                    let c = DestinationCategory::ALL[k];
                    count_access(low[k], high[k], category_steps(c))
                });
                let (tl, th) = trail_counts.get(b).copied().unwrap_or((0, 0));
                let mut s = BlockScores {
                    block: b as u32,
                    reachable_blocks: targets.len() as u32,
                    pop: access_sum(&pop_of),
                    emp: access_sum(&jobs_of),
                    destinations,
                    trails: count_access(tl, th, params::TRAILS_STEPS),
                    overall_score: 0.0,
                    opportunity_score: None,
                    core_services_score: None,
                    recreation_score: None,
                };
                s.overall_score = block_overall(&s);
                fill_category_scores(&mut s);
                s
            },
        )
        .collect()
}

/// A NUMERIC(16,4) value in units of 1e-4.
type Numeric4 = i64;

fn div_half_away(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den.abs() {
        q + if (num < 0) != (den < 0) { -1 } else { 1 }
    } else {
        q
    }
}

/// `float8 → NUMERIC(16,4)` as PostgreSQL does it: print with 15 significant digits
/// (`DBL_DIG`), then round half away from zero to 4 decimals.
pub fn float_to_numeric4(x: f64) -> Numeric4 {
    if !x.is_finite() || x == 0.0 {
        return 0;
    }
    let s = format!("{:.14e}", x);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let d: i128 = digits.parse().unwrap_or(0);
    // value = d × 10^(exp − 14); in 1e-4 units: d × 10^(exp − 10).
    let shift = exp - 10;
    let units = if shift >= 0 {
        d.saturating_mul(10i128.saturating_pow(shift.unsigned_abs()))
    } else if shift < -38 {
        0
    } else {
        div_half_away(d, 10i128.pow(shift.unsigned_abs()))
    };
    let units = if negative { -units } else { units };
    units.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn n4_to_f64(v: Numeric4) -> f64 {
    v as f64 / 1e4
}

/// `(Σ wᵢ·xᵢ) / Σ w` on NUMERIC members with 2-decimal weights, rounded to NUMERIC(16,4).
fn weighted_numeric(members: &[(Numeric4, f64, bool)]) -> Option<Numeric4> {
    let w100 = |w: f64| (w * 100.0).round() as i128;
    let num: i128 = members
        .iter()
        .map(|(x, w, _)| i128::from(*x) * w100(*w))
        .sum();
    let den: i128 = members
        .iter()
        .filter(|(_, _, present)| *present)
        .map(|(_, w, _)| w100(*w))
        .sum();
    (den != 0).then(|| div_half_away(num, den) as i64)
}

/// Length (m) of the part of `line` inside `area` (`ST_Length(ST_Intersection(...))`).
struct AreaClipper {
    edges: RTree<GeomWithData<Rectangle<[f64; 2]>, Line<f64>>>,
    max_x: f64,
}

impl AreaClipper {
    fn new(area: &MultiPolygon<f64>) -> Self {
        let mut edges = Vec::new();
        for poly in &area.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for l in ring.lines() {
                    let r = Rectangle::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]);
                    edges.push(GeomWithData::new(r, l));
                }
            }
        }
        let max_x = area.bounding_rect().map_or(0.0, |r| r.max().x) + 1.0;
        Self {
            edges: RTree::bulk_load(edges),
            max_x,
        }
    }

    /// Even-odd point-in-area test; points on an edge count as inside.
    fn inside(&self, p: Coord<f64>) -> bool {
        let tiny = AABB::from_corners([p.x - 1e-9, p.y - 1e-9], [p.x + 1e-9, p.y + 1e-9]);
        for e in self.edges.locate_in_envelope_intersecting(&tiny) {
            if Euclidean.distance(&e.data, &geo::Point(p)) < 1e-9 {
                return true;
            }
        }
        let ray = AABB::from_corners([p.x, p.y], [self.max_x, p.y]);
        let mut crossings = 0usize;
        for e in self.edges.locate_in_envelope_intersecting(&ray) {
            let (a, b) = (e.data.start, e.data.end);
            if (a.y > p.y) != (b.y > p.y) {
                let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
                if x > p.x {
                    crossings += 1;
                }
            }
        }
        crossings % 2 == 1
    }

    fn inside_length(&self, line: &LineString<f64>) -> f64 {
        let mut total = 0.0;
        for piece in line.lines() {
            let len = Euclidean.length(&piece);
            if len == 0.0 {
                continue;
            }
            let env =
                AABB::from_corners([piece.start.x, piece.start.y], [piece.end.x, piece.end.y]);
            let mut ts = vec![0.0, 1.0];
            for e in self.edges.locate_in_envelope_intersecting(&env) {
                ts.extend(crossing_params(piece, e.data));
            }
            ts.sort_by(f64::total_cmp);
            ts.dedup();
            let d = piece.delta();
            for w in ts.windows(2) {
                let mid = (w[0] + w[1]) / 2.0;
                let m = Coord {
                    x: piece.start.x + d.x * mid,
                    y: piece.start.y + d.y * mid,
                };
                if self.inside(m) {
                    total += len * (w[1] - w[0]);
                }
            }
        }
        total
    }
}

/// Parameters along `a` (0..1) where it meets `b` (crossing or collinear overlap ends).
fn crossing_params(a: Line<f64>, b: Line<f64>) -> Vec<f64> {
    let d = a.delta();
    let len2 = d.x * d.x + d.y * d.y;
    let param = |c: Coord<f64>| ((c.x - a.start.x) * d.x + (c.y - a.start.y) * d.y) / len2;
    match geo::line_intersection::line_intersection(a, b) {
        Some(geo::line_intersection::LineIntersection::SinglePoint { intersection, .. }) => {
            vec![param(intersection)]
        }
        Some(geo::line_intersection::LineIntersection::Collinear { intersection }) => {
            vec![param(intersection.start), param(intersection.end)]
        }
        None => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t > 0.0 && *t < 1.0)
    .collect()
}

/// Per-direction segment stress after the one-way reset (§4.1).
fn directional_stress(seg: &Segment) -> (Option<u8>, Option<u8>) {
    let ft = match seg.attrs.one_way {
        Some(Direction::Tf) => None,
        _ => seg.stress.ft_seg,
    };
    let tf = match seg.attrs.one_way {
        Some(Direction::Ft) => None,
        _ => seg.stress.tf_seg,
    };
    (ft, tf)
}

/// Direction multiplier for the low/high-stress mileage rows (§7.6): the SQL `CASE` on
/// `COALESCE(ft, 0) + COALESCE(tf, 0)`, restricted to ways with at least one direction at
/// the wanted stress.
pub fn mileage_factor(ft: Option<u8>, tf: Option<u8>, stress: u8) -> f64 {
    if ft != Some(stress) && tf != Some(stress) {
        return 0.0;
    }
    let sum = ft.unwrap_or(0) + tf.unwrap_or(0);
    match (stress, sum) {
        (LOW_STRESS, 2) | (HIGH_STRESS, 6) => 2.0,
        (LOW_STRESS, 4 | 1) | (HIGH_STRESS, 4 | 3) => 1.0,
        _ => 0.0,
    }
}

/// Sub-category rows taken from `score_inputs` (§7.5): id, explanation, member accessor,
/// whether the whole population is the denominator, and the high-count accessor.
struct Member {
    id: &'static str,
    what: &'static str,
    access: fn(&BlockScores) -> &Access,
    whole_population: bool,
}

fn dest(s: &BlockScores, c: DestinationCategory) -> &Access {
    &s.destinations[idx(c)]
}

const MEMBERS: [Member; 16] = {
    use DestinationCategory as C;
    [
        Member {
            id: "people",
            what: "people",
            access: |s| &s.pop,
            whole_population: true,
        },
        Member {
            id: "opportunity_employment",
            what: "jobs",
            access: |s| &s.emp,
            whole_population: true,
        },
        Member {
            id: "opportunity_k12_education",
            what: "K-12 schools",
            access: |s| dest(s, C::Schools),
            whole_population: false,
        },
        Member {
            id: "opportunity_technical_vocational_college",
            what: "technical and vocational colleges",
            access: |s| dest(s, C::Colleges),
            whole_population: false,
        },
        Member {
            id: "opportunity_higher_education",
            what: "universities",
            access: |s| dest(s, C::Universities),
            whole_population: false,
        },
        Member {
            id: "core_services_doctors",
            what: "doctors",
            access: |s| dest(s, C::Doctors),
            whole_population: false,
        },
        Member {
            id: "core_services_dentists",
            what: "dentists",
            access: |s| dest(s, C::Dentists),
            whole_population: false,
        },
        Member {
            id: "core_services_hospitals",
            what: "hospitals",
            access: |s| dest(s, C::Hospitals),
            whole_population: false,
        },
        Member {
            id: "core_services_pharmacies",
            what: "pharmacies",
            access: |s| dest(s, C::Pharmacies),
            whole_population: false,
        },
        Member {
            id: "core_services_grocery",
            what: "grocery stores",
            access: |s| dest(s, C::Supermarkets),
            whole_population: false,
        },
        Member {
            id: "core_services_social_services",
            what: "social services",
            access: |s| dest(s, C::SocialServices),
            whole_population: false,
        },
        Member {
            id: "retail",
            what: "retail",
            access: |s| dest(s, C::Retail),
            whole_population: false,
        },
        Member {
            id: "recreation_parks",
            what: "parks",
            access: |s| dest(s, C::Parks),
            whole_population: false,
        },
        Member {
            id: "recreation_trails",
            what: "recreational trails",
            access: |s| &s.trails,
            whole_population: false,
        },
        Member {
            id: "recreation_community_centers",
            what: "community centers",
            access: |s| dest(s, C::CommunityCenters),
            whole_population: false,
        },
        Member {
            id: "transit",
            what: "transit stations",
            access: |s| dest(s, C::Transit),
            whole_population: false,
        },
    ]
};

/// Population-weighted mean of one member's block scores (a `use_*` row of `score_inputs`):
/// Σ pop·score / P, P = INT-rounded population of the blocks that reach the category (or all
/// blocks for people and jobs). SUM skips NULL; all NULL → NULL; P = 0 → 0.
fn member_city_score(pop: &[f64], scores: &[BlockScores], m: &Member) -> Option<f64> {
    weighted_city_score(pop, scores, |s| *(m.access)(s), m.whole_population)
}

/// Σ pop·score / P over `scores`, P = INT-rounded population of every block
/// (`whole_population`: people, jobs) or of the blocks whose `access` reaches anything
/// (`high > 0`). SUM skips NULL; all NULL → NULL; P = 0 → 0. The city score rows and the
/// `neighborhood_score_inputs` table both take their means here.
pub(crate) fn weighted_city_score(
    pop: &[f64],
    scores: &[BlockScores],
    access: impl Fn(&BlockScores) -> Access,
    whole_population: bool,
) -> Option<f64> {
    let counts = |s: &BlockScores| whole_population || high_positive(&access(s));
    let p = round_half_away(
        scores
            .iter()
            .filter(|s| counts(s))
            .map(|s| pop[s.block as usize])
            .sum(),
    );
    let mut total: Option<f64> = None;
    for s in scores {
        let term = if p == 0.0 {
            Some(0.0)
        } else {
            access(s).score.map(|sc| pop[s.block as usize] * sc / p)
        };
        if let Some(t) = term {
            total = Some(total.unwrap_or(0.0) + t);
        }
    }
    total
}

fn row(id: &str, original: Option<Numeric4>, normalized: Option<f64>, text: String) -> ScoreRow {
    ScoreRow {
        score_id: id.to_string(),
        score_original: original.map(n4_to_f64),
        score_normalized: normalized,
        human_explanation: text,
    }
}

/// ×100 of a NUMERIC(16,4) value, still exact in NUMERIC.
fn times_100(v: Numeric4) -> f64 {
    v as f64 / 100.0
}

/// `ROUND(numeric, 1)`, half away from zero.
fn round1(v: Numeric4) -> f64 {
    div_half_away(i128::from(v), 1000) as f64 / 10.0
}

/// The 23 rows of `neighborhood_overall_scores` (§7.5–7.6, §8 order).
pub fn city_scores(
    blocks: &[Block],
    scores: &[BlockScores],
    segments: &[Segment],
    boundary: &MultiPolygon<f64>,
) -> Vec<ScoreRow> {
    let pop: Vec<f64> = blocks.iter().map(|b| b.population).collect();
    let scores: Vec<BlockScores> = scores
        .iter()
        .filter(|s| (s.block as usize) < blocks.len())
        .cloned()
        .collect();
    let any_high = |f: fn(&BlockScores) -> &Access| scores.iter().any(|s| high_positive(f(s)));

    let mut values: Vec<(Numeric4, bool)> = Vec::with_capacity(16);
    let mut member_rows: Vec<ScoreRow> = Vec::with_capacity(16);
    for m in &MEMBERS {
        let v = float_to_numeric4(member_city_score(&pop, &scores, m).unwrap_or(0.0));
        values.push((v, any_high(m.access)));
        let text = if m.whole_population {
            format!(
                "Population-weighted average score of low-stress access to {} over all census blocks.",
                m.what
            )
        } else {
            format!(
                "Population-weighted average score of low-stress access to {} over the census blocks that can reach any by bike.",
                m.what
            )
        };
        member_rows.push(row(m.id, Some(v), Some(times_100(v)), text));
    }
    let rollup = |range: std::ops::Range<usize>, weights: &[f64]| {
        let members: Vec<(Numeric4, f64, bool)> = range
            .zip(weights)
            .map(|(i, w)| (values[i].0, *w, values[i].1))
            .collect();
        if members.iter().any(|m| m.2) {
            weighted_numeric(&members)
        } else {
            None
        }
    };
    use params::*;
    let opportunity = rollup(1..5, &[W_EMPLOYMENT, W_SCHOOLS, W_COLLEGES, W_UNIVERSITIES]);
    let core = rollup(
        5..11,
        &[
            W_DOCTORS,
            W_DENTISTS,
            W_HOSPITALS,
            W_PHARMACIES,
            W_SUPERMARKETS,
            W_SOCIAL_SERVICES,
        ],
    );
    let recreation = rollup(12..15, &[W_PARKS, W_TRAILS, W_COMMUNITY_CENTERS]);
    let category_row = |id: &str, v: Option<Numeric4>, what: &str| {
        row(
            id,
            v,
            v.map(times_100),
            format!("Weighted average of the {what} sub-scores, over the sub-categories present in the city."),
        )
    };

    let mut out: Vec<ScoreRow> = Vec::with_capacity(23);
    let mut members = member_rows.into_iter();
    out.extend(members.by_ref().take(5));
    out.push(category_row("opportunity", opportunity, "opportunity"));
    out.extend(members.by_ref().take(6));
    out.push(category_row("core_services", core, "core services"));
    out.extend(members.by_ref().take(1));
    out.extend(members.by_ref().take(3));
    out.push(category_row("recreation", recreation, "recreation"));
    out.extend(members);

    // [BSA] ≥ 3.1.0: population-weighted mean of the blocks' own overall scores.
    let reach_pop: f64 = scores
        .iter()
        .filter(|s| s.reachable_blocks > 0)
        .map(|s| pop[s.block as usize])
        .sum();
    let weighted: f64 = scores
        .iter()
        .filter(|s| s.reachable_blocks > 0 && pop[s.block as usize] > 0.0)
        .map(|s| s.overall_score / 100.0 * pop[s.block as usize])
        .sum();
    let overall = float_to_numeric4(if reach_pop > 0.0 {
        weighted / reach_pop
    } else {
        0.0
    });
    out.push(row(
        "overall_score",
        Some(overall),
        Some(times_100(overall)),
        "Population-weighted average of the census blocks' overall scores (blocks that reach any other block).".to_string(),
    ));

    let population = float_to_numeric4(scores.iter().map(|s| pop[s.block as usize]).sum());
    out.push(row(
        "population_total",
        Some(population),
        None,
        "Total population of the census blocks in the boundary.".to_string(),
    ));

    let clipper = AreaClipper::new(boundary);
    let (mut low_m, mut high_m) = (0.0, 0.0);
    for seg in segments {
        let (ft, tf) = directional_stress(seg);
        let kl = mileage_factor(ft, tf, LOW_STRESS);
        let kh = mileage_factor(ft, tf, HIGH_STRESS);
        if kl == 0.0 && kh == 0.0 {
            continue;
        }
        let inside = clipper.inside_length(&seg.geom);
        low_m += inside * kl;
        high_m += inside * kh;
    }
    let per_mile = 1.0 / params::METRES_PER_MILE;
    for (id, metres, text) in [
        (
            "total_miles_low_stress",
            low_m,
            "Total low-stress miles inside the boundary, counting each direction of travel.",
        ),
        (
            "total_miles_high_stress",
            high_m,
            "Total high-stress miles inside the boundary, counting each direction of travel.",
        ),
    ] {
        let v = float_to_numeric4(per_mile * metres);
        out.push(row(id, Some(v), Some(round1(v)), text.to_string()));
    }
    out
}

/// Mileage per bike infrastructure type (§7.7, `calculate_mileage.sql`): each way counts once
/// for its ft infra, once for its tf infra and once if it is a non-crosswalk path. Not clipped
/// to the boundary. Only types present are listed, in a fixed order.
pub fn mileage(segments: &[Segment]) -> Vec<(String, f64)> {
    let types = [
        BikeInfra::Sharrow.as_str(),
        BikeInfra::BufferedLane.as_str(),
        BikeInfra::Lane.as_str(),
        BikeInfra::Track.as_str(),
        "path",
    ];
    let mut totals: [Option<f64>; 5] = [None; 5];
    let mut add = |i: usize, miles: f64| totals[i] = Some(totals[i].unwrap_or(0.0) + miles);
    let infra_index = |b: BikeInfra| match b {
        BikeInfra::Sharrow => 0,
        BikeInfra::BufferedLane => 1,
        BikeInfra::Lane => 2,
        BikeInfra::Track => 3,
    };
    for seg in segments {
        let miles = Euclidean.length(&seg.geom) / params::METRES_PER_MILE;
        for infra in [seg.attrs.ft_bike_infra, seg.attrs.tf_bike_infra]
            .into_iter()
            .flatten()
        {
            add(infra_index(infra), miles);
        }
        if seg.attrs.functional_class == FunctionalClass::Path && !seg.attrs.xwalk {
            add(4, miles);
        }
    }
    types
        .iter()
        .zip(totals)
        .filter_map(|(t, v)| v.map(|v| (t.to_string(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SegmentAttributes, SegmentStress};
    use geo::{line_string, polygon, Point};
    use DestinationCategory as C;

    fn close(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(x), Some(y)) => (x - y).abs() < 1e-12,
            _ => false,
        }
    }

    /// Every row of the §7.2 table, including the exact breakpoints and the NULL cases.
    #[test]
    fn ratio_score_table() {
        let rows: &[(Option<f64>, Option<f64>, Option<f64>)] = &[
            (Some(5.0), None, None),                   // high NULL
            (Some(0.0), Some(0.0), None),              // high = 0
            (None, Some(10.0), None),                  // low NULL
            (Some(0.0), Some(10.0), Some(0.0)),        // low = 0
            (Some(7.0), Some(7.0), Some(1.0)),         // low = high
            (Some(1.0), Some(2.0), Some(0.8)),         // r = 0.5
            (Some(1.0), Some(5.0), Some(0.4)),         // r = 0.2
            (Some(3.0), Some(100.0), Some(0.1)),       // r = 0.03
            (Some(3.0), Some(4.0), Some(0.9)),         // r > 0.5
            (Some(7.0), Some(20.0), Some(0.6)),        // 0.2 < r < 0.5
            (Some(23.0), Some(200.0), Some(0.25)),     // 0.03 < r < 0.2
            (Some(1.0), Some(100.0), Some(0.1 / 3.0)), // r < 0.03
        ];
        for (low, high, want) in rows {
            let got = ratio_score(*low, *high);
            assert!(close(got, *want), "{low:?}/{high:?}: {got:?} != {want:?}");
        }
        // Breakpoints give the literal score, not the interpolation's rounding.
        assert_eq!(ratio_score(Some(1.0), Some(2.0)), Some(0.8));
    }

    /// §7.3 rules 1–7 and the three worked examples.
    #[test]
    fn destination_score_rules() {
        let rows: &[(u32, u32, Steps, Option<f64>)] = &[
            (0, 0, params::SCHOOLS_STEPS, None),           // rule 1
            (0, 3, params::SCHOOLS_STEPS, Some(0.0)),      // rule 2
            (4, 4, params::SCHOOLS_STEPS, Some(1.0)),      // rule 3
            (1, 4, (0.0, 0.0, 0.0), Some(0.25)),           // rule 4
            (1, 3, params::TRANSIT_STEPS, Some(0.6)),      // rule 5, l = 1
            (2, 3, params::TRANSIT_STEPS, Some(0.8)),      // rule 5
            (1, 3, params::SUPERMARKETS_STEPS, Some(0.6)), // rule 6 (worked example)
            (2, 5, params::SUPERMARKETS_STEPS, Some(0.8)), // rule 6, l = 2
            (3, 5, params::SUPERMARKETS_STEPS, Some(0.8 + 0.2 / 3.0)), // rule 6, else
            (1, 5, params::SCHOOLS_STEPS, Some(0.3)),      // rule 7, l = 1
            (2, 5, params::SCHOOLS_STEPS, Some(0.5)),      // rule 7 (worked example)
            (3, 5, params::SCHOOLS_STEPS, Some(0.7)),      // rule 7, l = 3
            (4, 6, params::SCHOOLS_STEPS, Some(0.8)),      // rule 7 (worked example)
        ];
        for (l, h, steps, want) in rows {
            let got = destination_score(*l, *h, *steps);
            assert!(close(got, *want), "{l}/{h} {steps:?}: {got:?} != {want:?}");
        }
        // NUMERIC sums of the parameters are exact decimals.
        assert_eq!(destination_score(3, 9, params::DOCTORS_STEPS), Some(0.7));
    }

    fn access(low: f64, high: f64, score: Option<f64>) -> Access {
        Access {
            low: Some(low),
            high: Some(high),
            score,
        }
    }

    fn empty_scores() -> BlockScores {
        BlockScores {
            block: 0,
            reachable_blocks: 1,
            pop: Access::default(),
            emp: Access::default(),
            destinations: [access(0.0, 0.0, None); 13],
            trails: access(0.0, 0.0, None),
            overall_score: 0.0,
            opportunity_score: None,
            core_services_score: None,
            recreation_score: None,
        }
    }

    #[test]
    fn block_overall_with_and_without_destinations() {
        // People only: D = 15.
        let mut s = empty_scores();
        s.pop = access(5.0, 10.0, Some(0.8));
        assert!((block_overall(&s) - 80.0).abs() < 1e-9);

        // Schools reachable: employment's 0.35 stays in the denominator although emp is NULL.
        s.destinations[idx(C::Schools)] = access(1.0, 1.0, Some(1.0));
        let opp = 0.35 / 0.7;
        let want = 100.0 * (15.0 * 0.8 + 20.0 * opp) / 35.0;
        assert!((block_overall(&s) - want).abs() < 1e-9);

        // Jobs alone never gate opportunity.
        let mut j = empty_scores();
        j.emp = access(10.0, 10.0, Some(1.0));
        assert!((block_overall(&j)).abs() < 1e-12);

        // Every category present.
        let mut a = empty_scores();
        a.pop = access(1.0, 1.0, Some(1.0));
        a.emp = access(1.0, 1.0, Some(1.0));
        a.destinations = [access(1.0, 1.0, Some(1.0)); 13];
        a.trails = access(1.0, 1.0, Some(1.0));
        assert!((block_overall(&a) - 100.0).abs() < 1e-9);

        // Recreation through trails only; transit reachable but scored 0.
        let mut r = empty_scores();
        r.trails = access(1.0, 2.0, Some(0.85));
        r.destinations[idx(C::Transit)] = access(0.0, 2.0, Some(0.0));
        let want = 100.0 * (15.0 * 0.85) / (15.0 + 15.0 + 15.0);
        assert!((block_overall(&r) - want).abs() < 1e-9);
    }

    #[test]
    fn category_scores_use_non_null_members() {
        let mut s = empty_scores();
        s.emp = access(1.0, 2.0, Some(0.5));
        s.destinations[idx(C::Universities)] = access(1.0, 1.0, Some(1.0));
        fill_category_scores(&mut s);
        let want = (0.35 * 0.5 + 0.2 * 1.0) / (0.35 + 0.2);
        assert!(close(s.opportunity_score, Some(want)));
        assert_eq!(s.core_services_score, None);
        assert_eq!(s.recreation_score, None);
        // A zero score counts, unlike a NULL one.
        s.destinations[idx(C::Parks)] = access(0.0, 3.0, Some(0.0));
        fill_category_scores(&mut s);
        assert!(close(s.recreation_score, Some(0.0)));
    }

    fn sq(x: f64, side: f64) -> geo::Polygon<f64> {
        polygon![(x: x, y: 0.0), (x: x + side, y: 0.0), (x: x + side, y: side), (x: x, y: side), (x: x, y: 0.0)]
    }

    fn blk(i: usize, pop: f64, jobs: f64) -> Block {
        let p = sq(i as f64 * 100.0, 100.0);
        Block {
            geoid: format!("b{i}"),
            geom: MultiPolygon::new(vec![p.clone()]),
            geom_ll: MultiPolygon::new(vec![p]),
            population: pop,
            jobs,
            aland: None,
        }
    }

    fn pair(source: u32, target: u32, low: bool) -> BlockPair {
        BlockPair {
            source,
            target,
            low_stress: low,
            low_stress_cost: None,
            high_stress_cost: None,
        }
    }

    fn destination(id: u32, category: C, blocks: Vec<u32>) -> Destination {
        Destination {
            id,
            category,
            osm_id: None,
            name: None,
            point: Point::new(0.0, 0.0),
            polygon: None,
            blocks,
        }
    }

    #[test]
    fn score_blocks_counts_and_nulls() {
        let blocks = vec![
            blk(0, 10.4, 5.0),
            blk(1, 20.0, 0.0),
            blk(2, 30.0, 1.0),
            blk(3, 7.0, 0.0),
        ];
        let pairs = vec![
            pair(0, 0, true),
            pair(0, 1, true),
            pair(0, 2, false),
            pair(1, 1, false),
            pair(1, 2, false),
        ];
        let dests = vec![
            // One school spanning blocks 1 and 2 is counted once.
            destination(0, C::Schools, vec![1, 2]),
            destination(1, C::Schools, vec![2]),
            destination(2, C::Transit, vec![]),
        ];
        let s = score_blocks(&blocks, &pairs, &dests, &[(0, 1), (0, 0), (0, 0), (0, 0)]);
        assert_eq!(s.len(), 4);
        let b0 = &s[0];
        assert_eq!(b0.reachable_blocks, 3);
        // 10.4 + 20 = 30.4 → INT 30; all = 60.4 → 60.
        assert_eq!(b0.pop.low, Some(30.0));
        assert_eq!(b0.pop.high, Some(60.0));
        assert_eq!(b0.pop.score, ratio_score(Some(30.0), Some(60.0)));
        assert_eq!(b0.emp.low, Some(5.0));
        assert_eq!(b0.emp.high, Some(6.0));
        let schools = &b0.destinations[idx(C::Schools)];
        assert_eq!((schools.low, schools.high), (Some(1.0), Some(2.0)));
        assert!(close(schools.score, Some(0.3)));
        assert_eq!(b0.destinations[idx(C::Transit)].high, Some(0.0));
        assert_eq!(b0.destinations[idx(C::Transit)].score, None);
        assert_eq!(b0.trails.score, Some(0.0));
        // No low-stress pair at all: low is NULL, so the score is NULL.
        assert_eq!(s[1].pop.low, None);
        assert_eq!(s[1].pop.score, None);
        // No pairs: sums NULL, counts 0, overall 0.
        let b3 = &s[3];
        assert_eq!(b3.reachable_blocks, 0);
        assert_eq!((b3.pop.low, b3.pop.high, b3.pop.score), (None, None, None));
        assert_eq!(b3.emp.high, None);
        assert_eq!(b3.destinations[0].high, Some(0.0));
        assert_eq!(b3.overall_score, 0.0);
        assert_eq!(b3.opportunity_score, None);
    }

    #[test]
    fn numeric_conversion_and_rounding() {
        assert_eq!(float_to_numeric4(0.99985), 9999); // half away, not to even
        assert_eq!(float_to_numeric4(0.12344999), 1234);
        assert_eq!(float_to_numeric4(-0.00005), -1);
        assert_eq!(float_to_numeric4(1234.56789), 12_345_679);
        assert_eq!(float_to_numeric4(0.0), 0);
        // 15 significant digits first: 0.1 + 0.2 prints as 0.300000000000000.
        assert_eq!(float_to_numeric4(0.1 + 0.2), 3000);
        assert_eq!(round1(12_345), 1.2);
        assert_eq!(round1(12_500), 1.3);
        // Exact rollup: (0.35·0.5 + 0.35·0.3) / 0.7 = 0.4.
        assert_eq!(
            weighted_numeric(&[(5000, 0.35, true), (3000, 0.35, true), (0, 0.1, false)]),
            Some(4000)
        );
        // Tie at the 5th decimal rounds away: 0.99985 exactly.
        assert_eq!(
            weighted_numeric(&[(9997, 0.5, true), (10000, 0.5, true)]),
            Some(9999)
        );
    }

    fn segment(
        geom: LineString<f64>,
        ft: Option<u8>,
        tf: Option<u8>,
        one_way: Option<Direction>,
    ) -> Segment {
        Segment {
            road_id: 0,
            osm_id: 0,
            name: None,
            intersection_from: 0,
            intersection_to: 0,
            geom_ll: geom.clone(),
            geom,
            tags: Default::default(),
            attrs: SegmentAttributes {
                one_way_car: one_way,
                one_way,
                ..SegmentAttributes::unattributed(FunctionalClass::Residential)
            },
            stress: SegmentStress {
                ft_seg: ft,
                tf_seg: tf,
                ft_int: None,
                tf_int: None,
            },
            stress_rules: Default::default(),
            path_id: None,
        }
    }

    #[test]
    fn mileage_k_factor() {
        let rows: &[(Option<u8>, Option<u8>, f64, f64)] = &[
            (Some(1), Some(1), 2.0, 0.0),
            (Some(1), Some(3), 1.0, 1.0),
            (Some(3), Some(1), 1.0, 1.0),
            (Some(3), Some(3), 0.0, 2.0),
            (Some(1), None, 1.0, 0.0),
            (None, Some(3), 0.0, 1.0),
            (None, None, 0.0, 0.0),
        ];
        for (ft, tf, low, high) in rows {
            assert_eq!(
                mileage_factor(*ft, *tf, LOW_STRESS),
                *low,
                "{ft:?}/{tf:?} low"
            );
            assert_eq!(
                mileage_factor(*ft, *tf, HIGH_STRESS),
                *high,
                "{ft:?}/{tf:?} high"
            );
        }
        // The one-way reset nulls the forbidden direction before the factor applies.
        let s = segment(
            line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0)],
            Some(1),
            Some(1),
            Some(Direction::Ft),
        );
        assert_eq!(directional_stress(&s), (Some(1), None));
    }

    #[test]
    fn boundary_clip_length() {
        let boundary = MultiPolygon::new(vec![sq(0.0, 1000.0)]);
        let c = AreaClipper::new(&boundary);
        // Crosses the east edge: 500 m inside.
        let l = line_string![(x: 500.0, y: 500.0), (x: 1500.0, y: 500.0)];
        assert!((c.inside_length(&l) - 500.0).abs() < 1e-9);
        // Fully inside, fully outside, enters and leaves.
        let inside = line_string![(x: 10.0, y: 10.0), (x: 10.0, y: 110.0)];
        assert!((c.inside_length(&inside) - 100.0).abs() < 1e-9);
        let outside = line_string![(x: 2000.0, y: 10.0), (x: 2100.0, y: 10.0)];
        assert_eq!(c.inside_length(&outside), 0.0);
        let through = line_string![(x: -100.0, y: 300.0), (x: 1100.0, y: 300.0)];
        assert!((c.inside_length(&through) - 1000.0).abs() < 1e-9);
        // Running along the boundary counts (the boundary belongs to the polygon).
        let along = line_string![(x: 0.0, y: 100.0), (x: 0.0, y: 300.0)];
        assert!((c.inside_length(&along) - 200.0).abs() < 1e-9);
    }

    #[test]
    fn city_aggregation() {
        // Block 0: pop 100, reaches schools, overall 50; block 1: pop 300, no schools,
        // overall 20; block 2: pop 50, no pairs.
        let blocks = vec![blk(0, 100.0, 0.0), blk(1, 300.0, 0.0), blk(2, 50.0, 0.0)];
        let mut b0 = empty_scores();
        b0.pop = access(1.0, 3.0, Some(0.123456));
        b0.destinations[idx(C::Schools)] = access(1.0, 2.0, Some(0.3));
        b0.overall_score = 50.0;
        let mut b1 = empty_scores();
        b1.block = 1;
        b1.pop = access(1.0, 1.0, Some(1.0));
        b1.overall_score = 20.0;
        let mut b2 = empty_scores();
        b2.block = 2;
        b2.reachable_blocks = 0;
        let boundary = MultiPolygon::new(vec![sq(0.0, 1000.0)]);
        let segs = vec![
            // 1609.34 m low both ways inside → 2 miles low.
            segment(
                line_string![(x: 10.0, y: 10.0), (x: 10.0 + 804.67, y: 10.0)],
                Some(1),
                Some(1),
                None,
            ),
            // Half outside, high one way only → 0.25 mile high.
            segment(
                line_string![(x: 1000.0 - 402.335, y: 20.0), (x: 1402.335, y: 20.0)],
                Some(3),
                None,
                Some(Direction::Ft),
            ),
        ];
        let rows = city_scores(&blocks, &[b0, b1, b2], &segs, &boundary);
        let ids: Vec<&str> = rows.iter().map(|r| r.score_id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "people",
                "opportunity_employment",
                "opportunity_k12_education",
                "opportunity_technical_vocational_college",
                "opportunity_higher_education",
                "opportunity",
                "core_services_doctors",
                "core_services_dentists",
                "core_services_hospitals",
                "core_services_pharmacies",
                "core_services_grocery",
                "core_services_social_services",
                "core_services",
                "retail",
                "recreation_parks",
                "recreation_trails",
                "recreation_community_centers",
                "recreation",
                "transit",
                "overall_score",
                "population_total",
                "total_miles_low_stress",
                "total_miles_high_stress",
            ]
        );
        let get = |id: &str| rows.iter().find(|r| r.score_id == id).expect(id);
        // people = (100·0.123456 + 300·1) / 450 = 0.69410… → 0.6941.
        assert_eq!(get("people").score_original, Some(0.6941));
        assert_eq!(get("people").score_normalized, Some(69.41));
        // K-12 denominator is only the population reaching a school: 100·0.3/100.
        assert_eq!(get("opportunity_k12_education").score_original, Some(0.3));
        // Opportunity: employment has no high > 0, so only schools' weight divides.
        assert_eq!(get("opportunity").score_original, Some(0.3));
        assert_eq!(get("opportunity_employment").score_original, Some(0.0));
        assert_eq!(get("core_services").score_original, None);
        assert_eq!(get("core_services").score_normalized, None);
        // Overall: (0.5·100 + 0.2·300) / 400 = 0.275.
        assert_eq!(get("overall_score").score_original, Some(0.275));
        assert_eq!(get("overall_score").score_normalized, Some(27.5));
        assert_eq!(get("population_total").score_original, Some(450.0));
        assert_eq!(get("population_total").score_normalized, None);
        assert_eq!(get("total_miles_low_stress").score_original, Some(1.0));
        assert_eq!(get("total_miles_high_stress").score_original, Some(0.25));
        assert_eq!(get("total_miles_high_stress").score_normalized, Some(0.3));
        assert!(rows.iter().all(|r| !r.human_explanation.is_empty()));
    }

    #[test]
    fn mileage_by_type() {
        let mut a = segment(
            line_string![(x: 0.0, y: 0.0), (x: 1609.34, y: 0.0)],
            None,
            None,
            None,
        );
        a.attrs.ft_bike_infra = Some(BikeInfra::Lane);
        a.attrs.tf_bike_infra = Some(BikeInfra::Lane);
        let mut p = segment(
            line_string![(x: 0.0, y: 0.0), (x: 804.67, y: 0.0)],
            None,
            None,
            None,
        );
        p.attrs.functional_class = FunctionalClass::Path;
        let mut x = p.clone();
        x.attrs.xwalk = true;
        let m = mileage(&[a, p, x]);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "lane");
        assert!((m[0].1 - 2.0).abs() < 1e-12);
        assert_eq!(m[1].0, "path");
        assert!((m[1].1 - 0.5).abs() < 1e-12);
    }
}
