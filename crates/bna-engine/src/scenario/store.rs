//! The `bna_scenario*` tables. Plain SQLite tables (no geometry: join `block_id` / `road_id`
//! to `neighborhood_census_blocks` / `neighborhood_ways` in QGIS). Stress rows are only those
//! that differ from the base analysis; block rows are complete.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};

use super::{low_stress_reach, Edit, ScenarioError, ScenarioSummary, View, BASE};
use crate::model::{ProjectData, ScoreRow, SegmentStress};
use crate::store::Project;

const DDL: &str = "
CREATE TABLE IF NOT EXISTS bna_scenarios (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    edits_json TEXT NOT NULL,
    base_run_id INTEGER NOT NULL,
    rescore_seconds REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bna_scenario_scores (
    scenario TEXT NOT NULL,
    seq INTEGER NOT NULL,
    score_id TEXT NOT NULL,
    score_original REAL,
    score_normalized REAL,
    human_explanation TEXT,
    PRIMARY KEY (scenario, seq)
);
CREATE TABLE IF NOT EXISTS bna_scenario_block_scores (
    scenario TEXT NOT NULL,
    block_id INTEGER NOT NULL,
    geoid TEXT NOT NULL,
    overall_score REAL NOT NULL,
    low_stress_reach INTEGER NOT NULL,
    PRIMARY KEY (scenario, block_id)
);
CREATE TABLE IF NOT EXISTS bna_scenario_stress (
    scenario TEXT NOT NULL,
    road_id INTEGER NOT NULL,
    ft_seg_stress INTEGER,
    tf_seg_stress INTEGER,
    ft_int_stress INTEGER,
    tf_int_stress INTEGER,
    PRIMARY KEY (scenario, road_id)
);
";

const TABLES: [&str; 3] = [
    "bna_scenario_scores",
    "bna_scenario_block_scores",
    "bna_scenario_stress",
];

pub(super) struct Db {
    project: Project,
    path: PathBuf,
}

trait At<T> {
    fn at(self, path: &Path) -> Result<T, ScenarioError>;
}

impl<T> At<T> for Result<T, rusqlite::Error> {
    fn at(self, path: &Path) -> Result<T, ScenarioError> {
        self.map_err(|source| {
            ScenarioError::Store(crate::store::StoreError::from_sql(path, source))
        })
    }
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, ScenarioError> {
        let project = Project::open(path)?;
        project.connection().execute_batch(DDL).at(path)?;
        Ok(Db {
            project,
            path: path.to_path_buf(),
        })
    }

    fn run_id(&self) -> Result<i64, ScenarioError> {
        self.project
            .connection()
            .query_row("SELECT coalesce(max(id), 0) FROM bna_runs", [], |r| {
                r.get(0)
            })
            .at(&self.path)
    }

    /// Replaces scenario `name` with `data`, the re-scored results, in one transaction.
    pub fn save(
        &mut self,
        name: &str,
        edits: &[Edit],
        base: &ProjectData,
        data: &ProjectData,
        rescore_seconds: f64,
    ) -> Result<(), ScenarioError> {
        let path = self.path.clone();
        let run_id = self.run_id()?;
        let edits_json = serde_json::to_string(edits)
            .map_err(|e| ScenarioError::Input(format!("{}: edits: {e}", path.display())))?;
        let tx = self
            .project
            .connection()
            .unchecked_transaction()
            .at(&path)?;
        delete_rows(&tx, &path, name)?;
        tx.execute(
            "INSERT INTO bna_scenarios (name, created_at, edits_json, base_run_id, rescore_seconds)
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?2, ?3, ?4)",
            params![name, edits_json, run_id, rescore_seconds],
        )
        .at(&path)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO bna_scenario_scores (scenario, seq, score_id, score_original,
                        score_normalized, human_explanation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .at(&path)?;
            for (i, r) in data.overall_scores.iter().enumerate() {
                st.execute(params![
                    name,
                    i as i64,
                    r.score_id,
                    r.score_original,
                    r.score_normalized,
                    r.human_explanation
                ])
                .at(&path)?;
            }
            let reach = low_stress_reach(data);
            let mut score = vec![0.0; data.blocks.len()];
            for s in &data.block_scores {
                score[s.block as usize] = s.overall_score;
            }
            let mut st = tx
                .prepare(
                    "INSERT INTO bna_scenario_block_scores (scenario, block_id, geoid,
                        overall_score, low_stress_reach) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .at(&path)?;
            for (i, b) in data.blocks.iter().enumerate() {
                st.execute(params![name, i as i64, b.geoid, score[i], reach[i]])
                    .at(&path)?;
            }
            let mut st = tx
                .prepare(
                    "INSERT INTO bna_scenario_stress (scenario, road_id, ft_seg_stress,
                        tf_seg_stress, ft_int_stress, tf_int_stress)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .at(&path)?;
            for (s, b) in data.segments.iter().zip(&base.segments) {
                if s.stress != b.stress {
                    let x = s.stress;
                    st.execute(params![
                        name, s.road_id, x.ft_seg, x.tf_seg, x.ft_int, x.tf_int
                    ])
                    .at(&path)?;
                }
            }
        }
        tx.commit().at(&path)
    }

    pub fn delete(&mut self, name: &str) -> Result<(), ScenarioError> {
        let tx = self
            .project
            .connection()
            .unchecked_transaction()
            .at(&self.path)?;
        if delete_rows(&tx, &self.path, name)? == 0 {
            return Err(self.missing(name));
        }
        tx.commit().at(&self.path)
    }

    fn missing(&self, name: &str) -> ScenarioError {
        ScenarioError::Input(format!(
            "{}: no scenario {name:?}; `bna scenario list {}` shows the stored ones",
            self.path.display(),
            self.path.display()
        ))
    }

    pub fn list(&self) -> Result<Vec<ScenarioSummary>, ScenarioError> {
        let path = &self.path;
        let run_id = self.run_id()?;
        let conn = self.project.connection();
        let mut st = conn
            .prepare(
                "SELECT s.name, s.created_at, s.edits_json, s.base_run_id, c.score_normalized
                 FROM bna_scenarios s LEFT JOIN bna_scenario_scores c
                   ON c.scenario = s.name AND c.score_id = 'overall_score'
                 ORDER BY s.name",
            )
            .at(path)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                ))
            })
            .at(path)?;
        let mut out = Vec::new();
        for row in rows {
            let (name, created_at, edits_json, run, overall) = row.at(path)?;
            out.push(ScenarioSummary {
                edits: self.parse_edits(&name, &edits_json)?,
                name,
                created_at,
                overall,
                stale: run != run_id,
            });
        }
        Ok(out)
    }

    fn parse_edits(&self, name: &str, json: &str) -> Result<Vec<Edit>, ScenarioError> {
        serde_json::from_str(json).map_err(|e| {
            ScenarioError::Input(format!(
                "{}: scenario {name:?} has unreadable edits ({e}); delete and re-apply it",
                self.path.display()
            ))
        })
    }

    /// Scenario `name` in full, or the base analysis for [`BASE`].
    pub fn view(&self, base: &ProjectData, name: &str) -> Result<View, ScenarioError> {
        if name == BASE {
            return Ok(View::of_base(base));
        }
        let path = &self.path;
        let conn = self.project.connection();
        let row: Option<(String, i64)> = conn
            .query_row(
                "SELECT edits_json, base_run_id FROM bna_scenarios WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .at(path)?;
        let Some((edits_json, run)) = row else {
            return Err(self.missing(name));
        };
        if run != self.run_id()? {
            return Err(ScenarioError::Input(format!(
                "{}: scenario {name:?} was scored against an earlier analysis; re-apply its edits with `bna scenario apply`",
                path.display()
            )));
        }
        let edits = self.parse_edits(name, &edits_json)?;
        let mut st = conn
            .prepare(
                "SELECT score_id, score_original, score_normalized, human_explanation
                 FROM bna_scenario_scores WHERE scenario = ?1 ORDER BY seq",
            )
            .at(path)?;
        let scores = st
            .query_map([name], |r| {
                Ok(ScoreRow {
                    score_id: r.get(0)?,
                    score_original: r.get(1)?,
                    score_normalized: r.get(2)?,
                    human_explanation: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                })
            })
            .at(path)?
            .collect::<Result<Vec<_>, _>>()
            .at(path)?;
        let n = base.blocks.len();
        let mut block_score = vec![0.0; n];
        let mut reach = vec![0u32; n];
        let mut seen = 0;
        let mut st = conn
            .prepare(
                "SELECT block_id, overall_score, low_stress_reach
                 FROM bna_scenario_block_scores WHERE scenario = ?1",
            )
            .at(path)?;
        let rows = st
            .query_map([name], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })
            .at(path)?;
        for row in rows {
            let (i, s, r) = row.at(path)?;
            let i = usize::try_from(i)
                .ok()
                .filter(|&i| i < n)
                .ok_or_else(|| self.corrupt(name, "block_id"))?;
            block_score[i] = s;
            reach[i] = r;
            seen += 1;
        }
        if seen != n {
            return Err(self.corrupt(name, "block rows"));
        }
        let mut stress: Vec<SegmentStress> = base.segments.iter().map(|s| s.stress).collect();
        let mut st = conn
            .prepare(
                "SELECT road_id, ft_seg_stress, tf_seg_stress, ft_int_stress, tf_int_stress
                 FROM bna_scenario_stress WHERE scenario = ?1",
            )
            .at(path)?;
        let rows = st
            .query_map([name], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    SegmentStress {
                        ft_seg: r.get(1)?,
                        tf_seg: r.get(2)?,
                        ft_int: r.get(3)?,
                        tf_int: r.get(4)?,
                    },
                ))
            })
            .at(path)?;
        for row in rows {
            let (road, s) = row.at(path)?;
            let slot = usize::try_from(road)
                .ok()
                .and_then(|i| stress.get_mut(i))
                .ok_or_else(|| self.corrupt(name, "road_id"))?;
            *slot = s;
        }
        Ok(View {
            name: name.to_owned(),
            edits,
            scores,
            block_score,
            reach,
            stress,
        })
    }

    fn corrupt(&self, name: &str, what: &str) -> ScenarioError {
        ScenarioError::Input(format!(
            "{}: scenario {name:?} has inconsistent {what}; delete and re-apply it",
            self.path.display()
        ))
    }
}

fn delete_rows(
    conn: &rusqlite::Connection,
    path: &Path,
    name: &str,
) -> Result<usize, ScenarioError> {
    for t in TABLES {
        conn.execute(&format!("DELETE FROM {t} WHERE scenario = ?1"), [name])
            .at(path)?;
    }
    conn.execute("DELETE FROM bna_scenarios WHERE name = ?1", [name])
        .at(path)
}
