//! Where results are written (issue 18, "Data loss" and broken outputs): `analyze --out`,
//! `export --dir`, `scenario report --out` given a FIFO, a socket, a folder, a symbolic link,
//! an empty file, someone else's file or the project itself; exports on a full disk; standard
//! output that is a closed pipe or a full device. Every row says what must still be true after:
//! in most rows, every file in the row's folder is exactly as it was (type, bytes, link target).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::support::{assert_one_line_failure, bin, data};

/// Longer than any run here takes; a run still going then is hung (on a FIFO, say).
const TIME_LIMIT: Duration = Duration::from_secs(120);

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Runs bna with `stdout` as given, killing it (and failing) if it outlives [`TIME_LIMIT`].
fn run_limited(args: &[String], stdout: Stdio) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bna");
    let mut err_pipe = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let mut out_pipe = child.stdout.take();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut v);
        }
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bna {args:?} hung for {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

fn run(args: &[String]) -> Output {
    run_limited(args, Stdio::piped())
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| x.to_string()).collect()
}

#[track_caller]
fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Helsinki centre, the smallest bundled case: a valid analysis into `out`.
fn valid_analysis(out: &Path) -> Vec<String> {
    args(&[
        "analyze",
        "--quiet",
        "--boundary",
        &s(&data("helsinki/boundary-centre.geojson")),
        "--osm",
        &s(&data("helsinki/helsinki-center.osm.pbf")),
        "--out",
        &s(out),
    ])
}

/// Inputs that pass validation but fail in the osm stage (the boundary lies outside the
/// extract), after the project file has been opened: what a failed run leaves behind.
fn failing_analysis(dir: &Path, out: &Path) -> Vec<String> {
    let paris = dir.join("paris.geojson");
    if !paris.exists() {
        std::fs::write(
            &paris,
            r#"{"type":"Polygon","coordinates":[[[2.0,48.0],[2.1,48.0],[2.1,48.1],[2.0,48.1],[2.0,48.0]]]}"#,
        )
        .unwrap();
    }
    args(&[
        "analyze",
        "--quiet",
        "--boundary",
        &s(&paris),
        "--osm",
        &s(&data("us-dc/dc-nw-2016-highways.osm.pbf")),
        "--out",
        &s(out),
    ])
}

/// An analysed project, made once and copied by each row that needs one.
fn analysed() -> &'static (tempfile::TempDir, PathBuf) {
    static P: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.bna");
        assert_ok(&run(&valid_analysis(&p)), "analysing Helsinki");
        // Scenario tables are made on first use; made now, reading a copy changes nothing.
        assert_ok(&run(&args(&["scenario", "list", &s(&p)])), "scenario list");
        (dir, p)
    })
}

fn copy_project(to: &Path) -> PathBuf {
    std::fs::copy(&analysed().1, to).unwrap();
    to.to_path_buf()
}

/// What is at a path, without following links.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File(Vec<u8>),
    Folder,
    Link(PathBuf),
    Fifo,
    Socket,
    Other,
}

fn entry(p: &Path) -> Option<Entry> {
    use std::os::unix::fs::FileTypeExt;
    let m = std::fs::symlink_metadata(p).ok()?;
    let t = m.file_type();
    Some(if t.is_symlink() {
        Entry::Link(std::fs::read_link(p).unwrap())
    } else if t.is_dir() {
        Entry::Folder
    } else if t.is_file() {
        Entry::File(std::fs::read(p).unwrap())
    } else if t.is_fifo() {
        Entry::Fifo
    } else if t.is_socket() {
        Entry::Socket
    } else {
        Entry::Other
    })
}

/// Everything under `dir` (not following links), by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let en = entry(&p).unwrap();
            if en == Entry::Folder {
                todo.push(p.clone());
            }
            out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), en);
        }
    }
    out
}

#[track_caller]
fn assert_tree_unchanged(case: &str, dir: &Path, before: &BTreeMap<PathBuf, Entry>) {
    let after = tree(dir);
    for (p, e) in before {
        assert_eq!(after.get(p), Some(e), "{case}: {} changed", p.display());
    }
    let new: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert!(new.is_empty(), "{case}: new files {new:?}");
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo");
    assert!(st.success());
}

fn socket(p: &Path) {
    drop(std::os::unix::net::UnixListener::bind(p).unwrap());
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn foreign_sqlite(p: &Path) {
    let c = rusqlite::Connection::open(p).unwrap();
    c.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ann');")
        .unwrap();
}

fn is_bna_project(p: &Path) -> bool {
    rusqlite::Connection::open(p)
        .and_then(|c| {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'bna_meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .is_ok_and(|n| n == 1)
}

// ---------------------------------------------------------------------------------------------
// analyze --out
// ---------------------------------------------------------------------------------------------

enum Inputs {
    /// Valid inputs: anything refused is refused for the path alone.
    Valid,
    /// Inputs that fail after the project file has been opened.
    FailingLater,
}

#[test]
fn analyze_never_damages_or_deletes_what_is_at_its_out_path() {
    type Prepare = fn(&Path) -> PathBuf;
    #[rustfmt::skip]
    let rows: Vec<(&str, Prepare, Inputs, i32, &[&str])> = vec![
        ("a FIFO", |d| { let p = d.join("fifo.bna"); mkfifo(&p); p }, Inputs::Valid, 2, &["named pipe"]),
        ("a socket", |d| { let p = d.join("sock.bna"); socket(&p); p }, Inputs::Valid, 2, &["socket"]),
        ("a folder", |d| { let p = d.join("folder.bna"); std::fs::create_dir(&p).unwrap(); p }, Inputs::Valid, 2, &["a folder"]),
        ("a link to a project", |d| {
            let target = copy_project(&d.join("real.bna"));
            let p = d.join("link.bna"); symlink(&target, &p); p
        }, Inputs::FailingLater, 2, &["symbolic link"]),
        ("a link to nothing", |d| {
            let p = d.join("dangling.bna"); symlink(&d.join("nowhere.bna"), &p); p
        }, Inputs::Valid, 2, &["symbolic link"]),
        ("a text file", |d| {
            let p = d.join("notes.bna"); std::fs::write(&p, "my notes\n").unwrap(); p
        }, Inputs::Valid, 2, &["not an SQLite database"]),
        ("another program's database", |d| {
            let p = d.join("shop.bna"); foreign_sqlite(&p); p
        }, Inputs::Valid, 2, &["not a .bna project"]),
        ("an empty file, failing run", |d| {
            let p = d.join("empty.bna"); std::fs::write(&p, b"").unwrap(); p
        }, Inputs::FailingLater, 2, &["outside the OSM extract"]),
        ("a new file, failing run", |d| d.join("new.bna"), Inputs::FailingLater, 2, &["outside the OSM extract"]),
        ("someone's file where the lock goes", |d| {
            std::fs::write(d.join("locked.bna.lock"), "keep me").unwrap();
            d.join("locked.bna")
        }, Inputs::Valid, 2, &["locked.bna.lock"]),
    ];
    for (case, prepare, inputs, code, mentions) in rows {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("case");
        std::fs::create_dir(&d).unwrap();
        let out = prepare(&d);
        let a = match inputs {
            Inputs::Valid => valid_analysis(&out),
            Inputs::FailingLater => failing_analysis(dir.path(), &out),
        };
        let before = tree(&d);
        let o = run(&a);
        // A path refused is named (the lock file's name starts with the project's); a run that
        // fails later names its bad input instead.
        let named = s(&out);
        let named_if_refused = matches!(inputs, Inputs::Valid).then_some(named.as_str());
        let mentions: Vec<&str> = mentions.iter().copied().chain(named_if_refused).collect();
        assert_one_line_failure(&o, code, &mentions);
        assert_tree_unchanged(case, &d, &before);
    }
}

#[test]
fn analyze_fills_an_empty_file_and_resumes_an_existing_project() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.bna");
    std::fs::write(&empty, b"").unwrap();
    assert_ok(
        &run(&valid_analysis(&empty)),
        "analysing into an empty file",
    );
    assert!(
        is_bna_project(&empty),
        "the empty file now holds the project"
    );

    let existing = copy_project(&dir.path().join("again.bna"));
    let o = run(&valid_analysis(&existing));
    assert_ok(&o, "analysing an existing project again");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("osm") && stdout.contains("(checkpoint)"),
        "stages restored from checkpoints: {stdout}"
    );
}

#[test]
fn reading_a_project_never_blocks_on_or_fills_what_is_not_one() {
    type Prepare = fn(&Path) -> PathBuf;
    #[rustfmt::skip]
    let rows: Vec<(&str, Prepare, &[&str])> = vec![
        ("a FIFO", |d| { let p = d.join("fifo.bna"); mkfifo(&p); p }, &["named pipe"]),
        ("a link to a FIFO", |d| { mkfifo(&d.join("fifo")); let p = d.join("link.bna"); symlink(&d.join("fifo"), &p); p }, &["named pipe"]),
        ("a folder", |d| { let p = d.join("folder.bna"); std::fs::create_dir(&p).unwrap(); p }, &["a folder"]),
        ("an empty file", |d| { let p = d.join("empty.bna"); std::fs::write(&p, b"").unwrap(); p }, &["empty file", "bna analyze --out"]),
        ("a text file", |d| { let p = d.join("notes.bna"); std::fs::write(&p, "notes").unwrap(); p }, &["not an SQLite database"]),
        ("a missing project", |d| d.join("missing.bna"), &["missing.bna: project not found", "bna analyze --out"]),
    ];
    for (case, prepare, mentions) in rows {
        let dir = tempfile::tempdir().unwrap();
        let project = prepare(dir.path());
        let export_dir = dir.path().join("export");
        let before = tree(dir.path());
        for a in [
            args(&["scores", &s(&project)]),
            export_args(&project, "csv", &export_dir, false),
            args(&["scenario", "list", &s(&project)]),
        ] {
            let o = run(&a);
            assert_one_line_failure(&o, 2, mentions);
            assert_tree_unchanged(case, dir.path(), &before);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// export --dir
// ---------------------------------------------------------------------------------------------

const FORMATS: [&str; 6] = ["geojson", "shapefile", "csv", "gpkg", "mbtiles", "web"];

#[test]
fn an_export_folder_that_is_a_file_or_device_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = copy_project(&dir.path().join("p.bna"));
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    let before = tree(dir.path());
    for target in [file.clone(), PathBuf::from("/dev/null")] {
        let o = run(&export_args(&project, "geojson", &target, false));
        assert_one_line_failure(&o, 2, &[&s(&target), "is not a folder"]);
    }
    assert_tree_unchanged("--dir is a file", dir.path(), &before);
}

#[test]
fn a_linked_folder_inside_the_export_is_refused() {
    // `leaflet/` (the web page's assets) linked to another folder: writing through it would put
    // files where the user never said.
    let dir = tempfile::tempdir().unwrap();
    let project = copy_project(&dir.path().join("p.bna"));
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = dir.path().join("web");
    std::fs::create_dir(&out).unwrap();
    symlink(&elsewhere, &out.join("leaflet"));
    let before = tree(dir.path());
    for force in [false, true] {
        let o = run(&export_args(&project, "web", &out, force));
        assert_one_line_failure(&o, 2, &["leaflet", "symbolic link"]);
        assert_tree_unchanged("linked leaflet/", dir.path(), &before);
    }
}

#[test]
fn a_damaged_project_and_nonsense_scenario_requests_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let project = copy_project(&dir.path().join("p.bna"));
    let bytes = std::fs::read(&project).unwrap();
    let damaged = dir.path().join("damaged.bna");
    // The header and the first pages survive; the rest of the file is gone.
    std::fs::write(&damaged, &bytes[..bytes.len().min(50 * 1024)]).unwrap();
    let p = s(&project);
    let cases: Vec<(Vec<String>, &[&str])> = vec![
        (
            args(&["scores", &s(&damaged)]),
            &["damaged.bna is damaged", "backup"],
        ),
        (
            args(&["scenario", "delete", &p, "base"]),
            &["\"base\" is the analysis itself"],
        ),
        (args(&["scenario", "gains", &p, "--top", "0"]), &["--top"]),
        (
            args(&["scenario", "gains", &p, "--candidates", "0"]),
            &["--candidates"],
        ),
    ];
    for (a, mentions) in cases {
        let o = run(&a);
        assert_one_line_failure(&o, 2, mentions);
    }
}

fn export_args(project: &Path, format: &str, dir: &Path, force: bool) -> Vec<String> {
    let mut a = args(&["export", &s(project), "--format", format, "--dir", &s(dir)]);
    if force {
        a.push("--force".into());
    }
    a
}

#[test]
fn export_refuses_to_replace_what_it_did_not_write() {
    type Prepare = fn(&Path, &Path) -> PathBuf;
    // (case, format, prepare(export dir, copy of the project) → the project to export, force,
    // exit code, message)
    type Row = (
        &'static str,
        &'static str,
        Prepare,
        bool,
        i32,
        &'static [&'static str],
    );
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("someone's <project>.gpkg", "gpkg", |d, p| { std::fs::write(d.join("h.gpkg"), "my layers").unwrap(); p.into() }, false, 2, &["h.gpkg", "not written by bna", "--force"]),
        ("someone's <project>.mbtiles", "mbtiles", |d, p| { foreign_sqlite(&d.join("h.mbtiles")); p.into() }, false, 2, &["h.mbtiles", "not written by bna"]),
        ("someone's layer named like ours", "geojson", |d, p| { std::fs::write(d.join("neighborhood_ways.geojson"), r#"{"type":"FeatureCollection","name":"my_ways","features":[]}"#).unwrap(); p.into() }, false, 2, &["neighborhood_ways.geojson"]),
        ("someone's table named like ours", "csv", |d, p| { std::fs::write(d.join("neighborhood_overall_scores.csv"), "name,phone\n").unwrap(); p.into() }, false, 2, &["neighborhood_overall_scores.csv"]),
        ("someone's .dbf named like ours", "shapefile", |d, p| { std::fs::write(d.join("neighborhood_ways.dbf"), "not a table").unwrap(); p.into() }, false, 2, &["neighborhood_ways.dbf"]),
        ("someone's web page", "web", |d, p| { std::fs::write(d.join("index.html"), "<html>my site</html>").unwrap(); p.into() }, false, 2, &["index.html"]),
        ("the project is <project>.gpkg", "gpkg", |d, p| { let q = d.join("h.gpkg"); std::fs::rename(p, &q).unwrap(); q }, false, 2, &["h.gpkg", "the project itself"]),
        ("the project is <project>.gpkg, forced", "gpkg", |d, p| { let q = d.join("h.gpkg"); std::fs::rename(p, &q).unwrap(); q }, true, 2, &["the project itself"]),
        ("a folder named <project>.mbtiles", "mbtiles", |d, p| { std::fs::create_dir(d.join("h.mbtiles")).unwrap(); p.into() }, true, 2, &["h.mbtiles", "a folder"]),
        ("a link named <project>.gpkg", "gpkg", |d, p| { std::fs::write(d.join("elsewhere"), "keep").unwrap(); symlink(&d.join("elsewhere"), &d.join("h.gpkg")); p.into() }, true, 2, &["h.gpkg", "symbolic link"]),
        ("a FIFO named like a layer", "geojson", |d, p| { mkfifo(&d.join("neighborhood_ways.geojson")); p.into() }, true, 2, &["named pipe"]),
    ];
    for (case, format, prepare, force, code, mentions) in rows {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("out");
        std::fs::create_dir(&d).unwrap();
        let copy = copy_project(&dir.path().join("h.bna"));
        let project = prepare(&d, &copy);
        let project_bytes = std::fs::read(&project).unwrap();
        let before = tree(&d);
        let o = run(&export_args(&project, format, &d, force));
        assert_one_line_failure(&o, code, mentions);
        // Nothing written at all: the export is all or nothing.
        assert_tree_unchanged(case, &d, &before);
        assert!(
            std::fs::read(&project).unwrap() == project_bytes,
            "{case}: project changed"
        );
    }
}

#[test]
fn export_replaces_its_own_earlier_files_and_forced_ones() {
    let dir = tempfile::tempdir().unwrap();
    let project = copy_project(&dir.path().join("h.bna"));
    for format in FORMATS {
        let d = dir.path().join(format);
        let first = run(&export_args(&project, format, &d, false));
        assert_ok(&first, format);
        let files_before = tree(&d);
        let again = run(&export_args(&project, format, &d, false));
        assert_ok(&again, &format!("{format} again"));
        assert_eq!(first.stdout, again.stdout, "{format}: same files listed");
        let files_after = tree(&d);
        assert_eq!(
            files_before.keys().collect::<Vec<_>>(),
            files_after.keys().collect::<Vec<_>>(),
            "{format}: no temporary files left"
        );
    }
    // --force replaces someone else's regular file.
    let d = dir.path().join("forced");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("h.gpkg"), "my layers").unwrap();
    assert_ok(&run(&export_args(&project, "gpkg", &d, true)), "forced");
    let app: i64 = rusqlite::Connection::open(d.join("h.gpkg"))
        .unwrap()
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app, 0x4750_4B47, "a GeoPackage now");
}

// ---------------------------------------------------------------------------------------------
// scenario report --out
// ---------------------------------------------------------------------------------------------

fn report_args(project: &Path, out: &Path, force: bool) -> Vec<String> {
    let mut a = args(&[
        "scenario",
        "report",
        &s(project),
        "base",
        "base",
        "--out",
        &s(out),
    ]);
    if force {
        a.push("--force".into());
    }
    a
}

#[test]
fn a_report_never_replaces_the_project_or_someone_elses_file() {
    type Prepare = fn(&Path, &Path) -> PathBuf;
    #[rustfmt::skip]
    let rows: Vec<(&str, Prepare, bool, i32, &[&str])> = vec![
        ("the project", |_, p| p.into(), false, 2, &["the project itself"]),
        ("the project, forced", |_, p| p.into(), true, 2, &["the project itself"]),
        ("a link to the project", |d, p| { let l = d.join("link.bna"); symlink(p, &l); l }, true, 2, &["the project itself"]),
        ("someone's page", |d, _| { let f = d.join("notes.html"); std::fs::write(&f, "<html>mine</html>").unwrap(); f }, false, 2, &["notes.html", "not written by bna"]),
        ("a FIFO", |d, _| { let f = d.join("fifo.html"); mkfifo(&f); f }, true, 2, &["named pipe"]),
        ("a folder", |d, _| { let f = d.join("report.html"); std::fs::create_dir(&f).unwrap(); f }, true, 2, &["a folder"]),
    ];
    for (case, prepare, force, code, mentions) in rows {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let project = copy_project(&d.join("p.bna"));
        let out = prepare(d, &project);
        let before = tree(d);
        let o = run(&report_args(&project, &out, force));
        assert_one_line_failure(&o, code, mentions);
        assert_tree_unchanged(case, d, &before);
    }
}

#[test]
fn a_report_replaces_an_earlier_report_and_forced_files() {
    let dir = tempfile::tempdir().unwrap();
    let project = copy_project(&dir.path().join("p.bna"));
    let out = dir.path().join("report.html");
    assert_ok(&run(&report_args(&project, &out, false)), "first report");
    assert_ok(&run(&report_args(&project, &out, false)), "second report");
    let notes = dir.path().join("notes.html");
    std::fs::write(&notes, "<html>mine</html>").unwrap();
    assert_ok(&run(&report_args(&project, &notes, true)), "forced");
    let html = std::fs::read_to_string(&notes).unwrap();
    assert!(html.contains("BNA scenario report"), "{}", &html[..200]);
    let names: Vec<_> = tree(dir.path()).into_keys().collect();
    assert_eq!(names.len(), 3, "no temporary files left: {names:?}");
}

// ---------------------------------------------------------------------------------------------
// Full disks (a small tmpfs in a private mount namespace, as in tests/reliability.rs)
// ---------------------------------------------------------------------------------------------

/// `disk::in_tmpfs` with `$BNA` the binary under test and `$P` the analysed project (outside
/// the tmpfs).
fn in_tmpfs(size: &str, script: &str, env: &[(&str, String)]) -> Output {
    let mut all = vec![("BNA", bin()), ("P", analysed().1.clone())];
    all.extend(env.iter().map(|(k, v)| (*k, PathBuf::from(v))));
    bna_test_support::disk::in_tmpfs(size, script, &all)
}

#[test]
fn an_export_that_fills_the_disk_leaves_nothing_half_written() {
    for format in FORMATS {
        // One page: room for no export.
        let script = format!(
            "mkdir \"$MNT/out\" && \"$BNA\" export \"$P\" --format {format} --dir \"$MNT/out\"; \
             echo \"exit=$?\"; echo \"left=$(ls -A \"$MNT/out\")\""
        );
        let o = in_tmpfs("4k", &script, &[]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(stdout.contains("exit=1\n"), "{format}: {stdout}\n{err}");
        assert!(stdout.contains("left=\n"), "{format}: files left: {stdout}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(lines.len(), 1, "{format}: {err}");
        assert!(
            err.contains("/out/") && !err.contains(".bna-export-"),
            "{format}: names the file it was writing: {err}"
        );
        assert!(
            err.contains("No space left") || err.contains("disk is full"),
            "{format}: {err}"
        );
        for bad in ["panicked", "Error {", "Os {", "DbaseError"] {
            assert!(!err.contains(bad), "{format}: {bad} in {err}");
        }
    }
}

#[test]
fn a_failed_export_keeps_the_previous_export() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["geojson", "gpkg", "shapefile", "web"] {
        let previous = dir.path().join(format!("previous-{format}"));
        assert_ok(
            &run(&export_args(&analysed().1, format, &previous, false)),
            format,
        );
        let after = dir.path().join(format!("after-{format}"));
        // The previous export on a disk that is then filled up: the new one cannot be staged.
        let script =
            "cp -r \"$PREV\" \"$MNT/out\" && (cat /dev/zero > \"$MNT/fill\" 2>/dev/null; true) && \
             \"$BNA\" export \"$P\" --format \"$FORMAT\" --dir \"$MNT/out\"; echo \"exit=$?\"; \
             cp -r \"$MNT/out\" \"$AFTER\"";
        let o = in_tmpfs(
            "16m",
            script,
            &[
                ("PREV", s(&previous)),
                ("AFTER", s(&after)),
                ("FORMAT", format.to_string()),
            ],
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("exit=1\n"),
            "{format}: {stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            tree(&previous),
            tree(&after),
            "{format}: previous export changed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Standard output: a closed pipe (`| head -1`) or a full device (`> /dev/full`)
// ---------------------------------------------------------------------------------------------

/// Runs bna with its standard output a pipe whose reader goes away: at once (`close_at` 0:
/// every write fails) or after reading that many lines (like `| head -1`).
fn with_closed_stdout(args: &[String], close_at: usize) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bna");
    let stdout = child.stdout.take().unwrap();
    if close_at > 0 {
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..close_at {
            let _ = lines.next();
        }
    } else {
        drop(stdout);
    }
    let mut err = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(start.elapsed() < TIME_LIMIT, "bna {args:?} hung");
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: Vec::new(),
        stderr: err,
    }
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_device_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = s(&copy_project(&dir.path().join("p.bna")));
    let export_dir = s(&dir.path().join("csv"));
    let commands: Vec<Vec<String>> = vec![
        args(&["scores", &p]),
        args(&["scores", &p, "--json"]),
        args(&["scenario", "list", &p, "--json"]),
        args(&["scenario", "list", &p]),
        args(&["scenario", "compare", &p, "base", "base", "--json"]),
        args(&[
            "scenario",
            "gains",
            &p,
            "--json",
            "--candidates",
            "3",
            "--top",
            "2",
        ]),
        args(&["export", &p, "--format", "csv", "--dir", &export_dir]),
    ];
    for c in &commands {
        for close_at in [0, 1] {
            let o = with_closed_stdout(c, close_at);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{c:?} closed at {close_at}: {err}"
            );
            assert!(!err.contains("panicked"), "{c:?}: {err}");
            assert!(
                err.trim().is_empty(),
                "{c:?}: quiet on a closed pipe: {err}"
            );
        }
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = run_limited(c, Stdio::from(full));
        assert_one_line_failure(&o, 1, &["standard output", "No space left"]);
    }
}

#[test]
fn a_closed_standard_error_does_not_turn_a_failure_into_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let missing = s(&dir.path().join("missing.bna"));
    let text = dir.path().join("text.bna");
    std::fs::write(&text, "not a project").unwrap();
    for (a, code) in [
        (args(&["scores", &missing]), 2),
        (args(&["scores", &s(&text)]), 2),
    ] {
        let mut child = Command::new(bin())
            .args(&a)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        // 101 would be a panic on the failed write of the error message.
        assert_eq!(status.code(), Some(code), "{a:?}");
    }
}
