//! Cheap checks of the Debian package definition (`[package.metadata.deb]` in Cargo.toml) and
//! the desktop entry, run on every test run; building and installing the real .deb is
//! `packaging/linux/test-deb.sh` (too slow for CI). Also: the Windows installer script, the
//! macOS bundle layout and Info.plist (`packaging/macos/build-app.sh --layout-only`, which
//! needs no Mac), and where the binary finds its demo data in each package's layout. The
//! Windows package itself is built and run under wine by `packaging/windows/test-wine.sh`.

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

/// The `File` lines of the NSIS script are exactly what its uninstaller removes, and nothing
/// in it needs administrator rights.
#[test]
fn windows_installer_removes_what_it_installs_and_stays_per_user() {
    let nsi = std::fs::read_to_string(root().join("packaging/windows/bna.nsi")).unwrap();
    let lines: Vec<&str> = nsi.lines().map(str::trim).collect();
    assert!(lines.contains(&"RequestExecutionLevel user"));
    assert!(lines.contains(&r#"InstallDir "$LOCALAPPDATA\Programs\bna""#));
    let arg = |line: &str, prefix: &str| -> Option<String> {
        line.strip_prefix(prefix).map(|rest| {
            rest.trim_matches('"')
                .rsplit('\\')
                .next()
                .unwrap()
                .to_owned()
        })
    };
    let mut installed: Vec<String> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for line in &lines {
        if let Some(f) = arg(line, "File /r ").or_else(|| arg(line, "File ")) {
            installed.push(f);
        }
        if let Some(f) = arg(line, "RMDir /r ").or_else(|| arg(line, "Delete ")) {
            removed.push(f);
        }
        if let Some(f) = arg(line, "WriteUninstaller ") {
            installed.push(f);
        }
        for word in [
            "HKLM",
            "HKEY_LOCAL_MACHINE",
            "$PROGRAMFILES",
            "SetShellVarContext all",
        ] {
            assert!(!line.contains(word), "per-user install, but: {line}");
        }
    }
    installed.sort();
    removed.retain(|f| f != "bna.lnk");
    removed.sort();
    assert_eq!(
        installed, removed,
        "installed vs removed by the uninstaller"
    );
    for f in [
        "bna.exe",
        "mod_spatialite.dll",
        "data",
        "licences",
        "uninstall.exe",
    ] {
        assert!(installed.iter().any(|i| i == f), "{f} not installed");
    }
    // What the installer takes is what build.sh stages.
    let build = std::fs::read_to_string(root().join("packaging/windows/build.sh")).unwrap();
    for f in &installed {
        if f != "uninstall.exe" {
            assert!(
                build.contains(&format!("$stage/{f}")),
                "build.sh does not stage {f}"
            );
        }
    }
}

/// `build-app.sh --layout-only` makes the bundle tree without a compiler; its Info.plist
/// parses (python3 plistlib, as macOS's own parser would), and every file the plist or the
/// binary refers to is where they look for it.
#[test]
fn macos_bundle_layout_and_info_plist() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("bash")
        .arg(root().join("packaging/macos/build-app.sh"))
        .arg("--layout-only")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let contents = dir.path().join("BNA.app/Contents");
    let plist = contents.join("Info.plist");
    let json = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))",
        ])
        .arg(&plist)
        .output()
        .unwrap();
    assert!(
        json.status.success(),
        "Info.plist does not parse: {}",
        String::from_utf8_lossy(&json.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let s = |k: &str| p[k].as_str().unwrap_or_else(|| panic!("{k} missing"));
    assert_eq!(s("CFBundlePackageType"), "APPL");
    assert_eq!(s("CFBundleShortVersionString"), env!("CARGO_PKG_VERSION"));
    assert_eq!(s("CFBundleVersion"), env!("CARGO_PKG_VERSION"));
    assert!(s("CFBundleIdentifier").split('.').count() >= 3);
    let exe = contents.join("MacOS").join(s("CFBundleExecutable"));
    assert!(exe.is_file(), "{}", exe.display());
    assert!(contents
        .join("Resources")
        .join(format!("{}.icns", s("CFBundleIconFile")))
        .is_file());
    // The .bna document type is declared by the app (exported), with the extension.
    let exported = p["UTExportedTypeDeclarations"].as_array().unwrap();
    let doc_types = p["CFBundleDocumentTypes"].as_array().unwrap();
    assert!(!doc_types.is_empty());
    for doc in doc_types {
        assert_eq!(doc["LSHandlerRank"], "Owner");
        for uti in doc["LSItemContentTypes"].as_array().unwrap() {
            let decl = exported
                .iter()
                .find(|d| d["UTTypeIdentifier"] == *uti)
                .unwrap_or_else(|| panic!("{uti} is not exported"));
            let ext = &decl["UTTypeTagSpecification"]["public.filename-extension"];
            assert!(ext.as_array().unwrap().iter().any(|e| e == "bna"), "{decl}");
        }
    }
    // Where bna looks beside its binary (Contents/MacOS): SpatiaLite in ../Frameworks
    // (store/spatialite.rs), the demo data in ../Resources/data (data_dir in src/cli).
    let macos = contents.join("MacOS");
    assert!(macos.join("../Frameworks/mod_spatialite.dylib").is_file());
    for f in [
        "us-dc/dc-nw-2016-highways.osm.pbf",
        "us-dc/tl_2021_11_tabblock20.zip",
        "helsinki/helsinki-center.osm.pbf",
        "README.md",
    ] {
        assert!(macos.join("../Resources/data").join(f).is_file(), "{f}");
    }
    for f in [
        "SPATIALITE-LICENSE.txt",
        "DATA-ATTRIBUTION.md",
        "BNA-LICENSE.txt",
    ] {
        assert!(contents.join("Resources/licences").join(f).is_file(), "{f}");
    }
}

/// Each package puts the demo data in its own place relative to the binary: `data` beside it
/// (Windows), `../share/bna/data` (.deb), `../Resources/data` (macOS app). The binary is linked
/// into each layout with an empty data folder, so the demo's error names where it looked.
#[test]
fn the_binary_finds_the_demo_data_of_each_package_layout() {
    for (bin_dir, data) in [
        ("win", "data"),
        ("usr/bin", "../share/bna/data"),
        ("BNA.app/Contents/MacOS", "../Resources/data"),
    ] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let bin_dir = dir.path().join(bin_dir);
        let bin = bin_dir.join("bna");
        std::fs::create_dir_all(&bin_dir).unwrap();
        std::fs::create_dir_all(bin_dir.join(data)).unwrap();
        if std::fs::hard_link(env!("CARGO_BIN_EXE_bna"), &bin).is_err() {
            std::fs::copy(env!("CARGO_BIN_EXE_bna"), &bin).unwrap();
        }
        let out = std::process::Command::new(&bin)
            .args(["demo", "--out"])
            .arg(dir.path().join("demo.bna"))
            .env_remove("BNA_DATA_DIR")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{data}: the demo ran without data");
        let want = bin_dir.join(data).join("us-dc");
        assert!(
            stderr.contains(&want.display().to_string()),
            "{data}: {stderr} does not name {}",
            want.display()
        );
    }
}
