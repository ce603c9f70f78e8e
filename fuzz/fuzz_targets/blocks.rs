//! Any bytes as a census block file (zipped shapefile, `.shp`, GeoJSON): an error or blocks
//! that respect the reader's rules, never a panic, a hang or an unbounded allocation.
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use bna_fuzz::ingest::census::{parse_blocks, MAX_BLOCK_POPULATION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_blocks(Path::new("fuzz-blocks"), data.to_vec()) {
        Ok(blocks) => {
            let mut seen = HashSet::new();
            for b in &blocks {
                assert!(!b.geoid.is_empty());
                assert!(seen.insert(b.geoid.clone()), "GEOID {} twice", b.geoid);
                if let Some(p) = b.population {
                    assert!((0.0..=MAX_BLOCK_POPULATION).contains(&p), "population {p}");
                }
            }
        }
        Err(e) => assert!(!e.to_string().contains("Error {"), "debug text in {e}"),
    }
});
