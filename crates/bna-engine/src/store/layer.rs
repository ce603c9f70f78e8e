//! Stand-alone SpatiaLite files of layers that are not a project (`bna compare --layer`):
//! tables written by the result tables' writer, registered so QGIS opens them, marked in
//! `bna_layer_meta` so that only a file bna wrote is ever replaced.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use super::error::{SqlContext, StoreError};
use super::output::{check_replaceable, Overwrite};
use super::schema::TableDef;
use super::spatialite::{call_checked, connect_spatialite};
use super::write::write_table;

/// The table that marks a layer file as bna's.
const MARK: &str = "bna_layer_meta";

/// One table of a layer file: its definition and rows (attribute values, then one WKB or NULL
/// per geometry column, lon/lat).
#[derive(Debug, Clone)]
pub struct LayerTable {
    pub def: TableDef,
    pub rows: Vec<Vec<Value>>,
}

/// Whether `path` is a layer file bna wrote (it has `bna_layer_meta`).
pub fn is_layer_file(path: &Path) -> bool {
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [MARK],
        |r| r.get::<_, i64>(0),
    )
    .is_ok_and(|n| n > 0)
}

/// Writes `tables` into a new SpatiaLite file at `dest` (`what` says what it holds), through a
/// temporary file renamed into place. An existing `dest` is replaced only if it is a layer file
/// bna wrote (or with `Overwrite::AnyFile`), and never when it is one of `inputs`.
pub fn write_layer_file(
    dest: &Path,
    what: &str,
    tables: &[LayerTable],
    inputs: &[&Path],
    overwrite: Overwrite,
) -> Result<(), StoreError> {
    for input in inputs {
        check_replaceable(dest, input, overwrite, is_layer_file)?;
    }
    let io = |source| StoreError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let folder = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".bna-")
        .suffix(".part")
        .tempfile_in(folder)
        .map_err(io)?;
    {
        let mut conn = connect_spatialite(tmp.path()).map_err(|e| e.relocated(tmp.path(), dest))?;
        fill(&mut conn, tmp.path(), what, tables).map_err(|e| e.relocated(tmp.path(), dest))?;
    }
    tmp.persist(dest).map_err(|e| io(e.error))?;
    Ok(())
}

fn fill(
    conn: &mut Connection,
    path: &Path,
    what: &str,
    tables: &[LayerTable],
) -> Result<(), StoreError> {
    let tx = conn.transaction().at(path)?;
    call_checked(&tx, path, "SELECT InitSpatialMetadata(0, 'WGS84')", [])?;
    tx.execute_batch(&format!(
        "CREATE TABLE {MARK} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    ))
    .at(path)?;
    tx.execute(
        &format!(
            "INSERT INTO {MARK} (key, value) VALUES
                ('created_by', ?1), ('contents', ?2),
                ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        ),
        [
            format!("bna {}", env!("CARGO_PKG_VERSION")),
            what.to_string(),
        ],
    )
    .at(path)?;
    for t in tables {
        write_table(&tx, path, &t.def, &t.rows)?;
    }
    tx.commit().at(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::{ColKind, GeomType};

    fn table() -> LayerTable {
        let def = TableDef::new("t", true, &[("id", ColKind::Int), ("v", ColKind::Real)])
            .geom("geom", GeomType::Point);
        let point = crate::store::wkb::point(&geo::Point::new(-77.0, 38.9));
        LayerTable {
            def,
            rows: vec![vec![
                Value::Integer(1),
                Value::Real(2.5),
                Value::Blob(point),
            ]],
        }
    }

    #[test]
    fn a_layer_file_registers_its_geometry_and_is_only_replaced_if_ours() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("diff.sqlite");
        let project = dir.path().join("p.bna");
        write_layer_file(&dest, "test", &[table()], &[&project], Overwrite::OnlyOurs).unwrap();
        assert!(is_layer_file(&dest));
        let conn = connect_spatialite(&dest).unwrap();
        let (n, x): (i64, f64) = conn
            .query_row("SELECT count(*), X(geom) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, x), (1, -77.0));
        let registered: i64 = conn
            .query_row(
                "SELECT count(*) FROM geometry_columns WHERE f_table_name = 't'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(registered, 1);
        drop(conn);
        // Ours: replaced. Someone else's file, or the input itself: refused.
        write_layer_file(&dest, "test", &[table()], &[&project], Overwrite::OnlyOurs).unwrap();
        let other = dir.path().join("notes.sqlite");
        std::fs::write(&other, "my notes").unwrap();
        let e = write_layer_file(&other, "test", &[table()], &[&project], Overwrite::OnlyOurs)
            .unwrap_err();
        assert!(matches!(e, StoreError::NotOurs { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "my notes");
        write_layer_file(&other, "test", &[table()], &[&project], Overwrite::AnyFile).unwrap();
        assert!(is_layer_file(&other));
        let e =
            write_layer_file(&dest, "test", &[table()], &[&dest], Overwrite::AnyFile).unwrap_err();
        assert!(matches!(e, StoreError::OutputIsProject { .. }), "{e}");
    }
}
