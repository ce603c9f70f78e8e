//! Driving the desktop app in tests (egui_kittest), as the app's own tests and the cloud tests
//! that run it against the AWS emulator all need: options with no network, a harness tall
//! enough that the side panel is on screen, stepping until something happened, clicks, and the
//! DC demo analysed once per test binary.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bna_app::jobs::{self, JobShared, StageState};
use bna_app::{AppOptions, BnaApp};
use bna_engine::pipeline::demo::dc_request;
use eframe::egui::{self, Pos2};
use egui_kittest::Harness;

/// Options of an app that touches nothing outside `dir`: no demo project, no online tiles.
pub fn options(dir: &Path, open: Option<PathBuf>) -> AppOptions {
    AppOptions {
        data_dir: crate::data_dir(),
        demo_project: None,
        open,
        recent_file: Some(dir.join("recent.json")),
        // No network in tests: the roads layer must carry the map on its own.
        online_tiles: false,
        tile_cache: None,
    }
}

/// A harness tall enough that the whole side panel is on screen: kittest clicks where a
/// widget is.
pub fn harness(app: BnaApp) -> Harness<'static, BnaApp> {
    harness_sized(app, 1280.0, 1600.0)
}

pub fn harness_sized(app: BnaApp, w: f32, h: f32) -> Harness<'static, BnaApp> {
    Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_ui_state(|ui, app: &mut BnaApp| app.show(ui), app)
}

/// Steps frames in real time (runs, downloads and cloud jobs go on threads) until `done`, or
/// fails after three minutes naming what it waited for and where the app stands.
pub fn step_until(h: &mut Harness<'_, BnaApp>, what: &str, done: impl Fn(&BnaApp) -> bool) {
    step_until_within(h, what, Duration::from_secs(180), done);
}

/// [`step_until`] with its own limit; returns the longest frame the app measured meanwhile.
pub fn step_until_within(
    h: &mut Harness<'_, BnaApp>,
    what: &str,
    limit: Duration,
    done: impl Fn(&BnaApp) -> bool,
) -> Duration {
    let t0 = Instant::now();
    let mut longest = Duration::ZERO;
    while !done(h.state()) {
        longest = longest.max(h.state().frame_stats().max().unwrap_or_default());
        assert!(
            t0.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}; status {:?}, scenario message {:?}, cloud job {:?}",
            h.state().status(),
            h.state().scenarios().message,
            h.state().cloud_status(),
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
    longest.max(h.state().frame_stats().max().unwrap_or_default())
}

pub fn set_modifiers(h: &mut Harness<'_, BnaApp>, m: egui::Modifiers) {
    h.event(egui::Event::ModifiersChanged(m));
    h.step();
}

/// A primary click at a screen position (a road, a block: things with no label to find).
pub fn click_at(h: &mut Harness<'_, BnaApp>, pos: Pos2) {
    click_with(h, pos, egui::Modifiers::NONE);
}

/// [`click_at`] with modifiers held (Shift/Ctrl+click adds to a selection).
pub fn click_with(h: &mut Harness<'_, BnaApp>, pos: Pos2, modifiers: egui::Modifiers) {
    set_modifiers(h, modifiers);
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers,
        });
        h.step();
    }
    set_modifiers(h, egui::Modifiers::NONE);
    h.run_steps(2);
}

/// The DC demo, analysed once per test binary, synchronously, by the function the app's
/// worker thread runs.
pub fn demo_project() -> &'static Path {
    static DEMO: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("demo-dc.bna");
        let obs = JobShared::new(None);
        let loaded = jobs::analyse_and_load(&dc_request(&crate::data_dir(), out.clone()), &obs)
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

/// A harness on `app` once its project has opened (and a few frames drawn on it).
pub fn opened(app: BnaApp) -> Harness<'static, BnaApp> {
    let mut h = harness(app);
    step_until(&mut h, "the project to open", |a| a.project().is_some());
    h.run_steps(3);
    h
}

/// The app with the analysed DC demo open, keeping its files in `dir`.
pub fn opened_demo(dir: &Path) -> Harness<'static, BnaApp> {
    opened(BnaApp::new(options(
        dir,
        Some(demo_project().to_path_buf()),
    )))
}

/// Replaces a text field's content as a user would: select all, then type.
pub fn replace_text(h: &mut Harness<'_, BnaApp>, label: &str, text: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label(label).click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label(label).type_text(text);
    h.run_steps(2);
}
