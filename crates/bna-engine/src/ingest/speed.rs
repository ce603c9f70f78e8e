//! Residential default speed limits (spec §1 steps 6 and 9e, §4.3, §9): the city default beats
//! the state default; neither → `None` (untagged residential streets are then high stress).
//!
//! The PeopleForBikes tables are compiled in so that the binary works without the data folder.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::census::RawBlock;

const STATE_CSV: &str = include_str!("../../../../data/reference/state_fips_speed.csv");
const CITY_CSV: &str = include_str!("../../../../data/reference/city_fips_speed-v24.03.csv");

struct Tables {
    /// `fips_code_state` (2 digits) → mph.
    state: HashMap<String, u32>,
    /// `fips_code_city` (7 digits) → mph.
    city: HashMap<String, u32>,
}

/// Parses `key_column` → `speed` from an embedded CSV. The files are fixed at build time, so
/// a malformed row is a build defect, caught by the tests below; it is skipped here.
fn parse(csv_text: &str, key_column: &str) -> HashMap<String, u32> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().cloned().unwrap_or_default();
    let (Some(key), Some(speed)) = (
        headers.iter().position(|h| h == key_column),
        headers.iter().position(|h| h == "speed"),
    ) else {
        return HashMap::new();
    };
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let k = r.get(key)?.trim().to_string();
            let v = r.get(speed)?.trim().parse().ok()?;
            Some((k, v))
        })
        .collect()
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        state: parse(STATE_CSV, "fips_code_state"),
        city: parse(CITY_CSV, "fips_code_city"),
    })
}

/// Residential default speed (mph): the city's (7-digit place FIPS) if listed, else the
/// state's (2-digit FIPS). Codes are compared exactly as text, as the reference's SQL does:
/// non-US runs pass no code (or "0"), which matches nothing.
pub fn residential_speed(state_fips: Option<&str>, city_fips: Option<&str>) -> Option<u32> {
    let t = tables();
    city_fips
        .and_then(|c| t.city.get(c.trim()).copied())
        .or_else(|| state_fips.and_then(|s| t.state.get(s.trim()).copied()))
}

/// The state FIPS (first two GEOID digits) when every block agrees on one, so that US runs
/// get the state default without asking. Synthetic cells ("syn…") give `None`.
pub fn state_fips_of_blocks(blocks: &[RawBlock]) -> Option<String> {
    let mut found: Option<&str> = None;
    for b in blocks {
        let s = b.geoid.get(..2)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        match found {
            None => found = Some(s),
            Some(f) if f == s => {}
            Some(_) => return None,
        }
    }
    found.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_are_complete() {
        let t = tables();
        // Row counts of the files minus their header.
        assert_eq!(t.state.len(), STATE_CSV.lines().count() - 1);
        assert_eq!(t.city.len(), CITY_CSV.lines().count() - 1);
    }

    #[test]
    fn lookups() {
        // (state, city, expected) — spec §4.3 examples.
        let cases: [(Option<&str>, Option<&str>, Option<u32>); 7] = [
            (Some("11"), None, Some(20)),            // DC
            (Some("25"), Some("2555535"), Some(20)), // Provincetown MA beats MA's 30
            (Some("08"), Some("0803620"), Some(20)), // Aspen CO beats CO's 30
            (Some("56"), Some("5640120"), Some(25)), // Jackson WY beats WY's 30
            (Some("16"), Some("1699999"), Some(35)), // unknown city → state
            (None, Some("0"), None),                 // non-US
            (Some("0"), Some("0"), None),
        ];
        for (state, city, want) in cases {
            assert_eq!(residential_speed(state, city), want, "{state:?} {city:?}");
        }
    }
}
