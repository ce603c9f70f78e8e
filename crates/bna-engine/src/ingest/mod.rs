//! Reading the user's input files: boundary, OpenStreetMap, census blocks, jobs, speed tables.
//! Every error names the file and says what to do about it.

pub mod boundary;
pub mod census;
pub mod dbf;
pub mod jobs;
mod lodes;
pub mod node_uses;
pub mod osm;
pub mod osm2pgsql;
pub mod osm_clip;
mod osm_xml;
pub mod speed;
pub mod synthetic;
pub mod zipped;

mod error;

pub use error::{check_input_file, check_input_size, IngestError};
