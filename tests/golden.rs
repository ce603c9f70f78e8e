//! Golden cases: every folder of `tests/fixtures/` is one `bna analyze` whose result tables must
//! equal the folder's `expected/` CSV files (see `tests/fixtures/README.md`). Adding a case is
//! adding a folder; a failure lists each differing cell and says how to accept a deliberate
//! change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde::Deserialize;

/// Set to 1 to rewrite the `expected/` files of `"bna"` cases from this build's outputs.
const ACCEPT: &str = "BNA_GOLDEN_ACCEPT";

/// Differing cells shown per table; the count of the rest follows.
const SHOWN: usize = 20;

#[derive(Deserialize)]
struct Case {
    source: Source,
    analyze: Vec<String>,
    tolerance: f64,
    /// Table → the columns that identify a row (empty: compare the rows as a multiset).
    tables: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Source {
    Bna,
    Reference,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    std::env::var_os("BNA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bna")))
}

/// A table as text: header, then rows; NULL is the empty string, as in the CSV files.
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_expected(path: &Path) -> Table {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let columns = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    Table { columns, rows }
}

fn read_project(conn: &Connection, table: &str, columns: &[String]) -> Table {
    let sql = format!("SELECT {} FROM {table}", columns.join(", "));
    let mut stmt = conn
        .prepare(&sql)
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    let rows = stmt
        .query_map([], |row| {
            (0..columns.len())
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => String::new(),
                        ValueRef::Integer(v) => v.to_string(),
                        ValueRef::Real(v) => v.to_string(),
                        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        ValueRef::Blob(_) => "<blob>".into(),
                    })
                })
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    Table {
        columns: columns.to_vec(),
        rows,
    }
}

/// Whether two cells agree: both NULL, equal text, or numbers within `tolerance`.
fn same(expected: &str, got: &str, tolerance: f64) -> bool {
    if expected == got {
        return true;
    }
    match (expected.parse::<f64>(), got.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= tolerance,
        _ => false,
    }
}

/// Differences between `expected` and `got` (same columns), one line per differing cell, or
/// per row missing or extra.
fn diff(table: &str, key: &[String], expected: &Table, got: &Table, tolerance: f64) -> Vec<String> {
    let mut out = Vec::new();
    if key.is_empty() {
        // Rows without a stable id (`road_id` is a row number): compare as sorted multisets.
        let canon = |t: &Table| {
            let mut rows: Vec<Vec<String>> = t
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| match v.parse::<f64>() {
                            Ok(x) if x.fract() == 0.0 => format!("{x:.0}"),
                            _ => v.clone(),
                        })
                        .collect()
                })
                .collect();
            rows.sort();
            rows
        };
        let (mut e, mut g) = (canon(expected), canon(got));
        let mut i = 0;
        while i < e.len() {
            match g.iter().position(|r| *r == e[i]) {
                Some(j) => {
                    g.swap_remove(j);
                    e.swap_remove(i);
                }
                None => i += 1,
            }
        }
        let cols = expected.columns.join(",");
        out.extend(e.iter().map(|r| {
            format!(
                "{table}: expected row ({cols}) = ({}) is missing",
                r.join(",")
            )
        }));
        out.extend(
            g.iter()
                .map(|r| format!("{table}: unexpected row ({cols}) = ({})", r.join(","))),
        );
        return out;
    }
    let key_of = |t: &Table, r: &[String]| -> String {
        key.iter()
            .map(|k| {
                let i = t.columns.iter().position(|c| c == k).expect("key column");
                format!("{k}={}", r[i])
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ours: BTreeMap<String, &Vec<String>> =
        got.rows.iter().map(|r| (key_of(got, r), r)).collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in &expected.rows {
        let k = key_of(expected, e);
        seen.insert(k.clone());
        let Some(g) = ours.get(&k) else {
            out.push(format!("{table} {k}: missing"));
            continue;
        };
        for (i, col) in expected.columns.iter().enumerate() {
            if !same(&e[i], &g[i], tolerance) {
                out.push(format!(
                    "{table} {k} {col}: expected {:?}, got {:?}",
                    e[i], g[i]
                ));
            }
        }
    }
    out.extend(
        ours.keys()
            .filter(|k| !seen.contains(*k))
            .map(|k| format!("{table} {k}: not expected")),
    );
    out
}

fn write_expected(path: &Path, t: &Table) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(&t.columns).unwrap();
    let mut rows = t.rows.clone();
    rows.sort();
    for r in rows {
        w.write_record(&r).unwrap();
    }
    w.flush().unwrap();
}

/// Runs one case; the differences (empty when it passes).
fn run_case(dir: &Path, accept: bool) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let case: Case = serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap())
        .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join(format!("{name}.bna"));
    let args: Vec<std::ffi::OsString> = case
        .analyze
        .iter()
        .map(|a| {
            let p = root().join(a);
            if !a.starts_with('-') && p.exists() {
                p.into_os_string()
            } else {
                a.into()
            }
        })
        .collect();
    let o = Command::new(bin())
        .args(["analyze", "--quiet", "--out"])
        .arg(&project)
        .args(&args)
        .output()
        .expect("run bna");
    assert!(
        o.status.success(),
        "{name}: bna analyze failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let conn = Connection::open(&project).unwrap();
    let mut problems = Vec::new();
    for (table, key) in &case.tables {
        let path = dir.join("expected").join(format!("{table}.csv"));
        let expected = read_expected(&path);
        let got = read_project(&conn, table, &expected.columns);
        if accept && case.source == Source::Bna {
            write_expected(&path, &got);
            continue;
        }
        let d = diff(table, key, &expected, &got, case.tolerance);
        let more = d.len().saturating_sub(SHOWN);
        problems.extend(d.into_iter().take(SHOWN));
        if more > 0 {
            problems.push(format!("{table}: … and {more} more differences"));
        }
    }
    problems
}

#[test]
fn every_golden_case_reproduces_its_expected_tables() {
    let accept = std::env::var(ACCEPT).is_ok_and(|v| v == "1");
    let fixtures = root().join("tests/fixtures");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", fixtures.display());
    let mut report = Vec::new();
    for dir in &cases {
        let problems = run_case(dir, accept);
        if !problems.is_empty() {
            let name = dir.file_name().unwrap().to_string_lossy();
            let source: Case =
                serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
            let how = match source.source {
                Source::Bna => format!(
                    "if the change is deliberate, accept it with `{ACCEPT}=1 cargo test --test golden` and review the diff of tests/fixtures/{name}/expected/"
                ),
                Source::Reference => "these are the reference BNA's own outputs and cannot be accepted: find the cause, or document a deliberate deviation in docs/methodology.md (see tests/fixtures/README.md)".into(),
            };
            report.push(format!(
                "case {name}:\n  {}\n  → {how}",
                problems.join("\n  ")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

#[test]
fn the_comparison_finds_what_differs() {
    let t = |rows: Rows| Table {
        columns: vec!["id".into(), "v".into()],
        rows: rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect(),
    };
    type Rows<'a> = &'a [&'a [&'a str]];
    let key = vec!["id".to_string()];
    let cases: [(Rows, Rows, usize); 6] = [
        (&[&["a", "1.0"]], &[&["a", "1.0004"]], 0),
        (&[&["a", "1.0"]], &[&["a", "1.01"]], 1),
        (&[&["a", ""]], &[&["a", "0"]], 1),
        (&[&["a", "1"]], &[], 1),
        (&[], &[&["b", "1"]], 1),
        (&[&["a", "x"], &["b", "y"]], &[&["b", "y"], &["a", "x"]], 0),
    ];
    for (e, g, n) in cases {
        assert_eq!(
            diff("t", &key, &t(e), &t(g), 0.001).len(),
            n,
            "{e:?} vs {g:?}"
        );
    }
    // Multisets: order does not matter, counts do; 3.0 equals 3.
    let multiset: [(Rows, Rows, usize); 3] = [
        (
            &[&["a", "3"], &["a", "3"]],
            &[&["a", "3.0"], &["a", "3"]],
            0,
        ),
        (&[&["a", "3"], &["a", "3"]], &[&["a", "3"]], 1),
        (&[&["a", "1"]], &[&["a", "3"]], 2),
    ];
    for (e, g, n) in multiset {
        assert_eq!(
            diff("t", &[], &t(e), &t(g), 0.001).len(),
            n,
            "{e:?} vs {g:?}"
        );
    }
}
