//! Bicycle Network Analysis (PeopleForBikes BNA, brokenspoke-analyzer 3.2.4) in memory.
//!
//! Layers, in data-flow order: `fetch` (downloads, optional) → `ingest` → `network` → `analysis` → `store`; `pipeline` drives
//! them and is the one API that the CLI, the desktop app and the cloud worker call.

pub mod analysis;
pub mod app;
pub mod cloud;
pub mod fetch;
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
