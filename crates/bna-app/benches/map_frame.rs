//! Frame cost of the desktop app while panning the DC demo with every segment of the project
//! (study area and routing buffer) drawn, as `cargo bench --bench map_frame` reports it:
//!
//! - `app_frame_while_panning`: one whole frame of `BnaApp::show` (side panel, plots, map
//!   layers as meshes) through egui_kittest, the map being dragged 12 px a frame;
//! - `tessellate_frame`: turning that frame's shapes into GPU triangles (what the harness
//!   leaves to the renderer);
//! - `map_layers`: the road and block meshes alone, for the same view.
//!
//! No GPU is involved: the renderer's upload and draw are not measured.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bna_app::jobs::{self, JobShared};
use bna_app::{draw, AppOptions, BnaApp};
use bna_engine::pipeline::demo::dc_request;
use criterion::{criterion_group, criterion_main, Criterion};
use eframe::egui::{self, Color32};
use egui_kittest::Harness;

fn data_dir() -> PathBuf {
    bna_test_support::repo_root().join("data")
}

fn press(h: &mut Harness<'_, BnaApp>, pos: egui::Pos2, pressed: bool) {
    h.event(egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
}

fn map_frame(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("dc.bna");
    jobs::analyse_and_load(&dc_request(&data_dir(), out.clone()), &JobShared::new(None))
        .expect("the DC demo analyses");
    let app = BnaApp::new(AppOptions {
        data_dir: data_dir(),
        demo_project: None,
        open: Some(out),
        recent_file: None,
        online_tiles: false,
        tile_cache: None,
    });
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut BnaApp| app.show(ui), app);
    let t0 = Instant::now();
    while h.state().project().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the demo did not open"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(3);
    // Zoomed out to everything the project holds, so that every segment is drawn.
    let g = h.state().project().expect("open").geometry.clone();
    let screen = h.state().last_view().expect("the map was drawn").screen;
    let (lon, lat) = g.to_lon_lat(g.bounds.center());
    let memory = h.state_mut().map_memory_mut();
    let _ = memory.set_zoom(draw::fit_zoom(g.bounds, screen.size()));
    memory.center_at(walkers::lon_lat(lon, lat));
    h.run_steps(3);
    let view = h.state().last_view().expect("the map was drawn");
    let visible = view.visible_local(0.0);
    let shown = g
        .segments
        .iter()
        .filter(|s| s.bbox.intersects(visible))
        .count();
    eprintln!(
        "map_frame: {shown} of {} segments and {} blocks in view",
        g.segments.len(),
        g.blocks.len()
    );
    assert_eq!(shown, g.segments.len(), "every segment is in view");

    let start = view.screen.center();
    h.event(egui::Event::PointerMoved(start));
    h.step();
    press(&mut h, start, true);
    let mut k = 0u32;
    let mut group = c.benchmark_group("map_frame");
    group.bench_function("app_frame_while_panning", |b| {
        b.iter(|| {
            k += 1;
            let dx = if k % 2 == 0 { 6.0 } else { -6.0 };
            h.event(egui::Event::PointerMoved(start + egui::vec2(dx, dx / 2.0)));
            h.step();
        })
    });
    let shapes = h.output().shapes.clone();
    let ppp = h.output().pixels_per_point;
    let ctx = h.ctx.clone();
    group.bench_function("tessellate_frame", |b| {
        b.iter(|| ctx.tessellate(shapes.clone(), ppp))
    });
    let view = h.state().last_view().expect("view");
    let width = draw::road_width(14.0);
    group.bench_function("map_layers", |b| {
        b.iter(|| {
            let roads = draw::roads(&g, &view, width, bna_app::geometry::StressView::Worse, None);
            let blocks = draw::blocks(&g, &view, |s| s.map(|_| Color32::GRAY), None, None);
            roads.vertices.len() + blocks.vertices.len()
        })
    });
    group.finish();
    press(&mut h, start, false);
}

criterion_group!(benches, map_frame);
criterion_main!(benches);
