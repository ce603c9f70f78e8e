//! Bundles with download instructions: the worker fetches the inputs itself (from the local
//! HTTP server in `common`, serving the real DC files), through the real `bna` binary.

use bna_test_support::http as common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bna_engine::store::Project;
use bna_fetch::{self as fetch, Area, FetchRequest, Silent};
use common::{data, Server};

fn bna(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(args)
        .env("BNA_CACHE_DIR", dir.join("cache"))
        .env("BNA_CLOUD_CONFIG", dir.join("no-cloud.json"))
        .stdin(Stdio::null())
        .output()
        .expect("run bna")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// TIGER place and county subdivision files for DC whose one "Washington" has the Columbia
/// Heights polygon (the area of the bundled DC extract), plus the real blocks, jobs and the
/// Overpass answer built from the DC extract.
fn dc_server(dir: &Path) -> Server {
    let area = bna_engine::ingest::boundary::load_boundary(&data(
        "us-dc/boundary-columbia-heights.geojson",
    ))
    .expect("boundary");
    let mut routes = common::dc_routes(common::pbf_to_osm_xml(&data(
        "us-dc/dc-nw-2016-highways.osm.pbf",
    )));
    for (layer, stem) in [
        ("PLACE", "tl_2020_11_place"),
        ("COUSUB", "tl_2020_11_cousub"),
    ] {
        let zip = common::tiger_zip(
            dir,
            stem,
            &[(
                &[
                    ("STATEFP", "11"),
                    ("PLACEFP", "50000"),
                    ("GEOID", "1150000"),
                    ("NAME", "Washington"),
                    ("NAMELSAD", "Washington city"),
                ],
                area.clone(),
            )],
        );
        routes
            .files
            .insert(format!("/tiger/{layer}/{stem}.zip"), zip);
    }
    Server::start(routes)
}

fn overall(project: &Path) -> Option<f64> {
    Project::create_or_open(project)
        .expect("open project")
        .overall_scores()
        .expect("scores")
        .into_iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized)
}

fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(find(&p, name));
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
    out
}

#[test]
fn batch_submit_local_by_fips_downloads_and_scores_like_local_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = dc_server(d);
    let s = server.sources();
    let project = d.join("dc.bna");
    let out = bna(
        d,
        &[
            "batch",
            "submit",
            "--local",
            "--organization",
            "Test",
            "--fips",
            "1150000",
            "--lodes-year",
            "2021",
            // The bundled TIGER file has no POP20 (see data/us-dc/README.md).
            "--population",
            "synthetic",
            "--base-url-tiger",
            &s.tiger,
            "--base-url-lodes",
            &s.lodes,
            "--base-url-overpass",
            &s.overpass,
            "--out",
            project.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Only the manifest was uploaded: the worker downloaded the data.
    let bundles = find(d, "bundle.json");
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let input = bundles[0].parent().unwrap();
    assert_eq!(std::fs::read_dir(input).unwrap().count(), 1);
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundles[0]).unwrap()).unwrap();
    assert_eq!(bundle["download"]["area"]["fips"], "1150000");
    assert!(server.hits().iter().any(|h| h.method == "POST"));

    // The download is the first stage reported.
    let progress: serde_json::Value = serde_json::from_slice(
        &std::fs::read(input.parent().unwrap().join("output/progress.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(progress["state"], "succeeded");
    assert_eq!(progress["stages"][0]["stage"], "download");
    assert_eq!(
        progress["stages"].as_array().unwrap().len(),
        9,
        "{progress}"
    );
    assert_eq!(progress["stages"][0]["finished"], true);

    // The same files (now cached: offline) through `bna analyze`.
    let mut req = FetchRequest::new(
        Area::Fips("1150000".into()),
        d.join("fetched"),
        d.join("cache"),
    );
    req.offline = true;
    req.lodes_year = Some(2021);
    req.sources = s.clone();
    let got = fetch::fetch_inputs(&req, &Silent).expect("fetch from the cache");
    let local = d.join("local.bna");
    let path = |p: &Option<PathBuf>| p.as_ref().unwrap().to_str().unwrap().to_owned();
    let args = [
        "analyze".to_owned(),
        "--quiet".into(),
        "--population".into(),
        "synthetic".into(),
        "--boundary".into(),
        path(&Some(got.boundary.clone())),
        "--osm".into(),
        path(&Some(got.osm.clone())),
        "--blocks".into(),
        path(&got.blocks),
        "--jobs".into(),
        path(&got.jobs),
        "--city-fips".into(),
        got.city_fips.clone().unwrap(),
        "--state-fips".into(),
        got.state_fips.clone().unwrap(),
        "--out".into(),
        local.to_str().unwrap().into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = bna(d, &args);
    assert!(out.status.success(), "{}", text(&out));

    let cloud = overall(&project);
    assert!(cloud.is_some_and(|v| v > 0.0), "{cloud:?}");
    assert_eq!(cloud, overall(&local));
}

/// Runs `bna worker` on a bundle that downloads `area` from `tiger`; returns its output
/// and the output folder.
fn worker_downloading(d: &Path, area: serde_json::Value, tiger: &str) -> (Output, PathBuf) {
    let input = d.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let bundle = serde_json::json!({
        "format": bna_cloud::bundle::BUNDLE_FORMAT,
        "organization": "Test",
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": "test",
        "download": {"area": area, "lodes_year": 2021, "sources": {"tiger": tiger}},
    });
    std::fs::write(input.join("bundle.json"), bundle.to_string()).unwrap();
    let output = d.join("output");
    let out = bna(
        d,
        &[
            "worker",
            "--input",
            &file_uri(&input),
            "--output",
            &file_uri(&output),
        ],
    );
    (out, output)
}

#[test]
fn worker_with_an_unreachable_source_exits_75_to_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on the discard port.
    let (out, output) = worker_downloading(
        dir.path(),
        serde_json::json!({"fips": "1150000"}),
        "http://127.0.0.1:9/tiger",
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    let progress: serde_json::Value =
        serde_json::from_slice(&std::fs::read(output.join("progress.json")).unwrap()).unwrap();
    assert_eq!(progress["error"]["kind"], "transient");
    assert!(
        text(&out).contains("127.0.0.1:9/tiger/PLACE"),
        "{}",
        text(&out)
    );
}

#[test]
fn worker_with_an_unknown_place_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = dc_server(d);
    let (out, output) = worker_downloading(
        d,
        serde_json::json!({"place": "Atlantis, DC"}),
        &server.sources().tiger,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Atlantis"), "{}", text(&out));
    let progress: serde_json::Value =
        serde_json::from_slice(&std::fs::read(output.join("progress.json")).unwrap()).unwrap();
    assert_eq!(progress["state"], "failed");
    assert_eq!(progress["error"]["kind"], "bad_input");
    assert!(
        progress["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Atlantis")),
        "{progress}"
    );
}

#[test]
fn own_boundary_with_state_downloads_blocks_and_jobs_and_supplied_osm_wins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = dc_server(d);
    let s = server.sources();
    let boundary = data("us-dc/boundary-columbia-heights.geojson");
    let osm = data("us-dc/dc-nw-2016-highways.osm.pbf");
    let common = |out: &Path| {
        vec![
            "--boundary".to_owned(),
            boundary.to_str().unwrap().into(),
            "--osm".into(),
            osm.to_str().unwrap().into(),
            // The bundled TIGER file has no POP20 (see data/us-dc/README.md).
            "--population".into(),
            "synthetic".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let project = d.join("dc.bna");
    let mut args: Vec<String> = [
        "batch",
        "submit",
        "--local",
        "--organization",
        "Test",
        "--state",
        "DC",
        "--lodes-year",
        "2021",
        "--base-url-tiger",
        &s.tiger,
        "--base-url-lodes",
        &s.lodes,
        "--base-url-overpass",
        &s.overpass,
    ]
    .map(String::from)
    .to_vec();
    args.extend(common(&project));
    let out = bna(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out));
    let hits: Vec<String> = server.hits().into_iter().map(|h| h.path).collect();
    assert!(hits.iter().any(|p| p == common::BLOCKS_PATH), "{hits:?}");
    assert!(hits.iter().any(|p| p == common::LODES_PATH), "{hits:?}");
    assert!(
        !hits.iter().any(|p| p.contains("interpreter")),
        "the supplied extract replaces the Overpass query: {hits:?}"
    );

    // The same files the server holds, analysed here.
    let local = d.join("local.bna");
    let mut args: Vec<String> = ["analyze", "--quiet", "--state-fips", "11"]
        .map(String::from)
        .to_vec();
    args.extend(common(&local));
    args.extend([
        "--blocks".into(),
        data("us-dc/tl_2021_11_tabblock20.zip")
            .to_str()
            .unwrap()
            .into(),
        "--jobs".into(),
        data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")
            .to_str()
            .unwrap()
            .into(),
    ]);
    let out = bna(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out));
    let cloud = overall(&project);
    assert!(cloud.is_some_and(|v| v > 0.0), "{cloud:?}");
    assert_eq!(cloud, overall(&local));
}
