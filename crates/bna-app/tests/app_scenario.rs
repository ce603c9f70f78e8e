//! The scenario workbench of the desktop app driven through egui_kittest on the DC demo:
//! roads selected on the map, a protected track applied, compared, reported and deleted; a
//! crossing edit; the biggest gains search with its cancel. Every expected number comes from
//! the library run on its own copy of the same project.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bna_app::scenario_map::{format_delta, format_value};
use bna_app::scenario_ui::{BlockMode, EditTool};
use bna_app::BnaApp;
use bna_engine::model::{CrossingControl, IntersectionEdit, HIGH_STRESS};
use bna_engine::network::route;
use bna_engine::pipeline::demo::dc_request;
use bna_engine::pipeline::{self, SilentObserver};
use bna_engine::scenario::{self, Candidates, Edit, Facility, BASE};
use bna_test_support::app::{
    click_with, demo_project, harness, options, set_modifiers, step_until,
};
use bna_test_support::data_dir;
use eframe::egui::{self, Pos2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

/// A private copy of the demo: scenarios are written into the project.
fn copy_demo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(demo_project(), &p).expect("copy the demo project");
    p
}

fn opened(dir: &Path, project: &Path) -> Harness<'static, BnaApp> {
    let app = BnaApp::new(options(dir, Some(project.to_path_buf())));
    let mut h = harness(app);
    step_until(&mut h, "the project to open", |a| a.project().is_some());
    h.run_steps(3);
    h
}

fn open_panel(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("What if? Scenarios…").click();
    h.run_steps(2);
    assert!(h.state().scenarios().open);
    step_until(h, "the scenario list", |a| {
        !a.scenarios().list.is_empty() && !a.scenarios().is_busy()
    });
}

fn shift_drag(h: &mut Harness<'_, BnaApp>, from: Pos2, to: Pos2) {
    let m = egui::Modifiers::SHIFT;
    set_modifiers(h, m);
    h.event(egui::Event::PointerMoved(from));
    h.step();
    h.event(egui::Event::PointerButton {
        pos: from,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: m,
    });
    h.step();
    for i in 1..=10 {
        h.event(egui::Event::PointerMoved(
            from + (to - from) * (i as f32 / 10.0),
        ));
        h.step();
    }
    h.event(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: m,
    });
    h.step();
    set_modifiers(h, egui::Modifiers::NONE);
    h.run_steps(2);
}

/// Zooms the map to road `gi` (geometry index) and returns the screen point in the middle of
/// its longest piece.
fn aim_at_road(h: &mut Harness<'_, BnaApp>, gi: usize) -> Pos2 {
    h.state_mut().zoom_to_segments(&[gi]);
    h.run_steps(3);
    let app = h.state();
    let g = &app.project().expect("open").geometry;
    let view = app.last_view().expect("drawn");
    let pts = g.segment_points(&g.segments[gi]);
    let w = pts
        .windows(2)
        .max_by(|a, b| (a[1] - a[0]).length().total_cmp(&(b[1] - b[0]).length()))
        .expect("a line");
    let p = view.to_screen(w[0] + (w[1] - w[0]) * 0.5);
    assert!(
        view.screen.contains(p),
        "the road is on screen after zooming to it"
    );
    p
}

fn geom_index(h: &Harness<'_, BnaApp>, road_id: u32) -> usize {
    h.state()
        .project()
        .expect("open")
        .geometry
        .segments
        .iter()
        .position(|s| s.segment == road_id)
        .expect("the road is drawn")
}

#[test]
fn a_protected_track_applied_from_the_map_matches_the_library_and_is_compared_reported_and_deleted()
{
    let dir = tempfile::tempdir().expect("tempdir");
    let project = copy_demo(dir.path(), "app.bna");
    let library = copy_demo(dir.path(), "library.bna");
    let mut h = opened(dir.path(), &project);
    open_panel(&mut h);
    let base_overall = h.state().scenarios().list[0].overall;
    assert_eq!(h.state().scenarios().list[0].name, BASE);

    // A protected track along the street the library ranks best (a single segment often
    // moves the city score by less than its rounding to hundredths).
    let base = pipeline::load_results(&project).expect("base results");
    let best = scenario::biggest_gains(
        &library,
        Candidates::Corridors { limit: 3 },
        1,
        &SilentObserver::default(),
    )
    .expect("library gains");
    assert!(best.ranked[0].delta > 0.0, "{:?}", best.ranked[0]);
    let roads: Vec<u32> = best.ranked[0]
        .candidate
        .edits
        .iter()
        .filter_map(|e| e.road_id())
        .collect();
    let road = roads[0];
    let gi = geom_index(&h, road);
    let target = aim_at_road(&mut h, gi);

    // Click selects it; Shift+click toggles it off; a Shift+drag box around it selects it
    // again (with its neighbours); a plain click makes it the only one.
    click_with(&mut h, target, egui::Modifiers::NONE);
    assert_eq!(h.state().scenarios().selected, BTreeSet::from([gi]));
    assert!(
        h.state().selection().is_none(),
        "no inspector while editing"
    );
    click_with(&mut h, target, egui::Modifiers::SHIFT);
    assert!(
        h.state().scenarios().selected.is_empty(),
        "Shift+click toggles"
    );
    let view_before = h.state().last_view().expect("view");
    shift_drag(
        &mut h,
        target - egui::vec2(25.0, 25.0),
        target + egui::vec2(25.0, 25.0),
    );
    assert_eq!(
        h.state().last_view().expect("view").origin,
        view_before.origin,
        "a Shift+drag selects, it does not pan"
    );
    assert!(h.state().scenarios().selected.contains(&gi), "box select");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(
        h.state().scenarios().selected.is_empty(),
        "Escape clears the selection"
    );
    click_with(&mut h, target, egui::Modifiers::NONE);
    assert_eq!(h.state().scenarios().selected, BTreeSet::from([gi]));
    // Ctrl+click adds the rest of the street, one segment at a time.
    let mut want = BTreeSet::from([gi]);
    for &r in &roads[1..] {
        let k = geom_index(&h, r);
        let at = aim_at_road(&mut h, k);
        click_with(&mut h, at, egui::Modifiers::COMMAND);
        want.insert(k);
        assert_eq!(h.state().scenarios().selected, want, "road {r} added");
    }

    h.get_by_label("Protected bike track").click();
    h.run_steps(2);
    let name = h.state().scenarios().name.clone();
    let street = base.segments[road as usize]
        .name
        .clone()
        .unwrap_or(format!("road {road}"));
    assert_eq!(name, format!("Protected bike track on {street}"));
    h.get_by_label("Scenario name").focus();
    h.run_steps(1);
    h.key_press(egui::Key::End);
    h.get_by_label("Scenario name").type_text(" (council)");
    h.run_steps(2);
    let name = format!("{name} (council)");
    assert_eq!(h.state().scenarios().name, name);
    h.get_by_label("Apply").click();
    h.run_steps(1);
    step_until(&mut h, "the scenario to be applied and shown", |a| {
        a.scenarios().list.iter().any(|s| s.name == name)
            && a.scenarios().shown.is_some()
            && !a.scenarios().is_busy()
    });

    // The same edit through the library, on its own copy.
    let mut sorted = roads.clone();
    sorted.sort_unstable();
    let edits: Vec<Edit> = sorted
        .iter()
        .map(|&road_id| Edit::Build {
            road_id,
            facility: Facility::ProtectedTrack,
        })
        .collect();
    let lib = scenario::apply(&library, "library", &edits, &SilentObserver::default())
        .expect("the library applies it");
    assert_eq!(lib.base_overall, base_overall);
    let listed = h
        .state()
        .scenarios()
        .list
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .expect("listed");
    assert_eq!(listed.edits, edits, "the app stored exactly the edit");
    let (got, want) = (listed.overall.expect("score"), lib.overall.expect("score"));
    assert!((got - want).abs() < 1e-9, "app {got} vs library {want}");
    assert!(
        got > base_overall.expect("base score"),
        "a track raises the score"
    );
    assert!(h.query_all_by_label(&format_value(Some(got))).count() >= 1);
    let delta = format_delta(Some(got - base_overall.unwrap()));
    assert!(h.query_all_by_label(&delta).count() >= 1, "{delta} shown");
    // Shown on the map: the road is outlined as changed and drawn with its new stress.
    let shown = h.state().scenarios().shown.as_ref().expect("shown");
    assert_eq!(shown.mode, BlockMode::Score);
    assert!(shown.changed.contains(&gi));
    h.get_by_label(&format!("Map: \"{name}\" (roads it changed outlined)"));

    // Compare base → scenario: the score table and the people gaining a connection.
    h.get_by_label("Compare B with A").click();
    h.run_steps(1);
    step_until(&mut h, "the comparison", |a| {
        a.scenarios()
            .shown
            .as_ref()
            .is_some_and(|s| s.mode == BlockMode::Change)
            && !a.scenarios().is_busy()
    });
    let msg = h
        .state()
        .scenarios()
        .message
        .clone()
        .expect("a message")
        .expect("applied");
    assert!(
        msg.starts_with(&format!(
            "Applied \"{name}\": overall score {}",
            format_value(Some(want))
        )) && msg.contains(&delta),
        "{msg}"
    );
    h.get_by_label(&msg);
    eprintln!(
        "apply: {:?}; slowest of the last frames (compare shown): {:?}",
        h.state().scenarios().message,
        h.state().frame_stats().max()
    );
    let c = scenario::compare(&library, BASE, "library").expect("library comparison");
    // Human labels in the table, not score ids: the overall row beside the side panel's.
    h.get_by_label("Overall BNA score");
    assert!(h.query_by_label("overall score").is_none());
    assert!(h.query_by_label("    Employment").is_some());
    let overall = c.overall_delta();
    assert!(overall.is_some_and(|d| d > 0.0));
    assert!(h.query_all_by_label(&format_delta(overall)).count() >= 2);
    assert!(c.people_gaining > 0.0);
    h.get_by_label(&format!(
        "People gaining a low-stress connection: {:.0} in {} blocks",
        c.people_gaining, c.blocks_gaining
    ));
    let shown = h.state().scenarios().shown.as_ref().expect("shown");
    assert_eq!(shown.comparison.scores.len(), c.scores.len());
    let changed_blocks = shown
        .geometry
        .blocks
        .iter()
        .filter(|b| b.score.is_some())
        .count();
    assert_eq!(
        changed_blocks,
        c.blocks.iter().filter(|b| b.delta != 0.0).count(),
        "only blocks whose score changed are coloured"
    );

    // The report of the compared pair.
    let out = dir.path().join("report.html");
    h.state_mut().export_report(&out);
    step_until(&mut h, "the report", |a| !a.scenarios().is_busy());
    let html = std::fs::read_to_string(&out).expect("the report was written");
    assert!(
        html.contains(&name) && html.contains("<svg"),
        "{}",
        &html[..200]
    );

    // "Show" on the list draws the scenario itself again; the banner goes back to the base.
    let shows: Vec<_> = h.get_all_by_label("Show").collect();
    assert_eq!(shows.len(), 2, "base and the scenario");
    shows[1].click();
    h.run_steps(1);
    step_until(&mut h, "the scenario shown", |a| {
        a.scenarios()
            .shown
            .as_ref()
            .is_some_and(|s| s.mode == BlockMode::Score && s.comparison.b == name)
            && !a.scenarios().is_busy()
    });
    h.get_by_label("Show the base").click();
    h.run_steps(2);
    assert!(h.state().scenarios().shown.is_none());

    // Delete: gone from the panel and from the project; the base is unchanged.
    h.get_by_label("Delete").click();
    h.run_steps(1);
    step_until(&mut h, "the deletion", |a| {
        !a.scenarios().is_busy() && a.scenarios().list.iter().all(|s| s.name != name)
    });
    let stored = scenario::list(&project).expect("list");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].overall, base_overall);
    assert!(h.state().scenarios().list.iter().all(|s| s.name != name));
}

#[test]
fn a_signal_at_a_clicked_crossing_is_stored_as_a_crossing_edit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = copy_demo(dir.path(), "crossing.bna");
    let mut h = opened(dir.path(), &project);
    h.get_by_label("Scenario").click();
    h.run_steps(3);
    h.get_by_label("Scenarios panel").click();
    h.run_steps(2);
    step_until(&mut h, "the scenario list", |a| {
        !a.scenarios().list.is_empty() && !a.scenarios().is_busy()
    });
    h.get_by_label("A crossing").click();
    h.run_steps(2);
    assert_eq!(h.state().scenarios().tool, EditTool::Crossing);
    // A road whose crossing at its far end is high stress, inside the study area.
    let (gi, int_id) = {
        let p = h.state().project().expect("open");
        p.geometry
            .segments
            .iter()
            .enumerate()
            .filter(|(_, g)| g.inside)
            .find_map(|(i, g)| {
                let s = &p.data.segments[g.segment as usize];
                (s.stress.ft_int == Some(HIGH_STRESS)).then_some((i, s.intersection_to))
            })
            .expect("a high-stress crossing")
    };
    aim_at_road(&mut h, gi);
    let at = {
        let app = h.state();
        let p = app.project().expect("open");
        let i = p
            .data
            .intersections
            .iter()
            .find(|i| i.int_id == int_id)
            .expect("the intersection");
        let view = app.last_view().expect("view");
        view.to_screen(p.geometry.to_local(i.point_ll.x(), i.point_ll.y()))
    };
    click_with(&mut h, at, egui::Modifiers::NONE);
    let (picked, _) = h.state().scenarios().crossing.expect("a crossing selected");
    {
        // The nearest intersection to the click (there may be one closer than ours).
        let app = h.state();
        let p = app.project().expect("open");
        let view = app.last_view().expect("view");
        let i = p
            .data
            .intersections
            .iter()
            .find(|i| i.int_id == picked)
            .expect("exists");
        let d = view
            .to_screen(p.geometry.to_local(i.point_ll.x(), i.point_ll.y()))
            .distance(at);
        assert!(d <= 10.0, "picked an intersection {d} px away");
    }
    h.get_by_label("Traffic signal").click();
    h.run_steps(2);
    let name = h.state().scenarios().name.clone();
    assert!(name.starts_with("Traffic signal at "), "{name}");
    h.get_by_label("Apply").click();
    h.run_steps(1);
    step_until(&mut h, "the crossing scenario", |a| {
        a.scenarios().list.iter().any(|s| s.name == name) && !a.scenarios().is_busy()
    });
    let stored = scenario::list(&project).expect("list");
    let s = stored.iter().find(|s| s.name == name).expect("stored");
    assert_eq!(
        s.edits,
        [Edit::Crossing(IntersectionEdit {
            int_id: picked,
            control: CrossingControl::Signal
        })]
    );
    let app_score = h
        .state()
        .scenarios()
        .list
        .iter()
        .find(|x| x.name == name)
        .and_then(|x| x.overall);
    assert_eq!(app_score, s.overall);
    assert!(
        s.overall >= stored[0].overall,
        "a signal never lowers the score"
    );
}

#[test]
fn biggest_gains_match_the_library_can_be_picked_and_cancelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = copy_demo(dir.path(), "gains.bna");
    let mut h = opened(dir.path(), &project);
    open_panel(&mut h);
    // Most single segments gain nothing alone; the best 48 by the prefilter hold a gain.
    h.state_mut().scenarios_mut().gains_candidates = 48;
    h.state_mut().scenarios_mut().gains_top = 3;
    h.run_steps(1);
    h.get_by_label("Find biggest gains").click();
    h.run_steps(1);
    assert!(
        h.state().scenarios().gains_task().is_some(),
        "runs in the background"
    );
    // The window keeps drawing while the candidates are re-scored: no frame waits for them.
    let (t0, mut frames, mut slowest) = (Instant::now(), 0, Duration::ZERO);
    while h.state().scenarios().gains.is_none() {
        assert!(t0.elapsed() < Duration::from_secs(180), "gains timed out");
        let t = Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed());
        frames += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    let search = t0.elapsed();
    assert!(
        frames >= 5 && slowest * 2 < search,
        "{frames} frames, slowest {slowest:?}, search {search:?}"
    );
    eprintln!("gains: {frames} frames in {search:?}, slowest {slowest:?}");
    h.step();
    let lib = scenario::biggest_gains(
        &project,
        Candidates::ProtectedTracks { limit: 48 },
        3,
        &SilentObserver::default(),
    )
    .expect("library gains");
    let app_gains = h.state().scenarios().gains.clone().expect("gains");
    let labels = |g: &scenario::Gains| -> Vec<String> {
        g.ranked.iter().map(|x| x.candidate.label.clone()).collect()
    };
    assert_eq!(labels(&app_gains), labels(&lib));
    assert_eq!(app_gains.ranked.len(), 3.min(48 - lib.without_gain));
    assert!(!app_gains.ranked.is_empty());
    for (a, b) in app_gains.ranked.iter().zip(&lib.ranked) {
        assert!((a.delta - b.delta).abs() < 1e-9);
        assert!(a.delta > 0.0, "zero gains are not listed");
    }
    // Each listed upgrade shows its length and the people gaining per km built.
    for x in &lib.ranked {
        let km = format!("{:.2} km", x.length_km);
        let per_km = format!("{:.0} people gaining per km", x.people_gaining_per_km);
        assert!(x.length_km > 0.0);
        assert!(h.query_all_by_label(&km).count() >= 1, "{km}");
        assert!(h.query_all_by_label(&per_km).count() >= 1, "{per_km}");
    }
    let tally = format!(
        "48 candidates re-scored; {} raised nothing and are not listed.",
        lib.without_gain
    );
    h.get_by_label(&tally);
    let done = format!("Re-scored 48 of {} candidates in", lib.eligible);
    assert!(h.query_all_by_label_contains(&done).count() >= 1, "{done}");
    // Clicking the best one selects its road and zooms to it.
    let zoom_before = h.state().last_view().expect("view").scale;
    h.get_by_label(&format!("1. {}", lib.ranked[0].candidate.label))
        .click();
    h.run_steps(3);
    let road = lib.ranked[0].candidate.edits[0].road_id().expect("road");
    let gi = geom_index(&h, road);
    assert_eq!(h.state().scenarios().selected, BTreeSet::from([gi]));
    let zoom_after = h.state().last_view().expect("view").scale;
    assert!(zoom_after > zoom_before, "zoomed in to the road");
    let view = h.state().last_view().expect("view");
    let g = &h.state().project().expect("open").geometry;
    assert!(view
        .screen
        .contains(view.to_screen(g.segments[gi].bbox.center())));

    // A search over every eligible candidate, cancelled at once.
    h.state_mut().scenarios_mut().gains_candidates = 5000;
    h.get_by_label("Find biggest gains").click();
    h.run_steps(2);
    assert!(h.state().scenarios().gains_task().is_some());
    h.get_by_label("Cancel search").click();
    step_until(&mut h, "the search to stop", |a| {
        a.scenarios().gains_task().is_none()
    });
    assert_eq!(
        h.state().scenarios().gains_message,
        Some(Err("Biggest gains: cancelled".to_owned()))
    );
    assert!(h.state().scenarios().gains.is_none());
}

#[test]
fn a_scenario_scored_before_a_new_analysis_is_re_applied_from_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = copy_demo(dir.path(), "stale.bna");
    let base = pipeline::load_results(&project).expect("base results");
    let (cands, _) = scenario::protected_track_candidates(&base, 1);
    scenario::apply(
        &project,
        "before re-analysis",
        &cands[0].edits,
        &SilentObserver::default(),
    )
    .expect("applied");
    // A new analysis of the same project: the scenario was scored against the previous one.
    pipeline::run(
        &dc_request(&data_dir(), project.clone()),
        &SilentObserver::default(),
    )
    .expect("re-analysed");
    assert!(scenario::list(&project).expect("list")[1].stale);
    let mut h = opened(dir.path(), &project);
    open_panel(&mut h);
    assert!(h.state().scenarios().list[1].stale);
    assert!(
        h.query_by_label("Show").is_some(),
        "only the base can be shown"
    );
    h.get_by_label("Re-apply").click();
    h.run_steps(1);
    step_until(&mut h, "the re-applied scenario", |a| {
        a.scenarios().list.get(1).is_some_and(|s| !s.stale) && !a.scenarios().is_busy()
    });
    let stored = scenario::list(&project).expect("list");
    assert!(!stored[1].stale);
    assert_eq!(stored[1].edits, cands[0].edits, "the same edits");
    assert!(h.query_by_label("Re-apply").is_none());
}

/// Two segments of one named street a few blocks apart whose shortest chain stays on that
/// street, chosen from the data: (first, last, the library's route between them).
fn street_pair(
    data: &bna_engine::model::ProjectData,
    drawn: &BTreeSet<u32>,
) -> (u32, u32, Vec<u32>) {
    let mut by_name: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for s in &data.segments {
        if let Some(n) = s.name.as_deref().filter(|_| drawn.contains(&s.road_id)) {
            by_name.entry(n).or_default().push(s.road_id);
        }
    }
    let same_street = |route: &[u32], name: &str| {
        route
            .iter()
            .all(|&r| data.segments[r as usize].name.as_deref() == Some(name))
    };
    for (name, roads) in by_name.iter().filter(|(_, r)| r.len() >= 6) {
        let a = roads[0];
        for &b in roads[1..].iter().take(30) {
            if let Some(route) = route::route_between(&data.segments, a, b) {
                if (4..=8).contains(&route.len()) && same_street(&route, name) {
                    return (a, b, route);
                }
            }
        }
    }
    panic!("the DC demo has a street with segments a few blocks apart");
}

#[test]
fn a_route_between_two_clicked_roads_selects_the_library_route() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = copy_demo(dir.path(), "route.bna");
    let mut h = opened(dir.path(), &project);
    open_panel(&mut h);
    let (a, b, want_roads) = {
        let p = h.state().project().expect("open");
        let drawn: BTreeSet<u32> = p.geometry.segments.iter().map(|s| s.segment).collect();
        street_pair(&p.data, &drawn)
    };
    let (ga, gb) = (geom_index(&h, a), geom_index(&h, b));

    h.get_by_label("Select along a route: click the first and last road")
        .click();
    h.run_steps(2);
    assert!(h.state().scenarios().route.on);

    // The first click only marks the start; Escape drops it without touching the selection.
    let at_a = aim_at_road(&mut h, ga);
    click_with(&mut h, at_a, egui::Modifiers::NONE);
    assert_eq!(h.state().scenarios().route.start, Some(ga));
    assert!(h.state().scenarios().selected.is_empty());
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().scenarios().route.start, None, "Escape cancels");

    click_with(&mut h, at_a, egui::Modifiers::NONE);
    assert_eq!(h.state().scenarios().route.start, Some(ga));
    let at_b = aim_at_road(&mut h, gb);
    click_with(&mut h, at_b, egui::Modifiers::NONE);
    assert_eq!(h.state().scenarios().route.start, None);

    let want: BTreeSet<usize> = want_roads.iter().map(|&r| geom_index(&h, r)).collect();
    assert_eq!(h.state().scenarios().selected, want);
    assert!(want.contains(&ga) && want.contains(&gb), "both ends");
    let data = &h.state().project().expect("open").data;
    assert_eq!(want_roads.first(), Some(&a));
    assert_eq!(want_roads.last(), Some(&b));
    for w in want_roads.windows(2) {
        let (s, t) = (&data.segments[w[0] as usize], &data.segments[w[1] as usize]);
        let ends = [t.intersection_from, t.intersection_to];
        assert!(
            ends.contains(&s.intersection_from) || ends.contains(&s.intersection_to),
            "roads {} and {} share an intersection",
            w[0],
            w[1]
        );
    }
    let msg = format!(
        "Added a route of {} road segment(s), {:.0} m",
        want_roads.len(),
        route::route_length(&data.segments, &want_roads)
    );
    assert_eq!(h.state().scenarios().route.message, Some(Ok(msg.clone())));
    h.get_by_label(&msg);
}

/// One source of truth: while the map shows a scenario, the side panel's score is that
/// scenario's, titled with its name, beside the base's; "Show the base" brings the base back.
#[test]
fn the_side_panel_scores_what_the_map_shows() {
    use bna_app::panels::{format_score, scenario_score_title};
    let dir = tempfile::tempdir().expect("tempdir");
    let project = copy_demo(dir.path(), "shown.bna");
    let base = bna_engine::store::Project::create_or_open(&project)
        .expect("open")
        .read_results()
        .expect("results")
        .expect("the demo has results");
    // Tracks on every high-stress road: the score must move, or the test proves nothing.
    let edits: Vec<Edit> = base
        .segments
        .iter()
        .filter(|s| s.stress.ft_seg == Some(HIGH_STRESS))
        .map(|s| Edit::Build {
            road_id: s.road_id,
            facility: Facility::ProtectedTrack,
        })
        .collect();
    let name = "Tracks everywhere";
    let lib = scenario::apply(&project, name, &edits, &SilentObserver::default())
        .expect("the library applies it");
    let (base_score, scen_score) = (lib.base_overall, lib.overall);
    assert_ne!(format_score(base_score), format_score(scen_score));

    let mut h = opened(dir.path(), &project);
    h.get_by_label("BNA score");
    h.get_by_label(&format_score(base_score));
    open_panel(&mut h);
    h.state_mut().show_scenario(name);
    step_until(&mut h, "the scenario shown", |a| {
        a.scenarios()
            .shown
            .as_ref()
            .is_some_and(|s| s.comparison.b == name)
            && !a.scenarios().is_busy()
    });
    h.run_steps(2);
    h.get_by_label(&scenario_score_title(name));
    let scen_text = format_score(scen_score);
    let big = h.get_by_label(&scen_text).rect();
    assert!(big.height() > 30.0, "the scenario's score is the big one");
    assert!(h.query_by_label("BNA score").is_none());
    let delta = scen_score
        .zip(base_score)
        .map(|(s, b)| s - b)
        .expect("scores");
    h.get_by_label(&format!("base {}, {delta:+.1}", format_score(base_score)));

    h.get_by_label("Show the base").click();
    h.run_steps(3);
    h.get_by_label("BNA score");
    assert!(h.get_by_label(&format_score(base_score)).rect().height() > 30.0);
    assert!(h.query_by_label(&scenario_score_title(name)).is_none());
}
