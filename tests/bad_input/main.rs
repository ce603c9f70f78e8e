//! The bad-input suite (issue 18): what a careless or hostile user feeds `bna`, one table per
//! area, each row an input the test generates (no large files committed) and what must happen —
//! an exit code, one readable line naming the file or setting, and nothing of the user's damaged.
//! Cloud faults live in `tests/cloud.rs`, beside the emulator they need.

use bna_test_support::http as common;

mod fetch;
mod ingest;
mod output;
mod support;
