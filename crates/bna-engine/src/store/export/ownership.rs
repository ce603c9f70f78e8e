//! Telling an earlier export from a file bna did not write, so that exporting again to the same
//! folder replaces the old export while an unrelated file that happens to have the same name
//! (`<project>.gpkg`, `index.html`, …) is refused. Each format is recognised by what bna writes
//! at its start, most often by comparing with the new file that would replace it; files of
//! Shapefile and web page sets are judged with the file that defines their set.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::gpkg::GPKG_APPLICATION_ID;
use super::mbtiles::DESCRIPTION_PREFIX;
use super::web::{DATA_JS_HEADER, PAGE_MARKER};
use crate::store::schema;

/// How much of a file's start is read to recognise it.
const HEAD_BYTES: u64 = 4096;

/// Whether the file at `dest_root/rel` was written by an earlier export; `staged_root/rel` is
/// the new file that would replace it.
pub(super) fn is_earlier_export(dest_root: &Path, staged_root: &Path, rel: &Path) -> bool {
    let existing = dest_root.join(rel);
    let staged = staged_root.join(rel);
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or("");
    if rel.starts_with("leaflet") || name == "bna-share.js" {
        return same_bytes(&existing, &staged)
            || is_earlier_export(dest_root, staged_root, Path::new("index.html"));
    }
    match (name, ext) {
        ("index.html", _) => head(&existing).contains(PAGE_MARKER),
        ("bna-data.js", _) => head(&existing).starts_with(DATA_JS_HEADER),
        (_, "geojson") => same_geojson_header(&existing, &staged),
        (_, "csv") => first_line(&existing).is_some_and(|l| Some(l) == first_line(&staged)),
        (_, "dbf") => dbf_fields(&existing).is_some_and(|f| Some(f) == dbf_fields(&staged)),
        // The parts of a Shapefile are bna's when its attribute table is.
        (_, "shp" | "shx" | "prj" | "cpg") => {
            let dbf = rel.with_extension("dbf");
            dest_root.join(&dbf).is_file() && is_earlier_export(dest_root, staged_root, &dbf)
        }
        (_, "gpkg") => is_bna_geopackage(&existing),
        (_, "mbtiles") => is_bna_tile_set(&existing),
        _ => false,
    }
}

/// The first bytes of a file as text (lossy), empty when it cannot be read.
fn head(path: &Path) -> String {
    let mut buf = Vec::new();
    let _ = File::open(path).and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut buf));
    String::from_utf8_lossy(&buf).into_owned()
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn first_line(path: &Path) -> Option<String> {
    let f = File::open(path).ok()?;
    let mut line = String::new();
    BufReader::new(f.take(HEAD_BYTES))
        .read_line(&mut line)
        .ok()?;
    Some(line.trim_end().to_string()).filter(|l| !l.is_empty())
}

/// A GeoJSON export starts with the FeatureCollection's name and CRS, as ogr2ogr writes them
/// (the reference outputs): the same table written by bna or by the reference has the same
/// start, whitespace aside.
fn same_geojson_header(existing: &Path, staged: &Path) -> bool {
    let compact = |s: String| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
    let new = compact(head(staged));
    let Some(end) = new.find("\"features\":[") else {
        return false;
    };
    compact(head(existing)).starts_with(&new[..end])
}

/// Names and types of the fields of a dBase table (the widths of text fields depend on the data).
fn dbf_fields(path: &Path) -> Option<Vec<(String, u8)>> {
    let mut buf = Vec::new();
    File::open(path)
        .ok()?
        .take(HEAD_BYTES)
        .read_to_end(&mut buf)
        .ok()?;
    // dBase III: a 32-byte header, then 32-byte field descriptors ended by 0x0D.
    let mut fields = Vec::new();
    let mut at = 32;
    while let Some(d) = buf.get(at..at + 32) {
        let name = &d[..11];
        let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(11)];
        fields.push((String::from_utf8_lossy(name).into_owned(), d[11]));
        at += 32;
        if buf.get(at) == Some(&0x0D) {
            return Some(fields);
        }
    }
    None
}

fn open_read_only(path: &Path) -> Option<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()
}

/// A GeoPackage holding the reference road table (bna's export, or the reference set).
fn is_bna_geopackage(path: &Path) -> bool {
    let Some(c) = open_read_only(path) else {
        return false;
    };
    let app: Option<i64> = c.query_row("PRAGMA application_id", [], |r| r.get(0)).ok();
    let has_ways = c
        .query_row(
            "SELECT count(*) FROM gpkg_contents WHERE table_name = ?1",
            [schema::ways().name],
            |r| r.get::<_, i64>(0),
        )
        .is_ok_and(|n| n > 0);
    app == Some(GPKG_APPLICATION_ID) && has_ways
}

/// An MBTiles file whose description is the one bna writes.
fn is_bna_tile_set(path: &Path) -> bool {
    let Some(c) = open_read_only(path) else {
        return false;
    };
    c.query_row(
        "SELECT value FROM metadata WHERE name = 'description'",
        [],
        |r| r.get::<_, String>(0),
    )
    .is_ok_and(|d| d.starts_with(DESCRIPTION_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbf(names: &[&str]) -> Vec<u8> {
        let mut b = vec![0u8; 32];
        for n in names {
            let mut d = [0u8; 32];
            d[..n.len()].copy_from_slice(n.as_bytes());
            d[11] = b'C';
            b.extend(d);
        }
        b.push(0x0D);
        b
    }

    #[test]
    fn earlier_exports_are_recognised_and_other_files_are_not() {
        let geojson = |name: &str, spaced: bool| {
            let sep = if spaced { "\n" } else { "" };
            format!(
                "{{{sep}\"type\":\"FeatureCollection\",{sep}\"name\":\"{name}\",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}}}},\"features\":[{sep}]}}"
            )
            .into_bytes()
        };
        let ways = "neighborhood_ways";
        type Case = (&'static str, Vec<u8>, Vec<u8>, bool);
        let cases: Vec<Case> = vec![
            (
                "t.geojson",
                geojson(ways, false),
                geojson(ways, false),
                true,
            ),
            ("t.geojson", geojson(ways, true), geojson(ways, false), true),
            (
                "t.geojson",
                geojson("my_layer", false),
                geojson(ways, false),
                false,
            ),
            ("t.geojson", b"{}".to_vec(), geojson(ways, false), false),
            (
                "t.csv",
                b"a,b\n1,2\n".to_vec(),
                b"a,b\n3,4\n".to_vec(),
                true,
            ),
            ("t.csv", b"name,phone\n".to_vec(), b"a,b\n".to_vec(), false),
            ("t.csv", Vec::new(), Vec::new(), false),
            (
                "t.dbf",
                dbf(&["road_id", "name"]),
                dbf(&["road_id", "name"]),
                true,
            ),
            ("t.dbf", dbf(&["owner"]), dbf(&["road_id", "name"]), false),
            ("t.dbf", b"short".to_vec(), dbf(&["road_id"]), false),
            (
                "index.html",
                b"<script src=\"bna-data.js\"></script>".to_vec(),
                Vec::new(),
                true,
            ),
            (
                "index.html",
                b"<html>my site</html>".to_vec(),
                Vec::new(),
                false,
            ),
            (
                "bna-data.js",
                format!("{DATA_JS_HEADER}: x").into_bytes(),
                Vec::new(),
                true,
            ),
            ("bna-data.js", b"var x = 1;".to_vec(), Vec::new(), false),
            ("x.gpkg", b"not a database".to_vec(), Vec::new(), false),
            ("x.mbtiles", b"not a database".to_vec(), Vec::new(), false),
            ("notes.txt", b"x".to_vec(), b"x".to_vec(), false),
        ];
        for (name, existing, staged, ours) in cases {
            let dest = tempfile::tempdir().unwrap();
            let stage = tempfile::tempdir().unwrap();
            std::fs::write(dest.path().join(name), &existing).unwrap();
            std::fs::write(stage.path().join(name), &staged).unwrap();
            assert_eq!(
                is_earlier_export(dest.path(), stage.path(), Path::new(name)),
                ours,
                "{name}: {}",
                String::from_utf8_lossy(&existing)
            );
        }
    }

    #[test]
    fn shapefile_parts_and_web_assets_follow_the_file_that_defines_their_set() {
        let dest = tempfile::tempdir().unwrap();
        let stage = tempfile::tempdir().unwrap();
        let (d, s) = (dest.path(), stage.path());
        std::fs::write(s.join("w.dbf"), dbf(&["road_id"])).unwrap();
        std::fs::write(d.join("w.shp"), b"shape").unwrap();
        // No .dbf beside it: an unknown .shp.
        assert!(!is_earlier_export(d, s, Path::new("w.shp")));
        std::fs::write(d.join("w.dbf"), dbf(&["road_id"])).unwrap();
        assert!(is_earlier_export(d, s, Path::new("w.shp")));
        std::fs::write(d.join("w.dbf"), dbf(&["other"])).unwrap();
        assert!(!is_earlier_export(d, s, Path::new("w.shp")));

        std::fs::create_dir(d.join("leaflet")).unwrap();
        std::fs::create_dir(s.join("leaflet")).unwrap();
        let asset = Path::new("leaflet/leaflet.js");
        std::fs::write(d.join(asset), b"old leaflet").unwrap();
        std::fs::write(s.join(asset), b"new leaflet").unwrap();
        assert!(!is_earlier_export(d, s, asset));
        std::fs::write(d.join("index.html"), format!("<x>{PAGE_MARKER}</x>")).unwrap();
        assert!(is_earlier_export(d, s, asset));
        std::fs::write(d.join("index.html"), b"<html>mine</html>").unwrap();
        std::fs::write(d.join(asset), b"new leaflet").unwrap();
        // The same bytes are harmless to write again.
        assert!(is_earlier_export(d, s, asset));
    }
}
