//! One side of a comparison, read from a `.bna` project (through the store's read API) or from
//! a reference export folder (its CSV tables, or its GeoJSON export): the segments, blocks,
//! city scores and destination counts, in the same plain form for both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use serde::Serialize;

use super::error::CompareError;
use super::rows::Table;
use crate::model::{DestinationCategory, ProjectData};
use crate::store::{self, schema, Project};

/// Where a side was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Project,
    ReferenceCsv,
    ReferenceGeojson,
}

impl SourceKind {
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Project => ".bna project",
            SourceKind::ReferenceCsv => "reference CSV tables",
            SourceKind::ReferenceGeojson => "reference GeoJSON export",
        }
    }
}

/// The four stress columns, in this order everywhere in `compare`.
pub const STRESS_COLUMNS: [&str; 4] = [
    "ft_seg_stress",
    "tf_seg_stress",
    "ft_int_stress",
    "tf_int_stress",
];

/// One road segment: what is compared, and its line (lon/lat) when the source has one.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRecord {
    pub osm_id: i64,
    pub functional_class: Option<String>,
    /// In [`STRESS_COLUMNS`] order.
    pub stress: [Option<i64>; 4],
    pub line_ll: Option<Vec<[f64; 2]>>,
}

/// One census block: its numeric columns by reference name (NULL is `None`).
#[derive(Debug, Clone)]
pub struct BlockRecord {
    pub geoid: String,
    pub values: BTreeMap<String, Option<f64>>,
    pub geom_ll: Option<MultiPolygon<f64>>,
}

#[derive(Debug, Clone)]
pub struct Side {
    pub path: PathBuf,
    pub kind: SourceKind,
    pub segments: Vec<SegmentRecord>,
    pub blocks: Vec<BlockRecord>,
    /// `neighborhood_overall_scores`: (score_id, score_normalized), in table order.
    pub city: Vec<(String, Option<f64>)>,
    /// Destinations per category, for the categories this side has a table of.
    pub destinations: BTreeMap<String, usize>,
}

impl Side {
    /// Reads `path`: a folder is a reference export, anything else a `.bna` project.
    pub fn load(path: &Path) -> Result<Side, CompareError> {
        if path.is_dir() {
            return load_reference(path);
        }
        if !path.exists() {
            return Err(store::StoreError::NoProject {
                path: path.to_path_buf(),
            }
            .into());
        }
        if !path.is_file() {
            return Err(CompareError::Unrecognised {
                path: path.to_path_buf(),
            });
        }
        let project = Project::open(path)?;
        let data = project
            .read_results()?
            .ok_or_else(|| CompareError::NoResults {
                path: path.to_path_buf(),
            })?;
        Ok(from_project(path, &data))
    }
}

/// A side from a project's results.
pub fn from_project(path: &Path, data: &ProjectData) -> Side {
    let segments = data
        .segments
        .iter()
        .map(|s| SegmentRecord {
            osm_id: s.osm_id,
            functional_class: Some(s.attrs.functional_class.as_str().to_string()),
            stress: [
                s.stress.ft_seg,
                s.stress.tf_seg,
                s.stress.ft_int,
                s.stress.tf_int,
            ]
            .map(|v| v.map(i64::from)),
            line_ll: Some(s.geom_ll.0.iter().map(|c| [c.x, c.y]).collect()),
        })
        .collect();
    let mut scores = vec![None; data.blocks.len()];
    for s in &data.block_scores {
        if let Some(slot) = scores.get_mut(s.block as usize) {
            *slot = Some(s);
        }
    }
    let blocks = data
        .blocks
        .iter()
        .zip(scores)
        .map(|(b, s)| {
            let mut values = BTreeMap::new();
            values.insert("pop20".to_string(), Some(b.population));
            for m in schema::MEASURES {
                let a = s.map(|s| store::access_for(s, m)).unwrap_or_default();
                values.insert(format!("{m}_low_stress"), a.low);
                values.insert(format!("{m}_high_stress"), a.high);
                values.insert(format!("{m}_score"), a.score);
            }
            values.insert("overall_score".into(), s.map(|s| s.overall_score));
            values.insert(
                "reachable_blocks".into(),
                s.map(|s| f64::from(s.reachable_blocks)),
            );
            values.insert(
                "opportunity_score".into(),
                s.and_then(|s| s.opportunity_score),
            );
            values.insert(
                "core_services_score".into(),
                s.and_then(|s| s.core_services_score),
            );
            values.insert(
                "recreation_score".into(),
                s.and_then(|s| s.recreation_score),
            );
            BlockRecord {
                geoid: b.geoid.clone(),
                values,
                geom_ll: Some(b.geom_ll.clone()),
            }
        })
        .collect();
    let city = data
        .overall_scores
        .iter()
        .map(|r| (r.score_id.clone(), r.score_normalized))
        .collect();
    let destinations = DestinationCategory::ALL
        .iter()
        .map(|c| {
            let n = data
                .destinations
                .iter()
                .filter(|d| d.category == *c)
                .count();
            (c.table_name().to_string(), n)
        })
        .collect();
    Side {
        path: path.to_path_buf(),
        kind: SourceKind::Project,
        segments,
        blocks,
        city,
        destinations,
    }
}

/// A table of a reference folder with, per row, its line when the source has one.
struct Layer {
    path: PathBuf,
    table: Table,
    lines: Vec<Option<Vec<[f64; 2]>>>,
}

impl Layer {
    fn require(&self, column: &str) -> Result<usize, CompareError> {
        self.table
            .column(column)
            .ok_or_else(|| CompareError::MissingColumn {
                path: self.path.clone(),
                column: column.to_string(),
            })
    }
}

fn load_reference(folder: &Path) -> Result<Side, CompareError> {
    let csv_ways = folder.join("neighborhood_ways.csv");
    let geojson_ways = folder.join("neighborhood_ways.geojson");
    let (kind, ways, blocks) = if csv_ways.is_file() {
        let blocks = folder.join("neighborhood_census_blocks.csv");
        (
            SourceKind::ReferenceCsv,
            csv_layer(&csv_ways)?,
            csv_layer(&required(folder, &blocks)?)?,
        )
    } else if geojson_ways.is_file() {
        let blocks = folder.join("neighborhood_census_blocks.geojson");
        (
            SourceKind::ReferenceGeojson,
            geojson_layer(&geojson_ways)?,
            geojson_layer(&required(folder, &blocks)?)?,
        )
    } else if folder.join("neighborhood_ways.shp").is_file() {
        return Err(CompareError::ShapefileOnly {
            folder: folder.to_path_buf(),
        });
    } else {
        return Err(CompareError::MissingFile {
            folder: folder.to_path_buf(),
            file: "neighborhood_ways.csv (or neighborhood_ways.geojson)".into(),
        });
    };
    let scores_path = required(folder, &folder.join("neighborhood_overall_scores.csv"))?;
    let scores = Layer {
        table: Table::from_csv(&scores_path)?,
        path: scores_path,
        lines: Vec::new(),
    };
    let mut destinations = BTreeMap::new();
    for c in DestinationCategory::ALL {
        let name = schema::destination_table(c);
        for (ext, read) in [
            ("csv", csv_layer as fn(&Path) -> Result<Layer, CompareError>),
            ("geojson", geojson_layer),
        ] {
            let p = folder.join(format!("{name}.{ext}"));
            if p.is_file() {
                destinations.insert(c.table_name().to_string(), read(&p)?.table.rows.len());
                break;
            }
        }
    }
    Ok(Side {
        path: folder.to_path_buf(),
        kind,
        segments: reference_segments(&ways)?,
        blocks: reference_blocks(&blocks)?,
        city: reference_city(&scores)?,
        destinations,
    })
}

fn required(folder: &Path, path: &Path) -> Result<PathBuf, CompareError> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(CompareError::MissingFile {
            folder: folder.to_path_buf(),
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
    }
}

/// A CSV table; lines come from `geom_wkt_4326` when the export has it.
fn csv_layer(path: &Path) -> Result<Layer, CompareError> {
    let table = Table::from_csv(path)?;
    let lines = match table.column("geom_wkt_4326") {
        Some(i) => table.rows.iter().map(|r| wkt_points(&r[i])).collect(),
        None => Vec::new(),
    };
    Ok(Layer {
        path: path.to_path_buf(),
        table,
        lines,
    })
}

/// The vertices of a WKT line (`LINESTRING(x y, …)`); `None` for anything else, or empty text.
pub fn wkt_points(wkt: &str) -> Option<Vec<[f64; 2]>> {
    let body = wkt.trim().strip_prefix("LINESTRING")?.trim();
    let body = body.strip_prefix('(')?.strip_suffix(')')?;
    body.split(',')
        .map(|p| {
            let mut xy = p.split_whitespace().map(str::parse::<f64>);
            match (xy.next(), xy.next()) {
                (Some(Ok(x)), Some(Ok(y))) => Some([x, y]),
                _ => None,
            }
        })
        .collect()
}

/// The reference's GeoJSON export (`ogr2ogr -t_srs EPSG:4326`): properties become the table's
/// columns (those of the first feature), lines come from the geometry.
fn geojson_layer(path: &Path) -> Result<Layer, CompareError> {
    let bad = |detail: String| CompareError::GeoJson {
        path: path.to_path_buf(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(crate::files::plain_io_text(&e)))?;
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| bad(e.to_string()))?;
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        return Err(bad("not a FeatureCollection".into()));
    };
    let columns: Vec<String> = fc
        .features
        .first()
        .and_then(|f| f.properties.as_ref())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let cell = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut rows = Vec::with_capacity(fc.features.len());
    let mut lines = Vec::with_capacity(fc.features.len());
    for f in &fc.features {
        let props = f.properties.as_ref();
        rows.push(
            columns
                .iter()
                .map(|c| cell(props.and_then(|p| p.get(c))))
                .collect(),
        );
        lines.push(f.geometry.as_ref().and_then(|g| match &g.value {
            geojson::Value::LineString(pts) => Some(pts.iter().map(|p| [p[0], p[1]]).collect()),
            geojson::Value::MultiLineString(parts) if parts.len() == 1 => {
                Some(parts[0].iter().map(|p| [p[0], p[1]]).collect())
            }
            _ => None,
        }));
    }
    Ok(Layer {
        path: path.to_path_buf(),
        table: Table { columns, rows },
        lines,
    })
}

/// A number cell: empty is NULL.
fn number(layer: &Layer, column: &str, v: &str) -> Result<Option<f64>, CompareError> {
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<f64>()
        .map(Some)
        .map_err(|_| CompareError::BadValue {
            path: layer.path.clone(),
            detail: format!("{column} {v:?} is not a number"),
        })
}

fn reference_segments(ways: &Layer) -> Result<Vec<SegmentRecord>, CompareError> {
    let osm = ways.require("osm_id")?;
    let fc = ways.require("functional_class")?;
    let stress = STRESS_COLUMNS.map(|c| ways.require(c));
    let stress: Vec<usize> = stress.into_iter().collect::<Result<_, _>>()?;
    ways.table
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let osm_id = number(ways, "osm_id", &r[osm])?.ok_or_else(|| CompareError::BadValue {
                path: ways.path.clone(),
                detail: format!("row {} has no osm_id", i + 1),
            })? as i64;
            let mut s = [None; 4];
            for (k, &col) in stress.iter().enumerate() {
                s[k] = number(ways, STRESS_COLUMNS[k], &r[col])?.map(|v| v as i64);
            }
            Ok(SegmentRecord {
                osm_id,
                functional_class: (!r[fc].is_empty()).then(|| r[fc].clone()),
                stress: s,
                line_ll: ways.lines.get(i).cloned().flatten(),
            })
        })
        .collect()
}

fn reference_blocks(blocks: &Layer) -> Result<Vec<BlockRecord>, CompareError> {
    let geoid = blocks.require("geoid20")?;
    let wanted: Vec<(usize, &String)> = blocks
        .table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.ends_with("_score")
                || c.ends_with("_stress")
                || *c == "pop20"
                || *c == "reachable_blocks"
        })
        .collect();
    blocks
        .table
        .rows
        .iter()
        .map(|r| {
            let mut values = BTreeMap::new();
            for &(i, c) in &wanted {
                values.insert(c.clone(), number(blocks, c, &r[i])?);
            }
            Ok(BlockRecord {
                geoid: r[geoid].clone(),
                values,
                geom_ll: None,
            })
        })
        .collect()
}

fn reference_city(scores: &Layer) -> Result<Vec<(String, Option<f64>)>, CompareError> {
    let id = scores.require("score_id")?;
    let value = scores.require("score_normalized")?;
    scores
        .table
        .rows
        .iter()
        .map(|r| {
            Ok((
                r[id].clone(),
                number(scores, "score_normalized", &r[value])?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_lines_parse_and_other_text_does_not() {
        assert_eq!(
            wkt_points("LINESTRING(-77.01 38.92,-77.02 38.93)"),
            Some(vec![[-77.01, 38.92], [-77.02, 38.93]])
        );
        assert_eq!(
            wkt_points(" LINESTRING ( 1 2 , 3 4 ) "),
            Some(vec![[1.0, 2.0], [3.0, 4.0]])
        );
        for bad in ["", "POINT(1 2)", "LINESTRING(1 x, 2 3)", "LINESTRING 1 2"] {
            assert_eq!(wkt_points(bad), None, "{bad}");
        }
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const SCORES: &str = "id,score_id,score_original,score_normalized\n1,overall_score,0.2,20.0\n";

    #[test]
    fn a_reference_csv_folder_reads_segments_blocks_and_scores() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "neighborhood_ways.csv",
            "osm_id,functional_class,ft_seg_stress,ft_int_stress,tf_seg_stress,tf_int_stress,geom_wkt_4326\n\
             7,residential,1,1,,3,\"LINESTRING(0 0,0 1)\"\n",
        );
        write(
            dir.path(),
            "neighborhood_census_blocks.csv",
            "geoid20,pop20,overall_score,name20\n110,5,12.5,Block 1000\n",
        );
        write(dir.path(), "neighborhood_overall_scores.csv", SCORES);
        write(
            dir.path(),
            "neighborhood_schools.csv",
            "id,school_name\n1,a\n2,b\n",
        );
        let side = Side::load(dir.path()).unwrap();
        assert_eq!(side.kind, SourceKind::ReferenceCsv);
        assert_eq!(
            side.segments,
            [SegmentRecord {
                osm_id: 7,
                functional_class: Some("residential".into()),
                stress: [Some(1), None, Some(1), Some(3)],
                line_ll: Some(vec![[0.0, 0.0], [0.0, 1.0]]),
            }]
        );
        assert_eq!(side.blocks[0].values["overall_score"], Some(12.5));
        assert!(!side.blocks[0].values.contains_key("name20"));
        assert_eq!(side.city, [("overall_score".to_string(), Some(20.0))]);
        assert_eq!(side.destinations.get("schools"), Some(&2));
        assert_eq!(side.destinations.get("parks"), None);
    }

    #[test]
    fn a_reference_geojson_folder_reads_properties_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "neighborhood_ways.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"osm_id":7,"functional_class":"primary","ft_seg_stress":3,"tf_seg_stress":null,"ft_int_stress":1,"tf_int_stress":1},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#,
        );
        write(
            dir.path(),
            "neighborhood_census_blocks.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"geoid20":"110","overall_score":3.5},"geometry":null}]}"#,
        );
        write(dir.path(), "neighborhood_overall_scores.csv", SCORES);
        let side = Side::load(dir.path()).unwrap();
        assert_eq!(side.kind, SourceKind::ReferenceGeojson);
        assert_eq!(side.segments[0].stress, [Some(3), None, Some(1), Some(1)]);
        assert_eq!(side.segments[0].line_ll, Some(vec![[0.0, 0.0], [1.0, 1.0]]));
        assert_eq!(side.blocks[0].values["overall_score"], Some(3.5));
    }

    #[test]
    fn an_incomplete_folder_names_the_missing_file_and_the_formats() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[&str], &str); 4] = [
            (&[], "neighborhood_ways.csv"),
            (&["neighborhood_ways.shp"], "shapefile export only"),
            (&["neighborhood_ways.csv"], "neighborhood_census_blocks.csv"),
            (
                &["neighborhood_ways.csv", "neighborhood_census_blocks.csv"],
                "neighborhood_overall_scores.csv",
            ),
        ];
        for (files, expected) in cases {
            let d = dir.path().join(files.len().to_string() + expected);
            std::fs::create_dir(&d).unwrap();
            for f in files {
                write(&d, f, "osm_id,functional_class,ft_seg_stress,ft_int_stress,tf_seg_stress,tf_int_stress,geoid20\n");
            }
            let e = Side::load(&d).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            assert!(e.contains(&d.display().to_string()), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn a_missing_column_or_a_bad_number_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "neighborhood_ways.csv",
            "osm_id,functional_class\n1,primary\n",
        );
        write(dir.path(), "neighborhood_census_blocks.csv", "geoid20\n");
        write(dir.path(), "neighborhood_overall_scores.csv", SCORES);
        let e = Side::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no column ft_seg_stress"), "{e}");
        write(
            dir.path(),
            "neighborhood_ways.csv",
            "osm_id,functional_class,ft_seg_stress,ft_int_stress,tf_seg_stress,tf_int_stress\n1,primary,high,1,1,1\n",
        );
        let e = Side::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("\"high\" is not a number"), "{e}");
    }
}
