//! End to end through the real `bna` binary on the bundled demo cities: scores recomputed
//! independently from the project's block table, QGIS-ready spatial tables, checkpoints, and
//! bad input that fails cleanly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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

fn dc_args(out: &Path) -> Vec<String> {
    [
        "analyze",
        "--quiet",
        "--boundary",
        data("us-dc/boundary-columbia-heights.geojson")
            .to_str()
            .unwrap(),
        "--osm",
        data("us-dc/dc-nw-2016-highways.osm.pbf").to_str().unwrap(),
        "--blocks",
        data("us-dc/tl_2021_11_tabblock20.zip").to_str().unwrap(),
        "--jobs",
        data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")
            .to_str()
            .unwrap(),
        "--population",
        "synthetic",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

fn run_ok(args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = bna(&args);
    assert!(
        o.status.success(),
        "bna {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

struct Analysed {
    _dir: tempfile::TempDir,
    project: PathBuf,
    stdout: String,
}

fn dc() -> &'static Analysed {
    static DC: OnceLock<Analysed> = OnceLock::new();
    DC.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("dc.bna");
        let stdout = run_ok(&dc_args(&project));
        Analysed {
            _dir: dir,
            project,
            stdout,
        }
    })
}

fn helsinki() -> &'static Analysed {
    static HEL: OnceLock<Analysed> = OnceLock::new();
    HEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("helsinki.bna");
        let args = [
            "analyze",
            "--quiet",
            "--boundary",
            data("helsinki/boundary-centre.geojson").to_str().unwrap(),
            "--osm",
            data("helsinki/helsinki-center.osm.pbf").to_str().unwrap(),
            "--out",
            project.to_str().unwrap(),
        ]
        .map(String::from);
        let stdout = run_ok(&args);
        Analysed {
            _dir: dir,
            project,
            stdout,
        }
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

fn score(c: &Connection, id: &str) -> Option<f64> {
    c.query_row(
        "SELECT score_original FROM neighborhood_overall_scores WHERE score_id = ?1",
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

/// Population-weighted mean of a block score column over blocks passing `filter`, computed
/// here from the stored block table, independently of the engine's aggregation code.
fn weighted(c: &Connection, column: &str, filter: &str) -> f64 {
    let sql = format!(
        "SELECT COALESCE(SUM(pop20 * COALESCE({column}, 0)), 0), COALESCE(SUM(pop20), 0) \
         FROM neighborhood_census_blocks WHERE {filter}"
    );
    let (num, den): (f64, f64) = c
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

fn assert_city_scores_match_blocks(project: &Path) {
    let c = open_spatial(project);
    let overall = weighted(&c, "overall_score / 100.0", "reachable_blocks > 0");
    let stored = score(&c, "overall_score").expect("overall score");
    assert!(
        (overall - stored).abs() <= 5e-5,
        "overall: recomputed {overall} vs stored {stored}"
    );
    assert!(stored > 0.0 && stored <= 1.0, "overall {stored}");
    let people = weighted(&c, "pop_score", "1");
    let stored_people = score(&c, "people").unwrap_or(0.0);
    assert!(
        (people - stored_people).abs() <= 5e-5,
        "people: recomputed {people} vs stored {stored_people}"
    );
    for (id, p) in [("retail", "retail"), ("transit", "transit")] {
        let mean = weighted(&c, &format!("{p}_score"), &format!("{p}_high_stress > 0"));
        let stored = score(&c, id).unwrap_or(0.0);
        assert!((mean - stored).abs() <= 5e-5, "{id}: {mean} vs {stored}");
    }
}

fn assert_spatial_indexes_valid(project: &Path) {
    let c = open_spatial(project);
    let mut stmt = c
        .prepare("SELECT f_table_name, f_geometry_column FROM geometry_columns")
        .unwrap();
    let cols: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in [
        "neighborhood_ways",
        "neighborhood_census_blocks",
        "neighborhood_boundary",
    ] {
        assert!(
            cols.iter().any(|(n, _)| n == t),
            "{t} not registered: {cols:?}"
        );
    }
    for (t, g) in cols {
        let ok: Option<i64> = c
            .query_row("SELECT CheckSpatialIndex(?1, ?2)", [&t, &g], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, Some(1), "CheckSpatialIndex({t}, {g})");
    }
}

#[test]
fn dc_end_to_end_scores_equal_block_aggregation() {
    let dc = dc();
    assert!(dc.stdout.contains("overall_score"), "{}", dc.stdout);
    assert!(dc.stdout.contains("timing: total"), "{}", dc.stdout);
    assert_city_scores_match_blocks(&dc.project);
}

#[test]
fn dc_has_low_and_high_stress_segments_and_jobs() {
    let c = open_spatial(&dc().project);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(count("SELECT COUNT(*) FROM neighborhood_ways WHERE ft_seg_stress = 1") > 100);
    assert!(count("SELECT COUNT(*) FROM neighborhood_ways WHERE ft_seg_stress = 3") > 100);
    assert!(count("SELECT COUNT(*) FROM neighborhood_census_blocks WHERE emp_high_stress > 0") > 0);
    // Employment comes from LODES: the city employment sub-score exists.
    assert!(score(&c, "opportunity_employment").is_some());
}

#[test]
fn dc_project_opens_in_spatialite_with_valid_indexes() {
    assert_spatial_indexes_valid(&dc().project);
}

#[test]
fn helsinki_end_to_end_with_destinations() {
    let hel = helsinki();
    assert!(
        hel.stdout.contains("population: synthetic"),
        "{}",
        hel.stdout
    );
    assert_city_scores_match_blocks(&hel.project);
    assert_spatial_indexes_valid(&hel.project);
    let c = open_spatial(&hel.project);
    let categories = [
        "schools",
        "colleges",
        "universities",
        "doctors",
        "dentists",
        "hospitals",
        "pharmacies",
        "supermarkets",
        "social_services",
        "parks",
        "community_centers",
        "retail",
        "transit",
    ];
    let with_destinations = categories
        .iter()
        .filter(|t| {
            let n: i64 = c
                .query_row(&format!("SELECT COUNT(*) FROM neighborhood_{t}"), [], |r| {
                    r.get(0)
                })
                .unwrap();
            n > 0
        })
        .count();
    assert!(
        with_destinations >= 8,
        "only {with_destinations} categories"
    );
}

#[test]
fn open_names_a_missing_project_file() {
    let out = bna(&["open", "/nonexistent/city.bna"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/city.bna: no such project file"),
        "{err}"
    );
}

/// The offline basemap's water: Helsinki's lakes and shores near the boundary, stored as a
/// registered spatial layer, read back by the app's loader, and never scored as destinations.
#[test]
fn helsinki_basemap_water_is_stored_and_read_back() {
    use geo::{BoundingRect, Intersects};
    let hel = helsinki();
    let project = bna_engine::store::Project::create_or_open(&hel.project).unwrap();
    let water = project.basemap_water().unwrap();
    assert!(!water.is_empty(), "Helsinki centre has water areas");
    let results = project.read_results().unwrap().unwrap();
    // Boundary ⊕ 2680 m, generously in degrees at 60° N (0.025° lat ≈ 2.8 km, 0.05° lon ≈ 2.8 km).
    let b = results.boundary_ll.bounding_rect().unwrap();
    let near = geo::Rect::new(
        (b.min().x - 0.05, b.min().y - 0.025),
        (b.max().x + 0.05, b.max().y + 0.025),
    );
    for w in &water {
        assert!(
            w.intersects(&near),
            "water far from the boundary: {:?}",
            w.bounding_rect()
        );
    }
    let c = open_spatial(&hel.project);
    let registered: i64 = c
        .query_row(
            "SELECT count(*) FROM geometry_columns WHERE f_table_name = 'bna_basemap_water' AND srid = 4326",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(registered, 1);
    let rows: i64 = c
        .query_row("SELECT count(*) FROM bna_basemap_water", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as usize, water.len());
    let water_in_parks: i64 = c
        .query_row(
            "SELECT count(*) FROM neighborhood_parks WHERE osm_id IN (SELECT osm_id FROM bna_basemap_water)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(water_in_parks, 0, "water areas are not destinations");
}

#[test]
fn rerun_with_unchanged_inputs_restores_checkpoints_and_same_scores() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("dc.bna");
    let first = run_ok(&dc_args(&project));
    let second = run_ok(&dc_args(&project));
    assert!(!first.contains("(checkpoint)"), "{first}");
    for stage in [
        "osm",
        "blocks",
        "stress",
        "connectivity",
        "destinations",
        "scoring",
    ] {
        assert!(second.contains(&format!("{stage} ")), "{second}");
    }
    assert!(second.matches("(checkpoint)").count() >= 6, "{second}");
    let table = |s: &str| {
        s.lines()
            .take_while(|l| !l.starts_with("timing"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(table(&first), table(&second));
}

#[test]
fn scores_command_prints_json() {
    let out = run_ok(&[
        "scores".into(),
        dc().project.to_string_lossy().into_owned(),
        "--json".into(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["overall_scores"].as_array().unwrap();
    assert_eq!(rows.len(), 23);
}

fn parameters(project: &Path) -> serde_json::Value {
    let out = run_ok(&[
        "scores".into(),
        project.to_string_lossy().into_owned(),
        "--json".into(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["metadata"]["parameters"].clone()
}

#[test]
fn the_residential_default_speed_is_recorded_as_a_number_with_its_source() {
    // DC (state FIPS 11, from the blocks) has a state-table default; Helsinki has none.
    let dc = parameters(&dc().project);
    assert_eq!(dc["residential_speed_default_mph"], "20", "{dc}");
    let source = dc["residential_speed_default_source"].as_str().unwrap();
    assert!(
        source.contains("state table") && source.ends_with(" 11"),
        "{source}"
    );
    let hel = parameters(&helsinki().project);
    assert_eq!(hel["residential_speed_default_mph"], "none", "{hel}");
    let source = hel["residential_speed_default_source"].as_str().unwrap();
    assert!(source.starts_with("none:"), "{source}");
}

#[test]
fn export_writes_the_reference_output_set() {
    let dir = tempfile::tempdir().unwrap();
    let p = dc().project.to_string_lossy().into_owned();
    for (format, expect) in [
        ("geojson", "neighborhood_ways.geojson"),
        ("csv", "neighborhood_overall_scores.csv"),
        ("shapefile", "neighborhood_ways.shp"),
        ("gpkg", ".gpkg"),
    ] {
        let d = dir.path().join(format);
        let out = run_ok(&[
            "export".into(),
            p.clone(),
            "--format".into(),
            format.into(),
            "--dir".into(),
            d.to_string_lossy().into_owned(),
        ]);
        assert!(out.lines().any(|l| l.ends_with(expect)), "{format}: {out}");
    }
}

/// Each bad input: non-zero exit, a one-line reason naming the offending file, no project.
#[test]
fn bad_input_fails_cleanly_without_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let not_pbf = dir.path().join("notes.osm.pbf");
    std::fs::write(&not_pbf, "this is not a pbf").unwrap();
    let far = dir.path().join("far.geojson");
    std::fs::write(
        &far,
        r#"{"type":"Polygon","coordinates":[[[2.0,48.0],[2.1,48.0],[2.1,48.1],[2.0,48.1],[2.0,48.0]]]}"#,
    )
    .unwrap();
    let boundary = data("us-dc/boundary-columbia-heights.geojson");
    let osm = data("us-dc/dc-nw-2016-highways.osm.pbf");
    let blocks = data("us-dc/tl_2021_11_tabblock20.zip");
    let missing = dir.path().join("missing.osm.pbf");
    let cases: Vec<(Vec<&Path>, &Path)> = vec![
        (vec![&boundary, &missing], &missing),
        (vec![&boundary, &not_pbf], &not_pbf),
        (vec![&far, &osm], &osm),
        (vec![&boundary, &osm, &blocks], &blocks),
    ];
    for (i, (inputs, culprit)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("p{i}.bna"));
        let mut args = vec![
            "analyze".to_string(),
            "--quiet".into(),
            "--boundary".into(),
            inputs[0].to_string_lossy().into_owned(),
            "--osm".into(),
            inputs[1].to_string_lossy().into_owned(),
        ];
        if let Some(b) = inputs.get(2) {
            args.extend(["--blocks".into(), b.to_string_lossy().into_owned()]);
        }
        args.extend(["--out".into(), out.to_string_lossy().into_owned()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = bna(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {i}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "case {i}: one line expected: {err}");
        assert!(
            lines[0].contains(culprit.to_str().unwrap()),
            "case {i}: should name {}: {err}",
            culprit.display()
        );
        assert!(!out.exists(), "case {i}: half-written project left behind");
    }
}

/// `bna analyze` arguments for the reference's DC inputs (the region extract, before either of
/// the reference's cuts), with `--osm-clip mode` when given.
fn reference_region_args(out: &Path, clip: Option<&str>) -> Vec<String> {
    let d = |f: &str| data(&format!("reference-bsa-dc/{f}")).display().to_string();
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "--quiet".into(),
        "--boundary".into(),
        d("boundary_as_given_to_bsa.geojson"),
        "--osm".into(),
        d("washington-district-of-columbia-united-states.osm.gz"),
        "--blocks".into(),
        d("tl_2020_11_tabblock20.zip"),
        "--jobs".into(),
        d("dc_od_main_JT00_2021.csv.gz"),
        "--out".into(),
        out.display().to_string(),
    ];
    if let Some(mode) = clip {
        args.extend(["--osm-clip".into(), mode.into()]);
    }
    args
}

fn segment_count(project: &Path) -> i64 {
    Connection::open(project)
        .unwrap()
        .query_row("SELECT count(*) FROM neighborhood_ways", [], |r| r.get(0))
        .unwrap()
}

/// The stages a run restored from checkpoints, from its timing line.
fn restored_stages(stdout: &str) -> Vec<String> {
    let timing = stdout
        .lines()
        .find(|l| l.starts_with("timing:"))
        .expect("timing line");
    timing
        .split(", ")
        .filter(|part| part.ends_with("(checkpoint)"))
        .filter_map(|part| part.split_whitespace().rev().nth(2).map(String::from))
        .collect()
}

#[test]
fn osm_clip_mode_is_recorded_shown_and_never_served_a_stale_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("dc.bna");
    let scores_text = || run_ok(&["scores".into(), project.display().to_string()]);
    let scores_json = || -> serde_json::Value {
        let out = run_ok(&[
            "scores".into(),
            project.display().to_string(),
            "--json".into(),
        ]);
        serde_json::from_str(&out).unwrap()
    };

    // The default is the reference's cut; the box it cut to is recorded with it.
    run_ok(&reference_region_args(&project, None));
    let boundary_segments = segment_count(&project);
    let json = scores_json();
    let params = &json["metadata"]["parameters"];
    assert_eq!(params["osm_clip"], "boundary", "{params}");
    let bbox: Vec<f64> = params["osm_clip_bbox"]
        .as_str()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(bbox.len(), 4);
    assert!(bbox[0] < bbox[2] && bbox[1] < bbox[3], "{bbox:?}");
    assert!(params.get("osm_clip_buffer_m").is_none(), "{params}");
    let text = scores_text();
    assert!(text.contains("OSM clip: boundary"), "{text}");

    // Another mode on the same project: the network is rebuilt, the blocks are not.
    let buffer = run_ok(&reference_region_args(&project, Some("buffer")));
    let restored = restored_stages(&buffer);
    assert!(restored.contains(&"blocks".to_string()), "{buffer}");
    assert!(!restored.contains(&"osm".to_string()), "{buffer}");
    let buffer_segments = segment_count(&project);
    assert!(
        buffer_segments > boundary_segments,
        "the routing ring adds roads: {buffer_segments} vs {boundary_segments}"
    );
    assert_eq!(
        scores_json()["metadata"]["parameters"]["osm_clip"],
        "buffer"
    );
    assert!(scores_text().contains("OSM clip: buffer"));

    // And back: the boundary network is rebuilt again (one checkpoint per stage), then an
    // unchanged re-run restores it.
    let back = run_ok(&reference_region_args(&project, Some("boundary")));
    assert!(
        !restored_stages(&back).contains(&"osm".to_string()),
        "{back}"
    );
    assert_eq!(segment_count(&project), boundary_segments);
    let again = run_ok(&reference_region_args(&project, Some("boundary")));
    assert!(
        restored_stages(&again).contains(&"osm".to_string()),
        "{again}"
    );
}

#[test]
fn an_unknown_osm_clip_mode_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = reference_region_args(&dir.path().join("x.bna"), None);
    args.extend(["--osm-clip".into(), "ring".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = bna(&args);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("boundary") && err.contains("buffer"), "{err}");
    assert!(!dir.path().join("x.bna").exists());
}
