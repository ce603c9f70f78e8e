//! Reliability through the real `bna` binary (issue 7): bad input of every kind fails with one
//! line naming the file, a non-zero exit, and leaves an existing project byte-identical; a
//! SIGKILL at any moment leaves a valid SpatiaLite file that the next run resumes; two
//! analyses of one project never interleave; read-only and full disks are reported cleanly.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rusqlite::Connection;

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(p)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The binary under test. `BNA_TEST_BIN` overrides it for worktrees that share one target
/// directory, where another checkout's build can replace `target/debug/bna` mid-run.
fn bin() -> PathBuf {
    std::env::var_os("BNA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bna")))
}

fn bna(args: &[String]) -> Output {
    Command::new(bin()).args(args).output().expect("run bna")
}

fn analyze_args(boundary: &Path, osm: &Path, out: &Path) -> Vec<String> {
    vec![
        "analyze".into(),
        "--quiet".into(),
        "--boundary".into(),
        s(boundary),
        "--osm".into(),
        s(osm),
        "--out".into(),
        s(out),
    ]
}

fn dc_args(out: &Path) -> Vec<String> {
    let mut a = analyze_args(
        &data("us-dc/boundary-columbia-heights.geojson"),
        &data("us-dc/dc-nw-2016-highways.osm.pbf"),
        out,
    );
    a.extend(
        [
            "--blocks",
            &s(&data("us-dc/tl_2021_11_tabblock20.zip")),
            "--jobs",
            &s(&data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")),
            "--population",
            "synthetic",
        ]
        .map(String::from),
    );
    a
}

fn run_ok(args: &[String]) -> String {
    let o = bna(args);
    assert!(
        o.status.success(),
        "bna {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn open_spatial(p: &Path) -> Connection {
    let c = Connection::open(p).unwrap();
    unsafe {
        c.load_extension_enable().unwrap();
        c.load_extension("mod_spatialite", None::<&str>).unwrap();
    }
    c
}

/// `PRAGMA integrity_check` of a project, opened with SpatiaLite as QGIS would.
fn integrity(p: &Path) -> String {
    let c = open_spatial(p);
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    // SpatiaLite's own metadata must also be readable once the file is initialised.
    let has_meta: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'bna_meta'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has_meta > 0 {
        let _: i64 = c
            .query_row("SELECT count(*) FROM spatial_ref_sys", [], |r| r.get(0))
            .unwrap();
    }
    ok
}

/// The city scores of a project, exactly as stored.
fn scores(p: &Path) -> Vec<(String, Option<f64>)> {
    let c = open_spatial(p);
    let mut st = c
        .prepare("SELECT score_id, score_original FROM neighborhood_overall_scores ORDER BY id")
        .unwrap();
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// A finished Helsinki project (the smallest bundled case), the "existing good project" that
/// failing runs must leave alone.
fn good_project() -> &'static (tempfile::TempDir, PathBuf, Vec<u8>) {
    static GOOD: OnceLock<(tempfile::TempDir, PathBuf, Vec<u8>)> = OnceLock::new();
    GOOD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("good.bna");
        run_ok(&analyze_args(
            &data("helsinki/boundary-centre.geojson"),
            &data("helsinki/helsinki-center.osm.pbf"),
            &p,
        ));
        let bytes = std::fs::read(&p).unwrap();
        (dir, p, bytes)
    })
}

/// The DC scores of an uninterrupted run, for comparison.
fn dc_reference() -> &'static Vec<(String, Option<f64>)> {
    static DC: OnceLock<Vec<(String, Option<f64>)>> = OnceLock::new();
    DC.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dc.bna");
        run_ok(&dc_args(&p));
        scores(&p)
    })
}

/// Runs `args` (whose `--out` is replaced) twice: into a copy of the good project, which must
/// come out byte-identical, and into a new path, which must not be created. Both runs must
/// fail with exit ≠ 0 and one stderr line that names `culprit` and contains `hint`.
fn assert_fails_cleanly(case: &str, args: &[String], culprit: &Path, hint: &str) {
    let (_, good, good_bytes) = good_project();
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.bna");
    std::fs::copy(good, &existing).unwrap();
    let fresh = dir.path().join("fresh.bna");
    for out in [&existing, &fresh] {
        let mut a = args.to_vec();
        let i = a.iter().position(|x| x == "--out").expect("--out") + 1;
        a[i] = s(out);
        let o = bna(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{case}: succeeded on bad input");
        assert!(
            o.status.code().is_some_and(|c| c != 0),
            "{case}: died instead of exiting: {:?}\n{err}",
            o.status
        );
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{case}: one line expected:\n{err}");
        assert!(
            lines[0].contains(&s(culprit)),
            "{case}: should name {}: {err}",
            culprit.display()
        );
        assert!(
            lines[0].to_lowercase().contains(&hint.to_lowercase()),
            "{case}: should say {hint:?}: {err}"
        );
    }
    assert!(
        std::fs::read(&existing).unwrap() == *good_bytes,
        "{case}: the existing project was modified"
    );
    assert!(!fresh.exists(), "{case}: a half-written project was left");
    assert!(
        !PathBuf::from(format!("{}.lock", fresh.display())).exists(),
        "{case}: lock file left"
    );
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn polygon_geojson(ring: &[(f64, f64)]) -> String {
    let coords: Vec<String> = ring.iter().map(|(x, y)| format!("[{x},{y}]")).collect();
    format!(
        r#"{{"type":"Polygon","coordinates":[[{}]]}}"#,
        coords.join(",")
    )
}

// ---------------------------------------------------------------------------------------------
// A minimal OSM PBF writer (uncompressed blobs, plain nodes), to build extracts with no roads.
// ---------------------------------------------------------------------------------------------

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn field_bytes(field: u64, data: &[u8], out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

fn field_varint(field: u64, v: u64, out: &mut Vec<u8>) {
    varint(field << 3, out);
    varint(v, out);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn pbf_blob(kind: &str, payload: &[u8], out: &mut Vec<u8>) {
    let mut blob = Vec::new();
    field_bytes(1, payload, &mut blob); // raw
    field_varint(2, payload.len() as u64, &mut blob); // raw_size
    let mut header = Vec::new();
    field_bytes(1, kind.as_bytes(), &mut header);
    field_varint(3, blob.len() as u64, &mut header);
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&blob);
}

/// An extract holding only untagged nodes at `points` (lon, lat): no roads at all.
fn pbf_with_nodes(points: &[(f64, f64)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut header = Vec::new();
    field_bytes(4, b"OsmSchema-V0.6", &mut header);
    pbf_blob("OSMHeader", &header, &mut out);
    let mut group = Vec::new();
    for (i, (lon, lat)) in points.iter().enumerate() {
        let mut node = Vec::new();
        field_varint(1, zigzag(i as i64 + 1), &mut node);
        // Default granularity: 100 nanodegrees.
        field_varint(8, zigzag((lat * 1e7).round() as i64), &mut node);
        field_varint(9, zigzag((lon * 1e7).round() as i64), &mut node);
        field_bytes(1, &node, &mut group);
    }
    let mut strings = Vec::new();
    field_bytes(1, b"", &mut strings);
    let mut block = Vec::new();
    field_bytes(1, &strings, &mut block);
    field_bytes(2, &group, &mut block);
    pbf_blob("OSMData", &block, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_inputs_fail_with_one_line_and_leave_projects_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let boundary = data("us-dc/boundary-columbia-heights.geojson");
    let osm = data("us-dc/dc-nw-2016-highways.osm.pbf");
    let out = d.join("out.bna");
    let pbf = std::fs::read(&osm).unwrap();

    // Files.
    let missing = d.join("missing.osm.pbf");
    assert_fails_cleanly(
        "missing file",
        &analyze_args(&boundary, &missing, &out),
        &missing,
        "not found",
    );
    let truncated = write(d, "truncated.osm.pbf", &pbf[..pbf.len() * 3 / 5]);
    assert_fails_cleanly(
        "truncated PBF",
        &analyze_args(&boundary, &truncated, &out),
        &truncated,
        "PBF",
    );
    let mut garbled = pbf.clone();
    let mid = garbled.len() / 2;
    for (i, b) in garbled[mid..mid + 4096].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31) ^ 0xa5;
    }
    let corrupt = write(d, "corrupt.osm.pbf", &garbled);
    assert_fails_cleanly(
        "corrupt PBF",
        &analyze_args(&boundary, &corrupt, &out),
        &corrupt,
        "PBF",
    );

    // Boundaries.
    let dc_ring = [
        (-77.04, 38.92),
        (-77.02, 38.92),
        (-77.02, 38.935),
        (-77.04, 38.935),
        (-77.04, 38.92),
    ];
    let point = write(
        d,
        "point.geojson",
        r#"{"type":"Point","coordinates":[-77.03,38.93]}"#,
    );
    assert_fails_cleanly(
        "not a polygon",
        &analyze_args(&point, &osm, &out),
        &point,
        "Polygon",
    );
    let bowtie = write(
        d,
        "bowtie.geojson",
        polygon_geojson(&[
            (-77.04, 38.92),
            (-77.02, 38.935),
            (-77.02, 38.92),
            (-77.04, 38.935),
            (-77.04, 38.92),
        ]),
    );
    assert_fails_cleanly(
        "self-intersecting",
        &analyze_args(&bowtie, &osm, &out),
        &bowtie,
        "crosses itself",
    );
    let unclosed = write(d, "unclosed.geojson", polygon_geojson(&dc_ring[..4]));
    assert_fails_cleanly(
        "unclosed ring",
        &analyze_args(&unclosed, &osm, &out),
        &unclosed,
        "closed",
    );
    let swapped_ring: Vec<(f64, f64)> = dc_ring.iter().map(|&(x, y)| (y, x)).collect();
    let swapped = write(d, "swapped.geojson", polygon_geojson(&swapped_ring));
    assert_fails_cleanly(
        "swapped lat/lon",
        &analyze_args(&swapped, &osm, &out),
        &swapped,
        "swapped",
    );
    let utm_ring = [
        (323_000.0, 4_310_000.0),
        (325_000.0, 4_310_000.0),
        (325_000.0, 4_312_000.0),
        (323_000.0, 4_312_000.0),
        (323_000.0, 4_310_000.0),
    ];
    let projected = write(d, "utm.geojson", polygon_geojson(&utm_ring));
    assert_fails_cleanly(
        "projected coordinates",
        &analyze_args(&projected, &osm, &out),
        &projected,
        "EPSG:4326",
    );
    let crs = write(
        d,
        "crs3857.geojson",
        format!(
            r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::3857"}}}},"features":[{{"type":"Feature","properties":{{}},"geometry":{}}}]}}"#,
            polygon_geojson(&dc_ring)
        ),
    );
    assert_fails_cleanly(
        "projected crs member",
        &analyze_args(&crs, &osm, &out),
        &crs,
        "reproject",
    );
    let paris = write(
        d,
        "paris.geojson",
        polygon_geojson(&[
            (2.0, 48.0),
            (2.1, 48.0),
            (2.1, 48.1),
            (2.0, 48.1),
            (2.0, 48.0),
        ]),
    );
    assert_fails_cleanly(
        "boundary outside the extract",
        &analyze_args(&paris, &osm, &out),
        &osm,
        "outside the OSM extract",
    );

    // An extract that covers the boundary and its buffer but has no roads.
    let empty = write(
        d,
        "no-roads.osm.pbf",
        pbf_with_nodes(&[(-77.2, 38.8), (-76.8, 38.8), (-76.8, 39.1), (-77.2, 39.1)]),
    );
    assert_fails_cleanly(
        "empty area",
        &analyze_args(&boundary, &empty, &out),
        &empty,
        "no roads",
    );

    // Census blocks without GEOID or without population.
    let no_geoid = write(
        d,
        "blocks-no-geoid.geojson",
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"POP20":10}},"geometry":{}}}]}}"#,
            polygon_geojson(&dc_ring)
        ),
    );
    let mut a = analyze_args(&boundary, &osm, &out);
    a.extend(["--blocks".into(), s(&no_geoid)]);
    assert_fails_cleanly("blocks without GEOID", &a, &no_geoid, "GEOID");
    let no_pop = write(
        d,
        "blocks-no-pop.geojson",
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"GEOID20":"110010031001000"}},"geometry":{}}}]}}"#,
            polygon_geojson(&dc_ring)
        ),
    );
    let mut a = analyze_args(&boundary, &osm, &out);
    a.extend(["--blocks".into(), s(&no_pop)]);
    assert_fails_cleanly("blocks without population", &a, &no_pop, "population");
}

#[test]
fn a_project_from_a_newer_schema_is_refused_and_left_alone() {
    let (_, good, _) = good_project();
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.bna");
    std::fs::copy(good, &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .execute(
            "UPDATE bna_meta SET value = '999' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let before = std::fs::read(&newer).unwrap();
    let analyze = analyze_args(
        &data("helsinki/boundary-centre.geojson"),
        &data("helsinki/helsinki-center.osm.pbf"),
        &newer,
    );
    for args in [analyze, vec!["scores".into(), s(&newer)]] {
        let o = bna(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code().is_some_and(|c| c != 0), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&s(&newer)), "{err}");
        assert!(
            err.contains("newer bna") && err.contains("upgrade"),
            "{err}"
        );
    }
    assert!(std::fs::read(&newer).unwrap() == before, "modified");
}

#[test]
fn unknown_lodes_blocks_are_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")).unwrap(),
    )
    .read_to_string(&mut csv)
    .unwrap();
    // Two rows for workplace blocks that exist in no census block file (state 99).
    let last = csv.lines().last().unwrap().to_string();
    let rest = &last[last.find(',').unwrap()..];
    let mut fields: Vec<&str> = rest.split(',').collect();
    fields[1] = "40"; // C000, the total jobs column
    let rest = fields.join(",");
    csv.push_str(&format!("990010001001000{rest}\n990010001001001{rest}\n"));
    let jobs = write(dir.path(), "wac-with-unknown.csv", csv);
    let out = dir.path().join("dc.bna");
    let mut args = dc_args(&out);
    let i = args.iter().position(|a| a == "--jobs").unwrap() + 1;
    args[i] = s(&jobs);
    let o = bna(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&s(&jobs)) && err.contains("2 workplace blocks (80 jobs)"),
        "warning expected: {err}"
    );
    let json = run_ok(&["scores".into(), s(&out), "--json".into()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let source = v["metadata"]["jobs_source"].as_str().unwrap();
    assert!(
        source.contains("2 workplace blocks (80 jobs) not in the census block file"),
        "{source}"
    );
}

// ---------------------------------------------------------------------------------------------
// Read-only and full disks (a tmpfs in a private mount namespace: no root needed)
// ---------------------------------------------------------------------------------------------

/// `disk::in_tmpfs` with `$BNA` the binary under test.
fn in_tmpfs(size: &str, script: &str, env: &[(&str, String)]) -> Output {
    let mut all = vec![("BNA", bin())];
    all.extend(env.iter().map(|(k, v)| (*k, PathBuf::from(v))));
    bna_test_support::disk::in_tmpfs(size, script, &all)
}

fn last_stderr_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn read_only_output_fails_cleanly_and_keeps_the_project() {
    let (_, good, good_bytes) = good_project();
    let dir = tempfile::tempdir().unwrap();
    let after = dir.path().join("after.bna");
    let args = analyze_args(
        &data("us-dc/boundary-columbia-heights.geojson"),
        &data("us-dc/dc-nw-2016-highways.osm.pbf"),
        Path::new("$MNT/p.bna"),
    )
    .iter()
    .map(|a| format!("\"{a}\""))
    .collect::<Vec<_>>()
    .join(" ");
    // Existing project on a read-only file system; then a new project there.
    let script = format!(
        "cp \"$GOOD\" \"$MNT/p.bna\" && mount -o remount,ro \"$MNT\" && \
         \"$BNA\" {args}; echo \"exit=$?\" >&2; cp \"$MNT/p.bna\" \"$AFTER\"; \
         \"$BNA\" {}; echo \"exit=$?\" >&2",
        args.replace("p.bna", "new.bna")
    );
    let o = in_tmpfs("64m", &script, &[("GOOD", s(good)), ("AFTER", s(&after))]);
    let err = last_stderr_line(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    for (line, code) in [(lines[0], lines[1]), (lines[2], lines[3])] {
        assert!(
            line.starts_with("error: ") && (line.contains("/p.bna") || line.contains("/new.bna")),
            "{err}"
        );
        assert!(
            line.contains("read-only") || line.contains("writable"),
            "{err}"
        );
        assert!(code != "exit=0" && code.starts_with("exit="), "{err}");
    }
    assert!(std::fs::read(&after).unwrap() == *good_bytes, "modified");
}

#[test]
fn full_disk_fails_cleanly_and_keeps_the_previous_results() {
    let (_, good, good_bytes) = good_project();
    let dir = tempfile::tempdir().unwrap();
    let after = dir.path().join("after.bna");
    // Room for the existing project and a little more, not for DC's checkpoints and results.
    let size_kb = good_bytes.len() / 1024 + 256;
    let args = dc_args(Path::new("$MNT/p.bna"))
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "cp \"$GOOD\" \"$MNT/p.bna\" && \"$BNA\" {args}; echo \"exit=$?\" >&2; \
         cp \"$MNT/p.bna\" \"$AFTER\""
    );
    let o = in_tmpfs(
        &format!("{size_kb}k"),
        &script,
        &[("GOOD", s(good)), ("AFTER", s(&after))],
    );
    let err = last_stderr_line(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("/p.bna") && lines[0].contains("disk is full"),
        "{err}"
    );
    assert!(lines[1] != "exit=0", "{err}");
    // The previous results survive: valid file, same scores as before the failed run.
    assert_eq!(integrity(&after), "ok");
    assert_eq!(scores(&after), scores(good));
}

// ---------------------------------------------------------------------------------------------
// Crash safety and concurrency
// ---------------------------------------------------------------------------------------------

fn seed() -> u64 {
    std::env::var("BNA_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

fn checkpoints(p: &Path) -> Vec<String> {
    if std::fs::metadata(p).map(|m| m.len() == 0).unwrap_or(true) {
        return Vec::new();
    }
    let c = Connection::open(p).unwrap();
    let exists: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'bna_checkpoints'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if exists == 0 {
        return Vec::new();
    }
    let mut st = c.prepare("SELECT stage FROM bna_checkpoints").unwrap();
    let v = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    v
}

/// The stored city scores if the project has committed results, `None` otherwise.
fn committed_scores(p: &Path) -> Option<Vec<(String, Option<f64>)>> {
    let c = Connection::open(p).ok()?;
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'bna_results_blob'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    let rows: i64 = if n > 0 {
        c.query_row("SELECT count(*) FROM bna_results_blob", [], |r| r.get(0))
            .unwrap()
    } else {
        0
    };
    (rows > 0).then(|| scores(p))
}

#[test]
fn sigkill_at_random_points_never_corrupts_and_the_next_run_resumes() {
    let reference = dc_reference();
    let seed = seed();
    println!("SIGKILL loop seed: {seed} (rerun with BNA_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    // Time a fresh and a resumed run (under the current load), so the kills spread over them.
    let timing = dir.path().join("timing.bna");
    let t0 = Instant::now();
    run_ok(&dc_args(&timing));
    let fresh = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    run_ok(&dc_args(&timing));
    let resumed = t0.elapsed().as_secs_f64();
    let mut live_kills = 0;
    // Each round starts from no project and kills a chain of runs, each resuming the last, so
    // kills land in every stage, in the checkpoint writes and in the final save.
    for round in 0..4 {
        let project = dir.path().join(format!("dc{round}.bna"));
        for kill in 0..3 {
            let delay = rng.gen_range(0.0..if kill == 0 { fresh } else { resumed });
            let mut child = Command::new(bin())
                .args(dc_args(&project))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_secs_f64(delay));
            let finished = child.try_wait().unwrap().is_some();
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            live_kills += usize::from(!finished);
            println!(
                "round {round} kill {kill}: after {delay:.2}s (fresh run {fresh:.2}s, resumed \
                 {resumed:.2}s; had finished: {finished}); checkpoints: {:?}",
                checkpoints(&project)
            );
            if project.exists() {
                assert_eq!(integrity(&project), "ok", "round {round} kill {kill}");
                // Results are all or nothing: any committed ones are the complete ones.
                if let Some(found) = committed_scores(&project) {
                    assert_eq!(
                        &found, reference,
                        "round {round} kill {kill}: partial results"
                    );
                }
            }
        }
        let before = checkpoints(&project);
        let out = run_ok(&dc_args(&project));
        for stage in &before {
            assert!(
                out.lines()
                    .any(|l| l.contains(&format!("{stage} ")) && l.contains("(checkpoint)")),
                "round {round}: stage {stage} was checkpointed but recomputed:\n{out}"
            );
        }
        assert_eq!(integrity(&project), "ok");
        assert_eq!(&scores(&project), reference, "round {round}");
    }
    assert!(
        live_kills >= 3,
        "only {live_kills} kills hit a running analysis"
    );
}

#[test]
fn two_concurrent_analyses_of_one_project_do_not_interleave() {
    let reference = dc_reference();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("dc.bna");
    let spawn = || {
        Command::new(bin())
            .args(dc_args(&project))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let outcomes: Vec<(bool, String, String)> = [a, b]
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .collect();
    assert!(
        outcomes.iter().any(|(ok, _, _)| *ok),
        "neither finished: {outcomes:?}"
    );
    if outcomes.iter().all(|(ok, _, _)| *ok) {
        // The second waited for the first and then found every stage checkpointed.
        assert!(
            outcomes
                .iter()
                .any(|(_, out, _)| out.matches("(checkpoint)").count() >= 6),
            "both ran at once: {outcomes:?}"
        );
    }
    for (ok, _, err) in &outcomes {
        if !ok {
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.contains(&s(&project)) && err.contains("another bna process"),
                "{err}"
            );
        }
    }
    assert_eq!(integrity(&project), "ok");
    assert_eq!(&scores(&project), reference);
    assert!(!PathBuf::from(format!("{}.lock", project.display())).exists());
}

#[test]
fn an_analysis_refuses_a_project_another_process_is_analysing() {
    let (_, good, good_bytes) = good_project();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("busy.bna");
    std::fs::copy(good, &project).unwrap();
    // This test process plays the other analysis.
    let held = bna_engine::store::ProjectLock::acquire(&project, Duration::ZERO).unwrap();
    let t0 = Instant::now();
    let o = bna(&analyze_args(
        &data("helsinki/boundary-centre.geojson"),
        &data("helsinki/helsinki-center.osm.pbf"),
        &project,
    ));
    let waited = t0.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&s(&project)) && err.contains("another bna process"),
        "{err}"
    );
    assert!(
        waited >= Duration::from_secs(bna_engine::params::PROJECT_LOCK_WAIT_S),
        "refused without waiting: {waited:?}"
    );
    assert!(std::fs::read(&project).unwrap() == *good_bytes, "modified");
    drop(held);
    run_ok(&analyze_args(
        &data("helsinki/boundary-centre.geojson"),
        &data("helsinki/helsinki-center.osm.pbf"),
        &project,
    ));
}
