//! Golden cases: every folder of `tests/fixtures/` is one `bna analyze` whose result tables must
//! equal the folder's `expected/` CSV files (see `tests/fixtures/README.md`). Adding a case is
//! adding a folder; a failure lists each differing cell and says how to accept a deliberate
//! change.

#[path = "support/golden_case.rs"]
mod golden_case;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bna_engine::compare::rows::{diff, Table};
use golden_case::root;
use rusqlite::Connection;
use serde::Deserialize;

/// Set to 1 to rewrite the `expected/` files of `"bna"` cases from this build's outputs.
const ACCEPT: &str = "BNA_GOLDEN_ACCEPT";

/// Differing cells shown per table; the count of the rest follows.
const SHOWN: usize = 20;

#[derive(Deserialize)]
struct Case {
    source: Source,
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

fn read_expected(path: &Path) -> Table {
    Table::from_csv(path).unwrap_or_else(|e| panic!("{e}"))
}

fn read_project(conn: &Connection, table: &str, columns: &[String]) -> Table {
    Table::from_sqlite(conn, table, columns).unwrap_or_else(|e| panic!("{table}: {e}"))
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
    golden_case::analyze(dir, &project);
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
