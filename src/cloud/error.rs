//! The cloud layer's one error type. What matters to callers is whether retrying can help:
//! the worker turns that into its exit code, and the CLI into 2 (fix the input) or 1.

use std::path::PathBuf;

use crate::fetch::FetchError;
use crate::pipeline::PipelineError;
use crate::store::StoreError;

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

    /// Bad input or configuration: retrying the same request cannot help.
    pub fn is_bad_input(&self) -> bool {
        match self {
            CloudError::BadInput(_) | CloudError::NotFound(_) | CloudError::Config(_) => true,
            CloudError::Pipeline(p) => p.is_bad_input(),
            CloudError::Fetch(f) => f.is_bad_input(),
            CloudError::Transient(_) | CloudError::Io { .. } | CloudError::Store(_) => false,
        }
    }
}
