//! Any bytes as a shapefile's `.dbf`: the checks of `ingest::dbf` must leave `dbase` nothing
//! to panic on, so this is an error or every record read, never a panic.
#![no_main]

use bna_fuzz::ingest::dbf::read_dbf_records;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = read_dbf_records(data.to_vec()) {
        assert!(!e.contains(" { "), "debug text in {e}");
    }
});
