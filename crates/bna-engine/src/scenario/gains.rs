//! "Biggest gains": re-score many single-segment upgrades and rank them by how much they raise
//! the overall score. Each candidate is an independent re-scoring of the same loaded base, run
//! in parallel with rayon.

use std::path::Path;
use std::time::Instant;

use geo::{Contains, Distance, Euclidean, Length, MultiPolygon, Point};
use rayon::prelude::*;
use serde::Serialize;

use super::{expand, low_stress_reach, overall_of, Edit, Facility, Quiet, ScenarioError};
use crate::model::{FunctionalClass, ProjectData, Segment, HIGH_STRESS, LOW_STRESS};
use crate::params::SCENARIO_CORRIDOR_BOUNDARY_BUFFER_M;
use crate::pipeline::{self, Observer};

/// A set of edits scored as one upgrade.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub label: String,
    pub edits: Vec<Edit>,
}

pub enum Candidates {
    /// A protected track on every high-stress segment that is not a motorway or trunk (see
    /// [`protected_track_candidates`]), the
    /// `limit` most promising by [`protected_track_candidates`]' prefilter.
    ProtectedTracks {
        limit: usize,
    },
    /// A protected track along each stretch of one street (see [`corridor_candidates`]), the
    /// `limit` most promising.
    Corridors {
        limit: usize,
    },
    List(Vec<Candidate>),
}

#[derive(Debug, Clone, Serialize)]
pub struct Gain {
    pub candidate: Candidate,
    pub overall: Option<f64>,
    /// `overall_score` of the upgrade minus that of the base (NULL counts as 0).
    pub delta: f64,
    /// Length of the roads it builds on, km: the cost proxy.
    pub length_km: f64,
    /// Population of the blocks that reach more blocks on the low-stress network than in the
    /// base (as in `compare`).
    pub people_gaining: f64,
    /// `people_gaining` per km built (0 for a candidate of no length).
    pub people_gaining_per_km: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gains {
    pub base_overall: Option<f64>,
    /// Candidates that qualified before the prefilter's limit, and those re-scored.
    pub eligible: usize,
    pub evaluated: usize,
    /// Re-scored candidates that did not raise the overall score; they are left out of
    /// `ranked`.
    pub without_gain: usize,
    /// Best first (ties by label), at most `top_n`, each raising the overall score.
    pub ranked: Vec<Gain>,
    /// Wall time of the re-scoring, all candidates.
    pub seconds: f64,
}

/// Re-scores every candidate against the project's base analysis and returns the `top_n`
/// that raise `overall_score` most; candidates that do not raise it are only counted.
/// Nothing is stored.
pub fn biggest_gains(
    project: &Path,
    candidates: Candidates,
    top_n: usize,
    obs: &dyn Observer,
) -> Result<Gains, ScenarioError> {
    let base = pipeline::load_results(project)?;
    let (list, eligible) = match candidates {
        Candidates::ProtectedTracks { limit } => protected_track_candidates(&base, limit),
        Candidates::Corridors { limit } => corridor_candidates(&base, limit),
        Candidates::List(l) => {
            let n = l.len();
            (l, n)
        }
    };
    let base_overall = overall_of(&base.overall_scores);
    let base_reach = low_stress_reach(&base);
    let t0 = Instant::now();
    obs.set_total(list.len() as u64);
    let quiet = Quiet(obs);
    let scored: Vec<Result<Gain, ScenarioError>> = list
        .into_par_iter()
        .map(|candidate| {
            let (segs, ints) = expand(&candidate.edits);
            let out = pipeline::rescore_loaded(&base, project, &segs, &ints, &quiet)?;
            let overall = overall_of(&out.data.overall_scores);
            let people_gaining = people_gaining(&base, &base_reach, &out.data);
            let length_km = length_km(&base, &candidate.edits);
            obs.inc(1);
            Ok(Gain {
                delta: overall.unwrap_or(0.0) - base_overall.unwrap_or(0.0),
                overall,
                length_km,
                people_gaining,
                people_gaining_per_km: if length_km > 0.0 {
                    people_gaining / length_km
                } else {
                    0.0
                },
                candidate,
            })
        })
        .collect();
    let mut ranked = scored.into_iter().collect::<Result<Vec<_>, _>>()?;
    let seconds = t0.elapsed().as_secs_f64();
    let evaluated = ranked.len();
    ranked.retain(|g| g.delta > 0.0);
    let without_gain = evaluated - ranked.len();
    ranked.sort_by(|a, b| {
        b.delta
            .total_cmp(&a.delta)
            .then_with(|| a.candidate.label.cmp(&b.candidate.label))
    });
    ranked.truncate(top_n);
    Ok(Gains {
        base_overall,
        eligible,
        evaluated,
        without_gain,
        ranked,
        seconds,
    })
}

/// Population of the blocks whose low-stress reach grew from `base_reach` to that of `after`.
fn people_gaining(base: &ProjectData, base_reach: &[u32], after: &ProjectData) -> f64 {
    low_stress_reach(after)
        .iter()
        .zip(base_reach)
        .zip(&base.blocks)
        .filter(|((after, before), _)| after > before)
        .map(|(_, block)| block.population)
        .sum()
}

/// Length of the distinct segments `edits` change, km.
fn length_km(base: &ProjectData, edits: &[Edit]) -> f64 {
    let mut roads: Vec<u32> = edits.iter().filter_map(Edit::road_id).collect();
    roads.sort_unstable();
    roads.dedup();
    roads
        .iter()
        .filter_map(|&r| base.segments.get(r as usize))
        .map(|s| Euclidean.length(&s.geom))
        .sum::<f64>()
        / 1000.0
}

/// The study boundary in the project's metric CRS, to test segments against.
pub struct StudyArea {
    boundary: MultiPolygon<f64>,
}

impl StudyArea {
    pub fn of(base: &ProjectData) -> StudyArea {
        StudyArea {
            boundary: base.projection.project(&base.boundary_ll),
        }
    }

    /// Distance (m) from `p` to the boundary's area, 0 inside it.
    pub fn distance_m(&self, p: Point<f64>) -> f64 {
        if self.boundary.contains(&p) {
            0.0
        } else {
            Euclidean.distance(&p, &self.boundary)
        }
    }

    /// Whether every vertex of `s` lies within boundary ⊕
    /// [`SCENARIO_CORRIDOR_BOUNDARY_BUFFER_M`].
    pub fn holds(&self, s: &Segment) -> bool {
        s.geom
            .points()
            .all(|p| self.distance_m(p) <= SCENARIO_CORRIDOR_BOUNDARY_BUFFER_M)
    }
}

fn is_motorway_or_trunk(c: FunctionalClass) -> bool {
    use FunctionalClass as C;
    matches!(c, C::Motorway | C::MotorwayLink | C::Trunk | C::TrunkLink)
}

/// High stress on the road itself in a direction whose crossing is low stress: a facility
/// there makes that direction low stress (a hard crossing would keep it high).
fn track_can_help(s: &Segment) -> bool {
    let st = &s.stress;
    (st.ft_seg == Some(HIGH_STRESS) && st.ft_int != Some(HIGH_STRESS))
        || (st.tf_seg == Some(HIGH_STRESS) && st.tf_int != Some(HIGH_STRESS))
}

/// A protected track on each segment that is not a motorway or trunk and is high stress in a
/// direction whose crossing is not (so the track can make it low stress), and how many there
/// are. When there are more than `limit`, keeps those that join the largest
/// low-stress islands: intersections are grouped by the low-stress segments between them, and
/// a candidate scores the size of the smaller island at its two ends (0 when both ends are in
/// the same island, since it then adds no new connection), ties broken by the larger island
/// and then by `road_id`. A cheap proxy for the re-scoring it saves.
pub fn protected_track_candidates(base: &ProjectData, limit: usize) -> (Vec<Candidate>, usize) {
    let (mut parent, size) = low_stress_islands(base);
    let mut ranked: Vec<(u32, u32, u32)> = base
        .segments
        .iter()
        .filter(|s| track_can_help(s) && !is_motorway_or_trunk(s.attrs.functional_class))
        .map(|s| {
            let a = find(&mut parent, s.intersection_from);
            let b = find(&mut parent, s.intersection_to);
            let (sa, sb) = (size[a as usize], size[b as usize]);
            let small = if a == b { 0 } else { sa.min(sb) };
            (small, sa.max(sb), s.road_id)
        })
        .collect();
    let eligible = ranked.len();
    ranked.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
    ranked.truncate(limit);
    let out = ranked
        .into_iter()
        .map(|(_, _, road_id)| {
            let s = &base.segments[road_id as usize];
            Candidate {
                label: format!(
                    "protected track on {} (road {road_id})",
                    s.name.as_deref().unwrap_or("unnamed road")
                ),
                edits: vec![Edit::Build {
                    road_id,
                    facility: Facility::ProtectedTrack,
                }],
            }
        })
        .collect();
    (out, eligible)
}

/// Protected tracks along whole stretches of a street: the segments a track can help (as for
/// [`protected_track_candidates`]) that lie in the study area ([`StudyArea::holds`]), grouped
/// by street name and joined where they share an intersection; each group of two or more
/// segments is one candidate, and how many there are.
/// When there are more than `limit`, keeps those that join the most intersections to the
/// largest low-stress island they touch (the intersections of every other island they touch,
/// counted once), ties broken by more segments and then by the lowest `road_id`.
pub fn corridor_candidates(base: &ProjectData, limit: usize) -> (Vec<Candidate>, usize) {
    let (mut islands, size) = low_stress_islands(base);
    let area = StudyArea::of(base);
    let mut by_name: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for s in base.segments.iter().filter(|s| {
        track_can_help(s) && !is_motorway_or_trunk(s.attrs.functional_class) && area.holds(s)
    }) {
        if let Some(name) = s.name.as_deref() {
            by_name.entry(name).or_default().push(s.road_id);
        }
    }
    let mut runs: Vec<(u32, usize, u32, &str, Vec<u32>)> = Vec::new();
    for (name, roads) in by_name {
        // Stretches: the street's segments joined through the intersections they share.
        let mut parent: std::collections::HashMap<u32, u32> = Default::default();
        fn root(p: &mut std::collections::HashMap<u32, u32>, x: u32) -> u32 {
            let mut r = x;
            while let Some(&up) = p.get(&r).filter(|up| **up != r) {
                r = up;
            }
            p.insert(x, r);
            r
        }
        for &r in &roads {
            let s = &base.segments[r as usize];
            let a = root(&mut parent, s.intersection_from);
            let b = root(&mut parent, s.intersection_to);
            parent.insert(a, b);
        }
        let mut stretches: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for &r in &roads {
            let k = root(&mut parent, base.segments[r as usize].intersection_from);
            stretches.entry(k).or_default().push(r);
        }
        for (_, mut run) in stretches.into_iter().filter(|(_, v)| v.len() >= 2) {
            run.sort_unstable();
            let mut touched: Vec<u32> = run
                .iter()
                .flat_map(|&r| {
                    let s = &base.segments[r as usize];
                    [s.intersection_from, s.intersection_to]
                })
                .map(|i| find(&mut islands, i))
                .collect();
            touched.sort_unstable();
            touched.dedup();
            let sizes: Vec<u32> = touched.iter().map(|&t| size[t as usize]).collect();
            let joined = sizes.iter().sum::<u32>() - sizes.iter().copied().max().unwrap_or(0);
            runs.push((joined, run.len(), run[0], name, run));
        }
    }
    let eligible = runs.len();
    runs.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
    runs.truncate(limit);
    let out = runs
        .into_iter()
        .map(|(_, n, first, name, run)| Candidate {
            label: format!("protected track along {name} ({n} segments from road {first})"),
            edits: run
                .into_iter()
                .map(|road_id| Edit::Build {
                    road_id,
                    facility: Facility::ProtectedTrack,
                })
                .collect(),
        })
        .collect();
    (out, eligible)
}

fn find(p: &mut [u32], mut x: u32) -> u32 {
    while p[x as usize] != x {
        p[x as usize] = p[p[x as usize] as usize];
        x = p[x as usize];
    }
    x
}

/// Intersections grouped by the low-stress segments between them (union-find parents) and
/// the number of intersections of each group, by root.
fn low_stress_islands(base: &ProjectData) -> (Vec<u32>, Vec<u32>) {
    let n = base.intersections.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for s in &base.segments {
        let low = |a: Option<u8>, b: Option<u8>| a == Some(LOW_STRESS) && b == Some(LOW_STRESS);
        if low(s.stress.ft_seg, s.stress.ft_int) || low(s.stress.tf_seg, s.stress.tf_int) {
            let (a, b) = (
                find(&mut parent, s.intersection_from),
                find(&mut parent, s.intersection_to),
            );
            parent[a as usize] = b;
        }
    }
    let mut size = vec![0u32; n];
    for i in 0..n as u32 {
        let r = find(&mut parent, i);
        size[r as usize] += 1;
    }
    (parent, size)
}
