//! Compare (issue 14) in the desktop app, driven through egui_kittest: the DC demo (the
//! reference's boundary cut) compared with the same request cut with the legacy 2680 m ring
//! and another residential speed, picked through the Compare menu; the window's numbers and
//! the map's difference layer are checked against `bna_engine::compare::compare_paths` run
//! by the test itself; then a folder that is no reference export, which fails in one
//! sentence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bna_app::compare_ui::{CLEAR, CLOSE, WINDOW_TITLE, WITH_PROJECT, WITH_REFERENCE};
use bna_app::compare_view::{matched_text, SegmentStatus};
use bna_app::file_dialog::PATH_FIELD;
use bna_app::scenario_map::{format_delta, format_value};
use bna_app::{BnaApp, Status};
use bna_engine::compare::compare_paths;
use bna_engine::pipeline::demo::dc_request;
use bna_engine::pipeline::{self, OsmClip, SilentObserver};
use bna_test_support::app::{demo_project, opened, options, replace_text, step_until};
use bna_test_support::data_dir;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

/// The DC demo request cut with the ring instead of the boundary, and with residential
/// streets untagged for speed taken as 35 mph: roads only one side has, and roads both have
/// with another stress. Analysed once.
fn ring_project() -> &'static Path {
    static RING: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = RING.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut req = dc_request(&data_dir(), dir.path().join("dc-ring.bna"));
        req.osm_clip = OsmClip::Buffer;
        req.residential_speed = Some(35);
        pipeline::run(&req, &SilentObserver::default()).expect("the ring cut analyses");
        let out = req.out.clone();
        (dir, out)
    });
    path
}

fn opened_with_typed_paths(dir: &Path) -> Harness<'static, BnaApp> {
    let mut app = BnaApp::new(options(dir, Some(demo_project().to_path_buf())));
    app.use_in_app_file_dialogs("No system file dialog is available here.");
    opened(app)
}

/// Compare › `item`, then types `path` into the path prompt and confirms with `action`.
fn compare_through_menu(h: &mut Harness<'_, BnaApp>, item: &str, path: &Path, action: &str) {
    h.get_by_label("Compare").click();
    h.run_steps(2);
    h.get_by_label(item).click();
    h.run_steps(2);
    assert!(h.state().path_prompt().is_some(), "{item} asks for a path");
    replace_text(h, PATH_FIELD, &path.display().to_string());
    h.get_by_label(action).click();
    h.run_steps(2);
    assert!(h.state().path_prompt().is_none(), "the path was taken");
}

#[test]
fn a_project_cut_another_way_is_summarised_and_drawn_as_the_engine_compares_it() {
    let ring = ring_project();
    let (_, _, want) = compare_paths(demo_project(), ring).expect("the library compares");
    let s = &want.segments;
    assert!(
        !s.differing.is_empty() && !s.only_a.is_empty() && !s.only_b.is_empty(),
        "roads of each kind to draw: {} differ, {} only in A, {} only in B",
        s.differing.len(),
        s.only_a.len(),
        s.only_b.len()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = opened_with_typed_paths(dir.path());
    compare_through_menu(&mut h, WITH_PROJECT, ring, "Open");
    step_until(&mut h, "the comparison", |a| {
        !a.is_comparing() && a.comparison().is_some()
    });
    assert!(
        matches!(h.state().status(), Status::Done(m) if m.starts_with("Compared with dc-ring.bna")),
        "{:?}",
        h.state().status()
    );

    // The window: matched counts, per-direction agreement and city scores, as computed.
    h.get_by_label(WINDOW_TITLE);
    h.get_by_label("Matched segments");
    h.get_by_label(&matched_text(s.matched, s.a_total, s.b_total));
    for (_, g) in s.agreements() {
        assert!(
            !h.query_all_by_label(&format!(
                "{} of {} agree ({:.1} %)",
                g.agree,
                g.total,
                g.percent()
            ))
            .collect::<Vec<_>>()
            .is_empty(),
            "agreement {g:?} shown"
        );
    }
    let overall = want
        .city
        .iter()
        .find(|c| c.score_id == "overall_score")
        .expect("an overall score");
    h.get_by_label("Overall BNA score");
    assert!(h
        .query_all_by_label(&format_value(overall.b))
        .next()
        .is_some());
    assert!(h
        .query_all_by_label(&format_delta(overall.delta))
        .next()
        .is_some());
    let blocks = want
        .blocks
        .scores
        .iter()
        .find(|d| d.column == "overall_score")
        .expect("block overall scores compared");
    h.get_by_label(&format!(
        "mean {:.2}, max {:.2} over {} blocks",
        blocks.mean_abs, blocks.max_abs, blocks.compared
    ));

    // The map's layer: exactly the differing and one-sided roads, and the blocks that moved.
    let app = h.state();
    let c = app.comparison().expect("shown");
    let o = &c.overlay;
    let count = |st| o.count(st);
    assert_eq!(
        (
            count(SegmentStatus::Differs),
            count(SegmentStatus::OnlyA),
            count(SegmentStatus::OnlyB)
        ),
        (s.differing.len(), s.only_a.len(), s.only_b.len()),
        "every segment of both projects has a line"
    );
    let mut drawn: BTreeMap<i64, usize> = BTreeMap::new();
    for seg in o
        .segments
        .iter()
        .filter(|x| x.status == SegmentStatus::Differs)
    {
        *drawn.entry(seg.osm_id).or_default() += 1;
    }
    let mut differing: BTreeMap<i64, usize> = BTreeMap::new();
    for d in &s.differing {
        *differing.entry(d.osm_id).or_default() += 1;
    }
    assert_eq!(drawn, differing);
    let moved = want
        .blocks
        .overall
        .iter()
        .filter(|d| d.delta.is_some_and(|v| v != 0.0))
        .count();
    assert_eq!(o.blocks.len(), moved);
    // Drawn on the roads of the map: a differing road's line is the open project's own.
    let project = app.project().expect("open");
    let g = &project.geometry;
    for seg in o
        .segments
        .iter()
        .filter(|x| x.status == SegmentStatus::Differs)
    {
        assert!(
            g.segments.iter().any(|r| {
                project.data.segments[r.segment as usize].osm_id == seg.osm_id
                    && g.segment_points(r) == seg.points.as_slice()
            }),
            "way {} is drawn over the project's road",
            seg.osm_id
        );
    }

    // Closing the window removes the layer.
    h.get_by_label(CLOSE).click();
    h.run_steps(2);
    assert!(h.state().comparison().is_none());
    assert!(h.query_by_label(WINDOW_TITLE).is_none());
    h.get_by_label("Compare").click();
    h.run_steps(2);
    assert!(
        h.get_by_label(CLEAR).accesskit_node().is_disabled(),
        "nothing left to clear"
    );
}

#[test]
fn a_folder_that_is_no_reference_export_fails_in_one_sentence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("not-an-export");
    std::fs::create_dir(&folder).expect("mkdir");
    let want = compare_paths(demo_project(), &folder)
        .expect_err("an empty folder is no export")
        .to_string();
    assert!(want.contains("not-an-export"), "{want}");

    let mut h = opened_with_typed_paths(dir.path());
    compare_through_menu(&mut h, WITH_REFERENCE, &folder, "Choose");
    step_until(&mut h, "the comparison to fail", |a| !a.is_comparing());
    assert_eq!(h.state().status(), &Status::Failed(want.clone()));
    h.get_by_label(&format!("Error: {want}"));
    assert!(h.state().comparison().is_none());
    assert!(h.query_by_label(WINDOW_TITLE).is_none());
}
