//! ESRI Shapefile, EPSG:4326 (reference: `pgsql2shp`, field names cut to 10 characters).

use std::convert::TryFrom;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geo::Geometry;
use rusqlite::types::Value;
use shapefile::dbase::{self, FieldName, FieldValue, TableWriterBuilder};
use shapefile::ShapeWriter;

use super::{decode_geometry, for_each_row, io_err};
use crate::store::error::{SqlContext, StoreError};
use crate::store::project::Project;
use crate::store::schema::{self, quote, ColKind, GeomType, TableDef};

/// ESRI WKT of EPSG:4326, as GDAL writes it into `.prj`.
const PRJ_4326: &str = "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",\
6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";

/// dBase character fields hold at most 254 bytes.
const MAX_TEXT: usize = 254;

pub(super) fn write(project: &Project, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for def in [schema::blocks(), schema::ways()] {
        out.extend(write_table(project, &def, dir)?);
    }
    Ok(out)
}

/// pgsql2shp's renaming: cut to 10 characters; on a clash (case-insensitive) use the first 7
/// characters, `_` and a two-digit counter (`intersection_to` → `interse_01`, as in the
/// reference data dictionary).
pub(crate) fn dbf_field_names(names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let taken = |cand: &str, out: &[String]| out.iter().any(|o| o.eq_ignore_ascii_case(cand));
        let mut candidate: String = name.chars().take(10).collect();
        let mut n = 1;
        while taken(&candidate, &out) {
            let stem: String = name.chars().take(7).collect();
            candidate = format!("{stem}_{n:02}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

struct Field {
    name: String,
    kind: ColKind,
    /// Position in the row values.
    index: usize,
}

fn write_table(project: &Project, def: &TableDef, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    // JSON columns (OSM tags) do not fit 254-byte dBase text; they stay in the .bna/GeoJSON.
    let kept: Vec<(usize, &schema::Column)> = def
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind != ColKind::Json)
        .collect();
    let names = dbf_field_names(
        &kept
            .iter()
            .map(|(_, c)| c.name.as_str())
            .collect::<Vec<_>>(),
    );
    let fields: Vec<Field> = kept
        .iter()
        .zip(names)
        .map(|((index, c), name)| Field {
            name,
            kind: c.kind,
            index: *index,
        })
        .collect();

    let mut builder = TableWriterBuilder::new();
    for f in &fields {
        let name = FieldName::try_from(f.name.as_str()).map_err(|e| {
            StoreError::InconsistentData(format!("dBase field name {}: {e}", f.name))
        })?;
        builder = match f.kind {
            // Widths as pgsql2shp: 64-bit ints fit 18 digits; doubles keep 15 decimals.
            ColKind::Int => builder.add_numeric_field(name, 18, 0),
            ColKind::Real => builder.add_numeric_field(name, 24, 15),
            ColKind::Bool => builder.add_logical_field(name),
            ColKind::Text | ColKind::Json => {
                let width = text_width(project, def, &def.columns[f.index].name)?;
                builder.add_character_field(name, width)
            }
        };
    }

    let shp = dir.join(format!("{}.shp", def.name));
    let geom = def
        .geoms
        .first()
        .ok_or_else(|| StoreError::InconsistentData(format!("{} has no geometry", def.name)))?;
    let shp_err = |e| shapefile_error(&shp, e);
    let (shx, dbf) = (shp.with_extension("shx"), shp.with_extension("dbf"));
    let create = |p: &Path| File::create(p).map(BufWriter::new).map_err(io_err(p));
    let (mut shp_out, mut shx_out, mut dbf_out) = (create(&shp)?, create(&shx)?, create(&dbf)?);
    {
        // The two writers are driven separately (not through `shapefile::Writer`) so that
        // finishing them reports errors: a full disk found only when the headers are written
        // at the end would otherwise be dropped silently.
        let mut shapes = ShapeWriter::with_shx(&mut shp_out, &mut shx_out);
        let mut table = builder.build_with_dest(&mut dbf_out);
        let dbf_err = |e| shp_err(shapefile::Error::DbaseError(e));
        let extra = [format!("AsBinary({})", quote(geom.name))];
        for_each_row(project, def, &extra, |values| {
            // Shapefiles of one type cannot hold NULL shapes with this writer; rows without
            // geometry (degenerate input) are left out of this format only.
            let Some(g) = decode_geometry(project, &def.name, &values[def.columns.len()])? else {
                return Ok(());
            };
            match (geom.ty, g) {
                (GeomType::MultiPolygon, Geometry::MultiPolygon(mp)) => shapes
                    .write_shape(&shapefile::Polygon::from(mp))
                    .map_err(shp_err)?,
                (GeomType::LineString, Geometry::LineString(ls)) => shapes
                    .write_shape(&shapefile::Polyline::from(ls))
                    .map_err(shp_err)?,
                (ty, g) => {
                    return Err(StoreError::Corrupt {
                        path: project.path().to_path_buf(),
                        what: format!("geometry in {}", def.name),
                        detail: format!("expected {}, found {g:?}", ty.name()),
                    })
                }
            }
            table
                .write_record(&record(&fields, values))
                .map_err(dbf_err)
        })?;
        shapes.finalize().map_err(shp_err)?;
        table.finalize().map_err(dbf_err)?;
    }
    for (out, path) in [
        (&mut shp_out, &shp),
        (&mut shx_out, &shx),
        (&mut dbf_out, &dbf),
    ] {
        out.flush().map_err(io_err(path))?;
    }
    let prj = shp.with_extension("prj");
    std::fs::write(&prj, PRJ_4326).map_err(io_err(&prj))?;
    // Tells GIS software that the dBase text is UTF-8 (street names are not ASCII everywhere).
    let cpg = shp.with_extension("cpg");
    std::fs::write(&cpg, "UTF-8").map_err(io_err(&cpg))?;
    Ok(vec![shp.clone(), shx, dbf, prj, cpg])
}

/// The writer's error as one plain sentence: a full disk must read as such, not as the
/// library's debug text (`DbaseError(Error { record_num: … })`).
fn shapefile_error(shp: &Path, e: shapefile::Error) -> StoreError {
    let io = |path: PathBuf, e: &std::io::Error| StoreError::Io {
        path,
        source: e
            .raw_os_error()
            .map(std::io::Error::from_raw_os_error)
            .unwrap_or_else(|| std::io::Error::new(e.kind(), e.to_string())),
    };
    let detail = match &e {
        shapefile::Error::IoError(e) => return io(shp.to_path_buf(), e),
        shapefile::Error::DbaseError(d) => match d.kind() {
            dbase::ErrorKind::IoError(e) => return io(shp.with_extension("dbf"), e),
            kind => kind.to_string(),
        },
        shapefile::Error::MissingDbf => "the .dbf file is missing".into(),
        shapefile::Error::MissingIndexFile => "the .shx file is missing".into(),
        shapefile::Error::InvalidShapeRecordSize => "a shape record has an invalid size".into(),
        other => other.to_string(),
    };
    StoreError::Shapefile {
        path: shp.to_path_buf(),
        detail,
    }
}

/// Widest value of a text column in bytes, clamped to what dBase allows.
fn text_width(project: &Project, def: &TableDef, col: &str) -> Result<u8, StoreError> {
    let sql = format!(
        "SELECT max(length(CAST({} AS BLOB))) FROM {}",
        quote(col),
        quote(&def.name)
    );
    let max: Option<i64> = project
        .connection()
        .query_row(&sql, [], |r| r.get(0))
        .at(project.path())?;
    let width = max.unwrap_or(1).clamp(1, MAX_TEXT as i64);
    Ok(u8::try_from(width).unwrap_or(u8::MAX))
}

fn record(fields: &[Field], values: &[Value]) -> dbase::Record {
    let mut r = dbase::Record::default();
    for f in fields {
        let v = &values[f.index];
        let fv = match f.kind {
            ColKind::Int | ColKind::Real => FieldValue::Numeric(match v {
                Value::Integer(i) => Some(*i as f64),
                Value::Real(x) => Some(*x),
                _ => None,
            }),
            ColKind::Bool => FieldValue::Logical(match v {
                Value::Integer(i) => Some(*i != 0),
                _ => None,
            }),
            ColKind::Text | ColKind::Json => FieldValue::Character(match v {
                Value::Text(s) => Some(truncate_utf8(s, MAX_TEXT).to_string()),
                Value::Integer(i) => Some(i.to_string()),
                Value::Real(x) => Some(x.to_string()),
                _ => None,
            }),
        };
        r.insert(f.name.clone(), fv);
    }
    r
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_follow_the_reference_dictionary() {
        // Rows of brokenspoke-analyzer docs/source/shapefile-data-dictionary.md.
        let names = schema::ways();
        let names: Vec<&str> = names.columns.iter().map(|c| c.name.as_str()).collect();
        let got = dbf_field_names(&names);
        let expect = [
            ("road_id", "road_id"),
            ("intersection_from", "intersecti"),
            ("intersection_to", "interse_01"),
            ("functional_class", "functional"),
            ("speed_limit", "speed_limi"),
            ("one_way_car", "one_way_ca"),
            ("ft_bike_infra", "ft_bike_in"),
            ("ft_bike_infra_width", "ft_bike_01"),
            ("tf_bike_infra", "tf_bike_in"),
            ("tf_bike_infra_width", "tf_bike_01"),
            ("ft_cross_lanes", "ft_cross_l"),
            ("twltl_cross_lanes", "twltl_cros"),
            ("ft_seg_stress", "ft_seg_str"),
            ("tf_int_stress", "tf_int_str"),
        ];
        for (col, dbf) in expect {
            let i = names.iter().position(|n| *n == col).unwrap();
            assert_eq!(got[i], dbf, "{col}");
        }
    }

    #[test]
    fn field_names_are_unique_and_short() {
        for def in [schema::blocks(), schema::ways()] {
            let names: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
            let got = dbf_field_names(&names);
            let mut lower: Vec<String> = got.iter().map(|s| s.to_lowercase()).collect();
            lower.sort();
            lower.dedup();
            assert_eq!(lower.len(), got.len(), "{}", def.name);
            assert!(got.iter().all(|n| n.len() <= 10), "{got:?}");
        }
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate_utf8("Rue de l'Église", 12), "Rue de l'Ég");
        // Byte 10 falls inside the two-byte É.
        assert_eq!(truncate_utf8("Rue de l'Église", 10), "Rue de l'");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}
