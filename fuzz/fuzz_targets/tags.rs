//! Any OSM tags through attribute derivation and segment / intersection stress: every rule
//! must return a decision, never panic. Input: two ways' tags, `key=value` per line, the ways
//! separated by an empty line; the first byte also picks the defaults and intersection flags.
#![no_main]

use bna_fuzz::model::{Direction, IntersectionFlags, Tags};
use bna_fuzz::network::attributes::{derive_attributes, parse_speed_mph, parse_width_ft};
use bna_fuzz::network::stress::{intersection_stress, segment_stress, CrossingRoad};
use libfuzzer_sys::fuzz_target;

fn tags(text: &str) -> Tags {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (a, b) = text.split_once("\n\n").unwrap_or((&text, ""));
    let (ta, tb) = (tags(a), tags(b));
    for v in ta.values() {
        let _ = parse_speed_mph(v);
        if let Some(w) = parse_width_ft(v) {
            assert!(!w.is_nan());
        }
    }
    let residential = (knobs & 1 == 1).then_some(u32::from(knobs >> 3) * 5);
    let flags = IntersectionFlags {
        legs: u32::from(knobs >> 5),
        signalized: knobs & 2 != 0,
        stops: knobs & 4 != 0,
        rrfb: knobs & 8 != 0,
        island: knobs & 16 != 0,
    };
    let (Some(sa), sb) = (derive_attributes(&ta), derive_attributes(&tb)) else {
        return;
    };
    for dir in [Direction::Ft, Direction::Tf] {
        let d = segment_stress(&sa, dir, residential);
        assert!(matches!(d.stress, None | Some(1) | Some(3)), "{d:?}");
    }
    let crossing: Vec<CrossingRoad> = sb
        .iter()
        .map(|w| CrossingRoad {
            class: w.functional_class,
            name: tb.get("name").map(String::as_str),
            one_way: w.one_way,
            ft_lanes: w.ft_lanes,
            tf_lanes: w.tf_lanes,
            speed_limit: w.speed_limit,
        })
        .collect();
    let d = intersection_stress(
        sa.functional_class,
        ta.get("name").map(String::as_str),
        &flags,
        &crossing,
    );
    assert!(matches!(d.stress, Some(1) | Some(3)), "{d:?}");
});
