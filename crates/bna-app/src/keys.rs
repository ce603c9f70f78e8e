//! Keyboard shortcuts, in one table that the Help menu lists, so the list cannot drift from
//! what the keys do.

use eframe::egui::{self, Context, Key, KeyboardShortcut, Modifiers, Ui};

use super::state::{BnaApp, Status};
use bna_engine::store::ExportFormat;

pub const NEW: &str = "Ctrl+N";
pub const OPEN: &str = "Ctrl+O";
pub const SAVE: &str = "Ctrl+S";
pub const EXPORT_WEB: &str = "Ctrl+E";

/// Every shortcut and what it does, as Help lists them.
pub const SHORTCUTS: [(&str, &str); 9] = [
    (NEW, "New analysis: an empty run form and where to save it"),
    (OPEN, "Open a project"),
    (SAVE, "Save the project as…"),
    (EXPORT_WEB, "Export the web page"),
    (
        "Esc",
        "Close the file prompt, else stop drawing, else close the inspector",
    ),
    ("Ctrl+Z", "While drawing: undo the last change"),
    ("Enter", "While drawing: close the boundary"),
    ("Delete", "While drawing: remove the last corner"),
    (
        "Shift+drag",
        "In the scenario panel: select the roads in a box",
    ),
];

fn command(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND, key)
}

pub(crate) fn help_menu(ui: &mut Ui) {
    ui.strong("Keyboard shortcuts");
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.monospace(keys);
                ui.label(what);
                ui.end_row();
            }
        });
}

impl BnaApp {
    /// The File menu's shortcuts and Esc, handled before the panels are drawn.
    pub(crate) fn shortcuts(&mut self, ctx: &Context) {
        let (new, open, save, export, escape) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&command(Key::N)),
                i.consume_shortcut(&command(Key::O)),
                i.consume_shortcut(&command(Key::S)),
                i.consume_shortcut(&command(Key::E)),
                i.key_pressed(Key::Escape),
            )
        });
        if new {
            self.new_project();
        } else if open {
            self.ask_open();
        } else if save {
            self.ask_save_as();
        } else if export {
            self.ask_export_folder(ExportFormat::Web);
        } else if escape {
            self.escape();
        }
    }

    /// Esc undoes the innermost thing open: the file prompt, a drawing, the inspector.
    fn escape(&mut self) {
        if self.close_path_prompt() {
            return;
        }
        if self.drawing.is_some() {
            self.cancel_drawing();
            self.status = Status::Done("Drawing cancelled".into());
            return;
        }
        self.selection = None;
    }
}
