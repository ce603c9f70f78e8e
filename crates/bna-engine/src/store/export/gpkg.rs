//! OGC GeoPackage 1.3 written with plain SQLite: feature layers with an R*Tree spatial index
//! (`gpkg_rtree_index` extension) and a few attribute tables. Geometry blobs come from
//! SpatiaLite's `AsGPB`, so they are standard GeoPackage binary in EPSG:4326.

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{params, Connection, Transaction};

use super::{for_each_row, spatial_layers};
use crate::store::error::{SqlContext, StoreError};
use crate::store::project::Project;
use crate::store::schema::{self, quote, ColKind, TableDef, SRID};

/// `PRAGMA application_id` of a GeoPackage ("GPKG").
pub const GPKG_APPLICATION_ID: i64 = 0x4750_4B47;
/// `PRAGMA user_version` of GeoPackage 1.3.0.
pub const GPKG_USER_VERSION: i64 = 10300;

const WKT_4326: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,\
298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,\
AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],\
AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

/// Required tables of the core standard (GeoPackage 1.3, §1.1.2, §1.1.3, §2.1.5, §2.5).
const BASE_DDL: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL PRIMARY KEY,
    organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL,
    definition TEXT NOT NULL,
    description TEXT
);
CREATE TABLE gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY,
    data_type TEXT NOT NULL,
    identifier TEXT UNIQUE,
    description TEXT DEFAULT '',
    last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE,
    min_y DOUBLE,
    max_x DOUBLE,
    max_y DOUBLE,
    srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
    table_name TEXT NOT NULL,
    column_name TEXT NOT NULL,
    geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL,
    z TINYINT NOT NULL,
    m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE gpkg_extensions (
    table_name TEXT,
    column_name TEXT,
    extension_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    scope TEXT NOT NULL,
    CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
CREATE TABLE gpkg_tile_matrix_set (
    table_name TEXT NOT NULL PRIMARY KEY,
    srs_id INTEGER NOT NULL,
    min_x DOUBLE NOT NULL,
    min_y DOUBLE NOT NULL,
    max_x DOUBLE NOT NULL,
    max_y DOUBLE NOT NULL,
    CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE gpkg_tile_matrix (
    table_name TEXT NOT NULL,
    zoom_level INTEGER NOT NULL,
    matrix_width INTEGER NOT NULL,
    matrix_height INTEGER NOT NULL,
    tile_width INTEGER NOT NULL,
    tile_height INTEGER NOT NULL,
    pixel_x_size DOUBLE NOT NULL,
    pixel_y_size DOUBLE NOT NULL,
    CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
    CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name)
);
";

/// Feature layers; non-spatial tables that are small enough to be useful next to them.
fn attribute_tables() -> Vec<TableDef> {
    vec![
        schema::overall_scores(),
        schema::mileage(),
        schema::speed_limit(),
    ]
}

pub(super) fn write(project: &Project, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let stem = project
        .path()
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("neighborhood");
    // `dir` is a fresh staging folder: the GeoPackage is built from scratch.
    let out = dir.join(format!("{stem}.gpkg"));
    let mut g = Connection::open(&out).at(&out)?;
    g.execute_batch(&format!(
        "PRAGMA application_id = {GPKG_APPLICATION_ID};
         PRAGMA user_version = {GPKG_USER_VERSION};"
    ))
    .at(&out)?;
    let tx = g.transaction().at(&out)?;
    tx.execute_batch(BASE_DDL).at(&out)?;
    tx.execute(
        "INSERT INTO gpkg_spatial_ref_sys
            (srs_name, srs_id, organization, organization_coordsys_id, definition, description)
         VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
                ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL),
                ('WGS 84 geodetic', ?1, 'EPSG', ?1, ?2, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
        params![SRID, WKT_4326],
    )
    .at(&out)?;
    for (def, geom) in spatial_layers() {
        feature_layer(project, &tx, &out, &def, geom)?;
    }
    // The path clusters are a feature layer too (trails in QGIS).
    feature_layer(project, &tx, &out, &schema::paths(), "geom")?;
    for def in attribute_tables() {
        attribute_layer(project, &tx, &out, &def)?;
    }
    tx.commit().at(&out)?;
    Ok(vec![out])
}

fn gpkg_type(kind: ColKind) -> &'static str {
    match kind {
        ColKind::Int => "INTEGER",
        ColKind::Real => "DOUBLE",
        ColKind::Bool => "BOOLEAN",
        ColKind::Text | ColKind::Json => "TEXT",
    }
}

fn create_table(def: &TableDef, geom: Option<(&str, &str)>) -> String {
    let mut cols = vec!["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_string()];
    if let Some((name, ty)) = geom {
        cols.push(format!("{} {ty}", quote(name)));
    }
    cols.extend(
        def.columns
            .iter()
            .map(|c| format!("{} {}", quote(&c.name), gpkg_type(c.kind))),
    );
    format!("CREATE TABLE {} ({})", quote(&def.name), cols.join(", "))
}

fn insert_sql(def: &TableDef, geom: Option<&str>) -> String {
    let mut names: Vec<String> = geom.map(quote).into_iter().collect();
    names.extend(def.columns.iter().map(|c| quote(&c.name)));
    let slots: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(&def.name),
        names.join(", "),
        slots.join(", ")
    )
}

#[derive(Default)]
struct Extent(Option<[f64; 4]>);

impl Extent {
    fn add(&mut self, b: [f64; 4]) {
        self.0 = Some(match self.0 {
            None => b,
            Some(e) => [
                e[0].min(b[0]),
                e[1].max(b[1]),
                e[2].min(b[2]),
                e[3].max(b[3]),
            ],
        });
    }
}

fn feature_layer(
    project: &Project,
    tx: &Transaction<'_>,
    out: &Path,
    def: &TableDef,
    geom: &str,
) -> Result<(), StoreError> {
    let gcol = def
        .geoms
        .iter()
        .find(|g| g.name == geom)
        .ok_or_else(|| StoreError::InconsistentData(format!("{} has no {geom}", def.name)))?;
    tx.execute_batch(&create_table(def, Some((geom, gcol.ty.name()))))
        .at(out)?;
    let rtree = format!("rtree_{}_{}", def.name, geom);
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {} USING rtree(id, minx, maxx, miny, maxy)",
        quote(&rtree)
    ))
    .at(out)?;
    let mut insert = tx.prepare(&insert_sql(def, Some(geom))).at(out)?;
    let mut insert_rtree = tx
        .prepare(&format!(
            "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
            quote(&rtree)
        ))
        .at(out)?;
    let q = quote(geom);
    let extra = [
        format!("AsGPB({q})"),
        format!("MbrMinX({q})"),
        format!("MbrMaxX({q})"),
        format!("MbrMinY({q})"),
        format!("MbrMaxY({q})"),
    ];
    let n = def.columns.len();
    let mut extent = Extent::default();
    for_each_row(project, def, &extra, |values| {
        let (attrs, g) = values.split_at(n);
        let params = std::iter::once(&g[0]).chain(attrs.iter());
        insert.execute(rusqlite::params_from_iter(params)).at(out)?;
        let fid = tx.last_insert_rowid();
        let bbox: Option<[f64; 4]> = match (&g[1], &g[2], &g[3], &g[4]) {
            (Value::Real(a), Value::Real(b), Value::Real(c), Value::Real(d)) => {
                Some([*a, *b, *c, *d])
            }
            _ => None,
        };
        if let Some(b) = bbox {
            insert_rtree
                .execute(params![fid, b[0], b[1], b[2], b[3]])
                .at(out)?;
            extent.add(b);
        }
        Ok(())
    })?;
    let e = extent.0;
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,
                                    min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, '', ?2, ?3, ?4, ?5, ?6)",
        params![
            def.name,
            e.map(|e| e[0]),
            e.map(|e| e[2]),
            e.map(|e| e[1]),
            e.map(|e| e[3]),
            SRID
        ],
    )
    .at(out)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
         VALUES (?1, ?2, ?3, ?4, 0, 0)",
        params![def.name, geom, gcol.ty.name(), SRID],
    )
    .at(out)?;
    tx.execute(
        "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
         VALUES (?1, ?2, 'gpkg_rtree_index', 'http://www.geopackage.org/spec130/#extension_rtree', 'write-only')",
        params![def.name, geom],
    )
    .at(out)?;
    // The triggers call ST_* functions that GDAL/QGIS provide; they are created after the
    // bulk insert (which filled the R*Tree directly) because plain SQLite lacks them.
    tx.execute_batch(&rtree_triggers(&def.name, geom)).at(out)?;
    Ok(())
}

fn attribute_layer(
    project: &Project,
    tx: &Transaction<'_>,
    out: &Path,
    def: &TableDef,
) -> Result<(), StoreError> {
    tx.execute_batch(&create_table(def, None)).at(out)?;
    let mut insert = tx.prepare(&insert_sql(def, None)).at(out)?;
    for_each_row(project, def, &[], |values| {
        insert
            .execute(rusqlite::params_from_iter(values.iter()))
            .at(out)?;
        Ok(())
    })?;
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
         VALUES (?1, 'attributes', ?1, '')",
        [&def.name],
    )
    .at(out)?;
    Ok(())
}

/// The six triggers of the `gpkg_rtree_index` extension (GeoPackage 1.3, annex F.3).
fn rtree_triggers(table: &str, geom: &str) -> String {
    let t = quote(table);
    let c = quote(geom);
    let r = quote(&format!("rtree_{table}_{geom}"));
    let name = |suffix: &str| quote(&format!("rtree_{table}_{geom}_{suffix}"));
    let values = format!(
        "VALUES (NEW.fid, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}))"
    );
    format!(
        "CREATE TRIGGER {insert} AFTER INSERT ON {t}
           WHEN (NEW.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
         BEGIN INSERT OR REPLACE INTO {r} {values}; END;
         CREATE TRIGGER {u1} AFTER UPDATE OF {c} ON {t}
           WHEN OLD.fid = NEW.fid AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
         BEGIN INSERT OR REPLACE INTO {r} {values}; END;
         CREATE TRIGGER {u2} AFTER UPDATE OF {c} ON {t}
           WHEN OLD.fid = NEW.fid AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
         CREATE TRIGGER {u3} AFTER UPDATE ON {t}
           WHEN OLD.fid != NEW.fid AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} {values}; END;
         CREATE TRIGGER {u4} AFTER UPDATE ON {t}
           WHEN OLD.fid != NEW.fid AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
         BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
         CREATE TRIGGER {delete} AFTER DELETE ON {t}
           WHEN OLD.{c} NOT NULL
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;",
        insert = name("insert"),
        u1 = name("update1"),
        u2 = name("update2"),
        u3 = name("update3"),
        u4 = name("update4"),
        delete = name("delete"),
    )
}
