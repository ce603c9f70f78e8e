//! Any bytes as a LODES jobs file (CSV or gzip): an error or finite, non-negative jobs per
//! block, never a panic.
#![no_main]

use std::path::Path;

use bna_fuzz::ingest::lodes::parse_jobs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = parse_jobs(Path::new("fuzz-lodes"), data.to_vec()) {
        assert!(!table.jobs.is_empty());
        for (code, n) in &table.jobs {
            assert!(!code.is_empty());
            assert!(n.is_finite() && *n >= 0.0, "{code}: {n}");
        }
    }
});
