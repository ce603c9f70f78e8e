//! Argument parsing and dispatch. This is an edge of the program: errors become one line on
//! stderr and an exit code (2 = bad input, 1 = other failure, 130 = cancelled).

mod batch;
mod bench;
mod compare;
mod console;
mod fetch;
mod observer;
mod out;
mod scenario;
mod table;

use std::path::{Path, PathBuf};

use anyhow::Context;
use bna_engine::pipeline::{self, AnalysisRequest, OsmClip, PipelineError, PopulationChoice};
use bna_engine::store::{self, ExportFormat, Overwrite, Project, StoreError};
use clap::{Parser, Subcommand, ValueEnum};
use out::{errln, out, outln};

#[derive(Parser)]
#[command(
    name = "bna",
    version,
    about = "Bicycle Network Analysis (PeopleForBikes BNA) in seconds"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the full BNA on a boundary and an OSM extract into a .bna project.
    Analyze(AnalyzeArgs),
    /// Print the scores of a .bna project.
    Scores {
        project: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Write the BNA output set of a project (reference table names and columns).
    Export {
        project: PathBuf,
        #[arg(long, value_enum)]
        format: Format,
        #[arg(long)]
        dir: PathBuf,
        /// Replace files in the way that bna did not write (never the project itself).
        #[arg(long)]
        force: bool,
    },
    /// Open a .bna project in the desktop app (no arguments at all opens the demo city).
    Open { project: PathBuf },
    /// Analyse a bundled demo city and print its scores.
    Demo {
        #[arg(long, value_enum, default_value = "dc")]
        city: DemoCity,
        /// Where to write the project (default: a temporary folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Get the inputs for a US place or a boundary: boundary, OSM, census blocks, LODES jobs.
    Fetch(fetch::FetchArgs),
    /// Time the analysis stage by stage (medians) and its peak memory on the bundled cases.
    Bench(bench::BenchArgs),
    /// Offload analyses to AWS Batch (or run them locally through the same worker path).
    #[command(subcommand)]
    Batch(batch::BatchCommand),
    /// The AWS Batch worker: bundle in, progress.json + result.bna + exports out. Exit 2 =
    /// bad input (not retried), 75 = transient (retried).
    Worker(batch::WorkerArgs),
    /// What-if scenarios: apply edits, compare, rank upgrades, write a report.
    Scenario(scenario::ScenarioArgs),
    /// Compare two analyses: two .bna projects, or a project and the reference BNA's export.
    Compare(compare::CompareArgs),
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Boundary polygon: GeoJSON, Shapefile (.shp) or a zipped Shapefile. Required (but
    /// `bna batch submit --place/--fips` downloads it).
    #[arg(long)]
    boundary: Option<PathBuf>,
    /// OpenStreetMap extract (.osm.pbf, or OSM XML) covering the boundary (plus 2680 m with
    /// `--osm-clip buffer`). Required (but
    /// `bna batch submit --place/--fips/--state` downloads it).
    #[arg(long)]
    osm: Option<PathBuf>,
    /// Census blocks: TIGER tabblock20/tabblock10 (.zip/.shp) or GeoJSON with GEOID and population.
    #[arg(long)]
    blocks: Option<PathBuf>,
    /// LODES WAC or OD file (.csv or .csv.gz), joined to blocks by GEOID.
    #[arg(long)]
    jobs: Option<PathBuf>,
    /// Population source; default: census when --blocks is given, synthetic otherwise.
    #[arg(long, value_enum)]
    population: Option<Population>,
    /// 7-digit place FIPS (state + place) for the city residential speed default.
    #[arg(long)]
    city_fips: Option<String>,
    /// 2-digit state FIPS for the state residential speed default (default: from block GEOIDs).
    #[arg(long)]
    state_fips: Option<String>,
    /// Residential default speed in mph, overriding the city and state tables.
    #[arg(long)]
    residential_speed: Option<u32>,
    /// What the network is cut to: `boundary` = the reference BNA's cut (boundary polygon, then
    /// the census blocks' bounding box; its numbers exactly), `buffer` = legacy PFB (every
    /// road within 2680 m of the boundary).
    #[arg(long, value_enum, default_value_t = Clip::Boundary)]
    osm_clip: Clip,
    /// The .bna project to write (created or updated).
    #[arg(long)]
    out: PathBuf,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Clip {
    Boundary,
    Buffer,
}

impl From<Clip> for OsmClip {
    fn from(c: Clip) -> Self {
        match c {
            Clip::Boundary => OsmClip::Boundary,
            Clip::Buffer => OsmClip::Buffer,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Population {
    Census,
    Synthetic,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Geojson,
    Shapefile,
    Csv,
    Gpkg,
    /// Vector tiles (MVT) of roads and blocks in one .mbtiles file.
    Mbtiles,
    /// A static web page (index.html) with the map and the score table.
    Web,
}

#[derive(Clone, Copy, ValueEnum)]
enum DemoCity {
    /// Washington DC, Columbia Heights (US mode: TIGER blocks, LODES jobs).
    Dc,
    /// Helsinki centre (international mode: synthetic population).
    Helsinki,
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Analyze(a)) => analyze(a),
        Some(Command::Scores { project, json }) => scores(&project, json),
        Some(Command::Export {
            project,
            format,
            dir,
            force,
        }) => export(&project, format, &dir, overwrite(force)),
        Some(Command::Open { project }) => open_project(&project),
        Some(Command::Demo { city, out }) => demo(city, out),
        Some(Command::Bench(a)) => bench::run(a),
        Some(Command::Fetch(a)) => fetch::run(a),
        Some(Command::Batch(c)) => batch::run(c),
        Some(Command::Worker(a)) => return batch::worker(a),
        Some(Command::Scenario(a)) => scenario::run(a),
        Some(Command::Compare(a)) => compare::run(a),
        // With a display, no arguments opens the desktop app; headless, it runs the demo.
        None if bna_app::display_available() => open_app(),
        None => demo(DemoCity::Dc, None),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            let code = match e.downcast_ref::<PipelineError>() {
                Some(PipelineError::Cancelled) => 130,
                Some(p) if p.is_bad_input() => 2,
                _ if e
                    .downcast_ref::<bna_fetch::FetchError>()
                    .is_some_and(|f| f.is_bad_input()) =>
                {
                    2
                }
                _ if e
                    .downcast_ref::<bna_cloud::CloudError>()
                    .is_some_and(|c| c.is_bad_input()) =>
                {
                    2
                }
                _ if e
                    .downcast_ref::<StoreError>()
                    .is_some_and(|s| s.is_bad_input()) =>
                {
                    2
                }
                _ if e
                    .downcast_ref::<bna_engine::compare::CompareError>()
                    .is_some_and(|c| c.is_bad_input()) =>
                {
                    2
                }
                _ => match e.downcast_ref::<bna_engine::scenario::ScenarioError>() {
                    Some(s) if s.is_cancelled() => 130,
                    Some(s) if s.is_bad_input() => 2,
                    Some(bna_engine::scenario::ScenarioError::Store(s)) if s.is_bad_input() => 2,
                    _ => 1,
                },
            };
            errln!("error: {}", error_line(&e));
            code
        }
    }
}

impl AnalyzeArgs {
    fn parameters(&self) -> bna_cloud::bundle::BundleParameters {
        bna_cloud::bundle::BundleParameters {
            population: self.population.map(|p| match p {
                Population::Census => PopulationChoice::Census,
                Population::Synthetic => PopulationChoice::Synthetic,
            }),
            city_fips: self.city_fips.clone(),
            state_fips: self.state_fips.clone(),
            residential_speed: self.residential_speed,
            osm_clip: Some(self.osm_clip.into()),
        }
    }

    /// Optional in the struct only so that `batch submit` can download them instead.
    fn to_request(&self) -> anyhow::Result<AnalysisRequest> {
        let need = |p: &Option<PathBuf>, flag: &str| {
            p.clone().ok_or_else(|| {
                bna_cloud::CloudError::BadInput(format!(
                    "--{flag} is required; give the file (or, with `bna batch submit`, --place or --fips to download the inputs)"
                ))
            })
        };
        Ok(AnalysisRequest {
            boundary: need(&self.boundary, "boundary")?,
            osm: need(&self.osm, "osm")?,
            blocks: self.blocks.clone(),
            jobs: self.jobs.clone(),
            population: self.population.map(|p| match p {
                Population::Census => PopulationChoice::Census,
                Population::Synthetic => PopulationChoice::Synthetic,
            }),
            city_fips: self.city_fips.clone(),
            state_fips: self.state_fips.clone(),
            residential_speed: self.residential_speed,
            osm_clip: self.osm_clip.into(),
            out: self.out.clone(),
        })
    }
}

fn analyze(a: AnalyzeArgs) -> anyhow::Result<()> {
    run_and_print(&a.to_request()?, a.quiet)
}

fn run_and_print(req: &AnalysisRequest, quiet: bool) -> anyhow::Result<()> {
    let obs = observer::CliObserver::new(quiet);
    let outcome = pipeline::run(req, &obs)?;
    for w in &outcome.warnings {
        errln!("warning: {w}");
    }
    out!(
        "{}",
        table::score_table(
            &req.out,
            &outcome.data.overall_scores,
            &outcome.data.metadata
        )
    );
    outln!(
        "{}",
        table::timing_line(&outcome.data.metadata.stage_timings)
    );
    Ok(())
}

fn scores(project: &Path, json: bool) -> anyhow::Result<()> {
    let p = open_existing(project)?;
    let rows = p.overall_scores()?;
    let meta = p.metadata()?.with_context(|| {
        format!(
            "{}: the project has no results yet; run `bna analyze` first",
            project.display()
        )
    })?;
    if json {
        let v = serde_json::json!({ "project": project, "overall_scores": rows, "metadata": meta });
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        out!("{}", table::score_table(project, &rows, &meta));
    }
    Ok(())
}

/// `--force`: replace files in the way that bna did not write.
fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::AnyFile
    } else {
        Overwrite::OnlyOurs
    }
}

fn export(project: &Path, format: Format, dir: &Path, overwrite: Overwrite) -> anyhow::Result<()> {
    let p = open_existing(project)?;
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) && !dir.is_dir() {
        return Err(PipelineError::Input(format!(
            "{}: --dir is not a folder; give a folder for the export (it is created when missing)",
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the export folder", dir.display()))?;
    let format = match format {
        Format::Geojson => ExportFormat::GeoJson,
        Format::Shapefile => ExportFormat::Shapefile,
        Format::Csv => ExportFormat::Csv,
        Format::Gpkg => ExportFormat::Gpkg,
        Format::Mbtiles => ExportFormat::MbTiles,
        Format::Web => ExportFormat::Web,
    };
    for f in store::export_with(&p, format, dir, overwrite)? {
        outln!("{}", f.display());
    }
    Ok(())
}

/// A missing project is the user's mistake (exit 2, like every other command's), and is never
/// created by reading it.
fn open_existing(project: &Path) -> anyhow::Result<Project> {
    Ok(Project::open(project)?)
}

/// Where the bundled demo data lives: `BNA_DATA_DIR`, shipped with the binary
/// ([`SHIPPED_DATA`]), or the source checkout. When none exists, where this platform's
/// package puts it, so that the error names the folder to restore.
fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BNA_DATA_DIR") {
        return PathBuf::from(d);
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    let shipped: Vec<PathBuf> = exe_dir
        .iter()
        .flat_map(|dir| SHIPPED_DATA.iter().map(move |rel| dir.join(rel)))
        .collect();
    // A cross-built binary carries the build machine's path, which means nothing here (on
    // Windows "/work/…" is not absolute: it would name a folder on the current drive).
    let checkout = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    if let Some(found) = shipped
        .iter()
        .chain(Some(&checkout).filter(|p| p.is_absolute()))
        .find(|p| p.is_dir())
    {
        return found.clone();
    }
    let packaged = if cfg!(windows) {
        0
    } else if cfg!(target_os = "macos") {
        2
    } else {
        1
    };
    shipped.get(packaged).cloned().unwrap_or(checkout)
}

/// The demo data's place relative to the binary's folder: `data` beside `bna.exe` (the Windows
/// zip and installer), `../share/bna/data` (the .deb's `/usr/bin` → `/usr/share/bna/data`),
/// `../Resources/data` (the macOS app's `Contents/MacOS` → `Contents/Resources/data`).
const SHIPPED_DATA: [&str; 3] = ["data", "../share/bna/data", "../Resources/data"];

fn demo_request(city: DemoCity, out: PathBuf) -> AnalysisRequest {
    let city = match city {
        DemoCity::Dc => pipeline::demo::DemoCity::Dc,
        DemoCity::Helsinki => pipeline::demo::DemoCity::Helsinki,
    };
    pipeline::demo::request(city, &data_dir(), out)
}

fn open_app() -> anyhow::Result<()> {
    console::release_own_console();
    Ok(bna_app::run(bna_app::AppOptions::for_user(data_dir()))?)
}

fn open_project(project: &Path) -> anyhow::Result<()> {
    // Checked here so that a typo fails in the terminal, not in a window that opens empty.
    if !project.is_file() {
        anyhow::bail!("{}: no such project file", project.display());
    }
    if !bna_app::display_available() {
        anyhow::bail!(
            "{}: no display to open the app on; `bna scores {}` prints its scores",
            project.display(),
            project.display()
        );
    }
    let mut opts = bna_app::AppOptions::for_user(data_dir());
    opts.open = Some(project.to_path_buf());
    console::release_own_console();
    Ok(bna_app::run(opts)?)
}

fn demo(city: DemoCity, out: Option<PathBuf>) -> anyhow::Result<()> {
    let tmp;
    let out = match out {
        Some(o) => o,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().join("demo.bna")
        }
    };
    run_and_print(&demo_request(city, out), false)
}

/// The error and its causes as one line. A message that already quotes its cause (most of
/// ours: "cannot write X: No space left on device; free some space") is not followed by the
/// cause again, nor by the library details under it.
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            break;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_names_each_cause_once() {
        let io = || std::io::Error::from_raw_os_error(28);
        let quoted = anyhow::Error::new(StoreError::Io {
            path: "out/a.csv".into(),
            source: io(),
        });
        let line = error_line(&quoted);
        assert_eq!(line.matches("No space left").count(), 1, "{line}");
        assert!(line.starts_with("cannot write out/a.csv"), "{line}");
        let context = anyhow::Error::new(io()).context("x.json: cannot read the edits file");
        let line = error_line(&context);
        assert!(
            line.starts_with("x.json: cannot read the edits file: No space left"),
            "{line}"
        );
    }
}
