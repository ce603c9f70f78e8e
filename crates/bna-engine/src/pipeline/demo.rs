//! The bundled demo analyses: what `bna demo`, `bna bench` and the app's first start run, on
//! the data shipped in `data/` (`data_dir` is wherever the caller found that folder).

use std::path::{Path, PathBuf};

use super::{AnalysisRequest, OsmClip, PopulationChoice};

/// A bundled demo area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoCity {
    /// Washington DC, Columbia Heights: US census blocks and LODES jobs.
    Dc,
    /// Helsinki centre: OSM only, with destinations.
    Helsinki,
}

/// The request for a demo area, writing the project to `out`.
pub fn request(city: DemoCity, data_dir: &Path, out: PathBuf) -> AnalysisRequest {
    match city {
        DemoCity::Dc => dc_request(data_dir, out),
        DemoCity::Helsinki => helsinki_request(data_dir, out),
    }
}

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
        osm_clip: OsmClip::default(),
        out,
    }
}

/// The Helsinki centre demo, the same request as `bna demo --city helsinki`.
pub fn helsinki_request(data_dir: &Path, out: PathBuf) -> AnalysisRequest {
    let d = data_dir.join("helsinki");
    AnalysisRequest {
        boundary: d.join("boundary-centre.geojson"),
        osm: d.join("helsinki-center.osm.pbf"),
        blocks: None,
        jobs: None,
        population: Some(PopulationChoice::Synthetic),
        city_fips: None,
        state_fips: None,
        residential_speed: None,
        osm_clip: OsmClip::default(),
        out,
    }
}
