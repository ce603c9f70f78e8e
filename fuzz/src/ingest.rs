//! The boundary loader of `src/ingest` and its error type.

#[path = "../../src/ingest/error.rs"]
mod error;
pub use error::IngestError;
#[path = "../../src/ingest/boundary.rs"]
pub mod boundary;
