//! CSV with a header row (reference: psql `\copy … WITH (FORMAT CSV, HEADER)`).

use std::path::{Path, PathBuf};

use rusqlite::types::Value;

use super::{for_each_row, io_err};
use crate::store::error::StoreError;
use crate::store::project::Project;
use crate::store::schema::{self, ColKind, TableDef};

/// The reference CSV tables, plus the block table without geometry (handy in spreadsheets).
fn tables() -> Vec<TableDef> {
    vec![
        schema::pairs(),
        schema::overall_scores(),
        schema::score_inputs(),
        schema::speed_limit(),
        schema::mileage(),
        schema::blocks(),
    ]
}

pub(super) fn write(project: &Project, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    tables()
        .iter()
        .map(|def| {
            let out = dir.join(format!("{}.csv", def.name));
            write_table(project, def, &out)?;
            Ok(out)
        })
        .collect()
}

fn write_table(project: &Project, def: &TableDef, out: &Path) -> Result<(), StoreError> {
    // A failed write (a full disk) reads like every other failed write, with its fix.
    let csv_err = |source: csv::Error| match source.is_io_error() {
        true => match source.into_kind() {
            csv::ErrorKind::Io(e) => io_err(out)(e),
            _ => unreachable!("is_io_error guarantees ErrorKind::Io"),
        },
        false => StoreError::Csv {
            path: out.to_path_buf(),
            source,
        },
    };
    let mut w = csv::Writer::from_path(out).map_err(csv_err)?;
    w.write_record(def.columns.iter().map(|c| c.name.as_str()))
        .map_err(csv_err)?;
    let mut record: Vec<String> = Vec::with_capacity(def.columns.len());
    for_each_row(project, def, &[], |values| {
        record.clear();
        record.extend(
            def.columns
                .iter()
                .zip(values)
                .map(|(c, v)| field(c.kind, v)),
        );
        w.write_record(&record).map_err(csv_err)
    })?;
    w.flush().map_err(|source| StoreError::Io {
        path: out.to_path_buf(),
        source,
    })
}

/// psql's CSV rendering: NULL is an empty field, booleans are `t`/`f`.
fn field(kind: ColKind, v: &Value) -> String {
    match (kind, v) {
        (_, Value::Null) => String::new(),
        (ColKind::Bool, Value::Integer(i)) => if *i != 0 { "t" } else { "f" }.to_string(),
        (_, Value::Integer(i)) => i.to_string(),
        // Rust's shortest round-trip form, never in exponent notation.
        (_, Value::Real(f)) => f.to_string(),
        (_, Value::Text(s)) => s.clone(),
        (_, Value::Blob(_)) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_render_like_psql() {
        let cases = [
            (ColKind::Bool, Value::Integer(1), "t"),
            (ColKind::Bool, Value::Integer(0), "f"),
            (ColKind::Int, Value::Null, ""),
            (ColKind::Int, Value::Integer(-3), "-3"),
            (ColKind::Real, Value::Real(96.1), "96.1"),
            (ColKind::Real, Value::Real(1e-7), "0.0000001"),
            (ColKind::Text, Value::Text("a,b".into()), "a,b"),
        ];
        for (kind, v, expected) in cases {
            assert_eq!(field(kind, &v), expected, "{kind:?} {v:?}");
        }
    }
}
