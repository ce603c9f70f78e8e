//! Choosing a file or folder. The system dialog (rfd: the xdg-desktop-portal, which falls back
//! to zenity) when one can open; otherwise an in-app path prompt that says why. rfd answers
//! "no choice" both when the user cancels and when no dialog could open, so the app checks
//! beforehand whether a dialog service exists, and treats a dialog that closes at once as one
//! that never opened: a File menu entry never silently does nothing.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eframe::egui::{self, Context, RichText};

use super::jobs::JobKind;
use super::state::{BnaApp, Status};
use bna_engine::store::ExportFormat;

/// A text field of the run form that a chosen path fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    Boundary,
    Osm,
    Blocks,
    Jobs,
    Out,
}

/// What a chosen path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathUse {
    OpenProject,
    SaveProjectAs,
    /// Where "New analysis" saves its project.
    NewProject,
    FormField(FormField),
    Export(ExportFormat),
    ScenarioReport,
    /// The map view as a PNG.
    MapPicture,
    /// The one-page council summary (HTML and its map picture).
    CouncilSummary,
    /// Another analysis to compare the open project with (`compare_ui`).
    CompareWith,
}

/// The kind of choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// An existing file.
    File,
    /// A file to write, which may not exist yet.
    Save,
    /// An existing folder.
    Folder,
}

/// One request for a path, as the system dialog and the in-app prompt both need it.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRequest {
    pub purpose: PathUse,
    pub pick: Pick,
    pub title: String,
    /// Filter name and extensions (without dots).
    pub filter: Option<(String, Vec<String>)>,
    /// Proposed file name of a save.
    pub file_name: Option<String>,
}

impl PathRequest {
    pub fn new(purpose: PathUse, pick: Pick, title: &str) -> PathRequest {
        PathRequest {
            purpose,
            pick,
            title: title.to_owned(),
            filter: None,
            file_name: None,
        }
    }

    pub fn filter(mut self, name: &str, extensions: &[&str]) -> PathRequest {
        let exts = extensions.iter().map(|e| (*e).to_owned()).collect();
        self.filter = Some((name.to_owned(), exts));
        self
    }

    pub fn file_name(mut self, name: &str) -> PathRequest {
        self.file_name = Some(name.to_owned());
        self
    }
}

/// Whether the system file dialog can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemDialog {
    Available,
    /// Why not, in one sentence.
    Unavailable(String),
}

/// A dialog closing sooner than this without a choice never showed: no one cancels that fast.
const CLOSED_AT_ONCE: Duration = Duration::from_millis(150);

/// How long the portal may take to start (D-Bus activation) before it counts as missing.
const PORTAL_TIMEOUT_MS: u32 = 3000;

/// Whether the system dialog can open, checked once per run on a thread (starting the portal
/// can take a moment), so the first File menu click does not wait for it.
#[derive(Debug, Default)]
pub enum Probe {
    #[default]
    NotStarted,
    Running(JoinHandle<SystemDialog>),
    Known(SystemDialog),
}

impl Probe {
    pub fn start(&mut self) {
        if matches!(self, Probe::NotStarted) {
            *self = Probe::Running(std::thread::spawn(probe_system_dialog));
        }
    }

    /// The answer, waiting for the check if it is still running.
    pub fn answer(&mut self) -> SystemDialog {
        self.start();
        if let Probe::Running(_) = self {
            let Probe::Running(handle) = std::mem::take(self) else {
                unreachable!("matched above");
            };
            *self = Probe::Known(handle.join().unwrap_or_else(|_| {
                SystemDialog::Unavailable("checking for a file dialog service failed".into())
            }));
        }
        match self {
            Probe::Known(s) => s.clone(),
            _ => unreachable!("set above"),
        }
    }
}

/// Linux and the BSDs: the portal answers on the session bus, or zenity is installed (rfd's
/// fallback). Elsewhere the platform's own dialog always exists. Without dbus-send to ask,
/// the dialog is tried, and one that closes at once still brings up the prompt.
fn probe_system_dialog() -> SystemDialog {
    if !cfg!(all(unix, not(target_os = "macos")))
        || on_path("zenity")
        || portal_file_chooser() != Some(false)
    {
        return SystemDialog::Available;
    }
    SystemDialog::Unavailable(
        "No system file dialog is available (no xdg-desktop-portal answers and zenity is not \
         installed), so type the path here."
            .into(),
    )
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Asks the portal for its FileChooser interface's version: it answers only when the portal
/// and a backend that draws dialogs are installed (it is started on demand if needed).
/// `None` when dbus-send cannot be run.
fn portal_file_chooser() -> Option<bool> {
    std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            &format!("--reply-timeout={PORTAL_TIMEOUT_MS}"),
            "--dest=org.freedesktop.portal.Desktop",
            "/org/freedesktop/portal/desktop",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.portal.FileChooser",
            "string:version",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()
        .map(|s| s.success())
}

/// What the system dialog did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemOutcome {
    Chosen(PathBuf),
    Cancelled,
    /// It closed at once without a choice: it never showed.
    Failed,
}

/// Runs the system dialog (blocking, like every native dialog).
pub fn run_system_dialog(req: &PathRequest) -> SystemOutcome {
    let mut d = rfd::FileDialog::new().set_title(&req.title);
    if let Some((name, exts)) = &req.filter {
        d = d.add_filter(name, exts);
    }
    if let Some(n) = &req.file_name {
        d = d.set_file_name(n);
    }
    let t0 = Instant::now();
    let chosen = match req.pick {
        Pick::File => d.pick_file(),
        Pick::Save => d.save_file(),
        Pick::Folder => d.pick_folder(),
    };
    match chosen {
        Some(p) => SystemOutcome::Chosen(p),
        None if t0.elapsed() < CLOSED_AT_ONCE => SystemOutcome::Failed,
        None => SystemOutcome::Cancelled,
    }
}

/// The in-app replacement of the system dialog: a path typed into a text field.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPrompt {
    pub request: PathRequest,
    pub text: String,
    /// Why the system dialog is not used.
    pub why: String,
    /// Why the last path typed was refused.
    pub error: Option<String>,
    focused: bool,
}

/// What the prompt's frame decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptOutcome {
    Open,
    Chosen(PathBuf),
    Cancelled,
}

/// The label of the prompt's text field (the UI tests type into it).
pub const PATH_FIELD: &str = "Path";

impl PathPrompt {
    /// Starts in the current folder, with the proposed file name of a save.
    pub fn new(request: PathRequest, why: String) -> PathPrompt {
        let dir = std::env::current_dir().unwrap_or_default();
        let start = match (&request.pick, &request.file_name) {
            (Pick::Save, Some(n)) => dir.join(n),
            _ => dir,
        };
        let mut text = start.display().to_string();
        if request.pick == Pick::Folder || request.file_name.is_none() {
            text.push(std::path::MAIN_SEPARATOR);
        }
        PathPrompt {
            request,
            text,
            why,
            error: None,
            focused: false,
        }
    }

    /// The typed path if it fits the request, else one sentence saying why not.
    pub fn check(&self) -> Result<PathBuf, String> {
        let path = expand_home(self.text.trim());
        if path.as_os_str().is_empty() {
            return Err("Type a path.".into());
        }
        let shown = path.display();
        match self.request.pick {
            Pick::File if path.is_file() => Ok(path),
            Pick::File => Err(format!("There is no file at {shown}.")),
            Pick::Folder if path.is_dir() => Ok(path),
            Pick::Folder => Err(format!("There is no folder at {shown}.")),
            Pick::Save if path.is_dir() => {
                Err(format!("{shown} is a folder; add a file name to the path."))
            }
            Pick::Save => match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(dir) if !dir.is_dir() => Err(format!("There is no folder {}.", dir.display())),
                _ => Ok(path),
            },
        }
    }

    /// Draws the prompt as a window; Enter confirms.
    pub fn show(&mut self, ctx: &Context) -> PromptOutcome {
        let mut outcome = PromptOutcome::Open;
        let mut open = true;
        let action = match self.request.pick {
            Pick::File => "Open",
            Pick::Save => "Save",
            Pick::Folder => "Choose",
        };
        egui::Window::new(self.request.title.as_str())
            .id(egui::Id::unique("path_prompt"))
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .default_width(520.0)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.add(
                    egui::Label::new(RichText::new(&self.why).color(ui.visuals().warn_fg_color))
                        .wrap(),
                );
                if let Some((name, exts)) = &self.request.filter {
                    ui.weak(format!("{name}: .{}", exts.join(", .")));
                }
                let field = ui.horizontal(|ui| {
                    let name = ui.label(PATH_FIELD);
                    ui.add(egui::TextEdit::singleline(&mut self.text).desired_width(440.0))
                        .labelled_by(name.id)
                });
                let field = field.inner;
                if !self.focused {
                    field.request_focus();
                    self.focused = true;
                }
                if let Some(e) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    if ui.button(action).clicked() || enter {
                        match self.check() {
                            Ok(p) => outcome = PromptOutcome::Chosen(p),
                            Err(e) => self.error = Some(e),
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        outcome = PromptOutcome::Cancelled;
                    }
                });
            });
        // Esc is the app's (`keys`): it closes this prompt before anything else.
        if !open {
            outcome = PromptOutcome::Cancelled;
        }
        outcome
    }
}

/// The app's side: whether the system dialog can open, and the prompt open now.
#[derive(Debug, Default)]
pub struct FileDialogs {
    pub(crate) system: Probe,
    pub(crate) prompt: Option<PathPrompt>,
}

/// Said when rfd returned at once: the portal failed and so did its zenity fallback.
const CLOSED_AT_ONCE_TEXT: &str =
    "The system file dialog closed at once without showing, so type the path here.";

impl BnaApp {
    /// Every choice goes through the in-app prompt, saying `why` (tests; no desktop).
    pub fn use_in_app_file_dialogs(&mut self, why: &str) {
        self.dialogs.system = Probe::Known(SystemDialog::Unavailable(why.to_owned()));
    }

    /// The in-app path prompt, while it is open.
    pub fn path_prompt(&self) -> Option<&PathPrompt> {
        self.dialogs.prompt.as_ref()
    }

    /// Asks for a path: the system dialog, else the in-app prompt saying why.
    pub fn choose_path(&mut self, req: PathRequest) {
        let why = match self.dialogs.system.answer() {
            SystemDialog::Available => match run_system_dialog(&req) {
                SystemOutcome::Chosen(p) => return self.path_chosen(req.purpose, p),
                SystemOutcome::Cancelled => return,
                SystemOutcome::Failed => CLOSED_AT_ONCE_TEXT.to_owned(),
            },
            SystemDialog::Unavailable(why) => why,
        };
        self.dialogs.prompt = Some(PathPrompt::new(req, why));
    }

    /// Starts checking for the system dialog, so the first choice does not wait for it.
    pub(crate) fn file_dialogs_frame(&mut self, ctx: &Context) {
        self.dialogs.system.start();
        let Some(prompt) = &mut self.dialogs.prompt else {
            return;
        };
        match prompt.show(ctx) {
            PromptOutcome::Open => {}
            PromptOutcome::Cancelled => self.dialogs.prompt = None,
            PromptOutcome::Chosen(path) => {
                let purpose = prompt.request.purpose;
                self.dialogs.prompt = None;
                self.path_chosen(purpose, path);
            }
        }
    }

    /// Closes the prompt; false when none was open (Esc then does the next thing).
    pub(crate) fn close_path_prompt(&mut self) -> bool {
        self.dialogs.prompt.take().is_some()
    }

    fn path_chosen(&mut self, purpose: PathUse, path: PathBuf) {
        let text = path.display().to_string();
        match purpose {
            PathUse::OpenProject => self.start(JobKind::Open(path)),
            PathUse::SaveProjectAs => {
                if let Err(e) = self.save_as(&path) {
                    self.status = Status::Failed(e);
                }
            }
            PathUse::NewProject => self.form.out = text,
            PathUse::FormField(f) => *self.form.field_mut(f) = text,
            PathUse::Export(format) => self.export_share(format, &path),
            PathUse::ScenarioReport => self.export_report(&path),
            PathUse::MapPicture | PathUse::CouncilSummary => self.map_export_chosen(purpose, &path),
            PathUse::CompareWith => self.compare_with(path),
        }
    }
}

/// `~/x` is what people type; the shell is not there to expand it.
fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(pick: Pick, text: &str) -> PathPrompt {
        let mut p = PathPrompt::new(
            PathRequest::new(PathUse::OpenProject, pick, "t"),
            String::new(),
        );
        p.text = text.to_owned();
        p
    }

    #[test]
    fn typed_paths_are_checked_against_the_kind_of_choice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.bna");
        std::fs::write(&file, b"x").expect("write");
        let d = dir.path().display().to_string();
        let f = file.display().to_string();
        let missing = dir.path().join("nope/b.bna").display().to_string();
        assert_eq!(prompt(Pick::File, &f).check(), Ok(file.clone()));
        assert!(prompt(Pick::File, &d)
            .check()
            .unwrap_err()
            .contains("no file"));
        assert_eq!(prompt(Pick::Folder, &d).check(), Ok(dir.path().into()));
        assert!(prompt(Pick::Folder, &f)
            .check()
            .unwrap_err()
            .contains("no folder"));
        assert!(prompt(Pick::Save, &d)
            .check()
            .unwrap_err()
            .contains("add a file name"));
        assert!(prompt(Pick::Save, &missing)
            .check()
            .unwrap_err()
            .contains("no folder"));
        let new = dir.path().join("new.bna");
        assert_eq!(
            prompt(Pick::Save, &new.display().to_string()).check(),
            Ok(new)
        );
        assert_eq!(prompt(Pick::Save, "  ").check(), Err("Type a path.".into()));
    }

    #[test]
    fn a_save_prompt_proposes_the_file_name_in_the_current_folder() {
        let req = PathRequest::new(PathUse::NewProject, Pick::Save, "t").file_name("city.bna");
        let p = PathPrompt::new(req, String::new());
        assert!(p.text.ends_with("city.bna"), "{}", p.text);
        assert!(Path::new(&p.text).is_absolute());
    }
}
