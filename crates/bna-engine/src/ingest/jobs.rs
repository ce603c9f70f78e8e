//! Jobs per census block (spec §1 steps 5 and 8, §6.1): LODES workplace counts joined to the
//! blocks by GEOID (`w_geocode`), or placed by location into synthetic cells.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use geo::{BoundingRect, Intersects};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::census::RawBlock;
pub use super::lodes::{parse_jobs, JobsTable, MAX_JOBS_PER_BLOCK};
use super::IngestError;
use crate::model::Block;
use crate::spatial::Projection;

/// Loads jobs per workplace block from a LODES file, `.csv` or `.csv.gz` (see
/// [`parse_jobs`] for the formats and the rows refused), without its warnings.
pub fn load_jobs(path: &Path) -> Result<HashMap<String, f64>, IngestError> {
    Ok(load_jobs_table(path)?.jobs)
}

/// [`load_jobs`] with the warnings (blank lines, no jobs at all) to show the user.
/// The file is streamed (a statewide OD file is hundreds of MB unpacked), after the check that
/// it is a regular file: reading a device or a pipe would never end.
pub fn load_jobs_table(path: &Path) -> Result<JobsTable, IngestError> {
    if super::error::check_input_file(path)? == 0 {
        return Err(IngestError::invalid(path, "the file is empty (0 bytes)"));
    }
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    super::lodes::read_jobs(path, std::io::BufReader::new(file))
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
