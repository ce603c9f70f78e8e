//! A self-contained static web page of the results: `index.html`, the page script, the data as
//! a script (`bna-data.js`, so the page works from `file://` where `fetch` is refused), and
//! Leaflet (vendored from npm, see `assets/web/README.md`). No file refers to the network; the
//! OpenStreetMap basemap is an opt-in checkbox.

use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, MapCoords};
use serde_json::{json, Map, Value as J};

use super::io_err;
use super::share::{read_layers, ShareLayer};
use crate::analysis::score_text;
use crate::model::ScoreRow;
use crate::store::error::StoreError;
use crate::store::project::Project;

const INDEX_HTML: &str = include_str!("../../../../../assets/web/index.html");
const SHARE_JS: &str = include_str!("../../../../../assets/web/bna-share.js");
const LEAFLET_JS: &str = include_str!("../../../../../assets/web/leaflet/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../../../../../assets/web/leaflet/leaflet.css");
const LEAFLET_LICENSE: &str = include_str!("../../../../../assets/web/leaflet/LICENSE");

/// The first words of `bna-data.js`, by which an earlier export is recognised.
pub(super) const DATA_JS_HEADER: &str = "// Written by bna export --format web";
/// What `index.html` holds and another page is unlikely to: the script with bna's data.
pub(super) const PAGE_MARKER: &str = "<script src=\"bna-data.js\"></script>";

/// Coordinates are written with 6 decimals (about 0.1 m): the data file is what the browser
/// parses, and more digits only make it bigger.
const COORD_SCALE: f64 = 1e6;

pub(super) fn write(project: &Project, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let title = project
        .path()
        .file_stem()
        .map_or_else(|| "bna".into(), |s| s.to_string_lossy().into_owned());
    let layers = read_layers(project)?;
    let scores = scores_in_reading_order(project.overall_scores()?);
    let meta = project.metadata()?;
    let mut layer_json = Map::new();
    for l in &layers {
        layer_json.insert(l.name.to_string(), feature_collection(l));
    }
    let data = json!({
        "title": title,
        "engine": meta.as_ref().map(|m| m.engine_version.clone()),
        "finished_at": meta.as_ref().map(|m| m.finished_at.clone()),
        "population_source": meta.as_ref().map(|m| m.population_source.as_str()),
        "scores": scores,
        "layers": layer_json,
    });
    let data_js = format!(
        "{DATA_JS_HEADER}: the results shown by index.html.\nwindow.BNA_DATA = {};\n",
        serde_json::to_string(&data).map_err(|source| StoreError::Json {
            path: dir.join("bna-data.js"),
            source,
        })?
    );
    let files: [(&str, &str); 6] = [
        ("index.html", INDEX_HTML),
        ("bna-share.js", SHARE_JS),
        ("bna-data.js", &data_js),
        ("leaflet/leaflet.js", LEAFLET_JS),
        ("leaflet/leaflet.css", LEAFLET_CSS),
        ("leaflet/LICENSE", LEAFLET_LICENSE),
    ];
    let leaflet_dir = dir.join("leaflet");
    std::fs::create_dir_all(&leaflet_dir).map_err(io_err(&leaflet_dir))?;
    files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(io_err(&p))?;
            Ok(p)
        })
        .collect()
}

/// The score rows each group before its members (`score_text::SCORES`), each with its human
/// label, its group and what it measures, as the page shows them.
fn scores_in_reading_order(mut rows: Vec<ScoreRow>) -> Vec<J> {
    rows.sort_by_key(|r| score_text::reading_position(&r.score_id));
    rows.into_iter()
        .map(|r| {
            let text = score_text::find(&r.score_id);
            json!({
                "score_id": r.score_id,
                "label": score_text::label(&r.score_id),
                "parent": text.and_then(|t| t.parent),
                "measures": text.map_or(r.human_explanation.as_str(), |t| t.measures),
                "score_original": r.score_original,
                "score_normalized": r.score_normalized,
                "human_explanation": r.human_explanation,
            })
        })
        .collect()
}

fn feature_collection(layer: &ShareLayer) -> J {
    let features: Vec<J> = layer
        .features
        .iter()
        .map(|f| {
            json!({
                "type": "Feature",
                "id": f.id,
                "properties": f.props,
                "geometry": geojson::Geometry::new(geojson::Value::from(&rounded(&f.geometry))),
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

fn rounded(g: &Geometry<f64>) -> Geometry<f64> {
    g.map_coords(|c| Coord {
        x: (c.x * COORD_SCALE).round() / COORD_SCALE,
        y: (c.y * COORD_SCALE).round() / COORD_SCALE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_refers_to_no_network_resource_but_the_optional_basemap() {
        // Works offline: every script and stylesheet is a relative file written next to it.
        for (name, text) in [("index.html", INDEX_HTML), ("bna-share.js", SHARE_JS)] {
            for (i, _) in text.match_indices("http") {
                let rest = &text[i..];
                assert!(
                    rest.starts_with("https://tile.openstreetmap.org/"),
                    "{name} refers to {}",
                    &rest[..rest.len().min(60)]
                );
            }
        }
        for src in [
            "leaflet/leaflet.js",
            "bna-data.js",
            "bna-share.js",
            "leaflet/leaflet.css",
        ] {
            assert!(INDEX_HTML.contains(src), "{src}");
        }
        assert!(INDEX_HTML.contains("© OpenStreetMap contributors"));
        assert!(INDEX_HTML.contains(PAGE_MARKER));
    }

    #[test]
    fn coordinates_round_to_six_decimals() {
        let g = Geometry::Point(geo::Point::new(-77.123_456_789, 38.987_654_321));
        let Geometry::Point(p) = rounded(&g) else {
            unreachable!()
        };
        assert_eq!((p.x(), p.y()), (-77.123_457, 38.987_654));
    }
}
