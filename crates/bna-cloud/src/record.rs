//! `bna_cloud_jobs`: the jobs submitted for a project, kept in the `.bna` so that a restarted
//! CLI or app re-attaches to them. No credentials or settings beyond names are stored.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::jobs::{JobState, TimelineEntry};
use super::CloudError;
use bna_engine::store::{Project, StoreError};

const DDL: &str = "CREATE TABLE IF NOT EXISTS bna_cloud_jobs (
    job_id TEXT PRIMARY KEY,
    backend TEXT NOT NULL,          -- 'aws' or 'local'
    organization TEXT NOT NULL,
    job_name TEXT NOT NULL,
    region TEXT,
    job_queue TEXT,
    submitted_at TEXT NOT NULL,
    input_uri TEXT NOT NULL,
    output_uri TEXT NOT NULL,
    state TEXT NOT NULL,
    status_reason TEXT,
    exit_code INTEGER,
    timeline TEXT NOT NULL DEFAULT '[]',
    superseded_by TEXT,
    fetched_at TEXT
)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Aws,
    Local,
}

impl Backend {
    fn as_str(self) -> &'static str {
        match self {
            Backend::Aws => "aws",
            Backend::Local => "local",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub backend: Backend,
    pub organization: String,
    pub job_name: String,
    pub region: Option<String>,
    pub job_queue: Option<String>,
    pub submitted_at: String,
    pub input_uri: String,
    pub output_uri: String,
    pub state: JobState,
    pub status_reason: Option<String>,
    pub exit_code: Option<i32>,
    pub timeline: Vec<TimelineEntry>,
    /// Set when a newer submission for the organization terminated this job.
    pub superseded_by: Option<String>,
    pub fetched_at: Option<String>,
}

fn sql(project: &Project, e: rusqlite::Error) -> CloudError {
    CloudError::Store(StoreError::Sqlite {
        path: project.path().to_path_buf(),
        source: e,
    })
}

fn ensure(project: &Project) -> Result<(), CloudError> {
    project
        .connection()
        .execute_batch(DDL)
        .map_err(|e| sql(project, e))
}

/// Inserts or replaces the record of `rec.job_id`.
pub fn save(project: &Project, rec: &JobRecord) -> Result<(), CloudError> {
    ensure(project)?;
    let timeline = serde_json::to_string(&rec.timeline).unwrap_or_else(|_| "[]".into());
    project
        .connection()
        .execute(
            "INSERT OR REPLACE INTO bna_cloud_jobs (job_id, backend, organization, job_name, region,
                job_queue, submitted_at, input_uri, output_uri, state, status_reason, exit_code,
                timeline, superseded_by, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                rec.job_id,
                rec.backend.as_str(),
                rec.organization,
                rec.job_name,
                rec.region,
                rec.job_queue,
                rec.submitted_at,
                rec.input_uri,
                rec.output_uri,
                rec.state.as_str(),
                rec.status_reason,
                rec.exit_code,
                timeline,
                rec.superseded_by,
                rec.fetched_at,
            ],
        )
        .map(|_| ())
        .map_err(|e| sql(project, e))
}

/// All records, newest submission first.
pub fn all(project: &Project) -> Result<Vec<JobRecord>, CloudError> {
    ensure(project)?;
    let conn = project.connection();
    let mut stmt = conn
        .prepare(
            "SELECT job_id, backend, organization, job_name, region, job_queue, submitted_at,
                    input_uri, output_uri, state, status_reason, exit_code, timeline,
                    superseded_by, fetched_at
             FROM bna_cloud_jobs ORDER BY submitted_at DESC, rowid DESC",
        )
        .map_err(|e| sql(project, e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<i32>>(11)?,
                r.get::<_, String>(12)?,
                r.get::<_, Option<String>>(13)?,
                r.get::<_, Option<String>>(14)?,
            ))
        })
        .map_err(|e| sql(project, e))?;
    let corrupt = |what: &str, detail: String| {
        CloudError::Store(StoreError::Corrupt {
            path: project.path().to_path_buf(),
            what: format!("bna_cloud_jobs.{what}"),
            detail,
        })
    };
    let mut out = Vec::new();
    for row in rows {
        let (
            job_id,
            backend,
            organization,
            job_name,
            region,
            job_queue,
            submitted_at,
            input_uri,
            output_uri,
            state,
            status_reason,
            exit_code,
            timeline,
            superseded_by,
            fetched_at,
        ) = row.map_err(|e| sql(project, e))?;
        let backend = match backend.as_str() {
            "aws" => Backend::Aws,
            "local" => Backend::Local,
            other => return Err(corrupt("backend", other.into())),
        };
        let state = JobState::parse(&state).ok_or_else(|| corrupt("state", state.clone()))?;
        let timeline =
            serde_json::from_str(&timeline).map_err(|e| corrupt("timeline", e.to_string()))?;
        out.push(JobRecord {
            job_id,
            backend,
            organization,
            job_name,
            region,
            job_queue,
            submitted_at,
            input_uri,
            output_uri,
            state,
            status_reason,
            exit_code,
            timeline,
            superseded_by,
            fetched_at,
        });
    }
    Ok(out)
}

/// The most recent submission, which `bna batch status|logs|fetch|cancel` act on by default.
pub fn latest(project: &Project) -> Result<Option<JobRecord>, CloudError> {
    Ok(all(project)?.into_iter().next())
}

pub fn find(project: &Project, job_id: &str) -> Result<Option<JobRecord>, CloudError> {
    ensure(project)?;
    let found: Option<String> = project
        .connection()
        .query_row(
            "SELECT job_id FROM bna_cloud_jobs WHERE job_id = ?1",
            [job_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| sql(project, e))?;
    Ok(match found {
        Some(_) => all(project)?.into_iter().find(|r| r.job_id == job_id),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let p = Project::create_or_open(&dir.path().join("p.bna")).unwrap();
        assert!(latest(&p).unwrap().is_none());
        let mut rec = JobRecord {
            job_id: "j1".into(),
            backend: Backend::Aws,
            organization: "Acme".into(),
            job_name: "bna--acme--1".into(),
            region: Some("eu-west-1".into()),
            job_queue: Some("q".into()),
            submitted_at: "2026-01-01T00:00:00Z".into(),
            input_uri: "s3://b/i/".into(),
            output_uri: "s3://b/o/".into(),
            state: JobState::Submitted,
            status_reason: None,
            exit_code: None,
            timeline: vec![TimelineEntry {
                state: JobState::Submitted,
                at_ms: 5,
            }],
            superseded_by: None,
            fetched_at: None,
        };
        save(&p, &rec).unwrap();
        let newer = JobRecord {
            job_id: "j2".into(),
            submitted_at: "2026-01-02T00:00:00Z".into(),
            ..rec.clone()
        };
        save(&p, &newer).unwrap();
        rec.state = JobState::Failed;
        rec.exit_code = Some(137);
        rec.superseded_by = Some("j2".into());
        save(&p, &rec).unwrap();
        drop(p);
        let p = Project::create_or_open(&dir.path().join("p.bna")).unwrap();
        assert_eq!(latest(&p).unwrap().unwrap().job_id, "j2");
        assert_eq!(find(&p, "j1").unwrap().unwrap(), rec);
        assert_eq!(all(&p).unwrap().len(), 2);
        assert!(find(&p, "nope").unwrap().is_none());
    }
}
