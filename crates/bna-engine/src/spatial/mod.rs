//! Coordinate handling shared by all layers: the project's metric CRS.

mod projection;

pub use projection::{Projection, ProjectionError};
