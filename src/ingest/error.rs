//! The one error type of the `ingest` layer (its own file so the fuzz targets can include it).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: file not found; check the path")]
    NotFound { path: PathBuf },
    #[error("{path}: is a folder, not a file; pass the file itself")]
    IsFolder { path: PathBuf },
    #[error("{path}: cannot read ({source})")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file exists but its content is not what the role requires.
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl IngestError {
    pub fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Maps an I/O error on `path`, turning "not found" into `NotFound` and a folder into
    /// `IsFolder` (its raw error reads like a permission problem on some systems).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::NotFound { path }
        } else if path.is_dir() {
            Self::IsFolder { path }
        } else {
            Self::Io { path, source }
        }
    }
}
