//! The difference layer of `bna compare --layer`: the segments whose stress or class differ
//! (both values) and the segments found on one side only, and every common block with its
//! overall score on both sides and |Δ|, in a SpatiaLite file QGIS opens.

use std::path::Path;

use geo::{LineString, MultiPolygon};
use rusqlite::types::Value;

use super::error::CompareError;
use super::report::Report;
use super::segments::oriented;
use super::side::{SegmentRecord, Side, STRESS_COLUMNS};
use crate::store::schema::{ColKind, GeomType, TableDef};
use crate::store::{wkb, write_layer_file, LayerTable, Overwrite};

pub const SEGMENTS_TABLE: &str = "compare_segments";
pub const BLOCKS_TABLE: &str = "compare_blocks";

fn opt_int(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::Integer)
}

fn opt_real(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Real)
}

fn opt_text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::Text(s.to_string()))
}

fn line(s: &SegmentRecord) -> Value {
    match &s.line_ll {
        Some(pts) if pts.len() >= 2 => Value::Blob(wkb::line_string(&LineString::from(
            pts.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>(),
        ))),
        _ => Value::Null,
    }
}

fn segments_def() -> TableDef {
    let mut cols: Vec<(String, ColKind)> = vec![
        ("id".into(), ColKind::Int),
        ("osm_id".into(), ColKind::Int),
        ("status".into(), ColKind::Text),
        ("differs".into(), ColKind::Text),
        ("functional_class_a".into(), ColKind::Text),
        ("functional_class_b".into(), ColKind::Text),
    ];
    for c in STRESS_COLUMNS {
        cols.push((format!("{c}_a"), ColKind::Int));
        cols.push((format!("{c}_b"), ColKind::Int));
    }
    let cols: Vec<(&str, ColKind)> = cols.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    TableDef::new(SEGMENTS_TABLE, true, &cols).geom("geom", GeomType::LineString)
}

fn blocks_def() -> TableDef {
    TableDef::new(
        BLOCKS_TABLE,
        true,
        &[
            ("id", ColKind::Int),
            ("geoid20", ColKind::Text),
            ("overall_score_a", ColKind::Real),
            ("overall_score_b", ColKind::Real),
            ("overall_delta", ColKind::Real),
            ("overall_abs_delta", ColKind::Real),
        ],
    )
    .geom("geom", GeomType::MultiPolygon)
}

/// The two tables' rows; stress of A is given in B's direction, as compared.
pub fn layer_tables(report: &Report, a: &Side, b: &Side) -> Vec<LayerTable> {
    let mut seg_rows = Vec::new();
    let mut push = |status: &str,
                    differs: Option<String>,
                    sa: Option<(&SegmentRecord, bool)>,
                    sb: Option<&SegmentRecord>| {
        let stress_a = sa.map(|(s, rev)| oriented(s, rev)).unwrap_or([None; 4]);
        let stress_b = sb.map(|s| s.stress).unwrap_or([None; 4]);
        let osm_id = sa.map(|(s, _)| s.osm_id).or(sb.map(|s| s.osm_id));
        let mut row = vec![
            Value::Integer(seg_rows.len() as i64 + 1),
            opt_int(osm_id),
            Value::Text(status.to_string()),
            opt_text(differs.as_deref()),
            opt_text(sa.and_then(|(s, _)| s.functional_class.as_deref())),
            opt_text(sb.and_then(|s| s.functional_class.as_deref())),
        ];
        for k in 0..4 {
            row.push(opt_int(stress_a[k]));
            row.push(opt_int(stress_b[k]));
        }
        // A project's line if either side is one; a reference line otherwise.
        let geom = match (sa, sb) {
            (Some((s, _)), _) if s.line_ll.is_some() => line(s),
            (_, Some(s)) => line(s),
            _ => Value::Null,
        };
        row.push(geom);
        seg_rows.push(row);
    };
    for d in &report.segments.differing {
        let cols: Vec<&str> = d.differences.iter().map(|f| f.column).collect();
        push(
            "differs",
            Some(cols.join(",")),
            Some((&a.segments[d.pair.a], d.pair.reversed)),
            Some(&b.segments[d.pair.b]),
        );
    }
    for &i in &report.segments.only_a {
        push("only_a", None, Some((&a.segments[i], false)), None);
    }
    for &j in &report.segments.only_b {
        push("only_b", None, None, Some(&b.segments[j]));
    }

    let geom_of = |geoid: &str| -> Option<&MultiPolygon<f64>> {
        [a, b].into_iter().find_map(|side| {
            side.blocks
                .iter()
                .find(|r| r.geoid == geoid)
                .and_then(|r| r.geom_ll.as_ref())
        })
    };
    let block_rows = report
        .blocks
        .overall
        .iter()
        .enumerate()
        .map(|(i, d)| {
            vec![
                Value::Integer(i as i64 + 1),
                Value::Text(d.geoid.clone()),
                opt_real(d.a),
                opt_real(d.b),
                opt_real(d.delta),
                opt_real(d.delta.map(f64::abs)),
                geom_of(&d.geoid)
                    .filter(|g| !g.0.is_empty())
                    .map_or(Value::Null, |g| Value::Blob(wkb::multi_polygon(g))),
            ]
        })
        .collect();
    vec![
        LayerTable {
            def: segments_def(),
            rows: seg_rows,
        },
        LayerTable {
            def: blocks_def(),
            rows: block_rows,
        },
    ]
}

/// Writes the difference layer of `report` to `dest` (replacing only a file bna wrote, unless
/// `overwrite` says any file).
pub fn write_layer(
    dest: &Path,
    report: &Report,
    a: &Side,
    b: &Side,
    overwrite: Overwrite,
) -> Result<(), CompareError> {
    let inputs: Vec<&Path> = [a, b].iter().map(|s| s.path.as_path()).collect();
    let what = format!("bna compare {} {}", a.path.display(), b.path.display());
    write_layer_file(dest, &what, &layer_tables(report, a, b), &inputs, overwrite)?;
    Ok(())
}
