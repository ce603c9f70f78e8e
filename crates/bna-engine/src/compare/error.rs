//! The one error type of `compare`: each message names the file and the fix.

use std::path::PathBuf;

use crate::store::StoreError;

/// What `bna compare` reads from a reference export folder, for the messages.
pub const SUPPORTED: &str = "the reference's CSV tables (neighborhood_ways.csv, neighborhood_census_blocks.csv, neighborhood_overall_scores.csv) or its GeoJSON export (neighborhood_ways.geojson, neighborhood_census_blocks.geojson, with neighborhood_overall_scores.csv)";

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("{path} is neither a .bna project nor a folder: give a .bna file or the reference's export folder")]
    Unrecognised { path: PathBuf },

    #[error("{path} has no analysis results yet: run `bna analyze --out {path}` first")]
    NoResults { path: PathBuf },

    #[error("{folder} has no {file}: give a reference export folder holding {SUPPORTED}")]
    MissingFile { folder: PathBuf, file: String },

    #[error("{folder} holds only the reference's shapefile export, which bna compare does not read: give the folder with {SUPPORTED}")]
    ShapefileOnly { folder: PathBuf },

    #[error("{path} has no column {column}: give the reference's own export of this table")]
    MissingColumn { path: PathBuf, column: String },

    #[error("{path} is not a readable CSV file ({detail}): give the reference's own CSV export")]
    Csv { path: PathBuf, detail: String },

    #[error(
        "{path} is not a readable GeoJSON file ({detail}): give the reference's own GeoJSON export"
    )]
    GeoJson { path: PathBuf, detail: String },

    #[error("{path}: {detail}: give the reference's own export of this table")]
    BadValue { path: PathBuf, detail: String },

    #[error("{a} and {b} are both reference folders: give at least one .bna project")]
    NoProject { a: PathBuf, b: PathBuf },
}

impl CompareError {
    /// The user's mistake (exit 2), as opposed to a failure of the machine.
    pub fn is_bad_input(&self) -> bool {
        match self {
            CompareError::Store(s) => s.is_bad_input(),
            _ => true,
        }
    }
}
