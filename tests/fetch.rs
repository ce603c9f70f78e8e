//! `bna fetch` against a local HTTP server on 127.0.0.1 serving the real files of `data/`:
//! downloads, resume of an interrupted transfer, corrupt cache entries, the shared cache
//! (a second fetch makes no request), offline mode, place search and the Overpass path.

use bna_test_support::http as common;

use std::path::{Path, PathBuf};

use bna_engine::progress::Counter;
use bna_fetch::{self as fetch, Area, FetchError, FetchRequest, Silent, Sources};
use common::{data, dc_routes, pbf_to_osm_xml, tiger_zip, Hit, Server, BLOCKS_PATH};
use sha2::{Digest, Sha256};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn request(server: &Server, area: Area, tmp: &Path) -> FetchRequest {
    let mut req = FetchRequest::new(area, tmp.join("project"), tmp.join("cache"));
    req.sources = server.sources();
    req
}

fn online() -> fetch::download::Options {
    fetch::download::Options {
        offline: false,
        timeouts: fetch::Timeouts::default(),
    }
}

fn offline() -> fetch::download::Options {
    fetch::download::Options {
        offline: true,
        ..online()
    }
}

fn dc_boundary() -> Area {
    Area::Boundary(data("us-dc/boundary-columbia-heights.geojson"))
}

#[test]
fn fetches_dc_inputs_verifies_them_and_never_fetches_twice() {
    let xml = pbf_to_osm_xml(&data("us-dc/dc-nw-2016-highways.osm.pbf"));
    let server = Server::start(dc_routes(xml.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let mut req = request(&server, dc_boundary(), tmp.path());
    req.state = Some("DC".into());

    let got = fetch::fetch_inputs(&req, &Silent).unwrap();

    // Every file arrived whole: the same bytes as the server's.
    let blocks = std::fs::read(got.blocks.as_ref().unwrap()).unwrap();
    assert_eq!(
        sha(&blocks),
        sha(&std::fs::read(data("us-dc/tl_2021_11_tabblock20.zip")).unwrap())
    );
    let jobs = std::fs::read(got.jobs.as_ref().unwrap()).unwrap();
    assert_eq!(
        sha(&jobs),
        sha(&std::fs::read(data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")).unwrap())
    );
    assert_eq!(sha(&std::fs::read(&got.osm).unwrap()), sha(&xml));
    assert_eq!(got.state_fips.as_deref(), Some("11"));
    // The latest LODES year was found by trying years downwards to the one the server has.
    assert_eq!(got.lodes_year, Some(2021));
    assert!(got
        .blocks
        .as_ref()
        .unwrap()
        .starts_with(tmp.path().join("project")));
    assert!(tmp.path().join("project/inputs.json").is_file());

    // The cache manifest records the SHA-256 of each download.
    let cached = tmp
        .path()
        .join("cache/tiger2020/TABBLOCK20/tl_2020_11_tabblock20.zip");
    let m: fetch::Manifest =
        serde_json::from_slice(&std::fs::read(fetch::download::manifest_path(&cached)).unwrap())
            .unwrap();
    assert_eq!(m.sha256, sha(&blocks));
    assert_eq!(m.size, blocks.len() as u64);

    // The Overpass query asked for boundary ⊕ 2680 m: the box reaches past the boundary.
    let hits = server.hits();
    let post = hits
        .iter()
        .find(|h| h.method == "POST")
        .expect("one Overpass query");
    assert!(post.body.starts_with("data="), "{}", post.body);
    assert!(
        post.body.contains("bbox%3A38.8") || post.body.contains("bbox:38.8"),
        "{}",
        post.body
    );
    let heads = hits.iter().filter(|h| h.method == "HEAD").count();
    assert!(heads >= 1, "LODES year discovery uses HEAD requests");

    // A second fetch, from another project sharing the cache: zero requests.
    let before = server.hits().len();
    let mut again = req.clone();
    again.dir = tmp.path().join("project2");
    let got2 = fetch::fetch_inputs(&again, &Silent).unwrap();
    assert_eq!(
        server.hits().len(),
        before,
        "cached files are never fetched twice"
    );
    assert_eq!(got2.lodes_year, Some(2021));
    assert_eq!(
        sha(&std::fs::read(got2.blocks.unwrap()).unwrap()),
        sha(&blocks)
    );

    // The analysis inputs read: the Overpass XML gives the same extract as the real PBF.
    let from_xml = bna_engine::ingest::osm::read_osm(&got.osm, &Counter::default()).unwrap();
    let from_pbf = bna_engine::ingest::osm::read_osm(
        &data("us-dc/dc-nw-2016-highways.osm.pbf"),
        &Counter::default(),
    )
    .unwrap();
    assert_eq!(from_xml.node_count, from_pbf.node_count);
    assert_eq!(from_xml.way_count, from_pbf.way_count);
    assert_eq!(from_xml.highway_ways.len(), from_pbf.highway_ways.len());
    assert_eq!(from_xml.control_nodes, from_pbf.control_nodes);
    assert_eq!(from_xml.bbox_ll, from_pbf.bbox_ll);
    let blocks = bna_engine::ingest::census::load_blocks(got.blocks.as_ref().unwrap()).unwrap();
    assert!(blocks.len() > 6000, "{}", blocks.len());

    // The whole analysis on the fetched inputs scores DC as it does from the bundled PBF.
    use bna_engine::pipeline::{self, PopulationChoice, SilentObserver};
    let run = |osm: Option<PathBuf>, name: &str| {
        let mut r = got.request(tmp.path().join(name));
        if let Some(o) = osm {
            r.osm = o;
        }
        // The bundled 2021 block file has no POP20 (data/us-dc/README.md).
        r.population = Some(PopulationChoice::Synthetic);
        pipeline::run(&r, &SilentObserver::default())
            .unwrap()
            .data
            .overall_scores
    };
    let fetched = run(None, "fetched.bna");
    let bundled = run(
        Some(data("us-dc/dc-nw-2016-highways.osm.pbf")),
        "bundled.bna",
    );
    assert!(!fetched.is_empty());
    assert_eq!(format!("{fetched:?}"), format!("{bundled:?}"));
}

#[test]
fn interrupted_transfer_resumes_with_a_range_request() {
    let mut routes = dc_routes(vec![]);
    let cut = 1_000_000;
    routes.cut_once.insert(BLOCKS_PATH.to_owned(), cut);
    let server = Server::start(routes);
    let tmp = tempfile::tempdir().unwrap();
    let entry = server
        .sources()
        .tiger(fetch::TigerLayer::Blocks, &fetch::find_state("DC").unwrap());

    let file =
        fetch::download::fetch(&tmp.path().join("cache"), &entry, &online(), &Silent).unwrap();

    let hits: Vec<Hit> = server
        .hits()
        .into_iter()
        .filter(|h| h.path == BLOCKS_PATH)
        .collect();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits[0].range, None);
    assert_eq!(
        hits[1].range.as_deref(),
        Some(format!("bytes={cut}-").as_str())
    );
    let want = std::fs::read(data("us-dc/tl_2021_11_tabblock20.zip")).unwrap();
    assert_eq!(sha(&std::fs::read(&file).unwrap()), sha(&want));
    assert!(!file.with_extension("zip.part").exists());
}

#[test]
fn damaged_cache_entry_is_refetched_online_and_named_offline() {
    let server = Server::start(dc_routes(vec![]));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let entry = server
        .sources()
        .lodes_wac(&fetch::find_state("DC").unwrap(), 2021);
    let file = fetch::download::fetch(&cache, &entry, &online(), &Silent).unwrap();
    let good = std::fs::read(&file).unwrap();

    // Same size, one byte changed: only the checksum can tell.
    let mut bad = good.clone();
    bad[500] ^= 0xff;
    std::fs::write(&file, &bad).unwrap();
    let e = fetch::download::fetch(&cache, &entry, &offline(), &Silent).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, FetchError::Corrupt { .. }), "{msg}");
    assert!(
        msg.contains(&file.display().to_string()) && msg.contains("SHA-256"),
        "{msg}"
    );

    // Truncated: the size tells.
    std::fs::write(&file, &good[..1000]).unwrap();
    let msg = fetch::download::fetch(&cache, &entry, &offline(), &Silent)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("1000 bytes instead of"), "{msg}");

    // Online, the damaged file is fetched again and verified.
    let before = server.hits().len();
    let again = fetch::download::fetch(&cache, &entry, &online(), &Silent).unwrap();
    assert_eq!(server.hits().len(), before + 1);
    assert_eq!(sha(&std::fs::read(again).unwrap()), sha(&good));
}

#[test]
fn offline_names_the_missing_file_and_where_to_put_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut req = FetchRequest::new(
        Area::Fips("5010675".into()),
        tmp.path().join("p"),
        tmp.path().join("cache"),
    );
    req.offline = true;
    // Nothing listens on these: offline must not even try.
    req.sources = Sources {
        tiger: "http://127.0.0.1:9/tiger".into(),
        lodes: "http://127.0.0.1:9/lodes".into(),
        overpass: "http://127.0.0.1:9/api".into(),
    };
    let msg = fetch::fetch_inputs(&req, &Silent).unwrap_err().to_string();
    let place = tmp
        .path()
        .join("cache/tiger2020/PLACE/tl_2020_50_place.zip");
    assert!(
        msg.contains("offline") && msg.contains(&place.display().to_string()),
        "{msg}"
    );
    assert!(
        msg.contains("http://127.0.0.1:9/tiger/PLACE/tl_2020_50_place.zip"),
        "{msg}"
    );

    // A file put where the message says is used, offline, without a manifest yet.
    let mut boundary_only = FetchRequest::new(
        dc_boundary(),
        tmp.path().join("p"),
        tmp.path().join("cache"),
    );
    boundary_only.offline = true;
    boundary_only.osm = Some(data("us-dc/dc-nw-2016-highways.osm.pbf"));
    boundary_only.state = Some("11".into());
    boundary_only.lodes_year = Some(2021);
    boundary_only.sources = req.sources.clone();
    let msg = fetch::fetch_inputs(&boundary_only, &Silent)
        .unwrap_err()
        .to_string();
    let blocks = tmp
        .path()
        .join("cache/tiger2020/TABBLOCK20/tl_2020_11_tabblock20.zip");
    assert!(msg.contains(&blocks.display().to_string()), "{msg}");
    std::fs::create_dir_all(blocks.parent().unwrap()).unwrap();
    std::fs::copy(data("us-dc/tl_2021_11_tabblock20.zip"), &blocks).unwrap();
    let lodes = tmp
        .path()
        .join("cache/lodes8/dc/dc_wac_S000_JT00_2021.csv.gz");
    std::fs::create_dir_all(lodes.parent().unwrap()).unwrap();
    std::fs::copy(data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz"), &lodes).unwrap();
    let got = fetch::fetch_inputs(&boundary_only, &Silent).unwrap();
    assert_eq!(got.osm, data("us-dc/dc-nw-2016-highways.osm.pbf"));
    assert!(got.boundary.is_absolute());
    assert!(
        fetch::download::manifest_path(&blocks).is_file(),
        "adopted with a checksum"
    );
}

#[test]
fn only_https_or_loopback_http() {
    use fetch::download::check_url;
    assert!(check_url("https://www2.census.gov/geo/tiger/TIGER2020/x.zip").is_ok());
    assert!(check_url("http://127.0.0.1:8080/x").is_ok());
    assert!(check_url("http://localhost/x").is_ok());
    let e = check_url("http://www2.census.gov/x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("use https"), "{e}");
    assert!(check_url("ftp://example.org/x").is_err());
}

#[test]
fn failed_overpass_answer_is_not_cached() {
    let answer = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm version=\"0.6\">\n<remark> runtime error: Query timed out in \"query\" at line 3 after 901 seconds. </remark>\n</osm>\n".to_vec();
    let server = Server::start(dc_routes(answer));
    let tmp = tempfile::tempdir().unwrap();
    let req = request(&server, dc_boundary(), tmp.path());
    let msg = fetch::fetch_inputs(&req, &Silent).unwrap_err().to_string();
    assert!(
        msg.contains("Query timed out") && msg.contains("--osm"),
        "{msg}"
    );
    let posts = |s: &Server| s.hits().iter().filter(|h| h.method == "POST").count();
    assert_eq!(posts(&server), 1);
    // Asked again next time, not taken from the cache.
    let _ = fetch::fetch_inputs(&req, &Silent);
    assert_eq!(posts(&server), 2);
}

// ---- place search ----

#[test]
fn place_search_by_name_and_fips_with_county_subdivision_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let burlington =
        bna_engine::ingest::boundary::load_boundary(&data("us-burlington-vt/boundary.geojson"))
            .unwrap();
    // A second, different polygon: one real census block from the DC file, for the town.
    let block = bna_engine::ingest::census::load_blocks(&data("us-dc/tl_2021_11_tabblock20.zip"))
        .unwrap()
        .remove(0)
        .geom_ll;
    let place = tiger_zip(
        tmp.path(),
        "tl_2020_50_place",
        &[
            (
                &[
                    ("STATEFP", "50"),
                    ("PLACEFP", "10675"),
                    ("GEOID", "5010675"),
                    ("NAME", "Burlington"),
                    ("NAMELSAD", "Burlington city"),
                ],
                burlington.clone(),
            ),
            (
                &[
                    ("STATEFP", "50"),
                    ("PLACEFP", "66175"),
                    ("GEOID", "5066175"),
                    ("NAME", "South Burlington"),
                    ("NAMELSAD", "South Burlington city"),
                ],
                block.clone(),
            ),
        ],
    );
    let cousub = tiger_zip(
        tmp.path(),
        "tl_2020_50_cousub",
        &[(
            &[
                ("STATEFP", "50"),
                ("COUNTYFP", "007"),
                ("COUSUBFP", "24175"),
                ("GEOID", "5000724175"),
                ("NAME", "Essex"),
                ("NAMELSAD", "Essex town"),
            ],
            block.clone(),
        )],
    );
    let mut routes = dc_routes(vec![]);
    routes
        .files
        .insert("/tiger/PLACE/tl_2020_50_place.zip".into(), place);
    routes
        .files
        .insert("/tiger/COUSUB/tl_2020_50_cousub.zip".into(), cousub);
    let server = Server::start(routes);

    let search = |area: Area, sub: &str| {
        let mut req = request(&server, area, tmp.path());
        req.dir = tmp.path().join(sub);
        // Blocks and jobs are not the point here: give the state's files as cached already.
        req.osm = Some(data("us-dc/dc-nw-2016-highways.osm.pbf"));
        req.lodes_year = Some(2021);
        for (src, rel) in [
            (
                "us-dc/tl_2021_11_tabblock20.zip",
                "tiger2020/TABBLOCK20/tl_2020_50_tabblock20.zip",
            ),
            (
                "us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz",
                "lodes8/vt/vt_wac_S000_JT00_2021.csv.gz",
            ),
        ] {
            let p = req.cache_dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::copy(data(src), p).unwrap();
        }
        fetch::fetch_inputs(&req, &Silent)
    };

    let got = search(Area::Place("burlington, Vermont".into()), "a").unwrap();
    assert_eq!(got.city_fips.as_deref(), Some("5010675"));
    assert_eq!(got.place_name.as_deref(), Some("Burlington city"));
    assert_eq!(got.state_fips.as_deref(), Some("50"));
    let written = bna_engine::ingest::boundary::load_boundary(&got.boundary).unwrap();
    use geo::Area as _;
    assert!((written.unsigned_area() - burlington.unsigned_area()).abs() < 1e-9);
    let gj = std::fs::read_to_string(&got.boundary).unwrap();
    assert!(
        gj.contains("\"GEOID\":\"5010675\"") && gj.contains("TIGER/Line 2020 places"),
        "{gj}"
    );

    // Again into the same folder: the earlier boundary.geojson is ours and replaced.
    let again = search(Area::Place("burlington, Vermont".into()), "a").unwrap();
    assert_eq!(again.boundary, got.boundary);
    // A boundary.geojson of the user's own (or a link) is left alone, named.
    let own = tmp.path().join("f/boundary.geojson");
    std::fs::create_dir_all(own.parent().unwrap()).unwrap();
    std::fs::write(&own, "{\"type\":\"FeatureCollection\",\"features\":[]}").unwrap();
    let err = search(Area::Place("burlington, Vermont".into()), "f").unwrap_err();
    assert!(err.is_bad_input(), "{err}");
    assert!(
        err.to_string()
            .contains("boundary.geojson is a file bna fetch did not write"),
        "{err}"
    );
    assert!(std::fs::read_to_string(&own)
        .unwrap()
        .contains("\"features\":[]"));

    let got = search(Area::Fips("5066175".into()), "b").unwrap();
    assert_eq!(got.place_name.as_deref(), Some("South Burlington city"));

    // Not a place: found among the county subdivisions, by name or by state + COUSUBFP.
    let got = search(Area::Place("Essex, VT".into()), "c").unwrap();
    assert_eq!(got.place_name.as_deref(), Some("Essex town"));
    assert_eq!(
        got.city_fips, None,
        "a county subdivision has no place FIPS"
    );
    let got = search(Area::Fips("5024175".into()), "d").unwrap();
    assert_eq!(got.place_name.as_deref(), Some("Essex town"));

    let msg = search(Area::Place("Atlantis, VT".into()), "e")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("\"Atlantis, VT\"") && msg.contains("no such place"),
        "{msg}"
    );
    // The place and county subdivision files were each downloaded once.
    let gets = |p: &str| server.hits().iter().filter(|h| h.path == p).count();
    assert_eq!(gets("/tiger/PLACE/tl_2020_50_place.zip"), 1);
    assert_eq!(gets("/tiger/COUSUB/tl_2020_50_cousub.zip"), 1);
}

#[test]
fn place_search_reads_a_real_tiger_zip() {
    // The bundled TIGER tabblock20 zip has the place file's layout (zip → .shp/.dbf/.prj,
    // suffixed field names): search it for a block by GEOID and by its (ambiguous) name.
    let zip = data("us-dc/tl_2021_11_tabblock20.zip");
    let first = bna_engine::ingest::census::load_blocks(&zip)
        .unwrap()
        .remove(0);
    let state = fetch::find_state("DC").unwrap();
    let found = fetch::place::search_tiger(
        &zip,
        &fetch::PlaceQuery::Fips {
            state,
            fips: first.geoid.clone(),
        },
    )
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].geoid, first.geoid);
    assert_eq!(found[0].geom, first.geom_ll);
    let many = fetch::place::search_tiger(
        &zip,
        &fetch::PlaceQuery::Name {
            state,
            name: found[0].name.clone(),
        },
    )
    .unwrap();
    assert!(
        many.len() > 1,
        "block names repeat across tracts: {}",
        many.len()
    );
}

#[test]
fn cli_fetch_offline_with_given_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bna"))
        .args(["fetch", "--boundary"])
        .arg(data("us-dc/boundary-columbia-heights.geojson"))
        .arg("--osm")
        .arg(data("us-dc/dc-nw-2016-highways.osm.pbf"))
        .arg("--dir")
        .arg(tmp.path().join("p"))
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .args(["--offline", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("next: bna analyze --boundary"), "{stdout}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bna"))
        .args([
            "fetch",
            "--place",
            "Burlington, VT",
            "--offline",
            "--quiet",
            "--dir",
        ])
        .arg(tmp.path().join("p"))
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("tl_2020_50_place.zip") && stderr.contains("put it at"),
        "{stderr}"
    );
}

/// Finding the latest LODES year needs the server; when it cannot be reached the failure is
/// the network's (retryable, e.g. by AWS Batch), not the user's, and says how to avoid it.
#[test]
fn unreachable_lodes_server_is_retryable_not_bad_input() {
    let xml = pbf_to_osm_xml(&data("us-dc/dc-nw-2016-highways.osm.pbf"));
    let server = Server::start(dc_routes(xml));
    let tmp = tempfile::tempdir().unwrap();
    let mut req = request(&server, dc_boundary(), tmp.path());
    req.state = Some("DC".into());
    // Nothing listens on the discard port.
    req.sources.lodes = "http://127.0.0.1:9/lodes".into();

    let err = fetch::fetch_inputs(&req, &Silent).unwrap_err();
    assert!(!err.is_bad_input(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1:9/lodes"), "{msg}");
    assert!(msg.contains("give the year"), "{msg}");
}

/// The timeouts are the request's (`FetchRequest::timeouts`, `download::Options`): a server
/// that accepts the connection and never answers fails within them, as a transient failure
/// (retryable by AWS Batch), not as the user's mistake.
#[test]
fn a_silent_server_fails_within_the_timeouts_given() {
    use std::time::{Duration, Instant};
    let mut routes = dc_routes(vec![]);
    routes
        .faults
        .insert(BLOCKS_PATH.to_owned(), common::Fault::NeverAnswer);
    let server = Server::start(routes);
    let tmp = tempfile::tempdir().unwrap();
    let mut req = request(&server, dc_boundary(), tmp.path());
    req.state = Some("DC".into());
    req.lodes_year = Some(2021);
    req.osm = Some(data("us-dc/dc-nw-2016-highways.osm.pbf"));
    req.timeouts = fetch::Timeouts::all(Duration::from_millis(300));

    let started = Instant::now();
    let err = fetch::fetch_inputs(&req, &Silent).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, FetchError::Stalled { .. }), "{err}");
    assert!(!err.is_bad_input(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("tl_2020_11_tabblock20.zip") && msg.contains("no data for 300ms"),
        "{msg}"
    );
}
