//! `Project::write_results`: replaces every result table in one transaction.

use std::collections::HashMap;
use std::path::Path;

use geo::MultiLineString;
use rusqlite::types::Value;
use rusqlite::{params, Transaction};

use super::error::{SqlContext, StoreError};
use super::schema::{self, quote, TableDef, SRID};
use super::spatialite::call_checked;
use super::wkb;
use crate::analysis::bike_shed::{bike_sheds, Shed};
use crate::analysis::score_inputs::{score_inputs, USE_FLAGS};
use crate::model::{
    Access, BlockScores, Destination, DestinationCategory, Direction, ProjectData, RunMetadata,
};

/// `RunMetadata::parameters` keys that fill `residential_speed_limit` when the pipeline
/// records them (spec §8 columns of that table).
pub const PARAM_STATE_FIPS: &str = "state_fips_code";
pub const PARAM_CITY_FIPS: &str = "city_fips_code";
pub const PARAM_STATE_SPEED: &str = "state_speed";
pub const PARAM_CITY_SPEED: &str = "city_speed";

pub(crate) fn write_results(
    tx: &Transaction<'_>,
    path: &Path,
    data: &ProjectData,
) -> Result<(), StoreError> {
    let blob = postcard::to_allocvec(data).map_err(|source| StoreError::ResultsEncode {
        path: path.to_path_buf(),
        source,
    })?;
    let w = Writer { tx, path };
    for def in schema::result_tables() {
        w.drop_table(&def)?;
    }
    w.boundary(data)?;
    w.ways(data)?;
    w.intersections(data)?;
    w.blocks(data)?;
    w.pairs(data)?;
    w.overall_scores(data)?;
    let sheds = bike_sheds(
        &data.blocks,
        &data.pairs,
        &data.destinations,
        &data.boundary_ll,
        &data.projection,
    );
    w.score_inputs(data, &sheds)?;
    w.speed_limit(data)?;
    w.mileage(data)?;
    w.paths(data)?;
    for cat in DestinationCategory::ALL {
        w.destinations(data, cat, &sheds)?;
    }
    let run_id = w.run_metadata(&data.metadata)?;
    tx.execute(
        "INSERT OR REPLACE INTO bna_results_blob (id, run_id, format, data) VALUES (1, ?1, ?2, ?3)",
        params![run_id, schema::RESULTS_FORMAT, blob],
    )
    .at(path)?;
    Ok(())
}

/// Replaces the offline basemap's water areas: (OSM id, lon/lat area).
pub(crate) fn write_basemap(
    tx: &Transaction<'_>,
    path: &Path,
    water_ll: &[(i64, geo::MultiPolygon<f64>)],
) -> Result<(), StoreError> {
    let w = Writer { tx, path };
    let def = schema::basemap_water();
    w.drop_table(&def)?;
    w.table(&def, water_ll.len(), |i, v| {
        v.push(Value::Integer(i as i64 + 1));
        v.push(Value::Integer(water_ll[i].0));
        v.push(blob(polygon_wkb(&water_ll[i].1)));
        Ok(())
    })
}

/// Creates `def` (dropping an older one) and fills it with `rows`: attribute values, then one
/// WKB or NULL per geometry column. The result tables' writer, for the other SpatiaLite files
/// bna writes (`store::layer`).
pub(crate) fn write_table(
    tx: &Transaction<'_>,
    path: &Path,
    def: &TableDef,
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    let w = Writer { tx, path };
    w.drop_table(def)?;
    w.table(def, rows.len(), |i, v| {
        v.extend(rows[i].iter().cloned());
        Ok(())
    })
}

struct Writer<'a, 'c> {
    tx: &'a Transaction<'c>,
    path: &'a Path,
}

fn int<T: Into<i64>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| Value::Integer(v.into()))
}

fn real(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Real)
}

fn text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::Text(s.to_string()))
}

/// Empty strings become NULL, as in the reference tables.
fn non_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Text(s.to_string())
    }
}

fn boolean(b: bool) -> Value {
    Value::Integer(i64::from(b))
}

fn blob(b: Option<Vec<u8>>) -> Value {
    b.map_or(Value::Null, Value::Blob)
}

fn dir(d: Option<Direction>) -> Value {
    text(d.map(Direction::as_str))
}

fn json(v: &impl serde::Serialize) -> Result<Value, StoreError> {
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| StoreError::InconsistentData(format!("cannot encode JSON: {e}")))
}

/// `def.create_sql()` with the geometry columns appended, spelled as `AddGeometryColumn`'s
/// `ALTER TABLE … ADD COLUMN` would leave them in the stored schema.
fn create_sql_with_geometry(def: &TableDef) -> String {
    let sql = def.create_sql();
    if def.geoms.is_empty() {
        return sql;
    }
    let geoms: String = def
        .geoms
        .iter()
        .map(|g| format!(", {} {}", quote(g.name), g.ty.name()))
        .collect();
    // create_sql() ends with the closing parenthesis of the column list.
    let body = sql.strip_suffix(')').unwrap_or(&sql);
    format!("{body}{geoms})")
}

fn polygon_wkb(mp: &geo::MultiPolygon<f64>) -> Option<Vec<u8>> {
    (!mp.0.is_empty()).then(|| wkb::multi_polygon(mp))
}

fn line_wkb(ls: &geo::LineString<f64>) -> Option<Vec<u8>> {
    // A line needs two points; SpatiaLite would store fewer, but QGIS cannot draw it.
    (ls.0.len() >= 2).then(|| wkb::line_string(ls))
}

impl Writer<'_, '_> {
    fn table_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.tx
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .at(self.path)
    }

    /// SpatiaLite keeps triggers, an R*Tree and `geometry_columns` rows per geometry column;
    /// they have to go before the table or they dangle.
    fn drop_table(&self, def: &TableDef) -> Result<(), StoreError> {
        for g in &def.geoms {
            let index: Option<i64> = self
                .tx
                .query_row(
                    "SELECT spatial_index_enabled FROM geometry_columns
                     WHERE f_table_name = lower(?1) AND f_geometry_column = lower(?2)",
                    [&def.name, g.name],
                    |r| r.get(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })
                .at(self.path)?;
            let Some(index) = index else { continue };
            if index != 0 {
                call_checked(
                    self.tx,
                    self.path,
                    "SELECT DisableSpatialIndex(?1, ?2)",
                    [&def.name, g.name],
                )?;
            }
            let idx_table = format!("idx_{}_{}", def.name, g.name);
            self.tx
                .execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(&idx_table)))
                .at(self.path)?;
            call_checked(
                self.tx,
                self.path,
                "SELECT DiscardGeometryColumn(?1, ?2)",
                [&def.name, g.name],
            )?;
        }
        if self.table_exists(&def.name)? {
            self.tx
                .execute_batch(&format!("DROP TABLE {}", quote(&def.name)))
                .at(self.path)?;
        }
        Ok(())
    }

    /// Creates `def`, inserts `n` rows produced by `row` (attribute values, then one WKB or
    /// NULL per geometry column), then registers the geometry columns and builds the spatial
    /// indexes.
    ///
    /// The geometry columns are declared in `CREATE TABLE` and registered with
    /// `RecoverGeometryColumn` after the rows are in: registering them first
    /// (`AddGeometryColumn`) installs SpatiaLite's per-row triggers (a constraint check and a
    /// `geometry_columns_time` update for every insert), which made the inserts several times
    /// slower. The registration, triggers and table SQL that result are the same.
    fn table(
        &self,
        def: &TableDef,
        n: usize,
        mut row: impl FnMut(usize, &mut Vec<Value>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute_batch(&create_sql_with_geometry(def))
            .at(self.path)?;
        let names: Vec<String> = def
            .columns
            .iter()
            .map(|c| quote(&c.name))
            .chain(def.geoms.iter().map(|g| quote(g.name)))
            .collect();
        let slots: Vec<String> = (1..=def.columns.len())
            .map(|i| format!("?{i}"))
            .chain(
                (0..def.geoms.len())
                    .map(|j| format!("GeomFromWKB(?{}, {SRID})", def.columns.len() + j + 1)),
            )
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(&def.name),
            names.join(", "),
            slots.join(", ")
        );
        let mut stmt = self.tx.prepare(&sql).at(self.path)?;
        let width = def.columns.len() + def.geoms.len();
        let mut values = Vec::with_capacity(width);
        for i in 0..n {
            values.clear();
            row(i, &mut values)?;
            if values.len() != width {
                // A programming error in this module, caught by the tests.
                return Err(StoreError::InconsistentData(format!(
                    "{}: row has {} values for {width} columns",
                    def.name,
                    values.len()
                )));
            }
            stmt.execute(rusqlite::params_from_iter(values.iter()))
                .at(self.path)?;
        }
        drop(stmt);
        for g in &def.geoms {
            call_checked(
                self.tx,
                self.path,
                "SELECT RecoverGeometryColumn(?1, ?2, ?3, ?4, 'XY')",
                params![def.name, g.name, SRID, g.ty.name()],
            )?;
            if n > 0 {
                // What the insert trigger would have recorded for the last row.
                self.tx
                    .execute(
                        "UPDATE geometry_columns_time
                         SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                         WHERE f_table_name = lower(?1) AND f_geometry_column = lower(?2)",
                        [&def.name, g.name],
                    )
                    .at(self.path)?;
            }
            call_checked(
                self.tx,
                self.path,
                "SELECT CreateSpatialIndex(?1, ?2)",
                [&def.name, g.name],
            )?;
            // Extents for QGIS (geometry_columns_statistics), as UpdateLayerStatistics
            // records them. Not UpdateLayerStatistics itself: it also sorts every column of
            // the table for geometry_columns_field_infos, which QGIS does not read and which
            // took half of the save on large projects.
            self.tx
                .execute(
                    &format!(
                        "INSERT OR REPLACE INTO geometry_columns_statistics
                            (f_table_name, f_geometry_column, last_verified, row_count,
                             extent_min_x, extent_min_y, extent_max_x, extent_max_y)
                         SELECT lower(?1), lower(?2), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                                count(*), min(MbrMinX({g})), min(MbrMinY({g})),
                                max(MbrMaxX({g})), max(MbrMaxY({g}))
                         FROM {t}",
                        g = quote(g.name),
                        t = quote(&def.name),
                    ),
                    [&def.name, g.name],
                )
                .at(self.path)?;
        }
        Ok(())
    }

    fn boundary(&self, data: &ProjectData) -> Result<(), StoreError> {
        self.table(&schema::boundary(), 1, |_, v| {
            v.push(Value::Integer(1));
            v.push(blob(polygon_wkb(&data.boundary_ll)));
            Ok(())
        })
    }

    fn ways(&self, data: &ProjectData) -> Result<(), StoreError> {
        self.table(&schema::ways(), data.segments.len(), |i, v| {
            let s = &data.segments[i];
            let a = &s.attrs;
            v.extend([
                int(Some(s.road_id)),
                int(Some(s.osm_id)),
                text(s.name.as_deref()),
                int(Some(s.intersection_from)),
                int(Some(s.intersection_to)),
                text(Some(a.functional_class.as_str())),
                int(s.path_id),
                int(a.speed_limit),
                dir(a.one_way_car),
                dir(a.one_way),
                real(a.width_ft),
                text(a.ft_bike_infra.map(|b| b.as_str())),
                real(a.ft_bike_infra_width),
                text(a.tf_bike_infra.map(|b| b.as_str())),
                real(a.tf_bike_infra_width),
                int(a.ft_lanes),
                int(a.tf_lanes),
                int(a.ft_cross_lanes),
                int(a.tf_cross_lanes),
                int(a.twltl_cross_lanes),
                int(a.ft_park),
                int(a.tf_park),
                int(s.stress.ft_seg),
                int(s.stress.ft_int),
                int(s.stress.tf_seg),
                int(s.stress.tf_int),
                // The reference marks crosswalks with 1 and leaves other ways NULL (§7.7).
                int(a.xwalk.then_some(1)),
                boolean(a.bicycle_no),
                non_empty(&s.stress_rules[0]),
                non_empty(&s.stress_rules[1]),
                non_empty(&s.stress_rules[2]),
                non_empty(&s.stress_rules[3]),
                json(&s.tags)?,
                blob(line_wkb(&s.geom_ll)),
            ]);
            Ok(())
        })
    }

    fn intersections(&self, data: &ProjectData) -> Result<(), StoreError> {
        self.table(
            &schema::intersections(),
            data.intersections.len(),
            |i, v| {
                let n = &data.intersections[i];
                v.extend([
                    int(Some(n.int_id)),
                    int(Some(n.osm_id)),
                    int(Some(n.flags.legs)),
                    boolean(n.flags.signalized),
                    boolean(n.flags.stops),
                    boolean(n.flags.rrfb),
                    boolean(n.flags.island),
                    Value::Blob(wkb::point(&n.point_ll)),
                ]);
                Ok(())
            },
        )
    }

    fn blocks(&self, data: &ProjectData) -> Result<(), StoreError> {
        let mut scores: Vec<Option<&BlockScores>> = vec![None; data.blocks.len()];
        for s in &data.block_scores {
            let slot = scores.get_mut(s.block as usize).ok_or_else(|| {
                StoreError::InconsistentData(format!(
                    "block score for block {} but there are {} blocks",
                    s.block,
                    data.blocks.len()
                ))
            })?;
            *slot = Some(s);
        }
        self.table(&schema::blocks(), data.blocks.len(), |i, v| {
            let b = &data.blocks[i];
            let s = scores[i];
            v.extend([
                Value::Integer(i as i64),
                Value::Text(b.geoid.clone()),
                Value::Real(b.population),
                Value::Real(b.jobs),
                real(b.aland),
            ]);
            for m in schema::MEASURES {
                let a = s.map(|s| access_for(s, m)).unwrap_or_default();
                v.extend([real(a.low), real(a.high), real(a.score)]);
            }
            v.extend([
                real(s.map(|s| s.overall_score)),
                int(s.map(|s| s.reachable_blocks)),
                real(s.and_then(|s| s.opportunity_score)),
                real(s.and_then(|s| s.core_services_score)),
                real(s.and_then(|s| s.recreation_score)),
                blob(polygon_wkb(&b.geom_ll)),
            ]);
            Ok(())
        })
    }

    fn pairs(&self, data: &ProjectData) -> Result<(), StoreError> {
        let geoid = |i: u32| -> Result<Value, StoreError> {
            data.blocks
                .get(i as usize)
                .map(|b| Value::Text(b.geoid.clone()))
                .ok_or_else(|| {
                    StoreError::InconsistentData(format!("block pair refers to block {i}"))
                })
        };
        self.table(&schema::pairs(), data.pairs.len(), |i, v| {
            let p = &data.pairs[i];
            v.extend([
                geoid(p.source)?,
                geoid(p.target)?,
                boolean(p.low_stress),
                int(p.low_stress_cost),
                // Every row of the reference table is reachable on the full network.
                boolean(true),
                int(p.high_stress_cost),
            ]);
            Ok(())
        })
    }

    fn overall_scores(&self, data: &ProjectData) -> Result<(), StoreError> {
        self.table(
            &schema::overall_scores(),
            data.overall_scores.len(),
            |i, v| {
                let s = &data.overall_scores[i];
                v.extend([
                    Value::Integer(i as i64 + 1),
                    Value::Text(s.score_id.clone()),
                    real(s.score_original),
                    real(s.score_normalized),
                    non_empty(&s.human_explanation),
                ]);
                Ok(())
            },
        )
    }

    fn score_inputs(&self, data: &ProjectData, sheds: &[Shed]) -> Result<(), StoreError> {
        let rows = score_inputs(&data.blocks, &data.block_scores, &data.destinations, sheds);
        self.table(&schema::score_inputs(), rows.len(), |i, v| {
            let r = &rows[i];
            v.extend([
                Value::Integer(i as i64 + 1),
                Value::Text(r.category.clone()),
                Value::Text(r.score_name.clone()),
                real(r.score),
                non_empty(&r.notes),
                non_empty(&r.human_explanation),
            ]);
            // The reference sets its flag TRUE on the one row it marks and leaves NULL elsewhere.
            v.extend(USE_FLAGS.iter().map(|f| {
                if r.use_flag.as_deref() == Some(*f) {
                    Value::Integer(1)
                } else {
                    Value::Null
                }
            }));
            Ok(())
        })
    }

    fn speed_limit(&self, data: &ProjectData) -> Result<(), StoreError> {
        let p = &data.metadata.parameters;
        let speed = |k: &str| int(p.get(k).and_then(|s| s.trim().parse::<i64>().ok()));
        self.table(&schema::speed_limit(), 1, |_, v| {
            v.extend([
                text(p.get(PARAM_STATE_FIPS).map(String::as_str)),
                text(p.get(PARAM_CITY_FIPS).map(String::as_str)),
                speed(PARAM_STATE_SPEED),
                speed(PARAM_CITY_SPEED),
                int(data.residential_speed_limit),
            ]);
            Ok(())
        })
    }

    fn mileage(&self, data: &ProjectData) -> Result<(), StoreError> {
        self.table(&schema::mileage(), data.mileage.len(), |i, v| {
            let (kind, miles) = &data.mileage[i];
            v.extend([Value::Text(kind.clone()), Value::Real(*miles)]);
            Ok(())
        })
    }

    fn paths(&self, data: &ProjectData) -> Result<(), StoreError> {
        let by_id: HashMap<u32, &crate::model::Segment> =
            data.segments.iter().map(|s| (s.road_id, s)).collect();
        self.table(&schema::paths(), data.trails.len(), |i, v| {
            let t = &data.trails[i];
            let lines = t
                .road_ids
                .iter()
                .map(|id| {
                    by_id.get(id).map(|s| s.geom_ll.clone()).ok_or_else(|| {
                        StoreError::InconsistentData(format!(
                            "trail {} refers to road {id}",
                            t.path_id
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let lines: Vec<_> = lines.into_iter().filter(|l| l.0.len() >= 2).collect();
            let geom = (!lines.is_empty()).then(|| wkb::multi_line_string(&MultiLineString(lines)));
            v.extend([
                int(Some(t.path_id)),
                Value::Real(t.path_length),
                Value::Real(t.bbox_length),
                boolean(t.qualifies()),
                blob(geom),
            ]);
            Ok(())
        })
    }

    /// `sheds[i]` is the bike shed of `data.destinations[i]`.
    fn destinations(
        &self,
        data: &ProjectData,
        cat: DestinationCategory,
        sheds: &[Shed],
    ) -> Result<(), StoreError> {
        let rows: Vec<(&Destination, Shed)> = data
            .destinations
            .iter()
            .zip(
                sheds
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(Shed::default())),
            )
            .filter(|(d, _)| d.category == cat)
            .collect();
        let has_name = schema::destination_name_column(cat).is_some();
        self.table(&schema::destinations(cat), rows.len(), |i, v| {
            let (d, shed) = rows[i];
            let geoids = d
                .blocks
                .iter()
                .map(|&b| {
                    data.blocks
                        .get(b as usize)
                        .map(|b| b.geoid.as_str())
                        .ok_or_else(|| {
                            StoreError::InconsistentData(format!(
                                "{} destination {} refers to block {b}",
                                cat.table_name(),
                                d.id
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            v.push(int(Some(d.id)));
            v.push(json(&geoids)?);
            if has_name {
                v.push(int(d.osm_id));
                v.push(text(d.name.as_deref()));
            }
            v.extend([
                real(shed.pop_low_stress),
                real(shed.pop_high_stress),
                real(shed.pop_score),
            ]);
            // Destinations are only kept in the metric CRS; exports are lon/lat.
            let pt = data.projection.unproject(&d.point);
            v.push(Value::Blob(wkb::point(&pt)));
            let poly = d
                .polygon
                .as_ref()
                .and_then(|p| polygon_wkb(&data.projection.unproject(p)));
            v.push(blob(poly));
            Ok(())
        })
    }

    fn run_metadata(&self, m: &RunMetadata) -> Result<i64, StoreError> {
        let tx = self.tx;
        let path = self.path;
        tx.execute(
            "INSERT INTO bna_runs (engine_version, finished_at, written_at, population_source,
                                   jobs_source, projection_epsg, parameters)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?3, ?4, ?5, ?6)",
            params![
                m.engine_version,
                m.finished_at,
                m.population_source.as_str(),
                m.jobs_source,
                m.projection_epsg,
                json(&m.parameters)?,
            ],
        )
        .at(path)?;
        let run_id = tx.last_insert_rowid();
        let mut stmt = tx
            .prepare(
                "INSERT INTO bna_stage_timings (run_id, seq, stage, seconds, from_checkpoint)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .at(path)?;
        for (seq, t) in m.stage_timings.iter().enumerate() {
            stmt.execute(params![
                run_id,
                seq as i64,
                t.stage,
                t.seconds,
                t.from_checkpoint
            ])
            .at(path)?;
        }
        let mut stmt = tx
            .prepare(
                "INSERT INTO bna_inputs (run_id, seq, role, path, sha256, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .at(path)?;
        for (seq, f) in m.inputs.iter().enumerate() {
            let bytes = i64::try_from(f.bytes).map_err(|_| {
                StoreError::InconsistentData(format!("input {} has {} bytes", f.path, f.bytes))
            })?;
            stmt.execute(params![run_id, seq as i64, f.role, f.path, f.sha256, bytes])
                .at(path)?;
        }
        Ok(run_id)
    }
}

/// The `Access` of one reference measure name (`schema::MEASURES`).
pub(crate) fn access_for(s: &BlockScores, measure: &str) -> Access {
    crate::analysis::score_inputs::measure_access(s, measure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measure_maps_to_its_own_access() {
        let mut s = BlockScores {
            block: 0,
            reachable_blocks: 0,
            pop: Access::default(),
            emp: Access::default(),
            destinations: [Access::default(); 13],
            trails: Access::default(),
            overall_score: 0.0,
            opportunity_score: None,
            core_services_score: None,
            recreation_score: None,
        };
        // Give each measure a distinct low count, then check it comes back under its name.
        s.pop.low = Some(100.0);
        s.emp.low = Some(101.0);
        s.trails.low = Some(102.0);
        for (i, d) in s.destinations.iter_mut().enumerate() {
            d.low = Some(i as f64);
        }
        let mut seen: Vec<f64> = schema::MEASURES
            .iter()
            .map(|m| access_for(&s, m).low.unwrap())
            .collect();
        seen.sort_by(f64::total_cmp);
        seen.dedup();
        assert_eq!(seen.len(), 16);
        assert_eq!(access_for(&s, "parks").low, Some(9.0));
    }
}
