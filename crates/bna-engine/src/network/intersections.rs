//! Intersection control flags (spec §3.4): legs, signals, all-way stops, RRFBs, islands.
//! Propagation to neighbours within 25 m is a single SQL UPDATE upstream, so it is one hop from
//! the state before that update; `spread_one_hop` reproduces that snapshot semantics.

use std::collections::HashMap;

use geo::Point;
use rstar::{primitives::GeomWithData, RTree};

use crate::model::{Intersection, Segment, Tags};
use crate::params::SIGNAL_SEARCH_DIST_M;
use crate::spatial::Projection;

fn tag<'a>(t: &'a Tags, k: &str) -> Option<&'a str> {
    t.get(k).map(String::as_str)
}

fn is_signal_crossing(t: &Tags) -> bool {
    tag(t, "highway") == Some("crossing")
        && matches!(
            tag(t, "crossing"),
            Some("traffic_signals" | "hawk" | "pelican" | "toucan")
        )
}

fn is_rrfb_crossing(t: &Tags) -> bool {
    tag(t, "highway") == Some("crossing")
        && matches!(
            tag(t, "flashing_lights"),
            Some("yes" | "button" | "always" | "sensor")
        )
}

fn is_island_crossing(t: &Tags) -> bool {
    tag(t, "highway") == Some("crossing")
        && (tag(t, "crossing") == Some("island") || tag(t, "crossing:island") == Some("yes"))
}

type Indexed = GeomWithData<[f64; 2], usize>;

/// Sets `flags` on every intersection. `control_nodes` are tagged OSM nodes (lon/lat
/// coordinates looked up in `node_coords`).
pub fn set_flags(
    segments: &[Segment],
    intersections: &mut [Intersection],
    control_nodes: &HashMap<i64, Tags>,
    node_coords: &HashMap<i64, geo::Coord<f64>>,
    proj: &Projection,
) {
    for i in intersections.iter_mut() {
        i.flags = Default::default();
    }
    for s in segments {
        intersections[s.intersection_from as usize].flags.legs += 1;
        if s.intersection_to != s.intersection_from {
            intersections[s.intersection_to as usize].flags.legs += 1;
        }
    }
    for i in intersections.iter_mut() {
        if let Some(t) = control_nodes.get(&i.osm_id) {
            i.flags.signalized |= tag(t, "highway") == Some("traffic_signals");
            i.flags.stops |= tag(t, "highway") == Some("stop") && tag(t, "stop") == Some("all");
        }
    }
    for s in segments {
        match tag(&s.tags, "traffic_signals:direction") {
            Some("forward") => intersections[s.intersection_to as usize].flags.signalized = true,
            Some("backward") => intersections[s.intersection_from as usize].flags.signalized = true,
            _ => {}
        }
    }

    let crossings: Vec<(Point<f64>, &Tags)> = control_nodes
        .iter()
        .filter(|(_, t)| tag(t, "highway") == Some("crossing"))
        .filter_map(|(id, t)| {
            node_coords
                .get(id)
                .map(|c| (Point::from(proj.forward(*c)), t))
        })
        .collect();
    let crossing_tree = RTree::bulk_load(
        crossings
            .iter()
            .enumerate()
            .map(|(k, (p, _))| Indexed::new([p.x(), p.y()], k))
            .collect(),
    );
    let r2 = SIGNAL_SEARCH_DIST_M * SIGNAL_SEARCH_DIST_M;
    for i in intersections.iter_mut() {
        if i.flags.legs <= 2 {
            continue;
        }
        for hit in crossing_tree.locate_within_distance([i.point.x(), i.point.y()], r2) {
            let t = crossings[hit.data].1;
            i.flags.signalized |= is_signal_crossing(t);
            i.flags.rrfb |= is_rrfb_crossing(t);
            i.flags.island |= is_island_crossing(t);
        }
    }

    spread_one_hop(intersections, |f| f.signalized, |f| f.signalized = true);
    spread_one_hop(intersections, |f| f.stops, |f| f.stops = true);
}

/// Marks intersections with more than two legs that lie within 25 m of one already marked,
/// reading the marks as they were before this call (one hop).
fn spread_one_hop(
    intersections: &mut [Intersection],
    get: impl Fn(&crate::model::IntersectionFlags) -> bool,
    set: impl Fn(&mut crate::model::IntersectionFlags),
) {
    let marked: Vec<Indexed> = intersections
        .iter()
        .filter(|i| get(&i.flags))
        .map(|i| Indexed::new([i.point.x(), i.point.y()], i.int_id as usize))
        .collect();
    if marked.is_empty() {
        return;
    }
    let tree = RTree::bulk_load(marked);
    let r2 = SIGNAL_SEARCH_DIST_M * SIGNAL_SEARCH_DIST_M;
    let to_mark: Vec<usize> = intersections
        .iter()
        .enumerate()
        .filter(|(_, i)| i.flags.legs > 2 && !get(&i.flags))
        .filter(|(_, i)| {
            tree.locate_within_distance([i.point.x(), i.point.y()], r2)
                .next()
                .is_some()
        })
        .map(|(k, _)| k)
        .collect();
    for k in to_mark {
        set(&mut intersections[k].flags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IntersectionFlags;

    fn int(id: u32, x: f64, legs: u32, signalized: bool) -> Intersection {
        Intersection {
            int_id: id,
            osm_id: id as i64,
            point: Point::new(x, 0.0),
            point_ll: Point::new(0.0, 0.0),
            flags: IntersectionFlags {
                legs,
                signalized,
                ..Default::default()
            },
        }
    }

    #[test]
    fn signal_spreads_one_hop_only_to_multi_leg_intersections() {
        // 0 is signalized; 1 is 20 m away (3 legs) → signalized; 2 is 20 m from 1 but 40 m from
        // 0 → not (one hop); 3 is 10 m from 0 but only 2 legs → not.
        let mut v = vec![
            int(0, 0.0, 4, true),
            int(1, 20.0, 3, false),
            int(2, 40.0, 3, false),
            int(3, -10.0, 2, false),
        ];
        spread_one_hop(&mut v, |f| f.signalized, |f| f.signalized = true);
        let got: Vec<bool> = v.iter().map(|i| i.flags.signalized).collect();
        assert_eq!(got, vec![true, true, false, false]);
    }

    #[test]
    fn crossing_tag_rules() {
        let t = |pairs: &[(&str, &str)]| -> Tags {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let rows: [(Tags, bool, bool, bool); 6] = [
            (
                t(&[("highway", "crossing"), ("crossing", "traffic_signals")]),
                true,
                false,
                false,
            ),
            (
                t(&[("highway", "crossing"), ("crossing", "toucan")]),
                true,
                false,
                false,
            ),
            (
                t(&[("highway", "crossing"), ("flashing_lights", "button")]),
                false,
                true,
                false,
            ),
            (
                t(&[("highway", "crossing"), ("crossing", "island")]),
                false,
                false,
                true,
            ),
            (
                t(&[("highway", "crossing"), ("crossing:island", "yes")]),
                false,
                false,
                true,
            ),
            (
                t(&[("highway", "traffic_signals"), ("crossing", "island")]),
                false,
                false,
                false,
            ),
        ];
        for (tags, sig, rrfb, island) in rows {
            assert_eq!(is_signal_crossing(&tags), sig, "{tags:?}");
            assert_eq!(is_rrfb_crossing(&tags), rrfb, "{tags:?}");
            assert_eq!(is_island_crossing(&tags), island, "{tags:?}");
        }
    }
}
