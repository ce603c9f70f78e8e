//! The readers of `src/ingest` under fuzzing (boundary, census blocks with their dbf and zip
//! handling, LODES jobs) and their error type.

#[path = "../../src/ingest/error.rs"]
mod error;
pub use error::IngestError;
#[path = "../../src/ingest/boundary.rs"]
pub mod boundary;
#[path = "../../src/ingest/census.rs"]
pub mod census;
#[path = "../../src/ingest/dbf.rs"]
pub mod dbf;
#[path = "../../src/ingest/lodes.rs"]
pub mod lodes;
#[path = "../../src/ingest/zipped.rs"]
mod zipped;
