//! `bna compare` through the real binary: the reference-dc golden case against the reference
//! BNA's own tables (what the golden test proves, seen by a user), two projects of the same
//! place cut two ways, `--json`, the `--layer` file, and bad input.

#[path = "support/golden_case.rs"]
mod golden_case;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use bna_engine::compare::rows::{diff, Table};
use serde_json::Value;

fn bna(args: &[&Path]) -> Output {
    Command::new(golden_case::bin())
        .arg("compare")
        .args(args)
        .output()
        .expect("run bna")
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "bna compare failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A golden case analysed once per test run, in the target's scratch folder.
fn project(case: &'static str) -> &'static Path {
    static CELLS: [(&str, OnceLock<PathBuf>); 3] = [
        ("reference-dc", OnceLock::new()),
        ("reference-dc-region", OnceLock::new()),
        ("bna-dc-region-buffer", OnceLock::new()),
    ];
    let (_, cell) = CELLS
        .iter()
        .find(|(n, _)| *n == case)
        .expect("a known case");
    cell.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("compare")
            .join(case);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("{case}.bna"));
        golden_case::analyze(&golden_case::case_dir(case), &p);
        p
    })
}

fn expected() -> PathBuf {
    golden_case::case_dir("reference-dc").join("expected")
}

fn json(a: &Path, b: &Path) -> Value {
    let text = ok(bna(&[a, b, Path::new("--json")]));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn city(v: &Value, id: &str) -> (f64, f64) {
    let row = v["city"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["score_id"] == id)
        .unwrap_or_else(|| panic!("no city score {id}"));
    (row["a"].as_f64().unwrap(), row["b"].as_f64().unwrap())
}

#[test]
fn the_reference_case_agrees_with_the_reference_tables() {
    let text = ok(bna(&[project("reference-dc"), &expected()]));
    assert!(
        text.contains("matched 686 of A's 686 (100.0 %) and of B's 686 (100.0 %)"),
        "{text}"
    );
    for column in [
        "ft_seg_stress",
        "tf_seg_stress",
        "ft_int_stress",
        "tf_int_stress",
        "functional_class",
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(column))
            .unwrap_or_else(|| panic!("no {column} line: {text}"));
        assert!(
            line.contains("686/686") && line.contains("100.00 %"),
            "{line}"
        );
    }
    assert!(text.contains("Blocks: A 125, B 125, common 125"), "{text}");
    assert!(
        text.contains("every common block has the same overall score"),
        "{text}"
    );
    let overall = text
        .lines()
        .find(|l| l.trim_start().starts_with("overall_score ") && l.contains("20."))
        .unwrap_or_else(|| panic!("no city overall line: {text}"));
    let cells: Vec<&str> = overall.split_whitespace().collect();
    assert_eq!(
        cells,
        ["overall_score", "20.83", "20.83", "0.00"],
        "{overall}"
    );

    let v = json(project("reference-dc"), &expected());
    let s = &v["segments"];
    assert_eq!(s["matched"], 686);
    assert_eq!(
        (s["a_total"].clone(), s["b_total"].clone()),
        (686.into(), 686.into())
    );
    assert_eq!(s["matched_by"], "osm_id", "the fixture keeps no geometry");
    for column in [
        "ft_seg_stress",
        "tf_seg_stress",
        "ft_int_stress",
        "tf_int_stress",
        "functional_class",
    ] {
        assert_eq!(s[column]["agree"], 686, "{column}");
        assert_eq!(s[column]["total"], 686, "{column}");
    }
    assert_eq!(s["differing"].as_array().unwrap().len(), 0);
    let (a, b) = city(&v, "overall_score");
    assert!(
        (a - 20.83).abs() < 1e-9 && (b - 20.83).abs() < 1e-9,
        "{a} {b}"
    );
    assert_eq!(v["blocks"]["common"], 125);
    for d in v["blocks"]["scores"].as_array().unwrap() {
        assert!(d["max_abs"].as_f64().unwrap() < 1e-3, "{d}");
        assert_eq!(d["null_on_one_side"], 0, "{d}");
    }
}

#[test]
fn the_json_report_has_every_section() {
    let v = json(project("reference-dc"), &expected());
    assert_eq!(v["a"]["kind"], "project");
    assert_eq!(v["b"]["kind"], "reference_csv");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in ["a", "b", "segments", "blocks", "city", "destinations"] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    let scores: Vec<&str> = v["blocks"]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["column"].as_str().unwrap())
        .collect();
    assert_eq!(scores[0], "overall_score");
    assert!(scores.contains(&"opportunity_score") && scores.contains(&"transit_score"));
    assert_eq!(v["city"].as_array().unwrap().len(), 23);
    // The fixture has one destination table (schools): the other categories are null on B.
    for d in v["destinations"].as_array().unwrap() {
        if d["category"] == "schools" {
            assert_eq!(
                (d["a"].clone(), d["b"].clone()),
                (1.into(), 1.into()),
                "{d}"
            );
        } else {
            assert!(d["a"].is_u64() && d["b"].is_null(), "{d}");
        }
    }
}

#[test]
fn two_cuts_of_one_place_differ_and_the_layer_shows_where() {
    let (boundary, buffer) = (
        project("reference-dc-region"),
        project("bna-dc-region-buffer"),
    );
    let v = json(boundary, buffer);
    let s = &v["segments"];
    let (a_total, b_total, matched) = (
        s["a_total"].as_u64().unwrap(),
        s["b_total"].as_u64().unwrap(),
        s["matched"].as_u64().unwrap(),
    );
    assert_eq!(s["matched_by"], "end_points");
    assert!(
        b_total > a_total,
        "the 2680 m ring routes on more roads: {a_total} vs {b_total}"
    );
    assert!(matched < b_total && matched > 0, "{matched} of {b_total}");
    let (a, b) = city(&v, "overall_score");
    assert!((a - b).abs() > 0.01, "city overall {a} vs {b}");
    let overall = &v["blocks"]["scores"][0];
    assert!(overall["mean_abs"].as_f64().unwrap() > 0.0, "{overall}");
    let worst = v["blocks"]["worst"].as_array().unwrap();
    assert!(!worst.is_empty());
    assert!(
        worst[0]["geoid"].as_str().unwrap().starts_with("11001"),
        "{worst:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("diff.sqlite");
    let text = ok(bna(&[boundary, buffer, Path::new("--layer"), &layer]));
    assert!(text.contains("difference layer:"), "{text}");
    // Written again over its own earlier file.
    ok(bna(&[boundary, buffer, Path::new("--layer"), &layer]));
    let conn = bna_engine::store::connect_spatialite(&layer).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM geometry_columns WHERE f_table_name IN ('compare_segments', 'compare_blocks')"),
        2
    );
    let only_b = i64::try_from(b_total - matched).unwrap();
    let differing = i64::try_from(s["differing"].as_array().unwrap().len()).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM compare_segments WHERE status = 'only_b'"),
        only_b
    );
    assert_eq!(
        count("SELECT count(*) FROM compare_segments WHERE status = 'differs'"),
        differing
    );
    assert_eq!(
        count("SELECT count(*) FROM compare_segments WHERE geom IS NULL"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM compare_blocks"),
        v["blocks"]["common"].as_i64().unwrap()
    );
    assert_eq!(
        count("SELECT count(*) FROM compare_blocks WHERE geom IS NULL OR NOT ST_IsValid(geom)"),
        0
    );
    let worst_abs: f64 = conn
        .query_row(
            "SELECT max(overall_abs_delta) FROM compare_blocks",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!((worst_abs - worst[0]["delta"].as_f64().unwrap().abs()).abs() < 1e-9);
}

#[test]
fn bad_input_is_one_line_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("export");
    std::fs::create_dir(&empty).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a project").unwrap();
    let missing = dir.path().join("missing.bna");
    let p = project("reference-dc");
    let cases: [(&[&Path], &[&str]); 5] = [
        (
            &[p, &empty],
            &["export", "neighborhood_ways.csv", "GeoJSON"],
        ),
        (&[p, &missing], &["missing.bna", "bna analyze"]),
        (&[&text, p], &["notes.txt", "not a .bna project"]),
        (&[&expected(), &expected()], &["at least one .bna project"]),
        (
            &[p, &expected(), Path::new("--layer"), &text],
            &["notes.txt", "--force"],
        ),
    ];
    for (args, needles) in cases {
        let o = bna(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
        }
    }
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "not a project");
}

/// The output set closes the reference's gaps: its `neighborhood_score_inputs` (exported as
/// CSV, as the reference does) and the bike-shed columns of its destination tables equal the
/// reference's own on the reference case.
#[test]
fn the_reference_case_writes_the_references_score_inputs_and_bike_sheds() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(golden_case::bin())
        .args(["export", "--format", "csv", "--dir"])
        .arg(dir.path())
        .arg(project("reference-dc"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = "neighborhood_score_inputs";
    let want = Table::from_csv(&expected().join(format!("{table}.csv"))).unwrap();
    let got = Table::from_csv(&dir.path().join(format!("{table}.csv"))).unwrap();
    assert_eq!(got.columns, want.columns);
    assert_eq!(got.rows.len(), 132);
    // NUMERIC(16,4): equal to the last decimal.
    let d = diff(table, &["id".to_string()], &want, &got, 0.00005);
    assert!(d.is_empty(), "{}", d.join("\n"));

    let table = "neighborhood_schools";
    let want = Table::from_csv(&expected().join(format!("{table}.csv"))).unwrap();
    let conn = bna_engine::store::connect_spatialite(project("reference-dc")).unwrap();
    let got = Table::from_sqlite(&conn, table, &want.columns).unwrap();
    let d = diff(table, &["osm_id".to_string()], &want, &got, 1e-9);
    assert!(d.is_empty(), "{}", d.join("\n"));
}

/// A folder laid out like the reference's own export (GeoJSON layers in EPSG:4326, scores as
/// CSV) — here bna's export of the same project — compares by end points, all equal.
#[test]
fn a_geojson_export_folder_reads_like_the_references_export() {
    let dir = tempfile::tempdir().unwrap();
    let p = project("reference-dc");
    for format in ["geojson", "csv"] {
        let o = Command::new(golden_case::bin())
            .args(["export", "--format", format, "--dir"])
            .arg(dir.path())
            .arg(p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let v = json(p, dir.path());
    assert_eq!(v["b"]["kind"], "reference_geojson");
    let s = &v["segments"];
    assert_eq!(s["matched_by"], "end_points");
    assert_eq!(
        (s["matched"].clone(), s["b_total"].clone()),
        (686.into(), 686.into())
    );
    for column in [
        "ft_seg_stress",
        "tf_seg_stress",
        "ft_int_stress",
        "tf_int_stress",
        "functional_class",
    ] {
        assert_eq!(s[column]["agree"], 686, "{column}");
    }
    assert_eq!(v["blocks"]["common"], 125);
    let destinations = v["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), 13);
    for d in destinations {
        assert!(d["a"].is_u64() && d["a"] == d["b"], "{d}");
    }
    let (a, b) = city(&v, "overall_score");
    assert_eq!(a, b);
}
