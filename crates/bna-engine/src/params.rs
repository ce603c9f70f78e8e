//! Every BNA constant, in one place (spec sections in brackets). Reference: brokenspoke-analyzer
//! 3.2.4. Changing one of these changes results: keep `docs/methodology.md` in step.

/// Maximum trip distance and OSM clip buffer, metres [§1 step 11, §5.4].
pub const MAX_TRIP_DISTANCE_M: u32 = 2680;
/// OSM ways and POIs are kept within this distance of the boundary [§1 step 11].
pub const OSM_CLIP_BUFFER_M: f64 = 2680.0;
/// A pair is low stress when low-stress cost ≤ this × high-stress cost [§5.5].
pub const LOW_STRESS_DETOUR_RATIO: f64 = 1.25;
/// Minimum share of a block's area inside the boundary for it to be kept [§1 step 7].
pub const BLOCK_MIN_SHARE_INSIDE: f64 = 0.5;
/// Block ↔ road association: buffer and minimum overlap, metres [§5.3].
pub const BLOCK_ROAD_BUFFER_M: f64 = 15.0;
pub const BLOCK_ROAD_MIN_LENGTH_M: f64 = 30.0;
/// Search radius for signals, stops, RRFBs and islands around an intersection [§3.4].
pub const SIGNAL_SEARCH_DIST_M: f64 = 25.0;
/// Trail clusters must be longer than this and have a bbox diagonal longer than
/// `TRAIL_MIN_BBOX_M` [§3.5, §6.2].
pub const TRAIL_MIN_LENGTH_M: f64 = 4800.0;
pub const TRAIL_MIN_BBOX_M: f64 = 3300.0;
/// Metres per mile for mileage [§7.6, §7.7].
pub const METRES_PER_MILE: f64 = 1609.34;
/// km/h → mph divisor used by `speed_limit.sql` [§3.4].
pub const KMH_PER_MPH: f64 = 1.609;

/// Synthetic population grid (non-US / no census) [§9]: cell side in EPSG:3857 units and
/// people per cell.
pub const SYNTHETIC_CELL_SIZE: f64 = 500.0;
pub const SYNTHETIC_CELL_POPULATION: f64 = 100.0;

/// Class defaults for segment and crossing stress [§4.3]: (speed mph, lanes per direction).
pub const PRIMARY_DEFAULTS: (u32, u32) = (40, 2);
pub const SECONDARY_DEFAULTS: (u32, u32) = (40, 2);
pub const TERTIARY_DEFAULTS: (u32, u32) = (30, 1);
pub const UNCLASSIFIED_DEFAULT_SPEED: u32 = 25;
pub const RESIDENTIAL_DEFAULT_LANES: u32 = 1;
pub const UNCLASSIFIED_DEFAULT_LANES: u32 = 1;
/// Bike facility width default, feet [§4.2].
pub const DEFAULT_FACILITY_WIDTH_FT: f64 = 5.0;
/// A painted lane (≤ 20 mph, one lane) is low stress only if at least this wide, feet [§4.2].
pub const MIN_LOW_STRESS_LANE_WIDTH_FT: f64 = 4.0;
/// Feet per metre used by `width_ft.sql` and the facility widths in `bike_infra.sql` [§3.4].
pub const FEET_PER_METRE: f64 = 3.28084;
/// A unitless `width` is read as metres only below this value [§3.4].
pub const UNITLESS_WIDTH_MAX_M: f64 = 20.0;
/// A footway with `bicycle=yes|permissive` becomes a path from this width, feet [§3.3 rule 5].
pub const FOOTWAY_MIN_WIDTH_FT: f64 = 8.0;

/// People/jobs piecewise-linear score [§7.2].
pub const RATIO_STEP1: f64 = 0.03;
pub const RATIO_SCORE1: f64 = 0.1;
pub const RATIO_STEP2: f64 = 0.2;
pub const RATIO_SCORE2: f64 = 0.4;
pub const RATIO_STEP3: f64 = 0.5;
pub const RATIO_SCORE3: f64 = 0.8;
pub const RATIO_MAX_SCORE: f64 = 1.0;

/// Destination count scores: (first, second, third) [§7.3].
pub const SCHOOLS_STEPS: (f64, f64, f64) = (0.3, 0.2, 0.2);
pub const COLLEGES_STEPS: (f64, f64, f64) = (0.7, 0.0, 0.0);
pub const UNIVERSITIES_STEPS: (f64, f64, f64) = (0.7, 0.0, 0.0);
pub const DOCTORS_STEPS: (f64, f64, f64) = (0.4, 0.2, 0.1);
pub const DENTISTS_STEPS: (f64, f64, f64) = (0.4, 0.2, 0.1);
pub const HOSPITALS_STEPS: (f64, f64, f64) = (0.7, 0.0, 0.0);
pub const PHARMACIES_STEPS: (f64, f64, f64) = (0.4, 0.2, 0.1);
pub const SUPERMARKETS_STEPS: (f64, f64, f64) = (0.6, 0.2, 0.0);
pub const SOCIAL_SERVICES_STEPS: (f64, f64, f64) = (0.7, 0.0, 0.0);
pub const PARKS_STEPS: (f64, f64, f64) = (0.3, 0.2, 0.2);
pub const COMMUNITY_CENTERS_STEPS: (f64, f64, f64) = (0.4, 0.2, 0.1);
pub const RETAIL_STEPS: (f64, f64, f64) = (0.4, 0.2, 0.1);
pub const TRANSIT_STEPS: (f64, f64, f64) = (0.6, 0.0, 0.0);
pub const TRAILS_STEPS: (f64, f64, f64) = (0.7, 0.2, 0.0);

/// Destination clustering tolerances, metres [§6.2].
pub const COLLEGES_CLUSTER_M: f64 = 100.0;
pub const UNIVERSITIES_CLUSTER_M: f64 = 150.0;
pub const HEALTH_CLUSTER_M: f64 = 50.0;
pub const PARKS_CLUSTER_M: f64 = 50.0;
pub const COMMUNITY_CENTERS_CLUSTER_M: f64 = 50.0;
pub const RETAIL_CLUSTER_M: f64 = 50.0;
pub const RETAIL_POINT_BUFFER_M: f64 = 10.0;
pub const TRANSIT_CLUSTER_M: f64 = 75.0;

/// Overall score weights [§7.4].
pub const WEIGHT_PEOPLE: f64 = 15.0;
pub const WEIGHT_OPPORTUNITY: f64 = 20.0;
pub const WEIGHT_CORE_SERVICES: f64 = 20.0;
pub const WEIGHT_RETAIL: f64 = 15.0;
pub const WEIGHT_RECREATION: f64 = 15.0;
pub const WEIGHT_TRANSIT: f64 = 15.0;
/// Sub-category weights within categories [§7.4].
pub const W_EMPLOYMENT: f64 = 0.35;
pub const W_SCHOOLS: f64 = 0.35;
pub const W_COLLEGES: f64 = 0.1;
pub const W_UNIVERSITIES: f64 = 0.2;
pub const W_DOCTORS: f64 = 0.2;
pub const W_DENTISTS: f64 = 0.1;
pub const W_HOSPITALS: f64 = 0.2;
pub const W_PHARMACIES: f64 = 0.1;
pub const W_SUPERMARKETS: f64 = 0.25;
pub const W_SOCIAL_SERVICES: f64 = 0.15;
pub const W_PARKS: f64 = 0.4;
pub const W_TRAILS: f64 = 0.35;
pub const W_COMMUNITY_CENTERS: f64 = 0.25;

// ---- bna fetch (not BNA method constants: limits of the downloader) ----

/// Largest file `bna fetch` accepts from each source, bytes; a larger answer is refused
/// before it fills the disk (the biggest TIGER tabblock20 state zip, Texas, is ≈ 600 MB).
pub const FETCH_MAX_TIGER_BYTES: u64 = 2 << 30;
pub const FETCH_MAX_LODES_BYTES: u64 = 512 << 20;
pub const FETCH_MAX_OSM_BYTES: u64 = 4 << 30;
/// Attempts per download; an interrupted transfer resumes where it stopped.
pub const FETCH_MAX_ATTEMPTS: u32 = 5;
/// Pause before retrying after a failed connection or a 5xx/429, milliseconds (× attempt).
pub const FETCH_RETRY_BACKOFF_MS: u64 = 500;
/// Overpass server-side limits sent with the query: seconds and bytes of memory.
pub const OVERPASS_TIMEOUT_S: u64 = 900;
pub const OVERPASS_MAXSIZE_BYTES: u64 = 2 << 30;
/// Earliest LODES 8 year tried when looking for the latest one, which searches downwards from
/// the current year.
pub const LODES_FIRST_YEAR: u16 = 2002;

/// Zoom levels of the MBTiles export: 10 shows a whole metro area, 16 single streets.
pub const TILES_MIN_ZOOM: u8 = 10;
pub const TILES_MAX_ZOOM: u8 = 16;
/// MVT tile extent (coordinate units per tile side) and the buffer drawn past each edge, in
/// the same units, so that lines and polygon edges do not show seams between tiles.
pub const TILES_EXTENT: u32 = 4096;
pub const TILES_BUFFER: u32 = 64;

/// Cloud offload (src/cloud): how long a Batch job may sit in RUNNABLE before the user is
/// warned that the queue may be blocked (capacity, or a compute environment that cannot fit
/// the job; AWS Batch User Guide "Jobs stuck in a RUNNABLE status").
pub const CLOUD_RUNNABLE_WARNING_SECS: u64 = 15 * 60;
/// How often `bna batch status --wait` and the app poll DescribeJobs.
pub const CLOUD_POLL_SECS: u64 = 5;
/// Worker exit code for bad input: the job definition never retries it.
pub const WORKER_EXIT_BAD_INPUT: i32 = 2;
/// Worker exit code for a transient failure (EX_TEMPFAIL): the job definition retries it.
pub const WORKER_EXIT_TRANSIENT: i32 = 75;

/// How long a second analysis of the same project waits for the first before refusing (s).
pub const PROJECT_LOCK_WAIT_S: u64 = 3;
/// Largest zip member (uncompressed) read into memory: a statewide TIGER block shapefile is
/// well under this; anything larger is a damaged file or a zip bomb.
pub const MAX_ZIP_MEMBER_BYTES: u64 = 4 << 30;

/// Inputs read whole into memory are refused above these sizes (bytes) before they are read,
/// so a wrong file fails at once instead of exhausting memory. A city or county boundary
/// GeoJSON is a few MB (a detailed state outline tens of MB); a scenario edits file holds a
/// few hundred bytes per edit; a census block file is at most a statewide TIGER zip
/// (`FETCH_MAX_TIGER_BYTES`) or its GeoJSON, several times larger.
pub const MAX_BOUNDARY_FILE_BYTES: u64 = 256 << 20;
pub const MAX_EDITS_FILE_BYTES: u64 = 64 << 20;
pub const MAX_BLOCKS_FILE_BYTES: u64 = 8 << 30;
/// The LODES reader streams its file; these bound what it will read. Decompressed text, bytes
/// (the largest statewide OD file, California's, is ≈ 1.5 GB; `bna fetch` caps downloads the
/// same way); a line (a WAC row is ≈ 200 bytes); blank lines in a row (real files have none:
/// more is padding or damage, not a jobs table).
pub const MAX_LODES_TEXT_BYTES: u64 = 4 << 30;
pub const MAX_LODES_LINE_BYTES: u64 = 64 << 10;
pub const MAX_LODES_BLANK_LINES_IN_A_ROW: u64 = 10_000;

/// Widths (ft) of the facilities a scenario builds (`scenario::Facility`): typical design
/// widths, all above `MIN_LOW_STRESS_LANE_WIDTH_FT`.
pub const SCENARIO_BIKE_LANE_WIDTH_FT: f64 = 5.0;
pub const SCENARIO_BUFFERED_LANE_WIDTH_FT: f64 = 7.0;
pub const SCENARIO_TRACK_WIDTH_FT: f64 = 7.0;
/// Candidates `bna scenario gains` re-scores by default (the best of the cheap prefilter).
pub const SCENARIO_GAINS_DEFAULT_CANDIDATES: usize = 48;
/// Whole-street gain candidates keep only the segments lying within the study boundary ⊕ this
/// distance (m, every vertex): a planner can build inside the study area, and the short
/// buffer keeps a street that runs along the boundary or its connection to the first
/// intersection beyond it. Without it a street stretch could run kilometres through the
/// 2680 m routing buffer, outside the area being studied.
pub const SCENARIO_CORRIDOR_BOUNDARY_BUFFER_M: f64 = 200.0;
