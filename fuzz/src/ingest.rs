//! The readers of `src/ingest` under fuzzing (boundary, census blocks with their dbf and zip
//! handling, LODES jobs) and their error type.

#[path = "../../crates/bna-engine/src/ingest/error.rs"]
mod error;
pub use error::IngestError;
#[path = "../../crates/bna-engine/src/ingest/boundary.rs"]
pub mod boundary;
#[path = "../../crates/bna-engine/src/ingest/census.rs"]
pub mod census;
#[path = "../../crates/bna-engine/src/ingest/dbf.rs"]
pub mod dbf;
#[path = "../../crates/bna-engine/src/ingest/lodes.rs"]
pub mod lodes;
#[path = "../../crates/bna-engine/src/ingest/zipped.rs"]
mod zipped;
