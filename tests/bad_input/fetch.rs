//! `bna fetch` against a server that stalls, trickles, never answers, lies about what it sends
//! or redirects to plain http: each fails within seconds with one line naming the URL and the
//! fix, nothing it sent is adopted into the cache, the next run asks again, and once the server
//! behaves the fetch succeeds. The server is `tests/common` on 127.0.0.1 (and 127.0.0.2 as a
//! redirect target), serving the real DC files of `data/`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::{dc_routes, pbf_to_osm_xml, Fault, Server, BLOCKS_PATH, LODES_PATH};
use crate::support::{assert_one_line_failure, bna_env, data};

/// Every wait of a download in these runs (production: 30 s to connect, 60 s of silence).
const TIMEOUT_MS: &str = "1000";

/// The longest a failing run may take: the 1 s waits, the retries of a broken transfer and
/// the start of the binary, with room for a loaded machine.
const BOUND: Duration = Duration::from_secs(15);

const OVERPASS_PATH: &str = "/api/interpreter";

/// What the Overpass API answers (200 OK) when the query runs out of time.
const TIMED_OUT: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm version=\"0.6\" generator=\"Overpass API\">\n<meta osm_base=\"2024-05-07T12:00:00Z\"/>\n\n  <remark> runtime error: Query timed out in \"query\" at line 3 after 2 seconds. </remark>\n\n</osm>\n";

/// What the Overpass API answers (200 OK) for a box without any OpenStreetMap data.
const EMPTY_ANSWER: &[u8] = b"<osm version=\"0.6\" generator=\"Overpass API\">\n</osm>";

/// Not an argument of `bna`: tells `fetch_from` to leave out `--lodes-year`, so that the
/// latest year is looked for on the server.
const PROBE_LODES_YEAR: &str = "(probe the LODES year)";

/// A 57-byte captive portal page.
const PORTAL: &[u8] = b"<html><body>please log in to the wifi</body></html>\r\n\r\n\r\n";

/// Which download misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Blocks,
    Jobs,
    Osm,
}

impl Target {
    fn path(self) -> &'static str {
        match self {
            Target::Blocks => BLOCKS_PATH,
            Target::Jobs => LODES_PATH,
            Target::Osm => OVERPASS_PATH,
        }
    }

    fn real(self) -> Vec<u8> {
        match self {
            Target::Blocks => std::fs::read(data("us-dc/tl_2021_11_tabblock20.zip")).unwrap(),
            Target::Jobs => {
                std::fs::read(data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")).unwrap()
            }
            Target::Osm => osm_xml(),
        }
    }

    /// Files of the cache this download may have left, other than a `.part` to resume.
    fn adopted(self, cache: &Path) -> Vec<PathBuf> {
        let dir = match self {
            Target::Blocks => cache.join("tiger2020/TABBLOCK20"),
            Target::Jobs => cache.join("lodes8/dc"),
            Target::Osm => cache.join("osm"),
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return vec![];
        };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| !p.to_string_lossy().ends_with(".part"))
            .collect()
    }
}

fn osm_xml() -> Vec<u8> {
    pbf_to_osm_xml(&data("us-dc/dc-nw-2016-highways.osm.pbf"))
}

struct Row {
    case: &'static str,
    target: Target,
    fault: Fault,
    /// The exit code and the words of the one error line.
    code: i32,
    words: &'static [&'static str],
}

fn rows() -> Vec<Row> {
    let blocks = Target::Blocks.real();
    let jobs = Target::Jobs.real();
    let xml = osm_xml();
    let trickle = Fault::Trickle {
        bytes: 1,
        every: Duration::from_millis(200),
    };
    let timed_out = TIMED_OUT.to_vec();
    let stalled: &[&str] = &["stalled", "check the connection and run again"];
    let status = |code, retry_after| Fault::Status { code, retry_after };
    let not_the_file: &[&str] = &["is not the file", "was not kept", "log in to the network"];
    vec![
        Row {
            case: "blocks trickle 1 byte / 200 ms",
            target: Target::Blocks,
            fault: trickle.clone(),
            code: 1,
            words: &["tl_2020_11_tabblock20.zip", "stalled", "bytes/s"],
        },
        Row {
            case: "jobs trickle",
            target: Target::Jobs,
            fault: trickle.clone(),
            code: 1,
            words: stalled,
        },
        Row {
            case: "overpass trickle",
            target: Target::Osm,
            fault: trickle,
            code: 1,
            words: stalled,
        },
        Row {
            case: "blocks stall after 100 bytes",
            target: Target::Blocks,
            fault: Fault::StallAfter(100),
            code: 1,
            words: &["tl_2020_11_tabblock20.zip", "stalled (no data for 1s)"],
        },
        Row {
            case: "jobs stall after 100 bytes",
            target: Target::Jobs,
            fault: Fault::StallAfter(100),
            code: 1,
            words: stalled,
        },
        Row {
            case: "blocks server never answers",
            target: Target::Blocks,
            fault: Fault::NeverAnswer,
            code: 1,
            words: &["stalled (no data for 1s)", "put it at"],
        },
        Row {
            case: "overpass never answers",
            target: Target::Osm,
            fault: Fault::NeverAnswer,
            code: 1,
            words: &["OpenStreetMap extract", "stalled"],
        },
        Row {
            case: "blocks 1,000 bytes short of a lying Content-Length",
            target: Target::Blocks,
            fault: Fault::ShortBody { short: 1000 },
            code: 1,
            words: &["cannot download", "tl_2020_11_tabblock20.zip"],
        },
        Row {
            case: "blocks 1,000 bytes short, length agreeing",
            target: Target::Blocks,
            fault: Fault::Body(blocks[..blocks.len() - 1000].to_vec()),
            code: 1,
            words: &["zip file is incomplete or damaged", "was not kept"],
        },
        Row {
            case: "jobs 1,000 bytes short, length agreeing",
            target: Target::Jobs,
            fault: Fault::Body(jobs[..jobs.len() - 1000].to_vec()),
            code: 1,
            words: &["gzip data is incomplete or damaged"],
        },
        Row {
            case: "blocks half, no Content-Length",
            target: Target::Blocks,
            fault: Fault::NoLength {
                bytes: blocks.len() / 2,
            },
            code: 1,
            words: &["zip file is incomplete or damaged"],
        },
        Row {
            case: "jobs half, no Content-Length",
            target: Target::Jobs,
            fault: Fault::NoLength {
                bytes: jobs.len() / 2,
            },
            code: 1,
            words: &["gzip data is incomplete or damaged"],
        },
        Row {
            case: "overpass half, no Content-Length",
            target: Target::Osm,
            fault: Fault::NoLength {
                bytes: xml.len() / 2,
            },
            code: 1,
            words: &["OSM XML is cut short"],
        },
        Row {
            case: "blocks captive portal",
            target: Target::Blocks,
            fault: Fault::Body(PORTAL.to_vec()),
            code: 1,
            words: not_the_file,
        },
        Row {
            case: "jobs captive portal",
            target: Target::Jobs,
            fault: Fault::Body(PORTAL.to_vec()),
            code: 1,
            words: &["not a gzip file", "please log in to the wifi"],
        },
        Row {
            case: "overpass captive portal",
            target: Target::Osm,
            fault: Fault::Body(PORTAL.to_vec()),
            code: 1,
            words: &["not OSM XML", "please log in to the wifi"],
        },
        Row {
            case: "overpass timed out",
            target: Target::Osm,
            fault: Fault::Body(timed_out),
            code: 1,
            words: &[
                "Overpass API timed out",
                "Query timed out",
                "smaller area",
                "--osm",
            ],
        },
        // A server that refuses or fails says so with what to do about it, by class.
        Row {
            case: "blocks HTTP 403",
            target: Target::Blocks,
            fault: status(403, None),
            code: 1,
            words: &[
                "tl_2020_11_tabblock20.zip",
                "HTTP 403",
                "check the base URL and any credentials",
            ],
        },
        Row {
            case: "jobs HTTP 500",
            target: Target::Jobs,
            fault: status(500, None),
            code: 1,
            words: &["HTTP 500", "the server failed; run again later"],
        },
        Row {
            case: "overpass HTTP 429, Retry-After 1 s (honoured)",
            target: Target::Osm,
            fault: status(429, Some(1)),
            code: 1,
            words: &["HTTP 429", "busy and asks to wait 1 s; run again later"],
        },
        Row {
            case: "overpass HTTP 504",
            target: Target::Osm,
            fault: status(504, None),
            code: 1,
            words: &["HTTP 504", "the server is busy; run again later"],
        },
        Row {
            // Not sat through (the BOUND checks it): said, so the user comes back later.
            case: "blocks HTTP 503, Retry-After an hour",
            target: Target::Blocks,
            fault: status(503, Some(3600)),
            code: 1,
            words: &["HTTP 503", "asks to wait 3600 s; run again later"],
        },
        Row {
            case: "overpass answer without a single node",
            target: Target::Osm,
            fault: Fault::Body(EMPTY_ANSWER.to_vec()),
            code: 2,
            words: &[
                "no OpenStreetMap data at all",
                "latitude",
                "check that the boundary is the area you mean",
                "--osm",
            ],
        },
    ]
}

/// `bna fetch` of the Columbia Heights boundary with DC's blocks and jobs from `server`; the
/// OSM extract is given unless the row is about Overpass.
fn fetch(server: &Server, tmp: &Path, with_overpass: bool, extra: &[&str]) -> (Output, Duration) {
    let bases = Bases {
        tiger: server.url("/tiger"),
        lodes: server.url("/lodes"),
        overpass: server.url(OVERPASS_PATH),
    };
    fetch_from(&bases, tmp, with_overpass, extra)
}

struct Bases {
    tiger: String,
    lodes: String,
    overpass: String,
}

fn fetch_from(
    bases: &Bases,
    tmp: &Path,
    with_overpass: bool,
    extra: &[&str],
) -> (Output, Duration) {
    let mut args: Vec<String> = vec![
        "fetch".into(),
        "--boundary".into(),
        data("us-dc/boundary-columbia-heights.geojson")
            .display()
            .to_string(),
        "--state".into(),
        "DC".into(),
        "--dir".into(),
        tmp.join("project").display().to_string(),
        "--cache-dir".into(),
        tmp.join("cache").display().to_string(),
        "--base-url-tiger".into(),
        bases.tiger.clone(),
        "--base-url-lodes".into(),
        bases.lodes.clone(),
        "--base-url-overpass".into(),
        bases.overpass.clone(),
    ];
    if !with_overpass {
        args.push("--osm".into());
        args.push(
            data("us-dc/dc-nw-2016-highways.osm.pbf")
                .display()
                .to_string(),
        );
    }
    if !extra.contains(&PROBE_LODES_YEAR) {
        args.push("--lodes-year".into());
        args.push("2021".into());
    }
    args.extend(
        extra
            .iter()
            .filter(|a| **a != PROBE_LODES_YEAR)
            .map(|s| s.to_string()),
    );
    let start = Instant::now();
    let out = bna_env(&args, &[("BNA_TEST_FETCH_TIMEOUT_MS", TIMEOUT_MS)]);
    (out, start.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn faulty_servers_fail_fast_and_leave_nothing_in_the_cache() {
    for row in rows() {
        let mut routes = dc_routes(osm_xml());
        routes
            .faults
            .insert(row.target.path().to_owned(), row.fault.clone());
        let server = Server::start(routes);
        let tmp = tempfile::tempdir().unwrap();
        let overpass = row.target == Target::Osm;

        let (out, took) = fetch(&server, tmp.path(), overpass, &["--quiet"]);
        let case = row.case;
        assert!(took < BOUND, "{case}: took {took:?}");
        assert_one_line_failure(&out, row.code, row.words);
        let kept = row.target.adopted(&tmp.path().join("cache"));
        assert!(kept.is_empty(), "{case}: adopted {kept:?}");

        // The next run asks the server again rather than using anything it kept.
        let asked = server.hits_on(row.target.path());
        let (again, took) = fetch(&server, tmp.path(), overpass, &["--quiet"]);
        assert!(took < BOUND, "{case}: second run took {took:?}");
        assert_eq!(
            again.status.code(),
            Some(row.code),
            "{case}: {}",
            stderr(&again)
        );
        assert!(
            server.hits_on(row.target.path()) > asked,
            "{case}: not asked again"
        );

        // Once the server behaves, the same command gets the real file.
        server.clear_faults();
        let (ok, _) = fetch(&server, tmp.path(), overpass, &["--quiet"]);
        assert_eq!(ok.status.code(), Some(0), "{case}: {}", stderr(&ok));
        let kept = row.target.adopted(&tmp.path().join("cache"));
        assert_eq!(kept.len(), 2, "{case}: the file and its manifest: {kept:?}");
        let file = kept
            .iter()
            .find(|p| !p.to_string_lossy().ends_with(".manifest.json"))
            .unwrap();
        assert_eq!(std::fs::read(file).unwrap(), row.target.real(), "{case}");
    }
}

#[test]
fn a_redirect_to_plain_http_elsewhere_is_refused_and_within_loopback_followed() {
    let target = Server::start_on("127.0.0.2", dc_routes(vec![]));
    let elsewhere = target.url(BLOCKS_PATH);
    let cases = [
        // (case, Location, exit code, words)
        (
            "to plain http on another host",
            elsewhere.clone(),
            2,
            &["redirected to", "127.0.0.2", "use https"][..],
        ),
        (
            "to a file URL",
            "file:///etc/passwd".to_owned(),
            2,
            &["redirected to", "file:///etc/passwd"][..],
        ),
    ];
    for (case, to, code, words) in cases {
        let mut routes = dc_routes(vec![]);
        routes
            .faults
            .insert(BLOCKS_PATH.to_owned(), Fault::Redirect(to));
        let server = Server::start(routes);
        let tmp = tempfile::tempdir().unwrap();
        let (out, took) = fetch(&server, tmp.path(), false, &["--quiet"]);
        assert!(took < BOUND, "{case}: {took:?}");
        assert_one_line_failure(&out, code, words);
        assert!(
            Target::Blocks.adopted(&tmp.path().join("cache")).is_empty(),
            "{case}"
        );
    }
    assert_eq!(
        target.hits().len(),
        0,
        "the plain-http target was never asked"
    );

    // A redirect that stays on loopback http (or goes to https) is followed.
    let mut routes = dc_routes(vec![]);
    routes
        .files
        .insert("/mirror/blocks.zip".into(), Target::Blocks.real());
    let server = Server::start(routes);
    server.set_fault(
        BLOCKS_PATH,
        Fault::Redirect(server.url("/mirror/blocks.zip")),
    );
    let tmp = tempfile::tempdir().unwrap();
    let (out, _) = fetch(&server, tmp.path(), false, &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.hits_on("/mirror/blocks.zip"), 1);
}

#[test]
fn a_bad_file_cached_by_an_older_bna_is_fetched_again() {
    let server = Server::start(dc_routes(vec![]));
    let tmp = tempfile::tempdir().unwrap();
    let cached = tmp
        .path()
        .join("cache/tiger2020/TABBLOCK20/tl_2020_11_tabblock20.zip");
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    std::fs::write(&cached, PORTAL).unwrap();
    // The manifest vouches for the page, as one written before content checks would.
    let manifest = serde_json::json!({
        "url": server.url(BLOCKS_PATH),
        "size": PORTAL.len(),
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(PORTAL)),
        "fetched": "2026-01-01T00:00:00Z",
    });
    let mpath = bna_fetch::download::manifest_path(&cached);
    std::fs::write(&mpath, manifest.to_string()).unwrap();

    // Offline it cannot be replaced: named, with what is wrong with it.
    let (out, _) = fetch(&server, tmp.path(), false, &["--quiet", "--offline"]);
    assert_one_line_failure(
        &out,
        1,
        &[
            "tl_2020_11_tabblock20.zip: damaged (not a zip file",
            "please log in",
        ],
    );

    let (out, _) = fetch(&server, tmp.path(), false, &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.hits_on(BLOCKS_PATH), 1, "fetched again");
    assert_eq!(std::fs::read(&cached).unwrap(), Target::Blocks.real());
}

#[test]
fn credentials_in_base_urls_never_reach_messages_or_the_cache() {
    let token_path = format!("{LODES_PATH}?token=sekrit-token");
    let mut routes = dc_routes(vec![]);
    routes.files.insert(token_path.clone(), Target::Jobs.real());
    let server = Server::start(routes);
    let tmp = tempfile::tempdir().unwrap();
    let bases = Bases {
        tiger: server.url("/tiger").replace("://", "://bna:hunter2@"),
        lodes: format!("{}?token=sekrit-token", server.url("/lodes")),
        overpass: server.url(OVERPASS_PATH),
    };
    // Not quiet: progress lines and notes are checked too.
    let (out, _) = fetch_from(&bases, tmp.path(), false, &[]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(server.hits_on(&token_path), 1, "the token is sent");
    let mut manifests = 0;
    for dir in ["cache/tiger2020/TABBLOCK20", "cache/lodes8/dc"] {
        for e in std::fs::read_dir(tmp.path().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            if p.to_string_lossy().ends_with(".manifest.json") {
                manifests += 1;
                assert!(text.contains("***"), "{text}");
            }
            for secret in ["hunter2", "sekrit"] {
                assert!(!text.contains(secret), "{secret} in {}", p.display());
            }
        }
    }
    assert_eq!(manifests, 2);
    for secret in ["hunter2", "sekrit"] {
        assert!(!all.contains(secret), "{secret} in: {all}");
    }

    // A failure names the URL, without its credentials.
    std::fs::remove_dir_all(tmp.path().join("cache/lodes8")).unwrap();
    server.set_fault(&token_path, Fault::StallAfter(10));
    let (out, _) = fetch_from(&bases, tmp.path(), false, &[]);
    assert_one_line_failure(
        &out,
        1,
        &["dc_wac_S000_JT00_2021.csv.gz?token=***", "stalled"],
    );
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("sekrit"), "{all}");
}

/// Finding the latest LODES year asks the server year by year (HEAD); a silent server there
/// fails as fast as a download, naming the way around it.
#[test]
fn a_silent_server_while_finding_the_lodes_year_fails_fast() {
    let mut routes = dc_routes(vec![]);
    routes
        .faults
        .insert(LODES_PATH.to_owned(), Fault::NeverAnswer);
    let server = Server::start(routes);
    let tmp = tempfile::tempdir().unwrap();
    let bases = Bases {
        tiger: server.url("/tiger"),
        lodes: server.url("/lodes"),
        overpass: server.url(OVERPASS_PATH),
    };
    let (out, took) = fetch_from(&bases, tmp.path(), false, &["--quiet", PROBE_LODES_YEAR]);
    assert!(took < BOUND, "{took:?}");
    assert_one_line_failure(
        &out,
        1,
        &["finding the latest year", "no data for 1s", "give the year"],
    );
}

/// An OSM XML given with `--osm` that holds no extract — an Overpass answer saved from a query
/// that timed out, or one without a single node — is named at once, not left for the analysis
/// to find "no nodes".
#[test]
fn a_given_osm_answer_without_an_extract_is_named() {
    let rows: [(&str, &[u8], &[&str]); 2] = [
        (
            "answer.osm",
            TIMED_OUT,
            &[
                "answer.osm",
                "Overpass answer to a query that timed out",
                "Query timed out",
                "smaller area",
            ],
        ),
        (
            "empty.osm",
            EMPTY_ANSWER,
            &["empty.osm", "not a single node", "--osm"],
        ),
    ];
    for (name, content, words) in rows {
        let tmp = tempfile::tempdir().unwrap();
        let answer = tmp.path().join(name);
        std::fs::write(&answer, content).unwrap();
        let args = [
            "fetch".to_owned(),
            "--boundary".into(),
            data("us-dc/boundary-columbia-heights.geojson")
                .display()
                .to_string(),
            "--osm".into(),
            answer.display().to_string(),
            "--dir".into(),
            tmp.path().join("project").display().to_string(),
            "--cache-dir".into(),
            tmp.path().join("cache").display().to_string(),
            "--offline".into(),
            "--quiet".into(),
        ];
        let out = bna_env(&args, &[]);
        assert_one_line_failure(&out, 2, words);
        assert!(!stderr(&out).contains("no nodes"), "{}", stderr(&out));
    }
}

/// What `--dir` (and `--cache-dir`) may hold before a run, and what the run must do with it:
/// never write through a symbolic link, replace only what an earlier fetch wrote (or with
/// `--force`), and name a folder that cannot be used with the setting to change.
struct DirRow {
    case: &'static str,
    /// Prepares `tmp` (the run uses `tmp/project` and `tmp/cache`) before the run.
    setup: fn(&Path, &Server),
    extra: &'static [&'static str],
    code: i32,
    /// Words of the one error line (none when the run succeeds).
    words: &'static [&'static str],
    /// What must hold afterwards.
    after: fn(&Path),
}

const VICTIM: &[u8] = b"the user's own file\n";

fn project(tmp: &Path) -> PathBuf {
    tmp.join("project")
}

fn blocks_in(tmp: &Path) -> PathBuf {
    project(tmp).join("tl_2020_11_tabblock20.zip")
}

/// `tmp/victim.txt`, and a link to it at `link`.
fn victim_behind(tmp: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::fs::write(tmp.join("victim.txt"), VICTIM).unwrap();
    std::os::unix::fs::symlink(tmp.join("victim.txt"), link).unwrap();
}

fn victim_intact(tmp: &Path) {
    assert_eq!(std::fs::read(tmp.join("victim.txt")).unwrap(), VICTIM);
}

fn own_file(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, VICTIM).unwrap();
}

fn inputs_listed(tmp: &Path) {
    let list = project(tmp).join("inputs.json");
    assert!(std::fs::symlink_metadata(&list).unwrap().is_file());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(list).unwrap()).unwrap();
    assert!(v["osm"].is_string(), "{v}");
}

fn no_temporary_files(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(project(tmp)) else {
        return;
    };
    for e in entries {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".bna-tmp"), "left {name}");
    }
}

fn dir_rows() -> Vec<DirRow> {
    vec![
        DirRow {
            case: "inputs.json is a link to the user's file",
            setup: |t, _| victim_behind(t, &project(t).join("inputs.json")),
            extra: &[],
            code: 2,
            words: &[
                "project/inputs.json is a symbolic link",
                "never writes through",
                "--force",
            ],
            after: |t| {
                victim_intact(t);
                assert!(std::fs::symlink_metadata(project(t).join("inputs.json"))
                    .unwrap()
                    .is_symlink());
            },
        },
        DirRow {
            case: "inputs.json a link, --force: the link itself is replaced",
            setup: |t, _| victim_behind(t, &project(t).join("inputs.json")),
            extra: &["--force"],
            code: 0,
            words: &[],
            after: |t| {
                victim_intact(t);
                inputs_listed(t);
            },
        },
        DirRow {
            case: "the user's own inputs.json",
            setup: |t, _| own_file(&project(t).join("inputs.json")),
            extra: &[],
            code: 2,
            words: &[
                "project/inputs.json is a file bna fetch did not write",
                "--force",
            ],
            after: |t| {
                assert_eq!(
                    std::fs::read(project(t).join("inputs.json")).unwrap(),
                    VICTIM
                )
            },
        },
        DirRow {
            case: "the user's own block zip",
            setup: |t, _| own_file(&blocks_in(t)),
            extra: &[],
            code: 2,
            words: &[
                "tl_2020_11_tabblock20.zip is a file bna fetch did not write",
                "--force",
            ],
            after: |t| assert_eq!(std::fs::read(blocks_in(t)).unwrap(), VICTIM),
        },
        DirRow {
            case: "the user's own block zip, --force",
            setup: |t, _| own_file(&blocks_in(t)),
            extra: &["--force"],
            code: 0,
            words: &[],
            after: |t| {
                assert_eq!(std::fs::read(blocks_in(t)).unwrap(), Target::Blocks.real());
                inputs_listed(t);
            },
        },
        DirRow {
            case: "the block zip is a link to the user's file",
            setup: |t, _| victim_behind(t, &blocks_in(t)),
            extra: &[],
            code: 2,
            words: &["tl_2020_11_tabblock20.zip is a symbolic link"],
            after: victim_intact,
        },
        DirRow {
            case: "inputs.json is a folder, even with --force",
            setup: |t, _| std::fs::create_dir_all(project(t).join("inputs.json")).unwrap(),
            extra: &["--force"],
            code: 2,
            words: &["inputs.json is a folder", "another --dir"],
            after: |t| assert!(project(t).join("inputs.json").is_dir()),
        },
        DirRow {
            // A re-run replaces what the earlier one wrote, hard links or copies alike.
            case: "an earlier fetch's output, one file copied rather than linked",
            setup: |t, server| {
                let (out, _) = fetch(server, t, false, &["--quiet"]);
                assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
                let zip = std::fs::read(blocks_in(t)).unwrap();
                std::fs::remove_file(blocks_in(t)).unwrap();
                std::fs::write(blocks_in(t), zip).unwrap();
            },
            extra: &[],
            code: 0,
            words: &[],
            after: inputs_listed,
        },
        DirRow {
            case: "--dir is an existing file",
            setup: |t, _| std::fs::write(project(t), VICTIM).unwrap(),
            extra: &[],
            code: 2,
            words: &[
                "project: --dir is a file, not a folder",
                "give --dir a folder",
            ],
            after: |t| assert_eq!(std::fs::read(project(t)).unwrap(), VICTIM),
        },
        DirRow {
            case: "--cache-dir is an existing file",
            setup: |t, _| std::fs::write(t.join("cache"), VICTIM).unwrap(),
            extra: &[],
            code: 2,
            words: &["cache: a file stands where the --cache-dir folder needs a folder"],
            after: |t| assert_eq!(std::fs::read(t.join("cache")).unwrap(), VICTIM),
        },
        DirRow {
            case: "--lodes-year 0",
            setup: |_, _| {},
            extra: &[PROBE_LODES_YEAR, "--lodes-year", "0"],
            code: 2,
            words: &["--lodes-year 0", "2002 to"],
            after: |t| assert!(!t.join("cache").exists(), "nothing fetched"),
        },
        DirRow {
            case: "--lodes-year 1900",
            setup: |_, _| {},
            extra: &[PROBE_LODES_YEAR, "--lodes-year", "1900"],
            code: 2,
            words: &["--lodes-year 1900", "2002 to"],
            after: |t| assert!(!t.join("cache").exists(), "nothing fetched"),
        },
        DirRow {
            case: "--lodes-year 9999",
            setup: |_, _| {},
            extra: &[PROBE_LODES_YEAR, "--lodes-year", "9999"],
            code: 2,
            words: &["--lodes-year 9999", "2002 to"],
            after: |t| assert!(!t.join("cache").exists(), "nothing fetched"),
        },
    ]
}

#[test]
fn dir_holds_the_users_files_and_links_that_are_never_replaced() {
    for row in dir_rows() {
        let server = Server::start(dc_routes(osm_xml()));
        let tmp = tempfile::tempdir().unwrap();
        (row.setup)(tmp.path(), &server);
        let mut extra = vec!["--quiet"];
        extra.extend(row.extra);
        let (out, _) = fetch(&server, tmp.path(), false, &extra);
        let case = row.case;
        if row.code == 0 {
            assert_eq!(out.status.code(), Some(0), "{case}: {}", stderr(&out));
        } else {
            assert_one_line_failure(&out, row.code, row.words);
            assert!(
                !stderr(&out).contains("os error"),
                "{case}: {}",
                stderr(&out)
            );
        }
        (row.after)(tmp.path());
        no_temporary_files(tmp.path());
    }
}

/// An empty Overpass answer cached by an older bna (its manifest vouching for it) is not an
/// extract: online it is fetched again, offline it is named as damaged.
#[test]
fn an_empty_overpass_answer_in_the_cache_is_fetched_again() {
    let server = Server::start(dc_routes(osm_xml()));
    let tmp = tempfile::tempdir().unwrap();
    let (out, _) = fetch(&server, tmp.path(), true, &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cached = Target::Osm
        .adopted(&tmp.path().join("cache"))
        .into_iter()
        .find(|p| !p.to_string_lossy().ends_with(".manifest.json"))
        .unwrap();
    std::fs::remove_file(&cached).unwrap(); // the project's hard link keeps the old bytes
    std::fs::write(&cached, EMPTY_ANSWER).unwrap();
    let manifest = serde_json::json!({
        "url": server.url(OVERPASS_PATH),
        "size": EMPTY_ANSWER.len(),
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(EMPTY_ANSWER)),
        "fetched": "2026-01-01T00:00:00Z",
    });
    let mpath = bna_fetch::download::manifest_path(&cached);
    std::fs::write(&mpath, manifest.to_string()).unwrap();

    let (out, _) = fetch(&server, tmp.path(), true, &["--quiet", "--offline"]);
    assert_one_line_failure(&out, 1, &["damaged", "without a single node"]);

    let asked = server.hits_on(OVERPASS_PATH);
    let (out, _) = fetch(&server, tmp.path(), true, &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.hits_on(OVERPASS_PATH), asked + 1, "fetched again");
    assert_eq!(std::fs::read(&cached).unwrap(), osm_xml());
}
