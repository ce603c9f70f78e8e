//! Road attributes derived from a way's OSM tags (spec §3.3, §3.4, §4.5).
//!
//! Each public function reproduces one reference SQL script (`sql/features/*.sql`) as a pure
//! function of the tags, so it can be tested on its own; [`derive_attributes`] composes them in
//! the reference order and applies the class adjustment last.
//!
//! NULL semantics follow PostgreSQL: a missing tag never equals anything, and a `CASE` stops at
//! the first matching `WHEN` even when that branch yields NULL.

use crate::model::{BikeInfra, Direction, FunctionalClass, SegmentAttributes, Tags};
use crate::params::{FEET_PER_METRE, FOOTWAY_MIN_WIDTH_FT, UNITLESS_WIDTH_MAX_M};

/// `bicycle` values that grant access (`functional_class.sql`).
const BIKE_ALLOWED: [&str; 3] = ["yes", "permissive", "designated"];
/// `cycleway:*:buffer` values that make a lane a buffered lane (`bike_infra.sql`).
const BUFFER_YES: [&str; 4] = ["yes", "both", "right", "left"];

fn tag<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.get(key).map(String::as_str)
}

fn is(tags: &Tags, key: &str, value: &str) -> bool {
    tag(tags, key) == Some(value)
}

fn is_in(tags: &Tags, key: &str, values: &[&str]) -> bool {
    tag(tags, key).is_some_and(|v| values.contains(&v))
}

// ---------------------------------------------------------------------------------------------
// Text parsing with the reference's regular expressions
// ---------------------------------------------------------------------------------------------

/// The first ASCII digit run of `s` as (start, end) byte offsets.
fn first_digit_run(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(u8::is_ascii_digit)?;
    let len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    Some((start, start + len))
}

/// `substring(s FROM '\d+')::INT`. Values beyond PostgreSQL's INT range would abort the
/// reference run; here they are treated as missing.
fn first_int(s: &str) -> Option<u32> {
    let (a, b) = first_digit_run(s)?;
    s[a..b]
        .parse::<u32>()
        .ok()
        .filter(|&n| n <= i32::MAX as u32)
}

/// `substring(s FROM '\d+\.?\d?\d?')::FLOAT`: the first number, with at most two decimals
/// (so `1.234` reads as 1.23).
fn first_decimal(s: &str) -> Option<f64> {
    let (a, mut b) = first_digit_run(s)?;
    let bytes = s.as_bytes();
    if bytes.get(b) == Some(&b'.') {
        b += 1;
        for _ in 0..2 {
            if bytes.get(b).is_some_and(u8::is_ascii_digit) {
                b += 1;
            }
        }
    }
    // "12." is a valid float in PostgreSQL; strip the dot so the parse never depends on it.
    s[a..b].trim_end_matches('.').parse::<f64>().ok()
}

/// `substring(s FROM '(\d+)<mark>')::FLOAT`: the first digit run immediately followed by
/// `mark`. A leftmost regex match can only start at the beginning of such a run.
fn digits_before(s: &str, mark: u8) -> Option<f64> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if bytes.get(i) == Some(&mark) {
                return s[start..i].parse::<f64>().ok();
            }
        } else {
            i += 1;
        }
    }
    None
}

/// PostgreSQL's float → INT assignment cast (`rint`, ties to even).
fn pg_int(x: f64) -> f64 {
    x.round_ties_even()
}

// ---------------------------------------------------------------------------------------------
// Functional class (§3.3, §1 step 12)
// ---------------------------------------------------------------------------------------------

/// The class a way gets, and whether it is a crosswalk footway (`xwalk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassAssignment {
    pub class: FunctionalClass,
    pub xwalk: bool,
}

/// The access filter shared by every class rule (#847): `access IS NULL OR access NOT IN
/// ('no','private') OR (access='no' AND bicycle IN ('yes','permissive','designated'))`.
pub fn access_allows_bikes(tags: &Tags) -> bool {
    match tag(tags, "access") {
        None => true,
        Some("no") => is_in(tags, "bicycle", &BIKE_ALLOWED),
        Some("private") => false,
        Some(_) => true,
    }
}

/// `highway=path AND bicycle=no` rows are deleted from the line tag table before the
/// features run (§1 step 12), so such ways never get a class.
pub fn is_removed_path(tags: &Tags) -> bool {
    is(tags, "highway", "path") && is(tags, "bicycle", "no")
}

/// Functional class of a way (`functional_class.sql`), or `None` if the way is dropped.
///
/// The rules run as successive UPDATEs, so a later matching rule overwrites an earlier one
/// (e.g. a golf-cart path is first `path`, then `unclassified`).
pub fn functional_class(tags: &Tags) -> Option<ClassAssignment> {
    if is_removed_path(tags) || !access_allows_bikes(tags) {
        return None;
    }
    let highway = tag(tags, "highway")?;
    let bike_allowed = is_in(tags, "bicycle", &BIKE_ALLOWED);
    let mut class = None;
    let mut xwalk = false;

    // 1: the road classes keep their own name (track and path have their own rules).
    if let Some(c) = FunctionalClass::parse(highway) {
        if !matches!(c, FunctionalClass::Track | FunctionalClass::Path) {
            class = Some(c);
        }
    }
    // 2
    if highway == "track" && is(tags, "tracktype", "grade1") {
        class = Some(FunctionalClass::Track);
    }
    // 3
    if matches!(highway, "cycleway" | "path") {
        class = Some(FunctionalClass::Path);
    }
    // 4
    if highway == "footway" && is_in(tags, "footway", &["crossing", "traffic_island"]) {
        class = Some(FunctionalClass::Path);
        xwalk = true;
    }
    // 5: designated footways ignore width (#1007); `width_ft` is the INT column, so it is
    // compared after rounding.
    if highway == "footway" && bike_allowed {
        let wide = tag(tags, "width")
            .and_then(parse_width_ft)
            .is_some_and(|w| w >= FOOTWAY_MIN_WIDTH_FT);
        if is(tags, "bicycle", "designated") || wide {
            class = Some(FunctionalClass::Path);
        }
    }
    // 6 (#874)
    if highway == "service" && bike_allowed {
        class = Some(FunctionalClass::Unclassified);
    }
    // 7 (#889)
    if highway == "path"
        && (is_in(tags, "golf", &["path", "cartpath"])
            || is_in(tags, "golf_cart", &["yes", "designated"]))
    {
        class = Some(FunctionalClass::Unclassified);
    }
    // 8
    if highway == "pedestrian" && bike_allowed {
        class = Some(FunctionalClass::LivingStreet);
    }
    class.map(|class| ClassAssignment { class, xwalk })
}

// ---------------------------------------------------------------------------------------------
// Simple attributes (§3.4)
// ---------------------------------------------------------------------------------------------

/// `one_way.sql`: `trim(oneway)` in {1, yes} → ft, -1 → tf, else two-way. Implied one-ways
/// (roundabouts, motorways) are deliberately not handled, as in the reference.
pub fn one_way_car(tags: &Tags) -> Option<Direction> {
    match tag(tags, "oneway").map(|v| v.trim_matches(' ')) {
        Some("1" | "yes") => Some(Direction::Ft),
        Some("-1") => Some(Direction::Tf),
        _ => None,
    }
}

/// `width_ft.sql`: road width in feet from an OSM `width` value.
///
/// The passes run in order and later ones overwrite earlier ones: `'% ft'`, then `X'Y"` /
/// `X'`, then `'% m'`, then a unitless number read as metres only if still NULL and < 20.
/// The result is rounded like the reference's INT column (ties to even).
pub fn parse_width_ft(raw: &str) -> Option<f64> {
    let mut width = None;
    if raw.ends_with(" ft") {
        width = first_decimal(raw);
    }
    let feet_inches = raw
        .strip_suffix('"')
        .is_some_and(|head| head.contains('\''))
        || raw.ends_with('\'');
    if feet_inches {
        let inches = digits_before(raw, b'"').map_or(0.0, |i| i / 12.0);
        width = digits_before(raw, b'\'').map(|feet| feet + inches);
    }
    if raw.ends_with(" m") {
        width = first_decimal(raw).map(|m| FEET_PER_METRE * m);
    }
    if width.is_none() {
        width = first_decimal(raw)
            .filter(|&m| m < UNITLESS_WIDTH_MAX_M)
            .map(|m| FEET_PER_METRE * m);
    }
    width.map(pg_int)
}

/// `speed_limit.sql`: `maxspeed` in mph.
///
/// `'% kmph'` or a bare number is km/h, converted and rounded to the nearest 5 mph; `'% mph'`
/// is read as is. Anything else (`50 km/h`, `RU:urban`, `walk`) is NULL.
pub fn parse_speed_mph(raw: &str) -> Option<u32> {
    if raw.ends_with(" mph") {
        return first_int(raw);
    }
    if raw.ends_with(" kmph") || is_bare_number(raw) {
        // ROUND(n / 1.609 / 5) * 5 in exact integer arithmetic: n / 8.045 is never exactly a
        // half, and NUMERIC rounds halves away from zero anyway.
        let n = u64::from(first_int(raw)?);
        let fives = (2 * n * 1000 + 8045) / (2 * 8045);
        return u32::try_from(fives * 5).ok();
    }
    None
}

/// `^\d+(\.\d+)?$`
fn is_bare_number(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// Lane counts per direction (`lanes.sql`). Only `ft_lanes`/`tf_lanes` feed stress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lanes {
    pub ft: Option<u32>,
    pub tf: Option<u32>,
    /// As `ft`/`tf` but without turn lanes that are exactly `right`.
    pub ft_cross: Option<u32>,
    pub tf_cross: Option<u32>,
    /// 1 when a two-way left-turn lane is tagged.
    pub twltl: Option<u32>,
}

/// `lanes.sql`. Note that it compares the raw `oneway` tag, not the trimmed `one_way_car`.
pub fn lanes(tags: &Tags) -> Lanes {
    Lanes {
        ft: lanes_dir(tags, Direction::Ft, false),
        tf: lanes_dir(tags, Direction::Tf, false),
        ft_cross: lanes_dir(tags, Direction::Ft, true),
        tf_cross: lanes_dir(tags, Direction::Tf, true),
        twltl: (tags.contains_key("lanes:both_ways") || tags.contains_key("turn:lanes:both_ways"))
            .then_some(1),
    }
}

fn lanes_dir(tags: &Tags, dir: Direction, cross: bool) -> Option<u32> {
    let (turn_key, lanes_key) = match dir {
        Direction::Ft => ("turn:lanes:forward", "lanes:forward"),
        Direction::Tf => ("turn:lanes:backward", "lanes:backward"),
    };
    let oneway = tag(tags, "oneway");
    let with_flow = match dir {
        Direction::Ft => matches!(oneway, Some("1" | "yes")),
        Direction::Tf => oneway == Some("-1"),
    };
    let two_way = matches!(oneway, None | Some("no"));
    let count = |v: &str| -> Option<u32> {
        // array_length of an empty array is NULL, which happens when every lane is `right`.
        let n = v.split('|').filter(|e| !(cross && *e == "right")).count();
        u32::try_from(n).ok().filter(|&n| n > 0)
    };

    if let Some(v) = tag(tags, turn_key) {
        count(v)
    } else if let Some(v) = tag(tags, "turn:lanes").filter(|_| with_flow) {
        count(v)
    } else if let Some(v) = tag(tags, lanes_key) {
        first_int(v)
    } else if let Some(v) = tag(tags, "lanes").filter(|_| with_flow) {
        first_int(v)
    } else if let Some(v) = tag(tags, "lanes").filter(|_| two_way) {
        first_int(v).map(|n| n.div_ceil(2))
    } else {
        None
    }
}

/// On-street parking per direction (`park.sql`): 1 = parking, 0 = none, `None` = unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parking {
    pub ft: Option<u8>,
    pub tf: Option<u8>,
}

/// `park.sql`, including its overwrite bug (spec §3.4, §13; [BK] §1a): the `both` pass sets
/// both directions, then the `right` and `left` passes unconditionally overwrite them, with
/// NULL when that side is untagged. So `parking:*:both` never survives. Parking is not used by
/// current stress; reproduced for output parity.
pub fn parking(tags: &Tags) -> Parking {
    Parking {
        ft: parking_side(tags, "right"),
        tf: parking_side(tags, "left"),
    }
}

/// One side's CASE from `park.sql` (`side` is `both`, `right` or `left`).
pub fn parking_side(tags: &Tags, side: &str) -> Option<u8> {
    let lane = tag(tags, &format!("parking:lane:{side}"));
    let plain = tag(tags, &format!("parking:{side}"));
    let restriction = tag(tags, &format!("parking:{side}:restriction"));
    match (lane, plain, restriction) {
        (Some("parallel" | "paralell" | "diagonal" | "perpendicular"), _, _) => Some(1),
        (Some("no_parking" | "no_stopping"), _, _) => Some(0),
        (_, Some("lane"), _) => Some(1),
        (_, Some("no"), _) => Some(0),
        (_, _, Some("no_stopping" | "no_parking")) => Some(0),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Bike infrastructure (§4.5)
// ---------------------------------------------------------------------------------------------

/// The tag keys of one side of the way.
struct Side {
    kind: &'static str,
    oneway: &'static str,
    buffer: &'static str,
    width: &'static str,
}

const RIGHT: Side = Side {
    kind: "cycleway:right",
    oneway: "cycleway:right:oneway",
    buffer: "cycleway:right:buffer",
    width: "cycleway:right:width",
};
const LEFT: Side = Side {
    kind: "cycleway:left",
    oneway: "cycleway:left:oneway",
    buffer: "cycleway:left:buffer",
    width: "cycleway:left:width",
};

/// Right-hand traffic: travel `ft` uses the right side of the way, `tf` the left.
/// Returns (near side, far side).
fn sides(dir: Direction) -> (&'static Side, &'static Side) {
    match dir {
        Direction::Ft => (&RIGHT, &LEFT),
        Direction::Tf => (&LEFT, &RIGHT),
    }
}

/// "side ok": the side's facility does not run against the direction (`:oneway` ≠ -1).
/// An untagged `:oneway` counts as ok, as spec §4.5 states.
fn side_ok(tags: &Tags, side: &Side) -> bool {
    tag(tags, side.oneway) != Some("-1")
}

fn buffered(tags: &Tags, key: &str) -> bool {
    is_in(tags, key, &BUFFER_YES)
}

/// Bike facility for travel in `dir` (`bike_infra.sql`, spec §4.5): a first-match decision
/// list, first the rules that ignore one-way, then the branch for `one_way_car`.
pub fn bike_infra(
    tags: &Tags,
    one_way_car: Option<Direction>,
    dir: Direction,
) -> Option<BikeInfra> {
    both_directions(tags).or_else(|| match one_way_car {
        Some(flow) if flow == dir => with_flow(tags, dir),
        Some(_) => contraflow(tags, dir),
        None => two_way(tags, dir),
    })
}

/// First match of an ordered rule list, like the reference's `CASE WHEN … THEN …`.
fn first_match(rules: &[(bool, BikeInfra)]) -> Option<BikeInfra> {
    rules.iter().find(|(hit, _)| *hit).map(|&(_, infra)| infra)
}

/// Part A: checked first for both directions.
fn both_directions(tags: &Tags) -> Option<BikeInfra> {
    use BikeInfra::*;
    let both = tag(tags, "cycleway:both");
    let bike_two_way = is(tags, "oneway:bicycle", "no");
    // A two-way track on one side serves both directions (#1057).
    let two_way_track =
        |s: &Side| is(tags, s.kind, "track") && (bike_two_way || is(tags, s.oneway, "no"));
    first_match(&[
        (both == Some("shared_lane"), Sharrow),
        (both == Some("buffered_lane"), BufferedLane),
        (
            both == Some("lane")
                && (buffered(tags, "cycleway:buffer") || buffered(tags, "cycleway:both:buffer")),
            BufferedLane,
        ),
        (both == Some("lane"), Lane),
        (both == Some("track"), Track),
        (two_way_track(&RIGHT), Track),
        (two_way_track(&LEFT), Track),
        (is(tags, "cycleway", "track") && bike_two_way, Track),
    ])
}

/// Branch where cars travel in `dir`. The far side is checked first (a left-side lane on an
/// ft one-way still serves ft), then generic `cycleway` and the near side.
///
/// The tf copy of this branch in the reference differs from a pure mirror in two places
/// (spec §4.5, first asymmetry), reproduced here.
fn with_flow(tags: &Tags, dir: Direction) -> Option<BikeInfra> {
    use BikeInfra::*;
    let (near, far) = sides(dir);
    let cw = tag(tags, "cycleway");
    let far_kind = tag(tags, far.kind);
    let near_kind = tag(tags, near.kind);
    let far_ok = side_ok(tags, far);
    let near_ok = side_ok(tags, near);
    let cw_buffer = buffered(tags, "cycleway:buffer");
    let tf_copy = dir == Direction::Tf;
    first_match(&[
        (far_kind == Some("shared_lane"), Sharrow),
        (
            far_kind == Some("lane") && far_ok && (cw_buffer || buffered(tags, far.buffer)),
            BufferedLane,
        ),
        (far_kind == Some("lane") && far_ok, Lane),
        (far_kind == Some("track") && far_ok, Track),
        (
            cw == Some("shared_lane") || near_kind == Some("shared_lane"),
            Sharrow,
        ),
        // Asymmetry: the tf copy has no oneway check on `left=buffered_lane`.
        (
            cw == Some("buffered_lane")
                || (near_kind == Some("buffered_lane") && (tf_copy || near_ok)),
            BufferedLane,
        ),
        // Asymmetry: the tf copy also requires "left ok" here.
        (
            cw == Some("lane") && cw_buffer && (!tf_copy || near_ok),
            BufferedLane,
        ),
        (
            near_kind == Some("lane") && near_ok && (cw_buffer || buffered(tags, near.buffer)),
            BufferedLane,
        ),
        (cw == Some("lane"), Lane),
        (near_kind == Some("lane") && near_ok, Lane),
        (
            cw == Some("track") || (near_kind == Some("track") && near_ok),
            Track,
        ),
    ])
}

/// Branch where cars travel against `dir` (contraflow facilities). The reference's tf copy is
/// the ft text verbatim, so it still tests `cycleway:right=opposite_lane` (not left), and its
/// `cycleway:left|right=opposite_track` rules test `one_way_car='tf'` inside the 'ft' branch
/// and never fire (spec §4.5 asymmetries 2 and 3; [BK] §1b). Both are reproduced.
fn contraflow(tags: &Tags, dir: Direction) -> Option<BikeInfra> {
    use BikeInfra::*;
    let cw = tag(tags, "cycleway");
    let right = tag(tags, RIGHT.kind);
    let cw_buffer = buffered(tags, "cycleway:buffer");
    let against = |s: &Side, kind: &str| is(tags, s.oneway, "-1") && is(tags, s.kind, kind);
    let against_buffered = |s: &Side| against(s, "lane") && is(tags, s.buffer, "yes");
    let side_opposite_track_live = dir == Direction::Ft;
    first_match(&[
        (
            ((cw == Some("opposite_lane") || right == Some("opposite_lane")) && cw_buffer)
                || (right == Some("opposite_lane") && buffered(tags, RIGHT.buffer)),
            BufferedLane,
        ),
        (against(&LEFT, "track") || against(&RIGHT, "track"), Track),
        (
            against_buffered(&LEFT) || against_buffered(&RIGHT),
            BufferedLane,
        ),
        (against(&LEFT, "lane") || against(&RIGHT, "lane"), Lane),
        (
            cw == Some("opposite_lane") || right == Some("opposite_lane"),
            Lane,
        ),
        (cw == Some("opposite_track"), Track),
        (
            side_opposite_track_live
                && (is(tags, LEFT.kind, "opposite_track") || right == Some("opposite_track")),
            Track,
        ),
    ])
}

/// Branch for two-way roads: generic `cycleway` or the near side; no oneway checks.
fn two_way(tags: &Tags, dir: Direction) -> Option<BikeInfra> {
    use BikeInfra::*;
    let (near, _) = sides(dir);
    let cw = tag(tags, "cycleway");
    let near_kind = tag(tags, near.kind);
    let either = |kind: &str| cw == Some(kind) || near_kind == Some(kind);
    first_match(&[
        (either("shared_lane"), Sharrow),
        (either("buffered_lane"), BufferedLane),
        (
            either("lane") && buffered(tags, "cycleway:buffer"),
            BufferedLane,
        ),
        (
            near_kind == Some("lane") && buffered(tags, near.buffer),
            BufferedLane,
        ),
        (either("lane"), Lane),
        (either("track"), Track),
    ])
}

/// Bicycle one-way (`bike_infra.sql`): the car one-way, unless bikes have a facility in the
/// opposite direction or `oneway:bicycle=no`, in which case bikes may ride both ways.
pub fn bicycle_one_way(
    tags: &Tags,
    one_way_car: Option<Direction>,
    ft_infra: Option<BikeInfra>,
    tf_infra: Option<BikeInfra>,
) -> Option<Direction> {
    let flow = one_way_car?;
    let contra_infra = match flow {
        Direction::Ft => tf_infra,
        Direction::Tf => ft_infra,
    };
    (contra_infra.is_none() && !is(tags, "oneway:bicycle", "no")).then_some(flow)
}

/// Facility width in feet for travel in `dir` (`bike_infra.sql`), only where that direction
/// has a facility.
///
/// The reference CASE tries every candidate tag with `'% ft'` first, then every one with
/// `'% m'`, then the first non-NULL one as unitless metres; so a unit wins over tag order.
/// Candidates for ft: `cycleway:right:width`, `cycleway:left:width` (only on an ft one-way),
/// `cycleway:both:width`, `cycleway:width`; tf mirrors this. No rounding: the column is FLOAT.
pub fn facility_width(
    tags: &Tags,
    one_way_car: Option<Direction>,
    dir: Direction,
    infra: Option<BikeInfra>,
) -> Option<f64> {
    infra?;
    let (near, far) = sides(dir);
    let far_counts = one_way_car == Some(dir);
    let candidates: Vec<&str> = [
        tag(tags, near.width),
        tag(tags, far.width).filter(|_| far_counts),
        tag(tags, "cycleway:both:width"),
        tag(tags, "cycleway:width"),
    ]
    .into_iter()
    .flatten()
    .collect();

    if let Some(v) = candidates.iter().find(|v| v.ends_with(" ft")) {
        return first_decimal(v);
    }
    if let Some(v) = candidates.iter().find(|v| v.ends_with(" m")) {
        return first_decimal(v).map(|m| FEET_PER_METRE * m);
    }
    candidates
        .first()
        .and_then(|v| first_decimal(v))
        .map(|m| FEET_PER_METRE * m)
}

/// `class_adjustments.sql`, run after bike infra, lanes and speed: residential or
/// unclassified becomes tertiary with a facility in *both* directions (AND since #890), more
/// than one lane in a direction, or a speed limit of 30 mph or more.
pub fn class_adjustment(a: &SegmentAttributes) -> FunctionalClass {
    let real_facility = |i: Option<BikeInfra>| {
        matches!(
            i,
            Some(BikeInfra::Track | BikeInfra::BufferedLane | BikeInfra::Lane)
        )
    };
    let promote = (real_facility(a.ft_bike_infra) && real_facility(a.tf_bike_infra))
        || a.ft_lanes.is_some_and(|l| l > 1)
        || a.tf_lanes.is_some_and(|l| l > 1)
        || a.speed_limit.is_some_and(|s| s >= 30);
    match a.functional_class {
        FunctionalClass::Residential | FunctionalClass::Unclassified if promote => {
            FunctionalClass::Tertiary
        }
        c => c,
    }
}

/// Every attribute of a way, in the reference order, with the class adjustment applied last.
/// `None` when the way gets no functional class and is dropped.
pub fn derive_attributes(tags: &Tags) -> Option<SegmentAttributes> {
    let ClassAssignment { class, xwalk } = functional_class(tags)?;
    let one_way_car = one_way_car(tags);
    let lanes = lanes(tags);
    let park = parking(tags);
    let ft_bike_infra = bike_infra(tags, one_way_car, Direction::Ft);
    let tf_bike_infra = bike_infra(tags, one_way_car, Direction::Tf);
    let mut attrs = SegmentAttributes {
        functional_class: class,
        xwalk,
        one_way_car,
        one_way: bicycle_one_way(tags, one_way_car, ft_bike_infra, tf_bike_infra),
        width_ft: tag(tags, "width").and_then(parse_width_ft),
        speed_limit: tag(tags, "maxspeed").and_then(parse_speed_mph),
        ft_lanes: lanes.ft,
        tf_lanes: lanes.tf,
        ft_cross_lanes: lanes.ft_cross,
        tf_cross_lanes: lanes.tf_cross,
        twltl_cross_lanes: lanes.twltl,
        ft_park: park.ft,
        tf_park: park.tf,
        ft_bike_infra,
        tf_bike_infra,
        ft_bike_infra_width: facility_width(tags, one_way_car, Direction::Ft, ft_bike_infra),
        tf_bike_infra_width: facility_width(tags, one_way_car, Direction::Tf, tf_bike_infra),
        bicycle_no: is(tags, "bicycle", "no"),
    };
    attrs.functional_class = class_adjustment(&attrs);
    Some(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BikeInfra::{BufferedLane as Buf, Lane, Sharrow, Track};
    use crate::model::Direction::{Ft, Tf};
    use crate::model::FunctionalClass as C;

    fn t(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // -- §3.3 functional class -----------------------------------------------------------------

    #[test]
    fn functional_class_rules() {
        type Row = (
            &'static str,
            &'static [(&'static str, &'static str)],
            Option<(C, bool)>,
        );
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            // rule 1
            ("1 primary", &[("highway", "primary")], Some((C::Primary, false))),
            ("1 residential", &[("highway", "residential")], Some((C::Residential, false))),
            ("1 living_street", &[("highway", "living_street")], Some((C::LivingStreet, false))),
            ("1 tertiary_link", &[("highway", "tertiary_link")], Some((C::TertiaryLink, false))),
            ("1 service alone", &[("highway", "service")], None),
            ("1 road is not a class", &[("highway", "road")], None),
            ("1 steps", &[("highway", "steps")], None),
            // rule 2
            ("2 track grade1", &[("highway", "track"), ("tracktype", "grade1")], Some((C::Track, false))),
            ("2 track grade2", &[("highway", "track"), ("tracktype", "grade2")], None),
            ("2 track untyped", &[("highway", "track")], None),
            // rule 3
            ("3 cycleway", &[("highway", "cycleway")], Some((C::Path, false))),
            ("3 path", &[("highway", "path")], Some((C::Path, false))),
            // rule 4
            ("4 crossing", &[("highway", "footway"), ("footway", "crossing")], Some((C::Path, true))),
            ("4 island", &[("highway", "footway"), ("footway", "traffic_island")], Some((C::Path, true))),
            ("4 sidewalk", &[("highway", "footway"), ("footway", "sidewalk")], None),
            ("4+5 crossing designated", &[("highway", "footway"), ("footway", "crossing"), ("bicycle", "designated")], Some((C::Path, true))),
            // rule 5
            ("5 designated ignores width", &[("highway", "footway"), ("bicycle", "designated")], Some((C::Path, false))),
            ("5 yes, 8 ft", &[("highway", "footway"), ("bicycle", "yes"), ("width", "8 ft")], Some((C::Path, false))),
            ("5 permissive, 2.4 m rounds to 8 ft", &[("highway", "footway"), ("bicycle", "permissive"), ("width", "2.4 m")], Some((C::Path, false))),
            ("5 yes, 2 m = 7 ft", &[("highway", "footway"), ("bicycle", "yes"), ("width", "2 m")], None),
            ("5 yes, no width", &[("highway", "footway"), ("bicycle", "yes")], None),
            ("5 bicycle=no", &[("highway", "footway"), ("bicycle", "no"), ("width", "5")], None),
            // rule 6
            ("6 service + bike", &[("highway", "service"), ("bicycle", "yes")], Some((C::Unclassified, false))),
            ("6 service + designated", &[("highway", "service"), ("bicycle", "designated")], Some((C::Unclassified, false))),
            ("6 service + dismount", &[("highway", "service"), ("bicycle", "dismount")], None),
            // rule 7 overwrites rule 3
            ("7 golf path", &[("highway", "path"), ("golf", "path")], Some((C::Unclassified, false))),
            ("7 golf cartpath", &[("highway", "path"), ("golf", "cartpath")], Some((C::Unclassified, false))),
            ("7 golf_cart yes", &[("highway", "path"), ("golf_cart", "yes")], Some((C::Unclassified, false))),
            ("7 golf_cart designated", &[("highway", "path"), ("golf_cart", "designated")], Some((C::Unclassified, false))),
            ("7 only for path", &[("highway", "cycleway"), ("golf", "path")], Some((C::Path, false))),
            // rule 8
            ("8 pedestrian + bike", &[("highway", "pedestrian"), ("bicycle", "permissive")], Some((C::LivingStreet, false))),
            ("8 pedestrian alone", &[("highway", "pedestrian")], None),
            // access filter
            ("access private", &[("highway", "residential"), ("access", "private")], None),
            ("access no", &[("highway", "residential"), ("access", "no")], None),
            ("access no, bicycle yes", &[("highway", "residential"), ("access", "no"), ("bicycle", "yes")], Some((C::Residential, false))),
            ("access no, bicycle designated", &[("highway", "cycleway"), ("access", "no"), ("bicycle", "designated")], Some((C::Path, false))),
            ("access private, bicycle yes", &[("highway", "residential"), ("access", "private"), ("bicycle", "yes")], None),
            ("access destination", &[("highway", "residential"), ("access", "destination")], Some((C::Residential, false))),
            ("access filters crossings too", &[("highway", "footway"), ("footway", "crossing"), ("access", "no")], None),
            // §1 step 12
            ("path bicycle=no removed", &[("highway", "path"), ("bicycle", "no")], None),
            ("removed before golf rule", &[("highway", "path"), ("bicycle", "no"), ("golf", "path")], None),
            ("cycleway bicycle=no kept", &[("highway", "cycleway"), ("bicycle", "no")], Some((C::Path, false))),
            ("no highway", &[("name", "x")], None),
        ];
        for (id, tags, want) in ROWS {
            let got = functional_class(&t(tags)).map(|c| (c.class, c.xwalk));
            assert_eq!(got, *want, "{id}");
        }
    }

    #[test]
    fn every_road_class_maps_to_itself() {
        for c in FunctionalClass::ALL {
            if matches!(c, C::Track | C::Path) {
                continue;
            }
            let got = functional_class(&t(&[("highway", c.as_str())])).map(|a| a.class);
            assert_eq!(got, Some(c));
        }
    }

    // -- §3.4 simple attributes ---------------------------------------------------------------

    #[test]
    fn one_way_car_values() {
        #[rustfmt::skip]
        const ROWS: &[(Option<&str>, Option<Direction>)] = &[
            (Some("yes"), Some(Ft)),
            (Some("1"), Some(Ft)),
            (Some(" yes "), Some(Ft)),
            (Some("-1"), Some(Tf)),
            (Some("no"), None),
            (Some("reversible"), None),
            (Some("true"), None),
            (None, None),
        ];
        for (v, want) in ROWS {
            let tags = v.map_or_else(Tags::new, |v| t(&[("oneway", v)]));
            assert_eq!(one_way_car(&tags), *want, "{v:?}");
        }
        // Implied one-ways are not handled.
        assert_eq!(one_way_car(&t(&[("junction", "roundabout")])), None);
        assert_eq!(one_way_car(&t(&[("highway", "motorway")])), None);
    }

    #[test]
    fn width_parsing() {
        #[rustfmt::skip]
        const ROWS: &[(&str, Option<f64>)] = &[
            ("12 ft", Some(12.0)),
            ("12.5 ft", Some(12.0)), // INT column: 12.5 rounds to even
            ("7.5 ft", Some(8.0)),
            ("10'6\"", Some(10.0)), // 10.5 → 10 (ties to even)
            ("10'9\"", Some(11.0)), // 10.75
            ("6'", Some(6.0)),
            ("3 m", Some(10.0)), // 9.84
            ("2.4 m", Some(8.0)), // 7.87
            ("30 m", Some(98.0)), // the < 20 limit is for unitless values only
            ("1.234 m", Some(4.0)), // read as 1.23 m = 4.04 ft
            ("3.5", Some(11.0)), // unitless = metres: 11.48
            ("3m", Some(10.0)), // no space: unitless pass
            ("19.9", Some(65.0)),
            ("20", None),
            ("25", None),
            ("narrow", None),
            ("", None),
        ];
        for (raw, want) in ROWS {
            assert_eq!(parse_width_ft(raw), *want, "{raw:?}");
        }
    }

    #[test]
    fn speed_parsing() {
        #[rustfmt::skip]
        const ROWS: &[(&str, Option<u32>)] = &[
            ("50", Some(30)),
            ("30", Some(20)),
            ("40", Some(25)),
            ("60", Some(35)),
            ("100", Some(60)),
            ("50.5", Some(30)),
            ("50 kmph", Some(30)),
            ("0", Some(0)),
            ("30 mph", Some(30)),
            ("25 mph", Some(25)),
            ("50 km/h", None),
            ("50km/h", None),
            ("25mph", None),
            ("RU:urban", None),
            ("walk", None),
            ("signals", None),
            ("50;30", None),
            ("", None),
        ];
        for (raw, want) in ROWS {
            assert_eq!(parse_speed_mph(raw), *want, "{raw:?}");
        }
    }

    #[test]
    fn lane_counts() {
        type Row = (&'static [(&'static str, &'static str)], [Option<u32>; 5]);
        const N: Option<u32> = None;
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            // [ft, tf, ft_cross, tf_cross, twltl]
            (&[("lanes", "4")], [Some(2), Some(2), Some(2), Some(2), N]),
            (&[("lanes", "3")], [Some(2), Some(2), Some(2), Some(2), N]),
            (&[("lanes", "1")], [Some(1), Some(1), Some(1), Some(1), N]),
            (&[("lanes", "3"), ("oneway", "no")], [Some(2), Some(2), Some(2), Some(2), N]),
            (&[("lanes", "2"), ("oneway", "yes")], [Some(2), N, Some(2), N, N]),
            (&[("lanes", "2"), ("oneway", "1")], [Some(2), N, Some(2), N, N]),
            (&[("lanes", "2"), ("oneway", "-1")], [N, Some(2), N, Some(2), N]),
            (&[("lanes", "2"), ("oneway", "reversible")], [N, N, N, N, N]),
            (&[("lanes", "2;3")], [Some(1), Some(1), Some(1), Some(1), N]),
            (&[("lanes", "3"), ("lanes:forward", "2"), ("lanes:backward", "1")], [Some(2), Some(1), Some(2), Some(1), N]),
            (&[("lanes", "4"), ("lanes:forward", "3")], [Some(3), Some(2), Some(3), Some(2), N]),
            (&[("turn:lanes:forward", "left|through|right")], [Some(3), N, Some(2), N, N]),
            (&[("turn:lanes:forward", "right")], [Some(1), N, N, N, N]),
            (&[("turn:lanes:backward", "left|")], [N, Some(2), N, Some(2), N]),
            (&[("turn:lanes", "left|through;right"), ("oneway", "yes")], [Some(2), N, Some(2), N, N]),
            (&[("turn:lanes", "left|right"), ("oneway", "yes")], [Some(2), N, Some(1), N, N]),
            (&[("turn:lanes", "through|through"), ("lanes", "4")], [Some(2), Some(2), Some(2), Some(2), N]),
            (&[("lanes:both_ways", "1"), ("lanes", "3")], [Some(2), Some(2), Some(2), Some(2), Some(1)]),
            (&[("turn:lanes:both_ways", "left")], [N, N, N, N, Some(1)]),
            (&[("lanes", "many")], [N, N, N, N, N]),
            (&[], [N, N, N, N, N]),
        ];
        for (tags, want) in ROWS {
            let l = lanes(&t(tags));
            assert_eq!(
                [l.ft, l.tf, l.ft_cross, l.tf_cross, l.twltl],
                *want,
                "{tags:?}"
            );
        }
    }

    #[test]
    fn parking_with_overwrite_bug() {
        type Row = (
            &'static [(&'static str, &'static str)],
            (Option<u8>, Option<u8>),
        );
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            // The `both` pass is always overwritten by the right/left passes (bug reproduced).
            (&[("parking:lane:both", "parallel")], (None, None)),
            (&[("parking:both", "lane")], (None, None)),
            (&[("parking:lane:both", "parallel"), ("parking:lane:right", "no_parking")], (Some(0), None)),
            (&[("parking:lane:right", "parallel")], (Some(1), None)),
            (&[("parking:lane:right", "paralell")], (Some(1), None)),
            (&[("parking:lane:right", "diagonal")], (Some(1), None)),
            (&[("parking:lane:left", "perpendicular")], (None, Some(1))),
            (&[("parking:lane:left", "no_stopping")], (None, Some(0))),
            (&[("parking:right", "lane")], (Some(1), None)),
            (&[("parking:left", "no")], (None, Some(0))),
            (&[("parking:right:restriction", "no_stopping")], (Some(0), None)),
            (&[("parking:left:restriction", "no_parking")], (None, Some(0))),
            // `parking:lane:*` is tested before `parking:*`.
            (&[("parking:lane:right", "no_stopping"), ("parking:right", "lane")], (Some(0), None)),
            (&[("parking:lane:right", "marked"), ("parking:right", "lane")], (Some(1), None)),
            (&[("parking:right", "street_side")], (None, None)),
        ];
        for (tags, (ft, tf)) in ROWS {
            assert_eq!(parking(&t(tags)), Parking { ft: *ft, tf: *tf }, "{tags:?}");
        }
        assert_eq!(
            parking_side(&t(&[("parking:lane:both", "parallel")]), "both"),
            Some(1)
        );
    }

    // -- §4.5 bike infrastructure -------------------------------------------------------------

    /// Swap left and right in every `cycleway:*` key, i.e. the tags of the same street drawn in
    /// the other direction.
    fn mirror(tags: &Tags) -> Tags {
        tags.iter()
            .map(|(k, v)| {
                let k = if let Some(rest) = k.strip_prefix("cycleway:left") {
                    format!("cycleway:right{rest}")
                } else if let Some(rest) = k.strip_prefix("cycleway:right") {
                    format!("cycleway:left{rest}")
                } else {
                    k.clone()
                };
                (k, v.clone())
            })
            .collect()
    }

    fn flip(d: Option<Direction>) -> Option<Direction> {
        d.map(|d| if d == Ft { Tf } else { Ft })
    }

    type InfraRow = (
        &'static str,
        &'static [(&'static str, &'static str)],
        Option<Direction>,
        Option<BikeInfra>,
        Option<BikeInfra>,
    );

    /// Each row is an ft case (tags, one_way_car, expected ft) plus the expected tf result for
    /// the mirrored street (left↔right, ft↔tf). The two differ only at the three asymmetries.
    #[rustfmt::skip]
    const INFRA_ROWS: &[InfraRow] = &[
        // Part A (ignores one_way_car)
        ("A1", &[("cycleway:both", "shared_lane")], Some(Ft), Some(Sharrow), Some(Sharrow)),
        ("A2", &[("cycleway:both", "buffered_lane")], None, Some(Buf), Some(Buf)),
        ("A3 cycleway:buffer", &[("cycleway:both", "lane"), ("cycleway:buffer", "yes")], None, Some(Buf), Some(Buf)),
        ("A3 both:buffer", &[("cycleway:both", "lane"), ("cycleway:both:buffer", "left")], Some(Tf), Some(Buf), Some(Buf)),
        ("A3 buffer=no", &[("cycleway:both", "lane"), ("cycleway:buffer", "no")], None, Some(Lane), Some(Lane)),
        ("A4", &[("cycleway:both", "lane")], Some(Tf), Some(Lane), Some(Lane)),
        ("A4 beats cycleway", &[("cycleway:both", "lane"), ("cycleway", "track")], None, Some(Lane), Some(Lane)),
        ("A5", &[("cycleway:both", "track")], Some(Tf), Some(Track), Some(Track)),
        ("A6 oneway:bicycle=no", &[("cycleway:right", "track"), ("oneway:bicycle", "no")], Some(Tf), Some(Track), Some(Track)),
        ("A6 right:oneway=no", &[("cycleway:right", "track"), ("cycleway:right:oneway", "no")], Some(Tf), Some(Track), Some(Track)),
        ("A7 oneway:bicycle=no", &[("cycleway:left", "track"), ("oneway:bicycle", "no")], Some(Tf), Some(Track), Some(Track)),
        ("A7 left:oneway=no", &[("cycleway:left", "track"), ("cycleway:left:oneway", "no")], Some(Tf), Some(Track), Some(Track)),
        ("A8", &[("cycleway", "track"), ("oneway:bicycle", "no")], Some(Tf), Some(Track), Some(Track)),
        // with-flow (ft branch of an ft one-way)
        ("W1", &[("cycleway:left", "shared_lane")], Some(Ft), Some(Sharrow), Some(Sharrow)),
        ("W1 beats near track", &[("cycleway:left", "shared_lane"), ("cycleway:right", "track")], Some(Ft), Some(Sharrow), Some(Sharrow)),
        ("W2 cycleway:buffer", &[("cycleway:left", "lane"), ("cycleway:buffer", "yes")], Some(Ft), Some(Buf), Some(Buf)),
        ("W2 side buffer", &[("cycleway:left", "lane"), ("cycleway:left:buffer", "both")], Some(Ft), Some(Buf), Some(Buf)),
        ("W3", &[("cycleway:left", "lane")], Some(Ft), Some(Lane), Some(Lane)),
        ("W3 side oneway=yes is ok", &[("cycleway:left", "lane"), ("cycleway:left:oneway", "yes")], Some(Ft), Some(Lane), Some(Lane)),
        ("W2/3 side runs against", &[("cycleway:left", "lane"), ("cycleway:left:oneway", "-1"), ("cycleway:left:buffer", "yes")], Some(Ft), None, None),
        ("W4", &[("cycleway:left", "track")], Some(Ft), Some(Track), Some(Track)),
        ("W4 side runs against", &[("cycleway:left", "track"), ("cycleway:left:oneway", "-1")], Some(Ft), None, None),
        ("W5 cycleway", &[("cycleway", "shared_lane")], Some(Ft), Some(Sharrow), Some(Sharrow)),
        ("W5 near", &[("cycleway:right", "shared_lane")], Some(Ft), Some(Sharrow), Some(Sharrow)),
        ("W6 cycleway", &[("cycleway", "buffered_lane")], Some(Ft), Some(Buf), Some(Buf)),
        ("W6 near", &[("cycleway:right", "buffered_lane")], Some(Ft), Some(Buf), Some(Buf)),
        // asymmetry 1a: the tf copy does not check left:oneway on buffered_lane
        ("W6 near runs against", &[("cycleway:right", "buffered_lane"), ("cycleway:right:oneway", "-1")], Some(Ft), None, Some(Buf)),
        ("W7", &[("cycleway", "lane"), ("cycleway:buffer", "yes")], Some(Ft), Some(Buf), Some(Buf)),
        // asymmetry 1b: the tf copy requires "left ok" for cycleway=lane + cycleway:buffer
        ("W7 near runs against", &[("cycleway", "lane"), ("cycleway:buffer", "yes"), ("cycleway:right:oneway", "-1")], Some(Ft), Some(Buf), Some(Lane)),
        ("W8 cycleway:buffer", &[("cycleway:right", "lane"), ("cycleway:buffer", "right")], Some(Ft), Some(Buf), Some(Buf)),
        ("W8 side buffer", &[("cycleway:right", "lane"), ("cycleway:right:buffer", "yes")], Some(Ft), Some(Buf), Some(Buf)),
        ("W8/10 near runs against", &[("cycleway:right", "lane"), ("cycleway:right:buffer", "yes"), ("cycleway:right:oneway", "-1")], Some(Ft), None, None),
        ("W9", &[("cycleway", "lane")], Some(Ft), Some(Lane), Some(Lane)),
        ("W10", &[("cycleway:right", "lane")], Some(Ft), Some(Lane), Some(Lane)),
        ("W11 cycleway", &[("cycleway", "track")], Some(Ft), Some(Track), Some(Track)),
        ("W11 near", &[("cycleway:right", "track")], Some(Ft), Some(Track), Some(Track)),
        ("W11 near runs against", &[("cycleway:right", "track"), ("cycleway:right:oneway", "-1")], Some(Ft), None, None),
        ("W ignores opposite_lane", &[("cycleway", "opposite_lane")], Some(Ft), None, None),
        // contraflow (ft branch of a tf one-way)
        ("C1 cycleway", &[("cycleway", "opposite_lane"), ("cycleway:buffer", "yes")], Some(Tf), Some(Buf), Some(Buf)),
        // asymmetry 3: the tf copy tests right=opposite_lane, so the mirrored left one is lost
        ("C1 right + cycleway:buffer", &[("cycleway:right", "opposite_lane"), ("cycleway:buffer", "both")], Some(Tf), Some(Buf), None),
        ("C1 right + right:buffer", &[("cycleway:right", "opposite_lane"), ("cycleway:right:buffer", "yes")], Some(Tf), Some(Buf), None),
        ("C2 left", &[("cycleway:left", "track"), ("cycleway:left:oneway", "-1")], Some(Tf), Some(Track), Some(Track)),
        ("C2 right", &[("cycleway:right", "track"), ("cycleway:right:oneway", "-1")], Some(Tf), Some(Track), Some(Track)),
        ("C3 left", &[("cycleway:left", "lane"), ("cycleway:left:oneway", "-1"), ("cycleway:left:buffer", "yes")], Some(Tf), Some(Buf), Some(Buf)),
        ("C3 right", &[("cycleway:right", "lane"), ("cycleway:right:oneway", "-1"), ("cycleway:right:buffer", "yes")], Some(Tf), Some(Buf), Some(Buf)),
        ("C3 needs buffer=yes", &[("cycleway:left", "lane"), ("cycleway:left:oneway", "-1"), ("cycleway:left:buffer", "both")], Some(Tf), Some(Lane), Some(Lane)),
        ("C3 before C4", &[("cycleway:left", "lane"), ("cycleway:left:oneway", "-1"), ("cycleway:right", "lane"), ("cycleway:right:oneway", "-1"), ("cycleway:right:buffer", "yes")], Some(Tf), Some(Buf), Some(Buf)),
        ("C4 left", &[("cycleway:left", "lane"), ("cycleway:left:oneway", "-1")], Some(Tf), Some(Lane), Some(Lane)),
        ("C4 right", &[("cycleway:right", "lane"), ("cycleway:right:oneway", "-1")], Some(Tf), Some(Lane), Some(Lane)),
        ("C5 cycleway", &[("cycleway", "opposite_lane")], Some(Tf), Some(Lane), Some(Lane)),
        ("C5 right", &[("cycleway:right", "opposite_lane")], Some(Tf), Some(Lane), None),
        ("C5 left is not tested", &[("cycleway:left", "opposite_lane")], Some(Tf), None, Some(Lane)),
        ("C6 cycleway", &[("cycleway", "opposite_track")], Some(Tf), Some(Track), Some(Track)),
        // asymmetry 2: side opposite_track is dead code in the tf copy
        ("C6 left", &[("cycleway:left", "opposite_track")], Some(Tf), Some(Track), None),
        ("C6 right", &[("cycleway:right", "opposite_track")], Some(Tf), Some(Track), None),
        ("C ignores with-flow lane", &[("cycleway:right", "lane")], Some(Tf), None, None),
        ("C ignores cycleway=lane", &[("cycleway", "lane")], Some(Tf), None, None),
        // two-way
        ("T1 cycleway", &[("cycleway", "shared_lane")], None, Some(Sharrow), Some(Sharrow)),
        ("T1 near", &[("cycleway:right", "shared_lane")], None, Some(Sharrow), Some(Sharrow)),
        ("T2 cycleway", &[("cycleway", "buffered_lane")], None, Some(Buf), Some(Buf)),
        ("T2 near", &[("cycleway:right", "buffered_lane")], None, Some(Buf), Some(Buf)),
        ("T3 cycleway", &[("cycleway", "lane"), ("cycleway:buffer", "yes")], None, Some(Buf), Some(Buf)),
        ("T3 near", &[("cycleway:right", "lane"), ("cycleway:buffer", "left")], None, Some(Buf), Some(Buf)),
        ("T4", &[("cycleway:right", "lane"), ("cycleway:right:buffer", "yes")], None, Some(Buf), Some(Buf)),
        ("T4 buffer=no", &[("cycleway:right", "lane"), ("cycleway:right:buffer", "no")], None, Some(Lane), Some(Lane)),
        ("T5 cycleway", &[("cycleway", "lane")], None, Some(Lane), Some(Lane)),
        ("T5 near", &[("cycleway:right", "lane")], None, Some(Lane), Some(Lane)),
        ("T5 no side check", &[("cycleway:right", "lane"), ("cycleway:right:oneway", "-1")], None, Some(Lane), Some(Lane)),
        ("T6 cycleway", &[("cycleway", "track")], None, Some(Track), Some(Track)),
        ("T6 near", &[("cycleway:right", "track")], None, Some(Track), Some(Track)),
        ("T far side ignored", &[("cycleway:left", "lane")], None, None, None),
        ("T opposite_lane ignored", &[("cycleway", "opposite_lane")], None, None, None),
        ("nothing", &[("highway", "residential")], None, None, None),
    ];

    #[test]
    fn bike_infra_ft_and_mirrored_tf() {
        for (id, tags, owc, want_ft, want_tf_mirror) in INFRA_ROWS {
            let tags = t(tags);
            assert_eq!(bike_infra(&tags, *owc, Ft), *want_ft, "ft {id}");
            assert_eq!(
                bike_infra(&mirror(&tags), flip(*owc), Tf),
                *want_tf_mirror,
                "tf mirror {id}"
            );
        }
    }

    #[test]
    fn bike_infra_tf_contraflow_tests_the_right_side() {
        // On an ft one-way, the tf contraflow copy reads the right side (unmirrored).
        type Row = (&'static [(&'static str, &'static str)], Option<BikeInfra>);
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            (&[("cycleway:right", "opposite_lane")], Some(Lane)),
            (&[("cycleway:right", "opposite_lane"), ("cycleway:right:buffer", "yes")], Some(Buf)),
            (&[("cycleway:right", "opposite_lane"), ("cycleway:buffer", "yes")], Some(Buf)),
            (&[("cycleway:left", "opposite_lane")], None),
            (&[("cycleway:left", "opposite_track")], None),
            (&[("cycleway:right", "opposite_track")], None),
            (&[("cycleway", "opposite_track")], Some(Track)),
        ];
        for (tags, want) in ROWS {
            assert_eq!(bike_infra(&t(tags), Some(Ft), Tf), *want, "{tags:?}");
        }
    }

    #[test]
    fn bicycle_one_way_rules() {
        type Row = (
            &'static [(&'static str, &'static str)],
            Option<Direction>,
            Option<BikeInfra>,
            Option<BikeInfra>,
            Option<Direction>,
        );
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            (&[], Some(Ft), None, None, Some(Ft)),
            (&[], Some(Tf), None, None, Some(Tf)),
            (&[], None, Some(Lane), None, None),
            (&[], Some(Ft), Some(Lane), None, Some(Ft)), // with-flow infra keeps one-way
            (&[], Some(Ft), None, Some(Lane), None), // contraflow infra opens it
            (&[], Some(Tf), Some(Track), None, None),
            (&[("oneway:bicycle", "no")], Some(Ft), None, None, None),
            (&[("oneway:bicycle", "yes")], Some(Tf), None, None, Some(Tf)),
        ];
        for (tags, owc, ft, tf, want) in ROWS {
            assert_eq!(
                bicycle_one_way(&t(tags), *owc, *ft, *tf),
                *want,
                "{tags:?} {owc:?}"
            );
        }
    }

    #[test]
    fn facility_widths() {
        type Row = (
            &'static [(&'static str, &'static str)],
            Option<Direction>,
            Direction,
            Option<BikeInfra>,
            Option<f64>,
        );
        const M: f64 = FEET_PER_METRE;
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            (&[("cycleway:right:width", "1.5")], None, Ft, Some(Lane), Some(1.5 * M)),
            (&[("cycleway:right:width", "1.5")], None, Ft, None, None), // no facility
            (&[("cycleway:right:width", "6 ft")], None, Ft, Some(Lane), Some(6.0)),
            (&[("cycleway:right:width", "2 m")], None, Ft, Some(Lane), Some(2.0 * M)),
            (&[("cycleway:right:width", "1.2"), ("cycleway:width", "2")], None, Ft, Some(Lane), Some(1.2 * M)),
            // a unit beats tag order
            (&[("cycleway:right:width", "2"), ("cycleway:both:width", "6 ft")], None, Ft, Some(Lane), Some(6.0)),
            (&[("cycleway:right:width", "2"), ("cycleway:width", "1 m")], None, Ft, Some(Lane), Some(M)),
            // far side only on a with-flow one-way
            (&[("cycleway:left:width", "2")], Some(Ft), Ft, Some(Lane), Some(2.0 * M)),
            (&[("cycleway:left:width", "2")], None, Ft, Some(Lane), None),
            (&[("cycleway:left:width", "2")], Some(Tf), Ft, Some(Lane), None),
            (&[("cycleway:left:width", "2"), ("cycleway:both:width", "1")], None, Ft, Some(Lane), Some(M)),
            // tf mirrors: left first, right only on a tf one-way
            (&[("cycleway:left:width", "1.5")], None, Tf, Some(Lane), Some(1.5 * M)),
            (&[("cycleway:right:width", "2")], Some(Tf), Tf, Some(Lane), Some(2.0 * M)),
            (&[("cycleway:right:width", "2")], Some(Ft), Tf, Some(Lane), None),
            (&[("cycleway:width", "5 ft")], None, Tf, Some(Track), Some(5.0)),
            // the first unitless candidate decides even if it has no number
            (&[("cycleway:right:width", "narrow"), ("cycleway:width", "2")], None, Ft, Some(Lane), None),
            // unitless facility widths have no < 20 limit
            (&[("cycleway:width", "25")], None, Ft, Some(Lane), Some(25.0 * M)),
        ];
        for (tags, owc, dir, infra, want) in ROWS {
            let got = facility_width(&t(tags), *owc, *dir, *infra);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{tags:?}: {g} != {w}"),
                _ => assert_eq!(got, *want, "{tags:?} {owc:?} {dir:?}"),
            }
        }
    }

    fn base(class: FunctionalClass) -> SegmentAttributes {
        SegmentAttributes::unattributed(class)
    }

    #[test]
    fn class_adjustments() {
        type Row = (&'static str, C, fn(&mut SegmentAttributes), C);
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            ("untouched residential", C::Residential, |_| {}, C::Residential),
            ("lanes both ways", C::Residential, |a| {a.ft_bike_infra = Some(Lane); a.tf_bike_infra = Some(Track); }, C::Tertiary),
            ("buffered both ways", C::Unclassified, |a| {a.ft_bike_infra = Some(Buf); a.tf_bike_infra = Some(Buf); }, C::Tertiary),
            ("one direction only (AND since #890)", C::Residential, |a| a.ft_bike_infra = Some(Lane), C::Residential),
            ("sharrows do not count", C::Residential, |a| {a.ft_bike_infra = Some(Sharrow); a.tf_bike_infra = Some(Sharrow); }, C::Residential),
            ("ft lanes > 1", C::Residential, |a| a.ft_lanes = Some(2), C::Tertiary),
            ("tf lanes > 1", C::Unclassified, |a| a.tf_lanes = Some(2), C::Tertiary),
            ("1 lane", C::Residential, |a| a.ft_lanes = Some(1), C::Residential),
            ("speed 30", C::Residential, |a| a.speed_limit = Some(30), C::Tertiary),
            ("speed 25", C::Unclassified, |a| a.speed_limit = Some(25), C::Unclassified),
            ("other classes untouched", C::LivingStreet, |a| a.speed_limit = Some(40), C::LivingStreet),
            ("primary untouched", C::Primary, |a| a.ft_lanes = Some(3), C::Primary),
        ];
        for (id, class, setup, want) in ROWS {
            let mut a = base(*class);
            setup(&mut a);
            assert_eq!(class_adjustment(&a), *want, "{id}");
        }
    }

    // -- composition --------------------------------------------------------------------------

    #[test]
    fn derive_attributes_composes_in_reference_order() {
        assert_eq!(
            derive_attributes(&t(&[("highway", "path"), ("bicycle", "no")])),
            None
        );
        assert_eq!(derive_attributes(&t(&[("highway", "service")])), None);

        // contraflow lane: tf lane, bikes two-way, facility widths per side
        let a = derive_attributes(&t(&[
            ("highway", "residential"),
            ("oneway", "yes"),
            ("cycleway", "opposite_lane"),
            ("cycleway:width", "1.5"),
            ("maxspeed", "30"),
            ("width", "7 m"),
            ("name", "Katu"),
        ]))
        .expect("residential kept");
        assert_eq!(a.functional_class, C::Residential);
        assert_eq!(a.one_way_car, Some(Ft));
        assert_eq!(a.one_way, None);
        assert_eq!((a.ft_bike_infra, a.tf_bike_infra), (None, Some(Lane)));
        assert_eq!(a.ft_bike_infra_width, None);
        assert!((a.tf_bike_infra_width.unwrap_or(0.0) - 1.5 * FEET_PER_METRE).abs() < 1e-9);
        assert_eq!(a.speed_limit, Some(20));
        assert_eq!(a.width_ft, Some(23.0));
        assert!(!a.bicycle_no);

        // lanes in both directions promote a residential street
        let a = derive_attributes(&t(&[("highway", "residential"), ("cycleway", "lane")]))
            .expect("kept");
        assert_eq!(a.functional_class, C::Tertiary);
        assert_eq!(a.one_way, None);

        // a lane on one side does not
        let a = derive_attributes(&t(&[
            ("highway", "residential"),
            ("cycleway:right", "lane"),
        ]))
        .expect("kept");
        assert_eq!(a.functional_class, C::Residential);

        // maxspeed in mph ≥ 30 promotes; 50 km/h → 30 mph also does
        for speed in ["30 mph", "50"] {
            let a = derive_attributes(&t(&[("highway", "unclassified"), ("maxspeed", speed)]))
                .expect("kept");
            assert_eq!(a.functional_class, C::Tertiary, "{speed}");
        }

        // plain one-way, parking, bicycle=no on a living street, crosswalk
        let a = derive_attributes(&t(&[
            ("highway", "living_street"),
            ("oneway", "-1"),
            ("bicycle", "no"),
            ("parking:lane:left", "parallel"),
            ("lanes", "1"),
        ]))
        .expect("kept");
        assert_eq!((a.one_way_car, a.one_way), (Some(Tf), Some(Tf)));
        assert_eq!((a.ft_lanes, a.tf_lanes), (None, Some(1)));
        assert_eq!((a.ft_park, a.tf_park), (None, Some(1)));
        assert!(a.bicycle_no);
        let a = derive_attributes(&t(&[("highway", "footway"), ("footway", "crossing")]))
            .expect("kept");
        assert!(a.xwalk);
        assert_eq!(a.functional_class, C::Path);
    }

    #[test]
    fn number_helpers_match_postgres_regexes() {
        assert_eq!(first_decimal("12."), Some(12.0));
        assert_eq!(first_decimal("w 1.234"), Some(1.23));
        assert_eq!(first_decimal("1,5 m"), Some(1.0));
        assert_eq!(first_decimal("none"), None);
        assert_eq!(first_int("x12y3"), Some(12));
        assert_eq!(first_int("99999999999"), None);
        assert_eq!(digits_before("1 22'3\"", b'\''), Some(22.0));
        assert_eq!(digits_before("'6\"", b'\''), None);
        assert!(is_bare_number("50.5") && !is_bare_number("50.") && !is_bare_number(".5"));
    }
}
