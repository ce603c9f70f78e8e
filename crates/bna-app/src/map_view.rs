//! The map: walkers for panning, zooming and the optional OSM raster basemap; the project's
//! own layers drawn on top as meshes, so the map is complete offline.

use eframe::egui::DragPanButtons;
use eframe::egui::{
    self, pos2, vec2, Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Shape, Stroke, Ui,
};
use walkers::{lon_lat, sources::OpenStreetMap, HttpOptions, HttpTiles, Map, Projector, Tiles};

use super::draw::{self, View};
use super::geometry::{score_color, DestinationGroup, StressView, LOW_STRESS_COLOR};
use super::state::{BnaApp, Layers, Selection};
use bna_engine::analysis::reach::BlockReach;
use bna_engine::model::{HIGH_STRESS, LOW_STRESS};

#[derive(Clone, Copy)]
enum Swatch {
    Line(Color32),
    /// A road drawn as the map draws one of this stress (`None`: no bikes).
    Road(Option<u8>),
    Fill(Color32),
    Dot(Color32),
}
use super::AppOptions;

/// Block fill opacity: roads stay readable on top.
const BLOCK_ALPHA: u8 = 110;

pub const ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// OSM raster tiles, cached on disk per the tile usage policy (which also asks for an
/// identifying User-Agent).
pub fn osm_tiles(opts: &AppOptions, ctx: &egui::Context) -> HttpTiles {
    // reqwest is built without a default TLS provider (to avoid aws-lc's build); use ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = HttpOptions {
        cache: opts.tile_cache.clone(),
        user_agent: Some(walkers::HeaderValue::from_static(concat!(
            "bna/",
            env!("CARGO_PKG_VERSION"),
            " (Bicycle Network Analysis desktop app)"
        ))),
        ..Default::default()
    };
    HttpTiles::with_options(OpenStreetMap, options, ctx.clone())
}

/// Screen transform of the project's local coordinates for this frame.
fn view_of(projector: &Projector, origin_ll: (f64, f64), screen: Rect) -> View {
    let o = projector.project(lon_lat(origin_ll.0, origin_ll.1));
    View {
        origin: o.to_pos2(),
        scale: 2f64.powf(projector.zoom()) as f32,
        screen,
    }
}

impl BnaApp {
    pub(crate) fn map_ui(&mut self, ui: &mut Ui) {
        let rect = ui.available_rect_before_wrap();
        ui.painter().rect_filled(rect, 0.0, draw::LAND);
        let Some(project) = &self.project else {
            let msg = if self.is_busy() {
                "Preparing the map…"
            } else {
                "Open a project (File > Open…) or run an analysis"
            };
            ui.painter().text(
                rect.center(),
                Align2::CENTER_CENTER,
                msg,
                FontId::proportional(18.0),
                Color32::from_gray(90),
            );
            attribution(ui, rect);
            return;
        };
        // A scenario shown from the scenario panel draws through the same layers.
        let geometry = self.scenario.map_geometry().unwrap_or(&project.geometry);
        if self.fit_pending && rect.width() > 10.0 {
            self.fit_pending = false;
            // The study area with some of the routing buffer around it.
            let focus = geometry.focus.expand2(geometry.focus.size() * 0.2);
            let z = draw::fit_zoom(focus, rect.size());
            let (lon, lat) = geometry.to_lon_lat(focus.center());
            let _ = self.map_memory.set_zoom(z);
            self.map_memory.center_at(lon_lat(lon, lat));
        }
        let layers = self.layers;
        let selection = self.selection;
        let reach = self.reach.as_ref().map(|r| &r.1);
        let origin_ll = geometry.origin_ll;
        let drawn = self
            .drawn
            .as_ref()
            .filter(|(p, _)| p.display().to_string() == self.form.boundary)
            .map(|(_, c)| c.as_slice());
        // Dragging a corner must move the corner, not the map: decided before the map
        // handles the press, from where the pointer is over last frame's view.
        let grabbing = match (&self.drawing, self.last_view) {
            (Some(d), Some(view)) => {
                d.dragging.is_some()
                    || ui.ctx().pointer_interact_pos().is_some_and(|p| {
                        d.corner_near(|c| view.to_screen(geometry.to_local(c.0, c.1)), p)
                            .is_some()
                    })
            }
            _ => false,
        };
        let scen_open = self.scenario.open && self.drawing.is_none();
        // Shift+drag draws a selection box instead of panning.
        let boxing = self.scenario.box_origin.is_some();
        let box_mode = scen_open && (boxing || ui.input(|i| i.modifiers.shift));
        let change_scale = self.scenario.change_scale();
        let shows_changes = self.scenario.shows_changes();
        let scenario = &self.scenario;
        let compared = self.compare.overlay();
        let legend_shown = self.layout.legend;
        let drawing = &mut self.drawing;
        let tiles: Option<&mut dyn Tiles> = match (&mut self.tiles, layers.basemap) {
            (Some(t), true) => Some(t),
            _ => None,
        };
        let map = Map::new(
            tiles,
            &mut self.map_memory,
            lon_lat(origin_ll.0, origin_ll.1),
        )
        .zoom_with_ctrl(false)
        .drag_pan_buttons(if grabbing || box_mode {
            DragPanButtons::empty()
        } else {
            DragPanButtons::PRIMARY
        });
        let clicked = map.show(ui, |ui, response, projector, _memory| {
            let screen = response.rect;
            let view = view_of(projector, origin_ll, screen);
            let painter = ui.painter().with_clip_rect(screen);
            let ramp = |s: f64| match change_scale {
                // Stronger than the score choropleth: only changed blocks are filled.
                Some(m) => super::scenario_map::delta_color(s, m)
                    .gamma_multiply_u8(super::scenario_map::CHANGE_ALPHA),
                None => score_color(s).gamma_multiply_u8(BLOCK_ALPHA),
            };
            paint_layers_with(
                &painter,
                geometry,
                &view,
                projector.zoom(),
                layers,
                selection,
                reach,
                &ramp,
            );
            if layers.roads {
                let zoom = projector.zoom();
                super::street_labels::paint(&painter, geometry, &project.data, &view, zoom);
            }
            let pointer = ui.ctx().pointer_latest_pos();
            if let Some(o) = compared {
                super::compare_view::paint_overlay(
                    &painter,
                    &view,
                    projector.zoom(),
                    layers.stress_view,
                    o,
                );
            }
            if let Some(o) = scenario.overlay(pointer) {
                super::scenario_map::paint_overlay(
                    &painter,
                    geometry,
                    &view,
                    projector.zoom(),
                    layers.stress_view,
                    &o,
                );
            }
            let to_screen = |c: (f64, f64)| view.to_screen(geometry.to_local(c.0, c.1));
            if let Some(corners) = drawn.filter(|_| drawing.is_none()) {
                draw_corners(&painter, corners.iter().map(|&c| to_screen(c)), true);
            }
            let mut click = None;
            let mut close = false;
            let mut scen_input = None;
            if let Some(d) = drawing.as_mut() {
                close = super::drawing_ui::interact(d, response, &to_screen, &|p| {
                    geometry.to_lon_lat(view.to_local(p))
                });
                draw_corners(&painter, d.corners.iter().map(|&c| to_screen(c)), false);
            } else if scen_open {
                scen_input = super::scenario_map::map_input(response, boxing);
            } else {
                click = response
                    .clicked()
                    .then(|| response.interact_pointer_pos())
                    .flatten()
                    .map(|p| pick(geometry, &view, p, layers));
            }
            let legend_rect = legend_shown
                .then(|| {
                    legend(
                        &painter,
                        screen,
                        layers,
                        reach.is_some(),
                        change_scale,
                        shows_changes,
                    )
                })
                .flatten();
            // With no layer that needs one there is no legend to fold.
            let fold_legend =
                (legend_rect.is_some() || !legend_shown) && legend_toggle(ui, screen, legend_rect);
            attribution(ui, screen);
            let centre_lat = geometry.to_lon_lat(view.to_local(screen.center())).1;
            super::map_export::paint_scale_bar(
                &painter,
                screen,
                super::map_export::metres_per_px(centre_lat, view.scale),
            );
            let zoom_by = zoom_buttons(ui, screen);
            (click, zoom_by, view, close, scen_input, fold_legend)
        });
        let (click, zoom_by, view, close, scen_input, fold_legend) = clicked.inner;
        if fold_legend {
            self.layout.legend = !self.layout.legend;
        }
        self.last_view = Some(view);
        if let Some(input) = scen_input {
            self.scenario_map_input(input, &view);
        }
        if self.scenario.open {
            self.scenario_banner(ui.ctx(), view.screen);
        }
        if close {
            self.finish_drawing();
        }
        if self.drawing.is_some() {
            self.drawing_toolbar(ui.ctx(), view.screen);
        }
        match zoom_by {
            Some(ZoomButton::In) => {
                let _ = self.map_memory.zoom_in();
            }
            Some(ZoomButton::Out) => {
                let _ = self.map_memory.zoom_out();
            }
            Some(ZoomButton::Fit) => self.fit_pending = true,
            None => {}
        }
        if let Some(sel) = click {
            self.selection = sel;
        }
    }
}

/// Draws the enabled project layers: blocks under roads under the boundary.
pub fn paint_layers(
    painter: &Painter,
    g: &super::geometry::MapGeometry,
    view: &View,
    zoom: f64,
    layers: Layers,
    selection: Option<Selection>,
    reach: Option<&BlockReach>,
) {
    paint_layers_with(painter, g, view, zoom, layers, selection, reach, &|s| {
        score_color(s).gamma_multiply_u8(BLOCK_ALPHA)
    });
}

/// [`paint_layers`] with the blocks' values filled by `ramp` (a scenario comparison colours
/// score changes on a diverging scale).
#[allow(clippy::too_many_arguments)]
pub fn paint_layers_with(
    painter: &Painter,
    g: &super::geometry::MapGeometry,
    view: &View,
    zoom: f64,
    layers: Layers,
    selection: Option<Selection>,
    reach: Option<&BlockReach>,
    ramp: &dyn Fn(f64) -> Color32,
) {
    let selected_block = match selection {
        Some(Selection::Block(i)) => Some(i),
        _ => None,
    };
    let selected_segment = match selection {
        Some(Selection::Segment(i)) => Some(i),
        _ => None,
    };
    // The offline basemap under everything: water, then parks (the roads are their own layer).
    if !g.water_indices.is_empty() {
        painter.add(Shape::mesh(draw::fill(
            view,
            &g.water_vertices,
            &g.water_indices,
            draw::WATER,
        )));
    }
    if !g.park_indices.is_empty() {
        painter.add(Shape::mesh(draw::fill(
            view,
            &g.park_vertices,
            &g.park_indices,
            draw::PARK,
        )));
    }
    if layers.blocks || selected_block.is_some() {
        // With a block's reach shown, its colours replace the score choropleth.
        let choropleth = layers.blocks && reach.is_none();
        let fill = |score: Option<f64>| choropleth.then(|| score.map(ramp)).flatten();
        let outline = (layers.blocks && zoom >= 14.0).then(|| Color32::from_white_alpha(140));
        painter.add(Shape::mesh(draw::blocks(
            g,
            view,
            fill,
            outline,
            selected_block,
        )));
    }
    if let Some(r) = reach {
        let geoms = |blocks: &[u32]| -> Vec<usize> {
            blocks.iter().filter_map(|&b| g.block_geom(b)).collect()
        };
        let low: std::collections::HashSet<u32> = r.low_stress.iter().copied().collect();
        let high_only: Vec<u32> = r
            .full
            .iter()
            .copied()
            .filter(|b| !low.contains(b))
            .collect();
        painter.add(Shape::mesh(draw::block_set(
            g,
            view,
            &geoms(&high_only),
            REACH_FULL_COLOR.gamma_multiply_u8(REACH_ALPHA),
        )));
        painter.add(Shape::mesh(draw::block_set(
            g,
            view,
            &geoms(&r.low_stress),
            REACH_LOW_COLOR.gamma_multiply_u8(REACH_ALPHA),
        )));
    }
    if layers.roads {
        painter.add(Shape::mesh(draw::roads(
            g,
            view,
            draw::road_width(zoom),
            layers.stress_view,
            selected_segment,
        )));
    }
    if layers.boundary {
        painter.add(Shape::mesh(draw::boundary(g, view)));
    }
    if layers.destinations {
        let r = if zoom >= 15.0 { 4.5 } else { 3.0 };
        painter.add(Shape::mesh(draw::points(
            view,
            g.destinations.iter().map(|(p, grp)| (*p, grp.color())),
            r,
        )));
    }
}

/// Blocks reached from the selected one: on the low-stress network, and only on the full one.
pub const REACH_LOW_COLOR: Color32 = LOW_STRESS_COLOR;
pub const REACH_FULL_COLOR: Color32 = Color32::from_rgb(0xfd, 0xae, 0x61);
const REACH_ALPHA: u8 = 150;

/// A drawn boundary: its edges and corners (the first one larger: clicking it closes).
fn draw_corners(painter: &Painter, pts: impl Iterator<Item = Pos2>, closed: bool) {
    let pts: Vec<Pos2> = pts.collect();
    let ink = Color32::from_rgb(0xd9, 0x5f, 0x02);
    let mut line = pts.clone();
    if closed {
        if let Some(&f) = pts.first() {
            line.push(f);
        }
    }
    painter.add(Shape::line(line, Stroke::new(2.5, ink)));
    if closed {
        return;
    }
    for (i, p) in pts.iter().enumerate() {
        let r = if i == 0 { 7.0 } else { 5.0 };
        painter.circle(*p, r, Color32::WHITE, Stroke::new(2.0, ink));
    }
}

/// What a click at screen point `p` selects: the nearest road within a few pixels, else
/// the block under it, else nothing.
fn pick(
    g: &super::geometry::MapGeometry,
    view: &View,
    p: Pos2,
    layers: Layers,
) -> Option<Selection> {
    let local = view.to_local(p);
    let tolerance = 6.0 / view.scale;
    let road = layers
        .roads
        .then(|| g.nearest_segment(local, tolerance))
        .flatten();
    road.map(Selection::Segment)
        .or_else(|| g.block_at(local).map(Selection::Block))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoomButton {
    In,
    Out,
    Fit,
}

fn zoom_buttons(ui: &mut Ui, screen: Rect) -> Option<ZoomButton> {
    let size = vec2(34.0, 28.0);
    let mut clicked = None;
    for (k, (label, b, hint)) in [
        ("+", ZoomButton::In, "Zoom in"),
        ("-", ZoomButton::Out, "Zoom out"),
        ("Fit", ZoomButton::Fit, "Zoom to the project"),
    ]
    .into_iter()
    .enumerate()
    {
        let min = pos2(
            screen.right() - size.x - 10.0,
            screen.top() + 10.0 + k as f32 * (size.y + 4.0),
        );
        let r = ui
            .put(
                Rect::from_min_size(min, size),
                egui::Button::new(egui::RichText::new(label).size(16.0)),
            )
            .on_hover_text(hint);
        if r.clicked() {
            clicked = Some(b);
        }
    }
    clicked
}

fn panel(painter: &Painter, r: Rect) {
    painter.rect(
        r,
        CornerRadius::same(4),
        Color32::from_white_alpha(225),
        Stroke::new(1.0, Color32::from_gray(190)),
        egui::StrokeKind::Inside,
    );
}

/// Always visible, whatever the layers: the roads themselves are OSM data. A real label (not
/// just paint) so that screen readers and the UI tests find it.
fn attribution(ui: &mut Ui, screen: Rect) {
    let text = egui::RichText::new(ATTRIBUTION)
        .size(12.0)
        .color(Color32::from_gray(40));
    let galley = ui.painter().layout_no_wrap(
        ATTRIBUTION.to_owned(),
        FontId::proportional(12.0),
        Color32::from_gray(40),
    );
    let r = Rect::from_min_size(
        pos2(
            screen.right() - galley.size().x - 16.0,
            screen.bottom() - galley.size().y - 10.0,
        ),
        galley.size() + vec2(8.0, 4.0),
    );
    ui.painter()
        .rect_filled(r, CornerRadius::same(3), Color32::from_white_alpha(215));
    ui.put(
        r,
        egui::Label::new(text)
            .selectable(false)
            .wrap_mode(egui::TextWrapMode::Extend),
    );
}

/// The legend's fold button on its top right corner, or, folded, a "Legend" button where it
/// was; true when clicked.
fn legend_toggle(ui: &mut Ui, screen: Rect, legend: Option<Rect>) -> bool {
    let (rect, button, hint) = match legend {
        Some(r) => (
            Rect::from_min_size(pos2(r.right() - 24.0, r.top() + 3.0), vec2(20.0, 18.0)),
            egui::Button::new("–").small(),
            "Fold the legend",
        ),
        None => (
            Rect::from_min_size(
                pos2(screen.left() + 10.0, screen.bottom() - 38.0),
                vec2(70.0, 26.0),
            ),
            egui::Button::new("Legend"),
            "Show the legend",
        ),
    };
    ui.put(rect, button).on_hover_text(hint).clicked()
}

/// Paints the legend of the layers drawn; its rectangle, if it has rows.
fn legend(
    painter: &Painter,
    screen: Rect,
    layers: Layers,
    reach: bool,
    change_scale: Option<f64>,
    shows_changes: bool,
) -> Option<Rect> {
    let font = FontId::proportional(12.5);
    let text = Color32::from_gray(30);
    let line_h = 18.0;
    let mut rows = 0;
    if layers.roads {
        rows += 4 + usize::from(shows_changes);
    }
    let choropleth = layers.blocks && !reach;
    if choropleth {
        rows += 3;
    }
    if reach {
        rows += 3;
    }
    if layers.destinations {
        rows += 1 + DestinationGroup::ALL.len();
    }
    if rows == 0 {
        return None;
    }
    let w = 236.0;
    let h = rows as f32 * line_h + 10.0;
    let r = Rect::from_min_size(
        pos2(screen.left() + 10.0, screen.bottom() - h - 10.0),
        vec2(w, h),
    );
    panel(painter, r);
    let mut y = r.top() + 5.0 + line_h / 2.0;
    let x = r.left() + 8.0;
    let mut row = |label: &str, swatch: Option<Swatch>| {
        let tx = if let Some(sw) = swatch {
            match sw {
                Swatch::Line(c) => {
                    painter.line_segment([pos2(x, y), pos2(x + 22.0, y)], Stroke::new(4.0, c));
                }
                Swatch::Road(stress) => {
                    let flat = View {
                        origin: Pos2::ZERO,
                        scale: 1.0,
                        screen: Rect::EVERYTHING,
                    };
                    let style = super::road_style::road_style(stress, 1.0, 3.0);
                    let (mut casing, mut core) =
                        (draw::LineBuilder::new(), draw::LineBuilder::new());
                    core.road(&mut casing, &flat, &[pos2(x, y), pos2(x + 22.0, y)], &style);
                    painter.add(Shape::mesh(casing.mesh));
                    painter.add(Shape::mesh(core.mesh));
                }
                Swatch::Fill(c) => {
                    painter.rect_filled(
                        Rect::from_min_max(pos2(x, y - 6.0), pos2(x + 22.0, y + 6.0)),
                        CornerRadius::same(2),
                        c,
                    );
                }
                Swatch::Dot(c) => {
                    painter.circle(pos2(x + 11.0, y), 5.0, c, Stroke::new(1.0, draw::POINT_RIM));
                }
            }
            x + 30.0
        } else {
            x
        };
        painter.text(pos2(tx, y), Align2::LEFT_CENTER, label, font.clone(), text);
        y += line_h;
    };
    if layers.roads {
        row(
            match layers.stress_view {
                StressView::Worse => "Traffic stress (worse direction)",
                StressView::Better => "Traffic stress (better direction)",
            },
            None,
        );
        row("Low stress (cased)", Some(Swatch::Road(Some(LOW_STRESS))));
        row("High stress (wide)", Some(Swatch::Road(Some(HIGH_STRESS))));
        row("No bikes allowed (dashed)", Some(Swatch::Road(None)));
        if shows_changes {
            row(
                "Edited or stress changed",
                Some(Swatch::Line(super::scenario_map::CHANGED_COLOR)),
            );
        }
    }
    if reach {
        row("Blocks reached from the selected one", None);
        row(
            "on the low-stress network",
            Some(Swatch::Fill(REACH_LOW_COLOR.gamma_multiply_u8(REACH_ALPHA))),
        );
        row(
            "only on the full network",
            Some(Swatch::Fill(
                REACH_FULL_COLOR.gamma_multiply_u8(REACH_ALPHA),
            )),
        );
    }
    if layers.destinations {
        row("Destinations", None);
        for grp in DestinationGroup::ALL {
            row(grp.label(), Some(Swatch::Dot(grp.color())));
        }
    }
    if let Some(scale) = change_scale.filter(|_| choropleth) {
        row("Change in block score (B − A)", None);
        super::scenario_map::change_legend(painter, x, y, w - 16.0, scale, line_h);
    } else if choropleth {
        row("Block BNA score", None);
        let bar = Rect::from_min_size(pos2(x, y - 6.0), vec2(w - 16.0, 12.0));
        let mut mesh = egui::Mesh::default();
        let steps = 20;
        for i in 0..steps {
            let t0 = i as f32 / steps as f32;
            let t1 = (i + 1) as f32 / steps as f32;
            let c =
                score_color(((t0 + t1) / 2.0 * 100.0) as f64).gamma_multiply_u8(BLOCK_ALPHA * 2);
            mesh.add_colored_rect(
                Rect::from_min_max(
                    pos2(bar.left() + bar.width() * t0, bar.top()),
                    pos2(bar.left() + bar.width() * t1, bar.bottom()),
                ),
                c,
            );
        }
        painter.add(Shape::mesh(mesh));
        y += line_h;
        let small = FontId::proportional(11.0);
        painter.text(
            pos2(bar.left(), y),
            Align2::LEFT_CENTER,
            "0",
            small.clone(),
            text,
        );
        painter.text(
            pos2(bar.center().x, y),
            Align2::CENTER_CENTER,
            "50",
            small.clone(),
            text,
        );
        painter.text(
            pos2(bar.right(), y),
            Align2::RIGHT_CENTER,
            "100",
            small,
            text,
        );
    }
    Some(r)
}
