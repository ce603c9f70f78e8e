//! The exports for sharing results, through the real `bna` binary on the DC demo: the MBTiles
//! tile set (decoded back with geozero, an MVT reader independent of the encoder) and the static
//! web page (opened from file:// in headless Chromium, which must draw every feature and show
//! the overall score).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use geozero::mvt::{tile, Message, Tile};
use geozero::ToGeo;
use rusqlite::Connection;

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(p)
}

fn bna(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(args)
        .output()
        .expect("run bna")
}

fn run_ok(args: &[&str]) -> String {
    let o = bna(args);
    assert!(
        o.status.success(),
        "bna {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

struct Dc {
    dir: tempfile::TempDir,
    project: PathBuf,
}

fn dc() -> &'static Dc {
    static DC: OnceLock<Dc> = OnceLock::new();
    DC.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("dc.bna");
        let s = |p: &str| data(p).to_str().unwrap().to_owned();
        run_ok(&[
            "analyze",
            "--quiet",
            "--boundary",
            &s("us-dc/boundary-columbia-heights.geojson"),
            "--osm",
            &s("us-dc/dc-nw-2016-highways.osm.pbf"),
            "--blocks",
            &s("us-dc/tl_2021_11_tabblock20.zip"),
            "--jobs",
            &s("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz"),
            "--population",
            "synthetic",
            "--out",
            project.to_str().unwrap(),
        ]);
        Dc { dir, project }
    })
}

fn open_spatial(p: &Path) -> Connection {
    let c = Connection::open(p).unwrap();
    unsafe {
        c.load_extension_enable().unwrap();
        c.load_extension("mod_spatialite", None::<&str>).unwrap();
    }
    c
}

/// road_id → (worse-direction segment stress, name) of every way with a geometry at least
/// `min_m` metres long.
fn project_ways(c: &Connection, min_m: f64) -> BTreeMap<i64, (Option<i64>, Option<String>)> {
    let mut stmt = c
        .prepare(
            "SELECT road_id, ft_seg_stress, tf_seg_stress, name FROM neighborhood_ways
             WHERE geom IS NOT NULL AND GeodesicLength(geom) >= ?1",
        )
        .unwrap();
    stmt.query_map([min_m], |r| {
        let ft: Option<i64> = r.get(1)?;
        let tf: Option<i64> = r.get(2)?;
        let worse = match (ft, tf) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Ok((r.get(0)?, (worse, r.get(3)?)))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn overall_score(c: &Connection) -> f64 {
    c.query_row(
        "SELECT coalesce(score_normalized, score_original) FROM neighborhood_overall_scores
         WHERE score_id = 'overall_score'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    assert_eq!(&b[..2], &[0x1f, 0x8b], "tile data is gzip");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn tag<'a>(layer: &'a tile::Layer, f: &tile::Feature, key: &str) -> Option<&'a tile::Value> {
    f.tags
        .chunks(2)
        .find_map(|kv| (layer.keys[kv[0] as usize] == key).then(|| &layer.values[kv[1] as usize]))
}

fn lonlat_to_tile(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x as u32, y as u32)
}

#[test]
fn mbtiles_export_decodes_back_to_the_project() {
    let dc = dc();
    let out = dc.dir.path().join("tiles");
    let printed = run_ok(&[
        "export",
        dc.project.to_str().unwrap(),
        "--format",
        "mbtiles",
        "--dir",
        out.to_str().unwrap(),
    ]);
    let file = out.join("dc.mbtiles");
    assert_eq!(printed.trim(), file.to_str().unwrap());
    let proj = open_spatial(&dc.project);
    // A road shorter than one z16 tile unit (about 0.1 m here) collapses to a point there.
    let ways = project_ways(&proj, 0.0);
    let long: BTreeSet<i64> = project_ways(&proj, 0.5).into_keys().collect();
    assert!(long.len() > 100, "{} ways", ways.len());

    let mb = Connection::open(&file).unwrap();
    let meta: HashMap<String, String> = mb
        .prepare("SELECT name, value FROM metadata")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(meta["format"], "pbf");
    assert_eq!(meta["minzoom"], "10");
    assert_eq!(meta["maxzoom"], "16");
    assert!(meta["attribution"].contains("OpenStreetMap contributors"));
    let json: serde_json::Value = serde_json::from_str(&meta["json"]).unwrap();
    let layers: BTreeMap<&str, &serde_json::Value> = json["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), &l["fields"]))
        .collect();
    assert_eq!(
        layers.keys().copied().collect::<Vec<_>>(),
        ["blocks", "boundary", "network"]
    );
    for f in [
        "stress",
        "ft_seg_stress",
        "tf_seg_stress",
        "functional_class",
        "name",
    ] {
        assert!(layers["network"].get(f).is_some(), "network field {f}");
    }
    assert_eq!(layers["blocks"]["overall_score"], "Number");

    // Bounds are those of everything tiled: roads, blocks and the boundary (with the
    // reference's OSM clip, the blocks can reach past the last road node).
    let bounds: Vec<f64> = meta["bounds"]
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let (x0, y0, x1, y1): (f64, f64, f64, f64) = proj
        .query_row(
            "SELECT Min(MbrMinX(geom)), Min(MbrMinY(geom)), Max(MbrMaxX(geom)), Max(MbrMaxY(geom))
             FROM (SELECT geom FROM neighborhood_ways
                   UNION ALL SELECT geom FROM neighborhood_census_blocks
                   UNION ALL SELECT geom FROM neighborhood_boundary)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    for (got, want) in bounds.iter().zip([x0, y0, x1, y1]) {
        assert!(
            (got - want).abs() < 1e-5,
            "bounds {bounds:?} vs ways {x0},{y0},{x1},{y1}"
        );
    }
    let center: Vec<f64> = meta["center"]
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(center[0] > x0 && center[0] < x1 && center[1] > y0 && center[1] < y1);
    assert!(
        (10.0..=16.0).contains(&center[2]),
        "center zoom {}",
        center[2]
    );

    // Every zoom has tiles; every road is in the z16 tiles with its attributes.
    let per_zoom: BTreeMap<u8, i64> = mb
        .prepare("SELECT zoom_level, count(*) FROM tiles GROUP BY zoom_level")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        per_zoom.keys().copied().collect::<Vec<_>>(),
        (10..=16).collect::<Vec<_>>()
    );
    let mut stmt = mb
        .prepare("SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = 16")
        .unwrap();
    let tiles: Vec<(u32, u32, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut seen = BTreeSet::new();
    let mut blocks_with_score = 0;
    for (_, _, blob) in &tiles {
        let t = Tile::decode(gunzip(blob).as_slice()).unwrap();
        for layer in &t.layers {
            assert_eq!(layer.extent, Some(4096));
            for f in &layer.features {
                match layer.name.as_str() {
                    "network" => {
                        let id = f.id.unwrap() as i64;
                        let (stress, name) = ways
                            .get(&id)
                            .unwrap_or_else(|| panic!("road {id} is not in the project"));
                        let got = tag(layer, f, "stress").and_then(|v| v.sint_value);
                        assert_eq!(got, *stress, "stress of road {id}");
                        let got_name = tag(layer, f, "name").and_then(|v| v.string_value.clone());
                        assert_eq!(&got_name, name, "name of road {id}");
                        assert!(tag(layer, f, "functional_class").is_some());
                        assert_eq!(f.r#type, Some(tile::GeomType::Linestring as i32));
                        seen.insert(id);
                    }
                    "blocks" => {
                        assert_eq!(f.r#type, Some(tile::GeomType::Polygon as i32));
                        let s = tag(layer, f, "overall_score").and_then(|v| v.double_value);
                        if s.is_some_and(|s| (0.0..=100.0).contains(&s)) {
                            blocks_with_score += 1;
                        }
                    }
                    "boundary" => {}
                    other => panic!("unexpected layer {other}"),
                }
            }
        }
    }
    let missing: Vec<_> = long.difference(&seen).take(10).collect();
    assert!(
        missing.is_empty(),
        "{} of {} roads missing at z16 (e.g. {missing:?})",
        long.len() - long.intersection(&seen).count(),
        long.len()
    );
    assert!(blocks_with_score > 0);

    // The tile under the study area's centre holds roads whose geometry lies in the tile
    // (plus its buffer), decoded by geozero.
    let (tx, ty) = lonlat_to_tile(center[0], center[1], 14);
    let row = (1u32 << 14) - 1 - ty;
    let blob: Vec<u8> = mb
        .query_row(
            "SELECT tile_data FROM tiles WHERE zoom_level = 14 AND tile_column = ?1 AND tile_row = ?2",
            [tx, row],
            |r| r.get(0),
        )
        .unwrap();
    let t = Tile::decode(gunzip(&blob).as_slice()).unwrap();
    let network = t.layers.iter().find(|l| l.name == "network").unwrap();
    assert!(
        network.features.len() > 10,
        "{} roads",
        network.features.len()
    );
    for f in &network.features {
        let g = f.to_geo().unwrap();
        let r = geo::BoundingRect::bounding_rect(&g).unwrap();
        assert!(r.min().x >= -64.0 && r.max().x <= 4160.0, "{r:?}");
        assert!(r.min().y >= -64.0 && r.max().y <= 4160.0, "{r:?}");
    }
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output() {
            if o.status.success() {
                return PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
            }
        }
    }
    panic!(
        "chromium not found: the web page test needs headless Chromium; install it with \
         `apt-get install chromium` (bash packaging/dev/test.sh does this)"
    );
}

fn attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    Some(dom[start..start + dom[start..].find('"')?].to_string())
}

#[test]
fn web_page_draws_the_network_and_shows_the_overall_score_in_headless_chromium() {
    let browser = chromium();
    let dc = dc();
    let out = dc.dir.path().join("web");
    run_ok(&[
        "export",
        dc.project.to_str().unwrap(),
        "--format",
        "web",
        "--dir",
        out.to_str().unwrap(),
    ]);
    let index = out.join("index.html");
    assert!(index.is_file());
    // Nothing the page loads may come from the network (the basemap is opt-in).
    for f in ["index.html", "bna-share.js", "leaflet/leaflet.css"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!text.contains("<script src=\"http"), "{f}");
        assert!(!text.contains("href=\"http"), "{f}");
    }

    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=5000",
            "--dump-dom",
            &format!("file://{}", index.display()),
        ])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && dom.contains("<body"),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(attr(&dom, "data-bna-error"), None);
    assert_eq!(
        attr(&dom, "data-bna-ready").as_deref(),
        Some("true"),
        "page script did not finish"
    );

    let proj = open_spatial(&dc.project);
    let ways = project_ways(&proj, 0.0).len();
    let blocks: usize = proj
        .query_row(
            "SELECT count(*) FROM neighborhood_census_blocks WHERE geom IS NOT NULL",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize;
    let drawn = |n: &str| attr(&dom, n).and_then(|v| v.parse::<usize>().ok());
    assert_eq!(drawn("data-drawn-network"), Some(ways));
    assert_eq!(drawn("data-drawn-blocks"), Some(blocks));
    // Leaflet's SVG renderer: one <path> per drawn road and block, plus the boundary.
    let paths = dom.matches("<path class=\"leaflet-interactive\"").count()
        + dom.matches("<path class=\"leaflet-interactive ").count();
    let all_paths = dom.matches("<path").count();
    assert!(
        all_paths > ways + blocks && paths > 0,
        "{all_paths} paths for {ways} roads and {blocks} blocks"
    );

    // The overall score shown is the project's.
    let start = dom
        .find("id=\"overall-score\"")
        .expect("overall score element");
    let shown = &dom[start..];
    let text = &shown[shown.find('>').unwrap() + 1..shown.find('<').unwrap()];
    let value: f64 = text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("score text {text:?}"));
    let want = overall_score(&proj);
    assert!(
        (value - want).abs() <= 0.005,
        "page shows {value}, project has {want}"
    );
    assert!(dom.contains("© OpenStreetMap contributors"));
    // The score table lists every score row.
    let rows: i64 = proj
        .query_row(
            "SELECT count(*) FROM neighborhood_overall_scores",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let table = &dom[dom.find("id=\"scores\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr").count() as i64, rows + 1);
    score_table_reads_in_order_with_labels(&proj, table);
}

/// One row of the page's score table: class, score id, label, value text.
fn score_rows(table: &str) -> Vec<(String, String, String, String)> {
    table
        .split("<tr")
        .filter(|r| r.contains("data-score-id="))
        .map(|r| {
            let cells: Vec<&str> = r
                .split("<td")
                .skip(1)
                .map(|c| &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()])
                .collect();
            (
                attr(r, "class").unwrap_or_default(),
                attr(r, "data-score-id").expect("score id"),
                cells[0].to_owned(),
                cells[1].to_owned(),
            )
        })
        .collect()
}

/// Every group is followed by its own members, indented; each row has its human label and a
/// value with two decimals equal to the project's.
fn score_table_reads_in_order_with_labels(proj: &Connection, table: &str) {
    use bna_engine::analysis::score_text;
    let rows = score_rows(table);
    assert_eq!(rows[0].1, "overall_score", "the overall score comes first");
    let mut group: Option<String> = None;
    for (class, id, label, value) in &rows {
        let text = score_text::find(id).unwrap_or_else(|| panic!("{id} has a text"));
        assert_eq!(label, text.label, "{id}");
        assert!(!label.contains('_'), "{label}");
        match text.parent {
            Some(parent) => {
                assert_eq!(class, "sub", "{id} is indented");
                assert_eq!(
                    group.as_deref(),
                    Some(parent),
                    "{id} follows its group {parent}, not another"
                );
            }
            None => {
                assert_eq!(class, "", "{id} is not indented");
                group = Some(id.clone());
            }
        }
        let want: Option<f64> = proj
            .query_row(
                "SELECT coalesce(score_normalized, score_original) FROM neighborhood_overall_scores
                 WHERE score_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        match want {
            Some(v) => assert_eq!(value, &format!("{v:.2}"), "{id}"),
            None => assert_eq!(value, "–", "{id}"),
        }
    }
    // Each group's members come right after it: no member before its group.
    let position = |id: &str| rows.iter().position(|r| r.1 == id).unwrap();
    for r in &rows {
        if let Some(parent) = score_text::find(&r.1).and_then(|t| t.parent) {
            assert!(position(parent) < position(&r.1), "{} before {parent}", r.1);
        }
    }
}
