//! The input bundle: `bundle.json` plus the data files, under one prefix (s3:// or file://).
//! The worker needs nothing else, so a bundle can be re-run anywhere with the same result.
//!
//! A file reference is a name relative to the bundle prefix (uploaded with the bundle) or an
//! absolute `s3://` / `file://` URI (data already in the bucket, e.g. a shared regional
//! extract). Downloading from other sources (Geofabrik, TIGER) belongs to the data-fetch
//! module; once it exists it gets its own reference kind here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::aws::{download_location, read_location, upload_location, write_location, Aws};
use super::uri::Location;
use super::CloudError;
use crate::pipeline::{AnalysisRequest, PopulationChoice};

pub const BUNDLE_FILE: &str = "bundle.json";
pub const BUNDLE_FORMAT: &str = "bna-bundle/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Relative name or absolute URI.
    pub file: String,
    /// Files that must sit next to it under the same stem (a Shapefile's .dbf, .shx, .prj).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub companions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleInputs {
    pub boundary: FileRef,
    pub osm: FileRef,
    #[serde(default)]
    pub blocks: Option<FileRef>,
    #[serde(default)]
    pub jobs: Option<FileRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleParameters {
    #[serde(default)]
    pub population: Option<PopulationChoice>,
    #[serde(default)]
    pub city_fips: Option<String>,
    #[serde(default)]
    pub state_fips: Option<String>,
    #[serde(default)]
    pub residential_speed: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub organization: String,
    pub created_at: String,
    /// The engine that built the bundle; the worker reports its own in the results.
    pub created_by: String,
    pub inputs: BundleInputs,
    #[serde(default)]
    pub parameters: BundleParameters,
}

/// A bundle ready to upload: the manifest and the local files it names.
pub struct PreparedBundle {
    pub bundle: Bundle,
    pub files: Vec<(PathBuf, String)>,
}

/// Builds the bundle for `req`; every local input is named `<role>-<file name>` so two
/// inputs with the same name cannot collide, and a Shapefile keeps its companions.
pub fn prepare(req: &AnalysisRequest, organization: &str) -> Result<PreparedBundle, CloudError> {
    let mut files = Vec::new();
    let mut add = |role: &str, path: &Path| -> Result<FileRef, CloudError> {
        if !path.is_file() {
            return Err(CloudError::BadInput(format!(
                "{}: not found; check the --{role} path",
                path.display()
            )));
        }
        let name = |p: &Path| {
            format!(
                "{role}-{}",
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            )
        };
        let main = name(path);
        files.push((path.to_path_buf(), main.clone()));
        let mut companions = Vec::new();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("shp"))
        {
            for ext in ["dbf", "shx", "prj", "cpg"] {
                let c = path.with_extension(ext);
                if c.is_file() {
                    let n = name(&c);
                    files.push((c, n.clone()));
                    companions.push(n);
                }
            }
        }
        Ok(FileRef {
            file: main,
            companions,
        })
    };
    let inputs = BundleInputs {
        boundary: add("boundary", &req.boundary)?,
        osm: add("osm", &req.osm)?,
        blocks: req
            .blocks
            .as_deref()
            .map(|p| add("blocks", p))
            .transpose()?,
        jobs: req.jobs.as_deref().map(|p| add("jobs", p)).transpose()?,
    };
    Ok(PreparedBundle {
        bundle: Bundle {
            format: BUNDLE_FORMAT.into(),
            organization: organization.into(),
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            created_by: crate::pipeline::ENGINE_VERSION.into(),
            inputs,
            parameters: BundleParameters {
                population: req.population,
                city_fips: req.city_fips.clone(),
                state_fips: req.state_fips.clone(),
                residential_speed: req.residential_speed,
            },
        },
        files,
    })
}

/// Uploads the files, then `bundle.json` last: a bundle without its manifest is incomplete.
pub fn upload(
    aws: Option<&Aws>,
    prepared: &PreparedBundle,
    prefix: &Location,
) -> Result<(), CloudError> {
    for (path, name) in &prepared.files {
        upload_location(aws, path, &prefix.join(name))?;
    }
    let json = serde_json::to_vec_pretty(&prepared.bundle)
        .map_err(|e| CloudError::BadInput(format!("bundle: {e}")))?;
    write_location(aws, &prefix.join(BUNDLE_FILE), json)
}

pub fn parse(bytes: &[u8], uri: &str) -> Result<Bundle, CloudError> {
    let b: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| CloudError::BadInput(format!("{uri}: not a bna bundle: {e}")))?;
    if b.format != BUNDLE_FORMAT {
        return Err(CloudError::BadInput(format!(
            "{uri}: bundle format {:?}, this worker reads {BUNDLE_FORMAT:?}; rebuild the bundle with this version",
            b.format
        )));
    }
    Ok(b)
}

fn resolve(prefix: &Location, reference: &str) -> Result<Location, CloudError> {
    if reference.contains("://") {
        return Location::parse(reference);
    }
    if reference.is_empty() || reference.starts_with('/') || reference.split('/').any(|c| c == "..")
    {
        return Err(CloudError::BadInput(format!(
            "{}: file reference {reference:?} must be a plain name inside the bundle or an s3:// / file:// URI",
            prefix.join(BUNDLE_FILE)
        )));
    }
    Ok(prefix.join(reference))
}

/// Reads the bundle at `prefix` and downloads its files into `workdir`; returns the request
/// that writes the project to `out`.
pub fn materialize(
    aws: Option<&Aws>,
    prefix: &Location,
    workdir: &Path,
    out: PathBuf,
) -> Result<(Bundle, AnalysisRequest), CloudError> {
    let manifest = prefix.join(BUNDLE_FILE);
    let bundle = parse(&read_location(aws, &manifest)?, &manifest.uri())?;
    std::fs::create_dir_all(workdir).map_err(|e| CloudError::io(workdir, e))?;
    let fetch = |r: &FileRef, role: &str| -> Result<PathBuf, CloudError> {
        let mut main = None;
        for (i, reference) in std::iter::once(&r.file).chain(&r.companions).enumerate() {
            let loc = resolve(prefix, reference)?;
            let base = reference.rsplit('/').next().unwrap_or(reference);
            // Companions must keep the main file's stem; the role prefix keeps roles apart.
            let local = workdir.join(format!("in-{role}-{base}"));
            download_location(aws, &loc, &local)?;
            if i == 0 {
                main = Some(local);
            }
        }
        main.ok_or_else(|| CloudError::BadInput(format!("{manifest}: empty {role} reference")))
    };
    let req = AnalysisRequest {
        boundary: fetch(&bundle.inputs.boundary, "boundary")?,
        osm: fetch(&bundle.inputs.osm, "osm")?,
        blocks: bundle
            .inputs
            .blocks
            .as_ref()
            .map(|r| fetch(r, "blocks"))
            .transpose()?,
        jobs: bundle
            .inputs
            .jobs
            .as_ref()
            .map(|r| fetch(r, "jobs"))
            .transpose()?,
        population: bundle.parameters.population,
        city_fips: bundle.parameters.city_fips.clone(),
        state_fips: bundle.parameters.state_fips.clone(),
        residential_speed: bundle.parameters.residential_speed,
        out,
    };
    Ok((bundle, req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_round_trip_keeps_request() {
        let src = tempfile::tempdir().unwrap();
        let shp = src.path().join("area.shp");
        for ext in ["shp", "dbf", "shx", "prj"] {
            std::fs::write(shp.with_extension(ext), ext).unwrap();
        }
        let osm = src.path().join("x.osm.pbf");
        std::fs::write(&osm, b"pbf").unwrap();
        let req = AnalysisRequest {
            boundary: shp.clone(),
            osm: osm.clone(),
            blocks: None,
            jobs: None,
            population: Some(PopulationChoice::Synthetic),
            city_fips: None,
            state_fips: Some("11".into()),
            residential_speed: Some(25),
            out: "unused.bna".into(),
        };
        let prepared = prepare(&req, "Acme").unwrap();
        assert_eq!(prepared.bundle.inputs.boundary.companions.len(), 3);

        let store = tempfile::tempdir().unwrap();
        let prefix = Location::File(store.path().join("input"));
        upload(None, &prepared, &prefix).unwrap();
        let work = tempfile::tempdir().unwrap();
        let (bundle, got) =
            materialize(None, &prefix, work.path(), work.path().join("r.bna")).unwrap();
        assert_eq!(bundle, prepared.bundle);
        assert_eq!(got.population, req.population);
        assert_eq!(got.state_fips.as_deref(), Some("11"));
        assert_eq!(got.residential_speed, Some(25));
        assert_eq!(std::fs::read(&got.osm).unwrap(), b"pbf");
        assert_eq!(
            std::fs::read(got.boundary.with_extension("dbf")).unwrap(),
            b"dbf"
        );
    }

    #[test]
    fn bad_bundles_are_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = Location::File(dir.path().to_path_buf());
        // no manifest
        let e = materialize(None, &prefix, dir.path(), "o.bna".into()).unwrap_err();
        assert!(
            e.is_bad_input() && e.to_string().contains("bundle.json"),
            "{e}"
        );
        // wrong format, escaping reference, missing data file
        for (json, needle) in [
            (r#"{"format":"other"}"#, "not a bna bundle"),
            (
                r#"{"format":"bna-bundle/2","organization":"o","created_at":"t","created_by":"b","inputs":{"boundary":{"file":"b"},"osm":{"file":"o"}}}"#,
                "bna-bundle/2",
            ),
            (
                r#"{"format":"bna-bundle/1","organization":"o","created_at":"t","created_by":"b","inputs":{"boundary":{"file":"../b"},"osm":{"file":"o"}}}"#,
                "plain name",
            ),
            (
                r#"{"format":"bna-bundle/1","organization":"o","created_at":"t","created_by":"b","inputs":{"boundary":{"file":"b.geojson"},"osm":{"file":"o"}}}"#,
                "b.geojson: not found",
            ),
        ] {
            std::fs::write(dir.path().join(BUNDLE_FILE), json).unwrap();
            let e = materialize(None, &prefix, &dir.path().join("w"), "o.bna".into()).unwrap_err();
            assert!(e.is_bad_input() && e.to_string().contains(needle), "{e}");
        }
    }
}
