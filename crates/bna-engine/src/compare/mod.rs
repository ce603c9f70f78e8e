//! `bna compare`: two analyses side by side — two `.bna` projects, or a project and the
//! reference BNA's export folder. Segments are paired by OSM way and end points (`matching`),
//! then their stress and class compared (`segments`); blocks by GEOID (`blocks`); city scores
//! by id and destinations by category (`report`). `layer` writes the differences as a
//! SpatiaLite file for QGIS. `rows` holds the table diff that the golden tests assert with.

pub mod blocks;
pub mod error;
pub mod layer;
pub mod matching;
pub mod report;
pub mod rows;
pub mod segments;
pub mod side;

use std::path::Path;

pub use error::CompareError;
pub use report::Report;
pub use side::{Side, SourceKind};

use report::{city_deltas, DestinationCount, SideSummary};

/// Compares two loaded sides (B is measured against A: every Δ is B − A).
pub fn compare(a: &Side, b: &Side) -> Report {
    let matching = matching::match_segments(&a.segments, &b.segments);
    let categories = a.destinations.keys().chain(
        b.destinations
            .keys()
            .filter(|k| !a.destinations.contains_key(*k)),
    );
    let destinations = categories
        .map(|c| DestinationCount {
            category: c.clone(),
            a: a.destinations.get(c).copied(),
            b: b.destinations.get(c).copied(),
        })
        .collect();
    Report {
        a: SideSummary {
            path: a.path.clone(),
            kind: a.kind,
        },
        b: SideSummary {
            path: b.path.clone(),
            kind: b.kind,
        },
        segments: segments::compare_segments(&a.segments, &b.segments, &matching),
        blocks: blocks::compare_blocks(&a.blocks, &b.blocks),
        city: city_deltas(&a.city, &b.city),
        destinations,
    }
}

/// Reads both sides (at least one must be a project) and compares them.
pub fn compare_paths(a: &Path, b: &Path) -> Result<(Side, Side, Report), CompareError> {
    let (sa, sb) = (Side::load(a)?, Side::load(b)?);
    if sa.kind != SourceKind::Project && sb.kind != SourceKind::Project {
        return Err(CompareError::NoProject {
            a: a.to_path_buf(),
            b: b.to_path_buf(),
        });
    }
    let report = compare(&sa, &sb);
    Ok((sa, sb, report))
}
