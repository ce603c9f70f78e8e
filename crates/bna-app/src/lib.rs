//! The desktop app (eframe/egui with a walkers map), which `bna` without arguments opens.
//!
//! The app never analyses anything itself: every run goes through [`bna_engine::pipeline::run`]
//! on a background thread ([`jobs`]), and every project is read back with
//! `Project::read_results`. On first start it opens the bundled DC demo, analysing it into
//! the user's data folder once; later starts reopen that file.

pub mod cloud_confirm;
pub mod cloud_task;
pub mod cloud_ui;
pub mod compare_task;
pub mod compare_ui;
pub mod compare_view;
pub mod demo;
pub mod draw;
pub mod drawing;
mod drawing_ui;
pub mod fetch_ui;
pub mod file_dialog;
pub mod geometry;
pub mod inputs;
pub mod jobs;
pub mod keys;
pub mod layout;
pub mod map_export;
mod map_view;
pub mod panels;
pub mod paths;
pub mod road_style;
pub mod scenario_map;
mod scenario_panel;
pub mod scenario_route;
pub mod scenario_ui;
pub mod segment_table;
mod share;
pub mod state;
pub mod street_labels;
pub mod task;
pub mod theme;

use std::path::PathBuf;

pub use map_view::{paint_layers, ATTRIBUTION};
pub use state::{BnaApp, Layers, RunForm, Selection, Status};

/// Everything the app takes from its environment, so tests can point it at temp folders.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The bundled data (the demo city's inputs).
    pub data_dir: PathBuf,
    /// Where the demo project is kept; `None`: no demo at startup.
    pub demo_project: Option<PathBuf>,
    /// A project to open at startup instead of the demo.
    pub open: Option<PathBuf>,
    /// The recent-projects list; `None` keeps it in memory only.
    pub recent_file: Option<PathBuf>,
    /// Fetch OSM raster tiles when online. The roads are drawn from the project either way.
    pub online_tiles: bool,
    /// Disk cache for tiles (honours the tile servers' expiry headers).
    pub tile_cache: Option<PathBuf>,
}

impl AppOptions {
    /// The user's folders: demo in `$XDG_DATA_HOME/bna`, recent list in
    /// `$XDG_CONFIG_HOME/bna`, tiles in `$XDG_CACHE_HOME/bna`. `BNA_OFFLINE=1` turns the
    /// tile download off (otherwise only Get data › Fetch goes online, when pressed).
    pub fn for_user(data_dir: PathBuf) -> AppOptions {
        AppOptions {
            data_dir,
            demo_project: paths::data_home().map(|d| d.join(demo::DEMO_PROJECT_FILE)),
            open: None,
            recent_file: paths::config_home().map(|d| d.join("recent.json")),
            online_tiles: std::env::var_os("BNA_OFFLINE").is_none_or(|v| v.is_empty() || v == "0"),
            tile_cache: paths::cache_home().map(|d| d.join("tiles")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot open the window: {0}")]
    Window(String),
}

/// Whether a graphical session is reachable (X11 or Wayland).
pub fn display_available() -> bool {
    // Windows and macOS desktops have no display variable; a session always has a screen.
    cfg!(any(windows, target_os = "macos"))
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

struct EframeApp(BnaApp);

impl eframe::App for EframeApp {
    fn ui(&mut self, ui: &mut eframe::egui::Ui, _frame: &mut eframe::Frame) {
        self.0.show(ui);
    }
}

/// Opens the window and runs until it is closed.
pub fn run(opts: AppOptions) -> Result<(), AppError> {
    let native = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("BNA – Bicycle Network Analysis")
            .with_app_id("bna")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    eframe::run_native(
        "bna",
        native,
        Box::new(move |_cc| Ok(Box::new(EframeApp(BnaApp::new(opts))))),
    )
    .map_err(|e| AppError::Window(e.to_string()))
}
