//! Bicycle Network Analysis (PeopleForBikes BNA, brokenspoke-analyzer 3.2.4) in memory.
//!
//! Layers, in data-flow order: `ingest` → `network` → `analysis` → `store`; `pipeline` drives
//! them and is the one API that the CLI, the desktop app (`bna-app`) and the cloud worker
//! (`bna-cloud`) call. Downloads (`bna-fetch`) produce this crate's inputs and live outside it.

pub mod analysis;
pub mod compare;
pub mod files;
pub mod ingest;
pub mod model;
pub mod network;
pub mod params;
pub mod pipeline;
pub mod progress;
pub mod scenario;
pub mod spatial;
pub mod store;
pub mod user_dirs;
