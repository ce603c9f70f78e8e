//! Any bytes as a boundary file (GeoJSON, .shp, zipped shapefile): an error or a valid
//! polygon, never a panic or a hang.
#![no_main]

use std::path::Path;

use bna_fuzz::ingest::boundary::parse_boundary;
use geo::Area;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mp) = parse_boundary(Path::new("fuzz-boundary"), data.to_vec()) {
        assert!(mp.unsigned_area() > 0.0);
    }
});
