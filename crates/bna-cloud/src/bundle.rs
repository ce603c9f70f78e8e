//! The input bundle: `bundle.json` plus the data files, under one prefix (s3:// or file://).
//! The worker needs nothing else, so a bundle can be re-run anywhere with the same result.
//!
//! A file reference is a name relative to the bundle prefix (uploaded with the bundle) or an
//! absolute `s3://` / `file://` URI (data already in the bucket, e.g. a shared regional
//! extract).
//!
//! Instead of files, a bundle may carry a `download` section: the worker then gets the
//! inputs itself with `fetch::fetch_inputs` (TIGER place search, census blocks, LODES jobs,
//! Overpass OSM), like `bna fetch`, so a job for a US place uploads only `bundle.json`.
//! `inputs.osm`, `inputs.blocks` and `inputs.jobs` may then be omitted; each one supplied
//! wins over its download (a supplied OSM extract also skips the Overpass query), and
//! `parameters.city_fips` / `state_fips` win over the ones the place search finds. The
//! boundary comes from the place search (`area` `{"place": "Washington, DC"}` or
//! `{"fips": "1150000"}`, no `inputs.boundary` allowed) or is the bundle's own
//! (`area` `"boundary"`, with an optional `state` for blocks and jobs).
//!
//! Format `bna-bundle/2` added `download` and made `inputs.osm` optional; `bna-bundle/3`
//! added each uploaded file's `source` (the path the user gave), which the fetched project
//! records as its provenance instead of the worker's scratch copy; `bna-bundle/4` added
//! `parameters.osm_clip`. Older bundles still read unchanged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::aws::{download_location, read_location, upload_location, write_location, Aws};
use super::uri::Location;
use super::CloudError;
use bna_engine::pipeline::{AnalysisRequest, OsmClip, PopulationChoice};
use bna_fetch::{self as fetch, Area, FetchObserver, FetchRequest, Sources};

pub const BUNDLE_FILE: &str = "bundle.json";
pub const BUNDLE_FORMAT: &str = "bna-bundle/4";
/// Every format this worker reads: a /1 bundle is a /2 bundle without `download`, a /2
/// bundle a /3 bundle without `source`s, a /3 bundle a /4 bundle without `osm_clip`.
pub const READABLE_FORMATS: [&str; 4] = [
    "bna-bundle/1",
    "bna-bundle/2",
    "bna-bundle/3",
    BUNDLE_FORMAT,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Relative name or absolute URI.
    pub file: String,
    /// Files that must sit next to it under the same stem (a Shapefile's .dbf, .shx, .prj).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub companions: Vec<String>,
    /// The file as the user named it on their machine, for the project's provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleInputs {
    /// Required unless `download.area` is a place or FIPS (then refused: the place is the
    /// boundary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<FileRef>,
    /// Required unless there is a `download` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osm: Option<FileRef>,
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
    /// `--osm-clip`; absent (bundles before format 4): the worker's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osm_clip: Option<OsmClip>,
}

impl BundleParameters {
    /// How the worker cuts the extract: as asked, else the default (older bundles).
    pub fn osm_clip(&self) -> OsmClip {
        self.osm_clip.unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub organization: String,
    pub created_at: String,
    /// The engine that built the bundle; the worker reports its own in the results.
    pub created_by: String,
    #[serde(default)]
    pub inputs: BundleInputs,
    #[serde(default)]
    pub parameters: BundleParameters,
    /// The worker downloads what `inputs` does not supply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<Download>,
}

/// Download instructions, as `bna fetch` takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Download {
    pub area: DownloadArea,
    /// US state (FIPS, abbreviation or name) of a `"boundary"` area, for blocks and jobs;
    /// without it that area gets OSM only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Default: the latest LODES year the server has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lodes_year: Option<u16>,
    /// Base URLs; each one left out is the real source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<DownloadSources>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadArea {
    /// "Washington, DC".
    Place(String),
    /// 7-digit state + place FIPS.
    Fips(String),
    /// The bundle's `inputs.boundary`.
    Boundary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadSources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lodes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overpass: Option<String>,
}

impl DownloadSources {
    fn resolve(&self) -> Sources {
        let d = Sources::default();
        Sources {
            tiger: self.tiger.clone().unwrap_or(d.tiger),
            lodes: self.lodes.clone().unwrap_or(d.lodes),
            overpass: self.overpass.clone().unwrap_or(d.overpass),
        }
    }
}

/// What a job is asked to analyse: local files to upload, download instructions, or both
/// (then the files win). `From<&AnalysisRequest>` is the files-only case.
#[derive(Debug, Clone)]
pub struct JobInputs {
    pub boundary: Option<PathBuf>,
    pub osm: Option<PathBuf>,
    pub blocks: Option<PathBuf>,
    pub jobs: Option<PathBuf>,
    pub parameters: BundleParameters,
    pub download: Option<Download>,
    /// The project the job is recorded in.
    pub out: PathBuf,
}

impl From<&AnalysisRequest> for JobInputs {
    fn from(req: &AnalysisRequest) -> Self {
        JobInputs {
            boundary: Some(req.boundary.clone()),
            osm: Some(req.osm.clone()),
            blocks: req.blocks.clone(),
            jobs: req.jobs.clone(),
            parameters: BundleParameters {
                population: req.population,
                city_fips: req.city_fips.clone(),
                state_fips: req.state_fips.clone(),
                residential_speed: req.residential_speed,
                osm_clip: Some(req.osm_clip),
            },
            download: None,
            out: req.out.clone(),
        }
    }
}

/// A bundle ready to upload: the manifest and the local files it names.
pub struct PreparedBundle {
    pub bundle: Bundle,
    pub files: Vec<(PathBuf, String)>,
}

/// Builds the bundle for `req`; every local input is named `<role>-<file name>` so two
/// inputs with the same name cannot collide, and a Shapefile keeps its companions.
pub fn prepare(req: &JobInputs, organization: &str) -> Result<PreparedBundle, CloudError> {
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
            source: Some(path.display().to_string()),
        })
    };
    let inputs = BundleInputs {
        boundary: req
            .boundary
            .as_deref()
            .map(|p| add("boundary", p))
            .transpose()?,
        osm: req.osm.as_deref().map(|p| add("osm", p)).transpose()?,
        blocks: req
            .blocks
            .as_deref()
            .map(|p| add("blocks", p))
            .transpose()?,
        jobs: req.jobs.as_deref().map(|p| add("jobs", p)).transpose()?,
    };
    let prepared = PreparedBundle {
        bundle: Bundle {
            format: BUNDLE_FORMAT.into(),
            organization: organization.into(),
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            created_by: bna_engine::pipeline::ENGINE_VERSION.into(),
            inputs,
            parameters: req.parameters.clone(),
            download: req.download.clone(),
        },
        files,
    };
    check(&prepared.bundle, "the job")?;
    Ok(prepared)
}

/// The rules `serde` cannot express: which inputs a bundle must supply.
fn check(b: &Bundle, what: &str) -> Result<(), CloudError> {
    let bad = |m: &str| Err(CloudError::BadInput(format!("{what}: {m}")));
    match &b.download {
        None if b.inputs.boundary.is_none() || b.inputs.osm.is_none() => {
            bad("inputs.boundary and inputs.osm are required without a download section; supply the files or download instructions (a place, a FIPS code)")
        }
        Some(Download {
            area: DownloadArea::Boundary,
            ..
        }) if b.inputs.boundary.is_none() => {
            bad("download area \"boundary\" uses inputs.boundary, which is missing; supply the boundary or download a place")
        }
        Some(Download {
            area: DownloadArea::Place(_) | DownloadArea::Fips(_),
            ..
        }) if b.inputs.boundary.is_some() => {
            bad("a downloaded place is the boundary, so inputs.boundary must be left out; to analyse your own boundary use download area \"boundary\"")
        }
        _ => Ok(()),
    }
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
    if !READABLE_FORMATS.contains(&b.format.as_str()) {
        return Err(CloudError::BadInput(format!(
            "{uri}: bundle format {:?}, this worker reads {READABLE_FORMATS:?}; rebuild the bundle with this version",
            b.format
        )));
    }
    if b.download.is_some() && b.format == READABLE_FORMATS[0] {
        return Err(CloudError::BadInput(format!(
            "{uri}: a download section needs format \"bna-bundle/2\" or later, not {:?}",
            b.format
        )));
    }
    check(&b, uri)?;
    Ok(b)
}

impl BundleInputs {
    /// (role, the user's own name for the file) of every uploaded input that has one.
    pub fn sources(&self) -> Vec<(&'static str, &str)> {
        [
            ("boundary", &self.boundary),
            ("osm", &self.osm),
            ("blocks", &self.blocks),
            ("jobs", &self.jobs),
        ]
        .into_iter()
        .filter_map(|(role, r)| Some((role, r.as_ref()?.source.as_deref()?)))
        .collect()
    }
}

/// Replaces the worker's scratch paths in a run's recorded inputs with the names the user
/// gave, role by role; inputs the worker downloaded keep theirs.
pub fn restore_input_names(recorded: &mut [bna_engine::model::InputFile], inputs: &BundleInputs) {
    for (role, source) in inputs.sources() {
        for f in recorded.iter_mut().filter(|f| f.role == role) {
            f.path = source.to_string();
        }
    }
}

/// The worker's local names for a reference's files (main, then companions): the user's file
/// name from `source` when it is a plain name, else the uploaded object's; companions take
/// the main file's stem, as a Shapefile reader looks for them.
fn scratch_names(r: &FileRef) -> Vec<String> {
    let base = |reference: &str| {
        reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string()
    };
    let plain = |n: &str| !(n.is_empty() || n == "." || n == ".." || n.contains(['/', '\\']));
    let user = r
        .source
        .as_deref()
        .and_then(|s| Path::new(s).file_name())
        .and_then(|n| n.to_str())
        .filter(|n| plain(n))
        .map(String::from);
    let main = user.clone().unwrap_or_else(|| base(&r.file));
    let mut names = vec![main.clone()];
    for c in &r.companions {
        let c = base(c);
        names.push(match (&user, Path::new(&c).extension()) {
            (Some(_), Some(ext)) => Path::new(&main)
                .with_extension(ext)
                .to_string_lossy()
                .into_owned(),
            _ => c,
        });
    }
    names
}

/// `text` (a warning of the run) with each worker-side input path replaced by the name the
/// user gave; `scratch` pairs the request's local path with the bundle's `source`.
pub fn with_user_names(text: &str, scratch: &[(PathBuf, String)]) -> String {
    scratch.iter().fold(text.to_string(), |t, (local, source)| {
        t.replace(&local.display().to_string(), source)
    })
}

/// (the worker's local path, the user's name) of every uploaded input of `req` with a source.
pub fn scratch_paths(req: &AnalysisRequest, inputs: &BundleInputs) -> Vec<(PathBuf, String)> {
    inputs
        .sources()
        .into_iter()
        .filter_map(|(role, source)| {
            let local = match role {
                "boundary" => Some(&req.boundary),
                "osm" => Some(&req.osm),
                "blocks" => req.blocks.as_ref(),
                "jobs" => req.jobs.as_ref(),
                _ => None,
            }?;
            Some((local.clone(), source.to_string()))
        })
        .collect()
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

/// Reads and checks the manifest at `prefix`.
pub fn read(aws: Option<&Aws>, prefix: &Location) -> Result<Bundle, CloudError> {
    let manifest = prefix.join(BUNDLE_FILE);
    parse(&read_location(aws, &manifest)?, &manifest.uri())
}

/// Downloads the files of `bundle` (read from `prefix`) into `workdir` and, with a
/// `download` section, fetches the rest (through the shared cache,
/// `fetch::default_cache_dir`); returns the request that writes the project to `out`.
pub fn materialize(
    aws: Option<&Aws>,
    prefix: &Location,
    bundle: &Bundle,
    workdir: &Path,
    out: PathBuf,
    obs: &dyn FetchObserver,
) -> Result<AnalysisRequest, CloudError> {
    let manifest = prefix.join(BUNDLE_FILE);
    std::fs::create_dir_all(workdir).map_err(|e| CloudError::io(workdir, e))?;
    let get = |r: &FileRef, role: &str| -> Result<PathBuf, CloudError> {
        let mut main = None;
        // A folder per role keeps roles apart, so each file can keep the user's own name:
        // the run records and prints it (jobs_source, warnings), not a scratch name.
        let folder = workdir.join(role);
        std::fs::create_dir_all(&folder).map_err(|e| CloudError::io(&folder, e))?;
        let names = scratch_names(r);
        for (reference, name) in std::iter::once(&r.file).chain(&r.companions).zip(&names) {
            let loc = resolve(prefix, reference)?;
            let local = folder.join(name);
            download_location(aws, &loc, &local)?;
            if main.is_none() {
                main = Some(local);
            }
        }
        main.ok_or_else(|| CloudError::BadInput(format!("{manifest}: empty {role} reference")))
    };
    let opt = |r: &Option<FileRef>, role: &str| r.as_ref().map(|r| get(r, role)).transpose();
    let i = &bundle.inputs;
    let (boundary, osm) = (opt(&i.boundary, "boundary")?, opt(&i.osm, "osm")?);
    let (blocks, jobs) = (opt(&i.blocks, "blocks")?, opt(&i.jobs, "jobs")?);
    let p = &bundle.parameters;
    let mut req = AnalysisRequest {
        // `check` (in `parse`) guarantees both without a download section.
        boundary: boundary.clone().unwrap_or_default(),
        osm: osm.clone().unwrap_or_default(),
        blocks,
        jobs,
        population: p.population,
        city_fips: p.city_fips.clone(),
        state_fips: p.state_fips.clone(),
        residential_speed: p.residential_speed,
        osm_clip: p.osm_clip(),
        out,
    };
    if let Some(d) = &bundle.download {
        let area = match (&d.area, boundary) {
            (DownloadArea::Place(s), _) => Area::Place(s.clone()),
            (DownloadArea::Fips(s), _) => Area::Fips(s.clone()),
            (DownloadArea::Boundary, Some(b)) => Area::Boundary(b),
            (DownloadArea::Boundary, None) => unreachable!("`check` requires the boundary"),
        };
        let mut f = FetchRequest::new(area, workdir.join("fetched"), fetch::default_cache_dir()?);
        f.state = d.state.clone();
        f.lodes_year = d.lodes_year;
        f.osm = osm;
        f.sources = d.sources.clone().unwrap_or_default().resolve();
        let got = fetch::fetch_inputs(&f, obs)?;
        // Supplied files and parameters win over downloaded ones.
        req.boundary = got.boundary;
        req.osm = got.osm;
        req.blocks = req.blocks.or(got.blocks);
        req.jobs = req.jobs.or(got.jobs);
        req.city_fips = req.city_fips.or(got.city_fips);
        req.state_fips = req.state_fips.or(got.state_fips);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_fetch::Silent;

    const HEAD: &str = r#""organization":"o","created_at":"t","created_by":"b""#;

    #[test]
    fn version_1_bundles_still_parse() {
        // Exactly what `bna-bundle/1` writers produced.
        let v1 = r#"{"format":"bna-bundle/1","organization":"Acme","created_at":"2026-01-01T00:00:00Z","created_by":"bna 0.1","inputs":{"boundary":{"file":"boundary-area.shp","companions":["boundary-area.dbf"]},"osm":{"file":"s3://shared/dc.osm.pbf"},"blocks":null},"parameters":{"population":"Synthetic","state_fips":"11"}}"#;
        let b = parse(v1.as_bytes(), "v1").unwrap();
        assert_eq!(b.download, None);
        assert_eq!(b.inputs.boundary.unwrap().companions, ["boundary-area.dbf"]);
        assert_eq!(b.inputs.osm.unwrap().file, "s3://shared/dc.osm.pbf");
        assert_eq!(b.parameters.population, Some(PopulationChoice::Synthetic));
    }

    #[test]
    fn download_bundles_round_trip_and_need_no_files() {
        for (area, json) in [
            (
                DownloadArea::Place("Washington, DC".into()),
                r#"{"place":"Washington, DC"}"#,
            ),
            (
                DownloadArea::Fips("1150000".into()),
                r#"{"fips":"1150000"}"#,
            ),
        ] {
            let text = format!(
                r#"{{"format":"bna-bundle/2",{HEAD},"download":{{"area":{json},"lodes_year":2021,"sources":{{"tiger":"http://127.0.0.1:1/t"}}}}}}"#
            );
            let b = parse(text.as_bytes(), "b").unwrap();
            let d = b.download.clone().unwrap();
            assert_eq!(d.area, area);
            assert_eq!(d.lodes_year, Some(2021));
            let s = d.sources.unwrap().resolve();
            assert_eq!(s.tiger, "http://127.0.0.1:1/t");
            assert_eq!(s.lodes, fetch::sources::DEFAULT_LODES_URL);
            let again = serde_json::to_vec(&b).unwrap();
            assert_eq!(parse(&again, "again").unwrap(), b);
        }
    }

    #[test]
    fn unknown_fields_and_inconsistent_inputs_are_refused() {
        let files = r#""inputs":{"boundary":{"file":"b"},"osm":{"file":"o"}}"#;
        for (json, needle) in [
            (
                format!(r#"{{"format":"bna-bundle/2",{HEAD},{files},"extra":1}}"#),
                "unknown field `extra`",
            ),
            (
                format!(
                    r#"{{"format":"bna-bundle/2",{HEAD},"download":{{"area":{{"fips":"1150000"}},"year":2021}}}}"#
                ),
                "unknown field `year`",
            ),
            (
                format!(
                    r#"{{"format":"bna-bundle/2",{HEAD},"download":{{"area":{{"fips":"1150000"}},"sources":{{"geofabrik":"x"}}}}}}"#
                ),
                "unknown field `geofabrik`",
            ),
            (
                format!(
                    r#"{{"format":"bna-bundle/2",{HEAD},"download":{{"area":{{"county":"x"}}}}}}"#
                ),
                "unknown variant `county`",
            ),
            (
                format!(
                    r#"{{"format":"bna-bundle/1",{HEAD},{files},"download":{{"area":"boundary"}}}}"#
                ),
                "needs format",
            ),
            (
                format!(
                    r#"{{"format":"bna-bundle/2",{HEAD},"inputs":{{"boundary":{{"file":"b"}}}}}}"#
                ),
                "inputs.osm are required without a download section",
            ),
            (
                format!(r#"{{"format":"bna-bundle/2",{HEAD},"download":{{"area":"boundary"}}}}"#),
                "uses inputs.boundary, which is missing",
            ),
            (
                format!(
                    r#"{{"format":"bna-bundle/2",{HEAD},{files},"download":{{"area":{{"place":"Washington, DC"}}}}}}"#
                ),
                "inputs.boundary must be left out",
            ),
        ] {
            let e = parse(json.as_bytes(), "bundle.json").unwrap_err();
            assert!(e.is_bad_input() && e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn osm_clip_is_read_from_the_parameters_and_defaults_for_older_bundles() {
        let files = r#""inputs":{"boundary":{"file":"b"},"osm":{"file":"o"}}"#;
        // (format, parameters, the mode the worker runs, or None = refused)
        let cases = [
            ("bna-bundle/3", r#"{}"#, Some(OsmClip::default())),
            (
                "bna-bundle/4",
                r#"{"osm_clip":"buffer"}"#,
                Some(OsmClip::Buffer),
            ),
            (
                "bna-bundle/4",
                r#"{"osm_clip":"boundary"}"#,
                Some(OsmClip::Boundary),
            ),
            ("bna-bundle/4", r#"{"osm_clip":"ring"}"#, None),
        ];
        for (format, parameters, want) in cases {
            let json =
                format!(r#"{{"format":"{format}",{HEAD},{files},"parameters":{parameters}}}"#);
            let got = parse(json.as_bytes(), "b.json").map(|b| b.parameters.osm_clip());
            match (got, want) {
                (Ok(got), Some(want)) => assert_eq!(got, want, "{json}"),
                (Err(e), None) => {
                    let e = e.to_string();
                    assert!(e.contains("`ring`") && e.contains("`buffer`"), "{e}");
                }
                (got, _) => panic!("{json}: {got:?}"),
            }
        }
    }

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
            osm_clip: OsmClip::default(),
            out: "unused.bna".into(),
        };
        let mut job = JobInputs::from(&req);
        job.parameters.osm_clip = Some(OsmClip::Buffer);
        let prepared = prepare(&job, "Acme").unwrap();
        let boundary = prepared.bundle.inputs.boundary.as_ref().unwrap();
        assert_eq!(boundary.companions.len(), 3);
        assert_eq!(
            prepared.bundle.inputs.sources(),
            [
                ("boundary", shp.to_str().unwrap()),
                ("osm", osm.to_str().unwrap())
            ]
        );

        let store = tempfile::tempdir().unwrap();
        let prefix = Location::File(store.path().join("input"));
        upload(None, &prepared, &prefix).unwrap();
        let work = tempfile::tempdir().unwrap();
        let bundle = read(None, &prefix).unwrap();
        let got = materialize(
            None,
            &prefix,
            &bundle,
            work.path(),
            work.path().join("r.bna"),
            &Silent,
        )
        .unwrap();
        assert_eq!(bundle, prepared.bundle);
        assert_eq!(got.population, req.population);
        assert_eq!(got.state_fips.as_deref(), Some("11"));
        assert_eq!(got.residential_speed, Some(25));
        // The method setting travels in the parameters and reaches the worker's run.
        assert_eq!(bundle.parameters.osm_clip(), OsmClip::Buffer);
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
        let e = read(None, &prefix).unwrap_err();
        assert!(
            e.is_bad_input() && e.to_string().contains("bundle.json"),
            "{e}"
        );
        // wrong format, escaping reference, missing data file
        for (json, needle) in [
            (r#"{"format":"other"}"#, "not a bna bundle"),
            (
                r#"{"format":"bna-bundle/9","organization":"o","created_at":"t","created_by":"b","inputs":{"boundary":{"file":"b"},"osm":{"file":"o"}}}"#,
                "bna-bundle/9",
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
            let w = dir.path().join("w");
            let e = read(None, &prefix)
                .and_then(|b| materialize(None, &prefix, &b, &w, "o.bna".into(), &Silent))
                .unwrap_err();
            assert!(e.is_bad_input() && e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn provenance_gets_the_users_file_names_back() {
        use bna_engine::model::InputFile;
        let recorded = |role: &str, path: &str| InputFile {
            role: role.into(),
            path: path.into(),
            sha256: "h".into(),
            bytes: 1,
        };
        let file = |name: &str, source: Option<&str>| FileRef {
            file: name.into(),
            companions: Vec::new(),
            source: source.map(String::from),
        };
        let inputs = BundleInputs {
            boundary: Some(file("boundary-b.geojson", Some("data/b.geojson"))),
            osm: Some(file("s3://shared/dc.osm.pbf", None)),
            blocks: None,
            jobs: Some(file("jobs-dc_wac.csv.gz", Some("/home/u/dc_wac.csv.gz"))),
        };
        let mut run = vec![
            recorded("osm", "/tmp/bna-worker-1/in/in-osm-dc.osm.pbf"),
            recorded(
                "boundary",
                "/tmp/bna-worker-1/in/in-boundary-boundary-b.geojson",
            ),
            recorded("blocks", "/root/.cache/bna/tabblock.zip"),
            recorded("jobs", "/tmp/bna-worker-1/in/in-jobs-jobs-dc_wac.csv.gz"),
        ];
        restore_input_names(&mut run, &inputs);
        let paths: Vec<&str> = run.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/tmp/bna-worker-1/in/in-osm-dc.osm.pbf",
                "data/b.geojson",
                "/root/.cache/bna/tabblock.zip",
                "/home/u/dc_wac.csv.gz"
            ]
        );
    }

    #[test]
    fn the_worker_names_its_copies_like_the_users_files() {
        let file = |name: &str, companions: &[&str], source: Option<&str>| FileRef {
            file: name.into(),
            companions: companions.iter().map(|c| c.to_string()).collect(),
            source: source.map(String::from),
        };
        let cases = [
            (
                file("jobs-dc_wac.csv.gz", &[], Some("/home/u/dc_wac.csv.gz")),
                vec!["dc_wac.csv.gz"],
            ),
            (
                file(
                    "blocks-tab.shp",
                    &["blocks-tab.dbf", "blocks-tab.shx"],
                    Some("in/Tab Blocks.shp"),
                ),
                vec!["Tab Blocks.shp", "Tab Blocks.dbf", "Tab Blocks.shx"],
            ),
            // No source (an older bundle, a shared s3:// file): the object's own name.
            (
                file("s3://shared/x/dc.osm.pbf", &[], None),
                vec!["dc.osm.pbf"],
            ),
            // A source that is no plain file name is not used as one.
            (file("osm-a.pbf", &[], Some("..")), vec!["osm-a.pbf"]),
            (file("osm-a.pbf", &[], Some("/")), vec!["osm-a.pbf"]),
        ];
        for (r, want) in cases {
            assert_eq!(scratch_names(&r), want, "{r:?}");
        }
        let scratch = [(
            PathBuf::from("/tmp/bna-worker-1/in/jobs/dc_wac.csv.gz"),
            "/home/u/dc_wac.csv.gz".to_string(),
        )];
        assert_eq!(
            with_user_names(
                "/tmp/bna-worker-1/in/jobs/dc_wac.csv.gz: 3 workplace blocks are not counted",
                &scratch
            ),
            "/home/u/dc_wac.csv.gz: 3 workplace blocks are not counted"
        );
    }
}
