//! Level of traffic stress for segments and intersections (spec §4.1–4.3, §4.6).
//!
//! Pure functions of already-derived attributes. Each result carries a short rule id that the
//! inspector shows a planner, so every returned value names the table row that produced it.

use crate::model::{
    BikeInfra, Direction, FunctionalClass, IntersectionFlags, SegmentAttributes, Stress,
    StressDecision, HIGH_STRESS, LOW_STRESS,
};
use crate::params::{
    DEFAULT_FACILITY_WIDTH_FT, MIN_LOW_STRESS_LANE_WIDTH_FT, PRIMARY_DEFAULTS, SECONDARY_DEFAULTS,
    TERTIARY_DEFAULTS, UNCLASSIFIED_DEFAULT_SPEED,
};

/// Rule id of the one-way reset (§4.1).
pub const RULE_ONE_WAY: &str = "one-way: no travel this way";

fn decision(stress: Stress, rule: &'static str) -> StressDecision {
    StressDecision {
        stress: Some(stress),
        rule,
    }
}

fn low(rule: &'static str) -> StressDecision {
    decision(LOW_STRESS, rule)
}

fn high(rule: &'static str) -> StressDecision {
    decision(HIGH_STRESS, rule)
}

// ---------------------------------------------------------------------------------------------
// Segment stress (§4.1–4.3)
// ---------------------------------------------------------------------------------------------

/// Stress of travelling the segment in `dir` (`sql/stress/stress_*.sql`), then the one-way
/// reset (`stress_one_way_reset.sql`): `None` where the *bicycle* one-way runs the other way.
///
/// `residential_speed_default` is the city default, else the state default (resolved by the
/// caller); with neither, an untagged residential street is high stress.
pub fn segment_stress(
    a: &SegmentAttributes,
    dir: Direction,
    residential_speed_default: Option<u32>,
) -> StressDecision {
    if a.one_way.is_some_and(|way| way != dir) {
        return StressDecision {
            stress: None,
            rule: RULE_ONE_WAY,
        };
    }
    let (infra, lanes, width) = match dir {
        Direction::Ft => (a.ft_bike_infra, a.ft_lanes, a.ft_bike_infra_width),
        Direction::Tf => (a.tf_bike_infra, a.tf_lanes, a.tf_bike_infra_width),
    };
    use FunctionalClass as C;
    match a.functional_class {
        C::Motorway | C::MotorwayLink | C::Trunk | C::TrunkLink => {
            high("motorway/trunk: always high stress")
        }
        c @ (C::Primary
        | C::PrimaryLink
        | C::Secondary
        | C::SecondaryLink
        | C::Tertiary
        | C::TertiaryLink) => {
            let (default_speed, default_lanes) = higher_order_defaults(c);
            higher_order_stress(
                infra,
                a.speed_limit.unwrap_or(default_speed),
                lanes.unwrap_or(default_lanes),
                width.unwrap_or(DEFAULT_FACILITY_WIDTH_FT),
            )
        }
        C::Residential => residential_stress(a.speed_limit.or(residential_speed_default)),
        C::Unclassified => {
            if a.speed_limit.unwrap_or(UNCLASSIFIED_DEFAULT_SPEED) <= 25 {
                low("unclassified: speed <= 25 mph")
            } else {
                high("unclassified: speed > 25 mph")
            }
        }
        C::LivingStreet => {
            if a.bicycle_no {
                high("living_street: bicycle=no")
            } else {
                low("living_street: shared street")
            }
        }
        C::Track => low("track: grade1 track"),
        C::Path => low("path: off-street path"),
    }
}

/// (speed mph, lanes per direction) assumed for an untagged higher-order road (§4.3). A link
/// takes its parent's defaults, as the reference runs each class script on `class` and
/// `class_link` together.
fn higher_order_defaults(class: FunctionalClass) -> (u32, u32) {
    match class {
        FunctionalClass::Primary | FunctionalClass::PrimaryLink => PRIMARY_DEFAULTS,
        FunctionalClass::Secondary | FunctionalClass::SecondaryLink => SECONDARY_DEFAULTS,
        _ => TERTIARY_DEFAULTS,
    }
}

/// `stress_segments_higher_order.sql` (#1010, #1046) on resolved inputs: `speed` and `lanes`
/// after class defaults, `width_ft` after the 5 ft facility default.
pub fn higher_order_stress(
    infra: Option<BikeInfra>,
    speed: u32,
    lanes: u32,
    width_ft: f64,
) -> StressDecision {
    match infra {
        Some(BikeInfra::Track) => low("higher_order: protected track"),
        Some(BikeInfra::BufferedLane) => {
            if speed > 25 {
                high("higher_order: buffered lane, speed > 25 mph")
            } else if lanes > 1 {
                high("higher_order: buffered lane, > 1 lane")
            } else {
                low("higher_order: buffered lane, speed <= 25 mph, 1 lane")
            }
        }
        Some(BikeInfra::Lane) => {
            if speed > 20 {
                high("higher_order: painted lane, speed > 20 mph")
            } else if lanes > 1 {
                high("higher_order: painted lane, > 1 lane")
            } else if width_ft >= MIN_LOW_STRESS_LANE_WIDTH_FT {
                low("higher_order: painted lane, speed <= 20 mph, 1 lane, width >= 4 ft")
            } else {
                high("higher_order: painted lane narrower than 4 ft")
            }
        }
        Some(BikeInfra::Sharrow) | None => {
            if speed <= 15 && lanes == 1 {
                low("higher_order: mixed traffic, speed <= 15 mph, 1 lane")
            } else {
                high("higher_order: mixed traffic, speed > 15 mph or not 1 lane")
            }
        }
    }
}

/// `stress_segments_lower_order_res.sql` (#1011) on COALESCE(speed_limit, city, state). With
/// all three NULL the SQL comparison is NULL and the ELSE branch gives 3.
pub fn residential_stress(speed: Option<u32>) -> StressDecision {
    match speed {
        Some(s) if s <= 25 => low("residential: speed <= 25 mph"),
        Some(_) => high("residential: speed > 25 mph"),
        None => high("residential: no speed limit and no city/state default"),
    }
}

// ---------------------------------------------------------------------------------------------
// Intersection stress (§4.6)
// ---------------------------------------------------------------------------------------------

/// A segment touching the intersection, as seen by the crossing test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossingRoad<'a> {
    pub class: FunctionalClass,
    pub name: Option<&'a str>,
    /// The *bicycle* one-way (`neighborhood_ways.one_way`): two-way means `None`.
    pub one_way: Option<Direction>,
    pub ft_lanes: Option<u32>,
    pub tf_lanes: Option<u32>,
    pub speed_limit: Option<u32>,
}

impl<'a> CrossingRoad<'a> {
    pub fn new(attrs: &SegmentAttributes, name: Option<&'a str>) -> Self {
        Self {
            class: attrs.functional_class,
            name,
            one_way: attrs.one_way,
            ft_lanes: attrs.ft_lanes,
            tf_lanes: attrs.tf_lanes,
            speed_limit: attrs.speed_limit,
        }
    }
}

/// `COALESCE(this.name, 'a') != COALESCE(w.name, 'b')`: two unnamed roads count as different,
/// and (a quirk kept for parity) an unnamed road equals one literally named "a" or "b".
pub fn names_differ(this: Option<&str>, other: Option<&str>) -> bool {
    this.unwrap_or("a") != other.unwrap_or("b")
}

/// Stress at the intersection reached at the end of the segment in the direction of travel
/// (`stress_*_ints.sql`, unchanged since 2017).
///
/// `touching` lists every segment touching that intersection, including this one (as in the
/// reference's EXISTS). Never subject to the one-way reset.
pub fn intersection_stress(
    class: FunctionalClass,
    name: Option<&str>,
    flags: &IntersectionFlags,
    touching: &[CrossingRoad],
) -> StressDecision {
    use FunctionalClass as C;
    let crosses_tertiary = match class {
        C::Tertiary => false,
        C::Residential | C::Unclassified | C::LivingStreet | C::Track | C::Path => true,
        _ => return low("intersection: major road, crossings not rated"),
    };
    if flags.signalized {
        return low("intersection: signalized");
    }
    if flags.stops {
        return low("intersection: all-way stop");
    }
    touching
        .iter()
        .filter(|w| names_differ(name, w.name))
        .find_map(|w| hard_crossing(w, flags, crosses_tertiary))
        .map_or_else(|| low("intersection: no hard crossing"), high)
}

/// The crossing-road table of §4.6: `Some(rule id)` when crossing `w` here is hard.
/// `crosses_tertiary` is true for the lesser classes, for which a tertiary also counts.
pub fn hard_crossing(
    w: &CrossingRoad,
    flags: &IntersectionFlags,
    crosses_tertiary: bool,
) -> Option<&'static str> {
    let (default_speed, default_lanes) = match w.class {
        FunctionalClass::Motorway | FunctionalClass::Trunk => {
            return Some("intersection: crosses a motorway or trunk")
        }
        FunctionalClass::Primary => PRIMARY_DEFAULTS,
        FunctionalClass::Secondary => SECONDARY_DEFAULTS,
        FunctionalClass::Tertiary if crosses_tertiary => TERTIARY_DEFAULTS,
        _ => return None,
    };
    let speed = w.speed_limit.unwrap_or(default_speed);
    let island = flags.island;
    let unless_island = |rule| (!island).then_some(rule);

    if w.one_way.is_none() {
        let total = w
            .ft_lanes
            .unwrap_or(default_lanes)
            .saturating_add(w.tf_lanes.unwrap_or(default_lanes));
        if total > 4 {
            Some("intersection: crosses a two-way road with > 4 lanes")
        } else if flags.rrfb {
            if total == 4 {
                if speed > 40 {
                    Some("intersection: RRFB crossing of 4 lanes, speed > 40 mph")
                } else if speed > 30 {
                    unless_island("intersection: RRFB crossing of 4 lanes, > 30 mph, no island")
                } else {
                    None
                }
            } else if speed > 35 {
                unless_island("intersection: RRFB crossing of < 4 lanes, > 35 mph, no island")
            } else {
                None
            }
        } else if total == 4 {
            if speed > 30 {
                Some("intersection: crosses 4 lanes, speed > 30 mph")
            } else if speed == 30 {
                unless_island("intersection: crosses 4 lanes at 30 mph, no island")
            } else {
                None
            }
        } else if speed > 30 {
            unless_island("intersection: crosses < 4 lanes, > 30 mph, no island")
        } else {
            None
        }
    } else {
        // One-way: the lanes of whichever direction is tagged.
        let lanes = w.ft_lanes.or(w.tf_lanes).unwrap_or(default_lanes);
        if lanes > 2 {
            Some("intersection: crosses a one-way road with > 2 lanes")
        } else if flags.rrfb {
            if lanes == 2 {
                (speed > 40).then_some("intersection: RRFB crossing of one-way 2 lanes, > 40 mph")
            } else {
                (speed > 35).then_some("intersection: RRFB crossing of one-way 1 lane, > 35 mph")
            }
        } else {
            (speed > 30).then_some("intersection: crosses a one-way road, speed > 30 mph")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BikeInfra::{BufferedLane as Buf, Lane, Sharrow, Track};
    use crate::model::Direction::{Ft, Tf};
    use crate::model::FunctionalClass as C;

    fn attrs(class: FunctionalClass) -> SegmentAttributes {
        SegmentAttributes::unattributed(class)
    }

    // -- §4.2 segment stress ------------------------------------------------------------------

    #[test]
    fn motorway_and_trunk_always_high() {
        for c in [C::Motorway, C::MotorwayLink, C::Trunk, C::TrunkLink] {
            let mut a = attrs(c);
            a.ft_bike_infra = Some(Track);
            a.speed_limit = Some(10);
            assert_eq!(segment_stress(&a, Ft, Some(20)).stress, Some(3), "{c:?}");
        }
    }

    #[test]
    fn higher_order_table() {
        // (infra, S, L, W) → stress, with boundary values on every threshold.
        type Row = (Option<BikeInfra>, u32, u32, f64, Stress);
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            (Some(Track), 60, 4, 1.0, 1),
            (Some(Buf), 30, 1, 5.0, 3),
            (Some(Buf), 26, 1, 5.0, 3),
            (Some(Buf), 25, 2, 5.0, 3),
            (Some(Buf), 25, 1, 5.0, 1),
            (Some(Buf), 20, 1, 1.0, 1), // width does not matter for buffered lanes
            (Some(Lane), 25, 1, 5.0, 3),
            (Some(Lane), 21, 1, 5.0, 3),
            (Some(Lane), 20, 2, 5.0, 3),
            (Some(Lane), 20, 1, 5.0, 1),
            (Some(Lane), 20, 1, 4.0, 1),
            (Some(Lane), 20, 1, 3.9, 3),
            (Some(Lane), 15, 0, 4.0, 1), // L ≤ 1
            (None, 15, 1, 5.0, 1),
            (None, 15, 2, 5.0, 3),
            (None, 15, 0, 5.0, 3), // L must equal 1
            (None, 16, 1, 5.0, 3),
            (None, 20, 1, 5.0, 3),
            (Some(Sharrow), 15, 1, 5.0, 1),
            (Some(Sharrow), 25, 1, 5.0, 3),
        ];
        for (infra, s, l, w, want) in ROWS {
            let got = higher_order_stress(*infra, *s, *l, *w);
            assert_eq!(
                got.stress,
                Some(*want),
                "{infra:?} S={s} L={l} W={w}: {}",
                got.rule
            );
        }
    }

    #[test]
    fn higher_order_defaults_per_class() {
        // (class, infra, speed, lanes) → stress after §4.3 defaults.
        type Row = (C, Option<BikeInfra>, Option<u32>, Option<u32>, Stress);
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            (C::Primary, None, None, None, 3),
            (C::Secondary, None, None, None, 3),
            (C::Tertiary, None, None, None, 3),
            (C::Tertiary, Some(Track), None, None, 1),
            (C::Tertiary, Some(Buf), None, None, 3), // 30 mph default
            (C::Tertiary, Some(Buf), Some(25), None, 1), // 1 lane default
            (C::Primary, Some(Buf), Some(25), None, 3), // 2 lanes default
            (C::Secondary, Some(Lane), Some(20), None, 3),
            (C::Secondary, Some(Lane), Some(20), Some(1), 1), // 5 ft width default
            (C::PrimaryLink, None, Some(15), None, 3),
            (C::PrimaryLink, None, Some(15), Some(1), 1),
            (C::SecondaryLink, None, None, Some(1), 3),
            (C::TertiaryLink, None, Some(15), None, 1),
        ];
        for (class, infra, speed, lanes, want) in ROWS {
            let mut a = attrs(*class);
            a.speed_limit = *speed;
            for dir in [Ft, Tf] {
                match dir {
                    Ft => (a.ft_bike_infra, a.ft_lanes) = (*infra, *lanes),
                    Tf => (a.tf_bike_infra, a.tf_lanes) = (*infra, *lanes),
                }
            }
            for dir in [Ft, Tf] {
                let got = segment_stress(&a, dir, None);
                assert_eq!(
                    got.stress,
                    Some(*want),
                    "{class:?} {infra:?} {speed:?} {lanes:?} {dir:?}"
                );
            }
        }
    }

    #[test]
    fn direction_reads_its_own_infra_lanes_and_width() {
        let mut a = attrs(C::Secondary);
        a.speed_limit = Some(20);
        a.ft_bike_infra = Some(Lane);
        a.ft_lanes = Some(1);
        a.ft_bike_infra_width = Some(3.0);
        a.tf_bike_infra = Some(Lane);
        a.tf_lanes = Some(1);
        a.tf_bike_infra_width = Some(4.5);
        assert_eq!(segment_stress(&a, Ft, None).stress, Some(3));
        assert_eq!(segment_stress(&a, Tf, None).stress, Some(1));
        a.tf_lanes = Some(2);
        assert_eq!(segment_stress(&a, Tf, None).stress, Some(3));
    }

    #[test]
    fn residential_table() {
        // (speed_limit, city-or-state default) → stress
        #[rustfmt::skip]
        const ROWS: &[(Option<u32>, Option<u32>, Stress)] = &[
            (Some(25), None, 1),
            (Some(20), None, 1),
            (Some(30), None, 3),
            (Some(26), None, 3),
            (Some(20), Some(35), 1), // tagged speed wins
            (Some(30), Some(20), 3),
            (None, Some(20), 1),
            (None, Some(25), 1),
            (None, Some(30), 3),
            (None, None, 3), // NULL comparison → ELSE 3
        ];
        for (speed, default, want) in ROWS {
            let mut a = attrs(C::Residential);
            a.speed_limit = *speed;
            let got = segment_stress(&a, Ft, *default);
            assert_eq!(got.stress, Some(*want), "{speed:?} {default:?}");
        }
        let untagged = segment_stress(&attrs(C::Residential), Tf, None);
        assert_eq!(
            untagged.rule,
            "residential: no speed limit and no city/state default"
        );
    }

    #[test]
    fn lower_classes() {
        type Row = (C, Option<u32>, bool, Stress);
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            (C::Unclassified, None, false, 1),
            (C::Unclassified, Some(25), false, 1),
            (C::Unclassified, Some(30), false, 3),
            (C::LivingStreet, None, false, 1),
            (C::LivingStreet, None, true, 3),
            (C::Track, Some(50), true, 1),
            (C::Path, Some(50), true, 1),
        ];
        for (class, speed, bicycle_no, want) in ROWS {
            let mut a = attrs(*class);
            a.speed_limit = *speed;
            a.bicycle_no = *bicycle_no;
            // The residential default must not leak into other classes.
            let got = segment_stress(&a, Ft, Some(40));
            assert_eq!(got.stress, Some(*want), "{class:?} {speed:?} {bicycle_no}");
        }
    }

    #[test]
    fn one_way_reset() {
        // (bicycle one_way, dir) → travel allowed?
        let rows = [
            (None, Ft, true),
            (None, Tf, true),
            (Some(Ft), Ft, true),
            (Some(Ft), Tf, false),
            (Some(Tf), Ft, false),
            (Some(Tf), Tf, true),
        ];
        for class in [C::Path, C::Primary, C::Residential] {
            for (one_way, dir, allowed) in rows {
                let mut a = attrs(class);
                a.one_way = one_way;
                // The car one-way alone never blocks bikes.
                a.one_way_car = Some(Ft);
                let got = segment_stress(&a, dir, Some(25));
                assert_eq!(
                    got.stress.is_some(),
                    allowed,
                    "{class:?} {one_way:?} {dir:?}"
                );
                if !allowed {
                    assert_eq!(got.rule, RULE_ONE_WAY);
                }
            }
        }
    }

    // -- §4.6 intersection stress -------------------------------------------------------------

    fn road(class: C) -> CrossingRoad<'static> {
        CrossingRoad {
            class,
            name: Some("Crossing Rd"),
            one_way: None,
            ft_lanes: None,
            tf_lanes: None,
            speed_limit: None,
        }
    }

    fn flags(rrfb: bool, island: bool) -> IntersectionFlags {
        IntersectionFlags {
            legs: 4,
            rrfb,
            island,
            ..Default::default()
        }
    }

    #[test]
    fn crossing_table() {
        // (w one-way?, ft_lanes, tf_lanes, speed, rrfb, island) → hard?
        type Row = (
            &'static str,
            bool,
            Option<u32>,
            Option<u32>,
            Option<u32>,
            bool,
            bool,
            bool,
        );
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            ("defaults: primary 4 lanes 40 mph", false, None, None, None, false, false, true),
            ("two-way T > 4", false, Some(3), Some(2), Some(20), false, true, true),
            ("two-way T > 4 with RRFB", false, Some(3), None, Some(20), true, true, true),
            // T = 4 with RRFB
            ("T=4 rrfb S>40", false, Some(2), Some(2), Some(45), true, true, true),
            ("T=4 rrfb S=40", false, Some(2), Some(2), Some(40), true, false, true),
            ("T=4 rrfb S=40 island", false, Some(2), Some(2), Some(40), true, true, false),
            ("T=4 rrfb S=35 island", false, Some(2), Some(2), Some(35), true, true, false),
            ("T=4 rrfb S=31", false, Some(2), Some(2), Some(31), true, false, true),
            ("T=4 rrfb S=30", false, Some(2), Some(2), Some(30), true, false, false),
            // T < 4 with RRFB
            ("T<4 rrfb S=40", false, Some(1), Some(2), Some(40), true, false, true),
            ("T<4 rrfb S=36", false, Some(1), Some(1), Some(36), true, false, true),
            ("T<4 rrfb S=40 island", false, Some(1), Some(2), Some(40), true, true, false),
            ("T<4 rrfb S=35", false, Some(1), Some(2), Some(35), true, false, false),
            // T = 4 without RRFB
            ("T=4 S=35", false, None, None, Some(35), false, false, true),
            ("T=4 S=35 island", false, None, None, Some(35), false, true, true),
            ("T=4 S=30", false, None, None, Some(30), false, false, true),
            ("T=4 S=30 island", false, None, None, Some(30), false, true, false),
            ("T=4 S=25", false, None, None, Some(25), false, false, false),
            // T < 4 without RRFB
            ("T<4 S=35", false, Some(1), Some(1), Some(35), false, false, true),
            ("T<4 S=31", false, Some(1), Some(1), Some(31), false, false, true),
            ("T<4 S=35 island", false, Some(1), Some(1), Some(35), false, true, false),
            ("T<4 S=30", false, Some(1), Some(1), Some(30), false, false, false),
            // one-way
            ("one-way T1 > 2", true, Some(3), None, Some(20), false, true, true),
            ("one-way T1 from tf lanes", true, None, Some(3), Some(20), true, true, true),
            ("one-way ft lanes first", true, Some(1), Some(3), Some(35), true, false, false),
            ("one-way T1=2 rrfb S=45", true, Some(2), None, Some(45), true, false, true),
            ("one-way T1=2 rrfb S=40", true, Some(2), None, Some(40), true, false, false),
            ("one-way defaults rrfb (2 lanes, 40)", true, None, None, None, true, false, false),
            ("one-way T1<2 rrfb S=40", true, Some(1), None, Some(40), true, false, true),
            ("one-way T1<2 rrfb S=35", true, Some(1), None, Some(35), true, false, false),
            ("one-way T1=2 S=35", true, Some(2), None, Some(35), false, false, true),
            ("one-way T1=2 S=35 island ignored", true, Some(2), None, Some(35), false, true, true),
            ("one-way T1=2 S=30", true, Some(2), None, Some(30), false, false, false),
            ("one-way T1=1 S=35", true, Some(1), None, Some(35), false, false, true),
            ("one-way defaults (2 lanes, 40)", true, None, None, None, false, false, true),
        ];
        for (id, one_way, ft, tf, speed, rrfb, island, want) in ROWS {
            let w = CrossingRoad {
                one_way: one_way.then_some(Ft),
                ft_lanes: *ft,
                tf_lanes: *tf,
                speed_limit: *speed,
                ..road(C::Primary)
            };
            let f = flags(*rrfb, *island);
            assert_eq!(hard_crossing(&w, &f, false).is_some(), *want, "{id}");
            // Secondary shares the primary defaults and table.
            let w2 = CrossingRoad {
                class: C::Secondary,
                ..w
            };
            assert_eq!(
                hard_crossing(&w2, &f, false).is_some(),
                *want,
                "secondary {id}"
            );
        }
    }

    #[test]
    fn crossing_classes_and_defaults() {
        let f = flags(false, false);
        // (w class, crosses_tertiary) → hard with untagged w?
        let rows = [
            (C::Motorway, false, true),
            (C::Trunk, false, true),
            (C::Primary, false, true),
            (C::Secondary, false, true),
            (C::Tertiary, false, false), // not a hard road for tertiary
            (C::Tertiary, true, false),  // untagged: 2 lanes, 30 mph
            (C::MotorwayLink, true, false),
            (C::TrunkLink, true, false),
            (C::PrimaryLink, true, false),
            (C::SecondaryLink, true, false),
            (C::Residential, true, false),
            (C::Path, true, false),
        ];
        for (class, crosses_tertiary, want) in rows {
            let got = hard_crossing(&road(class), &f, crosses_tertiary);
            assert_eq!(got.is_some(), want, "{class:?} {crosses_tertiary}");
        }
        // Motorway/trunk even with an island and 1 lane at 10 mph.
        let slow = CrossingRoad {
            speed_limit: Some(10),
            ft_lanes: Some(1),
            tf_lanes: Some(1),
            ..road(C::Trunk)
        };
        assert!(hard_crossing(&slow, &flags(true, true), false).is_some());
        // A fast tertiary is hard for lesser classes only.
        let fast = CrossingRoad {
            speed_limit: Some(35),
            ..road(C::Tertiary)
        };
        assert!(hard_crossing(&fast, &f, true).is_some());
        assert!(hard_crossing(&fast, &f, false).is_none());
    }

    #[test]
    fn intersection_by_class() {
        let f = flags(false, false);
        let touching = [road(C::Motorway)];
        // (segment class) → stress when a motorway with another name touches the end
        let rows = [
            (C::Motorway, 1),
            (C::MotorwayLink, 1),
            (C::Trunk, 1),
            (C::TrunkLink, 1),
            (C::Primary, 1),
            (C::PrimaryLink, 1),
            (C::Secondary, 1),
            (C::SecondaryLink, 1),
            (C::TertiaryLink, 1),
            (C::Tertiary, 3),
            (C::Residential, 3),
            (C::Unclassified, 3),
            (C::LivingStreet, 3),
            (C::Track, 3),
            (C::Path, 3),
        ];
        for (class, want) in rows {
            let got = intersection_stress(class, Some("Side St"), &f, &touching);
            assert_eq!(got.stress, Some(want), "{class:?}: {}", got.rule);
        }
    }

    #[test]
    fn signals_and_all_way_stops_override() {
        let touching = [road(C::Motorway), road(C::Primary)];
        for (signalized, stops, want) in [
            (false, false, 3),
            (true, false, 1),
            (false, true, 1),
            (true, true, 1),
        ] {
            let f = IntersectionFlags {
                legs: 4,
                signalized,
                stops,
                rrfb: false,
                island: false,
            };
            for class in [C::Tertiary, C::Residential] {
                let got = intersection_stress(class, None, &f, &touching);
                assert_eq!(
                    got.stress,
                    Some(want),
                    "{class:?} sig={signalized} stop={stops}"
                );
            }
        }
    }

    #[test]
    fn tertiary_crossings_only_matter_for_lesser_classes() {
        let fast_tertiary = CrossingRoad {
            speed_limit: Some(35),
            ..road(C::Tertiary)
        };
        let f = flags(false, false);
        let got = intersection_stress(C::Tertiary, Some("A"), &f, &[fast_tertiary]);
        assert_eq!(got.stress, Some(1));
        let got = intersection_stress(C::Residential, Some("A"), &f, &[fast_tertiary]);
        assert_eq!(got.stress, Some(3));
        let got = intersection_stress(
            C::Residential,
            Some("A"),
            &flags(false, true),
            &[fast_tertiary],
        );
        assert_eq!(got.stress, Some(1), "island");
        let got = intersection_stress(C::Residential, Some("A"), &f, &[road(C::Tertiary)]);
        assert_eq!(got.stress, Some(1), "untagged tertiary is not hard");
    }

    #[test]
    fn name_comparison_with_nulls() {
        // COALESCE(this,'a') != COALESCE(w,'b')
        #[rustfmt::skip]
        const ROWS: &[(Option<&str>, Option<&str>, bool)] = &[
            (None, None, true),
            (Some("Main St"), Some("Main St"), false),
            (Some("Main St"), Some("Side St"), true),
            (Some("Main St"), None, true),
            (None, Some("Main St"), true),
            (Some("b"), None, false), // quirk: NULL reads as 'b' on the other side
            (None, Some("a"), false), // quirk: NULL reads as 'a' on this side
            (Some("a"), None, true),
        ];
        for (this, other, want) in ROWS {
            assert_eq!(names_differ(*this, *other), *want, "{this:?} vs {other:?}");
        }
        let f = flags(false, false);
        for (this, other, want) in ROWS {
            let w = CrossingRoad {
                name: *other,
                ..road(C::Primary)
            };
            let got = intersection_stress(C::Residential, *this, &f, &[w]);
            let want = if *want { 3 } else { 1 };
            assert_eq!(got.stress, Some(want), "{this:?} vs {other:?}");
        }
    }

    #[test]
    fn touching_includes_self_and_any_hard_road_counts() {
        let f = flags(false, false);
        let this = CrossingRoad {
            name: None,
            ..road(C::Residential)
        };
        // Only the segment itself: never hard, whatever its name.
        assert_eq!(
            intersection_stress(C::Residential, None, &f, &[this]).stress,
            Some(1)
        );
        assert_eq!(
            intersection_stress(C::Residential, None, &f, &[]).stress,
            Some(1)
        );
        // The main road continuing under the same name is not a crossing, but another
        // primary with a different name is.
        let same = CrossingRoad {
            name: Some("Main St"),
            ..road(C::Primary)
        };
        let other = CrossingRoad {
            name: Some("Cross St"),
            ..road(C::Primary)
        };
        let got = intersection_stress(C::Residential, Some("Main St"), &f, &[this, same]);
        assert_eq!(got.stress, Some(1));
        let got = intersection_stress(C::Residential, Some("Main St"), &f, &[this, same, other]);
        assert_eq!(got.stress, Some(3));
        assert_eq!(got.rule, "intersection: crosses 4 lanes, speed > 30 mph");
    }

    #[test]
    fn crossing_road_from_attributes() {
        let mut a = attrs(C::Secondary);
        a.one_way = Some(Tf);
        a.one_way_car = Some(Tf);
        a.ft_lanes = Some(1);
        a.speed_limit = Some(35);
        let w = CrossingRoad::new(&a, Some("X"));
        assert_eq!(w.class, C::Secondary);
        assert_eq!(
            (w.one_way, w.ft_lanes, w.tf_lanes, w.speed_limit),
            (Some(Tf), Some(1), None, Some(35))
        );
        assert!(hard_crossing(&w, &flags(false, false), false).is_some());
    }
}
