//! The desktop app driven through egui_kittest with its real state: the demo project analysed
//! through the app's own job code, then opened, inspected, toggled, run and cancelled.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bna::app::jobs::{self, JobShared, StageState};
use bna::app::{demo, panels, AppOptions, BnaApp, RunForm, Selection, Status};
use bna::store::Project;
use eframe::egui::{self, Pos2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn options(dir: &Path, open: Option<PathBuf>) -> AppOptions {
    AppOptions {
        data_dir: data_dir(),
        demo_project: None,
        open,
        recent_file: Some(dir.join("recent.json")),
        // No network in tests: the roads layer must carry the map on its own.
        online_tiles: false,
        tile_cache: None,
    }
}

/// The DC demo, analysed once per test binary, synchronously, by the function the app's
/// worker thread runs.
fn demo_project() -> &'static Path {
    static DEMO: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("demo-dc.bna");
        let obs = JobShared::new(None);
        let loaded = jobs::analyse_and_load(&demo::dc_request(&data_dir(), out.clone()), &obs)
            .expect("the DC demo analyses");
        assert!(!loaded.data.segments.is_empty());
        assert!(
            obs.stages()
                .iter()
                .all(|r| matches!(r.state, StageState::Done { .. })),
            "every stage reported finished: {:?}",
            obs.stages()
        );
        (dir, out)
    });
    path
}

fn harness(app: BnaApp) -> Harness<'static, BnaApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut BnaApp| app.show(ui), app)
}

/// Steps frames in real time (the jobs run on threads) until `done`, or fails.
fn step_until(h: &mut Harness<'_, BnaApp>, what: &str, done: impl Fn(&BnaApp) -> bool) {
    let t0 = Instant::now();
    while !done(h.state()) {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}; status {:?}",
            h.state().status()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}

fn opened_demo(dir: &Path) -> Harness<'static, BnaApp> {
    let app = BnaApp::new(options(dir, Some(demo_project().to_path_buf())));
    let mut h = harness(app);
    step_until(&mut h, "the demo to open", |a| a.project().is_some());
    h.run_steps(3);
    h
}

fn click_at(h: &mut Harness<'_, BnaApp>, pos: Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(2);
}

#[test]
fn shows_the_overall_score_of_the_opened_project() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = opened_demo(dir.path());
    let expected = Project::create_or_open(demo_project())
        .expect("open")
        .overall_scores()
        .expect("scores")
        .into_iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized)
        .expect("an overall score");
    let text = format!("{expected:.1}");
    let label = h.get_by_label(&text);
    assert_eq!(
        panels::format_score(Some(expected)),
        format!("{expected:.1}")
    );
    assert!(
        label.rect().height() > 30.0,
        "the overall score is shown large"
    );
    h.get_by_label("BNA score");
    h.get_by_label("© OpenStreetMap contributors");
    // Opening a project remembers it.
    let recent = bna::app::paths::RecentProjects::load(&dir.path().join("recent.json"));
    let canonical = std::fs::canonicalize(demo_project()).expect("canonical");
    assert_eq!(recent.projects.first(), Some(&canonical));
    assert!(matches!(h.state().status(), Status::Done(_)));
}

#[test]
fn toggling_a_layer_changes_the_map_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    assert!(h.state().layers().blocks);
    h.get_by_label("Census blocks (score)").click();
    h.run();
    assert!(!h.state().layers().blocks, "unchecked");
    h.get_by_label("Road stress").click();
    h.run();
    assert!(!h.state().layers().roads);
    h.get_by_label("Census blocks (score)").click();
    h.run();
    assert!(h.state().layers().blocks, "checked again");
}

#[test]
fn clicking_a_road_opens_the_inspector_with_its_stress_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    // Aim at the middle of a long segment, where it is the nearest road.
    let (index, target) = {
        let app = h.state();
        let g = &app.project().expect("open").geometry;
        let view = app.last_view().expect("the map was drawn");
        let (i, s) = g
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                view.screen
                    .shrink(60.0)
                    .contains(view.to_screen(s.bbox.center()))
            })
            .max_by(|a, b| {
                let len = |s: &bna::app::geometry::SegmentGeom| s.bbox.size().length();
                len(a.1).total_cmp(&len(b.1))
            })
            .expect("a visible segment");
        let pts = g.segment_points(s);
        let mid = pts[0] + (pts[1] - pts[0]) * 0.5;
        (i, view.to_screen(mid))
    };
    let before = h.state().last_view();
    click_at(&mut h, target);
    let Some(Selection::Segment(picked)) = h.state().selection() else {
        panic!("no segment selected: {:?}", h.state().selection());
    };
    let app = h.state();
    let project = app.project().expect("open");
    // The view the click was made in.
    let view = before.expect("view");
    let picked_geom = &project.geometry.segments[picked];
    let distance_px = project
        .geometry
        .segment_points(picked_geom)
        .windows(2)
        .map(|w| {
            bna::app::geometry::distance_to_segment(view.to_local(target), w[0], w[1]) * view.scale
        })
        .fold(f32::INFINITY, f32::min);
    assert!(
        distance_px <= 6.0,
        "picked a road {distance_px} px away (aimed at #{index})"
    );
    let seg = &project.data.segments[picked_geom.segment as usize];
    assert_eq!(
        h.state().last_view().map(|v| v.origin),
        before.map(|v| v.origin),
        "opening the inspector does not move the map"
    );
    h.get_by_label("Inspector");
    h.get_by_label("Traffic stress");
    // The rule id that decided ft segment stress is shown.
    assert!(!h
        .get_all_by_label(&seg.stress_rules[0])
        .collect::<Vec<_>>()
        .is_empty());
    h.get_by_label(&format!("OSM tags ({})", seg.tags.len()));
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().selection(), None, "Escape closes the inspector");
}

#[test]
fn a_run_can_be_cancelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cancelled.bna");
    let mut app = BnaApp::new(options(dir.path(), None));
    *app.form_mut() = RunForm::from_request(&demo::dc_request(&data_dir(), out.clone()));
    let mut h = harness(app);
    h.get_by_label("Run analysis").click();
    h.run();
    h.get_by_label("Run").click();
    h.run_steps(2);
    assert!(
        matches!(h.state().status(), Status::Working(_)),
        "{:?}",
        h.state().status()
    );
    h.get_by_label("Cancel").click();
    step_until(&mut h, "the run to stop", |a| !a.is_busy());
    assert_eq!(h.state().status(), &Status::Cancelled);
    h.get_by_label("Cancelled");
    assert!(h.state().project().is_none());
    assert!(
        !out.exists(),
        "a cancelled run leaves no half project behind"
    );
}

#[test]
fn a_bad_input_shows_the_pipelines_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), None));
    let mut req = demo::dc_request(&data_dir(), dir.path().join("bad.bna"));
    req.boundary = dir.path().join("missing-boundary.geojson");
    *app.form_mut() = RunForm::from_request(&req);
    let mut h = harness(app);
    h.get_by_label("Run analysis").click();
    h.run();
    h.get_by_label("Run").click();
    h.step();
    step_until(&mut h, "the run to fail", |a| !a.is_busy());
    let Status::Failed(reason) = h.state().status().clone() else {
        panic!("expected a failure, got {:?}", h.state().status());
    };
    assert!(reason.contains("missing-boundary.geojson"), "{reason}");
    h.get_by_label(&format!("Error: {reason}"));
}

#[test]
fn panning_keeps_frames_cheap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    let before = h.state().last_view().expect("drawn");
    let start = before.screen.center();
    h.event(egui::Event::PointerMoved(start));
    h.event(egui::Event::PointerButton {
        pos: start,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    let frames = 60;
    let t0 = Instant::now();
    for i in 1..=frames {
        let p = start + egui::vec2(i as f32 * 4.0, i as f32 * 2.0);
        h.event(egui::Event::PointerMoved(p));
        h.step();
    }
    let per_frame = t0.elapsed() / frames;
    h.event(egui::Event::PointerButton {
        pos: start + egui::vec2(frames as f32 * 4.0, frames as f32 * 2.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    let after = h.state().last_view().expect("drawn");
    let moved = after.origin - before.origin;
    assert!(
        moved.x > 100.0 && moved.y > 50.0,
        "the map followed the drag: {moved:?}"
    );
    let app_avg = h.state().frame_stats().average().expect("frames recorded");
    // What the harness leaves out: turning the frame's shapes into triangles for the GPU.
    let shapes = h.output().shapes.clone();
    let ppp = h.output().pixels_per_point;
    let t1 = Instant::now();
    let primitives = h.ctx.tessellate(shapes, ppp);
    let tessellate = t1.elapsed();
    assert!(!primitives.is_empty());
    let vertices: usize = primitives
        .iter()
        .map(|p| match &p.primitive {
            egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
            _ => 0,
        })
        .sum();
    eprintln!(
        "panning: {per_frame:?} per harness step, {app_avg:?} in BnaApp::show (avg of last 120), \
         {tessellate:?} to tessellate a frame ({vertices} vertices), {} segments",
        h.state().project().expect("open").geometry.segments.len()
    );
}
