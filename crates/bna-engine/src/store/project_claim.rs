//! The path an analysis writes its project to (`--out`), and what a failed run may undo there.
//! A failed run removes a project it created, and only that: the path is looked at before it is
//! opened (a device, a FIFO, a folder or a symbolic link is refused, so is a file that is not
//! an SQLite database), a missing file is created with `O_EXCL` so that "this run made it" is
//! certain, and an empty file the user gave is emptied again rather than deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::output::PathKind;

/// The first 16 bytes of every SQLite database.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What a run did to its `--out` path, so that [`ProjectClaim::undo`] reverses only that.
#[derive(Debug)]
pub struct ProjectClaim {
    path: PathBuf,
    made: Made,
    /// A `<project>-journal` that was there before the run is not the run's to remove.
    journal_was_there: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    /// An existing project: its finished stages stay (each committed on its own).
    Nothing,
    /// The file did not exist; this run created it.
    File(FileId),
    /// The file existed and was empty; this run filled it.
    Contents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(meta: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Without inode numbers (Windows), the creation time tells the file this run created from
    /// one put in its place later; writes do not change it.
    #[cfg(not(unix))]
    fn of(meta: &fs::Metadata) -> FileId {
        let created = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        FileId {
            dev: 0,
            ino: created.map_or(0, |d| d.as_nanos() as u64),
        }
    }
}

impl ProjectClaim {
    /// Refuses, before anything is opened or created beside it, a path a project may not be
    /// written to: anything but a missing path, an empty file or an SQLite database.
    pub fn check(path: &Path) -> Result<(), StoreError> {
        Self::inspect(path).map(|_| ())
    }

    fn inspect(path: &Path) -> Result<PathKind, StoreError> {
        let io_err = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let kind = PathKind::of(path).map_err(io_err)?;
        kind.refuse_unless_file(path)?;
        if let PathKind::File { len } = kind {
            if len > 0 && !starts_like_sqlite(path).map_err(io_err)? {
                return Err(StoreError::NotSqlite {
                    path: path.to_path_buf(),
                });
            }
        }
        Ok(kind)
    }

    /// Takes `path` for a run; call it with the project lock held, so no other bna process
    /// changes the path between this look and the run.
    pub fn take(path: &Path) -> Result<ProjectClaim, StoreError> {
        let io_err = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let journal_was_there = fs::symlink_metadata(journal_of(path)).is_ok();
        let made = match Self::inspect(path)? {
            PathKind::Missing => {
                // O_EXCL: fails rather than take over a file that appeared since the look.
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .map_err(io_err)?;
                Made::File(FileId::of(&file.metadata().map_err(io_err)?))
            }
            PathKind::File { len: 0 } => Made::Contents,
            _ => Made::Nothing,
        };
        Ok(ProjectClaim {
            path: path.to_path_buf(),
            made,
            journal_was_there,
        })
    }

    /// After a failed run (with the project closed): removes the file this run created, or
    /// empties again the empty file it was given. An existing project is left as it is.
    pub fn undo(&self) {
        match self.made {
            Made::Nothing => return,
            Made::File(id) => {
                let still_ours = fs::symlink_metadata(&self.path)
                    .is_ok_and(|m| m.file_type().is_file() && FileId::of(&m) == id);
                if still_ours {
                    let _ = fs::remove_file(&self.path);
                }
            }
            Made::Contents => {
                if let Ok(f) = OpenOptions::new().write(true).open(&self.path) {
                    let _ = f.set_len(0);
                }
            }
        }
        if !self.journal_was_there {
            // A journal left beside an emptied file would be "rolled back" into it later.
            let _ = fs::remove_file(journal_of(&self.path));
        }
    }
}

fn journal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

fn starts_like_sqlite(path: &Path) -> io::Result<bool> {
    let mut head = Vec::with_capacity(SQLITE_MAGIC.len());
    File::open(path)?
        .take(SQLITE_MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    Ok(head == SQLITE_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_empty_and_sqlite_paths_may_hold_a_project() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("empty"), b"").unwrap();
        fs::write(d.join("text"), b"my notes, not a database").unwrap();
        let mut db = SQLITE_MAGIC.to_vec();
        db.resize(4096, 0);
        fs::write(d.join("db"), db).unwrap();
        let cases: Vec<(PathBuf, Option<&str>)> = vec![
            (d.join("missing"), None),
            (d.join("empty"), None),
            (d.join("db"), None),
            (d.join("text"), Some("not an SQLite database")),
            (d.to_path_buf(), Some("a folder")),
            #[cfg(unix)]
            (PathBuf::from("/dev/null"), Some("a device")),
        ];
        for (path, refusal) in cases {
            match (ProjectClaim::check(&path), refusal) {
                (Ok(()), None) => {}
                (Err(e), Some(m)) => {
                    assert!(e.is_bad_input() && e.to_string().contains(m), "{e}")
                }
                (r, _) => panic!("{}: {r:?}", path.display()),
            }
        }
    }

    #[test]
    fn undo_removes_only_what_the_run_made() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.bna");
        let claim = ProjectClaim::take(&new).unwrap();
        fs::write(&new, b"half a project").unwrap();
        claim.undo();
        assert!(!new.exists(), "a file the run created is removed");

        let empty = dir.path().join("empty.bna");
        fs::write(&empty, b"").unwrap();
        let claim = ProjectClaim::take(&empty).unwrap();
        fs::write(&empty, b"half a project").unwrap();
        claim.undo();
        assert_eq!(
            fs::read(&empty).unwrap(),
            b"",
            "an empty file is emptied, kept"
        );

        // Replaced by another file since the run created it: not the run's any more.
        let claim = ProjectClaim::take(&new).unwrap();
        fs::rename(&new, dir.path().join("moved")).unwrap();
        fs::write(&new, b"someone else's").unwrap();
        claim.undo();
        assert_eq!(fs::read(&new).unwrap(), b"someone else's");

        let journal = journal_of(&new);
        fs::write(&journal, b"was there").unwrap();
        fs::remove_file(&new).unwrap();
        let claim = ProjectClaim::take(&new).unwrap();
        claim.undo();
        assert!(journal.exists(), "a journal from before the run is kept");
    }
}
