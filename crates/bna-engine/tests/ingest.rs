//! Reading the non-OSM inputs on the real files in `data/`, and the errors a user can meet.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bna_engine::ingest::boundary::load_boundary;
use bna_engine::ingest::census::{
    has_population, load_blocks, select_blocks, share_inside, RawBlock,
};
use bna_engine::ingest::jobs::{
    attach_jobs, attach_jobs_by_location, geocodes_missing_from, load_jobs,
};
use bna_engine::ingest::speed::{residential_speed, state_fips_of_blocks};
use bna_engine::ingest::synthetic::synthetic_grid;
use bna_engine::ingest::IngestError;
use bna_engine::model::Block;
use bna_engine::params::{BLOCK_MIN_SHARE_INSIDE, SYNTHETIC_CELL_POPULATION};
use bna_engine::spatial::Projection;
use geo::{Area, MultiPolygon};

fn data(rel: &str) -> PathBuf {
    bna_test_support::repo_root().join("data").join(rel)
}

const DC_BOUNDARY: &str = "us-dc/boundary-columbia-heights.geojson";
const DC_BLOCKS: &str = "us-dc/tl_2021_11_tabblock20.zip";
const DC_WAC: &str = "us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz";
const BTV_BLOCKS: &str = "us-burlington-vt/blocks2020-with-population.geojson";
const BTV_BOUNDARY: &str = "us-burlington-vt/boundary.geojson";
const HEL_BOUNDARY: &str = "helsinki/boundary-centre.geojson";

fn projected_area_km2(b: &MultiPolygon<f64>) -> f64 {
    let p = Projection::for_boundary(b).unwrap();
    p.project(b).unsigned_area() / 1e6
}

/// Blocks as the pipeline builds them, without selection (for join tests).
fn all_as_blocks(raw: &[RawBlock]) -> Vec<Block> {
    raw.iter()
        .map(|r| Block {
            geoid: r.geoid.clone(),
            geom: r.geom_ll.clone(),
            geom_ll: r.geom_ll.clone(),
            population: r.population.unwrap_or(0.0),
            jobs: 0.0,
            aland: r.aland,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Real data
// ---------------------------------------------------------------------------------------------

#[test]
fn boundaries_load_with_their_documented_areas() {
    // (file, km² from the data READMEs, tolerance)
    let cases = [
        (DC_BOUNDARY, 2.256, 0.01),
        (BTV_BOUNDARY, 26.84, 0.1),
        // 0.0125° × 0.01° at 60.17°N ≈ 694 m × 1113 m.
        (HEL_BOUNDARY, 0.772, 0.01),
    ];
    for (file, km2, tol) in cases {
        let b = load_boundary(&data(file)).unwrap();
        let a = projected_area_km2(&b);
        assert!((a - km2).abs() < tol, "{file}: {a} km²");
    }
}

#[test]
fn dc_tiger_blocks_have_no_population() {
    let blocks = load_blocks(&data(DC_BLOCKS)).unwrap();
    assert_eq!(blocks.len(), 6012);
    assert!(!has_population(&blocks));
    assert!(blocks
        .iter()
        .all(|b| b.geoid.len() == 15 && b.geoid.starts_with("11")));
    assert!(blocks.iter().all(|b| b.aland.is_some()));
    let water = blocks.iter().filter(|b| b.aland == Some(0.0)).count();
    assert!(water > 0 && water < 200, "{water} water blocks");
    // INTPTLON20/INTPTLAT20 are read, and lie in DC.
    for b in &blocks {
        let p = b.interior_point_ll;
        assert!(
            (-77.12..-76.90).contains(&p.x()) && (38.79..39.0).contains(&p.y()),
            "{p:?}"
        );
    }
    assert_eq!(state_fips_of_blocks(&blocks).as_deref(), Some("11"));
}

#[test]
fn burlington_blocks_carry_the_2020_count() {
    let blocks = load_blocks(&data(BTV_BLOCKS)).unwrap();
    assert_eq!(blocks.len(), 399);
    assert!(has_population(&blocks));
    let total: f64 = blocks.iter().map(|b| b.population.unwrap()).sum();
    assert_eq!(total, 44_743.0);
    assert!(blocks.iter().all(|b| b.aland.is_none()));
    assert_eq!(state_fips_of_blocks(&blocks).as_deref(), Some("50"));
}

#[test]
fn burlington_selection_keeps_its_own_blocks() {
    let boundary = load_boundary(&data(BTV_BOUNDARY)).unwrap();
    let proj = Projection::for_boundary(&boundary).unwrap();
    let raw = load_blocks(&data(BTV_BLOCKS)).unwrap();
    let kept = select_blocks(raw, &boundary, &proj, true);
    // The boundary is the dissolve of these blocks and they carry no ALAND (no water flag):
    // every block is inside.
    assert_eq!(kept.len(), 399);
    let total: f64 = kept.iter().map(|b| b.population).sum();
    assert_eq!(total, 44_743.0);
    assert!(kept.iter().all(|b| b.jobs == 0.0));
    // Metric geometry is in UTM 18N (Burlington, -73.2°).
    assert_eq!(proj.epsg(), 32618);
    let area: f64 = kept.iter().map(|b| b.geom.unsigned_area()).sum();
    assert!((area / 1e6 - 26.84).abs() < 0.2, "{area}");
}

#[test]
fn dc_selection_keeps_columbia_heights() {
    let boundary = load_boundary(&data(DC_BOUNDARY)).unwrap();
    let proj = Projection::for_boundary(&boundary).unwrap();
    let raw = load_blocks(&data(DC_BLOCKS)).unwrap();
    let kept = select_blocks(raw.clone(), &boundary, &proj, true);
    // README: 125 blocks have their representative point inside; the boundary is a dissolve of
    // whole tracts, so every block is either fully inside or outside and the ≥ 50 % rule picks
    // the same ones.
    assert_eq!(kept.len(), 125);
    let boundary_m = proj.project(&boundary);
    for b in &kept {
        assert!(
            b.geoid.starts_with("1100100"),
            "{} is not in one of the boundary's tracts",
            b.geoid
        );
        let share = share_inside(&b.geom, &boundary_m);
        assert!(share >= BLOCK_MIN_SHARE_INSIDE, "{}: {share}", b.geoid);
        assert_ne!(b.aland, Some(0.0));
        assert_eq!(b.population, 0.0);
    }
    let area: f64 = kept.iter().map(|b| b.geom.unsigned_area()).sum::<f64>() / 1e6;
    assert!((area - 2.256).abs() < 0.05, "{area} km²");
    // Every block left out is mostly outside.
    let kept_ids: std::collections::HashSet<&str> = kept.iter().map(|b| b.geoid.as_str()).collect();
    let skipped_inside = raw
        .iter()
        .filter(|r| !kept_ids.contains(r.geoid.as_str()) && r.aland != Some(0.0))
        .filter(|r| share_inside(&proj.project(&r.geom_ll), &boundary_m) >= BLOCK_MIN_SHARE_INSIDE)
        .count();
    assert_eq!(skipped_inside, 0);
}

#[test]
fn water_blocks_are_dropped_only_when_asked() {
    let boundary = load_boundary(&data(DC_BOUNDARY)).unwrap();
    let proj = Projection::for_boundary(&boundary).unwrap();
    let mut raw = load_blocks(&data(DC_BLOCKS)).unwrap();
    let kept = select_blocks(raw.clone(), &boundary, &proj, true);
    // Mark one kept block as water: it goes with drop_water, stays without.
    let id = kept[0].geoid.clone();
    raw.iter_mut().find(|r| r.geoid == id).unwrap().aland = Some(0.0);
    let dry = select_blocks(raw.clone(), &boundary, &proj, true);
    let wet = select_blocks(raw, &boundary, &proj, false);
    assert_eq!(dry.len(), kept.len() - 1);
    assert_eq!(wet.len(), kept.len());
}

#[test]
fn lodes_wac_totals() {
    let jobs = load_jobs(&data(DC_WAC)).unwrap();
    assert_eq!(jobs.len(), 3860);
    assert_eq!(jobs.values().sum::<f64>(), 624_377.0);
    assert_eq!(jobs["110010001011000"], 44.0);
}

#[test]
fn lodes_od_sums_s000_by_workplace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xx_od_main_JT00_2021.csv");
    std::fs::write(
        &path,
        "w_geocode,h_geocode,S000,SA01,createdate\n\
         110010001011000,110010002011000,3,1,20231016\n\
         110010001011000,240010001011000,4,2,20231016\n\
         110010001011001,110010001011000,1,0,20231016\n",
    )
    .unwrap();
    let jobs = load_jobs(&path).unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs["110010001011000"], 7.0);
    assert_eq!(jobs["110010001011001"], 1.0);
}

#[test]
fn dc_jobs_join_by_geoid() {
    let boundary = load_boundary(&data(DC_BOUNDARY)).unwrap();
    let proj = Projection::for_boundary(&boundary).unwrap();
    let raw = load_blocks(&data(DC_BLOCKS)).unwrap();
    let jobs = load_jobs(&data(DC_WAC)).unwrap();

    // README: every w_geocode is a 2020 DC block.
    assert_eq!(geocodes_missing_from(&raw, &jobs), (0, 0.0));
    let mut fewer = jobs.clone();
    fewer.insert("240010001011000".into(), 7.0);
    assert_eq!(geocodes_missing_from(&raw, &fewer), (1, 7.0));
    let mut all = all_as_blocks(&raw);
    let join = attach_jobs(&mut all, &jobs);
    assert_eq!(join.matched_blocks, 3860);
    assert_eq!(join.unknown_geocodes, 0);
    assert_eq!(join.jobs_matched, 624_377.0);
    assert_eq!(all.iter().map(|b| b.jobs).sum::<f64>(), 624_377.0);

    // README: 5,065 jobs in the blocks whose representative point is inside.
    let mut kept = select_blocks(raw, &boundary, &proj, true);
    let join = attach_jobs(&mut kept, &jobs);
    assert!(join.matched_blocks > 0);
    assert_eq!(join.jobs_matched, 5_065.0);
    assert_eq!(join.jobs_matched + join.jobs_unmatched, 624_377.0);
    assert_eq!(kept.iter().map(|b| b.jobs).sum::<f64>(), join.jobs_matched);
}

#[test]
fn synthetic_grid_over_helsinki() {
    let boundary = load_boundary(&data(HEL_BOUNDARY)).unwrap();
    let proj = Projection::for_boundary(&boundary).unwrap();
    let cells = synthetic_grid(&boundary);
    // 694 m × 1113 m in 500 Web-Mercator-unit cells (≈ 249 m at 60.17°N): 3 × 5.
    assert_eq!(cells.len(), 15);
    for c in &cells {
        assert_eq!(c.population, Some(SYNTHETIC_CELL_POPULATION));
        assert_eq!(c.aland, None);
        assert_eq!(c.geoid.len(), 15);
        assert!(c.geoid.starts_with("syn"));
        // Edge lengths, not the bounding box: UTM 35N's grid is rotated ~1.8° here.
        let cell = proj.project(&c.geom_ll);
        let ring = &cell.0[0].exterior().0;
        assert_eq!(ring.len(), 5);
        for w in ring.windows(2) {
            let side = ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt();
            assert!((side - 249.0).abs() < 1.5, "{}: side {side} m", c.geoid);
        }
    }
    let ids: std::collections::HashSet<&str> = cells.iter().map(|c| c.geoid.as_str()).collect();
    assert_eq!(ids.len(), cells.len());
    // Deterministic: the same boundary gives the same cells.
    assert_eq!(synthetic_grid(&boundary), cells);
    // The grid overhangs the boundary's top row (1113 m / 249 m = 4.5 rows): selection keeps
    // the 12 cells at least half inside.
    let kept = select_blocks(cells, &boundary, &proj, false);
    assert_eq!(kept.len(), 12);
    assert!(kept
        .iter()
        .all(|b| b.population == SYNTHETIC_CELL_POPULATION));
}

#[test]
fn jobs_by_location_into_synthetic_cells() {
    let boundary = load_boundary(&data(DC_BOUNDARY)).unwrap();
    let proj = Projection::for_boundary(&boundary).unwrap();
    let raw = load_blocks(&data(DC_BLOCKS)).unwrap();
    let jobs = load_jobs(&data(DC_WAC)).unwrap();
    let mut cells = select_blocks(synthetic_grid(&boundary), &boundary, &proj, false);
    assert!(!cells.is_empty());
    let join = attach_jobs_by_location(&mut cells, &raw, &jobs, &proj);
    assert!(join.matched_blocks > 50, "{join:?}");
    assert_eq!(join.jobs_matched + join.jobs_unmatched, 624_377.0);
    let placed: f64 = cells.iter().map(|c| c.jobs).sum();
    assert_eq!(placed, join.jobs_matched);
    // Cells cover about the neighbourhood, whose blocks hold ~5,000 jobs.
    assert!((2_000.0..=20_000.0).contains(&placed), "{placed}");
}

#[test]
fn residential_speed_defaults() {
    // (state, city, expected)
    let cases: [(Option<&str>, Option<&str>, Option<u32>); 5] = [
        (Some("11"), None, Some(20)),
        (Some("50"), None, Some(25)),
        // Boulder CO (0807850) is 20 in the city table; Colorado's default is 30.
        (Some("08"), None, Some(30)),
        (Some("08"), Some("0807850"), Some(20)),
        (None, None, None),
    ];
    for (state, city, want) in cases {
        assert_eq!(residential_speed(state, city), want, "{state:?} {city:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The reason of an `Invalid` error on `path`.
fn invalid_reason(err: IngestError, path: &Path) -> String {
    match err {
        IngestError::Invalid { path: p, reason } => {
            assert_eq!(p, path);
            reason
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn write_geojson(dir: &Path, name: &str, geometry: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{geometry}}}]}}"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn missing_file_is_not_found_with_its_path() {
    let path = data("nowhere/boundary.geojson");
    for err in [
        load_boundary(&path).unwrap_err(),
        load_blocks(&path).unwrap_err(),
        load_jobs(&path).unwrap_err(),
    ] {
        assert!(
            matches!(&err, IngestError::NotFound { path: p } if *p == path),
            "{err:?}"
        );
        assert!(err.to_string().contains("nowhere/boundary.geojson"));
    }
}

#[test]
fn bad_boundaries_say_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    // (name, geometry, words the message must contain)
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "point",
            r#"{"type":"Point","coordinates":[-77.03,38.93]}"#,
            &["Point", "feature 0"],
        ),
        (
            "unclosed",
            r#"{"type":"Polygon","coordinates":[[[-77.03,38.93],[-77.02,38.93],[-77.02,38.94],[-77.03,38.94]]]}"#,
            &[
                "not closed",
                "(-77.030000, 38.930000)",
                "(-77.030000, 38.940000)",
            ],
        ),
        (
            "three-points",
            r#"{"type":"Polygon","coordinates":[[[-77.03,38.93],[-77.02,38.93],[-77.03,38.93]]]}"#,
            &["3 points", "at least 4"],
        ),
        (
            "bowtie",
            r#"{"type":"Polygon","coordinates":[[[-77.04,38.92],[-77.02,38.94],[-77.02,38.92],[-77.04,38.94],[-77.04,38.92]]]}"#,
            &["crosses itself", "(-77.030000, 38.930000)"],
        ),
        (
            // Denver as (lat, lon); DC could not be caught: its longitude is within ±90.
            "swapped",
            r#"{"type":"Polygon","coordinates":[[[39.7,-105.0],[39.7,-104.9],[39.8,-104.9],[39.7,-105.0]]]}"#,
            &["swapped", "(39.7, -105)"],
        ),
        (
            "projected",
            r#"{"type":"Polygon","coordinates":[[[323000,4310000],[324000,4310000],[324000,4311000],[323000,4310000]]]}"#,
            &["projected", "EPSG:4326", "323000"],
        ),
        (
            "flat",
            r#"{"type":"Polygon","coordinates":[[[-77.03,38.93],[-77.02,38.94],[-77.01,38.95],[-77.03,38.93]]]}"#,
            &["zero area"],
        ),
        (
            "line",
            r#"{"type":"LineString","coordinates":[[-77.03,38.93],[-77.02,38.94]]}"#,
            &["LineString"],
        ),
    ];
    for (name, geometry, words) in cases {
        let path = write_geojson(dir.path(), &format!("{name}.geojson"), geometry);
        let reason = invalid_reason(load_boundary(&path).unwrap_err(), &path);
        for w in words {
            assert!(reason.contains(w), "{name}: {reason:?} lacks {w:?}");
        }
    }
}

#[test]
fn empty_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.geojson");
    std::fs::write(&empty, "").unwrap();
    assert!(invalid_reason(load_boundary(&empty).unwrap_err(), &empty).contains("empty"));
    let no_features = dir.path().join("none.geojson");
    std::fs::write(
        &no_features,
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    let reason = invalid_reason(load_boundary(&no_features).unwrap_err(), &no_features);
    assert!(reason.contains("no features"), "{reason}");
}

#[test]
fn several_polygons_are_unioned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.geojson");
    // Two overlapping squares (0.01° apart) and one far away.
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0.02,0],[0.02,0.02],[0,0.02],[0,0]]]}},
          {"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[
             [[[0.01,0.01],[0.03,0.01],[0.03,0.03],[0.01,0.03],[0.01,0.01]]],
             [[[1,1],[1.01,1],[1.01,1.01],[1,1.01],[1,1]]]]}}]}"#,
    )
    .unwrap();
    let b = load_boundary(&path).unwrap();
    assert_eq!(b.0.len(), 2);
    // 0.0004 + 0.0004 - 0.0001 + 0.0001 square degrees.
    assert!(
        (b.unsigned_area() - 0.0008).abs() < 1e-9,
        "{}",
        b.unsigned_area()
    );
}

/// Writes `name.shp/.shx` with one lon/lat square (and `name.prj` if given), returns the .shp.
fn write_square_shapefile(dir: &Path, name: &str, prj: Option<&str>) -> PathBuf {
    use shapefile::{Point, Polygon, PolygonRing};
    let shp = dir.join(format!("{name}.shp"));
    let mut w = shapefile::ShapeWriter::from_path(&shp).unwrap();
    // Clockwise: an outer ring in shapefile terms.
    let ring = vec![
        Point::new(-77.03, 38.93),
        Point::new(-77.03, 38.94),
        Point::new(-77.02, 38.94),
        Point::new(-77.02, 38.93),
        Point::new(-77.03, 38.93),
    ];
    w.write_shape(&Polygon::new(PolygonRing::Outer(ring)))
        .unwrap();
    drop(w);
    if let Some(prj) = prj {
        std::fs::write(dir.join(format!("{name}.prj")), prj).unwrap();
    }
    shp
}

fn zip_files(zip_path: &Path, files: &[PathBuf]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(zip_path).unwrap());
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        z.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(&std::fs::read(f).unwrap()).unwrap();
    }
    z.finish().unwrap();
}

const NAD83_PRJ: &str = r#"GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]"#;
const UTM_PRJ: &str = r#"PROJCS["NAD83 / UTM zone 18N",GEOGCS["NAD83",DATUM["North_American_Datum_1983",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["central_meridian",-75],UNIT["metre",1]]"#;

#[test]
fn shapefile_boundaries_plain_and_zipped() {
    let dir = tempfile::tempdir().unwrap();
    let shp = write_square_shapefile(dir.path(), "square", Some(NAD83_PRJ));
    let zipped = dir.path().join("square.zip");
    zip_files(
        &zipped,
        &["shp", "shx", "prj"].map(|e| shp.with_extension(e)),
    );
    for path in [&shp, &zipped] {
        let b = load_boundary(path).unwrap();
        // 0.01° × 0.01° at 38.9°N ≈ 866 m × 1111 m.
        let a = projected_area_km2(&b);
        assert!((a - 0.962).abs() < 0.01, "{path:?}: {a}");
    }
}

#[test]
fn projected_shapefile_zip_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let shp = write_square_shapefile(dir.path(), "utm", Some(UTM_PRJ));
    let zipped = dir.path().join("utm.zip");
    zip_files(
        &zipped,
        &["shp", "shx", "prj"].map(|e| shp.with_extension(e)),
    );
    let reason = invalid_reason(load_boundary(&zipped).unwrap_err(), &zipped);
    for w in ["projected", "NAD83 / UTM zone 18N", "EPSG:4326", "utm.shp"] {
        assert!(reason.contains(w), "{reason:?} lacks {w:?}");
    }
}

#[test]
fn blocks_without_geoid_name_their_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blocks.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"a","pop20":3},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01],[0,0]]]}}]}"#,
    )
    .unwrap();
    let reason = invalid_reason(load_blocks(&path).unwrap_err(), &path);
    for w in ["GEOID", "name", "pop20"] {
        assert!(reason.contains(w), "{reason:?} lacks {w:?}");
    }
}

#[test]
fn blocks_geojson_columns_any_case_and_numeric_geoid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blocks.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"GEOID20":10010201001000,"Pop20":"12","ALAND20":0},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01],[0,0]]]}},
          {"type":"Feature","properties":{"GEOID20":"010010201001001","Pop20":null,"ALAND20":5},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0.01,0.01],[0,0.01],[0,0]]]}}]}"#,
    )
    .unwrap();
    let blocks = load_blocks(&path).unwrap();
    let got: Vec<(&str, Option<f64>, Option<f64>)> = blocks
        .iter()
        .map(|b| (b.geoid.as_str(), b.population, b.aland))
        .collect();
    assert_eq!(
        got,
        [
            ("010010201001000", Some(12.0), Some(0.0)),
            ("010010201001001", None, Some(5.0)),
        ]
    );
    assert_eq!(state_fips_of_blocks(&blocks).as_deref(), Some("01"));
}

#[test]
fn projected_blocks_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blocks.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"GEOID20":"110010001011000"},"geometry":{"type":"Polygon","coordinates":[[[323000,4310000],[324000,4310000],[324000,4311000],[323000,4310000]]]}}]}"#,
    )
    .unwrap();
    let reason = invalid_reason(load_blocks(&path).unwrap_err(), &path);
    assert!(
        reason.contains("EPSG:4326") && reason.contains("110010001011000"),
        "{reason}"
    );
}

#[test]
fn jobs_files_without_the_lodes_columns() {
    let dir = tempfile::tempdir().unwrap();
    // (content, words the message must contain)
    let cases: [(&str, &[&str]); 3] = [
        (
            "geoid,jobs\n110010001011000,3\n",
            &["w_geocode", "geoid, jobs"],
        ),
        (
            "w_geocode,jobs\n110010001011000,3\n",
            &["C000", "S000", "w_geocode, jobs"],
        ),
        (
            "w_geocode,C000\n110010001011000,many\n",
            &["line 2", "many"],
        ),
    ];
    for (i, (content, words)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("jobs{i}.csv"));
        std::fs::write(&path, content).unwrap();
        let reason = invalid_reason(load_jobs(&path).unwrap_err(), &path);
        for w in words {
            assert!(reason.contains(w), "{content:?}: {reason:?} lacks {w:?}");
        }
    }
}

#[test]
fn gzip_is_detected_by_content() {
    // The WAC file renamed without .gz still loads.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wac.csv");
    std::fs::copy(data(DC_WAC), &path).unwrap();
    let jobs: HashMap<String, f64> = load_jobs(&path).unwrap();
    assert_eq!(jobs.len(), 3860);
}

/// The fuzz targets' entry points over their seeds (`fuzz/seeds/<target>/`), with the same
/// properties the targets assert, so they stay exercised where cargo-fuzz is not installed.
/// Each seed is also run truncated at every length and with each byte flipped in turn, a
/// cheap deterministic stand-in for the fuzzer's mutations.
#[test]
fn fuzz_entry_points_hold_on_their_seeds_and_simple_mutations() {
    use bna_engine::ingest::census::{parse_blocks, MAX_BLOCK_POPULATION};
    use bna_engine::ingest::dbf::read_dbf_records;
    use bna_engine::ingest::jobs::parse_jobs;
    use std::collections::HashSet;

    fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = bna_test_support::repo_root()
            .join("fuzz/seeds")
            .join(target);
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        out.sort();
        assert!(!out.is_empty(), "no seeds in {}", dir.display());
        out
    }
    fn variants(seed: &[u8]) -> Vec<Vec<u8>> {
        let mut v = vec![seed.to_vec()];
        v.extend((0..seed.len()).map(|n| seed[..n].to_vec()));
        v.extend((0..seed.len()).map(|i| {
            let mut m = seed.to_vec();
            m[i] ^= 0xff;
            m
        }));
        v
    }
    let no_debug_text = |e: &str| !e.contains(" { ") && !e.contains("Error {");

    let mut good_seeds = 0;
    for (name, seed) in seeds("dbf") {
        good_seeds += usize::from(read_dbf_records(seed.clone()).is_ok());
        for bytes in variants(&seed) {
            if let Err(e) = read_dbf_records(bytes) {
                assert!(no_debug_text(&e), "{name}: {e}");
            }
        }
    }
    assert_eq!(good_seeds, 3, "every dbf seed reads");

    for (name, seed) in seeds("blocks") {
        let path = Path::new("fuzz-blocks");
        assert!(parse_blocks(path, seed.clone()).is_ok(), "{name}");
        // Flipping every byte of a deflated zip is slow in a debug build: the stored zip and
        // the GeoJSON carry the structure worth mutating.
        if name.ends_with("deflated.zip") {
            continue;
        }
        for bytes in variants(&seed) {
            match parse_blocks(path, bytes) {
                Ok(blocks) => {
                    let mut seen = HashSet::new();
                    for b in &blocks {
                        assert!(seen.insert(b.geoid.clone()), "{name}: GEOID twice");
                        let p = b.population.unwrap_or(0.0);
                        assert!((0.0..=MAX_BLOCK_POPULATION).contains(&p), "{name}: {p}");
                    }
                }
                Err(e) => assert!(no_debug_text(&e.to_string()), "{name}: {e}"),
            }
        }
    }

    for (name, seed) in seeds("lodes") {
        let path = Path::new("fuzz-lodes");
        assert!(parse_jobs(path, seed.clone()).is_ok(), "{name}");
        for bytes in variants(&seed) {
            if let Ok(t) = parse_jobs(path, bytes) {
                assert!(!t.jobs.is_empty(), "{name}");
                assert!(
                    t.jobs.values().all(|n| n.is_finite() && *n >= 0.0),
                    "{name}"
                );
            }
        }
    }
}

/// Files and folders that are not what a role needs are named as such.
#[test]
fn a_folder_is_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_jobs(dir.path()).unwrap_err();
    assert!(
        matches!(&e, IngestError::IsFolder { path } if path == dir.path()),
        "{e}"
    );
    assert!(e.to_string().contains("is a folder, not a file"), "{e}");
    let e = load_blocks(dir.path()).unwrap_err();
    assert!(matches!(e, IngestError::IsFolder { .. }), "{e}");
}

/// Devices and named pipes are refused before they are opened (reading `/dev/zero` never
/// ends; a FIFO without a writer blocks); a symlink to a regular file is an ordinary input.
#[test]
fn devices_and_pipes_are_not_files_but_symlinks_to_files_are() {
    use bna_engine::ingest::check_input_file;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let file = dir.path().join("f.csv");
    std::fs::write(&file, "w_geocode,C000\n1,2\n").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    // (path, Ok(size) or an error fragment)
    let cases: [(&Path, Result<u64, &str>); 5] = [
        (
            Path::new("/dev/zero"),
            Err("/dev/zero: is a device, not a file"),
        ),
        (
            &fifo,
            Err("is a named pipe, not a file; pass the file itself"),
        ),
        (dir.path(), Err("is a folder, not a file")),
        (&file, Ok(19)),
        (&link, Ok(19)),
    ];
    for (path, want) in cases {
        match (check_input_file(path), want) {
            (Ok(n), Ok(w)) => assert_eq!(n, w, "{path:?}"),
            (Err(e), Err(frag)) => assert!(e.to_string().contains(frag), "{path:?}: {e}"),
            (got, _) => panic!("{path:?}: unexpected {got:?}"),
        }
    }
    // The readers use it: a FIFO as the jobs file is refused, not waited on.
    let e = load_jobs(&fifo).unwrap_err();
    assert!(
        matches!(
            e,
            IngestError::NotAFile {
                kind: "named pipe",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(load_jobs(&link).unwrap().values().sum::<f64>(), 2.0);
}

/// `--osm-clip boundary` on a region extract: what is left is what `osmium extract -p` and
/// then `osmconvert --drop-broken-refs -b` leave, checked against geo's own point-in-polygon
/// and box tests (the rule in `ingest::osm_clip` works in the tools' integers instead).
#[test]
fn the_reference_cut_of_a_region_extract_keeps_what_osmium_then_osmconvert_keep() {
    use bna_engine::ingest::osm::{read_osm, read_osm_clipped};
    use bna_engine::ingest::osm_clip::ReferenceClip;
    use bna_engine::progress::Counter;
    use geo::{BoundingRect, Contains, Coord, Intersects, Rect};

    let boundary = load_boundary(&data("us-dc/boundary-columbia-heights.geojson")).unwrap();
    let pbf = data("us-dc/dc-nw-2016-highways.osm.pbf");
    let whole = read_osm(&pbf, &Counter::default()).unwrap();
    // A box through the middle of the boundary, so that both cuts remove something.
    let b = boundary.bounding_rect().unwrap();
    let mid_x = (b.min().x + b.max().x) / 2.0;
    let bbox = Rect::new(
        b.min(),
        Coord {
            x: mid_x,
            y: b.max().y,
        },
    );
    let clip = ReferenceClip::new(&boundary, bbox).unwrap();
    let cut = read_osm_clipped(&pbf, &Counter::default(), Some(&clip)).unwrap();

    let at = |n: &i64| whole.node_coords.get(n).copied();
    let in_polygon = |c: Coord<f64>| boundary.contains(&geo::Point::from(c));
    let in_box = |c: Coord<f64>| {
        (bbox.min().x..=bbox.max().x).contains(&c.x) && (bbox.min().y..=bbox.max().y).contains(&c.y)
    };
    let expected: HashMap<i64, Vec<i64>> = whole
        .highway_ways
        .iter()
        .filter(|w| w.nodes.iter().filter_map(at).any(in_polygon))
        .filter_map(|w| {
            let kept: Vec<i64> = w
                .nodes
                .iter()
                .copied()
                .filter(|n| at(n).is_some_and(in_box))
                .collect();
            (!kept.is_empty()).then_some((w.id, kept))
        })
        .collect();
    let got: HashMap<i64, Vec<i64>> = cut
        .highway_ways
        .iter()
        .map(|w| (w.id, w.nodes.clone()))
        .collect();
    assert!(
        expected.len() > 50 && expected.len() < whole.highway_ways.len() / 2,
        "{} of {} ways",
        expected.len(),
        whole.highway_ways.len()
    );
    // A node exactly on the boundary (this one is drawn through street nodes) is decided by
    // osmium's integer rule (a vertex is inside, `ingest::osm_clip`'s unit tests), which geo's
    // float test does not share; such ways are left out of the comparison.
    let on_edge = |w: &&bna_engine::ingest::osm::OsmWay| {
        w.nodes
            .iter()
            .filter_map(at)
            .any(|c| boundary.intersects(&c) && !in_polygon(c))
    };
    let undecided: std::collections::HashSet<i64> = whole
        .highway_ways
        .iter()
        .filter(on_edge)
        .map(|w| w.id)
        .collect();

    let decided = |m: &HashMap<i64, Vec<i64>>| -> HashMap<i64, Vec<i64>> {
        m.iter()
            .filter(|(id, _)| !undecided.contains(id))
            .map(|(id, n)| (*id, n.clone()))
            .collect()
    };
    assert!(decided(&expected).len() > 200, "{undecided:?}");
    assert_eq!(decided(&got), decided(&expected));
    // Ways were really cut at the box, and nodes outside the box are gone.
    let whole_len: HashMap<i64, usize> = whole
        .highway_ways
        .iter()
        .map(|w| (w.id, w.nodes.len()))
        .collect();
    assert!(got.iter().any(|(id, n)| n.len() < whole_len[id]));
    assert!(cut.node_coords.values().all(|c| in_box(*c)));
    // What the file covers is still the whole file (the coverage check reads it).
    assert_eq!(cut.bbox_ll, whole.bbox_ll);
}

/// The reference's own cut: its prepared extract, cut by bna to the box osmconvert used (the
/// clipped file's `<bounds>`), holds exactly the highway ways, node lists and control nodes of
/// the file osmconvert wrote.
#[test]
fn cutting_the_references_extract_gives_the_file_it_imported() {
    use bna_engine::ingest::osm::{read_osm, read_osm_clipped};
    use bna_engine::ingest::osm_clip::ReferenceClip;
    use bna_engine::progress::Counter;

    let d = |f: &str| data(&format!("reference-bsa-dc/{f}"));
    let boundary = load_boundary(&d("boundary_as_given_to_bsa.geojson")).unwrap();
    let imported = read_osm(
        &d("washington-district-of-columbia-united-states.clipped.osm.gz"),
        &Counter::default(),
    )
    .unwrap();
    let region = d("washington-district-of-columbia-united-states.osm.gz");
    // The clipped file's extent is its `<bounds>`: the box osmconvert applied.
    let clip = ReferenceClip::new(&boundary, imported.bbox_ll.unwrap()).unwrap();
    let cut = read_osm_clipped(&region, &Counter::default(), Some(&clip)).unwrap();
    let uncut = read_osm(&region, &Counter::default()).unwrap();

    let ways = |x: &bna_engine::ingest::osm::OsmExtract| -> HashMap<i64, Vec<i64>> {
        x.highway_ways
            .iter()
            .map(|w| (w.id, w.nodes.clone()))
            .collect()
    };
    assert_ne!(
        ways(&uncut),
        ways(&imported),
        "the cut must change something"
    );
    assert_eq!(ways(&cut), ways(&imported));
    let mut control: Vec<i64> = cut.control_nodes.keys().copied().collect();
    let mut want: Vec<i64> = imported.control_nodes.keys().copied().collect();
    control.sort();
    want.sort();
    assert_eq!(control, want);
    assert_eq!(cut.node_coords.len() as u64, imported.node_count);
}
