//! Files written where the user said (a new project, exports, reports), so that nothing already
//! there is damaged. A path is looked at without following links before anything is opened;
//! only regular files are ever written; an existing file is replaced only when bna wrote it
//! (or the user forces it), never when it is the project being read; and new content is built
//! under a temporary name in the same folder and renamed into place once complete, so a failure
//! (a full disk) leaves the old file, or no file, behind.

use std::fs;
#[cfg(unix)]
use std::fs::Permissions;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::error::StoreError;
use super::export::io_err;

/// Whether an existing file that bna did not write may be replaced (`--force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Replace only files bna wrote earlier (an earlier export, report or project).
    #[default]
    OnlyOurs,
    /// Replace any regular file, still never the project itself.
    AnyFile,
}

pub use crate::files::PathKind;

impl PathKind {
    /// The refusal for anything but a regular file or a missing path: opening a FIFO blocks,
    /// writing a device or through a link damages what is behind it.
    pub fn refuse_unless_file(self, path: &Path) -> Result<(), StoreError> {
        let (kind, fix) = match self {
            PathKind::Missing | PathKind::File { .. } => return Ok(()),
            PathKind::Symlink => (
                "a symbolic link",
                "give the path of the file it points to, or a new file name",
            ),
            PathKind::Directory => ("a folder", "give a file name inside it"),
            PathKind::Fifo => ("a named pipe (FIFO)", "give a new file name"),
            PathKind::Device => ("a device", "give a new file name"),
            PathKind::Socket => ("a socket", "give a new file name"),
        };
        Err(StoreError::NotAFile {
            path: path.to_path_buf(),
            kind,
            fix,
        })
    }
}

/// Whether `a` and `b` name the same file (through links, `..` or hard links).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Refuses to put a new file at `dest`: never over the project itself or over anything but a
/// regular file; over a regular file only when `is_ours` recognises it as bna's, or when the
/// user forces it.
pub fn check_replaceable(
    dest: &Path,
    project: &Path,
    overwrite: Overwrite,
    is_ours: impl FnOnce(&Path) -> bool,
) -> Result<(), StoreError> {
    let kind = PathKind::of(dest).map_err(io_err(dest))?;
    if kind == PathKind::Missing {
        return Ok(());
    }
    if same_file(dest, project) {
        return Err(StoreError::OutputIsProject {
            path: dest.to_path_buf(),
        });
    }
    kind.refuse_unless_file(dest)?;
    if overwrite == Overwrite::AnyFile || is_ours(dest) {
        Ok(())
    } else {
        Err(StoreError::NotOurs {
            path: dest.to_path_buf(),
        })
    }
}

/// Writes `bytes` to `dest` through a temporary file in the same folder, after
/// [`check_replaceable`]. Used for single-file outputs such as the scenario report.
pub fn write_output_file(
    dest: &Path,
    bytes: &[u8],
    project: &Path,
    overwrite: Overwrite,
    is_ours: impl FnOnce(&Path) -> bool,
) -> Result<(), StoreError> {
    check_replaceable(dest, project, overwrite, is_ours)?;
    let folder = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bna-").suffix(".part");
    // A temporary file is private (0600); the output gets what `File::create` would give it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(folder).map_err(io_err(dest))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io_err(dest))?;
    tmp.persist(dest).map_err(|e| StoreError::Io {
        path: dest.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// A hidden folder beside the destination in which a set of files is written under its final
/// names; [`Staging::commit`] moves them into place. Dropped without a commit (an error, a full
/// disk), it removes everything it holds and the destination is as it was.
pub(crate) struct Staging {
    dir: TempDir,
    dest: PathBuf,
}

impl Staging {
    pub fn new(dest: &Path) -> Result<Staging, StoreError> {
        let dir = tempfile::Builder::new()
            .prefix(".bna-export-")
            .tempdir_in(dest)
            .map_err(io_err(dest))?;
        Ok(Staging {
            dir,
            dest: dest.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path relative to the staging folder of a file written into it.
    pub fn relative<'a>(&self, staged: &'a Path) -> &'a Path {
        staged.strip_prefix(self.dir.path()).unwrap_or(staged)
    }

    /// The destination a staged file moves to.
    pub fn destination(&self, staged: &Path) -> PathBuf {
        self.dest.join(self.relative(staged))
    }

    /// Moves `staged` files (paths inside the staging folder) to their destinations and
    /// returns those. Every check must have passed before: a rename replaces what is there.
    pub fn commit(self, staged: &[PathBuf]) -> Result<Vec<PathBuf>, StoreError> {
        let placed: Vec<PathBuf> = staged.iter().map(|f| self.destination(f)).collect();
        // Folders first, so that one in the way fails before any file has moved. A folder that is
        // a symbolic link (`leaflet/ -> elsewhere`) would take the files somewhere the user did
        // not name, so it is refused like a linked file.
        for parent in placed.iter().filter_map(|p| p.parent()) {
            for inner in parent
                .ancestors()
                .take_while(|a| a.starts_with(&self.dest) && *a != self.dest)
            {
                let kind = PathKind::of(inner).map_err(io_err(inner))?;
                if kind != PathKind::Directory {
                    kind.refuse_unless_file(inner)?;
                }
            }
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        for (from, to) in staged.iter().zip(&placed) {
            fs::rename(from, to).map_err(io_err(to))?;
        }
        Ok(placed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_paths_and_regular_files_may_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("file"), b"x").unwrap();
        fs::create_dir(d.join("folder")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.join("file"), d.join("link")).unwrap();
        let cases: Vec<(PathBuf, Option<&str>)> = vec![
            (d.join("missing"), None),
            (d.join("file"), None),
            (d.join("folder"), Some("a folder")),
            #[cfg(unix)]
            (d.join("link"), Some("a symbolic link")),
            #[cfg(unix)]
            (PathBuf::from("/dev/null"), Some("a device")),
        ];
        for (path, refused_as) in cases {
            let r = PathKind::of(&path).unwrap().refuse_unless_file(&path);
            match refused_as {
                None => assert!(r.is_ok(), "{}", path.display()),
                Some(kind) => {
                    let msg = r.unwrap_err().to_string();
                    assert!(msg.contains(kind), "{msg}");
                    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
                }
            }
        }
    }

    #[test]
    fn replacing_needs_ours_or_force_and_never_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let project = d.join("p.bna");
        let other = d.join("notes.txt");
        fs::write(&project, b"project").unwrap();
        fs::write(&other, b"notes").unwrap();
        let is_ours = |yes: bool| move |_: &Path| yes;
        type Case<'a> = (&'a Path, Overwrite, bool, Option<&'a str>);
        let cases: [Case; 7] = [
            (
                &other,
                Overwrite::OnlyOurs,
                false,
                Some("not written by bna"),
            ),
            (&other, Overwrite::OnlyOurs, true, None),
            (&other, Overwrite::AnyFile, false, None),
            (
                &project,
                Overwrite::OnlyOurs,
                true,
                Some("the project itself"),
            ),
            (
                &project,
                Overwrite::AnyFile,
                true,
                Some("the project itself"),
            ),
            (d, Overwrite::AnyFile, true, Some("a folder")),
            (
                Path::new("/nonexistent-bna-test/x"),
                Overwrite::OnlyOurs,
                false,
                None,
            ),
        ];
        for (dest, overwrite, ours, refusal) in cases {
            let r = check_replaceable(dest, &project, overwrite, is_ours(ours));
            match refusal {
                None => assert!(r.is_ok(), "{} {overwrite:?} {ours}", dest.display()),
                Some(m) => {
                    let e = r.unwrap_err();
                    assert!(e.is_bad_input(), "{e}");
                    assert!(e.to_string().contains(m), "{e}");
                }
            }
        }
    }

    #[test]
    fn a_written_file_replaces_the_old_one_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("report.html");
        fs::write(&dest, b"old").unwrap();
        let project = dir.path().join("p.bna");
        write_output_file(&dest, b"new", &project, Overwrite::OnlyOurs, |_| true).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn staged_files_appear_only_on_commit_and_vanish_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let staging = Staging::new(dest).unwrap();
        let staged = staging.path().join("sub/a.txt");
        fs::create_dir_all(staged.parent().unwrap()).unwrap();
        fs::write(&staged, b"a").unwrap();
        assert_eq!(staging.destination(&staged), dest.join("sub/a.txt"));
        drop(staging);
        assert_eq!(fs::read_dir(dest).unwrap().count(), 0, "left behind");

        let staging = Staging::new(dest).unwrap();
        let staged = staging.path().join("a.txt");
        fs::write(&staged, b"a").unwrap();
        let placed = staging.commit(&[staged]).unwrap();
        assert_eq!(placed, vec![dest.join("a.txt")]);
        assert_eq!(
            fs::read_dir(dest).unwrap().count(),
            1,
            "staging folder left"
        );
    }
}
