//! The desktop app driven through egui_kittest with its real state: the demo project analysed
//! through the app's own job code, then opened, inspected, toggled, run and cancelled; and
//! "Get data" fetching from a local HTTP server on 127.0.0.1 (`common`) into the run form.

use bna_test_support::http as common;

use std::path::Path;
use std::time::{Duration, Instant};

use bna_app::fetch_ui::FetchOutcome;
use bna_app::jobs::{self, StageState};
use bna_app::state::PopulationMode;
use bna_app::{panels, BnaApp, RunForm, Selection, Status};
use bna_engine::pipeline::demo::dc_request;
use bna_engine::pipeline::OsmClip;
use bna_engine::store::Project;
use bna_fetch::Origin;
use bna_test_support::app::{
    click_at, demo_project, harness, harness_sized, opened_demo, options, replace_text, step_until,
};
use bna_test_support::data_dir;
use eframe::egui::{self, Pos2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

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
    let recent = bna_app::paths::RecentProjects::load(&dir.path().join("recent.json"));
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
                let len = |s: &bna_app::geometry::SegmentGeom| s.bbox.size().length();
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
            bna_app::geometry::distance_to_segment(view.to_local(target), w[0], w[1]) * view.scale
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

/// The DC demo run into `out`, started from the Run button and under way.
fn demo_run_started(dir: &Path, out: &Path) -> Harness<'static, BnaApp> {
    let mut app = BnaApp::new(options(dir, None));
    *app.form_mut() = RunForm::from_request(&dc_request(&data_dir(), out.to_path_buf()));
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
    h
}

#[test]
fn a_run_can_be_cancelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cancelled.bna");
    let mut h = demo_run_started(dir.path(), &out);
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
fn a_new_run_supersedes_the_running_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.bna");
    let second = dir.path().join("second.bna");
    let mut h = demo_run_started(dir.path(), &first);
    // The planner changes the target and presses Run again while the first run works.
    *h.state_mut().form_mut() = RunForm::from_request(&dc_request(&data_dir(), second.clone()));
    h.run_steps(1);
    h.get_by_label("Run").click();
    step_until(&mut h, "the second run to finish", |a| {
        !a.is_busy() && a.project().is_some()
    });
    assert!(
        matches!(h.state().status(), Status::Done(_)),
        "{:?}",
        h.state().status()
    );
    assert_eq!(h.state().project().expect("opened").path, second);
    assert!(
        !first.exists(),
        "the superseded run was cancelled and left no half project behind"
    );
}

#[test]
fn a_bad_input_shows_the_pipelines_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), None));
    let mut req = dc_request(&data_dir(), dir.path().join("bad.bna"));
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
fn dragging_pans_the_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    let before = h.state().last_view().expect("drawn");
    let start = before.screen.center();
    let end = drag(&mut h, start, egui::vec2(240.0, 120.0));
    let after = h.state().last_view().expect("drawn");
    let moved = after.origin - before.origin;
    let dragged = end - start;
    // Kinetic panning may carry it a little further; the start of a drag may be lost.
    assert!(
        moved.x > 0.75 * dragged.x && moved.y > 0.75 * dragged.y,
        "the map followed the drag: {moved:?}"
    );
    assert_eq!(h.state().selection(), None, "a drag is not a click");
}

fn drag(h: &mut Harness<'_, BnaApp>, start: Pos2, by: egui::Vec2) -> Pos2 {
    h.event(egui::Event::PointerMoved(start));
    h.step();
    h.event(egui::Event::PointerButton {
        pos: start,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    let steps = 20;
    for i in 1..=steps {
        h.event(egui::Event::PointerMoved(
            start + by * (i as f32 / steps as f32),
        ));
        h.step();
    }
    let end = start + by;
    h.event(egui::Event::PointerButton {
        pos: end,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(2);
    end
}

fn right_click_at(h: &mut Harness<'_, BnaApp>, pos: Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(2);
}

/// Screen position of a drawn corner in the current view.
fn corner_screen(h: &Harness<'_, BnaApp>, i: usize) -> Pos2 {
    let app = h.state();
    let c = app.drawing().expect("drawing").corners[i];
    let g = &app.project().expect("open").geometry;
    app.last_view()
        .expect("view")
        .to_screen(g.to_local(c.0, c.1))
}

#[test]
fn a_boundary_drawn_by_clicks_is_validated_saved_and_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    h.state_mut().form_mut().out = dir.path().join("drawn.bna").display().to_string();
    h.get_by_label("Run analysis").click();
    h.run_steps(2);
    h.get_by_label("Draw boundary on map").click();
    h.run_steps(2);
    assert!(h.state().drawing().is_some());
    let c = h.state().last_view().expect("view").screen.center();
    let (a, b, p3, p4) = (
        c + egui::vec2(-120.0, -80.0),
        c + egui::vec2(120.0, -80.0),
        c + egui::vec2(-120.0, 80.0),
        c + egui::vec2(120.0, 80.0),
    );
    click_at(&mut h, a);
    click_at(&mut h, b);
    h.get_by_label("Close shape").click();
    h.run_steps(2);
    h.get_by_label("Refused: a boundary needs at least 3 corners; 2 distinct so far");
    // A, B, then the bottom corners in the same left-to-right order: a bow tie.
    click_at(&mut h, p3);
    click_at(&mut h, p4);
    assert_eq!(h.state().drawing().expect("drawing").corners.len(), 4);
    h.get_by_label("Close shape").click();
    h.run_steps(2);
    let reason = h
        .state()
        .drawing()
        .and_then(|d| d.refused.clone())
        .expect("refused");
    assert!(reason.contains("crosses itself"), "{reason}");
    h.get_by_label(&format!("Refused: {reason}"));
    // Right-click deletes a corner; Undo brings it back; delete it again.
    right_click_at(&mut h, p4);
    assert_eq!(h.state().drawing().expect("drawing").corners.len(), 3);
    h.get_by_label("Undo").click();
    h.run_steps(2);
    assert_eq!(h.state().drawing().expect("drawing").corners.len(), 4);
    right_click_at(&mut h, p4);
    // Drag the third corner down-right: the map stays put, the corner follows.
    let view_before = h.state().last_view().expect("view");
    let from = corner_screen(&h, 2);
    let to = drag(&mut h, from, egui::vec2(40.0, 30.0));
    assert_eq!(
        h.state().last_view().expect("view").origin,
        view_before.origin
    );
    assert!(
        (corner_screen(&h, 2) - to).length() < 1.0,
        "the corner moved to the pointer"
    );
    // Clicking the first corner closes the shape: valid now, saved, the form's boundary.
    let first = corner_screen(&h, 0);
    click_at(&mut h, first);
    assert!(h.state().drawing().is_none(), "closed");
    let path = dir.path().join("drawn-boundary.geojson");
    assert_eq!(h.state().form().boundary, path.display().to_string());
    let saved = bna_engine::ingest::boundary::load_boundary(&path).expect("the engine reads it");
    assert_eq!(saved.0.len(), 1);
    assert_eq!(saved.0[0].exterior().0.len(), 4, "3 corners, closed");
    assert!(matches!(h.state().status(), Status::Done(m) if m.contains("Boundary saved")));
}

#[test]
fn the_inputs_summary_shows_counts_and_coverage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), None));
    let req = dc_request(&data_dir(), dir.path().join("x.bna"));
    *app.form_mut() = RunForm::from_request(&req);
    let mut h = harness(app);
    h.get_by_label("Run analysis").click();
    h.run_steps(2);
    let expected = bna_engine::pipeline::inspect_inputs(
        &h.state().form().input_files(),
        &bna_engine::progress::Counter::default(),
    )
    .expect("inspected");
    let osm = expected.osm.clone().expect("osm").expect("readable");
    assert!(osm.highway_ways > 0 && osm.nodes > 0);
    let line = panels::osm_line(&osm);
    let t0 = Instant::now();
    while h.query_by_label(&line).is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no OSM summary shown"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let blocks = expected.blocks.clone().expect("blocks").expect("readable");
    h.get_by_label(&panels::blocks_line(&blocks));
    let jobs = expected.jobs.clone().expect("jobs").expect("readable");
    assert!(jobs.matching_blocks.is_some_and(|m| m > 0));
    h.get_by_label(&panels::jobs_line(&jobs));
    assert_eq!(
        expected.coverage,
        Some(bna_engine::pipeline::Coverage::Full)
    );
    h.get_by_label(&bna_engine::pipeline::Coverage::Full.describe());
    // Another extract: the summary is read again, and says what is wrong with it.
    let missing = dir.path().join("nowhere.osm.pbf");
    h.state_mut().form_mut().osm = missing.display().to_string();
    let t0 = Instant::now();
    loop {
        h.step();
        let shown = h.state().inputs_summary().and_then(|s| s.osm.clone());
        if let Some(Err(e)) = shown {
            assert!(e.contains("nowhere.osm.pbf"), "{e}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "not re-read");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn clicking_a_block_shows_its_scores_and_reach() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    // Roads off, so that the click lands on the block and not on a street.
    h.get_by_label("Road stress").click();
    h.run_steps(2);
    let (target, block) = {
        let app = h.state();
        let p = app.project().expect("open");
        let view = app.last_view().expect("view");
        // A scored block well inside the window, with the most reach.
        let (_, b) = p
            .geometry
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.score.is_some()
                    && view
                        .screen
                        .shrink(80.0)
                        .contains(view.to_screen(b.bbox.center()))
            })
            .max_by_key(|(_, b)| {
                bna_engine::analysis::reach::reach_from(&p.data.pairs, b.block)
                    .full
                    .len()
            })
            .expect("a visible scored block");
        let t =
            &p.geometry.block_indices[b.triangles.start as usize..b.triangles.start as usize + 3];
        let v = |k: u32| p.geometry.block_vertices[k as usize];
        let centroid =
            ((v(t[0]).to_vec2() + v(t[1]).to_vec2() + v(t[2]).to_vec2()) / 3.0).to_pos2();
        (view.to_screen(centroid), b.block)
    };
    click_at(&mut h, target);
    let Some(Selection::Block(i)) = h.state().selection() else {
        panic!("no block selected: {:?}", h.state().selection());
    };
    let app = h.state();
    let p = app.project().expect("open");
    assert_eq!(p.geometry.blocks[i].block, block);
    let want = bna_engine::analysis::reach::reach_from(&p.data.pairs, block);
    assert!(!want.full.is_empty() && want.low_stress.len() <= want.full.len());
    assert_eq!(app.reach(), Some(&want));
    let geoid = p.data.blocks[block as usize].geoid.clone();
    let line = panels::reach_line(&want);
    h.get_by_label(&format!("Block {geoid}"));
    h.get_by_label("reachable blocks");
    h.get_by_label(&line);
}

#[test]
fn destinations_layer_and_score_histogram() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    let app = h.state();
    let p = app.project().expect("open");
    assert_eq!(p.geometry.destinations.len(), p.data.destinations.len());
    assert!(!p.data.destinations.is_empty());
    let bins = panels::score_histogram(&p.data);
    assert_eq!(bins.iter().sum::<usize>(), p.data.block_scores.len());
    assert!(!app.layers().destinations);
    h.get_by_label("Block score distribution");
    h.get_by_label("Destinations").click();
    h.run_steps(2);
    assert!(h.state().layers().destinations);
}

// ---- "Get data": fetching against a local server on 127.0.0.1 serving the files of data/ ----

/// Points the app's fetch at `server` (or nowhere) and at a cache of its own, as a user
/// would in "Sources and cache".
fn fetch_setup(app: &mut BnaApp, sources: bna_fetch::Sources, dir: &Path) {
    let f = app.fetch_form_mut();
    f.tiger_url = sources.tiger;
    f.lodes_url = sources.lodes;
    f.overpass_url = sources.overpass;
    f.cache_dir = dir.join("cache").display().to_string();
}

fn type_into(h: &mut Harness<'_, BnaApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.run_steps(2);
    h.get_by_label(label).type_text(text);
    h.run_steps(2);
}

fn open_get_data(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("Run analysis").click();
    h.run_steps(2);
    h.get_by_label("Get data").click();
    h.run_steps(2);
}

fn fetch_and_wait(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("Fetch").click();
    h.step();
    step_until(h, "the fetch to end", |a| !a.is_fetching());
}

fn dc_xml() -> Vec<u8> {
    common::pbf_to_osm_xml(&data_dir().join("us-dc/dc-nw-2016-highways.osm.pbf"))
}

#[test]
fn get_data_for_the_current_boundary_fills_the_form_and_runs() {
    let expected = Project::create_or_open(demo_project())
        .expect("open")
        .overall_scores()
        .expect("scores")
        .into_iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized);
    let xml = dc_xml();
    let server = common::Server::start(common::dc_routes(xml.clone()));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), None));
    let boundary = data_dir().join("us-dc/boundary-columbia-heights.geojson");
    app.form_mut().boundary = boundary.display().to_string();
    app.form_mut().out = dir.path().join("fetched.bna").display().to_string();
    fetch_setup(&mut app, server.sources(), dir.path());
    let mut h = harness(app);
    open_get_data(&mut h);
    h.get_by_label("Current boundary").click();
    h.run_steps(2);
    type_into(&mut h, "State", "DC");
    fetch_and_wait(&mut h);

    let Some(FetchOutcome::Done(text)) = h.state().fetch_outcome().cloned() else {
        panic!("fetch failed: {:?}", h.state().fetch_outcome());
    };
    // The LODES year was found on the server (HEAD requests downwards to 2021).
    assert!(text.contains("jobs (LODES 2021)"), "{text}");
    h.get_by_label(&text);
    // One row per file, each complete, with its byte count.
    let rows = h.state().fetch_rows();
    let size = |p: &str| {
        std::fs::metadata(data_dir().join(p))
            .expect("data file")
            .len()
    };
    let blocks_size = size("us-dc/tl_2021_11_tabblock20.zip");
    let jobs_size = size("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz");
    let mut downloaded: Vec<u64> = rows
        .iter()
        .filter(|r| r.origin == Some(Origin::Network))
        .map(|r| {
            assert_eq!(r.total, Some(r.done), "{r:?}");
            r.done
        })
        .collect();
    downloaded.sort();
    let mut want = vec![blocks_size, jobs_size, xml.len() as u64];
    want.sort();
    assert_eq!(downloaded, want, "{rows:?}");
    assert_eq!(rows.len(), 4, "boundary + 3 downloads: {rows:?}");
    for r in &rows {
        let shown = h.query_all_by_label(&r.status()).next().is_some();
        assert!(shown, "{} shown", r.status());
        assert_eq!(r.fraction(), 1.0);
    }
    h.get_by_label("your file");

    // The run form holds the fetched files.
    let form = h.state().form().clone();
    let folder = dir.path().join("fetched-inputs");
    assert_eq!(form.boundary, boundary.display().to_string());
    for f in [&form.osm, &form.blocks, &form.jobs] {
        let p = Path::new(f);
        assert!(p.starts_with(&folder) && p.is_file(), "{f}");
    }
    assert_eq!(std::fs::read(&form.osm).expect("osm"), xml);
    assert_eq!(form.state_fips, "11");
    assert_eq!(form.city_fips, "");
    assert_eq!(
        form.out,
        dir.path().join("fetched.bna").display().to_string()
    );

    // The inputs summary reads the new files.
    let summary = bna_engine::pipeline::inspect_inputs(
        &form.input_files(),
        &bna_engine::progress::Counter::default(),
    )
    .expect("inspected");
    let osm_line = panels::osm_line(&summary.osm.clone().expect("osm").expect("readable"));
    let t0 = Instant::now();
    while h.query_by_label(&osm_line).is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no OSM summary for the fetched extract"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label(&bna_engine::pipeline::Coverage::Full.describe());

    // The bundled TIGER file that stands in for the 2020 one has no POP20 (data/us-dc/README.md).
    h.state_mut().form_mut().population = PopulationMode::Synthetic;
    h.get_by_label("Run").click();
    h.step();
    step_until(&mut h, "the analysis of the fetched inputs", |a| {
        a.project().is_some() || matches!(a.status(), Status::Failed(_))
    });
    assert!(h.state().project().is_some(), "{:?}", h.state().status());
    // The same inputs as the bundled demo (Overpass XML written from its PBF): the same score.
    let text = panels::format_score(expected);
    assert_ne!(text, "–");
    let label = h.get_by_label(&text);
    assert!(
        label.rect().height() > 30.0,
        "the overall score is shown large"
    );
}

#[test]
fn get_data_by_fips_then_by_name_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let area = bna_engine::ingest::boundary::load_boundary(
        &data_dir().join("us-dc/boundary-columbia-heights.geojson"),
    )
    .expect("boundary");
    // A TIGER-layout place file for DC whose one place has the Columbia Heights polygon.
    let place = common::tiger_zip(
        dir.path(),
        "tl_2020_11_place",
        &[(
            &[
                ("STATEFP", "11"),
                ("PLACEFP", "50000"),
                ("GEOID", "1150000"),
                ("NAME", "Washington"),
                ("NAMELSAD", "Washington city"),
            ],
            area,
        )],
    );
    let mut routes = common::dc_routes(dc_xml());
    routes
        .files
        .insert("/tiger/PLACE/tl_2020_11_place.zip".into(), place);
    let server = common::Server::start(routes);
    let mut app = BnaApp::new(options(dir.path(), None));
    app.form_mut().out = dir.path().join("dc.bna").display().to_string();
    fetch_setup(&mut app, server.sources(), dir.path());
    let mut h = harness(app);
    open_get_data(&mut h);
    h.get_by_label("FIPS code").click();
    h.run_steps(2);
    type_into(&mut h, "FIPS", "1150000");
    type_into(&mut h, "LODES year", "2021");
    fetch_and_wait(&mut h);

    let Some(FetchOutcome::Done(text)) = h.state().fetch_outcome().cloned() else {
        panic!("fetch failed: {:?}", h.state().fetch_outcome());
    };
    assert!(text.contains("for Washington city"), "{text}");
    let form = h.state().form().clone();
    let folder = dir.path().join("dc-inputs");
    assert_eq!(
        form.boundary,
        folder.join("boundary.geojson").display().to_string()
    );
    bna_engine::ingest::boundary::load_boundary(Path::new(&form.boundary))
        .expect("a valid boundary");
    assert_eq!(
        (form.state_fips.as_str(), form.city_fips.as_str()),
        ("11", "1150000")
    );
    assert!(Path::new(&form.blocks).is_file() && Path::new(&form.jobs).is_file());
    let hits = server.hits();
    assert!(
        hits.iter().all(|h| h.method != "HEAD"),
        "a given LODES year needs no discovery: {hits:?}"
    );
    for path in [
        "/tiger/PLACE/tl_2020_11_place.zip",
        common::BLOCKS_PATH,
        common::LODES_PATH,
        "/api/interpreter",
    ] {
        assert_eq!(hits.iter().filter(|h| h.path == path).count(), 1, "{path}");
    }

    // Again by name: every file comes from the cache, without one request.
    h.get_by_label("Place name").click();
    h.run_steps(2);
    type_into(&mut h, "Place", "Washington");
    type_into(&mut h, "State", "DC");
    fetch_and_wait(&mut h);
    assert!(
        matches!(h.state().fetch_outcome(), Some(FetchOutcome::Done(t)) if t.contains("Washington city")),
        "{:?}",
        h.state().fetch_outcome()
    );
    assert_eq!(
        server.hits().len(),
        hits.len(),
        "cached files are never fetched twice"
    );
    let rows = h.state().fetch_rows();
    let cached = rows
        .iter()
        .filter(|r| r.origin == Some(Origin::Cache))
        .count();
    assert_eq!(cached, 4, "place file, blocks, jobs, OSM: {rows:?}");
    assert_eq!(h.get_all_by_label("cached").count(), 4);
    assert_eq!(h.state().form().city_fips, "1150000");
}

#[test]
fn offline_with_an_empty_cache_names_the_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), None));
    app.form_mut().out = dir.path().join("dc.bna").display().to_string();
    // Nothing listens there: offline must not even try.
    let nowhere = bna_fetch::Sources {
        tiger: "http://127.0.0.1:9/tiger".into(),
        lodes: "http://127.0.0.1:9/lodes".into(),
        overpass: "http://127.0.0.1:9/api".into(),
    };
    fetch_setup(&mut app, nowhere, dir.path());
    let mut h = harness(app);
    open_get_data(&mut h);
    h.get_by_label("FIPS code").click();
    h.run_steps(2);
    type_into(&mut h, "FIPS", "1150000");
    h.get_by_label("Offline (cached files only)").click();
    h.run_steps(2);
    assert!(h.state().fetch_form().offline);
    fetch_and_wait(&mut h);
    let Some(FetchOutcome::Failed(reason)) = h.state().fetch_outcome().cloned() else {
        panic!("expected a failure: {:?}", h.state().fetch_outcome());
    };
    let missing = dir
        .path()
        .join("cache/tiger2020/PLACE/tl_2020_11_place.zip");
    assert!(
        reason.contains("offline")
            && reason.contains(&missing.display().to_string())
            && reason.contains("http://127.0.0.1:9/tiger/PLACE/tl_2020_11_place.zip"),
        "{reason}"
    );
    h.get_by_label(&format!("Fetch failed: {reason}"));
    assert_eq!(h.state().form().osm, "", "the run form is left alone");
}

#[test]
fn a_fetch_shows_bytes_as_they_arrive_and_can_be_cancelled() {
    let mut routes = common::dc_routes(vec![]);
    // About 6 s for the block file: long enough to watch it and cancel.
    routes
        .trickle
        .insert(common::BLOCKS_PATH.into(), Duration::from_millis(10));
    let server = common::Server::start(routes);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), None));
    app.form_mut().boundary = data_dir()
        .join("us-dc/boundary-columbia-heights.geojson")
        .display()
        .to_string();
    app.form_mut().out = dir.path().join("dc.bna").display().to_string();
    fetch_setup(&mut app, server.sources(), dir.path());
    let mut h = harness(app);
    open_get_data(&mut h);
    h.get_by_label("Current boundary").click();
    h.run_steps(2);
    type_into(&mut h, "State", "DC");
    type_into(&mut h, "LODES year", "2021");
    h.get_by_label("Fetch").click();
    h.step();
    let total = std::fs::metadata(data_dir().join("us-dc/tl_2021_11_tabblock20.zip"))
        .expect("data file")
        .len();
    step_until(&mut h, "part of the block file", |a| {
        a.fetch_rows()
            .iter()
            .any(|r| r.origin.is_none() && r.done > 0 && r.total == Some(total))
    });
    // The row shows the bytes so far of the whole file.
    let shown = format!("/ {}", bna_app::fetch_ui::human_bytes(total));
    assert!(
        h.query_by_label_contains(&shown).is_some(),
        "no \"… {shown}\" progress label"
    );
    h.get_by_label("Cancel fetch").click();
    h.step();
    step_until(&mut h, "the fetch to stop", |a| !a.is_fetching());
    assert_eq!(h.state().fetch_outcome(), Some(&FetchOutcome::Cancelled));
    h.get_by_label("Fetch cancelled");
    let cached = dir
        .path()
        .join("cache/tiger2020/TABBLOCK20/tl_2020_11_tabblock20.zip");
    assert!(!cached.exists(), "a cancelled download is not in the cache");
    assert_eq!(h.state().form().blocks, "", "the run form is left alone");
}

#[test]
fn a_failed_run_stops_its_clock_and_opening_a_project_clears_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let boundary = dir.path().join("not-geojson.geojson");
    std::fs::write(&boundary, "this is not GeoJSON").expect("write");
    let mut app = BnaApp::new(options(dir.path(), None));
    let mut req = dc_request(&data_dir(), dir.path().join("failed.bna"));
    req.boundary = boundary;
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
    assert!(reason.contains("not-geojson.geojson"), "{reason}");
    h.get_by_label(&format!("Error: {reason}"));
    let rows = h.state().run_stages();
    assert!(
        rows.iter().any(|r| r.state != StageState::Pending),
        "the failed run's stages are still listed: {rows:?}"
    );
    assert!(
        rows.iter()
            .all(|r| !matches!(r.state, StageState::Running { .. })),
        "no stage of a failed run keeps running: {rows:?}"
    );
    // The stopped stage shows a fixed time, not a clock.
    let before = h.state().run_stages();
    std::thread::sleep(Duration::from_millis(150));
    h.run_steps(2);
    assert_eq!(before, h.state().run_stages());

    h.state_mut()
        .start(jobs::JobKind::Open(demo_project().to_path_buf()));
    step_until(&mut h, "the demo to open", |a| {
        !a.is_busy() && a.project().is_some()
    });
    assert!(
        matches!(h.state().status(), Status::Done(_)),
        "{:?}",
        h.state().status()
    );
    assert!(h.state().run_stages().is_empty());
    assert!(h.query_by_label(&format!("Error: {reason}")).is_none());
}

#[test]
fn each_category_explains_what_it_measures_and_its_dash_or_zero() {
    use bna_engine::analysis::score_text;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    // The legend under the scores says what – and 0 mean.
    h.get_by_label_contains(score_text::DASH_MEANS);
    for id in panels::CATEGORIES {
        let text = score_text::find(id).expect("a text for every category");
        let tip = panels::category_tooltip(&h.state().project().expect("open").data, id);
        assert!(tip.starts_with(text.measures), "{id}: {tip}");
        assert!(
            h.query_by_label(&tip).is_none(),
            "{id}: no tooltip before hovering"
        );
        h.query_all_by_label(text.label)
            .next()
            .unwrap_or_else(|| panic!("a {} label", text.label))
            .hover();
        h.run_steps(8);
        h.get_by_label(&tip);
    }
    let data = &h.state().project().expect("open").data;
    // The DC demo has no core services (shown "–") and no retail (scored 0): each tooltip
    // says there is nothing to reach, where a plain 0 would read as "none reachable".
    let core = panels::category_tooltip(data, "core_services");
    let retail = panels::category_tooltip(data, "retail");
    assert_eq!(panels::score(data, "core_services"), None);
    assert!(core.ends_with(score_text::DASH_MEANS), "{core}");
    let retail_places = data
        .destinations
        .iter()
        .filter(|d| d.category == bna_engine::model::DestinationCategory::Retail)
        .count();
    assert_eq!(retail_places, 0);
    assert!(retail.contains("no destinations of this kind"), "{retail}");
    let schools = panels::category_tooltip(data, "opportunity");
    assert!(
        schools.contains("destinations of this kind are in the project"),
        "{schools}"
    );
}

/// No portal and no zenity (as on the desktop of issue 17): Ctrl+O says so and takes a typed
/// path, refusing one that names no file.
#[test]
fn without_a_system_file_dialog_open_asks_for_a_typed_path_and_says_why() {
    use bna_app::file_dialog::PATH_FIELD;
    let dir = tempfile::tempdir().expect("tempdir");
    let project = demo_project().to_path_buf();
    let mut h = harness(BnaApp::new(options(dir.path(), None)));
    h.run_steps(2);
    let why = "No system file dialog is available here.";
    h.state_mut().use_in_app_file_dialogs(why);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run_steps(3);
    assert!(h.state().path_prompt().is_some(), "Ctrl+O opens the prompt");
    h.get_by_label(why);
    h.get_by_label("Open a project");
    let missing = dir.path().join("missing.bna");
    replace_text(&mut h, PATH_FIELD, &missing.display().to_string());
    h.get_by_label("Open").click();
    h.run_steps(2);
    h.get_by_label(&format!("There is no file at {}.", missing.display()));
    assert!(
        h.state().path_prompt().is_some(),
        "a wrong path keeps it open"
    );
    replace_text(&mut h, PATH_FIELD, &project.display().to_string());
    h.get_by_label("Open").click();
    h.run_steps(2);
    assert!(h.state().path_prompt().is_none());
    step_until(&mut h, "the project to open", |a| {
        !a.is_busy() && a.project().is_some_and(|p| p.path == project)
    });
    // Esc closes the prompt and nothing else.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run_steps(2);
    h.get_by_label("Save the project as");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().path_prompt().is_none(), "Esc closes the prompt");
    assert!(h.state().project().is_some());
}

/// At 1024×700, Ctrl+N scrolls the run form into view and asks where to save; the
/// residential speed typed is checked as the CLI's flag is, and passed to the run.
#[test]
fn new_analysis_shows_its_form_and_takes_a_residential_speed() {
    use bna_app::file_dialog::PATH_FIELD;
    use bna_app::panels::RESIDENTIAL_SPEED_LABEL;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = BnaApp::new(options(dir.path(), Some(demo_project().to_path_buf())));
    app.use_in_app_file_dialogs("No system file dialog is available here.");
    let mut h = harness_sized(app, 1024.0, 700.0);
    step_until(&mut h, "the demo to open", |a| a.project().is_some());
    h.run_steps(3);
    let below = h.get_by_label("Run analysis").rect();
    assert!(
        below.top() > 700.0,
        "the form starts below the window: {below:?}"
    );

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    h.run_steps(6);
    let form = h.get_by_label("OSM extract").rect();
    assert!(
        form.top() >= 0.0 && form.bottom() <= 700.0,
        "the run form is scrolled into view: {form:?}"
    );
    let out = dir.path().join("new-city.bna");
    replace_text(&mut h, PATH_FIELD, &out.display().to_string());
    h.get_by_label("Save").click();
    h.run_steps(2);
    assert_eq!(h.state().form().out, out.display().to_string());

    type_into(&mut h, RESIDENTIAL_SPEED_LABEL, "70");
    let refused = "the residential speed 70 is not a residential speed limit; give one from 5 \
                   to 65 mph";
    h.get_by_label(refused);
    assert_eq!(
        h.state().form().residential_speed(),
        Err(refused.to_owned())
    );
    replace_text(&mut h, RESIDENTIAL_SPEED_LABEL, "20");
    assert!(h.query_by_label(refused).is_none());
    let mut form = RunForm::from_request(&dc_request(&data_dir(), out.clone()));
    form.residential_speed = h.state().form().residential_speed.clone();
    assert_eq!(
        form.request().expect("complete").residential_speed,
        Some(20)
    );

    // The network cut, as `--osm-clip`: the reference's by default, the ring when picked.
    assert_eq!(h.state().form().osm_clip, OsmClip::Boundary);
    h.get_by_label("Road network").click();
    h.run_steps(2);
    h.get_by_label("2680 m ring (legacy)").click();
    h.run_steps(2);
    assert_eq!(h.state().form().osm_clip, OsmClip::Buffer);
}

/// A finished run scrolls the side panel back to its new score, wherever the user was.
#[test]
fn a_finished_run_scrolls_its_score_into_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("scrolled.bna");
    let mut app = BnaApp::new(options(dir.path(), Some(demo_project().to_path_buf())));
    *app.form_mut() = RunForm::from_request(&dc_request(&data_dir(), out.clone()));
    let mut h = harness_sized(app, 1024.0, 700.0);
    step_until(&mut h, "the demo to open", |a| a.project().is_some());
    h.run_steps(3);
    let score = panels::format_score(panels::score(
        &h.state().project().expect("open").data,
        "overall_score",
    ));
    h.get_by_label("Run analysis").scroll_to_me();
    h.run_steps(3);
    h.get_by_label("Run analysis").click();
    h.run_steps(3);
    h.get_by_label("Run").scroll_to_me();
    h.run_steps(3);
    assert!(
        h.get_by_label(&score).rect().bottom() < 0.0,
        "scrolled down to Run, the score is out of view"
    );
    h.get_by_label("Run").click();
    h.step();
    step_until(&mut h, "the run to finish", |a| {
        !a.is_busy() && a.project().is_some_and(|p| p.path == out)
    });
    h.run_steps(6);
    let r = h.get_by_label(&score).rect();
    assert!(
        r.top() >= 0.0 && r.bottom() <= 700.0,
        "the new score is in view: {r:?}"
    );
}

/// At 1024×700 with the scenario panel open the map keeps a third of the window; each panel
/// and the legend fold, and the folds are there again at the next start.
#[test]
fn panels_are_capped_fold_and_are_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = BnaApp::new(options(dir.path(), Some(demo_project().to_path_buf())));
    let mut h = harness_sized(app, 1024.0, 700.0);
    step_until(&mut h, "the demo to open", |a| a.project().is_some());
    h.state_mut().open_scenarios();
    step_until(&mut h, "the scenario list", |a| !a.scenarios().is_busy());
    h.run_steps(4);
    let map = |h: &Harness<'_, BnaApp>| h.state().last_view().expect("view").screen.width();
    let with_both = map(&h);
    assert!(with_both >= 1024.0 / 3.0, "map {with_both} px wide");

    h.get_by_label("«").click();
    h.run_steps(6);
    assert!(!h.state().layout().project_panel);
    let folded = map(&h);
    assert!(folded > with_both + 150.0, "{with_both} → {folded}");
    // The rightmost "»" folds the scenario panel; the other unfolds the project panel.
    h.get_all_by_label("»")
        .max_by(|a, b| a.rect().left().total_cmp(&b.rect().left()))
        .expect("the scenario panel's fold button")
        .click();
    h.run_steps(6);
    assert!(!h.state().layout().scenario_panel);
    assert!(map(&h) > folded + 150.0);
    h.get_by_label("–").click();
    h.run_steps(2);
    assert!(!h.state().layout().legend);
    h.get_by_label("Legend");

    // The next start reads the folds from the recent-projects file.
    drop(h);
    let app = BnaApp::new(options(dir.path(), Some(demo_project().to_path_buf())));
    let layout = app.layout();
    assert!(!layout.project_panel && !layout.scenario_panel && !layout.legend);
    let mut h = harness_sized(app, 1024.0, 700.0);
    step_until(&mut h, "the demo to open", |a| a.project().is_some());
    h.get_by_label("»").click(); // unfold the project panel
    h.run_steps(6);
    assert!(h.state().layout().project_panel);
    h.get_by_label("BNA score");
}

/// A long tag value (a URL) wraps inside the capped inspector, which the user can move off
/// the road it describes; an untagged speed says what the stress rules assumed.
#[test]
fn the_inspector_is_capped_movable_and_explains_assumed_speeds() {
    use bna_app::layout::INSPECTOR_MAX_WIDTH;
    use bna_engine::model::FunctionalClass;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    let url = format!(
        "https://example.org/{}",
        "very-long-path-segment/".repeat(30)
    );
    let (geom, default) = {
        let p = h.state_mut().project_mut().expect("open");
        let default = p
            .data
            .residential_speed_limit
            .expect("DC has a residential default");
        let geom = p
            .geometry
            .segments
            .iter()
            .position(|g| {
                let s = &p.data.segments[g.segment as usize];
                s.attrs.functional_class == FunctionalClass::Residential
                    && s.attrs.speed_limit.is_none()
            })
            .expect("an untagged residential road");
        let seg = p.geometry.segments[geom].segment as usize;
        p.data.segments[seg]
            .tags
            .insert("website".into(), url.clone());
        (geom, default)
    };
    h.state_mut().select(Some(Selection::Segment(geom)));
    h.run_steps(4);
    let value = h.get_by_label(&url).rect();
    assert!(
        value.width() <= INSPECTOR_MAX_WIDTH,
        "the URL is {} px wide",
        value.width()
    );
    assert!(value.height() > 40.0, "the URL wraps over lines: {value:?}");
    assert!(value.right() <= 1280.0);
    let seg = {
        let p = h.state().project().expect("open");
        p.data.segments[p.geometry.segments[geom].segment as usize].clone()
    };
    let speed = panels::speed_text(&seg, Some(default));
    assert!(
        speed.starts_with(&format!("not tagged, assumed {default} (")),
        "{speed}"
    );
    h.get_by_label(&speed);
    assert!(panels::speed_text(&seg, None).contains("so high stress"));

    // Dragged by its title bar, it moves.
    let window = h.get_by_label("Inspector").rect();
    let title = Pos2::new(window.center().x, window.top() + 10.0);
    let before = h.get_by_label("Traffic stress").rect();
    drag(&mut h, title, egui::vec2(-400.0, 200.0));
    let after = h.get_by_label("Traffic stress").rect();
    assert!(
        (after.left() - (before.left() - 400.0)).abs() < 2.0,
        "moved from {before:?} to {after:?}"
    );
}

/// Help lists the shortcuts; Esc stops a drawing before it closes anything else.
#[test]
fn help_lists_the_shortcuts_and_esc_stops_drawing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_demo(dir.path());
    h.get_by_label("Help").click();
    h.run_steps(2);
    for (keys, what) in bna_app::keys::SHORTCUTS {
        h.get_by_label(keys);
        h.get_by_label(what);
    }
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.state_mut().start_drawing();
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().drawing().is_none(), "Esc stops drawing");
}
