//! Getting the inputs of an analysis for a US place or any boundary: the boundary (TIGER
//! place search), the OpenStreetMap extract for boundary ⊕ 2680 m (Overpass API), the state's
//! TIGER 2020 census blocks and its latest LODES 8 jobs. Speed tables are embedded already.
//!
//! This layer comes before `ingest` and only produces files on disk. Every download goes
//! through a cache shared by all projects (`~/.cache/bna`), is resumable and verified, and is
//! never fetched twice; with `offline` (or no network) nothing needs the network when the
//! files are cached or given, and a missing file is named with the place to put it.

pub mod dir;
pub mod download;
pub mod http;
pub mod overpass;
pub mod place;
pub mod redact;
pub mod sources;
pub mod verify;

use std::path::{Path, PathBuf};

pub use download::Manifest;
pub use http::Timeouts;
pub use place::{parse_fips, parse_place, PlaceQuery};
pub use sources::{find_state, Sources, State, TigerLayer};

use bna_engine::ingest::{self, IngestError};
use bna_engine::params;
use bna_engine::pipeline::{AnalysisRequest, OsmClip};
use bna_engine::user_dirs::{user_dir, Convention, UserDir};

/// Environment variable that moves the shared download cache.
pub const CACHE_DIR_ENV: &str = "BNA_CACHE_DIR";

/// The shared cache: `$BNA_CACHE_DIR`, else `$XDG_CACHE_HOME/bna`, else `~/.cache/bna`; on
/// Windows `%LOCALAPPDATA%\bna\cache` (the app's tile cache is beside it, as on Linux).
pub fn default_cache_dir() -> Result<PathBuf, FetchError> {
    cache_dir_from(cfg!(windows), |k| std::env::var_os(k))
}

/// [`default_cache_dir`] with the system and the environment passed in.
pub fn cache_dir_from(
    windows: bool,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<PathBuf, FetchError> {
    if let Some(d) = env(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let convention = if windows {
        Convention::Windows
    } else {
        Convention::Xdg
    };
    user_dir(UserDir::Cache, convention, &env).ok_or_else(|| {
        let missing = if windows {
            "LOCALAPPDATA is not set (or not an absolute path)"
        } else {
            "neither XDG_CACHE_HOME nor HOME is set (as an absolute path)"
        };
        FetchError::Input(format!(
            "no cache folder: {missing}; set {CACHE_DIR_ENV} or pass --cache-dir"
        ))
    })
}

/// Where the study area comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    /// "Burlington, VT".
    Place(String),
    /// 7-digit FIPS, state + place.
    Fips(String),
    /// A boundary file the user has (GeoJSON or Shapefile).
    Boundary(PathBuf),
}

#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub area: Area,
    /// Where the boundary, the fetched files (linked from the cache) and `inputs.json` go.
    pub dir: PathBuf,
    pub cache_dir: PathBuf,
    /// Use only cached or given files; never touch the network.
    pub offline: bool,
    /// LODES year; default: the latest cached one, else the latest the server has.
    pub lodes_year: Option<u16>,
    /// US state of a `Boundary` area (FIPS, abbreviation or name), for blocks and jobs;
    /// without it a boundary gets OSM only (international mode: synthetic population).
    pub state: Option<String>,
    /// An OSM extract the user already has (PBF or XML) instead of the Overpass query.
    pub osm: Option<PathBuf>,
    pub sources: Sources,
    /// Connect, idle and per-attempt bounds of every download.
    pub timeouts: Timeouts,
    /// Replace files in `dir` that bna did not write (and symbolic links, themselves): the
    /// user's explicit `--force`. Folders and special files are never replaced.
    pub force: bool,
}

impl FetchRequest {
    pub fn new(area: Area, dir: PathBuf, cache_dir: PathBuf) -> Self {
        Self {
            area,
            dir,
            cache_dir,
            offline: false,
            lodes_year: None,
            state: None,
            osm: None,
            sources: Sources::default(),
            timeouts: Timeouts::from_env(),
            force: false,
        }
    }
}

/// What `fetch_inputs` produced: paths ready for `pipeline::AnalysisRequest`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FetchedInputs {
    pub boundary: PathBuf,
    pub osm: PathBuf,
    pub blocks: Option<PathBuf>,
    pub jobs: Option<PathBuf>,
    /// 2-digit state FIPS (US areas).
    pub state_fips: Option<String>,
    /// 7-digit place FIPS when the area is an incorporated place (city speed table).
    pub city_fips: Option<String>,
    /// The place found by the search ("Burlington city"), if any.
    pub place_name: Option<String>,
    pub lodes_year: Option<u16>,
}

impl FetchedInputs {
    /// The analysis request for these inputs: census population when blocks were fetched
    /// (TIGER 2020 tabblock20 carries POP20), synthetic otherwise.
    pub fn request(&self, out: PathBuf) -> AnalysisRequest {
        AnalysisRequest {
            boundary: self.boundary.clone(),
            osm: self.osm.clone(),
            blocks: self.blocks.clone(),
            jobs: self.jobs.clone(),
            population: None,
            city_fips: self.city_fips.clone(),
            state_fips: self.state_fips.clone(),
            residential_speed: None,
            osm_clip: OsmClip::default(),
            out,
        }
    }
}

/// Where a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cache,
    Network,
    /// The user's own file.
    Given,
}

/// Receives download events; the CLI draws progress bars, the app updates its panel. The
/// library itself never prints.
pub trait FetchObserver: Sync {
    /// A transfer of `what` starts (or resumes at `offset`); `total` bytes when announced.
    /// `url` has its credentials redacted.
    fn started(&self, what: &str, url: &str, total: Option<u64>, offset: u64);
    /// Bytes of the file now on disk.
    fn progress(&self, done: u64);
    fn finished(&self, what: &str, path: &Path, origin: Origin);
    /// Something worth telling (a resumed transfer, a damaged cache entry fetched again).
    fn message(&self, text: &str);
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;

impl FetchObserver for Silent {
    fn started(&self, _: &str, _: &str, _: Option<u64>, _: u64) {}
    fn progress(&self, _: u64) {}
    fn finished(&self, _: &str, _: &Path, _: Origin) {}
    fn message(&self, _: &str) {}
}

/// Every URL in these messages is shown with its credentials redacted (`redact`).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "{what}: not in the cache and offline; download {} and put it at {}",
        redact::url(url), path.display()
    )]
    Offline {
        what: String,
        path: PathBuf,
        url: String,
    },
    #[error(
        "{what}: cannot download {} ({}); when online run again, or download it by \
         hand and put it at {}",
        redact::url(url), redact::in_text(reason), path.display()
    )]
    NetworkMissing {
        what: String,
        url: String,
        reason: String,
        path: PathBuf,
    },
    #[error(
        "{what}: the download from {} stalled ({reason}); check the connection and run again, \
         or download it by hand and put it at {}",
        redact::url(url), path.display()
    )]
    Stalled {
        what: String,
        url: String,
        reason: String,
        path: PathBuf,
    },
    #[error(
        "{what}: what {} sent is not the file ({}), so it was not kept; run again, and if it \
         fails again log in to the network (a Wi-Fi login page or proxy may be answering) or \
         check the base URL, or download it by hand and put it at {}",
        redact::url(url), redact::in_text(reason), path.display()
    )]
    NotTheFile {
        what: String,
        url: String,
        reason: String,
        path: PathBuf,
    },
    #[error(
        "the Overpass API {} on the OpenStreetMap query ({}); try a smaller area, run again \
         later, or give a local extract with --osm",
        overpass_failure(remark),
        redact::in_text(remark)
    )]
    OverpassGaveUp { remark: String },
    #[error("{}: network error ({})", redact::url(url), redact::in_text(reason))]
    Network { url: String, reason: String },
    #[error(
        "{}: the server answered HTTP {status}; {}",
        redact::url(url), http_fix(*status, *retry_after)
    )]
    Http {
        url: String,
        status: u16,
        /// Seconds the server asked to wait (`Retry-After`), when it said.
        retry_after: Option<u64>,
    },
    #[error(
        "{}: not on the server (HTTP 404); check the base URL or the year",
        redact::url(url)
    )]
    NotOnServer { url: String },
    #[error(
        "{}: {size} bytes is more than the {limit}-byte limit for this source",
        redact::url(url)
    )]
    TooLarge { url: String, size: u64, limit: u64 },
    #[error(
        "{}: damaged ({}); delete it and run again online, or put a good copy of {} there",
        path.display(), redact::in_text(reason), redact::url(url)
    )]
    Corrupt {
        path: PathBuf,
        reason: String,
        url: String,
    },
    #[error("{}: {}", redact::url(url), redact::in_text(reason))]
    BadUrl { url: String, reason: String },
    #[error(
        "{}: the server redirected to {}, which is not followed ({}); use a base URL that \
         answers over https without leaving it",
        redact::url(url),
        redact::url(to),
        redact::in_text(reason)
    )]
    BadRedirect {
        url: String,
        to: String,
        reason: String,
    },
    #[error("{}: {}", path.display(), io_words(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Something already at a destination in `--dir` that is not bna's to replace.
    #[error("{} {problem}, so it was left alone; {fix}", path.display())]
    WontReplace {
        path: PathBuf,
        problem: String,
        fix: String,
    },
    /// A folder the user named (`--dir`, `--cache-dir`) that cannot be written.
    #[error("{}: {problem}; {fix}", path.display())]
    Unusable {
        path: PathBuf,
        problem: String,
        fix: String,
        bad_input: bool,
    },
    /// The Overpass API answered with no OpenStreetMap data at all for the area.
    #[error(
        "the Overpass API has no OpenStreetMap data at all in the area's box ({}), so there is \
         no extract to analyse; check that the boundary is the area you mean (longitude/latitude \
         in WGS 84), or give a local extract with --osm",
        redact::in_text(area)
    )]
    NoOsmData { area: String },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The request itself is wrong (unknown state, malformed FIPS, place not found).
    #[error("{}", redact::in_text(.0))]
    Input(String),
    #[error("cancelled")]
    Cancelled,
}

/// What happened to an Overpass query, from its error remark.
fn overpass_failure(remark: &str) -> &'static str {
    let r = remark.to_ascii_lowercase();
    if r.contains("timed out") || r.contains("timeout") {
        "timed out"
    } else if r.contains("out of memory") {
        "ran out of memory"
    } else {
        "gave up"
    }
}

impl FetchError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// The user's mistake (exit 2) rather than the network's or the machine's: retrying the
    /// same request cannot help. A stalled or lying server is transient.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            FetchError::Input(_)
                | FetchError::Ingest(_)
                | FetchError::BadUrl { .. }
                | FetchError::BadRedirect { .. }
                | FetchError::WontReplace { .. }
                | FetchError::NoOsmData { .. }
                | FetchError::Unusable {
                    bad_input: true,
                    ..
                }
        )
    }

    /// An I/O failure inside a folder the user named (`flag`: `--dir`, `--cache-dir`) that
    /// no retry can help (read-only, not allowed, a file where a folder must be) becomes one
    /// sentence naming the folder and the setting to change; others stay as they are.
    pub fn in_folder(self, flag: &str, root: &Path) -> FetchError {
        let FetchError::Io { path, source } = self else {
            return self;
        };
        if !path.starts_with(root) {
            return FetchError::Io { path, source };
        }
        match folder_problem(source.kind(), flag) {
            Some((at_root, problem, fix)) => FetchError::Unusable {
                path: if at_root {
                    root.to_path_buf()
                } else {
                    file_in_the_way(&path)
                },
                problem,
                fix,
                bad_input: true,
            },
            None => FetchError::Io { path, source },
        }
    }
}

/// The first entry down to `path` that exists and is not a folder (what made a "not a
/// directory" failure; it may lie above the folder given), else `path` itself.
fn file_in_the_way(path: &Path) -> PathBuf {
    let mut chain: Vec<&Path> = path
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .collect();
    chain.reverse();
    chain
        .into_iter()
        .find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir()))
        .unwrap_or(path)
        .to_path_buf()
}

/// What an I/O error kind means for a folder the user named, and its fix: `(the problem is
/// the folder's rather than one file's, problem, fix)`; `None` for kinds a retry may cure.
fn folder_problem(kind: std::io::ErrorKind, flag: &str) -> Option<(bool, String, String)> {
    use std::io::ErrorKind as K;
    let (at_root, problem, fix) = match kind {
        K::ReadOnlyFilesystem => (
            true,
            format!("the {flag} folder is on a read-only file system"),
            format!("give {flag} a folder on a writable disk"),
        ),
        K::PermissionDenied => (
            true,
            format!("this user may not write in the {flag} folder (permission denied)"),
            format!("give {flag} a folder you can write to, or change its permissions"),
        ),
        K::NotADirectory | K::AlreadyExists => (
            false,
            format!("a file stands where the {flag} folder needs a folder"),
            format!("give {flag} a folder, or move the file away"),
        ),
        _ => return None,
    };
    Some((at_root, problem, fix))
}

/// An I/O error as words, with what to do where that is clear, and without the raw
/// "(os error N)" suffix.
pub fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ReadOnlyFilesystem => {
            "the file system is read-only; choose a folder on a writable disk".into()
        }
        K::PermissionDenied => "permission denied; choose a folder you can write to".into(),
        K::StorageFull => "the disk is full; free some space and run again".into(),
        K::NotADirectory => "a part of this path is a file, not a folder; check the path".into(),
        K::NotFound => "not found; check the path".into(),
        K::AlreadyExists => {
            "something is already there; move it away or choose another path".into()
        }
        _ => bna_engine::files::plain_io_text(e),
    }
}

/// What to do about an HTTP status that is neither success nor "not found", by class.
fn http_fix(status: u16, retry_after: Option<u64>) -> String {
    match status {
        401 | 403 => "check the base URL and any credentials in it, and that the source still \
                      serves this file"
            .into(),
        407 => "log in to the proxy, or check the proxy settings".into(),
        429 | 503 | 504 => match retry_after {
            Some(s) => format!("the server is busy and asks to wait {s} s; run again later"),
            None => "the server is busy; run again later".into(),
        },
        500..=599 => "the server failed; run again later".into(),
        400..=499 => "check the base URL".into(),
        _ => "check the base URL, or run again later".into(),
    }
}

/// The first and last LODES 8 year a request may ask for: 2002 to this year (later years are
/// not published yet, earlier ones never were).
pub fn check_lodes_year(year: u16, this_year: u16) -> Result<(), FetchError> {
    let first = params::LODES_FIRST_YEAR;
    if (first..=this_year.max(first)).contains(&year) {
        return Ok(());
    }
    Err(FetchError::Input(format!(
        "--lodes-year {year}: LODES 8 covers the years {first} to {this_year}; give a year in \
         that range, or leave --lodes-year out for the latest"
    )))
}

/// This year (UTC), from the clock.
fn current_year() -> u16 {
    humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..4]
        .parse::<u16>()
        .unwrap_or(params::LODES_FIRST_YEAR)
}

/// Gets every input for `req` into `req.dir` (boundary GeoJSON, links to the cached
/// downloads, `inputs.json`), downloading only what the cache lacks.
pub fn fetch_inputs(
    req: &FetchRequest,
    obs: &dyn FetchObserver,
) -> Result<FetchedInputs, FetchError> {
    // Before anything is downloaded: the request and where it goes must be usable.
    if let Some(y) = req.lodes_year {
        check_lodes_year(y, current_year())?;
    }
    prepare_dir(&req.dir)?;
    let in_dir = |e: FetchError| e.in_folder("--dir", &req.dir);
    let list = req.dir.join("inputs.json");
    let earlier = dir::Earlier::read(&list);
    dir::check_dest(&list, req.force, |_| earlier.is_some())?;
    let earlier = earlier.unwrap_or_default();

    let cache = &req.cache_dir;
    let opts = download::Options {
        offline: req.offline,
        timeouts: req.timeouts,
    };
    let get = |entry: &download::Entry| {
        download::fetch(cache, entry, &opts, obs).map_err(|e| e.in_folder("--cache-dir", cache))
    };
    let link = |file: &Path| link_into(file, &req.dir, &earlier, req.force).map_err(in_dir);

    // 1. The boundary, and the state it lies in.
    let (boundary, state, city_fips, place_name) = match &req.area {
        Area::Boundary(path) => {
            ingest::boundary::load_boundary(path)?;
            obs.finished("boundary", path, Origin::Given);
            let state = match &req.state {
                Some(s) => Some(find_state(s).ok_or_else(|| {
                    FetchError::Input(format!("--state \"{s}\": not a US state"))
                })?),
                None => None,
            };
            (absolute(path)?, state, None, None)
        }
        Area::Place(_) | Area::Fips(_) => {
            let query = match &req.area {
                Area::Place(s) => parse_place(s)?,
                Area::Fips(s) => parse_fips(s)?,
                Area::Boundary(_) => unreachable!("handled above"),
            };
            let state = query.state();
            let found = find_place(req, &query, &get)?;
            let path = req.dir.join("boundary.geojson");
            let source = format!("TIGER/Line 2020 {}", found.1);
            let text = place::boundary_geojson(&found.0, &source);
            // An earlier fetch's boundary names its TIGER source; a user's does not.
            dir::check_dest(&path, req.force, |p| {
                earlier.lists(p)
                    || verify::head_of(p).is_ok_and(|h| {
                        String::from_utf8_lossy(&h).contains("\"source\":\"TIGER/Line 2020 ")
                    })
            })?;
            dir::put(&path, |tmp| dir::write_new(tmp, text.as_bytes())).map_err(in_dir)?;
            // What we wrote must be a boundary the analysis accepts.
            ingest::boundary::load_boundary(&path)?;
            obs.finished("boundary", &path, Origin::Network);
            let city = (found.0.geoid.len() == 7).then(|| found.0.geoid.clone());
            (path, Some(state), city, Some(found.0.name_lsad))
        }
    };

    // 2. Census blocks and jobs for the state (US only).
    let mut blocks = None;
    let mut jobs = None;
    let mut lodes_year = None;
    if let Some(st) = &state {
        let b = get(&req.sources.tiger(TigerLayer::Blocks, st))?;
        blocks = Some(link(&b)?);
        let year = lodes_year_for(req, st)?;
        let j = get(&req.sources.lodes_wac(st, year))?;
        jobs = Some(link(&j)?);
        lodes_year = Some(year);
    }

    // 3. OpenStreetMap for boundary ⊕ 2680 m.
    let osm = match &req.osm {
        Some(p) => {
            std::fs::metadata(p).map_err(|e| IngestError::io(p, e))?;
            refuse_failed_overpass_answer(p)?;
            obs.finished("OpenStreetMap extract", p, Origin::Given);
            absolute(p)?
        }
        None => {
            let b = ingest::boundary::load_boundary(&boundary)?;
            let bbox = overpass::buffered_bbox(&b, params::OSM_CLIP_BUFFER_M).ok_or_else(|| {
                FetchError::Input(format!("{}: empty boundary", boundary.display()))
            })?;
            let entry = overpass::entry(&req.sources.overpass, &overpass::query(&bbox));
            // A failed or empty answer (an Overpass error remark, no nodes at all) is refused
            // before it is cached.
            let file = get(&entry).map_err(|e| match e {
                FetchError::NoOsmData { .. } => FetchError::NoOsmData {
                    area: overpass::describe_bbox(&bbox),
                },
                other => other,
            })?;
            link(&file)?
        }
    };

    let out = FetchedInputs {
        boundary,
        osm,
        blocks,
        jobs,
        state_fips: state.map(|s| s.fips.to_owned()),
        city_fips,
        place_name,
        lodes_year,
    };
    let json = serde_json::to_vec_pretty(&out)
        .map_err(|e| FetchError::io(&list, std::io::Error::other(e)))?;
    // Checked again: the run may have taken minutes.
    dir::check_dest(&list, req.force, |_| dir::Earlier::read(&list).is_some())?;
    dir::put(&list, |tmp| dir::write_new(tmp, &json)).map_err(in_dir)?;
    Ok(out)
}

/// `--dir` must be a folder (created when missing): a file there is named at once rather than
/// left to fail as "File exists".
fn prepare_dir(dir: &Path) -> Result<(), FetchError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(FetchError::Unusable {
                path: dir.to_path_buf(),
                problem: "--dir is a file, not a folder".into(),
                fix: "give --dir a folder (it is created when missing)".into(),
                bad_input: true,
            })
        }
        _ => {}
    }
    std::fs::create_dir_all(dir).map_err(|e| FetchError::io(dir, e).in_folder("--dir", dir))
}

/// The place in the state's TIGER place file, else in its county subdivisions.
fn find_place(
    req: &FetchRequest,
    query: &PlaceQuery,
    get: &dyn Fn(&download::Entry) -> Result<PathBuf, FetchError>,
) -> Result<(place::FoundPlace, &'static str), FetchError> {
    let state = query.state();
    for (layer, label) in [
        (TigerLayer::Places, "places"),
        (TigerLayer::CountySubdivisions, "county subdivisions"),
    ] {
        let file = get(&req.sources.tiger(layer, &state))?;
        let mut found = place::search_tiger(&file, query)?;
        match found.len() {
            0 => continue,
            1 => return Ok((found.remove(0), label)),
            _ => {
                let list: Vec<String> = found
                    .iter()
                    .map(|f| format!("{} ({})", f.name_lsad, f.geoid))
                    .collect();
                return Err(FetchError::Input(format!(
                    "{query}: {} {label} match: {}; choose one with --fips",
                    found.len(),
                    list.join(", ")
                )));
            }
        }
    }
    Err(FetchError::Input(format!(
        "{query}: no such place or county subdivision in the TIGER 2020 files of {}; check \
         the spelling, or give --boundary",
        state.name
    )))
}

/// The LODES year: asked for, else the latest already cached (no request), else the latest
/// the server has (tried downwards from this year).
fn lodes_year_for(req: &FetchRequest, st: &State) -> Result<u16, FetchError> {
    let this_year = current_year();
    if let Some(y) = req.lodes_year {
        check_lodes_year(y, this_year)?;
        return Ok(y);
    }
    if let Some(y) = latest_cached_lodes(&req.cache_dir, &req.sources, st) {
        return Ok(y);
    }
    let pattern = req.sources.lodes_wac(st, 0);
    let where_ = req.cache_dir.join(&pattern.rel);
    let where_ = where_
        .to_string_lossy()
        .replace("_0.csv.gz", "_YEAR.csv.gz");
    if req.offline {
        return Err(FetchError::Input(format!(
            "LODES 8 jobs for {}: none cached and offline; download a year from {}/{}/wac/ \
             and put it at {where_}, or give --lodes-year",
            st.name,
            req.sources.lodes.trim_end_matches('/'),
            st.abbr.to_ascii_lowercase()
        )));
    }
    for year in (params::LODES_FIRST_YEAR..=this_year).rev() {
        let url = req.sources.lodes_wac(st, year).url;
        match download::exists(&url, &req.timeouts) {
            Ok(true) => return Ok(year),
            Ok(false) => {}
            // A bad base URL is the user's to fix; anything else (no network, a server error)
            // may pass, so it must stay retryable rather than look like bad input.
            Err(e) if e.is_bad_input() => return Err(e),
            Err(e) => {
                return Err(FetchError::NetworkMissing {
                    what: format!(
                        "LODES 8 jobs for {} (finding the latest year; or give the year)",
                        st.name
                    ),
                    url,
                    reason: e.to_string(),
                    path: where_.into(),
                })
            }
        }
    }
    Err(FetchError::Input(format!(
        "LODES 8 jobs for {}: no year from {} to {this_year} on {}; give --lodes-year",
        st.name,
        params::LODES_FIRST_YEAR,
        req.sources.lodes
    )))
}

fn latest_cached_lodes(cache: &Path, sources: &Sources, st: &State) -> Option<u16> {
    let probe = sources.lodes_wac(st, 0);
    let dir = cache.join(probe.rel.parent()?);
    let prefix = format!("{}_wac_S000_JT00_", st.abbr.to_ascii_lowercase());
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let year = name.strip_prefix(&prefix)?.strip_suffix(".csv.gz")?;
            (year.len() == 4)
                .then(|| year.parse::<u16>().ok())
                .flatten()
        })
        .max()
}

/// A given extract saved from an Overpass query that gave up is empty or partial: say so now,
/// rather than let the analysis find "no nodes". Other problems of a given file are named by
/// `ingest` when it is read.
fn refuse_failed_overpass_answer(path: &Path) -> Result<(), FetchError> {
    let head = verify::head_of(path).map_err(|e| IngestError::io(path, e))?;
    if !head.trim_ascii_start().starts_with(b"<") {
        return Ok(()); // a PBF
    }
    match overpass::check_answer(path, &head) {
        Err(verify::Rejection::OverpassGaveUp(remark)) => Err(FetchError::Input(format!(
            "{}: this OSM XML is an Overpass answer to a query that {} ({remark}), so it holds \
             no usable extract; download it again for a smaller area or later, or leave out \
             --osm",
            path.display(),
            overpass_failure(&remark)
        ))),
        Err(verify::Rejection::NoData) => Err(FetchError::Input(format!(
            "{}: this OSM XML holds not a single node, so there is nothing to analyse; check \
             the area it was downloaded for, or give another extract with --osm",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Given files are recorded with absolute paths: `inputs.json` must not depend on the
/// folder the command ran in.
fn absolute(p: &Path) -> Result<PathBuf, FetchError> {
    std::path::absolute(p).map_err(|e| FetchError::io(p, e))
}

/// Puts a cached file into the project folder: a hard link (no copy of big files) where the
/// file system allows, a copy otherwise, under a temporary name renamed into place. A file
/// already there is replaced only when an earlier fetch put it there (the same file as the
/// cache's, the same bytes, or listed in our earlier `inputs.json`), or with `force`.
fn link_into(
    file: &Path,
    dir: &Path,
    earlier: &dir::Earlier,
    force: bool,
) -> Result<PathBuf, FetchError> {
    let name = file.file_name().ok_or_else(|| {
        FetchError::io(
            file,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"),
        )
    })?;
    let dest = dir.join(name);
    let is_link_to_cache = matches!(
        bna_engine::files::PathKind::of(&dest),
        Ok(bna_engine::files::PathKind::File { .. })
    ) && dir::same_file(&dest, file);
    if is_link_to_cache {
        return Ok(dest); // already there, as an earlier fetch linked it
    }
    dir::check_dest(&dest, force, |d| {
        earlier.lists(d) || dir::same_content(d, file)
    })?;
    dir::put(&dest, |tmp| {
        std::fs::hard_link(file, tmp).or_else(|_| dir::copy_new(file, tmp))
    })?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_engine::user_dirs::env_of;
    use std::io::{Error, ErrorKind as K};

    #[test]
    fn cache_dir_per_system() {
        let all: &'static [(&str, &str)] = &[
            ("LOCALAPPDATA", r"C:\Users\Zoë\AppData\Local"),
            ("XDG_CACHE_HOME", "/x/cache"),
            ("HOME", "/home/z"),
        ];
        let win_cache = PathBuf::from(r"C:\Users\Zoë\AppData\Local")
            .join("bna")
            .join("cache");
        // (Windows?, environment, expected: None for an error)
        type Row = (
            bool,
            &'static [(&'static str, &'static str)],
            Option<PathBuf>,
        );
        let rows: [Row; 7] = [
            (true, all, Some(win_cache)),
            (false, all, Some(PathBuf::from("/x/cache/bna"))),
            (
                false,
                &[("HOME", "/home/z")],
                Some(PathBuf::from("/home/z/.cache/bna")),
            ),
            (
                true,
                &[("BNA_CACHE_DIR", "D:/c"), ("LOCALAPPDATA", "C:/l")],
                Some(PathBuf::from("D:/c")),
            ),
            (
                false,
                &[("BNA_CACHE_DIR", "/c"), ("HOME", "/h")],
                Some(PathBuf::from("/c")),
            ),
            // Windows ignores HOME and XDG_CACHE_HOME (set by some shells) rather than guess.
            (true, &[("HOME", "/home/z"), ("XDG_CACHE_HOME", "/x")], None),
            (false, &[("LOCALAPPDATA", "C:/l")], None),
        ];
        for (windows, env, want) in rows {
            let got = cache_dir_from(windows, env_of(env));
            match (&got, &want) {
                (Ok(g), Some(w)) => assert_eq!(g, w, "{windows} {env:?}"),
                (Err(e), None) => assert!(
                    e.to_string()
                        .contains("set BNA_CACHE_DIR or pass --cache-dir"),
                    "{e}"
                ),
                _ => panic!("{windows} {env:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn http_failures_say_what_to_do_by_class() {
        let cases = [
            // (status, Retry-After, words of the message, bad input)
            (403, None, "check the base URL and any credentials"),
            (401, None, "still serves this file"),
            (407, None, "log in to the proxy"),
            (429, None, "busy; run again later"),
            (503, Some(120), "asks to wait 120 s; run again later"),
            (504, None, "busy"),
            (500, None, "the server failed; run again later"),
            (502, None, "the server failed"),
            (418, None, "check the base URL"),
        ];
        for (status, retry_after, words) in cases {
            let e = FetchError::Http {
                url: "https://u:secret@x/f.zip".into(),
                status,
                retry_after,
            };
            let msg = e.to_string();
            assert!(msg.contains(words), "{status}: {msg}");
            assert!(msg.contains(&format!("HTTP {status}")), "{msg}");
            assert!(!msg.contains("secret"), "{msg}");
            assert!(
                !e.is_bad_input(),
                "{status}: a server's answer is not the user's input"
            );
        }
    }

    #[test]
    fn io_errors_read_as_words_without_os_error_numbers() {
        let cases = [
            (
                Error::from(K::ReadOnlyFilesystem),
                "read-only; choose a folder",
            ),
            (Error::from(K::PermissionDenied), "permission denied"),
            (Error::from(K::StorageFull), "disk is full"),
            (Error::from(K::NotADirectory), "is a file, not a folder"),
            (Error::from_raw_os_error(17), "already there"),
            (Error::from_raw_os_error(5), "Input/output error"),
        ];
        for (e, words) in cases {
            let w = io_words(&e);
            assert!(w.contains(words), "{e}: {w}");
            assert!(!w.contains("os error"), "{w}");
        }
    }

    #[test]
    fn folder_failures_name_the_folder_and_the_setting() {
        let root = Path::new("/mnt/ro/cache");
        let cases = [
            // (path of the failure, kind, shown path, words, becomes bad input)
            (
                "/mnt/ro/cache/osm/x.part",
                K::ReadOnlyFilesystem,
                "/mnt/ro/cache",
                "give --cache-dir a folder on a writable disk",
                true,
            ),
            (
                "/mnt/ro/cache",
                K::PermissionDenied,
                "/mnt/ro/cache",
                "give --cache-dir a folder you can write to",
                true,
            ),
            (
                "/mnt/ro/cache/osm",
                K::NotADirectory,
                "/mnt/ro/cache/osm",
                "a file stands where",
                true,
            ),
            (
                "/mnt/ro/cache/osm/x.part",
                K::StorageFull,
                "/mnt/ro/cache/osm/x.part",
                "disk is full",
                false,
            ),
            (
                "/elsewhere/x",
                K::ReadOnlyFilesystem,
                "/elsewhere/x",
                "read-only",
                false,
            ),
        ];
        for (path, kind, shown, words, bad) in cases {
            let e = FetchError::io(path, Error::from(kind)).in_folder("--cache-dir", root);
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("{shown}: ")), "{msg}");
            assert!(msg.contains(words), "{msg}");
            assert!(!msg.contains("os error"), "{msg}");
            assert_eq!(e.is_bad_input(), bad, "{msg}");
        }
    }

    #[test]
    fn only_lodes_8_years_are_asked_for() {
        let cases = [
            (0, false),
            (1900, false),
            (2001, false),
            (2002, true),
            (2021, true),
            (2026, true),
            (2027, false),
            (u16::MAX, false),
        ];
        for (year, ok) in cases {
            let got = check_lodes_year(year, 2026);
            assert_eq!(got.is_ok(), ok, "{year}");
            if let Err(e) = got {
                assert!(e.is_bad_input());
                assert!(e.to_string().contains("2002 to 2026"), "{e}");
            }
        }
    }
}
