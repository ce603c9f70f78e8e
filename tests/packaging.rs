//! Cheap checks of the Debian package definition (`[package.metadata.deb]` in Cargo.toml) and
//! the desktop entry, run on every test run; building and installing the real .deb is
//! `packaging/linux/test-deb.sh` (too slow for CI).

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `[package.metadata.deb]` section: its `key = value` lines and its asset triples.
fn deb_metadata() -> (Vec<(String, String)>, Vec<[String; 3]>) {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let start = toml
        .find("[package.metadata.deb]")
        .expect("Cargo.toml has [package.metadata.deb]");
    let section = &toml[start..];
    let end = section[1..].find("\n[").map_or(section.len(), |i| i + 1);
    let mut keys = Vec::new();
    let mut assets = Vec::new();
    for line in section[..end].lines().skip(1) {
        let line = line.trim();
        if line.starts_with("[\"") {
            // Asset lines are JSON arrays of three strings.
            let a: [String; 3] = serde_json::from_str(line.trim_end_matches(',')).unwrap();
            assets.push(a);
        } else if let Some((k, v)) = line.split_once(" = ") {
            keys.push((k.to_string(), v.trim_matches('"').to_string()));
        }
    }
    (keys, assets)
}

#[test]
fn deb_assets_exist_and_put_the_data_where_the_binary_looks() {
    let (keys, assets) = deb_metadata();
    let depends = &keys.iter().find(|(k, _)| k == "depends").unwrap().1;
    assert!(depends.contains("libsqlite3-mod-spatialite"), "{depends}");
    assert!(depends.contains("$auto"), "{depends}");

    let dests: Vec<&str> = assets.iter().map(|a| a[1].as_str()).collect();
    assert!(assets
        .iter()
        .any(|a| a[0] == "target/release/bna" && a[1] == "usr/bin/" && a[2] == "755"));
    // src/cli/mod.rs data_dir(): `<exe dir>/../share/bna/data`, i.e. /usr/share/bna/data.
    for d in [
        "usr/share/bna/data/us-dc/",
        "usr/share/bna/data/helsinki/",
        "usr/share/applications/",
        "usr/share/icons/hicolor/scalable/apps/",
    ] {
        assert!(dests.contains(&d), "no asset goes to {d}");
    }
    for [src, _, mode] in &assets {
        assert!(mode == "644" || mode == "755", "{src}: mode {mode}");
        if src.starts_with("target/") {
            continue;
        }
        // Globs: the folder before the first wildcard must exist and hold files.
        let fixed = src.split('*').next().unwrap();
        let p = root().join(fixed);
        if src.contains('*') {
            assert!(
                std::fs::read_dir(&p)
                    .map(|d| d.count() > 0)
                    .unwrap_or(false),
                "{src}: {} is missing or empty",
                p.display()
            );
        } else {
            assert!(p.is_file(), "{src} is missing");
        }
    }
    // The demo the binary runs reads these files (src/cli/mod.rs demo_request).
    for f in [
        "data/us-dc/boundary-columbia-heights.geojson",
        "data/us-dc/dc-nw-2016-highways.osm.pbf",
        "data/us-dc/tl_2021_11_tabblock20.zip",
        "data/us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz",
        "data/helsinki/boundary-centre.geojson",
        "data/helsinki/helsinki-center.osm.pbf",
    ] {
        assert!(root().join(f).is_file(), "{f}");
    }
}

#[test]
fn desktop_entry_launches_bna_with_its_icon() {
    let text = std::fs::read_to_string(root().join("packaging/linux/bna.desktop")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("[Desktop Entry]"));
    let entries: std::collections::HashMap<&str, &str> =
        lines.filter_map(|l| l.split_once('=')).collect();
    for (k, v) in [
        ("Type", "Application"),
        ("Exec", "bna"),
        ("Icon", "bna"),
        ("Terminal", "false"),
        // The app's window id (src/app/mod.rs with_app_id), so docks group its windows.
        ("StartupWMClass", "bna"),
    ] {
        assert_eq!(entries.get(k), Some(&v), "{k}");
    }
    assert!(entries.contains_key("Name") && entries.contains_key("Comment"));
    assert!(entries["Categories"].ends_with(';'));
    // Icon=bna resolves to the installed icon files.
    let (_, assets) = deb_metadata();
    for (src, dest) in [
        ("assets/bna.svg", "usr/share/icons/hicolor/scalable/apps/"),
        ("assets/bna.png", "usr/share/icons/hicolor/256x256/apps/"),
    ] {
        assert!(assets.iter().any(|a| a[0] == src && a[1] == dest), "{src}");
    }
    let png = std::fs::read(root().join("assets/bna.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // 256×256: the IHDR width and height, big-endian.
    assert_eq!(&png[16..24], &[0, 0, 1, 0, 0, 0, 1, 0]);
}
