//! One analysis per project at a time. SQLite's own locking keeps every single write atomic,
//! but two analyses of the same project would interleave their stage checkpoints and results,
//! so `pipeline::run` holds an exclusive lock on a sidecar `<project>.lock` file while it runs.
//!
//! The lock is an OS file lock (flock / LockFileEx via fs4), so the kernel releases it when the
//! holder dies, even on SIGKILL; a stale `.lock` file left by a crash is simply locked again.
//! The lock is on a sidecar rather than on the `.bna` itself because closing any other handle
//! of the database file would drop SQLite's own POSIX locks, and Windows locks are mandatory.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs4::fs_std::FileExt;

use super::error::StoreError;
use super::output::PathKind;

/// How often a waiting process retries the lock.
const POLL: Duration = Duration::from_millis(100);

/// An exclusive claim on a project for one analysis; released (and its file removed) on drop.
#[derive(Debug)]
pub struct ProjectLock {
    file: File,
    path: PathBuf,
}

impl ProjectLock {
    /// The sidecar lock file of `project`.
    pub fn path_for(project: &Path) -> PathBuf {
        let mut name = project.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock of `project`, waiting up to `wait` for another process to release it.
    pub fn acquire(project: &Path, wait: Duration) -> Result<ProjectLock, StoreError> {
        let path = Self::path_for(project);
        refuse_foreign(&path)?;
        let start = Instant::now();
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|source| StoreError::Io {
                    path: path.clone(),
                    source,
                })?;
            match file.try_lock_exclusive() {
                Ok(true) => {
                    // The previous holder removes the file on release; if it did so while we
                    // were opening it, we locked a deleted inode and must start over.
                    if same_file(&file, &path) {
                        return Ok(ProjectLock { file, path });
                    }
                }
                Ok(false) => {}
                Err(source) => return Err(StoreError::Io { path, source }),
            }
            if start.elapsed() >= wait {
                return Err(StoreError::Busy {
                    path: project.to_path_buf(),
                    lock: path,
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Removed while still locked, so no waiter can lock the old file and then see the path
        // point at it (see `same_file`).
        let _ = std::fs::remove_file(&self.path);
        let _ = FileExt::unlock(&self.file);
    }
}

/// The lock file is removed on release, so a path there that is not an empty regular file (a
/// link, a user's `p.bna.lock` with something in it) is not bna's to lock and delete.
fn refuse_foreign(path: &Path) -> Result<(), StoreError> {
    match PathKind::of(path) {
        Ok(PathKind::Missing | PathKind::File { len: 0 }) => Ok(()),
        Ok(_) => Err(StoreError::ForeignLockFile {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    // Windows cannot delete a file that is open, so the race above cannot happen there.
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_refuses_and_lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p.bna");
        let first = ProjectLock::acquire(&project, Duration::ZERO).unwrap();
        assert!(ProjectLock::path_for(&project).exists());
        let t0 = Instant::now();
        let err = ProjectLock::acquire(&project, Duration::from_millis(300)).unwrap_err();
        assert!(t0.elapsed() >= Duration::from_millis(300));
        let msg = err.to_string();
        assert!(msg.contains("another bna process"), "{msg}");
        assert!(msg.contains("p.bna"), "{msg}");
        drop(first);
        assert!(!ProjectLock::path_for(&project).exists());
        let again = ProjectLock::acquire(&project, Duration::ZERO).unwrap();
        drop(again);
    }

    #[test]
    fn a_lock_path_that_is_not_an_empty_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p.bna");
        let lock = ProjectLock::path_for(&project);
        std::fs::write(&lock, b"my notes").unwrap();
        let err = ProjectLock::acquire(&project, Duration::ZERO).unwrap_err();
        assert!(err.to_string().contains("p.bna.lock"), "{err}");
        assert_eq!(std::fs::read(&lock).unwrap(), b"my notes");
    }

    #[test]
    fn a_stale_lock_file_without_a_holder_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p.bna");
        std::fs::write(ProjectLock::path_for(&project), b"").unwrap();
        ProjectLock::acquire(&project, Duration::ZERO).unwrap();
    }
}
