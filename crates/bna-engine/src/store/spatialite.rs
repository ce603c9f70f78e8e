//! Opening an SQLite connection with SpatiaLite loaded.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::error::{SqlContext, StoreError};

/// Environment variable that overrides where mod_spatialite is looked for.
pub const SPATIALITE_ENV: &str = "BNA_MOD_SPATIALITE";

/// Where mod_spatialite is looked for, in order: the bare name lets the dynamic loader search
/// its usual paths; the fixed paths cover systems where the loader path does not include them.
const CANDIDATES: [&str; 4] = [
    "mod_spatialite",
    "/usr/lib/x86_64-linux-gnu/mod_spatialite.so",
    "/usr/local/lib/mod_spatialite.so",
    "/opt/homebrew/lib/mod_spatialite.dylib",
];

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
    let from_env = std::env::var(SPATIALITE_ENV).ok();
    let candidates: Vec<&str> = from_env
        .as_deref()
        .into_iter()
        .chain(CANDIDATES.iter().copied())
        .collect();
    // SAFETY: loading a native extension runs its init code; we only load mod_spatialite by
    // name/path, and disable extension loading again right after.
    unsafe { conn.load_extension_enable() }.at(path)?;
    let mut loaded = false;
    for candidate in &candidates {
        // SAFETY: as above. The entry point is derived by SQLite from the file name
        // (sqlite3_modspatialite_init).
        if unsafe { conn.load_extension(candidate, None::<&str>) }.is_ok() {
            loaded = true;
            break;
        }
    }
    conn.load_extension_disable().at(path)?;
    if loaded {
        Ok(())
    } else {
        Err(StoreError::SpatialiteMissing {
            path: path.to_path_buf(),
            tried: candidates.join(", "),
        })
    }
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
