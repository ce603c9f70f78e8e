//! Tables as text and their cell-by-cell difference: what the golden tests assert and what
//! `bna compare` reads reference CSV files into. NULL is the empty string, as in the
//! reference's CSV exports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::error::CompareError;

/// A table as text: header, then rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV file with a header line (the reference's `\copy … CSV HEADER` and bna's CSV
    /// export). Fields may be as long as a block's WKT.
    pub fn from_csv(path: &Path) -> Result<Table, CompareError> {
        let bad = |detail: String| CompareError::Csv {
            path: path.to_path_buf(),
            detail,
        };
        let mut r = csv::ReaderBuilder::new()
            .from_path(path)
            .map_err(|e| bad(e.to_string()))?;
        let columns = r
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(String::from)
            .collect();
        let rows = r
            .records()
            .map(|rec| {
                rec.map(|rec| rec.iter().map(String::from).collect())
                    .map_err(|e| bad(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Table { columns, rows })
    }

    /// `columns` of `table` in an SQLite database, as text: NULL is empty, numbers as SQLite
    /// prints them. For comparing a project's tables with CSV files.
    pub fn from_sqlite(
        conn: &rusqlite::Connection,
        table: &str,
        columns: &[String],
    ) -> rusqlite::Result<Table> {
        use rusqlite::types::ValueRef;
        // SQLite reads a quoted name that is no column as a string literal: check them first.
        let present: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")?
            .query_map([table], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if let Some(missing) = columns.iter().find(|c| !present.contains(c)) {
            return Err(rusqlite::Error::InvalidColumnName(format!(
                "{table}.{missing}"
            )));
        }
        let quoted: Vec<String> = columns
            .iter()
            .map(|c| crate::store::schema::quote(c))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}",
            quoted.join(", "),
            crate::store::schema::quote(table)
        );
        let mut stmt = conn.prepare(&sql)?;
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
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Table {
            columns: columns.to_vec(),
            rows,
        })
    }

    /// The index of `name` in the header.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Whether two cells agree: both NULL, equal text, or numbers within `tolerance`.
pub fn same(expected: &str, got: &str, tolerance: f64) -> bool {
    if expected == got {
        return true;
    }
    match (expected.parse::<f64>(), got.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= tolerance,
        _ => false,
    }
}

/// A cell as it compares in a multiset: a whole number is written without decimals, so `3.0`
/// equals `3` (PostgreSQL and SQLite print integers stored as reals differently).
pub fn canonical_cell(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(x) if x.fract() == 0.0 => format!("{x:.0}"),
        _ => v.to_string(),
    }
}

/// Differences between `expected` and `got` (same columns), one line per differing cell, or
/// per row missing or extra. With an empty `key` the rows are compared as multisets (for
/// tables whose ids are row numbers); otherwise rows are paired by the `key` columns.
pub fn diff(
    table: &str,
    key: &[String],
    expected: &Table,
    got: &Table,
    tolerance: f64,
) -> Vec<String> {
    if key.is_empty() {
        return multiset_diff(table, expected, got);
    }
    let mut out = Vec::new();
    let key_of = |t: &Table, r: &[String]| -> String {
        key.iter()
            .map(|k| {
                let cell = t.column(k).map_or("", |i| r[i].as_str());
                format!("{k}={cell}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ours: BTreeMap<String, &Vec<String>> =
        got.rows.iter().map(|r| (key_of(got, r), r)).collect();
    let mut seen = BTreeSet::new();
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

fn multiset_diff(table: &str, expected: &Table, got: &Table) -> Vec<String> {
    let canon = |t: &Table| {
        let mut rows: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(|v| canonical_cell(v)).collect())
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
    let mut out: Vec<String> = e
        .iter()
        .map(|r| {
            format!(
                "{table}: expected row ({cols}) = ({}) is missing",
                r.join(",")
            )
        })
        .collect();
    out.extend(
        g.iter()
            .map(|r| format!("{table}: unexpected row ({cols}) = ({})", r.join(","))),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows<'a> = &'a [&'a [&'a str]];

    fn t(rows: Rows) -> Table {
        Table {
            columns: vec!["id".into(), "v".into()],
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    #[test]
    fn keyed_rows_differ_by_cell_missing_or_extra_row() {
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
    }

    #[test]
    fn multisets_ignore_order_but_count_rows() {
        let cases: [(Rows, Rows, usize); 3] = [
            (
                &[&["a", "3"], &["a", "3"]],
                &[&["a", "3.0"], &["a", "3"]],
                0,
            ),
            (&[&["a", "3"], &["a", "3"]], &[&["a", "3"]], 1),
            (&[&["a", "1"]], &[&["a", "3"]], 2),
        ];
        for (e, g, n) in cases {
            assert_eq!(
                diff("t", &[], &t(e), &t(g), 0.001).len(),
                n,
                "{e:?} vs {g:?}"
            );
        }
    }

    #[test]
    fn a_csv_file_reads_back_with_nulls_as_empty_cells() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "id,v\n1,\n2,\"LINESTRING(1 2,3 4)\"\n").unwrap();
        let table = Table::from_csv(&p).unwrap();
        assert_eq!(table.columns, ["id", "v"]);
        assert_eq!(
            table.rows,
            [vec!["1", ""], vec!["2", "LINESTRING(1 2,3 4)"]]
        );
        assert_eq!(table.column("v"), Some(1));
        let e = Table::from_csv(&dir.path().join("none.csv")).unwrap_err();
        assert!(e.to_string().contains("none.csv"), "{e}");
    }

    #[test]
    fn an_sqlite_table_reads_as_the_csv_would() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (a INTEGER, b REAL, c TEXT); INSERT INTO t VALUES (1, 2.5, NULL);",
        )
        .unwrap();
        let cols = vec!["c".to_string(), "a".to_string(), "b".to_string()];
        let t = Table::from_sqlite(&conn, "t", &cols).unwrap();
        assert_eq!(t.rows, [vec!["", "1", "2.5"]]);
        assert!(Table::from_sqlite(&conn, "t", &["nope".to_string()]).is_err());
    }
}
