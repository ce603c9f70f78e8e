//! The View menu's legibility options driven through egui_kittest: the light theme (its
//! colours applied and remembered between runs) and the road legend that says how stress is
//! drawn besides its colour.

use std::path::Path;

use bna_app::layout::PanelLayout;
use bna_app::paths::RecentProjects;
use bna_app::segment_table::SortColumn;
use bna_app::{theme, BnaApp, Selection};
use bna_test_support::app::opened_demo;
use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

#[test]
fn the_light_theme_is_applied_and_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    assert!(h.ctx.global_style().visuals.dark_mode, "dark by default");
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Light theme").click();
    h.run_steps(3);
    let v = h.ctx.global_style().visuals.clone();
    assert!(!v.dark_mode);
    assert_eq!(v.panel_fill, theme::LIGHT.panel_fill);
    assert_eq!(v.weak_text_color(), theme::LIGHT.weak_text);
    assert!(h.state().layout().light_theme);
    // Kept with the panel folds, so the next start is light too.
    let saved = RecentProjects::load(&dir.path().join("recent.json"));
    assert_eq!(
        saved.layout,
        PanelLayout {
            light_theme: true,
            ..PanelLayout::default()
        }
    );
    drop(h);
    let mut h = opened_demo(dir.path());
    h.run_steps(2);
    assert!(!h.ctx.global_style().visuals.dark_mode, "remembered");
}

#[test]
fn the_road_legend_names_the_shape_of_each_stress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = opened_demo(dir.path());
    // The legend is painted, not laid out: its text is found among the painted shapes.
    let texts = painted_texts(&h);
    for want in [
        "Low stress (cased)",
        "High stress (wide)",
        "No bikes allowed (dashed)",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want} in {texts:?}");
    }
}

fn painted_texts(h: &Harness<'_, BnaApp>) -> Vec<String> {
    let mut out = Vec::new();
    for clipped in &h.output().shapes {
        collect_texts(&clipped.shape, &mut out);
    }
    out
}

fn collect_texts(shape: &eframe::egui::epaint::Shape, out: &mut Vec<String>) {
    use eframe::egui::epaint::Shape;
    match shape {
        Shape::Text(t) => out.push(t.galley.text().to_owned()),
        Shape::Vec(v) => v.iter().for_each(|s| collect_texts(s, out)),
        _ => {}
    }
}

#[test]
fn the_segment_table_filters_sorts_and_drives_the_map_and_scenario_selection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Segment table").click();
    h.run_steps(3);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    let total = h.state().project().unwrap().geometry.segments.len();
    h.get_by_label(&format!("{total} of {total} segments"));
    // Worst first by default.
    let sort = |h: &Harness<'_, BnaApp>| {
        let s = h.state().segment_table().sort;
        (s.column, s.descending)
    };
    assert_eq!(sort(&h), (SortColumn::Stress, true));

    // "No speed tag" keeps exactly the roads without a maxspeed tag.
    h.get_by_label("no speed tag").click();
    h.run_steps(3);
    let untagged = {
        let p = h.state().project().unwrap();
        p.geometry
            .segments
            .iter()
            .filter(|s| {
                p.data.segments[s.segment as usize]
                    .attrs
                    .speed_limit
                    .is_none()
            })
            .count()
    };
    assert!(untagged > 0 && untagged < total, "{untagged} of {total}");
    h.get_by_label(&format!("{untagged} of {total} segments"));
    assert_eq!(h.state().segment_table().shown_len(), untagged);

    // Sorting by length, longest first, then reversed.
    h.get_by_label("Length (m)").click();
    h.run_steps(3);
    assert_eq!(sort(&h), (SortColumn::Length, true));
    let lengths = |h: &Harness<'_, BnaApp>| -> Vec<f64> {
        use geo::{Euclidean, Length};
        let p = h.state().project().unwrap();
        h.state()
            .segment_table()
            .shown_segments()
            .map(|g| {
                Euclidean.length(&p.data.segments[p.geometry.segments[g].segment as usize].geom)
            })
            .collect()
    };
    let l = lengths(&h);
    assert!(l.windows(2).all(|w| w[0] >= w[1]), "longest first");
    h.get_by_label("Length (m)").click();
    h.run_steps(3);
    assert!(
        lengths(&h).windows(2).all(|w| w[0] <= w[1]),
        "shortest first"
    );
    assert_eq!(sort(&h), (SortColumn::Length, false));

    // Clicking the first row selects that road on the map and centres the map on it.
    let first = h
        .state()
        .segment_table()
        .shown_segments()
        .next()
        .expect("a row");
    let head = h.get_by_label("Length (m)").rect();
    let row_h = head.height();
    let before = h.state().last_view();
    bna_test_support::app::click_at(
        &mut h,
        egui::pos2(head.center().x, head.bottom() + 4.0 + row_h / 2.0),
    );
    assert_eq!(h.state().selection(), Some(Selection::Segment(first)));
    h.run_steps(3);
    assert_ne!(h.state().last_view(), before, "the map moved to the road");
    h.get_by_label("Inspector");

    // "Select all shown" hands the filtered roads to the scenario workbench.
    h.get_by_label("Select all shown").click();
    h.run_steps(3);
    let selected: Vec<usize> = h.state().scenarios().selected.iter().copied().collect();
    let mut shown: Vec<usize> = h.state().segment_table().shown_segments().collect();
    shown.sort_unstable();
    assert_eq!(selected, shown);
    assert!(h.state().scenarios().open, "the scenario panel opened");
}

/// Fulfils the screenshot the app asked for in the last frame, as eframe would, with a
/// window-sized picture whose map part is one colour (the harness has no renderer).
fn fulfil_screenshot(h: &mut Harness<'_, BnaApp>, map_color: egui::Color32) -> bool {
    let ppp = h.ctx.pixels_per_point();
    let size = h.ctx.content_rect().size() * ppp;
    let (w, hgt) = (size.x as usize, size.y as usize);
    let map = h.state().last_view().expect("drawn").screen;
    let mut img = egui::ColorImage::filled([w, hgt], egui::Color32::BLACK);
    for y in 0..hgt {
        for x in 0..w {
            if map.contains(egui::pos2(x as f32 / ppp + 0.01, y as f32 / ppp + 0.01)) {
                img.pixels[y * w + x] = map_color;
            }
        }
    }
    let img = std::sync::Arc::new(img);
    for _ in 0..6 {
        let mut found = false;
        for v in h.output().viewport_output.values() {
            for c in &v.commands {
                if let egui::ViewportCommand::Screenshot(cb) = c {
                    cb.clone().complete(img.clone());
                    found = true;
                }
            }
        }
        if found {
            return true;
        }
        h.step();
    }
    false
}

fn save_through_prompt(h: &mut Harness<'_, BnaApp>, menu_item: &str, path: &Path) {
    use bna_app::file_dialog::PATH_FIELD;
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label(menu_item).click();
    h.run_steps(2);
    h.get_by_label(PATH_FIELD).click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label(PATH_FIELD)
        .type_text(&path.display().to_string());
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.step();
    assert!(h.state().path_prompt().is_none(), "the prompt closed");
}

#[test]
fn the_map_view_exports_as_png_and_the_council_summary_as_one_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    h.state_mut()
        .use_in_app_file_dialogs("No system file dialog in tests.");
    // The scale bar is on the map: a round length.
    let texts = painted_texts(&h);
    assert!(
        texts
            .iter()
            .any(|t| t.ends_with(" m") || t.ends_with(" km")),
        "a scale bar label in {texts:?}"
    );

    let png = dir.path().join("view.png");
    save_through_prompt(&mut h, "Export map view (PNG)…", &png);
    assert!(
        fulfil_screenshot(&mut h, egui::Color32::from_rgb(1, 2, 3)),
        "a screenshot was asked"
    );
    h.run_steps(2);
    let map = h.state().last_view().expect("drawn").screen;
    let ppp = h.ctx.pixels_per_point();
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("the png"),
    ));
    let mut r = dec.read_info().expect("a png");
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).expect("frame");
    // Only the map: its size, and none of the window's black around it.
    assert_eq!(
        (info.width as f32, info.height as f32),
        ((map.width() * ppp).round(), (map.height() * ppp).round())
    );
    assert!(buf.chunks(4).all(|p| p == [1, 2, 3, 255]));
    assert!(
        matches!(h.state().status(), bna_app::Status::Done(m) if m.starts_with("Map view saved to"))
    );

    let html = dir.path().join("council.html");
    save_through_prompt(&mut h, "Council summary (one page)…", &html);
    assert!(fulfil_screenshot(&mut h, egui::Color32::WHITE));
    h.run_steps(2);
    let page = std::fs::read_to_string(&html).expect("the page");
    assert!(dir.path().join("council-map.png").is_file());
    assert!(
        page.contains(r#"<img src="council-map.png""#),
        "the map beside it"
    );
    let data = &h.state().project().unwrap().data;
    let overall = data
        .overall_scores
        .iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized)
        .expect("scored");
    assert!(
        page.contains(&format!(r#"<p class="score">{overall:.2}</p>"#)),
        "the score, two decimals"
    );
    // Human labels and what they measure, members under their group.
    assert!(
        page.contains("<td>Core services</td>")
            && page.contains("<tr class=\"member\"><td>Grocery stores</td>")
    );
    assert!(!page.contains("core_services"), "no score ids");
    assert!(page.contains("@page"), "print-ready");
}

#[test]
fn street_names_label_the_map_at_street_zoom_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    let names: std::collections::BTreeSet<String> = h
        .state()
        .project()
        .unwrap()
        .data
        .segments
        .iter()
        .filter_map(|s| s.name.clone())
        .collect();
    // The labels' ink, not their white halo (four offset copies under each).
    let painted_names = |h: &Harness<'_, BnaApp>| -> Vec<String> {
        let mut out = Vec::new();
        for c in &h.output().shapes {
            if let eframe::egui::epaint::Shape::Text(t) = &c.shape {
                let text = t.galley.text();
                if names.contains(text) && t.fallback_color != egui::Color32::WHITE {
                    out.push(text.to_owned());
                }
            }
        }
        out
    };
    // The whole project in view: city zoom, no labels.
    assert!(painted_names(&h).is_empty());
    // Street zoom on a named road: its name is on the map, once.
    let (lon, lat, name) = {
        let p = h.state().project().unwrap();
        let s = p
            .geometry
            .segments
            .iter()
            .find(|s| {
                p.data.segments[s.segment as usize].name.as_deref()
                    == Some("Georgia Avenue Northwest")
            })
            .expect("a named road");
        let pts = p.geometry.segment_points(s);
        let (lon, lat) = p.geometry.to_lon_lat(pts[pts.len() / 2]);
        (lon, lat, "Georgia Avenue Northwest".to_owned())
    };
    let m = h.state_mut().map_memory_mut();
    let _ = m.set_zoom(17.0);
    m.center_at(walkers::lon_lat(lon, lat));
    h.run_steps(3);
    let shown = painted_names(&h);
    assert_eq!(shown.iter().filter(|n| **n == name).count(), 1, "{shown:?}");
    let unique: std::collections::BTreeSet<&String> = shown.iter().collect();
    assert_eq!(unique.len(), shown.len(), "each name once: {shown:?}");
}
