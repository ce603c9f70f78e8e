//! Applying `SegmentEdit`s to a copy of the network, and the segments whose stress an edit
//! can change.

use std::collections::BTreeSet;

use crate::model::{
    AttributeChange, CrossingControl, Direction, IntersectionFlags, Segment, SegmentAttributes,
};

/// Sets the attribute `change` names; every other attribute is left as derived.
pub fn apply_change(attrs: &mut SegmentAttributes, change: &AttributeChange) {
    match *change {
        AttributeChange::BikeInfra {
            direction,
            infra,
            width_ft,
        } => match direction {
            Direction::Ft => {
                attrs.ft_bike_infra = infra;
                attrs.ft_bike_infra_width = width_ft;
            }
            Direction::Tf => {
                attrs.tf_bike_infra = infra;
                attrs.tf_bike_infra_width = width_ft;
            }
        },
        AttributeChange::SpeedLimit(mph) => attrs.speed_limit = mph,
        AttributeChange::Lanes { direction, lanes } => match direction {
            Direction::Ft => attrs.ft_lanes = lanes,
            Direction::Tf => attrs.tf_lanes = lanes,
        },
        AttributeChange::Parking { direction, park } => match direction {
            Direction::Ft => attrs.ft_park = park,
            Direction::Tf => attrs.tf_park = park,
        },
    }
}

/// Posted speed limits (mph) an edit may set: US limits run from 5 to 85.
pub const EDIT_SPEED_LIMIT_MPH: std::ops::RangeInclusive<u32> = 5..=85;
/// Through lanes per direction an edit may set: 0 (none that way) to the widest arterials.
pub const EDIT_LANES: std::ops::RangeInclusive<u32> = 0..=12;
/// Bike facility widths (ft) an edit may set: a narrow lane to a wide two-way track.
pub const EDIT_BIKE_WIDTH_FT: std::ops::RangeInclusive<f64> = 1.0..=40.0;

/// Refuses a change whose value no street has (a scenario edits file is hand-written or
/// generated, so a typo or overflow must not be scored). The reason completes "edit 3: …".
pub fn check_change(change: &AttributeChange) -> Result<(), String> {
    match *change {
        AttributeChange::SpeedLimit(Some(mph)) if !EDIT_SPEED_LIMIT_MPH.contains(&mph) => {
            Err(format!(
                "speed limit {mph} mph is not a posted speed; give one from {} to {} mph",
                EDIT_SPEED_LIMIT_MPH.start(),
                EDIT_SPEED_LIMIT_MPH.end()
            ))
        }
        AttributeChange::Lanes { lanes: Some(n), .. } if !EDIT_LANES.contains(&n) => Err(format!(
            "{n} lanes in one direction is not a street; give {} to {} lanes",
            EDIT_LANES.start(),
            EDIT_LANES.end()
        )),
        AttributeChange::Parking { park: Some(p), .. } if p > 1 => Err(format!(
            "parking {p} is not a parking value; use 1 (parking) or 0 (none)"
        )),
        AttributeChange::BikeInfra {
            width_ft: Some(w), ..
        } if !EDIT_BIKE_WIDTH_FT.contains(&w) => Err(format!(
            "a bike facility {w} ft wide is not buildable; give a width from {} to {} ft",
            EDIT_BIKE_WIDTH_FT.start(),
            EDIT_BIKE_WIDTH_FT.end()
        )),
        _ => Ok(()),
    }
}

/// Adds `control` to an intersection; the other flags stay as imported.
pub fn apply_control(flags: &mut IntersectionFlags, control: CrossingControl) {
    match control {
        CrossingControl::Signal => flags.signalized = true,
        CrossingControl::AllWayStop => flags.stops = true,
        CrossingControl::Rrfb => flags.rrfb = true,
        CrossingControl::Island => flags.island = true,
    }
}

/// Segments ending at one of `ints`: their intersection stress depends on its flags. Sorted,
/// unique.
pub fn segments_at(segments: &[Segment], ints: &[u32]) -> Vec<u32> {
    let ints: BTreeSet<u32> = ints.iter().copied().collect();
    segments
        .iter()
        .filter(|s| ints.contains(&s.intersection_from) || ints.contains(&s.intersection_to))
        .map(|s| s.road_id)
        .collect()
}

/// Segments whose stress can depend on the attributes of `edited`: the edited segments
/// themselves (segment stress) and every segment sharing an intersection with one of them,
/// because intersection stress looks at the roads crossed there (spec §4.6). Sorted, unique.
pub fn affected_segments(segments: &[Segment], edited: &[u32]) -> Vec<u32> {
    let ends: BTreeSet<u32> = edited
        .iter()
        .filter_map(|&r| segments.get(r as usize))
        .flat_map(|s| [s.intersection_from, s.intersection_to])
        .collect();
    let mut out: BTreeSet<u32> = edited.iter().copied().collect();
    out.extend(
        segments
            .iter()
            .filter(|s| ends.contains(&s.intersection_from) || ends.contains(&s.intersection_to))
            .map(|s| s.road_id),
    );
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BikeInfra, FunctionalClass, SegmentStress};

    #[test]
    fn values_no_street_has_are_refused() {
        use AttributeChange as C;
        use Direction::Ft;
        let lanes = |n| C::Lanes {
            direction: Ft,
            lanes: Some(n),
        };
        let width = |w| C::BikeInfra {
            direction: Ft,
            infra: Some(BikeInfra::Lane),
            width_ft: Some(w),
        };
        let park = |p| C::Parking {
            direction: Ft,
            park: Some(p),
        };
        // (change, None = accepted, or an error fragment)
        let cases = [
            (C::SpeedLimit(Some(25)), None),
            (C::SpeedLimit(None), None),
            (C::SpeedLimit(Some(0)), Some("0 mph")),
            (C::SpeedLimit(Some(86)), Some("from 5 to 85")),
            (C::SpeedLimit(Some(u32::MAX)), Some("4294967295 mph")),
            (lanes(0), None),
            (lanes(3), None),
            (lanes(12), None),
            (lanes(13), Some("13 lanes")),
            (lanes(u32::MAX), Some("4294967295 lanes")),
            (park(0), None),
            (park(1), None),
            (park(2), Some("parking 2")),
            (park(u8::MAX), Some("parking 255")),
            (width(5.0), None),
            (width(0.0), Some("0 ft wide")),
            (width(-4.0), Some("not buildable")),
            (width(f64::NAN), Some("not buildable")),
            (width(1e9), Some("not buildable")),
        ];
        for (change, want) in cases {
            match (check_change(&change), want) {
                (Ok(()), None) => {}
                (Err(e), Some(frag)) => assert!(e.contains(frag), "{change:?}: {e}"),
                (got, _) => panic!("{change:?}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn each_change_sets_only_its_own_attribute() {
        use AttributeChange as C;
        use Direction::{Ft, Tf};
        let base = SegmentAttributes {
            speed_limit: Some(35),
            ft_lanes: Some(2),
            tf_lanes: Some(2),
            ft_park: Some(1),
            tf_park: Some(1),
            ft_bike_infra: Some(BikeInfra::Lane),
            ft_bike_infra_width: Some(5.0),
            ..SegmentAttributes::unattributed(FunctionalClass::Primary)
        };
        type Expect = fn(&mut SegmentAttributes);
        let cases: [(C, Expect); 7] = [
            (
                C::BikeInfra {
                    direction: Tf,
                    infra: Some(BikeInfra::Track),
                    width_ft: Some(7.0),
                },
                |a| {
                    a.tf_bike_infra = Some(BikeInfra::Track);
                    a.tf_bike_infra_width = Some(7.0);
                },
            ),
            (
                C::BikeInfra {
                    direction: Ft,
                    infra: None,
                    width_ft: None,
                },
                |a| {
                    a.ft_bike_infra = None;
                    a.ft_bike_infra_width = None;
                },
            ),
            (C::SpeedLimit(Some(20)), |a| a.speed_limit = Some(20)),
            (C::SpeedLimit(None), |a| a.speed_limit = None),
            (
                C::Lanes {
                    direction: Ft,
                    lanes: Some(1),
                },
                |a| a.ft_lanes = Some(1),
            ),
            (
                C::Lanes {
                    direction: Tf,
                    lanes: None,
                },
                |a| a.tf_lanes = None,
            ),
            (
                C::Parking {
                    direction: Tf,
                    park: Some(0),
                },
                |a| a.tf_park = Some(0),
            ),
        ];
        for (change, expect) in cases {
            let mut got = base.clone();
            apply_change(&mut got, &change);
            let mut want = base.clone();
            expect(&mut want);
            assert_eq!(got, want, "{change:?}");
            assert_ne!(got, base, "{change:?} changed nothing");
        }
    }

    fn seg(road_id: u32, from: u32, to: u32) -> Segment {
        Segment {
            road_id,
            osm_id: road_id as i64,
            name: None,
            intersection_from: from,
            intersection_to: to,
            geom: geo::LineString::new(vec![]),
            geom_ll: geo::LineString::new(vec![]),
            tags: Default::default(),
            attrs: SegmentAttributes::unattributed(FunctionalClass::Residential),
            stress: SegmentStress::default(),
            stress_rules: Default::default(),
            path_id: None,
        }
    }

    #[test]
    fn each_control_sets_only_its_own_flag() {
        let base = IntersectionFlags {
            legs: 4,
            ..Default::default()
        };
        type Expect = fn(&mut IntersectionFlags);
        let cases: [(CrossingControl, Expect); 4] = [
            (CrossingControl::Signal, |f| f.signalized = true),
            (CrossingControl::AllWayStop, |f| f.stops = true),
            (CrossingControl::Rrfb, |f| f.rrfb = true),
            (CrossingControl::Island, |f| f.island = true),
        ];
        for (control, expect) in cases {
            let mut got = base;
            apply_control(&mut got, control);
            let mut want = base;
            expect(&mut want);
            assert_eq!(got, want, "{control:?}");
            assert_ne!(got, base, "{control:?}");
        }
    }

    #[test]
    fn segments_at_an_intersection_are_those_ending_there() {
        let segs = [seg(0, 0, 1), seg(1, 1, 2), seg(2, 2, 3), seg(3, 5, 5)];
        assert_eq!(segments_at(&segs, &[1]), [0, 1]);
        assert_eq!(segments_at(&segs, &[5, 3]), [2, 3]);
        assert_eq!(segments_at(&segs, &[9]), Vec::<u32>::new());
    }

    #[test]
    fn affected_are_the_edited_and_their_neighbours_at_either_end() {
        // 0: a–b, 1: b–c, 2: c–d, 3: d–e, 4: x–a (touches 0's start), 5: y–z (apart).
        let segs = [
            seg(0, 0, 1),
            seg(1, 1, 2),
            seg(2, 2, 3),
            seg(3, 3, 4),
            seg(4, 5, 0),
            seg(5, 6, 7),
        ];
        assert_eq!(affected_segments(&segs, &[0]), [0, 1, 4]);
        assert_eq!(affected_segments(&segs, &[2]), [1, 2, 3]);
        assert_eq!(affected_segments(&segs, &[5]), [5]);
        assert_eq!(affected_segments(&segs, &[]), Vec::<u32>::new());
    }
}
