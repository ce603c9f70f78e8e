//! `bna fetch`: the inputs of an analysis for a US place or a boundary, with progress bars.

use super::out::{errln, outln};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bna_fetch::{self as fetch, Area, FetchObserver, FetchRequest, Origin, Sources};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("area").required(true).args(["place", "fips", "boundary"])))]
pub struct FetchArgs {
    /// A US place by name and state, e.g. "Burlington, VT".
    #[arg(long)]
    place: Option<String>,
    /// A US place by 7-digit FIPS (state + place), e.g. 5010675.
    #[arg(long)]
    fips: Option<String>,
    /// Your own boundary (GeoJSON or Shapefile); add --state for US census blocks and jobs.
    #[arg(long)]
    boundary: Option<PathBuf>,
    /// US state of --boundary (FIPS, abbreviation or name), for blocks and jobs.
    #[arg(long, requires = "boundary")]
    state: Option<String>,
    /// Folder for the boundary, the fetched files and inputs.json.
    #[arg(long)]
    dir: PathBuf,
    /// Use only cached or given files; never touch the network.
    #[arg(long)]
    offline: bool,
    /// LODES year (default: the latest cached, else the latest published).
    #[arg(long)]
    lodes_year: Option<u16>,
    /// An OSM extract you already have (.osm.pbf or OSM XML) instead of the Overpass query.
    #[arg(long)]
    osm: Option<PathBuf>,
    /// Shared download cache (default: $BNA_CACHE_DIR, else ~/.cache/bna).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// TIGER/Line 2020 base URL.
    #[arg(long, default_value = fetch::sources::DEFAULT_TIGER_URL)]
    base_url_tiger: String,
    /// LODES 8 base URL.
    #[arg(long, default_value = fetch::sources::DEFAULT_LODES_URL)]
    base_url_lodes: String,
    /// Overpass API interpreter URL.
    #[arg(long, default_value = fetch::sources::DEFAULT_OVERPASS_URL)]
    base_url_overpass: String,
    /// Replace files in --dir that bna did not write (a symbolic link is replaced itself,
    /// never written through).
    #[arg(long)]
    force: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: FetchArgs) -> anyhow::Result<()> {
    let area = match (a.place, a.fips, a.boundary) {
        (Some(p), _, _) => Area::Place(p),
        (_, Some(f), _) => Area::Fips(f),
        (_, _, Some(b)) => Area::Boundary(b),
        _ => unreachable!("clap requires one of --place, --fips, --boundary"),
    };
    let cache_dir = match a.cache_dir {
        Some(d) => d,
        None => fetch::default_cache_dir()?,
    };
    let req = FetchRequest {
        area,
        dir: a.dir.clone(),
        cache_dir,
        offline: a.offline,
        lodes_year: a.lodes_year,
        state: a.state,
        osm: a.osm,
        sources: Sources {
            tiger: a.base_url_tiger,
            lodes: a.base_url_lodes,
            overpass: a.base_url_overpass,
        },
        timeouts: fetch::Timeouts::from_env(),
        force: a.force,
    };
    let obs = Bars::new(a.quiet);
    let got = fetch::fetch_inputs(&req, &obs)?;
    if let Some(name) = &got.place_name {
        outln!("place     {name}");
    }
    outln!("boundary  {}", got.boundary.display());
    outln!("osm       {}", got.osm.display());
    if let Some(b) = &got.blocks {
        outln!("blocks    {}", b.display());
    }
    if let Some(j) = &got.jobs {
        outln!("jobs      {}", j.display());
    }
    let mut cmd = format!(
        "bna analyze --boundary {} --osm {}",
        q(&got.boundary),
        q(&got.osm)
    );
    if let (Some(b), Some(j)) = (&got.blocks, &got.jobs) {
        cmd += &format!(" --blocks {} --jobs {}", q(b), q(j));
    }
    if let Some(c) = &got.city_fips {
        cmd += &format!(" --city-fips {c}");
    }
    if let Some(s) = &got.state_fips {
        cmd += &format!(" --state-fips {s}");
    }
    cmd += &format!(" --out {}", q(&a.dir.join("project.bna")));
    outln!("next: {cmd}");
    Ok(())
}

/// Quotes a path for the shell when it needs it.
fn q(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One byte-count bar per transfer, and a line per file taken from the cache.
struct Bars {
    multi: MultiProgress,
    current: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl Bars {
    fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            current: Mutex::new(None),
            quiet,
        }
    }

    /// A line on stderr above the bars (also when stderr is not a terminal, where indicatif
    /// draws nothing).
    fn line(&self, text: String) {
        if !self.quiet {
            self.multi.suspend(|| errln!("{text}"));
        }
    }
}

impl FetchObserver for Bars {
    fn started(&self, what: &str, _url: &str, total: Option<u64>, offset: u64) {
        let style = ProgressStyle::with_template(
            "{msg:40!} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = match total {
            Some(t) => ProgressBar::new(t).with_style(style),
            // Overpass streams without a length: a spinner with the byte count.
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{msg:40!} {spinner} {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let bar = self.multi.add(bar.with_message(what.to_owned()));
        bar.set_position(offset);
        if let Ok(mut c) = self.current.lock() {
            if let Some(old) = c.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn progress(&self, done: u64) {
        if let Some(b) = self.current.lock().ok().and_then(|c| c.clone()) {
            b.set_position(done);
        }
    }

    fn finished(&self, what: &str, path: &Path, origin: Origin) {
        if let Ok(mut c) = self.current.lock() {
            if let Some(b) = c.take() {
                b.finish_and_clear();
            }
        }
        let how = match origin {
            Origin::Cache => "cached",
            Origin::Network => "downloaded",
            Origin::Given => "given",
        };
        self.line(format!("{how:>10}  {what}: {}", path.display()));
    }

    fn message(&self, text: &str) {
        self.line(format!("      note  {text}"));
    }
}
