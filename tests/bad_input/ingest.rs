//! Input files and settings that make no sense (issue 18, "Crashes" and "Values that make no
//! sense"): damaged `.dbf`s and zips of census blocks, impossible populations and job counts,
//! repeated rows, invalid FIPS codes and speeds, scenario edits no street has and scenario names
//! that would disguise themselves. Every input is generated here, into a temporary folder.
//!
//! A refusal is exit 2 and one line naming the file (and the row or line) or the setting;
//! where a warning is the right answer the run succeeds and the warning is on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::support::{assert_one_line_failure, bin, bna, data};
use bna_test_support::made::{dbf, lie_about_sizes, patched, zip_of};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

const DC_BOUNDARY: &str = "us-dc/boundary-columbia-heights.geojson";
const DC_OSM: &str = "us-dc/dc-nw-2016-highways.osm.pbf";
const DC_BLOCKS: &str = "us-dc/tl_2021_11_tabblock20.zip";
const DC_JOBS: &str = "us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz";

/// What one analysis is given: files (None = DC's real one, where it is needed) and settings.
#[derive(Default, Clone)]
struct Inputs {
    blocks: Option<PathBuf>,
    jobs: Option<PathBuf>,
    /// No `--blocks` (nor `--jobs`): the synthetic population grid.
    synthetic: bool,
    settings: Vec<String>,
}

fn analyze_args(inputs: &Inputs, out: &Path) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "analyze".into(),
        "--quiet".into(),
        "--boundary".into(),
        s(&data(DC_BOUNDARY)),
        "--osm".into(),
        s(&data(DC_OSM)),
        "--out".into(),
        s(out),
    ];
    if !inputs.synthetic {
        let blocks = inputs.blocks.clone().unwrap_or_else(|| data(DC_BLOCKS));
        let jobs = inputs.jobs.clone().unwrap_or_else(|| data(DC_JOBS));
        // DC's TIGER file has no POP20: the jobs join needs the blocks, the grid the people.
        a.extend([
            "--blocks".into(),
            s(&blocks),
            "--jobs".into(),
            s(&jobs),
            "--population".into(),
            "synthetic".into(),
        ]);
    }
    a.extend(inputs.settings.iter().cloned());
    a
}

// ---------------------------------------------------------------------------------------------
// Generated files
// ---------------------------------------------------------------------------------------------

/// Two blocks' attributes, as TIGER names them.
fn blocks_dbf() -> Vec<u8> {
    let rec = |geoid: &str, pop: u32| format!("{geoid}{pop:>9}").into_bytes();
    dbf(
        &[("GEOID20", b'C', 15), ("POP20", b'N', 9)],
        &[rec("110010031001000", 12), rec("110010031001001", 30)],
    )
}

/// A polygon shapefile of `n` small squares in Columbia Heights.
fn shp(n: usize) -> Vec<u8> {
    let mut records = Vec::new();
    for i in 0..n {
        let (x, y) = (-77.03 + 0.001 * i as f64, 38.93);
        let ring = [
            (x, y),
            (x, y + 0.001),
            (x + 0.001, y + 0.001),
            (x + 0.001, y),
            (x, y),
        ];
        let mut c = 5i32.to_le_bytes().to_vec();
        for v in [x, y, x + 0.001, y + 0.001] {
            c.extend(v.to_le_bytes());
        }
        c.extend(1i32.to_le_bytes());
        c.extend((ring.len() as i32).to_le_bytes());
        c.extend(0i32.to_le_bytes());
        for (px, py) in ring {
            c.extend(px.to_le_bytes());
            c.extend(py.to_le_bytes());
        }
        records.extend((i as i32 + 1).to_be_bytes());
        records.extend(((c.len() / 2) as i32).to_be_bytes());
        records.extend(c);
    }
    let mut h = Vec::new();
    h.extend(9994i32.to_be_bytes());
    h.extend([0u8; 20]);
    h.extend((((100 + records.len()) / 2) as i32).to_be_bytes());
    h.extend(1000i32.to_le_bytes());
    h.extend(5i32.to_le_bytes());
    for v in [-77.03, 38.93, -77.02, 38.94, 0.0, 0.0, 0.0, 0.0] {
        h.extend(f64::to_le_bytes(v));
    }
    h.extend(records);
    h
}

/// A zipped block shapefile whose `.dbf` is `dbf_bytes`.
fn zipped_blocks(dbf_bytes: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("tl_x_tabblock20.shp", &shp(2)),
        ("tl_x_tabblock20.dbf", dbf_bytes),
    ])
}

/// A GeoJSON block file: (GEOID, population JSON) per square.
fn geojson_blocks(blocks: &[(&str, &str)]) -> Vec<u8> {
    let features: Vec<String> = blocks
        .iter()
        .enumerate()
        .map(|(i, (geoid, pop))| {
            let x = -77.03 + 0.001 * i as f64;
            format!(
                r#"{{"type":"Feature","properties":{{"GEOID20":"{geoid}","POP20":{pop}}},"geometry":{{"type":"Polygon","coordinates":[[[{x},38.93],[{x1},38.93],[{x1},38.931],[{x},38.931],[{x},38.93]]]}}}}"#,
                x1 = x + 0.001
            )
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
    .into_bytes()
}

/// DC's real WAC file as text, for rows that alter it.
fn dc_wac_text() -> String {
    use std::io::Read;
    let gz = std::fs::read(data(DC_JOBS)).unwrap();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

/// One refusal: the files the row writes (name, bytes), how they are passed, and the words the
/// single error line must hold besides the file name.
struct Refusal {
    name: &'static str,
    /// Files written into the row's folder.
    files: Vec<(&'static str, Vec<u8>)>,
    inputs: Box<dyn Fn(&Path) -> Inputs>,
    must_mention: Vec<&'static str>,
}

fn blocks_at(file: &'static str) -> impl Fn(&Path) -> Inputs {
    move |dir| Inputs {
        blocks: Some(dir.join(file)),
        ..Inputs::default()
    }
}

fn refusals() -> Vec<Refusal> {
    let zeroed_dbf = vec![0u8; 64];
    let good_dbf = blocks_dbf();
    let wac = "w_geocode,C000\n";
    let od = "w_geocode,h_geocode,S000\n";
    macro_rules! blocks_row {
        ($name:expr, $file:literal, $bytes:expr, [$($m:expr),*]) => {
            Refusal {
                name: $name,
                files: vec![($file, $bytes)],
                inputs: Box::new(blocks_at($file)),
                must_mention: vec![$file, $($m),*],
            }
        };
    }
    macro_rules! jobs_row {
        ($name:expr, $file:literal, $bytes:expr, [$($m:expr),*]) => {
            Refusal {
                name: $name,
                files: vec![($file, $bytes)],
                inputs: Box::new(|dir: &Path| Inputs {
                    jobs: Some(dir.join($file)),
                    ..Inputs::default()
                }),
                must_mention: vec![$file, $($m),*],
            }
        };
    }
    let mut rows = vec![
        // Damaged .dbf: each panicked with "capacity overflow" or an unwrap (exit 101).
        blocks_row!(
            "64 zeroed bytes as the .dbf, zipped",
            "zeroed-dbf.zip",
            zipped_blocks(&zeroed_dbf),
            [".dbf", "header"]
        ),
        blocks_row!(
            "header length 0",
            "header-0.zip",
            zipped_blocks(&patched(good_dbf.clone(), 8, &[0, 0])),
            [".dbf", "header says it is 0 bytes"]
        ),
        blocks_row!(
            "header length beyond the file",
            "header-long.zip",
            zipped_blocks(&patched(good_dbf.clone(), 8, &[0xff, 0x7f])),
            [".dbf", "impossible"]
        ),
        blocks_row!(
            "more records than the file holds",
            "records.zip",
            zipped_blocks(&patched(good_dbf.clone(), 4, &u32::MAX.to_le_bytes())),
            [".dbf", "truncated"]
        ),
        blocks_row!(
            "record length disagrees with the columns",
            "record-length.zip",
            zipped_blocks(&patched(good_dbf.clone(), 10, &[3, 0])),
            [".dbf", "add up to 25"]
        ),
        blocks_row!(
            "a 2-byte integer column",
            "short-int.zip",
            zipped_blocks(&dbf(
                &[("GEOID20", b'C', 15), ("N", b'I', 2)],
                &[b"110010031001000ab".to_vec(), b"110010031001001ab".to_vec()]
            )),
            [".dbf", "column \"N\"", "takes 4"]
        ),
        blocks_row!(
            "a date that is not YYYYMMDD",
            "bad-date.zip",
            zipped_blocks(&dbf(
                &[("GEOID20", b'C', 15), ("DAY", b'D', 8)],
                &[
                    b"11001003100100020200101".to_vec(),
                    b"110010031001001  2020  ".to_vec()
                ]
            )),
            ["record 1", "date column \"DAY\""]
        ),
        blocks_row!(
            "a column type dBase does not have",
            "type-g.zip",
            zipped_blocks(&dbf(
                &[("GEOID20", b'G', 15)],
                &[b"110010031001000".to_vec(), b"110010031001001".to_vec()]
            )),
            ["type 'G'"]
        ),
        blocks_row!(
            "a number column holding text",
            "text-pop.zip",
            zipped_blocks(&dbf(
                &[("GEOID20", b'C', 15), ("POP20", b'N', 9)],
                &[
                    b"110010031001000       12".to_vec(),
                    b"110010031001001      abc".to_vec()
                ]
            )),
            [
                "tl_x_tabblock20.dbf",
                "record 1",
                "column \"POP20\"",
                "number"
            ]
        ),
        blocks_row!(
            "a record marked deleted",
            "deleted.zip",
            zipped_blocks(&patched(good_dbf.clone(), 97 + 25, b"*")),
            ["tl_x_tabblock20.dbf", "record 1 is marked deleted"]
        ),
        // Zips.
        blocks_row!(
            "a zip bomb",
            "bomb.zip",
            zip_of(&[("b.shp", &vec![0u8; 64 << 20]), ("b.dbf", &good_dbf)]),
            ["b.shp", "zip bomb"]
        ),
        blocks_row!(
            "a zip whose directory understates a bomb",
            "liar.zip",
            lie_about_sizes(zip_of(&[("b.shp", &vec![0u8; 64 << 20])]), 1000),
            ["b.shp"]
        ),
        blocks_row!(
            "a truncated zip",
            "cut.zip",
            {
                let z = zipped_blocks(&good_dbf);
                z[..z.len() / 2].to_vec()
            },
            ["zip"]
        ),
        blocks_row!(
            "a zip without a .shp",
            "no-shp.zip",
            zip_of(&[("readme.txt", b"hello")]),
            ["no .shp", "readme.txt"]
        ),
        // Shapefile records.
        blocks_row!(
            "a .shp cut in the middle of a record",
            "cut-shp.zip",
            {
                let s = shp(2);
                zip_of(&[("c.shp", &s[..s.len() - 20]), ("c.dbf", &good_dbf)])
            },
            ["c.shp", "export the file again"]
        ),
        // Values.
        blocks_row!(
            "negative population",
            "negative.geojson",
            geojson_blocks(&[("110010031001000", "12"), ("110010031001001", "-40")]),
            ["feature 1", "GEOID 110010031001001", "cannot be negative"]
        ),
        blocks_row!(
            "absurd population",
            "absurd.geojson",
            geojson_blocks(&[("110010031001000", "9.2e18")]),
            ["feature 0", "POP20", "more than the 1000000"]
        ),
        blocks_row!(
            "the same GEOID twice",
            "twice.geojson",
            geojson_blocks(&[
                ("110010031001000", "1"),
                ("110010031001001", "2"),
                ("110010031001000", "3")
            ]),
            ["feature 2 repeats GEOID 110010031001000 of feature 0"]
        ),
        jobs_row!(
            "negative jobs",
            "negative.csv",
            format!("{wac}110010031001000,5\n110010031001001,-7\n").into_bytes(),
            ["line 3", "C000", "negative"]
        ),
        jobs_row!(
            "1e22 jobs",
            "huge.csv",
            format!("{wac}110010031001000,1e22\n").into_bytes(),
            ["line 2", "C000", "more than"]
        ),
        jobs_row!(
            "NaN jobs",
            "nan.csv",
            format!("{wac}110010031001000,NaN\n").into_bytes(),
            ["line 2", "not a number"]
        ),
        jobs_row!(
            "a WAC row twice",
            "twice.csv",
            format!("{wac}110010031001000,5\n110010031001001,7\n110010031001000,5\n").into_bytes(),
            ["line 4 repeats the w_geocode of line 2"]
        ),
        jobs_row!(
            "an OD pair twice",
            "od-twice.csv",
            format!("{od}110010031001000,110010031001001,3\n110010031001000,110010031001001,3\n")
                .into_bytes(),
            ["line 3 repeats the w_geocode and h_geocode of line 2"]
        ),
        jobs_row!(
            "a header and nothing else",
            "header-only.csv",
            wac.as_bytes().to_vec(),
            ["no rows of jobs"]
        ),
        jobs_row!(
            "a header and blank lines",
            "blank.csv",
            format!("{wac}\n\n\n").into_bytes(),
            ["no rows of jobs"]
        ),
    ];
    // Issue 18, second attack (F7, F8, F11).
    rows.push(blocks_row!(
        "a .dbf declaring 1 record beside 2 shapes",
        "counts.zip",
        zipped_blocks(&patched(good_dbf.clone(), 4, &1u32.to_le_bytes())),
        ["2 shapes", "1 records", "export the shapefile again"]
    ));
    let census = |file: &'static str| {
        move |dir: &Path| Inputs {
            synthetic: true,
            settings: vec![
                "--blocks".into(),
                s(&dir.join(file)),
                "--population".into(),
                "census".into(),
            ],
            ..Inputs::default()
        }
    };
    rows.push(Refusal {
        name: "POP20 null in every feature",
        files: vec![(
            "null-pop.geojson",
            geojson_blocks(&[("110010031001000", "null"), ("110010031001001", "null")]),
        )],
        inputs: Box::new(census("null-pop.geojson")),
        must_mention: vec![
            "null-pop.geojson",
            "POP20 column but it holds no numbers",
            "feature 0",
        ],
    });
    let stars = |geoid: &str| format!("{geoid}*********").into_bytes();
    rows.push(Refusal {
        name: "POP20 all dBASE overflow stars",
        files: vec![(
            "stars.zip",
            zipped_blocks(&dbf(
                &[("GEOID20", b'C', 15), ("POP20", b'N', 9)],
                &[stars("110010031001000"), stars("110010031001001")],
            )),
        )],
        inputs: Box::new(census("stars.zip")),
        must_mention: vec!["stars.zip", "POP20 column but it holds no numbers"],
    });
    rows.push(jobs_row!(
        "a fractional job count",
        "fractional.csv",
        format!("{wac}110010031001000,12.5\n").into_bytes(),
        ["line 2", "12.5", "whole numbers"]
    ));
    rows.push(Refusal {
        name: "a bare .shp whose .dbf is 64 zeroed bytes",
        files: vec![("bare.shp", shp(2)), ("bare.dbf", zeroed_dbf)],
        inputs: Box::new(blocks_at("bare.shp")),
        must_mention: vec!["bare.shp", ".dbf", "header"],
    });
    rows.push(Refusal {
        name: "a folder as the block file",
        files: vec![("folder/inside.txt", b"x".to_vec())],
        inputs: Box::new(blocks_at("folder")),
        must_mention: vec!["folder", "is a folder, not a file"],
    });
    rows.push(Refusal {
        name: "a folder as the jobs file",
        files: vec![("jobs-folder/inside.txt", b"x".to_vec())],
        inputs: Box::new(|dir: &Path| Inputs {
            jobs: Some(dir.join("jobs-folder")),
            ..Inputs::default()
        }),
        must_mention: vec!["jobs-folder", "is a folder, not a file"],
    });
    for (flag, value, words) in [
        ("--city-fips", "abc", "7 digits"),
        ("--city-fips", "99999999", "7 digits"),
        ("--city-fips", "0000000", "7 digits"),
        ("--city-fips", "1150000x", "7 digits"),
        ("--state-fips", "xx", "2-digit"),
        ("--state-fips", "99", "2-digit"),
        ("--state-fips", "-1", "2-digit"),
        ("--residential-speed", "0", "from 5 to 65 mph"),
    ] {
        rows.push(Refusal {
            name: flag,
            files: vec![],
            inputs: Box::new(move |_: &Path| with_setting(&format!("{flag}={value}"))),
            must_mention: vec![flag, value, words],
        });
    }
    rows
}

fn with_setting(arg: &str) -> Inputs {
    Inputs {
        settings: vec![arg.to_string()],
        ..Inputs::default()
    }
}

#[test]
fn nonsense_inputs_are_refused_with_one_line_naming_the_file() {
    let mut failures = Vec::new();
    for row in refusals() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in &row.files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        let out = dir.path().join("out.bna");
        let inputs = (row.inputs)(dir.path());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let o = bna(&analyze_args(&inputs, &out));
            assert_one_line_failure(&o, 2, &row.must_mention);
            // A `\` line continuation written wrong keeps the next line's indentation.
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("   "), "a run of spaces in: {err}");
            assert!(!out.exists(), "a project was left behind");
        }));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", row.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Warnings, then scenarios on the project they produced
// ---------------------------------------------------------------------------------------------

fn warning_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("warning"))
        .map(str::to_string)
        .collect()
}

#[test]
fn doubtful_jobs_warn_and_bad_scenarios_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // DC's jobs with blank lines in the middle: counted, with a warning naming the first.
    let text = dc_wac_text();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "");
    lines.insert(4, "");
    let jobs = dir.path().join("gappy.csv");
    std::fs::write(&jobs, lines.join("\n") + "\n").unwrap();
    let project = dir.path().join("p.bna");
    let inputs = Inputs {
        jobs: Some(jobs),
        ..Inputs::default()
    };
    let o = bna(&analyze_args(&inputs, &project));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    let warnings = warning_lines(&o.stderr);
    assert!(
        warnings.iter().any(|w| w.contains("gappy.csv")
            && w.contains("2 blank lines between rows were skipped (the first at line 4)")),
        "{err}"
    );

    // Scenario edits no street has, and names that would disguise themselves in `list`.
    let edits = |json: &str| {
        let p = dir.path().join("edits.json");
        std::fs::write(&p, json).unwrap();
        p
    };
    let lanes = r#"[{"kind":"segment","road_id":0,"change":{"Lanes":{"direction":"Ft","lanes":4294967295}}}]"#;
    let speed = r#"[{"kind":"segment","road_id":0,"change":{"SpeedLimit":0}}]"#;
    let park =
        r#"[{"kind":"segment","road_id":0,"change":{"Parking":{"direction":"Tf","park":7}}}]"#;
    let good = r#"[{"kind":"build","road_id":0,"facility":"bike_lane"}]"#;
    // (name, edits, scenario name, words of the error)
    let rows: [(&str, &str, &str, &[&str]); 7] = [
        (
            "lanes",
            lanes,
            "wide",
            &["p.bna", "edit 0 (segment 0)", "4294967295 lanes"],
        ),
        ("speed", speed, "slow", &["p.bna", "edit 0", "0 mph"]),
        ("parking", park, "parked", &["p.bna", "edit 0", "parking 7"]),
        (
            "right-to-left override",
            good,
            "a\u{202E}gnp.exe",
            &["p.bna", "U+202E"],
        ),
        ("newline", good, "ok\nbase  99.0", &["p.bna", "U+000A"]),
        ("escape sequence", good, "x\u{1b}[2J", &["p.bna", "U+001B"]),
        (
            "zero-width space",
            good,
            "tra\u{200B}cks",
            &["p.bna", "U+200B"],
        ),
    ];
    for (what, json, name, words) in rows {
        let e = edits(json);
        let o = bna(&[
            "scenario",
            "apply",
            &s(&project),
            &s(&e),
            "--name",
            name,
            "--quiet",
        ]);
        assert_one_line_failure(&o, 2, words);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains('\u{202E}') && !err.contains('\u{1b}'),
            "{what}: raw control in {err}"
        );
    }
    let list = bna(&["scenario", "list", &s(&project)]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert_eq!(list.status.code(), Some(0));
    assert_eq!(
        listed.lines().filter(|l| l.contains("99.0")).count(),
        0,
        "{listed}"
    );
    // An edits file saved with a UTF-8 byte-order mark (Windows editors) is accepted.
    let o = bna(&[
        "scenario",
        "apply",
        &s(&project),
        &s(&edits(&format!("\u{feff}{good}"))),
        "--name",
        "bom",
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A sane edit under a plain name is still accepted.
    let o = bna(&[
        "scenario",
        "apply",
        &s(&project),
        &s(&edits(good)),
        "--name",
        "lane 0",
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `bna` under a shell with `ulimit -v` (KiB of address space) and a time limit: a reader
/// that buffers what it should stream is killed (137) or times out (124) instead of refusing.
fn bna_bounded(args: &[String], kib: u64) -> (std::process::Output, std::time::Duration) {
    let started = std::time::Instant::now();
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v {kib}; exec timeout 120 \"$0\" \"$@\" </dev/zero"
        ))
        .arg(bin())
        .args(args)
        .output()
        .expect("run bna under bash");
    (o, started.elapsed())
}

/// Issue 18, second attack (F3, F4): inputs that never end, or hold gigabytes of nothing, are
/// refused at once with bounded memory, and devices and pipes before they are opened.
#[test]
fn endless_and_padded_inputs_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of newlines or NULs after the real WAC header (≈ 64 KB gzipped each): before
    // the fix a gigabyte of newlines took 16.8 GB and 36 s.
    let header = dc_wac_text().lines().next().unwrap().to_string() + "\n";
    let gz = |name: &str, fill: u8| {
        let p = dir.path().join(name);
        let mut w = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::best(),
        );
        w.write_all(header.as_bytes()).unwrap();
        let chunk = vec![fill; 1 << 20];
        for _ in 0..64 {
            w.write_all(&chunk).unwrap();
        }
        w.finish().unwrap();
        p
    };
    let newlines = gz("newlines.csv.gz", b'\n');
    let nuls = gz("nuls.csv.gz", 0);
    for (file, words) in [
        (
            &newlines,
            vec!["newlines.csv.gz", "blank lines in a row from line 2"],
        ),
        (&nuls, vec!["nuls.csv.gz", "is not a CSV text file", "NUL"]),
    ] {
        let inputs = Inputs {
            jobs: Some(file.clone()),
            ..Inputs::default()
        };
        let (o, took) = bna_bounded(&analyze_args(&inputs, &dir.path().join("o.bna")), 1_500_000);
        assert_one_line_failure(&o, 2, &words);
        assert!(took.as_secs() < 30, "{file:?} took {took:?}");
    }

    // Devices and a named pipe without a writer, as each input: refused before opening.
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let fifo = s(&fifo);
    let out = s(&dir.path().join("o.bna"));
    let (boundary, osm) = (s(&data(DC_BOUNDARY)), s(&data(DC_OSM)));
    let (blocks, jobs) = (s(&data(DC_BLOCKS)), s(&data(DC_JOBS)));
    for (flag, path, kind) in [
        ("--boundary", "/dev/zero", "is a device, not a file"),
        ("--boundary", fifo.as_str(), "is a named pipe, not a file"),
        ("--osm", "/dev/zero", "is a device, not a file"),
        ("--osm", fifo.as_str(), "is a named pipe, not a file"),
        ("--blocks", "/dev/zero", "is a device, not a file"),
        ("--blocks", fifo.as_str(), "is a named pipe, not a file"),
        ("--jobs", "/dev/stdin", "is a device, not a file"),
        ("--jobs", fifo.as_str(), "is a named pipe, not a file"),
    ] {
        let mut args: Vec<String> = ["analyze", "--quiet", "--out", out.as_str()]
            .map(String::from)
            .to_vec();
        for (f, default) in [
            ("--boundary", &boundary),
            ("--osm", &osm),
            ("--blocks", &blocks),
            ("--jobs", &jobs),
        ] {
            args.extend([
                f.to_string(),
                if f == flag { path } else { default }.to_string(),
            ]);
        }
        args.extend(["--population".into(), "synthetic".into()]);
        let (o, took) = bna_bounded(&args, 4_000_000);
        assert_one_line_failure(&o, 2, &[path, kind, "pass the file itself"]);
        assert!(took.as_secs() < 30, "{flag} {path} took {took:?}");
    }
    // The scenario edits file: checked before the project is even opened.
    let args: Vec<String> = [
        "scenario",
        "apply",
        &out,
        "/dev/zero",
        "--name",
        "x",
        "--quiet",
    ]
    .map(String::from)
    .to_vec();
    let (o, _) = bna_bounded(&args, 4_000_000);
    assert_one_line_failure(&o, 2, &["/dev/zero", "is a device, not a file"]);
}

/// `bna batch submit` checks the same settings before it uploads anything or queues a job.
#[test]
fn batch_submit_refuses_nonsense_settings_before_submitting() {
    for (flag, value) in [
        ("--state-fips", "99"),
        ("--city-fips", "abc"),
        ("--residential-speed", "0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.bna");
        let mut args = analyze_args(&with_setting(&format!("{flag}={value}")), &out);
        // `analyze --quiet …` → `batch submit --local …`: the same inputs, through the worker path.
        args.splice(
            0..2,
            ["batch".to_string(), "submit".into(), "--local".into()],
        );
        let o = std::process::Command::new(bin())
            .args(&args)
            .env("BNA_CLOUD_CONFIG", dir.path().join("cloud.json"))
            .output()
            .unwrap();
        assert_one_line_failure(&o, 2, &[flag, value]);
        assert!(!out.exists(), "{flag}: a project was left behind");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{flag}: files written"
        );
    }
}
