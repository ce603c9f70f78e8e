//! Applies the stress rules of `stress` to a whole network: segment stress per direction
//! (with the one-way reset) and intersection stress at the end reached in each direction.

use crate::model::{Direction, Intersection, Segment};
use crate::network::stress::{intersection_stress, segment_stress, CrossingRoad};

/// Sets `stress` and `stress_rules` on every segment. `residential_speed_default` is the city
/// default, else the state default (spec §4.2), or None.
pub fn assign_stress(
    segments: &mut [Segment],
    intersections: &[Intersection],
    residential_speed_default: Option<u32>,
) {
    let all: Vec<u32> = segments.iter().map(|s| s.road_id).collect();
    assign_stress_to(segments, intersections, residential_speed_default, &all);
}

/// As [`assign_stress`], for the segments `roads` only (road ids); the others keep their
/// stress. Re-scoring after an edit uses it with `edits::affected_segments`.
pub fn assign_stress_to(
    segments: &mut [Segment],
    intersections: &[Intersection],
    residential_speed_default: Option<u32>,
    roads: &[u32],
) {
    let mut at: Vec<Vec<u32>> = vec![Vec::new(); intersections.len()];
    for s in segments.iter() {
        at[s.intersection_from as usize].push(s.road_id);
        if s.intersection_to != s.intersection_from {
            at[s.intersection_to as usize].push(s.road_id);
        }
    }
    let decisions: Vec<_> = roads
        .iter()
        .map(|&r| {
            let s = &segments[r as usize];
            let crossing = |int: u32| {
                let touching: Vec<CrossingRoad> = at[int as usize]
                    .iter()
                    .map(|&r| {
                        let w = &segments[r as usize];
                        CrossingRoad {
                            class: w.attrs.functional_class,
                            name: w.name.as_deref(),
                            one_way: w.attrs.one_way,
                            ft_lanes: w.attrs.ft_lanes,
                            tf_lanes: w.attrs.tf_lanes,
                            speed_limit: w.attrs.speed_limit,
                        }
                    })
                    .collect();
                intersection_stress(
                    s.attrs.functional_class,
                    s.name.as_deref(),
                    &intersections[int as usize].flags,
                    &touching,
                )
            };
            [
                segment_stress(&s.attrs, Direction::Ft, residential_speed_default),
                segment_stress(&s.attrs, Direction::Tf, residential_speed_default),
                crossing(s.intersection_to),
                crossing(s.intersection_from),
            ]
        })
        .collect();
    for (&r, [ft, tf, ft_int, tf_int]) in roads.iter().zip(decisions) {
        let s = &mut segments[r as usize];
        s.stress.ft_seg = ft.stress;
        s.stress.tf_seg = tf.stress;
        s.stress.ft_int = ft_int.stress;
        s.stress.tf_int = tf_int.stress;
        s.stress_rules = [ft.rule, tf.rule, ft_int.rule, tf_int.rule].map(str::to_owned);
    }
}
