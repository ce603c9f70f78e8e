//! Opening an SQLite connection with SpatiaLite loaded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::error::{SqlContext, StoreError};

/// Environment variable that overrides where mod_spatialite is looked for.
pub const SPATIALITE_ENV: &str = "BNA_MOD_SPATIALITE";

/// Where mod_spatialite is looked for on Linux and macOS after the bare name, which lets the
/// dynamic loader search its usual paths: these cover systems whose loader path lacks them.
const UNIX_PATHS: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/mod_spatialite.so",
    "/usr/local/lib/mod_spatialite.so",
    "/opt/homebrew/lib/mod_spatialite.dylib",
];

/// The systems whose SpatiaLite search differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Os {
    /// The zip and the installer ship mod_spatialite.dll beside bna.exe.
    Windows,
    /// The .app bundle ships mod_spatialite.dylib in `Contents/Frameworks`.
    Mac,
    /// Linux and the BSDs: the system's package.
    OtherUnix,
}

impl Os {
    pub(crate) const CURRENT: Os = if cfg!(windows) {
        Os::Windows
    } else if cfg!(target_os = "macos") {
        Os::Mac
    } else {
        Os::OtherUnix
    };
}

/// One place SpatiaLite is looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// `BNA_MOD_SPATIALITE`: when set, the only one tried.
    Env(String),
    /// A file shipped with the program: when it exists it must load, no other is tried.
    Bundled(PathBuf),
    /// A name or path the system loader resolves.
    System(String),
}

/// Where SpatiaLite is looked for, in order: `from_env` alone when set; else the copy shipped
/// with the program (`exe_dir` is the folder of the running binary), then the system's.
pub(crate) fn candidates(
    from_env: Option<String>,
    exe_dir: Option<&Path>,
    os: Os,
) -> Vec<Candidate> {
    if let Some(v) = from_env.filter(|v| !v.is_empty()) {
        return vec![Candidate::Env(v)];
    }
    let bundled = match os {
        Os::Windows => exe_dir.map(|d| d.join("mod_spatialite.dll")),
        Os::Mac => exe_dir.map(|d| d.join("../Frameworks/mod_spatialite.dylib")),
        Os::OtherUnix => None,
    };
    let system = match os {
        // Windows resolves a bare name in the exe's folder, the system folders, then PATH.
        Os::Windows => vec!["mod_spatialite"],
        Os::Mac | Os::OtherUnix => std::iter::once("mod_spatialite")
            .chain(UNIX_PATHS)
            .collect(),
    };
    bundled
        .map(Candidate::Bundled)
        .into_iter()
        .chain(system.into_iter().map(|s| Candidate::System(s.to_owned())))
        .collect()
}

/// Page cache per connection, KiB (allocated as pages are used, so small projects use less).
const PAGE_CACHE_KIB: u32 = 256 * 1024;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if needed) `path` read-write with SpatiaLite loaded, a 5 s busy timeout and
/// a plain rollback journal (no WAL: the `.bna` must stay one self-contained file).
pub fn connect_spatialite(path: &Path) -> Result<Connection, StoreError> {
    let conn = open_database(path)?;
    configure(&conn, path)?;
    Ok(conn)
}

/// Opens (creating if needed) `path` read-write, checks that it is an SQLite database, and
/// changes nothing in it.
pub(crate) fn open_database(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).at(path)?;
    conn.busy_timeout(BUSY_TIMEOUT).at(path)?;
    // SQLite opens lazily: the first read of the header is what detects a non-database file.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        return Err(match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotSqlite {
                path: path.to_path_buf(),
            },
            _ => StoreError::from_sql(path, e),
        });
    }
    Ok(conn)
}

/// Loads SpatiaLite and sets the journal mode and cache. The journal mode is written into the
/// file, so this runs only on files known to be projects (or new).
pub(crate) fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    load_spatialite(conn, path)?;
    // journal_mode returns a row, so it cannot go through execute().
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .at(path)?;
    // Writing results builds spatial indexes over tables of 10⁵ rows; with SQLite's default
    // 2 MiB page cache that re-reads the same pages from the file thousands of times.
    conn.execute_batch(&format!("PRAGMA cache_size = -{}", PAGE_CACHE_KIB))
        .at(path)
}

fn load_spatialite(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    let found = candidates(
        std::env::var(SPATIALITE_ENV).ok(),
        exe_dir.as_deref(),
        Os::CURRENT,
    );
    load_first(conn, path, &found).map_err(|failure| failure.into_error(path, exe_dir, Os::CURRENT))
}

/// Why no candidate loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LoadFailure {
    /// Nothing was there to load (the names that were tried).
    NotFound(Vec<String>),
    /// `library` exists (or was named by the user) but SQLite refused it.
    Unloadable { library: String, reason: String },
}

impl LoadFailure {
    pub(crate) fn into_error(self, path: &Path, exe_dir: Option<PathBuf>, os: Os) -> StoreError {
        let path = path.to_path_buf();
        match (self, exe_dir) {
            (LoadFailure::Unloadable { library, reason }, _) => StoreError::SpatialiteUnloadable {
                path,
                library,
                reason,
            },
            (LoadFailure::NotFound(_), Some(dir)) if os == Os::Windows => {
                StoreError::SpatialiteDllMissing { path, dir }
            }
            (LoadFailure::NotFound(tried), _) => StoreError::SpatialiteMissing {
                path,
                tried: tried.join(", "),
            },
        }
    }
}

/// Loads the first candidate that loads. A user's choice (`Env`) or a shipped file that exists
/// but does not load is an error of its own: falling back to another copy would hide it.
pub(crate) fn load_first(
    conn: &Connection,
    path: &Path,
    candidates: &[Candidate],
) -> Result<(), LoadFailure> {
    // SAFETY: loading a native extension runs its init code; we only load mod_spatialite by
    // name/path, and disable extension loading again right after.
    unsafe { conn.load_extension_enable() }
        .at(path)
        .map_err(|e| LoadFailure::Unloadable {
            library: "mod_spatialite".into(),
            reason: e.to_string(),
        })?;
    let result = try_candidates(conn, candidates);
    let disabled = conn.load_extension_disable();
    result?;
    disabled.map_err(|e| LoadFailure::Unloadable {
        library: "mod_spatialite".into(),
        reason: e.to_string(),
    })
}

fn try_candidates(conn: &Connection, candidates: &[Candidate]) -> Result<(), LoadFailure> {
    let mut tried = Vec::new();
    for candidate in candidates {
        let (name, must_load) = match candidate {
            Candidate::Env(v) => (v.clone(), true),
            Candidate::Bundled(p) if p.is_file() => (p.display().to_string(), true),
            Candidate::Bundled(p) => {
                tried.push(p.display().to_string());
                continue;
            }
            Candidate::System(s) => (s.clone(), false),
        };
        // SAFETY: as in `load_first`. The entry point is derived by SQLite from the file name
        // (sqlite3_modspatialite_init).
        match unsafe { conn.load_extension(&name, None::<&str>) } {
            Ok(()) => return Ok(()),
            Err(e) if must_load => {
                return Err(LoadFailure::Unloadable {
                    library: name,
                    reason: load_reason(&e),
                })
            }
            Err(_) => tried.push(name),
        }
    }
    Err(LoadFailure::NotFound(tried))
}

/// SQLite's own words for a failed load (the loader's message), on one line.
fn load_reason(e: &rusqlite::Error) -> String {
    let text = match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs a SpatiaLite function that reports success as 1 (AddGeometryColumn, CreateSpatialIndex…).
pub(crate) fn call_checked(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<(), StoreError> {
    let ok: Option<i64> = conn.query_row(sql, params, |r| r.get(0)).at(path)?;
    if ok == Some(1) {
        Ok(())
    } else {
        Err(StoreError::SpatialiteCall {
            path: path.to_path_buf(),
            call: sql.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(names: &[&str]) -> Vec<Candidate> {
        names
            .iter()
            .map(|s| Candidate::System((*s).to_owned()))
            .collect()
    }

    #[test]
    fn candidates_per_system() {
        let exe = Path::new("/opt/bna/bin");
        let unix = sys(&[
            "mod_spatialite",
            "/usr/lib/x86_64-linux-gnu/mod_spatialite.so",
            "/usr/local/lib/mod_spatialite.so",
            "/opt/homebrew/lib/mod_spatialite.dylib",
        ]);
        let bundled = |p: PathBuf| vec![Candidate::Bundled(p)];
        // (BNA_MOD_SPATIALITE, folder of the binary, system, expected)
        type Row<'a> = (Option<&'a str>, Option<&'a Path>, Os, Vec<Candidate>);
        let rows: [Row; 6] = [
            (None, Some(exe), Os::OtherUnix, unix.clone()),
            (
                None,
                Some(exe),
                Os::Windows,
                [
                    bundled(exe.join("mod_spatialite.dll")),
                    sys(&["mod_spatialite"]),
                ]
                .concat(),
            ),
            (None, None, Os::Windows, sys(&["mod_spatialite"])),
            (
                None,
                Some(exe),
                Os::Mac,
                [
                    bundled(exe.join("../Frameworks/mod_spatialite.dylib")),
                    unix.clone(),
                ]
                .concat(),
            ),
            // The user's choice is the only one tried; an empty value is no choice.
            (
                Some("/x/mod_spatialite.so"),
                Some(exe),
                Os::Windows,
                vec![Candidate::Env("/x/mod_spatialite.so".into())],
            ),
            (Some(""), Some(exe), Os::OtherUnix, unix),
        ];
        for (env, exe_dir, os, want) in rows {
            assert_eq!(
                candidates(env.map(str::to_owned), exe_dir, os),
                want,
                "{env:?} {exe_dir:?} {os:?}"
            );
        }
    }

    #[test]
    fn a_shipped_or_chosen_library_that_does_not_load_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("mod_spatialite.so");
        std::fs::write(&broken, b"not a shared library").unwrap();
        let conn = Connection::open_in_memory().unwrap();
        let db = Path::new("p.bna");
        for candidate in [
            Candidate::Bundled(broken.clone()),
            Candidate::Env(broken.display().to_string()),
        ] {
            // A working system copy comes next, and must not be used instead.
            let list = [
                candidate.clone(),
                Candidate::System("mod_spatialite".into()),
            ];
            match load_first(&conn, db, &list) {
                Err(LoadFailure::Unloadable { library, reason }) => {
                    assert_eq!(library, broken.display().to_string(), "{candidate:?}");
                    assert!(!reason.is_empty() && !reason.contains('\n'), "{reason}");
                }
                other => panic!("{candidate:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_shipped_copy_falls_through_to_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open_in_memory().unwrap();
        let absent = Candidate::Bundled(dir.path().join("mod_spatialite.dll"));
        let nowhere = Candidate::System(dir.path().join("nowhere").display().to_string());
        assert_eq!(
            load_first(
                &conn,
                Path::new("p.bna"),
                &[absent.clone(), nowhere.clone()]
            ),
            Err(LoadFailure::NotFound(vec![
                dir.path().join("mod_spatialite.dll").display().to_string(),
                dir.path().join("nowhere").display().to_string(),
            ]))
        );
        // This machine has the system's mod_spatialite (Debian libsqlite3-mod-spatialite).
        load_first(
            &conn,
            Path::new("p.bna"),
            &[absent, Candidate::System("mod_spatialite".into())],
        )
        .unwrap();
        let version: String = conn
            .query_row("SELECT spatialite_version()", [], |r| r.get(0))
            .unwrap();
        assert!(!version.is_empty());
    }

    #[test]
    fn not_found_messages_name_the_fix_for_the_system() {
        let db = Path::new("C:/Users/Zoë/My Projects/dc.bna");
        let exe_dir = PathBuf::from(r"C:\Users\Zoë\AppData\Local\Programs\bna");
        let missing = || LoadFailure::NotFound(vec!["mod_spatialite".into()]);
        let windows = missing()
            .into_error(db, Some(exe_dir.clone()), Os::Windows)
            .to_string();
        assert_eq!(
            windows,
            format!(
                "SpatiaLite (mod_spatialite.dll) was not found in {} (the folder of bna.exe) nor \
                 on PATH: put the mod_spatialite.dll that comes with bna beside bna.exe, or set \
                 BNA_MOD_SPATIALITE to its full path; needed to open {}",
                exe_dir.display(),
                db.display()
            )
        );
        let linux = missing()
            .into_error(db, Some(exe_dir.clone()), Os::OtherUnix)
            .to_string();
        assert!(
            linux.contains("install libsqlite3-mod-spatialite")
                && linux.contains("(tried: mod_spatialite)"),
            "{linux}"
        );
        let wrong = LoadFailure::Unloadable {
            library: r"C:\bna\mod_spatialite.dll".into(),
            reason: "%1 is not a valid Win32 application.".into(),
        }
        .into_error(db, Some(exe_dir), Os::Windows)
        .to_string();
        assert!(
            wrong.starts_with(
                r"the SpatiaLite library C:\bna\mod_spatialite.dll could not be loaded (%1 is not a valid Win32 application.)"
            ),
            "{wrong}"
        );
    }
}
