//! The one error type of the `ingest` layer (its own file so the fuzz targets can include it).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: file not found; check the path")]
    NotFound { path: PathBuf },
    #[error("{path}: is a folder, not a file; pass the file itself")]
    IsFolder { path: PathBuf },
    /// A device, named pipe or socket: reading one never ends (`/dev/zero`) or blocks
    /// until a writer appears (a FIFO), so it is refused before it is opened.
    #[error("{path}: is a {kind}, not a file; pass the file itself")]
    NotAFile { path: PathBuf, kind: &'static str },
    /// A file read whole into memory that is larger than any sane input of its role.
    #[error(
        "{path}: is {size} bytes, more than the {limit} bytes a {role} can be; pass the right file"
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
        role: &'static str,
    },
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

/// The one check every input path passes before it is opened: it must exist and be a regular
/// file once symlinks are followed (`stat`, which never opens it, so a FIFO cannot block
/// here). Devices and pipes are refused because reading `/dev/zero` or `/dev/stdin` never
/// ends and a FIFO without a writer hangs. Returns the file's size.
pub fn check_input_file(path: &std::path::Path) -> Result<u64, IngestError> {
    use crate::files::PathKind;
    let not_a_file = |kind| {
        Err(IngestError::NotAFile {
            path: path.into(),
            kind,
        })
    };
    match PathKind::of_followed(path).map_err(|e| IngestError::io(path, e))? {
        PathKind::File { len } => Ok(len),
        PathKind::Missing => Err(IngestError::NotFound { path: path.into() }),
        PathKind::Directory => Err(IngestError::IsFolder { path: path.into() }),
        PathKind::Fifo => not_a_file("named pipe"),
        PathKind::Device => not_a_file("device"),
        PathKind::Socket => not_a_file("socket"),
        // `stat` follows links, so this is never a link; a loop fails above as an I/O error.
        PathKind::Symlink => not_a_file("special file"),
    }
}

/// [`check_input_file`], then refuses a file above `limit` bytes: for inputs read whole into
/// memory, so a wrong (huge) file fails at once instead of exhausting memory.
pub fn check_input_size(
    path: &std::path::Path,
    limit: u64,
    role: &'static str,
) -> Result<u64, IngestError> {
    let size = check_input_file(path)?;
    if size > limit {
        return Err(IngestError::TooLarge {
            path: path.into(),
            size,
            limit,
            role,
        });
    }
    Ok(size)
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
