//! The engine modules under fuzzing, compiled from the main crate's sources with the same
//! module paths (`crate::model`, `crate::ingest::IngestError`, …) they use there.
#![allow(dead_code)]

#[path = "../../crates/bna-engine/src/files.rs"]
pub mod files;
#[path = "../../crates/bna-engine/src/model.rs"]
pub mod model;
#[path = "../../crates/bna-engine/src/params.rs"]
pub mod params;
#[path = "../../crates/bna-engine/src/spatial/mod.rs"]
pub mod spatial;

pub mod ingest;
pub mod network;
