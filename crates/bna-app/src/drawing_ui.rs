//! Mouse and toolbar for drawing a boundary on the map (the state is in [`super::drawing`]).
//!
//! Click: add a corner (on the first corner, with three or more: close). Drag a corner: move
//! it. Right-click a corner: delete it. Undo, Close and Cancel are on the toolbar; Ctrl+Z,
//! Enter and Delete do the same from the keyboard.

use eframe::egui::{self, Context, Pos2, Rect, Response, RichText};

use super::drawing::Drawing;
use super::state::BnaApp;

/// Applies this frame's pointer input on the map to `d`; true when the user closed the shape
/// by clicking its first corner.
pub fn interact(
    d: &mut Drawing,
    response: &Response,
    to_screen: &dyn Fn((f64, f64)) -> Pos2,
    to_ll: &dyn Fn(Pos2) -> (f64, f64),
) -> bool {
    let pointer = response.interact_pointer_pos();
    if response.drag_started_by(egui::PointerButton::Primary) {
        // Where the press began, not where the pointer is once the drag is recognised.
        let origin = response.ctx.input(|i| i.pointer.press_origin());
        if let Some(i) = origin.and_then(|p| d.corner_near(to_screen, p)) {
            d.begin_drag(i);
        }
    }
    if d.dragging.is_some() {
        if let Some(p) = pointer.filter(|_| response.dragged()) {
            d.drag_to(to_ll(p));
        }
        if response.drag_stopped() {
            d.end_drag();
        }
        return false;
    }
    if response.secondary_clicked() {
        if let Some(i) = pointer.and_then(|p| d.corner_near(to_screen, p)) {
            d.remove(i);
        }
        return false;
    }
    if response.clicked() {
        if let Some(p) = pointer {
            match d.corner_near(to_screen, p) {
                Some(0) if d.corners.len() >= 3 => return true,
                // A click on an existing corner is a grab that did not move.
                Some(_) => {}
                None => d.add(to_ll(p)),
            }
        }
    }
    false
}

impl BnaApp {
    /// Instructions, the refusal reason and the buttons, floating over the map's top left.
    pub(crate) fn drawing_toolbar(&mut self, ctx: &Context, map: Rect) {
        let mut close = false;
        let mut cancel = false;
        egui::Area::new(egui::Id::unique("drawing_toolbar"))
            .fixed_pos(map.left_top() + egui::vec2(10.0, 10.0))
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(360.0);
                    let Some(d) = &mut self.drawing else { return };
                    ui.strong(format!("Drawing a boundary: {} corners", d.corners.len()));
                    ui.weak("Click to add a corner, drag one to move it, right-click one to delete it. Click the first corner or Close to finish.");
                    if let Some(reason) = &d.refused {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("Refused: {reason}"))
                                    .color(ui.visuals().error_fg_color)
                                    .strong(),
                            )
                            .wrap(),
                        );
                    }
                    ui.horizontal(|ui| {
                        if ui.add_enabled(d.can_undo(), egui::Button::new("Undo")).clicked() {
                            d.undo();
                        }
                        close = ui.button("Close shape").clicked();
                        cancel = ui.button("Cancel").clicked();
                    });
                });
            });
        if close {
            self.finish_drawing();
        }
        if cancel {
            self.cancel_drawing();
        }
    }
}
