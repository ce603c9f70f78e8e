//! What the tests of every bna crate share, kept once: where the repository's files are (each
//! crate's tests run from its own folder, the data lives at the top), a local HTTP server that
//! serves real files from `data/` the way the download sources do (`http`), files made byte by
//! byte to be damaged (`made`), small disks that fill up (`disk`), and, with the `app` feature,
//! the desktop app driven by egui_kittest (`app`).

#[cfg(feature = "app")]
pub mod app;
pub mod disk;
pub mod http;
pub mod made;

use std::path::{Path, PathBuf};

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file or folder of the repository, by its path from the top (`"packaging/aws/Dockerfile"`).
pub fn repo_path(p: &str) -> PathBuf {
    repo_root().join(p)
}

/// The bundled data folder (`data/`).
pub fn data_dir() -> PathBuf {
    repo_path("data")
}
