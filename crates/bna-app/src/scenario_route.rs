//! Selecting roads along a route in the scenario workbench: the planner clicks the first and
//! the last road of a corridor and every segment of the shortest chain between them
//! ([`network::route::route_between`]) joins the selection.

use std::collections::BTreeSet;

use eframe::egui::{self, Color32, RichText, Ui};

use super::geometry::MapGeometry;
use super::scenario_map::geom_of_road;
use super::scenario_ui::road_names;
use bna_engine::model::ProjectData;
use bna_engine::network::route;

/// The pending route's first road (cyan, so it reads apart from the yellow selection).
pub const ROUTE_START_COLOR: Color32 = Color32::from_rgb(0x00, 0xbc, 0xd4);

/// Route mode of the road selection.
#[derive(Debug, Default)]
pub struct RoutePick {
    /// Clicks pick route ends instead of single roads.
    pub on: bool,
    /// Geometry index of the first road, waiting for the last one.
    pub start: Option<usize>,
    /// The last route's outcome: Ok(what was added) or Err(why nothing was).
    pub message: Option<Result<String, String>>,
}

impl RoutePick {
    /// Escape: drops a pending start; `false` when there was none, so Escape falls through
    /// to clearing the selection.
    pub fn cancel(&mut self) -> bool {
        let had = self.start.take().is_some();
        if had {
            self.message = None;
        }
        had
    }
}

/// A click in route mode on road `hit` (geometry index): the first click sets the start, the
/// second adds the route between them to `selected`. A click off every road does nothing, so
/// a slip does not lose the start.
pub fn pick(
    r: &mut RoutePick,
    selected: &mut BTreeSet<usize>,
    data: &ProjectData,
    g: &MapGeometry,
    hit: Option<usize>,
) {
    let Some(hit) = hit.filter(|&i| i < g.segments.len()) else {
        return;
    };
    let Some(start) = r.start.take() else {
        r.start = Some(hit);
        r.message = None;
        return;
    };
    let (a, b) = (g.segments[start].segment, g.segments[hit].segment);
    r.message = Some(match route::route_between(&data.segments, a, b) {
        Some(roads) => {
            let metres = route::route_length(&data.segments, &roads);
            selected.extend(roads.iter().filter_map(|&id| geom_of_road(g, id)));
            Ok(format!(
                "Added a route of {} road segment(s), {:.0} m",
                roads.len(),
                metres
            ))
        }
        None => Err(format!(
            "No route on the road network from {} to {}",
            place(data, a),
            place(data, b)
        )),
    });
}

fn place(data: &ProjectData, road: u32) -> String {
    road_names(data, [road].into_iter())
        .pop()
        .unwrap_or_else(|| format!("road {road}"))
}

/// The route toggle and its status lines, under the road selection hint.
pub fn controls(ui: &mut Ui, r: &mut RoutePick, data: &ProjectData, g: &MapGeometry) {
    if ui
        .checkbox(
            &mut r.on,
            "Select along a route: click the first and last road",
        )
        .changed()
        && !r.on
    {
        r.start = None;
    }
    if r.on {
        let hint = match r.start.and_then(|i| g.segments.get(i)) {
            Some(s) => format!(
                "From {}: click the last road (Escape cancels).",
                place(data, s.segment)
            ),
            None => "Click the first road of the route.".into(),
        };
        ui.add(egui::Label::new(RichText::new(hint).weak()).wrap());
    }
    match &r.message {
        Some(Ok(m)) => {
            ui.label(m);
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        None => {}
    }
}
