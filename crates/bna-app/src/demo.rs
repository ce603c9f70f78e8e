//! The demo project the app opens on first start (the request is the engine's
//! `pipeline::demo::dc_request`).

/// File name of the demo project inside the user's data directory.
pub const DEMO_PROJECT_FILE: &str = "demo-dc.bna";
