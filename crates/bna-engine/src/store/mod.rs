//! The `.bna` project file (SQLite + SpatiaLite) and exports.
//!
//! The analysis runs in memory; the `.bna` is the system of record. It holds the reference
//! result tables (spec §8) with EPSG:4326 geometry registered in SpatiaLite (so QGIS opens
//! them directly), run metadata, stage checkpoints, and the whole `ProjectData` as a blob so
//! results reload exactly. Exports (GeoJSON, Shapefile, CSV, GeoPackage) are read back from
//! the result tables.

mod error;
mod export;
mod layer;
mod lock;
mod output;
mod project;
mod project_claim;
pub mod schema;
mod spatialite;
pub(crate) mod wkb;
mod write;

pub use error::StoreError;
pub use export::{export, export_with, ExportFormat};
pub use layer::{is_layer_file, write_layer_file, LayerTable};
pub use lock::ProjectLock;
pub use output::{check_replaceable, write_output_file, Overwrite, PathKind};
pub use project::Project;
pub use project_claim::ProjectClaim;
pub use spatialite::{connect_spatialite, SPATIALITE_ENV};
pub(crate) use write::access_for;
pub use write::{PARAM_CITY_FIPS, PARAM_CITY_SPEED, PARAM_STATE_FIPS, PARAM_STATE_SPEED};
