//! Jobs per census block (spec §1 steps 5 and 8, §6.1): LODES workplace counts joined to the
//! blocks by GEOID (`w_geocode`), or placed by location into synthetic cells.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use geo::{BoundingRect, Intersects};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::boundary::read_bytes;
use super::census::RawBlock;
use super::IngestError;
use crate::model::Block;
use crate::spatial::Projection;

/// Loads jobs per workplace block from a LODES file, `.csv` or `.csv.gz` (gzip is detected
/// by its magic bytes, not the name):
/// - WAC (`w_geocode`, `C000`): C000 per block;
/// - OD (`w_geocode`, `h_geocode`, `S000`): Σ S000 by `w_geocode`, as the reference's
///   `census_block_jobs.sql` does (the home block is ignored).
///
/// For JT00 the two give the same numbers. Load `od_main` and `od_aux` separately and add them.
pub fn load_jobs(path: &Path) -> Result<HashMap<String, f64>, IngestError> {
    let invalid = |reason: String| IngestError::invalid(path, reason);
    let bytes = read_bytes(path)?;
    let text: Box<dyn Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(MultiGzDecoder::new(std::io::Cursor::new(bytes)))
    } else {
        Box::new(std::io::Cursor::new(bytes))
    };
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(text);
    let headers = csv
        .headers()
        .map_err(|e| invalid(format!("cannot read the CSV header: {e}")))?
        .clone();
    let find = |name: &str| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let columns = || headers.iter().collect::<Vec<_>>().join(", ");
    let geocode = find("w_geocode").ok_or_else(|| {
        invalid(format!(
            "no w_geocode column: expected a LODES WAC or OD file; the columns are: {}",
            columns()
        ))
    })?;
    // WAC first: an OD file has no C000, a WAC file no S000.
    let (count, count_name) = match (find("C000"), find("S000")) {
        (Some(i), _) => (i, "C000"),
        (None, Some(i)) => (i, "S000"),
        (None, None) => {
            return Err(invalid(format!(
                "no job count column: expected C000 (LODES WAC) or S000 (LODES OD); the \
                 columns are: {}",
                columns()
            )))
        }
    };

    let mut jobs: HashMap<String, f64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(invalid(format!("malformed CSV: {e}"))),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let code = record.get(geocode).unwrap_or("").trim();
        if code.is_empty() {
            return Err(invalid(format!("line {line}: w_geocode is empty")));
        }
        let raw = record.get(count).unwrap_or("").trim();
        let n: f64 = raw.parse().map_err(|_| {
            invalid(format!(
                "line {line}: {count_name} \"{raw}\" is not a number"
            ))
        })?;
        *jobs.entry(normalise_geocode(code)).or_insert(0.0) += n;
    }
    Ok(jobs)
}

/// LODES geocodes are 15-digit block GEOIDs; a spreadsheet round trip drops the leading zero
/// of states 01–09, which would silently unmatch every block, so pad digit strings back.
fn normalise_geocode(code: &str) -> String {
    if code.len() < 15 && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("{code:0>15}")
    } else {
        code.to_string()
    }
}

/// How a jobs table matched the blocks, for the run report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JobsJoin {
    /// Blocks (census join) or census blocks placed into a cell (location join) that got jobs.
    pub matched_blocks: usize,
    pub jobs_matched: f64,
    /// Geocodes of the jobs table that matched no block (for a statewide file, most of them:
    /// only the study area's blocks are loaded).
    pub unknown_geocodes: usize,
    pub jobs_unmatched: f64,
}

/// Sets each block's jobs from the table by GEOID; blocks without a row get 0 (spec §6.1).
pub fn attach_jobs(blocks: &mut [Block], jobs: &HashMap<String, f64>) -> JobsJoin {
    for b in blocks.iter_mut() {
        b.jobs = jobs.get(&b.geoid).copied().unwrap_or(0.0);
    }
    // Counted over the table's geocodes so that matched + unmatched adds up to its total.
    let ids: HashSet<&str> = blocks.iter().map(|b| b.geoid.as_str()).collect();
    let mut join = JobsJoin::default();
    for (code, n) in jobs {
        if ids.contains(code.as_str()) {
            join.matched_blocks += 1;
            join.jobs_matched += n;
        } else {
            join.unknown_geocodes += 1;
            join.jobs_unmatched += n;
        }
    }
    join
}

/// Geocodes of the jobs table that are not blocks of the census file at all (count, jobs):
/// the check to warn about (wrong state or vintage), unlike `JobsJoin::unknown_geocodes`,
/// which also counts every workplace outside the study area.
pub fn geocodes_missing_from(raw: &[RawBlock], jobs: &HashMap<String, f64>) -> (usize, f64) {
    let ids: HashSet<&str> = raw.iter().map(|b| b.geoid.as_str()).collect();
    jobs.iter()
        .filter(|(code, _)| !ids.contains(code.as_str()))
        .fold((0, 0.0), |(n, total), (_, j)| (n + 1, total + j))
}

/// For synthetic population cells (no shared GEOIDs): each census block's jobs go to the cell
/// containing the block's interior point (the first such cell when the point lies on a shared
/// edge). Jobs of geocodes not among `raw`, or whose point is in no cell, are unmatched.
pub fn attach_jobs_by_location(
    cells: &mut [Block],
    raw: &[RawBlock],
    jobs: &HashMap<String, f64>,
    proj: &Projection,
) -> JobsJoin {
    let tree = RTree::bulk_load(
        cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let r = c.geom.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    );
    for c in cells.iter_mut() {
        c.jobs = 0.0;
    }
    let mut join = JobsJoin::default();
    let mut placed: HashSet<&str> = HashSet::new();
    for b in raw {
        let Some((code, &n)) = jobs.get_key_value(&b.geoid) else {
            continue;
        };
        if placed.contains(code.as_str()) {
            continue;
        }
        let p = proj.project(&b.interior_point_ll);
        let hit = tree
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
            .map(|g| g.data)
            .filter(|&i| cells[i].geom.intersects(&p))
            .min();
        if let Some(i) = hit {
            cells[i].jobs += n;
            placed.insert(code.as_str());
            join.matched_blocks += 1;
            join.jobs_matched += n;
        }
    }
    for (code, n) in jobs {
        if !placed.contains(code.as_str()) {
            join.unknown_geocodes += 1;
            join.jobs_unmatched += n;
        }
    }
    join
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geocode_normalisation() {
        // (input, expected)
        let cases = [
            ("110010001011000", "110010001011000"),
            ("10010201001000", "010010201001000"),
            ("syn000001000002", "syn000001000002"),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_geocode(input), want);
        }
    }
}
