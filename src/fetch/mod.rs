//! Getting the inputs of an analysis for a US place or any boundary: the boundary (TIGER
//! place search), the OpenStreetMap extract for boundary ⊕ 2680 m (Overpass API), the state's
//! TIGER 2020 census blocks and its latest LODES 8 jobs. Speed tables are embedded already.
//!
//! This layer comes before `ingest` and only produces files on disk. Every download goes
//! through a cache shared by all projects (`~/.cache/bna`), is resumable and verified, and is
//! never fetched twice; with `offline` (or no network) nothing needs the network when the
//! files are cached or given, and a missing file is named with the place to put it.

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

use crate::ingest::{self, IngestError};
use crate::params;

/// Environment variable that moves the shared download cache.
pub const CACHE_DIR_ENV: &str = "BNA_CACHE_DIR";

/// The shared cache: `$BNA_CACHE_DIR`, else `$XDG_CACHE_HOME/bna`, else `~/.cache/bna`.
pub fn default_cache_dir() -> Result<PathBuf, FetchError> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = nonempty(CACHE_DIR_ENV) {
        return Ok(d);
    }
    if let Some(d) = nonempty("XDG_CACHE_HOME") {
        return Ok(d.join("bna"));
    }
    nonempty("HOME")
        .map(|h| h.join(".cache").join("bna"))
        .ok_or_else(|| {
            FetchError::Input(format!(
                "no cache folder: neither {CACHE_DIR_ENV}, XDG_CACHE_HOME nor HOME is set; \
                 set {CACHE_DIR_ENV} or pass --cache-dir"
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
    #[error("{}: the server answered HTTP {status}", redact::url(url))]
    Http { url: String, status: u16 },
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
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
        )
    }
}

/// Gets every input for `req` into `req.dir` (boundary GeoJSON, links to the cached
/// downloads, `inputs.json`), downloading only what the cache lacks.
pub fn fetch_inputs(
    req: &FetchRequest,
    obs: &dyn FetchObserver,
) -> Result<FetchedInputs, FetchError> {
    std::fs::create_dir_all(&req.dir).map_err(|e| FetchError::io(&req.dir, e))?;
    let cache = &req.cache_dir;
    let opts = download::Options {
        offline: req.offline,
        timeouts: req.timeouts,
    };
    let get = |entry: &download::Entry| download::fetch(cache, entry, &opts, obs);

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
            std::fs::write(&path, place::boundary_geojson(&found.0, &source))
                .map_err(|e| FetchError::io(&path, e))?;
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
        blocks = Some(link_into(&b, &req.dir)?);
        let year = lodes_year_for(req, st)?;
        let j = get(&req.sources.lodes_wac(st, year))?;
        jobs = Some(link_into(&j, &req.dir)?);
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
            // A failed answer (an Overpass error remark) is refused before it is cached.
            let file = get(&entry)?;
            link_into(&file, &req.dir)?
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
    let list = req.dir.join("inputs.json");
    let json = serde_json::to_vec_pretty(&out).expect("inputs serialise");
    std::fs::write(&list, json).map_err(|e| FetchError::io(&list, e))?;
    Ok(out)
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
    if let Some(y) = req.lodes_year {
        return Ok(y);
    }
    if let Some(y) = latest_cached_lodes(&req.cache_dir, &req.sources, st) {
        return Ok(y);
    }
    let this_year = humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..4]
        .parse::<u16>()
        .unwrap_or(params::LODES_FIRST_YEAR);
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
        _ => Ok(()),
    }
}

/// Given files are recorded with absolute paths: `inputs.json` must not depend on the
/// folder the command ran in.
fn absolute(p: &Path) -> Result<PathBuf, FetchError> {
    std::path::absolute(p).map_err(|e| FetchError::io(p, e))
}

/// Puts a cached file into the project folder: a hard link (no copy of big files) where the
/// file system allows, a copy otherwise.
fn link_into(file: &Path, dir: &Path) -> Result<PathBuf, FetchError> {
    let name = file.file_name().expect("cache files have names");
    let dest = dir.join(name);
    if dest.exists() {
        std::fs::remove_file(&dest).map_err(|e| FetchError::io(&dest, e))?;
    }
    if std::fs::hard_link(file, &dest).is_err() {
        std::fs::copy(file, &dest).map_err(|e| FetchError::io(&dest, e))?;
    }
    Ok(dest)
}
