//! The `.bna` project file (SQLite + SpatiaLite) and exports.
//!
//! The analysis runs in memory; the `.bna` is the system of record. It holds the reference
//! result tables (spec §8) with EPSG:4326 geometry registered in SpatiaLite (so QGIS opens
//! them directly), run metadata, stage checkpoints, and the whole `ProjectData` as a blob so
//! results reload exactly. Exports (GeoJSON, Shapefile, CSV, GeoPackage) are read back from
//! the result tables.

mod error;
mod export;
mod lock;
mod project;
pub mod schema;
mod spatialite;
mod wkb;
mod write;

pub use error::StoreError;
pub use export::{export, ExportFormat};
pub use lock::ProjectLock;
pub use project::Project;
pub use spatialite::{connect_spatialite, SPATIALITE_ENV};
pub use write::{PARAM_CITY_FIPS, PARAM_CITY_SPEED, PARAM_STATE_FIPS, PARAM_STATE_SPEED};
