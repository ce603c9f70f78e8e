//! The attribute table of road segments, as a GIS user expects one: sortable by any column,
//! filtered by stress, road class, a missing speed tag and name ("stress-3 residential
//! without maxspeed"). Clicking a row selects the road on the map (and in the scenario
//! panel, when open) and centres the map on it; "Select all shown" hands the filtered roads
//! to the scenario workbench. Rows are virtualised: only the visible ones are laid out, so
//! Porto's 78,000 segments scroll as fast as DC's.

use eframe::egui::{self, Align2, FontId, Sense, Ui};

use super::geometry::{shown_stress, MapGeometry, StressView};
use super::state::{BnaApp, Selection};
use bna_engine::model::{BikeInfra, FunctionalClass, ProjectData, Stress, HIGH_STRESS, LOW_STRESS};

/// One segment as the table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Index into `MapGeometry::segments` (what the map and scenarios select).
    pub geom: usize,
    pub name: String,
    pub class: FunctionalClass,
    /// Stress in the map's direction view; `None`: no bikes.
    pub stress: Option<Stress>,
    /// The tagged speed limit (mph); `None`: no maxspeed tag.
    pub speed: Option<u32>,
    pub length_m: f64,
    /// The better of the two directions' bike facilities.
    pub infra: Option<BikeInfra>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StressFilter {
    Any,
    Low,
    /// Stress 2 and above: everything that is not low stress.
    NotLow,
    NoBikes,
}

impl StressFilter {
    pub const ALL: [StressFilter; 4] = [Self::Any, Self::Low, Self::NotLow, Self::NoBikes];

    pub fn label(self) -> &'static str {
        match self {
            Self::Any => "any stress",
            Self::Low => "low stress",
            Self::NotLow => "high stress",
            Self::NoBikes => "no bikes",
        }
    }

    fn keeps(self, s: Option<Stress>) -> bool {
        match self {
            Self::Any => true,
            Self::Low => s == Some(LOW_STRESS),
            Self::NotLow => s.is_some_and(|v| v > LOW_STRESS),
            Self::NoBikes => s.is_none(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFilter {
    pub stress: StressFilter,
    /// `None`: every class.
    pub class: Option<FunctionalClass>,
    /// Only roads without a maxspeed tag (whose speed is assumed).
    pub no_speed_tag: bool,
    /// Part of the name, any case; empty: every name.
    pub name: String,
}

impl Default for TableFilter {
    fn default() -> Self {
        TableFilter {
            stress: StressFilter::Any,
            class: None,
            no_speed_tag: false,
            name: String::new(),
        }
    }
}

impl TableFilter {
    pub fn keeps(&self, r: &TableRow) -> bool {
        let name = self.name.trim().to_lowercase();
        self.stress.keeps(r.stress)
            && self.class.is_none_or(|c| c == r.class)
            && (!self.no_speed_tag || r.speed.is_none())
            && (name.is_empty() || r.name.to_lowercase().contains(&name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Name,
    Class,
    Stress,
    Speed,
    Length,
    Infra,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        // The worst roads first: where a planner starts.
        Sort {
            column: SortColumn::Stress,
            descending: true,
        }
    }
}

/// The table's rows, one per drawn segment, with the stress of the map's direction view.
pub fn table_rows(data: &ProjectData, g: &MapGeometry, view: StressView) -> Vec<TableRow> {
    use geo::{Euclidean, Length};
    g.segments
        .iter()
        .enumerate()
        .filter_map(|(geom, s)| {
            let seg = data.segments.get(s.segment as usize)?;
            let a = &seg.attrs;
            Some(TableRow {
                geom,
                name: seg.name.clone().unwrap_or_default(),
                class: a.functional_class,
                stress: shown_stress(s.ft, s.tf, view),
                speed: a.speed_limit,
                length_m: Euclidean.length(&seg.geom),
                infra: better_infra(a.ft_bike_infra, a.tf_bike_infra),
            })
        })
        .collect()
}

/// How much a facility separates riders from traffic (sharrow 1 … track 4).
fn infra_rank(i: BikeInfra) -> u8 {
    match i {
        BikeInfra::Sharrow => 1,
        BikeInfra::Lane => 2,
        BikeInfra::BufferedLane => 3,
        BikeInfra::Track => 4,
    }
}

fn better_infra(a: Option<BikeInfra>, b: Option<BikeInfra>) -> Option<BikeInfra> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if infra_rank(y) > infra_rank(x) { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// The rows `filter` keeps, in `sort` order (indices into `rows`). Ties keep the segments'
/// own order, so the table does not shuffle between frames.
pub fn shown_rows(rows: &[TableRow], filter: &TableFilter, sort: Sort) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len())
        .filter(|&i| filter.keeps(&rows[i]))
        .collect();
    // Missing values (no name, no speed tag, no facility) go last in either direction.
    let cmp = |a: &TableRow, b: &TableRow| -> std::cmp::Ordering {
        use std::cmp::Ordering;
        fn opt<T: Ord>(a: Option<T>, b: Option<T>, desc: bool) -> Ordering {
            match (a, b) {
                (Some(x), Some(y)) if desc => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        let d = sort.descending;
        let plain = |o: Ordering| if d { o.reverse() } else { o };
        match sort.column {
            SortColumn::Name => opt(
                (!a.name.is_empty()).then(|| a.name.to_lowercase()),
                (!b.name.is_empty()).then(|| b.name.to_lowercase()),
                d,
            ),
            SortColumn::Class => plain(a.class.cmp(&b.class)),
            // No bikes counts as worse than any stress: it is the least usable.
            SortColumn::Stress => plain(
                a.stress
                    .map_or(u16::MAX, u16::from)
                    .cmp(&b.stress.map_or(u16::MAX, u16::from)),
            ),
            SortColumn::Speed => opt(a.speed, b.speed, d),
            SortColumn::Length => plain(a.length_m.total_cmp(&b.length_m)),
            SortColumn::Infra => opt(a.infra.map(infra_rank), b.infra.map(infra_rank), d),
        }
    };
    idx.sort_by(|&i, &j| cmp(&rows[i], &rows[j]));
    idx
}

fn stress_cell(s: Option<Stress>) -> String {
    match s {
        Some(LOW_STRESS) => "1 low".into(),
        Some(v) if v >= HIGH_STRESS => format!("{v} high"),
        Some(v) => format!("{v}"),
        None => "no bikes".into(),
    }
}

/// The table under the map: its rows for the open project, filter and sort.
#[derive(Debug, Default)]
pub struct SegmentTable {
    pub open: bool,
    pub filter: TableFilter,
    pub sort: Sort,
    rows: Vec<TableRow>,
    shown: Vec<usize>,
    /// What `rows`/`shown` were made from: (segments in the geometry, view, filter, sort).
    made_for: Option<(usize, StressView, TableFilter, Sort)>,
}

impl SegmentTable {
    /// Forget the rows (another project was opened).
    pub fn invalidate(&mut self) {
        self.rows.clear();
        self.shown.clear();
        self.made_for = None;
    }

    /// The rows shown, as geometry indices, in order.
    pub fn shown_segments(&self) -> impl Iterator<Item = usize> + '_ {
        self.shown.iter().map(|&i| self.rows[i].geom)
    }

    pub fn shown_len(&self) -> usize {
        self.shown.len()
    }

    fn refresh(&mut self, data: &ProjectData, g: &MapGeometry, view: StressView) {
        let key = (g.segments.len(), view, self.filter.clone(), self.sort);
        if self.made_for.as_ref() == Some(&key) {
            return;
        }
        let rows_stale = self
            .made_for
            .as_ref()
            .is_none_or(|k| (k.0, k.1) != (key.0, key.1));
        if rows_stale {
            self.rows = table_rows(data, g, view);
        }
        self.shown = shown_rows(&self.rows, &self.filter, self.sort);
        self.made_for = Some(key);
    }
}

/// Column titles, sort keys and widths (px); the name takes what is left.
const COLUMNS: [(&str, SortColumn, f32); 6] = [
    ("Name", SortColumn::Name, 0.0),
    ("Class", SortColumn::Class, 110.0),
    ("Stress", SortColumn::Stress, 70.0),
    ("Speed (mph)", SortColumn::Speed, 90.0),
    ("Length (m)", SortColumn::Length, 80.0),
    ("Bike facility", SortColumn::Infra, 110.0),
];

/// Where each column starts in a row `width` px wide: the name takes what the others leave,
/// at least a quarter of the row; in a narrow panel the other columns shrink alike.
fn column_lefts(left: f32, width: f32) -> [f32; 6] {
    let fixed: f32 = COLUMNS.iter().map(|c| c.2).sum();
    let name_w = (width - fixed).max(width * 0.25);
    let shrink = ((width - name_w) / fixed).min(1.0);
    let mut x = left;
    let mut out = [0.0; 6];
    for (k, c) in COLUMNS.iter().enumerate() {
        out[k] = x;
        x += if k == 0 { name_w } else { c.2 * shrink };
    }
    out
}

impl BnaApp {
    pub fn segment_table(&self) -> &SegmentTable {
        &self.table
    }

    pub fn segment_table_mut(&mut self) -> &mut SegmentTable {
        &mut self.table
    }

    /// The table as a panel under the map, while open and a project is loaded.
    pub(crate) fn segment_table_panel(&mut self, ui: &mut Ui) {
        if !self.table.open || self.project.is_none() {
            return;
        }
        let max_h = (ui.ctx().content_rect().height() * 0.4).max(140.0);
        egui::Panel::bottom("segment_table")
            .resizable(true)
            .default_size(220.0f32.min(max_h))
            .size_range(110.0..=max_h)
            .show(ui, |ui| self.segment_table_ui(ui));
    }

    fn segment_table_ui(&mut self, ui: &mut Ui) {
        let view = self.layers.stress_view;
        let Some(p) = &self.project else { return };
        self.table.refresh(&p.data, &p.geometry, view);
        let t = &mut self.table;
        let mut select_all = false;
        // Wrapped, so a narrow map does not push the panel over its neighbours.
        ui.horizontal_wrapped(|ui| {
            ui.strong("Road segments");
            // First in the row: the inspector window may cover the panel's right end.
            select_all = ui
                .add_enabled(!t.shown.is_empty(), egui::Button::new("Select all shown"))
                .on_hover_text("Select these roads in the scenario panel, to edit them together")
                .clicked();
            egui::ComboBox::from_id_salt("table_stress")
                .selected_text(t.filter.stress.label())
                .show_ui(ui, |ui| {
                    for f in StressFilter::ALL {
                        ui.selectable_value(&mut t.filter.stress, f, f.label());
                    }
                });
            egui::ComboBox::from_id_salt("table_class")
                .selected_text(t.filter.class.map_or("any class", |c| c.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut t.filter.class, None, "any class");
                    for c in FunctionalClass::ALL {
                        ui.selectable_value(&mut t.filter.class, Some(c), c.as_str());
                    }
                });
            ui.checkbox(&mut t.filter.no_speed_tag, "no speed tag");
            let name = ui.label("Name contains");
            ui.add(
                egui::TextEdit::singleline(&mut t.filter.name)
                    .hint_text("part of a street name")
                    .desired_width(150.0),
            )
            .labelled_by(name.id);
            ui.label(format!("{} of {} segments", t.shown.len(), t.rows.len()));
        });
        // Header: click a title to sort by it, again to reverse.
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let (head, _) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), row_h), Sense::hover());
        let lefts = column_lefts(head.left() + 4.0, head.width() - 8.0);
        for (k, (title, col, _)) in COLUMNS.iter().enumerate() {
            // Each title in its column, with room for the sort mark after it.
            let right = lefts.get(k + 1).copied().unwrap_or(head.right() - 4.0);
            let r = egui::Rect::from_min_max(
                egui::pos2(lefts[k], head.top()),
                egui::pos2((right - 14.0).max(lefts[k] + 10.0), head.bottom()),
            );
            // Left-aligned over the cells, the sort mark right after the title.
            let b = ui
                .scope_builder(
                    egui::UiBuilder::new()
                        .max_rect(r)
                        .layout(egui::Layout::left_to_right(egui::Align::Center)),
                    |ui| {
                        ui.add(
                            egui::Button::new(egui::RichText::new(*title).strong())
                                .frame(false)
                                .wrap_mode(egui::TextWrapMode::Truncate),
                        )
                    },
                )
                .inner;
            if t.sort.column == *col {
                // A painted triangle: the UI font has no arrow glyphs.
                let c = egui::pos2(b.rect.right() + 6.0, b.rect.center().y);
                let (tip, base) = if t.sort.descending {
                    (4.0, -3.0)
                } else {
                    (-4.0, 3.0)
                };
                ui.painter().add(egui::Shape::convex_polygon(
                    vec![
                        egui::pos2(c.x - 4.0, c.y + base),
                        egui::pos2(c.x + 4.0, c.y + base),
                        egui::pos2(c.x, c.y + tip),
                    ],
                    ui.visuals().strong_text_color(),
                    egui::Stroke::NONE,
                ));
            }
            if b.clicked() {
                if t.sort.column == *col {
                    t.sort.descending = !t.sort.descending;
                } else {
                    t.sort = Sort {
                        column: *col,
                        descending: matches!(
                            col,
                            SortColumn::Stress | SortColumn::Speed | SortColumn::Length
                        ),
                    };
                }
            }
        }
        let selected_geom = match self.selection {
            Some(Selection::Segment(i)) => Some(i),
            _ => None,
        };
        let scen_selected = &self.scenario.selected;
        let mut clicked: Option<(usize, bool)> = None;
        let visuals = ui.visuals().clone();
        let font = FontId::proportional(13.0);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_h, t.shown.len(), |ui, range| {
                for k in range {
                    let r = &t.rows[t.shown[k]];
                    let (rect, resp) = ui.allocate_exact_size(
                        egui::vec2(ui.available_width(), row_h),
                        Sense::click(),
                    );
                    let is_sel = selected_geom == Some(r.geom) || scen_selected.contains(&r.geom);
                    if is_sel {
                        ui.painter()
                            .rect_filled(rect, 0.0, visuals.selection.bg_fill);
                    } else if k % 2 == 1 {
                        ui.painter().rect_filled(rect, 0.0, visuals.faint_bg_color);
                    }
                    let lefts = column_lefts(rect.left() + 4.0, rect.width() - 8.0);
                    let pal = super::theme::palette(visuals.dark_mode);
                    let text_c = if is_sel {
                        visuals.selection.stroke.color
                    } else {
                        visuals.text_color()
                    };
                    let stress_c = match r.stress {
                        _ if is_sel => text_c,
                        Some(LOW_STRESS) => pal.low_stress,
                        Some(_) => pal.high_stress,
                        None => pal.weak_text,
                    };
                    let cells = [
                        (
                            if r.name.is_empty() {
                                "(no name)".to_owned()
                            } else {
                                r.name.clone()
                            },
                            text_c,
                        ),
                        (r.class.as_str().to_owned(), text_c),
                        (stress_cell(r.stress), stress_c),
                        (
                            r.speed
                                .map_or_else(|| "not tagged".to_owned(), |v| v.to_string()),
                            text_c,
                        ),
                        (format!("{:.0}", r.length_m), text_c),
                        (r.infra.map_or("–", |i| i.as_str()).to_owned(), text_c),
                    ];
                    for (c, (text, color)) in cells.into_iter().enumerate() {
                        // Each cell clipped to its column: a long name must not run into
                        // the class beside it.
                        let right = lefts.get(c + 1).map_or(rect.right(), |x| x - 6.0);
                        let cell = egui::Rect::from_min_max(
                            egui::pos2(lefts[c], rect.top()),
                            egui::pos2(right, rect.bottom()),
                        );
                        ui.painter_at(cell.intersect(rect)).text(
                            egui::pos2(lefts[c], rect.center().y),
                            Align2::LEFT_CENTER,
                            text,
                            font.clone(),
                            color,
                        );
                    }
                    if resp.clicked() {
                        let toggle = ui.input(|i| i.modifiers.command || i.modifiers.shift);
                        clicked = Some((r.geom, toggle));
                    }
                }
            });
        if select_all {
            let all: Vec<usize> = self.table.shown_segments().collect();
            self.select_table_segments(&all);
        } else if let Some((geom, toggle)) = clicked {
            self.pick_table_row(geom, toggle);
        }
    }

    /// A row clicked: the road is selected on the map (in the scenario panel too, when
    /// open; Ctrl/Shift adds to that selection) and the map is centred on it.
    pub fn pick_table_row(&mut self, geom: usize, toggle: bool) {
        if self.scenario.open {
            super::scenario_map::click_select(&mut self.scenario.selected, Some(geom), toggle);
        }
        self.selection = Some(Selection::Segment(geom));
        self.zoom_to_segments(&[geom]);
    }

    /// "Select all shown": the roads become the scenario selection (the panel opens).
    pub fn select_table_segments(&mut self, geoms: &[usize]) {
        if self.project.is_none() {
            return;
        }
        self.scenario.open = true;
        self.scenario.selected = geoms.iter().copied().collect();
        self.selection = None;
        self.zoom_to_segments(geoms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FunctionalClass as C;

    fn row(
        geom: usize,
        name: &str,
        class: C,
        stress: Option<u8>,
        speed: Option<u32>,
        len: f64,
    ) -> TableRow {
        TableRow {
            geom,
            name: name.into(),
            class,
            stress,
            speed,
            length_m: len,
            infra: None,
        }
    }

    fn rows() -> Vec<TableRow> {
        vec![
            row(0, "Oak St", C::Residential, Some(3), None, 120.0),
            row(1, "Main Ave", C::Primary, Some(3), Some(35), 300.0),
            row(2, "", C::Path, Some(1), None, 80.0),
            row(3, "Oak Ct", C::Residential, Some(1), Some(25), 60.0),
            row(4, "Freeway", C::Motorway, None, Some(65), 900.0),
        ]
    }

    #[test]
    fn filters_combine() {
        let r = rows();
        let f = |stress, class, no_speed_tag, name: &str| TableFilter {
            stress,
            class,
            no_speed_tag,
            name: name.into(),
        };
        use StressFilter as S;
        let cases: [(TableFilter, &[usize]); 7] = [
            (TableFilter::default(), &[0, 1, 2, 3, 4]),
            // The query: stress-3 residential without maxspeed.
            (f(S::NotLow, Some(C::Residential), true, ""), &[0]),
            (f(S::Low, None, false, ""), &[2, 3]),
            (f(S::NoBikes, None, false, ""), &[4]),
            (f(S::Any, None, true, ""), &[0, 2]),
            (f(S::Any, None, false, " oak "), &[0, 3]),
            (f(S::Low, Some(C::Primary), false, ""), &[]),
        ];
        for (filter, want) in cases {
            let got: Vec<usize> = shown_rows(&r, &filter, Sort::default())
                .into_iter()
                .map(|i| r[i].geom)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            assert_eq!(got, want, "{filter:?}");
        }
    }

    #[test]
    fn sorting_by_each_column() {
        let r = rows();
        let all = TableFilter::default();
        let by = |column, descending| -> Vec<usize> {
            shown_rows(&r, &all, Sort { column, descending })
                .into_iter()
                .map(|i| r[i].geom)
                .collect()
        };
        use SortColumn as K;
        // No bikes is the worst; ties keep the segments' order.
        assert_eq!(by(K::Stress, true), [4, 0, 1, 2, 3]);
        assert_eq!(by(K::Stress, false), [2, 3, 0, 1, 4]);
        assert_eq!(by(K::Length, true), [4, 1, 0, 2, 3]);
        // Untagged speeds and unnamed roads last, whichever the direction.
        assert_eq!(by(K::Speed, true), [4, 1, 3, 0, 2]);
        assert_eq!(by(K::Speed, false), [3, 1, 4, 0, 2]);
        assert_eq!(by(K::Name, false), [4, 1, 3, 0, 2]);
        assert_eq!(by(K::Name, true), [0, 3, 1, 4, 2]);
        assert_eq!(by(K::Class, false), [4, 1, 0, 3, 2]);
    }

    #[test]
    fn stress_cells() {
        let cases = [
            (Some(1), "1 low"),
            (Some(2), "2"),
            (Some(4), "4 high"),
            (None, "no bikes"),
        ];
        for (s, want) in cases {
            assert_eq!(stress_cell(s), want);
        }
    }

    #[test]
    fn columns_fit_the_width() {
        let l = column_lefts(0.0, 1000.0);
        assert_eq!(l[0], 0.0);
        assert_eq!(l[1], 1000.0 - 460.0);
        assert!(l.windows(2).all(|w| w[0] < w[1]));
        // A narrow panel keeps a quarter for the name and shrinks the rest to fit.
        let n = column_lefts(10.0, 400.0);
        assert_eq!(n[1], 110.0);
        let last_end = n[5] + COLUMNS[5].2 * (300.0 / 460.0);
        assert!((last_end - 410.0).abs() < 1e-3, "{n:?}");
    }
}
