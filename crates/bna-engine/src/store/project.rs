//! The `.bna` project file: one SQLite + SpatiaLite database that QGIS opens directly.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use super::error::{SqlContext, StoreError};
use super::output::PathKind;
use super::schema::{self, RESULTS_FORMAT, SCHEMA_VERSION};
use super::spatialite::{call_checked, configure, open_database};
use super::write;
use crate::model::{InputFile, PopulationSource, ProjectData, RunMetadata, ScoreRow, StageTiming};

/// An open `.bna` project. Writes take `&mut self` so one `Project` is never written from two
/// places at once; other processes are kept out by SQLite's file lock (5 s busy timeout).
pub struct Project {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Project").field("path", &self.path).finish()
    }
}

impl Project {
    /// Opens `path`, or creates a new project there if the file is missing or empty. Anything
    /// but a regular file (a FIFO would block, a device would be written) is refused, and so is
    /// a database that is not a project, before anything in it changes.
    pub fn create_or_open(path: &Path) -> Result<Project, StoreError> {
        refuse_non_file(path)?;
        let mut conn = open_database(path)?;
        let fresh = is_fresh(&conn, path)?;
        configure(&conn, path)?;
        if fresh {
            init(&mut conn, path)?;
        } else {
            check_version(&conn, path)?;
        }
        Ok(Project {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing project; unlike [`Project::create_or_open`] it never makes one, so
    /// reading a missing or empty file changes nothing on disk.
    pub fn open(path: &Path) -> Result<Project, StoreError> {
        let kind = fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => StoreError::NoProject {
                path: path.to_path_buf(),
            },
            _ => StoreError::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        if kind.is_file() && kind.len() == 0 {
            return Err(StoreError::EmptyProject {
                path: path.to_path_buf(),
            });
        }
        Self::create_or_open(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection (SpatiaLite loaded), for read-only inspection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The checkpoint of `stage` if it was saved under the same `key` (a hash of the stage's
    /// inputs), so a stale checkpoint is never returned.
    pub fn load_checkpoint(&self, stage: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(String, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT key, data FROM bna_checkpoints WHERE stage = ?1",
                [stage],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .at(&self.path)?;
        Ok(row.and_then(|(k, data)| (k == key).then_some(data)))
    }

    /// Stores the checkpoint of `stage`, replacing any earlier one for that stage.
    pub fn save_checkpoint(
        &mut self,
        stage: &str,
        key: &str,
        blob: &[u8],
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO bna_checkpoints (stage, key, data, saved_at)
                 VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 ON CONFLICT (stage) DO UPDATE SET
                    key = excluded.key, data = excluded.data, saved_at = excluded.saved_at",
                params![stage, key, blob],
            )
            .at(&self.path)?;
        Ok(())
    }

    /// Replaces all result tables, records the run, and stores `data` for `read_results`, in
    /// one transaction: a crash leaves the previous results intact.
    pub fn write_results(&mut self, data: &ProjectData) -> Result<(), StoreError> {
        let tx = self.conn.transaction().at(&self.path)?;
        write::write_results(&tx, &self.path, data)?;
        tx.commit().at(&self.path)
    }

    /// Replaces the water areas of the offline basemap (lon/lat), in one transaction.
    pub fn write_basemap_water(
        &mut self,
        water_ll: &[(i64, geo::MultiPolygon<f64>)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction().at(&self.path)?;
        write::write_basemap(&tx, &self.path, water_ll)?;
        tx.commit().at(&self.path)
    }

    /// The offline basemap's water areas (lon/lat); empty for projects written before the
    /// basemap had water.
    pub fn basemap_water(&self) -> Result<Vec<geo::MultiPolygon<f64>>, StoreError> {
        let exists: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [schema::BASEMAP_WATER],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .at(&self.path)?;
        if !exists {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT AsBinary(geom) FROM {} WHERE geom IS NOT NULL ORDER BY id",
                schema::BASEMAP_WATER
            ))
            .at(&self.path)?;
        let blobs = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        blobs
            .iter()
            .map(|b| match super::wkb::decode(b) {
                Ok(geo::Geometry::MultiPolygon(mp)) => Ok(mp),
                Ok(other) => Err(format!("expected a MULTIPOLYGON, found {other:?}")),
                Err(e) => Err(e),
            })
            .map(|r| {
                r.map_err(|detail| StoreError::Corrupt {
                    path: self.path.clone(),
                    what: format!("{}.geom", schema::BASEMAP_WATER),
                    detail,
                })
            })
            .collect()
    }

    /// The exact `ProjectData` last written, or `None` before the first analysis.
    pub fn read_results(&self) -> Result<Option<ProjectData>, StoreError> {
        let row: Option<(String, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT format, data FROM bna_results_blob WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .at(&self.path)?;
        let Some((format, data)) = row else {
            return Ok(None);
        };
        if format != RESULTS_FORMAT {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                what: "bna_results_blob.format".into(),
                detail: format!("expected {RESULTS_FORMAT:?}, found {format:?}"),
            });
        }
        postcard::from_bytes(&data)
            .map(Some)
            .map_err(|source| StoreError::ResultsDecode {
                path: self.path.clone(),
                source,
            })
    }

    pub(crate) fn has_results(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM bna_results_blob", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n > 0)
            .at(&self.path)
    }

    /// Rows of `neighborhood_overall_scores`, in table order; empty before the first analysis.
    pub fn overall_scores(&self) -> Result<Vec<ScoreRow>, StoreError> {
        if !self.has_results()? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT score_id, score_original, score_normalized, human_explanation
             FROM {} ORDER BY id",
            schema::OVERALL_SCORES
        );
        let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ScoreRow {
                    score_id: r.get(0)?,
                    score_original: r.get(1)?,
                    score_normalized: r.get(2)?,
                    human_explanation: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                })
            })
            .at(&self.path)?;
        rows.collect::<Result<Vec<_>, _>>().at(&self.path)
    }

    /// Metadata of the latest run written, from `bna_runs`, `bna_inputs`, `bna_stage_timings`.
    pub fn metadata(&self) -> Result<Option<RunMetadata>, StoreError> {
        let path = &self.path;
        type RunRow = (i64, String, String, String, Option<String>, i64, String);
        let run: Option<RunRow> = self
            .conn
            .query_row(
                "SELECT id, engine_version, finished_at, population_source, jobs_source,
                        projection_epsg, parameters
                 FROM bna_runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()
            .at(path)?;
        let Some((run_id, engine_version, finished_at, pop, jobs_source, epsg, params_json)) = run
        else {
            return Ok(None);
        };
        let corrupt = |what: &str, detail: String| StoreError::Corrupt {
            path: path.clone(),
            what: what.into(),
            detail,
        };
        let population_source = match pop.as_str() {
            "census" => PopulationSource::Census,
            "synthetic" => PopulationSource::Synthetic,
            other => return Err(corrupt("bna_runs.population_source", other.to_string())),
        };
        let mut parameters: BTreeMap<String, String> = serde_json::from_str(&params_json)
            .map_err(|e| corrupt("bna_runs.parameters", e.to_string()))?;
        clean_legacy_parameters(&mut parameters);
        let projection_epsg = u32::try_from(epsg)
            .map_err(|_| corrupt("bna_runs.projection_epsg", epsg.to_string()))?;

        let mut stmt = self
            .conn
            .prepare(
                "SELECT role, path, sha256, bytes FROM bna_inputs WHERE run_id = ?1 ORDER BY seq",
            )
            .at(path)?;
        let inputs = stmt
            .query_map([run_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?))
            })
            .at(path)?
            .map(|row| {
                let (role, p, sha256, bytes) = row.at(path)?;
                let bytes = u64::try_from(bytes)
                    .map_err(|_| corrupt("bna_inputs.bytes", bytes.to_string()))?;
                Ok(InputFile {
                    role,
                    path: p,
                    sha256,
                    bytes,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let mut stmt = self
            .conn
            .prepare(
                "SELECT stage, seconds, from_checkpoint FROM bna_stage_timings
                 WHERE run_id = ?1 ORDER BY seq",
            )
            .at(path)?;
        let stage_timings = stmt
            .query_map([run_id], |r| {
                Ok(StageTiming {
                    stage: r.get(0)?,
                    seconds: r.get(1)?,
                    from_checkpoint: r.get(2)?,
                })
            })
            .at(path)?
            .collect::<Result<Vec<_>, _>>()
            .at(path)?;

        Ok(Some(RunMetadata {
            engine_version,
            finished_at,
            population_source,
            jobs_source,
            parameters,
            inputs,
            stage_timings,
            projection_epsg,
        }))
    }
}

/// Projects written before the residential default was recorded as a number hold Rust's debug
/// text of it (`Some(20)`, `None`); read them as the number, or `none`, as runs record it now.
fn clean_legacy_parameters(parameters: &mut BTreeMap<String, String>) {
    if let Some(v) = parameters.get_mut("residential_speed_default_mph") {
        if let Some(mph) = v.strip_prefix("Some(").and_then(|r| r.strip_suffix(')')) {
            *v = mph.to_string();
        } else if v == "None" {
            *v = "none".to_string();
        }
    }
}

fn table_exists(conn: &Connection, path: &Path, name: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .at(path)
}

/// A symbolic link to a project is followed (reading through it is harmless); what it ends at
/// must be a regular file or nothing.
fn refuse_non_file(path: &Path) -> Result<(), StoreError> {
    let kind = match fs::metadata(path) {
        Ok(m) if m.is_file() => return Ok(()),
        Ok(_) => PathKind::of(&fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    }
    .map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    kind.refuse_unless_file(path)
}

/// Whether the database is new (no tables: a project is created in it), an existing project
/// (`bna_meta`), or, refused, some other database.
fn is_fresh(conn: &Connection, path: &Path) -> Result<bool, StoreError> {
    if table_exists(conn, path, "bna_meta")? {
        return Ok(false);
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .at(path)?;
    if tables > 0 {
        return Err(StoreError::NotBnaProject {
            path: path.to_path_buf(),
        });
    }
    Ok(true)
}

/// Creates the project's metadata in a new database.
fn init(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    // One transaction for SpatiaLite's metadata and ours, so a crash cannot leave a file that
    // has spatial tables but no bna_meta (which the check above would then refuse).
    let tx = conn.transaction().at(path)?;
    // 'WGS84' inserts EPSG:4326 and the WGS84 UTM zones (~130 rows, ~0.3 MB) instead of the
    // full EPSG set (~6 MB); results are all EPSG:4326.
    call_checked(&tx, path, "SELECT InitSpatialMetadata(0, 'WGS84')", [])?;
    tx.execute_batch(schema::META_DDL).at(path)?;
    tx.execute(
        "INSERT INTO bna_meta (key, value) VALUES
            ('schema_version', ?1),
            ('created_by', ?2),
            ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        params![SCHEMA_VERSION.to_string(), engine_version()],
    )
    .at(path)?;
    tx.commit().at(path)
}

fn check_version(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM bna_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .at(path)?;
    let value = value.unwrap_or_default();
    let found: i64 = value
        .trim()
        .parse()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| StoreError::BadSchemaVersion {
            path: path.to_path_buf(),
            value: value.clone(),
        })?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    // found < SCHEMA_VERSION: migrations go here once there is a version 2.
    Ok(())
}

fn engine_version() -> String {
    format!("bna {}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_projects_debug_text_reads_as_the_recorded_value() {
        let cases = [
            ("Some(20)", "20"),
            ("None", "none"),
            ("25", "25"),
            ("none", "none"),
        ];
        for (stored, read) in cases {
            let mut p = BTreeMap::from([
                (
                    "residential_speed_default_mph".to_string(),
                    stored.to_string(),
                ),
                ("other".to_string(), "Some(1)".to_string()),
            ]);
            clean_legacy_parameters(&mut p);
            assert_eq!(p["residential_speed_default_mph"], read, "{stored}");
            assert_eq!(p["other"], "Some(1)", "only the one key is rewritten");
        }
    }
}
