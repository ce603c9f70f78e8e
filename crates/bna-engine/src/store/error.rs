//! The one error type of the `store` layer. Every message names the file involved and, where
//! there is one, the fix, because these errors reach end users of the CLI and the desktop app.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "SpatiaLite extension (mod_spatialite) not found: install libsqlite3-mod-spatialite \
         (Debian/Ubuntu) or libspatialite (Homebrew/conda), or set BNA_MOD_SPATIALITE to the \
         full path of mod_spatialite; needed to open {path} (tried: {tried})"
    )]
    SpatialiteMissing { path: PathBuf, tried: String },

    /// Windows: the package ships mod_spatialite.dll beside bna.exe, so that is the fix.
    #[error(
        "SpatiaLite (mod_spatialite.dll) was not found in {dir} (the folder of bna.exe) nor on \
         PATH: put the mod_spatialite.dll that comes with bna beside bna.exe, or set \
         BNA_MOD_SPATIALITE to its full path; needed to open {path}"
    )]
    SpatialiteDllMissing { path: PathBuf, dir: PathBuf },

    /// A SpatiaLite library exists where bna looked but SQLite could not load it (another
    /// architecture, a damaged file, not SpatiaLite).
    #[error(
        "the SpatiaLite library {library} could not be loaded ({reason}): replace it with the \
         mod_spatialite that comes with bna, or set BNA_MOD_SPATIALITE to a working one; needed \
         to open {path}"
    )]
    SpatialiteUnloadable {
        path: PathBuf,
        library: String,
        reason: String,
    },

    #[error(
        "{path} is not a .bna project (it is not an SQLite database): pick a file created by \
         bna, or a new file name"
    )]
    NotSqlite { path: PathBuf },

    #[error(
        "{path} is an SQLite database but not a .bna project (it has tables but no bna_meta): \
         pick a .bna file created by bna, or a new file name"
    )]
    NotBnaProject { path: PathBuf },

    #[error(
        "{path} was written by a newer bna (project schema version {found}; this build reads up \
         to {supported}): upgrade bna to open it"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("{path} has an unreadable bna_meta schema_version {value:?}: the file is damaged")]
    BadSchemaVersion { path: PathBuf, value: String },

    #[error(
        "{path} is damaged ({source}): restore it from a backup, or analyse again into a new --out"
    )]
    Damaged {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("database error in {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("SpatiaLite call {call} failed in {path}: is the installed mod_spatialite too old?")]
    SpatialiteCall { path: PathBuf, call: String },

    #[error(
        "the stored results in {path} cannot be decoded ({source}): the project was written by \
         an incompatible bna build; run the analysis again"
    )]
    ResultsDecode {
        path: PathBuf,
        #[source]
        source: postcard::Error,
    },

    #[error("cannot serialise results for {path}: {source}")]
    ResultsEncode {
        path: PathBuf,
        #[source]
        source: postcard::Error,
    },

    #[error("invalid {what} in {path}: {detail}")]
    Corrupt {
        path: PathBuf,
        what: String,
        detail: String,
    },

    #[error("inconsistent analysis data, not written: {0}")]
    InconsistentData(String),

    #[error("cannot write {path}: {}", io_reason_and_fix(.source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write shapefile {path}: {detail}")]
    Shapefile { path: PathBuf, detail: String },

    #[error("cannot write CSV {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },

    #[error("cannot write GeoJSON {path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("{path} has no analysis results yet: run the analysis before exporting")]
    NoResults { path: PathBuf },

    #[error(
        "{path} is being analysed by another bna process (it holds {lock}): wait for it to \
         finish, or write to another --out"
    )]
    Busy { path: PathBuf, lock: PathBuf },

    #[error(
        "cannot write {path}: the disk is full ({source}); free some space or write somewhere \
         else (what was there before is unchanged)"
    )]
    DiskFull {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "cannot write {path}: the file or its folder is read-only ({source}); make it writable \
         or write to another --out"
    )]
    ReadOnly {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("{path} is {kind}, not a regular file: {fix}")]
    NotAFile {
        path: PathBuf,
        kind: &'static str,
        fix: &'static str,
    },

    #[error(
        "{path} is the project itself: choose another output name (bna never replaces a project \
         with an export or a report)"
    )]
    OutputIsProject { path: PathBuf },

    #[error(
        "{path} already exists and was not written by bna: move it away, choose another name, or \
         pass --force to replace it"
    )]
    NotOurs { path: PathBuf },

    #[error(
        "{path} is an empty file, not a .bna project: run `bna analyze --out {path}` to create one"
    )]
    EmptyProject { path: PathBuf },

    #[error("{path}: project not found; create it with `bna analyze --out {path}`")]
    NoProject { path: PathBuf },

    #[error(
        "{path} is in the way of the project's lock file (bna's lock files are empty): move it \
         away or write to another --out"
    )]
    ForeignLockFile { path: PathBuf },
}

impl StoreError {
    /// The user named the wrong file (exit 2 in the CLI, never retried by the Batch worker),
    /// as opposed to a failure of the disk or of the environment.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StoreError::NotSqlite { .. }
                | StoreError::NotBnaProject { .. }
                | StoreError::NotAFile { .. }
                | StoreError::OutputIsProject { .. }
                | StoreError::NotOurs { .. }
                | StoreError::EmptyProject { .. }
                | StoreError::NoProject { .. }
                | StoreError::ForeignLockFile { .. }
                | StoreError::Damaged { .. }
        )
    }

    /// The same error naming `to` instead of `from` in its path: exports are written into a
    /// staging folder, but the user must read the name the file was going to have.
    pub(crate) fn relocated(mut self, from: &std::path::Path, to: &std::path::Path) -> StoreError {
        let path = match &mut self {
            StoreError::SpatialiteMissing { path, .. }
            | StoreError::SpatialiteDllMissing { path, .. }
            | StoreError::SpatialiteUnloadable { path, .. }
            | StoreError::NotSqlite { path }
            | StoreError::NotBnaProject { path }
            | StoreError::NewerSchema { path, .. }
            | StoreError::BadSchemaVersion { path, .. }
            | StoreError::Sqlite { path, .. }
            | StoreError::Damaged { path, .. }
            | StoreError::SpatialiteCall { path, .. }
            | StoreError::ResultsDecode { path, .. }
            | StoreError::ResultsEncode { path, .. }
            | StoreError::Corrupt { path, .. }
            | StoreError::Io { path, .. }
            | StoreError::Shapefile { path, .. }
            | StoreError::Csv { path, .. }
            | StoreError::Json { path, .. }
            | StoreError::NoResults { path }
            | StoreError::Busy { path, .. }
            | StoreError::DiskFull { path, .. }
            | StoreError::ReadOnly { path, .. }
            | StoreError::NotAFile { path, .. }
            | StoreError::OutputIsProject { path }
            | StoreError::NotOurs { path }
            | StoreError::EmptyProject { path }
            | StoreError::NoProject { path }
            | StoreError::ForeignLockFile { path } => path,
            StoreError::InconsistentData(_) => return self,
        };
        if let Ok(rest) = path.strip_prefix(from) {
            *path = to.join(rest);
        }
        self
    }
}

/// Attaches the file path to SQLite errors (rusqlite errors do not carry it).
pub(crate) trait SqlContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::from_sql(path, source))
    }
}

impl StoreError {
    /// An SQLite error on the project at `path`. The environment's failures (full disk,
    /// read-only) and a damaged file get their own messages: they are the user's to fix.
    pub(crate) fn from_sql(path: &std::path::Path, source: rusqlite::Error) -> StoreError {
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull { path, source },
            Some(
                rusqlite::ErrorCode::ReadOnly
                | rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::PermissionDenied,
            ) => StoreError::ReadOnly { path, source },
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                StoreError::Damaged { path, source }
            }
            _ => StoreError::Sqlite { path, source },
        }
    }
}

/// What went wrong writing a file, and what to do, in words: without Rust's "(os error N)"
/// and the "at path …" of a temporary file the user never named.
fn io_reason_and_fix(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let (reason, fix) = match e.kind() {
        K::ReadOnlyFilesystem => (
            "the file system is read-only".to_string(),
            "write to another folder",
        ),
        K::StorageFull => (
            "the disk is full".to_string(),
            "free some space or write somewhere else (what was there before is unchanged)",
        ),
        K::PermissionDenied => (
            "permission denied".to_string(),
            "make the folder writable or write somewhere else",
        ),
        K::NotFound => (
            "its folder does not exist".to_string(),
            "create the folder or choose another",
        ),
        _ => (
            crate::files::plain_io_text(e),
            "check that its folder exists, is writable and has free space",
        ),
    };
    format!("{reason}; {fix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn io_errors_read_as_a_reason_and_a_fix() {
        use std::io::{Error, ErrorKind};
        let cases = [
            (Error::from_raw_os_error(30), "read-only"),
            (Error::from_raw_os_error(28), "disk is full"),
            (
                Error::from(ErrorKind::PermissionDenied),
                "permission denied",
            ),
            (Error::from(ErrorKind::NotFound), "does not exist"),
            (Error::other("boom at path \"/tmp/.bna-export-x\""), "boom;"),
        ];
        for (e, words) in cases {
            let m = StoreError::Io {
                path: "out/x.csv".into(),
                source: e,
            }
            .to_string();
            assert!(m.contains(words), "{m}");
            assert!(!m.contains("os error") && !m.contains(".bna-export"), "{m}");
        }
    }

    #[test]
    fn errors_can_cross_threads() {
        // The desktop app runs analyses on a worker thread and the CLI wraps errors in anyhow.
        assert_send_sync::<StoreError>();
        let e = StoreError::NotSqlite {
            path: "a/b.bna".into(),
        };
        assert!(e.to_string().starts_with("a/b.bna is not a .bna project"));
    }
}
