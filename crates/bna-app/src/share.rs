//! File menu entries that export the open project for sharing (tile set, web page). Exports
//! read the project file back through the store, like the CLI; they take well under a second
//! on a city, so they run in the frame that asked for them.

use eframe::egui::{self, Ui};

use super::state::{BnaApp, Status};
use bna_engine::store::{self, ExportFormat, Project};

impl BnaApp {
    pub(crate) fn share_menu_items(&mut self, ui: &mut Ui) {
        let items = [
            ("Export tile set (MBTiles)…", ExportFormat::MbTiles),
            ("Export web page…", ExportFormat::Web),
        ];
        for (label, format) in items {
            let open = self.project.as_ref().map(|p| p.path.clone());
            if ui
                .add_enabled(open.is_some(), egui::Button::new(label))
                .clicked()
            {
                if let (Some(path), Some(dir)) = (open, rfd::FileDialog::new().pick_folder()) {
                    self.status = match Project::create_or_open(&path)
                        .and_then(|p| store::export(&p, format, &dir))
                    {
                        Ok(files) => Status::Done(format!(
                            "Exported {} file(s) to {}",
                            files.len(),
                            dir.display()
                        )),
                        Err(e) => Status::Failed(e.to_string()),
                    };
                }
                ui.close();
            }
        }
    }
}
