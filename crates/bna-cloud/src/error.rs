//! The cloud layer's one error type. What matters to callers is whether retrying can help:
//! the worker turns that into its exit code, and the CLI into 2 (fix the input) or 1.

use std::path::PathBuf;

use bna_engine::pipeline::PipelineError;
use bna_engine::store::StoreError;
use bna_fetch::FetchError;

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The user must change something: a malformed bundle, a missing object, a bad setting.
    #[error("{0}")]
    BadInput(String),
    /// An object, file or job that does not exist (a kind of bad input).
    #[error("{0}")]
    NotFound(String),
    /// Cloud settings missing or incomplete; the message names the settings file.
    #[error("{0}")]
    Config(String),
    /// AWS credentials missing, rejected or without a permission. Not bad input: the
    /// environment (profile, keys, role) is at fault, and the same command works once it is
    /// fixed, or by itself when a role's credentials come back.
    #[error("{0}")]
    Access(String),
    /// The network, AWS or the machine failed; the same request may succeed later.
    #[error("{0}")]
    Transient(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// A bundle's download instructions failed (unknown place, source unreachable).
    #[error("downloading the inputs: {0}")]
    Fetch(#[from] FetchError),
}

impl CloudError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CloudError::Io {
            path: path.into(),
            source,
        }
    }

    /// The same error with `suffix` added to its message (a consequence, like inputs left
    /// behind); errors without a message of their own become `Transient`.
    pub fn with_suffix(self, suffix: &str) -> CloudError {
        match self {
            CloudError::BadInput(m) => CloudError::BadInput(m + suffix),
            CloudError::NotFound(m) => CloudError::NotFound(m + suffix),
            CloudError::Config(m) => CloudError::Config(m + suffix),
            CloudError::Access(m) => CloudError::Access(m + suffix),
            CloudError::Transient(m) => CloudError::Transient(m + suffix),
            other if other.is_bad_input() => CloudError::BadInput(format!("{other}{suffix}")),
            other => CloudError::Transient(format!("{other}{suffix}")),
        }
    }

    /// Bad input or configuration: retrying the same request cannot help.
    pub fn is_bad_input(&self) -> bool {
        match self {
            CloudError::BadInput(_) | CloudError::NotFound(_) | CloudError::Config(_) => true,
            CloudError::Pipeline(p) => p.is_bad_input(),
            CloudError::Fetch(f) => f.is_bad_input(),
            CloudError::Access(_)
            | CloudError::Transient(_)
            | CloudError::Io { .. }
            | CloudError::Store(_) => false,
        }
    }
}
