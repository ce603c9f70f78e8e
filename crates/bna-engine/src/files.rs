//! What is at a path, and how an I/O error reads: shared by every layer that opens or writes a
//! file the user named (fetch, ingest, store), so that each names the same things the same way.

use std::fs;
use std::io;
use std::path::Path;

/// What is at a path, looked at without following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Missing,
    File { len: u64 },
    Symlink,
    Directory,
    Fifo,
    Device,
    Socket,
}

impl PathKind {
    /// What is at `path` itself: a symbolic link is reported as one, never followed.
    pub fn of(path: &Path) -> io::Result<PathKind> {
        Self::from_metadata(fs::symlink_metadata(path))
    }

    /// What `path` leads to once symbolic links are followed (`stat`: nothing is opened, so a
    /// FIFO cannot block).
    pub fn of_followed(path: &Path) -> io::Result<PathKind> {
        Self::from_metadata(fs::metadata(path))
    }

    fn from_metadata(meta: io::Result<fs::Metadata>) -> io::Result<PathKind> {
        match meta {
            Ok(m) => Ok(Self::of_type(m.file_type(), m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(PathKind::Missing),
            Err(e) => Err(e),
        }
    }

    fn of_type(ty: fs::FileType, len: u64) -> PathKind {
        if ty.is_symlink() {
            return PathKind::Symlink;
        }
        if ty.is_dir() {
            return PathKind::Directory;
        }
        if ty.is_file() {
            return PathKind::File { len };
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ty.is_fifo() {
                return PathKind::Fifo;
            }
            if ty.is_socket() {
                return PathKind::Socket;
            }
        }
        PathKind::Device
    }
}

/// An I/O error's text without Rust's " (os error N)" and the " at path …" of a temporary file
/// the user never named.
pub fn plain_io_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" at path ").next().unwrap_or(&s);
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_with_and_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"abc").unwrap();
        let missing = dir.path().join("missing");
        let mut cases = vec![
            (
                file.clone(),
                PathKind::File { len: 3 },
                PathKind::File { len: 3 },
            ),
            (
                dir.path().to_path_buf(),
                PathKind::Directory,
                PathKind::Directory,
            ),
            (missing.clone(), PathKind::Missing, PathKind::Missing),
        ];
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            cases.push((link, PathKind::Symlink, PathKind::File { len: 3 }));
            cases.push(("/dev/null".into(), PathKind::Device, PathKind::Device));
        }
        for (path, itself, followed) in cases {
            assert_eq!(PathKind::of(&path).unwrap(), itself, "{}", path.display());
            assert_eq!(
                PathKind::of_followed(&path).unwrap(),
                followed,
                "{}",
                path.display()
            );
        }
    }

    #[test]
    fn io_text_loses_only_the_codes() {
        let cases = [
            (io::Error::from_raw_os_error(28), "No space left on device"),
            (io::Error::other("boom at path \"/tmp/.bna-x\""), "boom"),
            (io::Error::other("plain"), "plain"),
        ];
        for (e, want) in cases {
            assert_eq!(plain_io_text(&e), want);
        }
    }
}
