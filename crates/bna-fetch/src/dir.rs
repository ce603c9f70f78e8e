//! Writing into the user's `--dir` without damaging anything of theirs.
//!
//! `--dir` may already hold files: an earlier fetch's output (replaced, as a re-run should), or
//! the user's own files that merely share a name (`inputs.json`, `tl_2020_11_tabblock20.zip`),
//! which are never replaced unless the user says `--force`. A destination is looked at without
//! following a symbolic link, so nothing is ever written through one (a link to
//! `/etc/passwd` stays a link, and its target untouched), and each file is built under a
//! temporary name in the same folder and renamed into place, so a failure leaves the old file
//! or none, never half a file.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

use super::FetchError;
use bna_engine::files::PathKind;

/// Whether a file already at a destination may be replaced. A pure rule: `ours` says whether
/// the file is recognisably bna's (an earlier fetch wrote it), `force` whether the user allows
/// replacing any regular file (and a symbolic link, which is then replaced itself).
pub fn may_replace(kind: PathKind, ours: bool, force: bool) -> Result<(), Refusal> {
    match kind {
        PathKind::Missing => Ok(()),
        PathKind::File { .. } if ours || force => Ok(()),
        PathKind::File { .. } => Err(Refusal::NotOurs),
        // The rename replaces the link itself; its target is never opened.
        PathKind::Symlink if force => Ok(()),
        PathKind::Symlink => Err(Refusal::Symlink),
        // Not even with --force: a folder or a special file is never what bna writes.
        PathKind::Directory => Err(Refusal::Special("a folder")),
        PathKind::Fifo => Err(Refusal::Special("a named pipe (FIFO)")),
        PathKind::Device => Err(Refusal::Special("a device")),
        PathKind::Socket => Err(Refusal::Special("a socket")),
    }
}

/// Why a destination was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotOurs,
    Symlink,
    Special(&'static str),
}

impl Refusal {
    pub fn into_error(self, path: &Path) -> FetchError {
        let (problem, fix) = match self {
            Refusal::NotOurs => (
                "is a file bna fetch did not write",
                "move it away, choose another --dir, or add --force to replace it",
            ),
            Refusal::Symlink => (
                "is a symbolic link, and bna never writes through one",
                "remove the link, choose another --dir, or add --force to replace the link itself",
            ),
            Refusal::Special(kind) => (kind, "move it away or choose another --dir"),
        };
        let problem = match self {
            Refusal::Special(kind) => format!("is {kind}, where bna fetch writes a file"),
            _ => problem.to_owned(),
        };
        FetchError::WontReplace {
            path: path.to_path_buf(),
            problem,
            fix: fix.to_owned(),
        }
    }
}

/// Refuses to put a file at `dest` unless `may_replace` allows it; `is_ours` is asked only
/// about a regular file.
pub fn check_dest(
    dest: &Path,
    force: bool,
    is_ours: impl FnOnce(&Path) -> bool,
) -> Result<(), FetchError> {
    let kind = PathKind::of(dest).map_err(|e| FetchError::io(dest, e))?;
    let ours = matches!(kind, PathKind::File { .. }) && is_ours(dest);
    may_replace(kind, ours, force).map_err(|r| r.into_error(dest))
}

/// Puts a new file at `dest` (already checked by `check_dest`): `write` creates it at a
/// temporary path beside `dest` (which does not exist yet: create it new, never open an
/// existing one), which is then renamed over `dest`.
pub fn put(dest: &Path, write: impl FnOnce(&Path) -> io::Result<()>) -> Result<(), FetchError> {
    let tmp = temp_beside(dest).map_err(|e| FetchError::io(dest, e))?;
    let done = write(&tmp).and_then(|()| std::fs::rename(&tmp, dest));
    if let Err(e) = done {
        // Only our own temporary name is removed; `dest` keeps what it held.
        let _ = std::fs::remove_file(&tmp);
        return Err(FetchError::io(dest, e));
    }
    Ok(())
}

/// Writes `bytes` to a new file at `tmp` (never through anything already there).
pub fn write_new(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Copies `from` to a new file at `tmp`.
pub fn copy_new(from: &Path, tmp: &Path) -> io::Result<()> {
    let mut src = std::fs::File::open(from)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)?;
    io::copy(&mut src, &mut f)?;
    f.sync_all()
}

/// A name beside `dest` that nothing holds: hidden, and ending with `dest`'s name so that
/// its extension (which readers look at) is kept.
fn temp_beside(dest: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
        .to_string_lossy()
        .into_owned();
    let dir = dest.parent().unwrap_or(Path::new("."));
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".bna-tmp-{}-{n}-{name}", std::process::id()));
        if PathKind::of(&tmp)? == PathKind::Missing {
            return Ok(tmp);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

/// Whether `a` and `b` are the same file (a hard link from the cache, as fetch makes).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Whether two files hold the same bytes (a copy from the cache, where no hard link could be
/// made), read in chunks: the files can be hundreds of MB.
pub fn same_content(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    if ma.len() != mb.len() {
        return false;
    }
    let (Ok(mut fa), Ok(mut fb)) = (std::fs::File::open(a), std::fs::File::open(b)) else {
        return false;
    };
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let Ok(n) = read_full(&mut fa, &mut ba) else {
            return false;
        };
        let Ok(m) = read_full(&mut fb, &mut bb) else {
            return false;
        };
        if n != m || ba[..n] != bb[..m] {
            return false;
        }
        if n == 0 {
            return true;
        }
    }

    fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match f.read(&mut buf[got..])? {
                0 => break,
                n => got += n,
            }
        }
        Ok(got)
    }
}

/// What an earlier `inputs.json` in `--dir` says, when it is ours: the files that fetch put
/// there (which may be replaced by this run).
#[derive(Debug, Default)]
pub struct Earlier {
    files: Vec<PathBuf>,
}

/// The fields every `inputs.json` bna has written holds (`FetchedInputs`); other JSON is not
/// ours.
#[derive(Deserialize)]
struct InputsList {
    boundary: PathBuf,
    osm: PathBuf,
    #[serde(default)]
    blocks: Option<PathBuf>,
    #[serde(default)]
    jobs: Option<PathBuf>,
}

impl Earlier {
    /// The list at `path` when it is a regular file that parses as ours; `None` otherwise
    /// (missing, a link, anything else).
    pub fn read(path: &Path) -> Option<Earlier> {
        if !matches!(PathKind::of(path), Ok(PathKind::File { .. })) {
            return None;
        }
        // An inputs.json is a few hundred bytes; a big file is not one.
        let bytes = std::fs::read(path).ok().filter(|b| b.len() < 1 << 20)?;
        let list: InputsList = serde_json::from_slice(&bytes).ok()?;
        let mut files = vec![list.boundary, list.osm];
        files.extend(list.blocks);
        files.extend(list.jobs);
        Some(Earlier { files })
    }

    /// Whether the earlier fetch recorded the file at `dest`.
    pub fn lists(&self, dest: &Path) -> bool {
        self.files.iter().any(|f| f == dest || same_file(f, dest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_paths_or_our_files_are_replaced_unless_forced() {
        let file = PathKind::File { len: 3 };
        let cases = [
            // (kind, ours, force, expected)
            (PathKind::Missing, false, false, Ok(())),
            (file, true, false, Ok(())),
            (file, false, false, Err(Refusal::NotOurs)),
            (file, false, true, Ok(())),
            (PathKind::Symlink, false, false, Err(Refusal::Symlink)),
            (PathKind::Symlink, true, false, Err(Refusal::Symlink)),
            (PathKind::Symlink, false, true, Ok(())),
            (
                PathKind::Directory,
                false,
                true,
                Err(Refusal::Special("a folder")),
            ),
            (
                PathKind::Fifo,
                false,
                true,
                Err(Refusal::Special("a named pipe (FIFO)")),
            ),
            (
                PathKind::Device,
                false,
                true,
                Err(Refusal::Special("a device")),
            ),
            (
                PathKind::Socket,
                false,
                false,
                Err(Refusal::Special("a socket")),
            ),
        ];
        for (kind, ours, force, want) in cases {
            assert_eq!(
                may_replace(kind, ours, force),
                want,
                "{kind:?} {ours} {force}"
            );
        }
    }

    #[test]
    fn refusals_name_the_file_and_the_fix() {
        let p = Path::new("fx/inputs.json");
        let cases = [
            (
                Refusal::NotOurs,
                &["fx/inputs.json", "did not write", "--force"][..],
            ),
            (
                Refusal::Symlink,
                &["symbolic link", "never writes through"][..],
            ),
            (
                Refusal::Special("a folder"),
                &["is a folder", "another --dir"][..],
            ),
        ];
        for (r, words) in cases {
            let e = r.into_error(p);
            assert!(e.is_bad_input(), "{e}");
            let msg = e.to_string();
            for w in words {
                assert!(msg.contains(w), "{w} not in {msg}");
            }
        }
    }

    #[test]
    fn an_earlier_list_is_ours_only_when_it_parses_as_one() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("inputs.json");
        let cases: [(&[u8], bool); 5] = [
            (
                br#"{"boundary":"b.geojson","osm":"o.osm","blocks":null}"#,
                true,
            ),
            (br#"{"boundary":"b","osm":"o","extra":1}"#, true),
            (br#"{"name":"my project"}"#, false),
            (b"not json", false),
            (b"", false),
        ];
        for (bytes, ours) in cases {
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(
                Earlier::read(&p).is_some(),
                ours,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn put_renames_a_new_file_over_a_link_without_touching_its_target() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim.txt");
        std::fs::write(&victim, "keep").unwrap();
        let dest = tmp.path().join("inputs.json");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, &dest).unwrap();
        put(&dest, |t| write_new(t, b"new")).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
    }

    #[test]
    fn same_content_compares_every_byte() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        assert!(same_content(&a, &b));
        let mut other = big.clone();
        other[150_000] ^= 1;
        std::fs::write(&b, &other).unwrap();
        assert!(!same_content(&a, &b));
        std::fs::write(&b, &big[..10]).unwrap();
        assert!(!same_content(&a, &b));
    }
}
