//! The bundled demo city the app opens on first start.

use std::path::{Path, PathBuf};

use crate::pipeline::{AnalysisRequest, PopulationChoice};

/// File name of the demo project inside the user's data directory.
pub const DEMO_PROJECT_FILE: &str = "demo-dc.bna";

/// The Washington DC (Columbia Heights) demo, the same request as `bna demo --city dc`.
pub fn dc_request(data_dir: &Path, out: PathBuf) -> AnalysisRequest {
    let d = data_dir.join("us-dc");
    AnalysisRequest {
        boundary: d.join("boundary-columbia-heights.geojson"),
        osm: d.join("dc-nw-2016-highways.osm.pbf"),
        blocks: Some(d.join("tl_2021_11_tabblock20.zip")),
        jobs: Some(d.join("lodes8/dc_wac_S000_JT00_2021.csv.gz")),
        // The bundled TIGER file has no POP20 (see data/us-dc/README.md).
        population: Some(PopulationChoice::Synthetic),
        city_fips: None,
        state_fips: Some("11".into()),
        residential_speed: None,
        out,
    }
}
