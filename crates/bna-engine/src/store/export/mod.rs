//! Exports of the result tables in the reference formats (spec §8), read back from the `.bna`
//! so that an export always matches what the project file holds.

mod csv_out;
mod geojson_out;
mod gpkg;
mod mbtiles;
mod ownership;
mod share;
mod shp;
mod web;

use std::path::{Path, PathBuf};

use geo::Geometry;
use rusqlite::types::Value;

use super::error::{SqlContext, StoreError};
use super::output::{check_replaceable, Overwrite, Staging};
use super::project::Project;
use super::schema::{self, quote, TableDef};
use super::wkb;
use crate::model::DestinationCategory;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    GeoJson,
    Shapefile,
    Csv,
    Gpkg,
    /// MBTiles 1.3 vector tile set of roads (stress) and blocks (scores).
    MbTiles,
    /// A self-contained static web page (map + score table) that opens from disk.
    Web,
}

/// Writes `format` into `dir` (created if missing) and returns every file written. Files of an
/// earlier export are replaced; any other file in the way is refused (see [`export_with`]).
pub fn export(
    project: &Project,
    format: ExportFormat,
    dir: &Path,
) -> Result<Vec<PathBuf>, StoreError> {
    export_with(project, format, dir, Overwrite::OnlyOurs)
}

/// [`export`], choosing whether files bna did not write may be replaced. The export is written
/// in a staging folder inside `dir` and moved into place only when complete and only when
/// nothing in the way is refused, so a failure (a full disk) changes nothing in `dir`.
pub fn export_with(
    project: &Project,
    format: ExportFormat,
    dir: &Path,
    overwrite: Overwrite,
) -> Result<Vec<PathBuf>, StoreError> {
    if !project.has_results()? {
        return Err(StoreError::NoResults {
            path: project.path().to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let staging = Staging::new(dir)?;
    let stage = staging.path();
    let staged = match format {
        ExportFormat::GeoJson => geojson_out::write(project, stage),
        ExportFormat::Shapefile => shp::write(project, stage),
        ExportFormat::Csv => csv_out::write(project, stage),
        ExportFormat::Gpkg => gpkg::write(project, stage),
        ExportFormat::MbTiles => mbtiles::write(project, stage),
        ExportFormat::Web => web::write(project, stage),
    }
    .map_err(|e| e.relocated(stage, dir))?;
    for file in &staged {
        let rel = staging.relative(file);
        check_replaceable(&dir.join(rel), project.path(), overwrite, |_| {
            ownership::is_earlier_export(dir, stage, rel)
        })?;
    }
    staging.commit(&staged)
}

/// A result table and the geometry column that represents it in single-geometry formats.
/// Destinations carry a point and an optional polygon; the point is what every destination
/// has, and is the first geometry field (what ogr2ogr keeps in the reference GeoJSON).
pub(crate) fn spatial_layers() -> Vec<(TableDef, &'static str)> {
    let mut out = vec![(schema::boundary(), "geom"), (schema::blocks(), "geom")];
    out.extend(
        DestinationCategory::ALL
            .into_iter()
            .map(|c| (schema::destinations(c), "geom_pt")),
    );
    out.push((schema::ways(), "geom"));
    out.push((schema::intersections(), "geom"));
    out
}

/// Streams the attribute columns of `def` followed by the SQL expressions `extra` (e.g.
/// `AsBinary(geom)`), in table order.
pub(crate) fn for_each_row(
    project: &Project,
    def: &TableDef,
    extra: &[String],
    mut f: impl FnMut(&[Value]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let path = project.path();
    let conn = project.connection();
    // A project written before a table or column was added (the bike-shed columns,
    // `neighborhood_score_inputs`) exports it as NULLs, as the reference leaves a value it did
    // not compute; analysing again fills it.
    let present: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info({})",
            sql_text(&def.name)
        ))
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .at(path)?;
    if present.is_empty() {
        return Ok(());
    }
    let cols: Vec<String> = def
        .columns
        .iter()
        .map(|c| {
            if present.contains(&c.name) {
                quote(&c.name)
            } else {
                "NULL".to_string()
            }
        })
        .chain(extra.iter().cloned())
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY rowid",
        cols.join(", "),
        quote(&def.name)
    );
    let mut stmt = conn.prepare(&sql).at(path)?;
    let n = cols.len();
    let mut rows = stmt.query([]).at(path)?;
    let mut values = Vec::with_capacity(n);
    while let Some(row) = rows.next().at(path)? {
        values.clear();
        for i in 0..n {
            values.push(row.get::<_, Value>(i).at(path)?);
        }
        f(&values)?;
    }
    Ok(())
}

/// An SQL string literal.
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Decodes an `AsBinary(...)` value.
pub(crate) fn decode_geometry(
    project: &Project,
    table: &str,
    v: &Value,
) -> Result<Option<Geometry<f64>>, StoreError> {
    match v {
        Value::Null => Ok(None),
        Value::Blob(b) => wkb::decode(b)
            .map(Some)
            .map_err(|detail| StoreError::Corrupt {
                path: project.path().to_path_buf(),
                what: format!("geometry in {table}"),
                detail,
            }),
        other => Err(StoreError::Corrupt {
            path: project.path().to_path_buf(),
            what: format!("geometry in {table}"),
            detail: format!("expected a blob, found {other:?}"),
        }),
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}
