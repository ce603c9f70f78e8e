//! GeoJSON, EPSG:4326, one FeatureCollection per table (reference: `ogr2ogr -t_srs EPSG:4326`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rusqlite::types::Value;

use super::{decode_geometry, for_each_row, io_err, spatial_layers};
use crate::store::error::StoreError;
use crate::store::project::Project;
use crate::store::schema::{quote, ColKind, TableDef};

pub(super) fn write(project: &Project, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    spatial_layers()
        .iter()
        .map(|(def, geom)| {
            let out = dir.join(format!("{}.geojson", def.name));
            write_table(project, def, geom, &out)?;
            Ok(out)
        })
        .collect()
}

fn write_table(
    project: &Project,
    def: &TableDef,
    geom: &str,
    out: &Path,
) -> Result<(), StoreError> {
    let file = File::create(out).map_err(io_err(out))?;
    let mut w = BufWriter::new(file);
    // A failed write (a full disk) reads like every other failed write, with its fix.
    let json_err = |source: serde_json::Error| match source.is_io() {
        true => io_err(out)(source.into()),
        false => StoreError::Json {
            path: out.to_path_buf(),
            source,
        },
    };
    // The header is what ogr2ogr writes for EPSG:4326 (RFC 7946 axis order, CRS84 name).
    write!(
        w,
        "{{\"type\":\"FeatureCollection\",\"name\":{},\"crs\":{{\"type\":\"name\",\
         \"properties\":{{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}}}},\"features\":[",
        serde_json::to_string(&def.name).map_err(json_err)?
    )
    .map_err(io_err(out))?;
    let mut first = true;
    let extra = [format!("AsBinary({})", quote(geom))];
    for_each_row(project, def, &extra, |values| {
        let (attrs, g) = values.split_at(def.columns.len());
        if !first {
            w.write_all(b",").map_err(io_err(out))?;
        }
        first = false;
        w.write_all(b"{\"type\":\"Feature\",\"properties\":{")
            .map_err(io_err(out))?;
        for (i, (col, v)) in def.columns.iter().zip(attrs).enumerate() {
            if i > 0 {
                w.write_all(b",").map_err(io_err(out))?;
            }
            serde_json::to_writer(&mut w, &col.name).map_err(json_err)?;
            w.write_all(b":").map_err(io_err(out))?;
            serde_json::to_writer(&mut w, &property(col.kind, v)).map_err(json_err)?;
        }
        w.write_all(b"},\"geometry\":").map_err(io_err(out))?;
        match decode_geometry(project, &def.name, &g[0])? {
            Some(geometry) => {
                let gj = geojson::Geometry::new(geojson::Value::from(&geometry));
                serde_json::to_writer(&mut w, &gj).map_err(json_err)?;
            }
            None => w.write_all(b"null").map_err(io_err(out))?,
        }
        w.write_all(b"}").map_err(io_err(out))?;
        Ok(())
    })?;
    w.write_all(b"]}\n").map_err(io_err(out))?;
    w.flush().map_err(io_err(out))
}

pub(super) fn property(kind: ColKind, v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match (kind, v) {
        (_, Value::Null) => J::Null,
        (ColKind::Bool, Value::Integer(i)) => J::Bool(*i != 0),
        (ColKind::Json, Value::Text(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| J::String(s.clone()))
        }
        (_, Value::Integer(i)) => J::from(*i),
        (_, Value::Real(f)) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        (_, Value::Text(s)) => J::String(s.clone()),
        (_, Value::Blob(_)) => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_keep_their_kind() {
        let cases = [
            (ColKind::Bool, Value::Integer(1), serde_json::json!(true)),
            (ColKind::Bool, Value::Integer(0), serde_json::json!(false)),
            (ColKind::Int, Value::Integer(7), serde_json::json!(7)),
            (ColKind::Real, Value::Real(0.25), serde_json::json!(0.25)),
            (ColKind::Real, Value::Null, serde_json::Value::Null),
            (
                ColKind::Json,
                Value::Text("[\"a\",\"b\"]".into()),
                serde_json::json!(["a", "b"]),
            ),
            (
                ColKind::Text,
                Value::Text("x".into()),
                serde_json::json!("x"),
            ),
        ];
        for (kind, v, expected) in cases {
            assert_eq!(property(kind, &v), expected, "{kind:?} {v:?}");
        }
    }
}
