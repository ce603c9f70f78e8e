//! "Get data" in the Inputs panel: `fetch::fetch_inputs` for a US place (name or FIPS) or the
//! run form's boundary, on a background thread, with one progress row per file. On success
//! the run form is filled as `FetchedInputs::request` would fill a request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use eframe::egui::{self, Context, RichText, Ui};

use super::state::{BnaApp, RunForm, Status};
use super::task::TaskShared;
use bna_fetch::{
    self as fetch, Area, FetchError, FetchObserver, FetchRequest, FetchedInputs, Origin,
};

/// How the study area is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaMode {
    PlaceName,
    Fips,
    /// The run form's boundary (loaded or drawn).
    CurrentBoundary,
}

/// The "Get data" form, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchForm {
    pub mode: AreaMode,
    pub place: String,
    /// State of a place name (required) or of the current boundary (optional).
    pub state: String,
    pub fips: String,
    /// Where the files go; empty: `<project>-inputs` beside the project file.
    pub folder: String,
    /// Empty: the latest cached, else the latest published.
    pub lodes_year: String,
    pub offline: bool,
    pub tiger_url: String,
    pub lodes_url: String,
    pub overpass_url: String,
    pub cache_dir: String,
}

impl Default for FetchForm {
    fn default() -> Self {
        let sources = fetch::Sources::default();
        FetchForm {
            mode: AreaMode::PlaceName,
            place: String::new(),
            state: String::new(),
            fips: String::new(),
            folder: String::new(),
            lodes_year: String::new(),
            offline: false,
            tiger_url: sources.tiger,
            lodes_url: sources.lodes,
            overpass_url: sources.overpass,
            // Without HOME the field stays empty and `request` says what to do.
            cache_dir: fetch::default_cache_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }
}

fn trimmed(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// The folder for the fetched files: the one typed, else `<stem>-inputs` beside the project.
pub fn fetch_dir(folder: &str, out: &str) -> Result<PathBuf, String> {
    if let Some(f) = trimmed(folder) {
        return Ok(PathBuf::from(f));
    }
    let out = trimmed(out)
        .map(PathBuf::from)
        .ok_or("choose a folder for the data, or where to save the project (Save as)")?;
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    Ok(out
        .parent()
        .unwrap_or(Path::new(""))
        .join(format!("{stem}-inputs")))
}

impl FetchForm {
    /// The request for this form; `boundary` and `out` are the run form's fields. Only the
    /// form's shape is checked here: place names, states and files are checked by `fetch`,
    /// whose messages name the fix.
    pub fn request(&self, boundary: &str, out: &str) -> Result<FetchRequest, String> {
        let area = match self.mode {
            AreaMode::PlaceName => {
                let name = trimmed(&self.place).ok_or("type the place name, e.g. Burlington")?;
                match trimmed(&self.state) {
                    Some(st) => Area::Place(format!("{name}, {st}")),
                    // "Burlington, VT" typed whole is as good.
                    None if name.contains(',') => Area::Place(name.to_owned()),
                    None => return Err(format!("choose the state of {name}, e.g. VT")),
                }
            }
            AreaMode::Fips => Area::Fips(
                trimmed(&self.fips)
                    .ok_or("type the 7-digit FIPS code (state + place), e.g. 5010675")?
                    .to_owned(),
            ),
            AreaMode::CurrentBoundary => Area::Boundary(
                trimmed(boundary)
                    .map(PathBuf::from)
                    .ok_or("no current boundary: choose or draw one in the run form first")?,
            ),
        };
        let lodes_year = match trimmed(&self.lodes_year) {
            None => None,
            Some(y) => Some(
                y.parse::<u16>()
                    .ok()
                    .filter(|y| (1000..=9999).contains(y))
                    .ok_or_else(|| format!("LODES year \"{y}\": expected a year such as 2021"))?,
            ),
        };
        let url = |v: &str, what: &str| {
            trimmed(v)
                .map(str::to_owned)
                .ok_or_else(|| format!("the {what} URL is empty (Sources and cache)"))
        };
        let cache_dir = trimmed(&self.cache_dir)
            .map(PathBuf::from)
            .ok_or("choose a cache folder (Sources and cache)")?;
        let mut req = FetchRequest::new(area, fetch_dir(&self.folder, out)?, cache_dir);
        req.offline = self.offline;
        req.lodes_year = lodes_year;
        if self.mode == AreaMode::CurrentBoundary {
            req.state = trimmed(&self.state).map(str::to_owned);
        }
        req.sources = fetch::Sources {
            tiger: url(&self.tiger_url, "TIGER")?,
            lodes: url(&self.lodes_url, "LODES")?,
            overpass: url(&self.overpass_url, "Overpass")?,
        };
        Ok(req)
    }
}

/// The run form for fetched inputs: `FetchedInputs::request`, saved to the form's
/// project file, else `project.bna` in the data folder.
pub fn form_for(inputs: &FetchedInputs, current: &RunForm, dir: &Path) -> RunForm {
    let out = trimmed(&current.out)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("project.bna"));
    RunForm::from_request(&inputs.request(out))
}

/// Bytes for people: "812 B", "104.2 kB", "2.4 MB" (decimal units, as downloads show them).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// One file of a fetch, as its progress row shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub what: String,
    /// Bytes on disk (a resumed transfer starts at its offset).
    pub done: u64,
    pub total: Option<u64>,
    /// Where the file came from, once it is ready.
    pub origin: Option<Origin>,
    pub path: Option<PathBuf>,
}

impl FileRow {
    pub fn fraction(&self) -> f32 {
        match (self.origin, self.total) {
            (Some(_), _) => 1.0,
            (None, Some(t)) if t > 0 => (self.done as f64 / t as f64).clamp(0.0, 1.0) as f32,
            _ => 0.0,
        }
    }

    /// "1.2 MB / 2.4 MB" while downloading, then how the file was obtained.
    pub fn status(&self) -> String {
        match (self.origin, self.total) {
            (None, Some(t)) => format!("{} / {}", human_bytes(self.done), human_bytes(t)),
            (None, None) => human_bytes(self.done),
            (Some(Origin::Cache), _) => "cached".into(),
            (Some(Origin::Given), _) => "your file".into(),
            (Some(Origin::Network), _) if self.done > 0 => {
                format!("downloaded {}", human_bytes(self.done))
            }
            // Written from files already fetched (the place's boundary).
            (Some(Origin::Network), _) => "ready".into(),
        }
    }
}

/// What the fetch thread has done so far.
#[derive(Default)]
pub struct FetchLog {
    rows: Vec<FileRow>,
    messages: Vec<String>,
    result: Option<Result<FetchedInputs, FetchError>>,
}

/// State shared between the fetch thread (as its [`FetchObserver`]) and the UI.
pub type FetchShared = TaskShared<FetchLog>;

impl FetchShared {
    pub fn rows(&self) -> Vec<FileRow> {
        self.log().rows.clone()
    }

    pub fn messages(&self) -> Vec<String> {
        self.log().messages.clone()
    }

    fn take_result(&self) -> Option<Result<FetchedInputs, FetchError>> {
        self.log().result.take()
    }

    fn finish(&self, result: Result<FetchedInputs, FetchError>) {
        self.update(|log| log.result = Some(result));
    }
}

impl FetchObserver for FetchShared {
    fn started(&self, what: &str, _url: &str, total: Option<u64>, offset: u64) {
        let mut log = self.log();
        // A resumed transfer continues its own row.
        let row = FileRow {
            what: what.to_owned(),
            done: offset,
            total,
            origin: None,
            path: None,
        };
        match log
            .rows
            .iter_mut()
            .rev()
            .find(|r| r.what == what && r.origin.is_none())
        {
            Some(r) => *r = row,
            None => log.rows.push(row),
        }
        drop(log);
        self.wake();
    }

    fn progress(&self, done: u64) {
        if let Some(r) = self
            .log()
            .rows
            .iter_mut()
            .rev()
            .find(|r| r.origin.is_none())
        {
            r.done = done;
        }
    }

    fn finished(&self, what: &str, path: &Path, origin: Origin) {
        let mut log = self.log();
        match log
            .rows
            .iter_mut()
            .rev()
            .find(|r| r.what == what && r.origin.is_none())
        {
            Some(r) => {
                r.origin = Some(origin);
                r.path = Some(path.to_path_buf());
            }
            None => log.rows.push(FileRow {
                what: what.to_owned(),
                done: 0,
                total: None,
                origin: Some(origin),
                path: Some(path.to_path_buf()),
            }),
        }
        drop(log);
        self.wake();
    }

    fn message(&self, text: &str) {
        self.log().messages.push(text.to_owned());
        self.wake();
    }

    fn is_cancelled(&self) -> bool {
        TaskShared::is_cancelled(self)
    }
}

/// A fetch on its own thread.
pub struct FetchJob {
    pub shared: Arc<FetchShared>,
    pub dir: PathBuf,
    handle: Option<JoinHandle<()>>,
}

impl FetchJob {
    pub fn spawn(req: FetchRequest, repaint: Option<Context>) -> FetchJob {
        let shared = Arc::new(FetchShared::new(FetchLog::default(), repaint));
        let worker = Arc::clone(&shared);
        let dir = req.dir.clone();
        let handle = std::thread::Builder::new()
            .name("bna-fetch".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    fetch::fetch_inputs(&req, worker.as_ref())
                }))
                .unwrap_or_else(|_| {
                    Err(FetchError::Input(
                        "internal error: the fetch stopped unexpectedly".into(),
                    ))
                });
                worker.finish(result);
            });
        let handle = match handle {
            Ok(h) => Some(h),
            Err(e) => {
                shared.finish(Err(FetchError::Input(format!(
                    "cannot start a background thread: {e}"
                ))));
                None
            }
        };
        FetchJob {
            shared,
            dir,
            handle,
        }
    }
}

impl Drop for FetchJob {
    fn drop(&mut self) {
        // Not joined: a transfer stops at its next chunk, and the cache only ever holds
        // complete files (`.part` until verified), so an abandoned thread harms nothing.
        self.shared.cancel();
    }
}

/// How the last fetch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
    Done(String),
    Cancelled,
    Failed(String),
}

/// One line for a successful fetch.
pub fn done_text(inputs: &FetchedInputs, seconds: f64) -> String {
    let mut parts = vec!["boundary".to_owned(), "OpenStreetMap".to_owned()];
    if inputs.blocks.is_some() {
        parts.push("census blocks".into());
    }
    if let Some(y) = inputs.lodes_year {
        parts.push(format!("jobs (LODES {y})"));
    }
    let place = inputs
        .place_name
        .as_deref()
        .map(|p| format!(" for {p}"))
        .unwrap_or_default();
    format!(
        "Inputs ready{place} in {seconds:.1} s: {}; the run form is filled",
        parts.join(", ")
    )
}

/// The "Get data" state of the app.
#[derive(Default)]
pub struct FetchUi {
    pub form: FetchForm,
    job: Option<FetchJob>,
    /// The last finished fetch, kept for its rows.
    last: Option<Arc<FetchShared>>,
    outcome: Option<FetchOutcome>,
}

impl BnaApp {
    pub fn fetch_form(&self) -> &FetchForm {
        &self.fetch.form
    }

    pub fn fetch_form_mut(&mut self) -> &mut FetchForm {
        &mut self.fetch.form
    }

    pub fn is_fetching(&self) -> bool {
        self.fetch.job.is_some()
    }

    pub fn fetch_outcome(&self) -> Option<&FetchOutcome> {
        self.fetch.outcome.as_ref()
    }

    /// The file rows of the running, else the last, fetch.
    pub fn fetch_rows(&self) -> Vec<FileRow> {
        let f = &self.fetch;
        f.job
            .as_ref()
            .map(|j| &j.shared)
            .or(f.last.as_ref())
            .map(|s| s.rows())
            .unwrap_or_default()
    }

    /// Starts a fetch for the form, or shows why it cannot.
    pub fn start_fetch(&mut self, ctx: &Context) {
        if self.fetch.job.is_some() {
            return;
        }
        match self.fetch.form.request(&self.form.boundary, &self.form.out) {
            Ok(req) => {
                self.fetch.outcome = None;
                self.fetch.last = None;
                self.fetch.job = Some(FetchJob::spawn(req, Some(ctx.clone())));
            }
            Err(e) => self.fetch.outcome = Some(FetchOutcome::Failed(e)),
        }
    }

    pub fn cancel_fetch(&mut self) {
        if let Some(j) = &self.fetch.job {
            j.shared.cancel();
        }
    }

    /// Collects a finished fetch: fills the run form on success. Called every frame.
    pub(crate) fn poll_fetch(&mut self, ctx: &Context) {
        let Some(job) = &self.fetch.job else { return };
        let Some(result) = job.shared.take_result() else {
            // Byte counts change without events; refresh them a few times a second.
            ctx.request_repaint_after(Duration::from_millis(100));
            return;
        };
        let mut job = self.fetch.job.take().expect("checked above");
        if let Some(h) = job.handle.take() {
            // The result is the thread's last act, so this returns at once.
            let _ = h.join();
        }
        self.fetch.outcome = Some(match result {
            Ok(inputs) => {
                self.form = form_for(&inputs, &self.form, &job.dir);
                self.run_form_open = true;
                self.status =
                    Status::Done(format!("Fetched the inputs into {}", job.dir.display()));
                FetchOutcome::Done(done_text(
                    &inputs,
                    job.shared.started.elapsed().as_secs_f64(),
                ))
            }
            Err(FetchError::Cancelled) => FetchOutcome::Cancelled,
            Err(e) => FetchOutcome::Failed(e.to_string()),
        });
        self.fetch.last = Some(job.shared.clone());
    }

    /// The "Get data" section at the top of the run form.
    pub(crate) fn fetch_section(&mut self, ui: &mut Ui) {
        egui::CollapsingHeader::new("Get data")
            .default_open(false)
            .show(ui, |ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(
                            "Boundary, OpenStreetMap, census blocks and jobs for a US place or \
                             the current boundary, into a cache shared by all projects.",
                        )
                        .weak(),
                    )
                    .wrap(),
                );
                self.fetch_fields(ui);
                let running = self.fetch.job.is_some();
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(!running, egui::Button::new("Fetch"))
                        .clicked()
                    {
                        self.start_fetch(ui.ctx());
                    }
                    if ui
                        .add_enabled(running, egui::Button::new("Cancel fetch"))
                        .clicked()
                    {
                        self.cancel_fetch();
                    }
                });
                self.fetch_progress(ui);
            });
    }

    fn fetch_fields(&mut self, ui: &mut Ui) {
        let boundary = self.form.boundary.clone();
        let out = self.form.out.clone();
        let f = &mut self.fetch.form;
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut f.mode, AreaMode::PlaceName, "Place name");
            ui.radio_value(&mut f.mode, AreaMode::Fips, "FIPS code");
            ui.radio_value(&mut f.mode, AreaMode::CurrentBoundary, "Current boundary");
        });
        egui::Grid::new("fetch_form")
            .num_columns(2)
            .spacing([6.0, 4.0])
            .show(ui, |ui| {
                match f.mode {
                    AreaMode::PlaceName => {
                        text_row(ui, "Place", &mut f.place, "Burlington");
                        text_row(ui, "State", &mut f.state, "VT");
                    }
                    AreaMode::Fips => {
                        text_row(ui, "FIPS", &mut f.fips, "5010675 (state + place)");
                    }
                    AreaMode::CurrentBoundary => {
                        ui.label("Uses");
                        let shown = trimmed(&boundary).map_or_else(
                            || "no boundary yet: choose or draw one below".to_owned(),
                            str::to_owned,
                        );
                        ui.add(egui::Label::new(RichText::new(shown).weak()).wrap());
                        ui.end_row();
                        text_row(ui, "State", &mut f.state, "optional, for blocks and jobs");
                    }
                }
                let folder_hint = fetch_dir("", &out)
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "a folder for the files".into());
                text_row(ui, "Folder", &mut f.folder, &folder_hint);
                text_row(ui, "LODES year", &mut f.lodes_year, "latest");
            });
        ui.checkbox(&mut f.offline, "Offline (cached files only)")
            .on_hover_text(
                "Never touch the network; a missing file is named with where to put it.",
            );
        egui::CollapsingHeader::new("Sources and cache")
            .default_open(false)
            .show(ui, |ui| {
                egui::Grid::new("fetch_sources")
                    .num_columns(2)
                    .spacing([6.0, 4.0])
                    .show(ui, |ui| {
                        text_row(
                            ui,
                            "TIGER URL",
                            &mut f.tiger_url,
                            fetch::sources::DEFAULT_TIGER_URL,
                        );
                        text_row(
                            ui,
                            "LODES URL",
                            &mut f.lodes_url,
                            fetch::sources::DEFAULT_LODES_URL,
                        );
                        text_row(
                            ui,
                            "Overpass URL",
                            &mut f.overpass_url,
                            fetch::sources::DEFAULT_OVERPASS_URL,
                        );
                        text_row(ui, "Cache folder", &mut f.cache_dir, "~/.cache/bna");
                    });
            });
    }

    fn fetch_progress(&mut self, ui: &mut Ui) {
        let shared = self
            .fetch
            .job
            .as_ref()
            .map(|j| j.shared.clone())
            .or_else(|| self.fetch.last.clone());
        if let Some(s) = &shared {
            let rows = s.rows();
            if !rows.is_empty() {
                egui::Grid::new("fetch_files")
                    .num_columns(3)
                    .spacing([6.0, 3.0])
                    .show(ui, |ui| {
                        for r in &rows {
                            ui.add(egui::Label::new(r.what.as_str()).wrap())
                                .on_hover_text(
                                    r.path
                                        .as_ref()
                                        .map_or_else(String::new, |p| p.display().to_string()),
                                );
                            ui.add(
                                egui::ProgressBar::new(r.fraction())
                                    .desired_width(90.0)
                                    .desired_height(12.0)
                                    .animate(r.origin.is_none() && r.total.is_none()),
                            );
                            ui.label(r.status());
                            ui.end_row();
                        }
                    });
            }
            for m in s.messages() {
                ui.add(egui::Label::new(RichText::new(format!("Note: {m}")).weak()).wrap());
            }
        }
        if self.fetch.job.is_some() {
            let secs = shared.map_or(0.0, |s| s.started.elapsed().as_secs_f64());
            ui.label(format!("Fetching – {secs:.1} s"));
        }
        match &self.fetch.outcome {
            Some(FetchOutcome::Done(text)) => {
                ui.add(
                    egui::Label::new(RichText::new(text).color(super::theme::of(ui).good)).wrap(),
                );
            }
            Some(FetchOutcome::Cancelled) => {
                ui.colored_label(ui.visuals().warn_fg_color, "Fetch cancelled");
            }
            Some(FetchOutcome::Failed(reason)) => {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("Fetch failed: {reason}"))
                            .color(ui.visuals().error_fg_color),
                    )
                    .wrap(),
                );
            }
            None => {}
        }
    }
}

fn text_row(ui: &mut Ui, label: &str, value: &mut String, hint: &str) {
    let name = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .hint_text(hint)
            .desired_width(200.0),
    )
    .labelled_by(name.id);
    ui.end_row();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(mode: AreaMode) -> FetchForm {
        FetchForm {
            mode,
            cache_dir: "/c".into(),
            ..FetchForm::default()
        }
    }

    #[test]
    fn the_area_follows_the_mode() {
        let cases = [
            (
                AreaMode::PlaceName,
                "Burlington",
                "VT",
                "",
                "",
                Ok(Area::Place("Burlington, VT".into())),
            ),
            (
                AreaMode::PlaceName,
                " Burlington, VT ",
                "",
                "",
                "",
                Ok(Area::Place("Burlington, VT".into())),
            ),
            (
                AreaMode::PlaceName,
                "Burlington",
                " ",
                "",
                "",
                Err("choose the state of Burlington"),
            ),
            (
                AreaMode::PlaceName,
                "",
                "VT",
                "",
                "",
                Err("type the place name"),
            ),
            (
                AreaMode::Fips,
                "",
                "",
                " 5010675 ",
                "",
                Ok(Area::Fips("5010675".into())),
            ),
            (
                AreaMode::Fips,
                "Burlington",
                "VT",
                "",
                "",
                Err("7-digit FIPS"),
            ),
            (
                AreaMode::CurrentBoundary,
                "",
                "VT",
                "",
                "/b.geojson",
                Ok(Area::Boundary("/b.geojson".into())),
            ),
            (
                AreaMode::CurrentBoundary,
                "",
                "",
                "",
                "/b.geojson",
                Ok(Area::Boundary("/b.geojson".into())),
            ),
            (
                AreaMode::CurrentBoundary,
                "x",
                "VT",
                "1",
                " ",
                Err("no current boundary"),
            ),
        ];
        for (mode, place, state, fips, boundary, want) in cases {
            let f = FetchForm {
                place: place.into(),
                state: state.into(),
                fips: fips.into(),
                ..form(mode)
            };
            let got = f.request(boundary, "/p/city.bna");
            match (got, want) {
                (Ok(r), Ok(a)) => {
                    assert_eq!(r.area, a, "{mode:?} {place:?}");
                    // The state goes with a boundary only; a place carries its own.
                    let st = (mode == AreaMode::CurrentBoundary).then_some(state.trim());
                    assert_eq!(r.state.as_deref(), st.filter(|s| !s.is_empty()));
                }
                (Err(e), Err(w)) => assert!(e.contains(w), "{e} vs {w}"),
                (got, want) => panic!("{mode:?} {place:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn lodes_year_sources_and_cache_are_checked() {
        let ok = FetchForm {
            fips: "5010675".into(),
            offline: true,
            ..form(AreaMode::Fips)
        };
        let cases = [
            ("no year", ok.clone(), Ok(None)),
            (
                "a year",
                FetchForm {
                    lodes_year: " 2021 ".into(),
                    ..ok.clone()
                },
                Ok(Some(2021)),
            ),
            (
                "not a year",
                FetchForm {
                    lodes_year: "21".into(),
                    ..ok.clone()
                },
                Err("LODES year \"21\""),
            ),
            (
                "text",
                FetchForm {
                    lodes_year: "last".into(),
                    ..ok.clone()
                },
                Err("expected a year"),
            ),
            (
                "no url",
                FetchForm {
                    overpass_url: " ".into(),
                    ..ok.clone()
                },
                Err("Overpass URL is empty"),
            ),
            (
                "no cache",
                FetchForm {
                    cache_dir: "".into(),
                    ..ok.clone()
                },
                Err("cache folder"),
            ),
        ];
        for (name, f, want) in cases {
            match (f.request("", "/p/city.bna"), want) {
                (Ok(r), Ok(y)) => {
                    assert_eq!(r.lodes_year, y, "{name}");
                    assert!(r.offline, "{name}");
                    assert_eq!(r.cache_dir, PathBuf::from("/c"));
                    assert_eq!(r.sources, fetch::Sources::default(), "{name}");
                }
                (Err(e), Err(w)) => assert!(e.contains(w), "{name}: {e}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_data_folder_defaults_beside_the_project() {
        let cases = [
            ("/data/x", "/p/city.bna", Ok("/data/x")),
            ("", "/p/city.bna", Ok("/p/city-inputs")),
            (" ", "/p/city", Ok("/p/city-inputs")),
            ("", "city.bna", Ok("city-inputs")),
            ("", "", Err("choose a folder")),
        ];
        for (folder, out, want) in cases {
            match (fetch_dir(folder, out), want) {
                (Ok(d), Ok(w)) => assert_eq!(d, PathBuf::from(w), "{folder:?} {out:?}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{e}"),
                (got, want) => panic!("{folder:?} {out:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn fetched_inputs_fill_the_run_form_as_from_fetched() {
        let inputs = FetchedInputs {
            boundary: "/d/boundary.geojson".into(),
            osm: "/d/osm.xml".into(),
            blocks: Some("/d/tl_2020_50_tabblock20.zip".into()),
            jobs: Some("/d/vt_wac.csv.gz".into()),
            state_fips: Some("50".into()),
            city_fips: Some("5010675".into()),
            place_name: Some("Burlington city".into()),
            lodes_year: Some(2021),
        };
        let typed = RunForm {
            out: "/p/city.bna".into(),
            population: super::super::state::PopulationMode::Synthetic,
            blocks: "/old/blocks.zip".into(),
            ..RunForm::default()
        };
        let f = form_for(&inputs, &typed, Path::new("/d"));
        let req = f.request().expect("complete");
        let want = inputs.request("/p/city.bna".into());
        assert_eq!(format!("{req:?}"), format!("{want:?}"));
        // No project chosen yet: it goes with the data.
        let f = form_for(&inputs, &RunForm::default(), Path::new("/d"));
        assert_eq!(f.out, "/d/project.bna");
        // Without a state, blocks and jobs are cleared rather than left from before.
        let osm_only = FetchedInputs {
            blocks: None,
            jobs: None,
            state_fips: None,
            city_fips: None,
            ..inputs
        };
        let f = form_for(&osm_only, &typed, Path::new("/d"));
        assert_eq!((f.blocks.as_str(), f.jobs.as_str()), ("", ""));
        assert_eq!((f.state_fips.as_str(), f.city_fips.as_str()), ("", ""));
    }

    #[test]
    fn rows_show_bytes_and_origin() {
        let row = |done, total, origin| FileRow {
            what: "x".into(),
            done,
            total,
            origin,
            path: None,
        };
        let cases = [
            (row(0, Some(2_398_904), None), 0.0, "0 B / 2.4 MB"),
            (
                row(1_199_452, Some(2_398_904), None),
                0.5,
                "1.2 MB / 2.4 MB",
            ),
            (row(350_000, None, None), 0.0, "350.0 kB"),
            (
                row(2_398_904, Some(2_398_904), Some(Origin::Network)),
                1.0,
                "downloaded 2.4 MB",
            ),
            (row(0, None, Some(Origin::Cache)), 1.0, "cached"),
            (row(0, None, Some(Origin::Given)), 1.0, "your file"),
            (row(0, None, Some(Origin::Network)), 1.0, "ready"),
        ];
        for (r, fraction, status) in cases {
            assert_eq!(r.status(), status);
            assert!((r.fraction() - fraction).abs() < 1e-6, "{r:?}");
        }
        for (n, s) in [
            (0, "0 B"),
            (999, "999 B"),
            (1000, "1.0 kB"),
            (106_357, "106.4 kB"),
            (999_999, "1.0 MB"),
            (5_000_000_000, "5.0 GB"),
        ] {
            assert_eq!(human_bytes(n), s, "{n}");
        }
    }

    #[test]
    fn observer_rows_follow_transfers_resumes_and_cache_hits() {
        let s = FetchShared::new(FetchLog::default(), None);
        s.finished("boundary", Path::new("/b"), Origin::Given);
        s.started("blocks", "u", Some(100), 0);
        s.progress(40);
        // The transfer broke and resumes at 40: the same row.
        s.started("blocks", "u", Some(100), 40);
        s.progress(100);
        s.finished("blocks", Path::new("/c/blocks"), Origin::Network);
        s.finished("jobs", Path::new("/c/jobs"), Origin::Cache);
        let rows = s.rows();
        let seen: Vec<(&str, String)> =
            rows.iter().map(|r| (r.what.as_str(), r.status())).collect();
        assert_eq!(
            seen,
            [
                ("boundary", "your file".to_owned()),
                ("blocks", "downloaded 100 B".to_owned()),
                ("jobs", "cached".to_owned())
            ]
        );
        assert_eq!(rows[1].path.as_deref(), Some(Path::new("/c/blocks")));
        assert!(!s.is_cancelled());
        s.cancel();
        assert!(s.is_cancelled());
    }

    #[test]
    fn done_text_lists_what_was_fetched() {
        let mut i = FetchedInputs {
            boundary: "b".into(),
            osm: "o".into(),
            blocks: Some("x".into()),
            jobs: Some("j".into()),
            state_fips: Some("50".into()),
            city_fips: None,
            place_name: Some("Essex town".into()),
            lodes_year: Some(2021),
        };
        assert_eq!(
            done_text(&i, 1.26),
            "Inputs ready for Essex town in 1.3 s: boundary, OpenStreetMap, census blocks, \
             jobs (LODES 2021); the run form is filled"
        );
        i.blocks = None;
        i.lodes_year = None;
        i.place_name = None;
        assert_eq!(
            done_text(&i, 0.0),
            "Inputs ready in 0.0 s: boundary, OpenStreetMap; the run form is filled"
        );
    }
}
