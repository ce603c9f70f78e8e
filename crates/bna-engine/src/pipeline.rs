//! The one analysis API. The CLI, the desktop app and the Batch worker all call [`run`]: it
//! validates every input before touching the project, runs the stages in order with progress
//! and cancellation, restores unchanged stages from the project's checkpoints, and writes the
//! results in one transaction.

use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::{BoundingRect, Intersects, MultiPolygon};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analysis::{block_roads, connectivity, destinations, scoring};
use crate::ingest::{self, census::RawBlock, IngestError};
use crate::model::*;
use crate::network::{attributes, graph, intersections, paths, segments, stress_assignment};
use crate::params;
use crate::progress::{Cancelled, StageProgress};
use crate::spatial::Projection;
use crate::store::{Project, ProjectClaim, ProjectLock, StoreError};

pub mod demo;

mod rescore;
pub use rescore::{load_results, rescore, rescore_loaded, RescoreOutcome};

mod settings;
pub use settings::{check_city_fips, check_residential_speed, check_state_fips};

mod options;
pub use options::OsmClip;

mod stages;
use stages::run_stages;
pub use stages::stage_order;

mod inspect;
pub use inspect::{
    coverage, inspect_inputs, BlocksSummary, BoundarySummary, Coverage, InputFiles, InputsSummary,
    JobsSummary, OsmSummary,
};

/// Bump when a change to the engine changes results, so old checkpoints are not reused.
pub const ENGINE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+engine.4");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PopulationChoice {
    /// Census population if the block file has it; an error if it does not.
    Census,
    /// The synthetic grid of spec §9, whatever the block file holds.
    Synthetic,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnalysisRequest {
    pub boundary: PathBuf,
    pub osm: PathBuf,
    pub blocks: Option<PathBuf>,
    pub jobs: Option<PathBuf>,
    /// None: census when a block file is given, synthetic otherwise.
    pub population: Option<PopulationChoice>,
    /// 7-digit place FIPS for the city residential speed default.
    pub city_fips: Option<String>,
    /// 2-digit state FIPS; inferred from block GEOIDs when absent.
    pub state_fips: Option<String>,
    /// Overrides city and state residential speed defaults (mph).
    pub residential_speed: Option<u32>,
    /// How the OSM extract is cut to the study area (the reference's cut by default).
    pub osm_clip: OsmClip,
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Boundary,
    Osm,
    Blocks,
    Stress,
    Connectivity,
    Destinations,
    Scoring,
    Save,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Boundary,
        Stage::Osm,
        Stage::Blocks,
        Stage::Stress,
        Stage::Connectivity,
        Stage::Destinations,
        Stage::Scoring,
        Stage::Save,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Boundary => "boundary",
            Stage::Osm => "osm",
            Stage::Blocks => "blocks",
            Stage::Stress => "stress",
            Stage::Connectivity => "connectivity",
            Stage::Destinations => "destinations",
            Stage::Scoring => "scoring",
            Stage::Save => "save",
        }
    }
}

/// Receives stage events; its `StageProgress` side applies to the stage last started.
pub trait Observer: StageProgress {
    fn stage_started(&self, stage: Stage);
    fn stage_finished(&self, stage: Stage, seconds: f64, from_checkpoint: bool);
    fn warning(&self, message: &str);
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cancelled")]
    Cancelled,
    /// Inputs that are each valid but do not fit together (e.g. boundary outside the extract).
    #[error("{0}")]
    Input(String),
}

impl From<Cancelled> for PipelineError {
    fn from(_: Cancelled) -> Self {
        PipelineError::Cancelled
    }
}

impl From<ingest::osm::OsmReadError> for PipelineError {
    fn from(e: ingest::osm::OsmReadError) -> Self {
        match e {
            ingest::osm::OsmReadError::Ingest(e) => e.into(),
            ingest::osm::OsmReadError::Cancelled(_) => PipelineError::Cancelled,
        }
    }
}

impl PipelineError {
    /// Bad input (the user must change something) as opposed to an environment or internal
    /// failure; the CLI and the Batch worker map this to distinct exit codes.
    pub fn is_bad_input(&self) -> bool {
        match self {
            PipelineError::Ingest(_) | PipelineError::Input(_) => true,
            PipelineError::Store(e) => e.is_bad_input(),
            PipelineError::Cancelled => false,
        }
    }
}

pub struct AnalysisOutcome {
    pub data: ProjectData,
    pub warnings: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct OsmStage {
    segments: Vec<Segment>,
    intersections: Vec<Intersection>,
    features: Vec<OsmFeature>,
    trails: Vec<TrailCluster>,
    warnings: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct BlocksStage {
    blocks: Vec<Block>,
    population_source: PopulationSource,
    jobs_source: Option<String>,
    state_fips: Option<String>,
    warnings: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ConnectivityStage {
    pairs: Vec<BlockPair>,
    trail_counts: Vec<(u32, u32)>,
}

#[derive(Serialize, Deserialize)]
struct ScoringStage {
    block_scores: Vec<BlockScores>,
    overall_scores: Vec<ScoreRow>,
    mileage: Vec<(String, f64)>,
}

fn sha256_file(path: &Path) -> Result<InputFile, IngestError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| IngestError::io(path, e))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        h.update(&buf[..n]);
    }
    Ok(InputFile {
        role: String::new(),
        path: path.display().to_string(),
        sha256: hex::encode(h.finalize()),
        bytes,
    })
}

fn key_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(ENGINE_VERSION.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A computed stage whose checkpoint is not written yet.
struct PendingCheckpoint {
    stage: Stage,
    key: String,
    blob: Vec<u8>,
}

struct Runner<'a> {
    project: Project,
    obs: &'a dyn Observer,
    timings: Vec<StageTiming>,
}

impl Runner<'_> {
    /// Runs one stage, or restores it from the project's checkpoint when `key` matches.
    fn stage<T: Serialize + DeserializeOwned>(
        &mut self,
        stage: Stage,
        key: &str,
        compute: impl FnOnce(&dyn Observer) -> Result<T, PipelineError>,
    ) -> Result<T, PipelineError> {
        let (v, pending) = self.stage_unsaved(stage, key, compute)?;
        self.save(pending)?;
        Ok(v)
    }

    /// [`Self::stage`] without writing its checkpoint yet: the caller saves it once a later
    /// stage has accepted the other inputs, so that bad input never changes a project.
    fn stage_unsaved<T: Serialize + DeserializeOwned>(
        &mut self,
        stage: Stage,
        key: &str,
        compute: impl FnOnce(&dyn Observer) -> Result<T, PipelineError>,
    ) -> Result<(T, Option<PendingCheckpoint>), PipelineError> {
        self.obs.check()?;
        let t0 = Instant::now();
        self.obs.stage_started(stage);
        if let Some(blob) = self.project.load_checkpoint(stage.name(), key)? {
            if let Ok(v) = postcard::from_bytes::<T>(&blob) {
                return Ok((self.finish(stage, t0, true, v), None));
            }
            // An unreadable checkpoint (older engine layout) is recomputed, not an error.
        }
        let v = compute(self.obs)?;
        let blob = postcard::to_stdvec(&v)
            .map_err(|e| PipelineError::Input(format!("internal: checkpoint encoding: {e}")))?;
        let pending = PendingCheckpoint {
            stage,
            key: key.to_owned(),
            blob,
        };
        Ok((self.finish(stage, t0, false, v), Some(pending)))
    }

    fn save(&mut self, pending: Option<PendingCheckpoint>) -> Result<(), PipelineError> {
        if let Some(p) = pending {
            self.project
                .save_checkpoint(p.stage.name(), &p.key, &p.blob)?;
        }
        Ok(())
    }

    fn finish<T>(&mut self, stage: Stage, t0: Instant, from_checkpoint: bool, v: T) -> T {
        let seconds = t0.elapsed().as_secs_f64();
        self.obs.stage_finished(stage, seconds, from_checkpoint);
        self.timings.push(StageTiming {
            stage: stage.name().to_owned(),
            seconds,
            from_checkpoint,
        });
        v
    }
}

/// Checks that the boundary lies inside the extract; a buffer that leaves the extract only
/// warns, because small extracts (e.g. Helsinki centre) are still useful.
fn check_coverage(
    osm_path: &Path,
    boundary_path: &Path,
    extract_bbox: Option<geo::Rect<f64>>,
    boundary_ll: &MultiPolygon<f64>,
    proj: &Projection,
) -> Result<Option<String>, PipelineError> {
    let bbox = extract_bbox.ok_or_else(|| {
        PipelineError::Input(format!("{}: the extract has no nodes", osm_path.display()))
    })?;
    let b = boundary_ll
        .bounding_rect()
        .ok_or_else(|| PipelineError::Input("the boundary is empty".into()))?;
    let fmt = |r: geo::Rect<f64>| {
        format!(
            "{:.4},{:.4} – {:.4},{:.4}",
            r.min().x,
            r.min().y,
            r.max().x,
            r.max().y
        )
    };
    match inspect::coverage(bbox, boundary_ll, proj) {
        inspect::Coverage::Outside if swapped_would_fit(bbox, b) => Err(PipelineError::Input(format!(
            "{}: the boundary ({}) lies outside the OSM extract {} but would fall inside it with longitude and latitude swapped; store longitude first (x = longitude, y = latitude) and try again",
            boundary_path.display(),
            fmt(b),
            osm_path.display()
        ))),
        inspect::Coverage::Outside => Err(PipelineError::Input(format!(
            "{}: the boundary ({}) lies outside the OSM extract ({}); use an extract that covers the boundary",
            osm_path.display(),
            fmt(b),
            fmt(bbox)
        ))),
        inspect::Coverage::Partial => Err(PipelineError::Input(format!(
            "{}: the boundary ({}) extends beyond the OSM extract ({}); use an extract that covers the boundary plus {} m",
            osm_path.display(),
            fmt(b),
            fmt(bbox),
            params::OSM_CLIP_BUFFER_M
        ))),
        inspect::Coverage::BoundaryOnly => Ok(Some(format!(
            "{}: the extract covers the boundary but not all of the {} m routing buffer around it; trips leaving the extract are cut short",
            osm_path.display(),
            params::OSM_CLIP_BUFFER_M
        ))),
        inspect::Coverage::Full => Ok(None),
    }
}

/// Whether a boundary that misses the extract would hit it with x and y exchanged: the usual
/// sign of a file written latitude first.
fn swapped_would_fit(extract: geo::Rect<f64>, boundary: geo::Rect<f64>) -> bool {
    let swapped = geo::Rect::new(
        geo::coord! { x: boundary.min().y, y: boundary.min().x },
        geo::coord! { x: boundary.max().y, y: boundary.max().x },
    );
    extract.to_polygon().intersects(&swapped.to_polygon())
}

/// Everything checked before the project file is created or changed.
struct Validated {
    boundary_ll: MultiPolygon<f64>,
    projection: Projection,
    boundary: MultiPolygon<f64>,
    raw_blocks: Option<Vec<RawBlock>>,
    population: PopulationChoice,
    jobs: Option<std::collections::HashMap<String, f64>>,
    inputs: Vec<InputFile>,
    /// What the readers noticed without refusing a file; shown with the blocks stage's.
    warnings: Vec<String>,
}

fn validate(req: &AnalysisRequest) -> Result<Validated, PipelineError> {
    settings::check_settings(req)?;
    // Every input must be a regular file before anything opens it: the OSM file is hashed
    // first, and hashing `/dev/zero` never ends (a FIFO without a writer blocks forever).
    for p in [
        Some(&req.osm),
        Some(&req.boundary),
        req.blocks.as_ref(),
        req.jobs.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        ingest::check_input_file(p)?;
    }
    let mut warnings = Vec::new();
    let mut inputs = Vec::new();
    let mut record = |role: &str, path: &Path| -> Result<(), IngestError> {
        let mut f = sha256_file(path)?;
        f.role = role.to_owned();
        inputs.push(f);
        Ok(())
    };
    record("osm", &req.osm)?;
    let boundary_ll = ingest::boundary::load_boundary(&req.boundary)?;
    record("boundary", &req.boundary)?;
    let projection = Projection::for_boundary(&boundary_ll)
        .map_err(|e| IngestError::invalid(&req.boundary, e.to_string()))?;
    let boundary = projection.project(&boundary_ll);

    let raw_blocks = match &req.blocks {
        Some(p) => {
            let table = ingest::census::load_blocks_table(p)?;
            record("blocks", p)?;
            Some(table)
        }
        None => None,
    };
    let (raw_blocks, population_warnings, no_population) = match raw_blocks {
        Some(t) => {
            let reason = ingest::census::no_population_reason(&t);
            (Some(t.blocks), t.population_warnings, reason)
        }
        None => (None, Vec::new(), String::new()),
    };
    let population = match (req.population, &raw_blocks, &req.blocks) {
        (Some(PopulationChoice::Synthetic), _, _) | (None, None, _) => PopulationChoice::Synthetic,
        (Some(PopulationChoice::Census), None, _) => {
            return Err(PipelineError::Input(
                "--population census needs a census block file: pass --blocks FILE, or use --population synthetic".into(),
            ))
        }
        (_, Some(raw), Some(path)) => {
            if !ingest::census::has_population(raw) {
                return Err(IngestError::invalid(path, no_population).into());
            }
            // Blocks without a value or with a fraction matter only to the census population.
            warnings.extend(population_warnings);
            PopulationChoice::Census
        }
        (_, Some(_), None) => unreachable!("blocks parsed without a path"),
    };
    let jobs = match &req.jobs {
        Some(p) => {
            let table = ingest::jobs::load_jobs_table(p)?;
            warnings.extend(table.warnings);
            let j = table.jobs;
            record("jobs", p)?;
            if raw_blocks.is_none() {
                return Err(PipelineError::Input(format!(
                    "{}: jobs are joined to census blocks by GEOID; pass the census block file with --blocks",
                    p.display()
                )));
            }
            Some(j)
        }
        None => None,
    };
    if let Some(parent) = req.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(PipelineError::Input(format!(
                "{}: the output folder {} does not exist; create it first",
                req.out.display(),
                parent.display()
            )));
        }
    }
    Ok(Validated {
        boundary_ll,
        projection,
        boundary,
        raw_blocks,
        population,
        jobs,
        inputs,
        warnings,
    })
}

/// Runs the whole analysis into `req.out`. On failure a project file that this call created is
/// removed and an empty file it was given is emptied again; an existing project keeps its
/// previous results (each stage commits on its own). What is not a project file is refused
/// before anything is opened (see `store::ProjectClaim`).
pub fn run(req: &AnalysisRequest, obs: &dyn Observer) -> Result<AnalysisOutcome, PipelineError> {
    let t_boundary = Instant::now();
    obs.stage_started(Stage::Boundary);
    let v = validate(req)?;
    // Before the lock file is made beside it: `--out /dev/null` must not leave /dev/null.lock.
    ProjectClaim::check(&req.out)?;
    // Taken before the claim, so that "did this run create it" (and the clean-up below) cannot
    // race with another process analysing the same project.
    let _lock = ProjectLock::acquire(
        &req.out,
        std::time::Duration::from_secs(params::PROJECT_LOCK_WAIT_S),
    )?;
    let claim = ProjectClaim::take(&req.out)?;
    let project = Project::create_or_open(&req.out).inspect_err(|_| claim.undo())?;
    let mut runner = Runner {
        project,
        obs,
        timings: Vec::new(),
    };
    runner.finish(Stage::Boundary, t_boundary, false, ());
    let result = run_stages(req, v, &mut runner);
    if result.is_err() {
        drop(runner);
        claim.undo();
    }
    result
}

/// The project parameter naming the OSM clip mode (`boundary` or `buffer`).
pub const PARAM_OSM_CLIP: &str = "osm_clip";
/// The box of the reference's cut in boundary mode: `minlon,minlat,maxlon,maxlat`, degrees to
/// 7 decimals (the tools' 1e-7° unit).
pub const PARAM_OSM_CLIP_BBOX: &str = "osm_clip_bbox";

/// Reads the extract (cut like the reference's when `clip` is given) and builds the network.
fn osm_stage(
    req: &AnalysisRequest,
    v: &Validated,
    runner: &mut Runner<'_>,
    key: &str,
    clip: Option<&ingest::osm_clip::ReferenceClip>,
) -> Result<OsmStage, PipelineError> {
    let proj = v.projection;
    runner.stage(Stage::Osm, key, |obs| {
        let extract = ingest::osm::read_osm_clipped(&req.osm, obs, clip)?;
        let mut warnings = Vec::new();
        let coverage = check_coverage(
            &req.osm,
            &req.boundary,
            extract.bbox_ll,
            &v.boundary_ll,
            &proj,
        )?;
        // Without the routing ring, an extract that stops short of it loses nothing.
        if let (Some(w), None) = (coverage, clip) {
            warnings.push(w);
        }
        obs.check()?;
        let built = segments::build_network(
            &extract,
            &proj,
            &v.boundary,
            params::OSM_CLIP_BUFFER_M,
            attributes::derive_attributes,
        );
        if built.segments.is_empty() {
            return Err(PipelineError::Input(format!(
                "{}: no roads or paths within {} m of the boundary; check that the extract and the boundary are the same place",
                req.osm.display(),
                params::OSM_CLIP_BUFFER_M
            )));
        }
        let mut segs = built.segments;
        let mut ints = built.intersections;
        intersections::set_flags(
            &segs,
            &mut ints,
            &extract.control_nodes,
            &extract.node_coords,
            &proj,
        );
        let trails = paths::trail_clusters(&mut segs);
        let features =
            ingest::osm::poi_features(&extract, &proj, &v.boundary, params::OSM_CLIP_BUFFER_M);
        Ok(OsmStage {
            segments: segs,
            intersections: ints,
            features,
            trails,
            warnings,
        })
    })
}

/// The reference's cut for this boundary: its polygon, and the bounding box (lon/lat) of the
/// census blocks (or synthetic cells) kept for the analysis, as its `retrieve_boundary_box`.
fn reference_clip(
    req: &AnalysisRequest,
    boundary_ll: &MultiPolygon<f64>,
    blocks: &[Block],
) -> Result<ingest::osm_clip::ReferenceClip, PipelineError> {
    let bbox = blocks
        .iter()
        .filter_map(|b| b.geom_ll.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
    bbox.and_then(|bbox| ingest::osm_clip::ReferenceClip::new(boundary_ll, bbox))
        .ok_or_else(|| {
            PipelineError::Input(format!(
                "{}: the blocks kept for the analysis have no extent to cut the OSM extract to; use --osm-clip buffer or check the block file",
                req.boundary.display()
            ))
        })
}

/// Line graph, block roads and per-block Dijkstra (spec §5): shared by [`run`] and
/// [`rescore`], so that re-scoring an unchanged network reproduces the analysis exactly.
fn compute_connectivity(
    segments: &[Segment],
    intersections: &[Intersection],
    blocks: &[Block],
    boundary: &MultiPolygon<f64>,
    trails: &[TrailCluster],
    obs: &dyn Observer,
) -> Result<ConnectivityStage, PipelineError> {
    let g = graph::build_line_graph(segments, intersections);
    let roads = block_roads::block_roads(blocks, segments);
    obs.set_total(blocks.len() as u64);
    let r = connectivity::connectivity(&g, segments, blocks, &roads, boundary, trails, obs)?;
    Ok(ConnectivityStage {
        pairs: r.pairs,
        trail_counts: r.trail_counts,
    })
}

/// Block scores, city scores and mileage (spec §7), shared by [`run`] and [`rescore`].
fn compute_scores(
    blocks: &[Block],
    conn: &ConnectivityStage,
    destinations: &[Destination],
    segments: &[Segment],
    boundary: &MultiPolygon<f64>,
) -> ScoringStage {
    let block_scores = scoring::score_blocks(blocks, &conn.pairs, destinations, &conn.trail_counts);
    let overall_scores = scoring::city_scores(blocks, &block_scores, segments, boundary);
    ScoringStage {
        block_scores,
        overall_scores,
        mileage: scoring::mileage(segments),
    }
}

/// Why the selected blocks leave nothing to score, naming what was actually read: the census
/// block file, or the boundary for the synthetic grid (no block file involved).
fn blocks_problem(req: &AnalysisRequest, stage: &BlocksStage) -> Option<String> {
    let census = stage.population_source == PopulationSource::Census;
    let (file, one, all) = match (&req.blocks, census) {
        (Some(blocks), true) => (blocks.display(), "census block", "census blocks"),
        _ => (
            req.boundary.display(),
            "cell of the synthetic population grid",
            "synthetic population cells",
        ),
    };
    if stage.blocks.is_empty() {
        let fix = if census {
            "check that the block file covers the boundary"
        } else {
            "check that the boundary encloses an area, not a sliver"
        };
        return Some(format!(
            "{file}: no {one} has at least {:.0} % of its area inside the boundary; {fix}",
            params::BLOCK_MIN_SHARE_INSIDE * 100.0
        ));
    }
    if stage.blocks.iter().map(|b| b.population).sum::<f64>() <= 0.0 {
        return Some(format!(
            "{file}: the {all} inside the boundary have a total population of 0; nothing to \
             score, check that the boundary is the intended area"
        ));
    }
    None
}

fn build_blocks(
    req: &AnalysisRequest,
    v: &Validated,
    obs: &dyn Observer,
) -> Result<BlocksStage, PipelineError> {
    use ingest::{census, jobs as lodes, synthetic};
    let mut warnings = v.warnings.clone();
    let state_fips = v
        .raw_blocks
        .as_ref()
        .and_then(|r| ingest::speed::state_fips_of_blocks(r));
    let (mut blocks, population_source) = match v.population {
        PopulationChoice::Census => {
            let raw = v
                .raw_blocks
                .clone()
                .expect("validated: census needs blocks");
            obs.set_total(raw.len() as u64);
            (
                census::select_blocks(raw, &v.boundary_ll, &v.projection, true),
                PopulationSource::Census,
            )
        }
        PopulationChoice::Synthetic => {
            let cells = synthetic::synthetic_grid(&v.boundary_ll);
            obs.set_total(cells.len() as u64);
            (
                census::select_blocks(cells, &v.boundary_ll, &v.projection, false),
                PopulationSource::Synthetic,
            )
        }
    };
    obs.check()?;
    let mut jobs_source = None;
    if let (Some(jobs), Some(path)) = (&v.jobs, &req.jobs) {
        let join = match population_source {
            PopulationSource::Census => lodes::attach_jobs(&mut blocks, jobs),
            PopulationSource::Synthetic => lodes::attach_jobs_by_location(
                &mut blocks,
                v.raw_blocks.as_deref().unwrap_or_default(),
                jobs,
                &v.projection,
            ),
        };
        // Workplaces outside the study area are expected; only geocodes absent from the
        // whole block file point at mismatched inputs.
        let (missing, missing_jobs) =
            lodes::geocodes_missing_from(v.raw_blocks.as_deref().unwrap_or_default(), jobs);
        if missing > 0 {
            warnings.push(format!(
                "{}: {missing} workplace blocks ({missing_jobs:.0} jobs) are not in the census block file and were not counted; check that both files are for the same state and census year",
                path.display()
            ));
        }
        // The unmatched count goes into the project's metadata too, not only to stderr.
        jobs_source = Some(format!(
            "{} ({} blocks matched, {:.0} jobs inside the analysis area, {missing} workplace blocks ({missing_jobs:.0} jobs) not in the census block file)",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            join.matched_blocks,
            blocks.iter().map(|b| b.jobs).sum::<f64>()
        ));
    }
    obs.inc(blocks.len() as u64);
    Ok(BlocksStage {
        blocks,
        population_source,
        jobs_source,
        state_fips,
        warnings,
    })
}

fn now_utc() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// An observer that displays nothing and never cancels (benchmarks, tests, scripted callers).
#[derive(Debug, Default)]
pub struct SilentObserver {
    pub counter: crate::progress::Counter,
}

impl StageProgress for SilentObserver {
    fn set_total(&self, total: u64) {
        self.counter.set_total(total)
    }
    fn inc(&self, n: u64) {
        self.counter.inc(n)
    }
    fn is_cancelled(&self) -> bool {
        self.counter.is_cancelled()
    }
}

impl Observer for SilentObserver {
    fn stage_started(&self, _: Stage) {}
    fn stage_finished(&self, _: Stage, _: f64, _: bool) {}
    fn warning(&self, _: &str) {}
}

#[cfg(test)]
mod blocks_problem_tests {
    use super::*;

    #[test]
    fn nothing_to_score_names_what_was_read() {
        let block = |population: f64| Block {
            geoid: "1".into(),
            geom: MultiPolygon(vec![]),
            geom_ll: MultiPolygon(vec![]),
            population,
            jobs: 0.0,
            aland: None,
        };
        let stage = |source, blocks| BlocksStage {
            blocks,
            population_source: source,
            jobs_source: None,
            state_fips: None,
            warnings: vec![],
        };
        let req = |blocks: Option<&str>| AnalysisRequest {
            boundary: "area.geojson".into(),
            osm: "x.pbf".into(),
            blocks: blocks.map(PathBuf::from),
            jobs: None,
            population: None,
            city_fips: None,
            state_fips: None,
            residential_speed: None,
            osm_clip: OsmClip::default(),
            out: "p.bna".into(),
        };
        use PopulationSource::{Census, Synthetic};
        // (request, stage, None = fine, or the start and a fragment of the message)
        let cases = [
            (req(Some("tl.zip")), stage(Census, vec![block(3.0)]), None),
            (
                req(Some("tl.zip")),
                stage(Census, vec![]),
                Some(("tl.zip: no census block", "block file covers")),
            ),
            (
                req(Some("tl.zip")),
                stage(Census, vec![block(0.0)]),
                Some(("tl.zip: the census blocks", "total population of 0")),
            ),
            (
                req(None),
                stage(Synthetic, vec![]),
                Some(("area.geojson: no cell of the synthetic", "not a sliver")),
            ),
            (
                req(Some("tl.zip")),
                stage(Synthetic, vec![block(0.0)]),
                Some((
                    "area.geojson: the synthetic population cells",
                    "population of 0",
                )),
            ),
        ];
        for (r, s, want) in cases {
            match (blocks_problem(&r, &s), want) {
                (None, None) => {}
                (Some(msg), Some((start, frag))) => {
                    assert!(msg.starts_with(start) && msg.contains(frag), "{msg}");
                    assert!(!msg.contains("block file") || r.blocks.is_some(), "{msg}");
                }
                (got, _) => panic!("unexpected {got:?}"),
            }
        }
    }
}
