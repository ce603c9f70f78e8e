//! File menu entries that export the open project for sharing (tile set, web page). Exports
//! read the project file back through the store, like the CLI; they take well under a second
//! on a city, so they run in the frame that asked for them.

use eframe::egui::{self, Ui};

use std::path::Path;

use super::file_dialog::{PathRequest, PathUse, Pick};
use super::state::{BnaApp, Status};
use bna_engine::store::{self, ExportFormat, Project};

impl BnaApp {
    pub(crate) fn share_menu_items(&mut self, ui: &mut Ui) {
        let items = [
            ("Export tile set (MBTiles)…", ExportFormat::MbTiles),
            ("Export web page…", ExportFormat::Web),
        ];
        let open = self.project.is_some();
        for (label, format) in items {
            if ui.add_enabled(open, egui::Button::new(label)).clicked() {
                self.ask_export_folder(format);
                ui.close();
            }
        }
        if ui
            .add_enabled(open, egui::Button::new("Export map view (PNG)…"))
            .on_hover_text("The map as it is on screen now, legend and scale bar included")
            .clicked()
        {
            self.ask_map_picture();
            ui.close();
        }
        if ui
            .add_enabled(open, egui::Button::new("Council summary (one page)…"))
            .on_hover_text(
                "A print-ready page: the score, each category and what it measures, and the map",
            )
            .clicked()
        {
            self.ask_council_summary();
            ui.close();
        }
    }

    /// Asks where to write `format` (File menu, Ctrl+E for the web page).
    pub(crate) fn ask_export_folder(&mut self, format: ExportFormat) {
        if self.project.is_none() {
            self.status = Status::Done("Nothing to export: open a project first".into());
            return;
        }
        let title = match format {
            ExportFormat::Web => "Folder for the web page",
            _ => "Folder for the export",
        };
        self.choose_path(PathRequest::new(
            PathUse::Export(format),
            Pick::Folder,
            title,
        ));
    }

    pub(crate) fn export_share(&mut self, format: ExportFormat, dir: &Path) {
        let Some(path) = self.project.as_ref().map(|p| p.path.clone()) else {
            return;
        };
        self.status =
            match Project::create_or_open(&path).and_then(|p| store::export(&p, format, dir)) {
                Ok(files) => Status::Done(format!(
                    "Exported {} file(s) to {}",
                    files.len(),
                    dir.display()
                )),
                Err(e) => Status::Failed(e.to_string()),
            };
    }
}
