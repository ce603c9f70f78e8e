//! Census blocks (spec §1 steps 4 and 7, §6.1): TIGER tabblock20/tabblock10 shapefiles
//! (plain or zipped) or GeoJSON, then the selection of the blocks that belong to the study area.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use geo::{Area, BooleanOps, BoundingRect, Coord, InteriorPoint, MultiPolygon, Point, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::Value as Json;
use shapefile::dbase::FieldValue;

use super::boundary::{
    check_lon_lat, check_rings_closed, find_column, geojson_features, parse_vector,
    polygons_from_geojson, polygons_from_shape, read_bytes, RawPolygon, VectorFile,
};
use super::dbf::shapefile_reason;
use super::IngestError;
use crate::model::Block;
use crate::params::BLOCK_MIN_SHARE_INSIDE;
use crate::spatial::Projection;

/// A census block (or synthetic cell) as read, before selection and projection.
#[derive(Debug, Clone, PartialEq)]
pub struct RawBlock {
    pub geoid: String,
    pub geom_ll: MultiPolygon<f64>,
    /// `None` when the file has no population column, or this block's value is empty.
    pub population: Option<f64>,
    /// Land area, m² (TIGER ALAND20/ALAND10); 0 marks a water block.
    pub aland: Option<f64>,
    /// TIGER's INTPTLON/INTPTLAT when present, else a point inside the geometry.
    pub interior_point_ll: Point<f64>,
}

/// Column names accepted for each role, in order of preference, matched case-insensitively.
/// 2020 names first: the reference uses TIGER 2020 (spec §1 step 4); 2010 for legacy inputs.
const GEOID_COLUMNS: &[&str] = &[
    "GEOID20",
    "GEOID10",
    "GEOID",
    "BLOCKID20",
    "BLOCKID10",
    "BLOCKID",
];
/// `P1_001N` / `P0010001` are the PL 94-171 total-population fields (2020 / 2010 spelling).
const POPULATION_COLUMNS: &[&str] = &[
    "POP20",
    "POP10",
    "TOTAL_POPULATION",
    "POPULATION",
    "POP",
    "P1_001N",
    "P0010001",
];
const ALAND_COLUMNS: &[&str] = &["ALAND20", "ALAND10", "ALAND"];
const INTPT_COLUMNS: &[(&str, &str)] = &[
    ("INTPTLON20", "INTPTLAT20"),
    ("INTPTLON10", "INTPTLAT10"),
    ("INTPTLON", "INTPTLAT"),
];

/// More people than any census block holds (the largest, prisons and dormitories, hold tens
/// of thousands): a value above it is a damaged or mislabelled column.
pub const MAX_BLOCK_POPULATION: f64 = 1_000_000.0;

/// Census blocks and what the reader noticed about their population without refusing them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlocksTable {
    pub blocks: Vec<RawBlock>,
    /// The population column found (POP20, …), even when it holds no numbers.
    pub population_column: Option<String>,
    /// The first block without a population value (feature number, GEOID), for messages.
    pub first_without_population: Option<(usize, String)>,
    /// One line each, naming the file: blocks without a population value, fractional values.
    /// They matter only when the census population is used.
    pub population_warnings: Vec<String>,
}

/// Loads census blocks from TIGER tabblock20/tabblock10 (`.zip` or `.shp`) or GeoJSON.
pub fn load_blocks(path: &Path) -> Result<Vec<RawBlock>, IngestError> {
    Ok(load_blocks_table(path)?.blocks)
}

/// [`load_blocks`] with what was noticed about the population column.
pub fn load_blocks_table(path: &Path) -> Result<BlocksTable, IngestError> {
    parse_blocks_table(
        path,
        read_bytes(
            path,
            crate::params::MAX_BLOCKS_FILE_BYTES,
            "census block file",
        )?,
    )
}

/// [`load_blocks`] on the file's bytes; `path` names the file in messages (and locates the
/// `.dbf`/`.prj` beside a bare `.shp`). The entry point of the blocks fuzz target.
pub fn parse_blocks(path: &Path, bytes: Vec<u8>) -> Result<Vec<RawBlock>, IngestError> {
    Ok(parse_blocks_table(path, bytes)?.blocks)
}

fn parse_blocks_table(path: &Path, bytes: Vec<u8>) -> Result<BlocksTable, IngestError> {
    let (numbered, population_column) = read_numbered_blocks(path, bytes)?;
    check_unique_geoids(&numbered).map_err(|reason| IngestError::invalid(path, reason))?;
    let (first_without_population, notes) = match &population_column {
        Some(col) => population_notes(col, &numbered),
        None => (None, Vec::new()),
    };
    let display = path.display();
    Ok(BlocksTable {
        blocks: numbered.into_iter().map(|(_, b)| b).collect(),
        population_column,
        first_without_population,
        population_warnings: notes
            .into_iter()
            .map(|n| format!("{display}: {n}"))
            .collect(),
    })
}

/// Why a block file gives no census population (`has_population` is false), for the refusal:
/// a file whose population column is there but holds no numbers (blank, or dBASE overflow
/// stars `************`) is told apart from a file without the column.
pub fn no_population_reason(table: &BlocksTable) -> String {
    match (&table.population_column, &table.first_without_population) {
        (Some(col), Some((feature, geoid))) => format!(
            "the block file has a {col} column but it holds no numbers (feature {feature}, \
             GEOID {geoid}, is blank, as is every other); export the blocks again with their \
             population, or pass --population synthetic"
        ),
        _ => "the block file has no population column (POP20/POP10/population); use a \
              TIGER2020PL block file with POP20, or pass --population synthetic"
            .to_string(),
    }
}

/// The first block without a population value, and warnings about blocks with none (while
/// others have one) or with a fraction. Blocks without a value count as 0 people, as the
/// reference's SQL sums ignore NULL: warned, not refused, because GIS exports write null for
/// blocks a join found no value for, and refusing would block a run the reference accepts;
/// the warning gives the count so the user can tell a few water blocks from a broken join.
/// A fractional population cannot be a census count (a density or a share in the wrong
/// column?) but is used as given, so it is warned about too.
fn population_notes(
    col: &str,
    blocks: &[(usize, RawBlock)],
) -> (Option<(usize, String)>, Vec<String>) {
    let missing: Vec<&(usize, RawBlock)> = blocks
        .iter()
        .filter(|(_, b)| b.population.is_none())
        .collect();
    let first = missing.first().map(|(i, b)| (*i, b.geoid.clone()));
    let mut notes = Vec::new();
    if let Some((i, b)) = missing.first() {
        if missing.len() < blocks.len() {
            notes.push(format!(
                "{} of {} blocks have no {col} value (the first is feature {i}, GEOID {}); \
                 they count as 0 people, so fill them in if they hold people",
                missing.len(),
                blocks.len(),
                b.geoid
            ));
        }
    }
    let fractional: Vec<&(usize, RawBlock)> = blocks
        .iter()
        .filter(|(_, b)| b.population.is_some_and(|p| p.fract() != 0.0))
        .collect();
    if let Some((i, b)) = fractional.first() {
        notes.push(format!(
            "{} blocks have a fractional {col} (the first is feature {i}, GEOID {}, with {}); \
             census counts are whole people, so check that {col} is the population",
            fractional.len(),
            b.geoid,
            b.population.unwrap_or_default()
        ));
    }
    (first, notes)
}

/// Each block must appear once: a repeated GEOID would count its people and jobs twice.
fn check_unique_geoids(blocks: &[(usize, RawBlock)]) -> Result<(), String> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(blocks.len());
    for (index, b) in blocks {
        if let Some(earlier) = first.insert(b.geoid.as_str(), *index) {
            return Err(format!(
                "feature {index} repeats GEOID {} of feature {earlier}; each census block must \
                 appear once, so remove the duplicate or merge both into one MultiPolygon",
                b.geoid
            ));
        }
    }
    Ok(())
}

/// Blocks with their feature (record) numbers, for messages, and the population column.
type NumberedBlocks = (Vec<(usize, RawBlock)>, Option<String>);

fn read_numbered_blocks(path: &Path, bytes: Vec<u8>) -> Result<NumberedBlocks, IngestError> {
    let invalid = |reason: String| IngestError::invalid(path, reason);
    match parse_vector(path, bytes)? {
        VectorFile::GeoJson(gj) => {
            let features = geojson_features(gj);
            let columns: BTreeSet<String> = features
                .iter()
                .filter_map(|f| f.properties.as_ref())
                .flat_map(|p| p.keys().cloned())
                .collect();
            let cols = Columns::resolve(&columns).map_err(invalid)?;
            features
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let empty = serde_json::Map::new();
                    let props = f.properties.as_ref().unwrap_or(&empty);
                    let attrs = |name: &str| props.get(name).map(json_attr);
                    let geometry = f
                        .geometry
                        .as_ref()
                        .ok_or_else(|| format!("feature {i} has no geometry"))?;
                    let polygons = polygons_from_geojson(&geometry.value, i, "a census block")?;
                    cols.block(i, &attrs, polygons).map(|b| (i, b))
                })
                .collect::<Result<Vec<_>, String>>()
                .map(|blocks| (blocks, cols.population.clone()))
                .map_err(invalid)
        }
        VectorFile::Shapefile(mut shp) => {
            let mut table = shp
                .attribute_table("census blocks need their GEOID")
                .map_err(invalid)?;
            let cols = Columns::resolve(&table.columns).map_err(invalid)?;
            let reader = &mut table.reader;
            let mut out = Vec::new();
            for (i, item) in reader.iter_shapes_and_records().enumerate() {
                let (shape, record) = item.map_err(|e| match &e {
                    // The dbase reason names its record and column already.
                    shapefile::Error::DbaseError(_) => invalid(format!(
                        "{}: {}",
                        Path::new(&shp.member).with_extension("dbf").display(),
                        shapefile_reason(&e)
                    )),
                    _ => invalid(format!(
                        "{}: record {i}: {}",
                        shp.member,
                        shapefile_reason(&e)
                    )),
                })?;
                let polygons = polygons_from_shape(shape, i, "a census block").map_err(invalid)?;
                if polygons.is_empty() {
                    // A null shape: nothing to route to or score, as PostGIS would drop it.
                    continue;
                }
                let attrs = |name: &str| record.get(name).map(dbf_attr);
                out.push((i, cols.block(i, &attrs, polygons).map_err(invalid)?));
            }
            Ok((out, cols.population))
        }
    }
}

/// True when any block carries a population value (the file had a population column).
pub fn has_population(blocks: &[RawBlock]) -> bool {
    blocks.iter().any(|b| b.population.is_some())
}

/// Spec §1 step 7: projects blocks to the project's UTM zone and keeps those that intersect the
/// boundary with at least `BLOCK_MIN_SHARE_INSIDE` of their area inside it; with `drop_water`
/// (US runs), blocks with `aland == 0` go too. Input order is kept.
pub fn select_blocks(
    raw: Vec<RawBlock>,
    boundary_ll: &MultiPolygon<f64>,
    proj: &Projection,
    drop_water: bool,
) -> Vec<Block> {
    let Some(boundary_bbox_ll) = boundary_ll.bounding_rect() else {
        return Vec::new();
    };
    let boundary = proj.project(boundary_ll);
    let Some(prepared) = PreparedBoundary::new(&boundary) else {
        return Vec::new();
    };
    raw.into_par_iter()
        .filter_map(|rb| {
            if drop_water && rb.aland == Some(0.0) {
                return None;
            }
            // Intersection does not depend on the CRS, so the cheap reject can run before
            // projecting: most of a statewide file is far away.
            let bbox_ll = rb.geom_ll.bounding_rect()?;
            if !rects_intersect(&bbox_ll, &boundary_bbox_ll) {
                return None;
            }
            let geom = proj.project(&rb.geom_ll);
            if prepared.share_inside(&geom) < BLOCK_MIN_SHARE_INSIDE {
                return None;
            }
            Some(Block {
                geoid: rb.geoid,
                geom,
                geom_ll: rb.geom_ll,
                population: rb.population.unwrap_or(0.0),
                jobs: 0.0,
                aland: rb.aland,
            })
        })
        .collect()
}

/// Share of `block`'s area inside `boundary` (both metric); 0 for a block without area.
pub fn share_inside(block: &MultiPolygon<f64>, boundary: &MultiPolygon<f64>) -> f64 {
    let area = block.unsigned_area();
    if area <= 0.0 {
        return 0.0;
    }
    block.intersection(boundary).unsigned_area() / area
}

fn rects_intersect(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

type Edge = GeomWithData<Rectangle<[f64; 2]>, (Coord<f64>, Coord<f64>)>;

/// The boundary with its edges in an R-tree, for many share queries. Only blocks that a
/// boundary edge passes near need the polygon overlay; every other block is wholly inside or
/// wholly outside, which one point-in-polygon test (also through the tree) decides. This
/// keeps selection fast for large, detailed city boundaries against statewide block files.
struct PreparedBoundary<'a> {
    geom: &'a MultiPolygon<f64>,
    bbox: Rect<f64>,
    edges: RTree<Edge>,
}

impl<'a> PreparedBoundary<'a> {
    fn new(geom: &'a MultiPolygon<f64>) -> Option<Self> {
        let bbox = geom.bounding_rect()?;
        let edges = geom
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.0.windows(2).map(|w| (w[0], w[1])))
            .map(|(a, b)| {
                GeomWithData::new(Rectangle::from_corners([a.x, a.y], [b.x, b.y]), (a, b))
            })
            .collect();
        Some(Self {
            geom,
            bbox,
            edges: RTree::bulk_load(edges),
        })
    }

    fn share_inside(&self, block: &MultiPolygon<f64>) -> f64 {
        let Some(bb) = block.bounding_rect() else {
            return 0.0;
        };
        if !rects_intersect(&bb, &self.bbox) {
            return 0.0;
        }
        let env = AABB::from_corners([bb.min().x, bb.min().y], [bb.max().x, bb.max().y]);
        if self
            .edges
            .locate_in_envelope_intersecting(&env)
            .next()
            .is_some()
        {
            return share_inside(block, self.geom);
        }
        // No boundary edge within the block's bbox: the block is on one side of it entirely.
        let Some(&p) = block.0.first().and_then(|p| p.exterior().0.first()) else {
            return 0.0;
        };
        if block.unsigned_area() > 0.0 && self.contains(p) {
            1.0
        } else {
            0.0
        }
    }

    /// Even-odd ray cast towards +x, visiting only the edges the ray can meet.
    fn contains(&self, p: Coord<f64>) -> bool {
        let ray = AABB::from_corners([p.x, p.y], [self.bbox.max().x + 1.0, p.y]);
        let mut inside = false;
        for e in self.edges.locate_in_envelope_intersecting(&ray) {
            let (a, b) = e.data;
            // Half-open in y so that a vertex on the ray is counted once.
            if (a.y > p.y) != (b.y > p.y) {
                let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
                if x > p.x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

// ---------------------------------------------------------------------------------------------
// Attribute handling, the same for GeoJSON properties and DBF records.
// ---------------------------------------------------------------------------------------------

/// One attribute value, reduced to what the census roles need.
#[derive(Debug, Clone, PartialEq)]
enum Attr {
    Null,
    Text(String),
    Number(f64),
}

fn json_attr(v: &Json) -> Attr {
    match v {
        Json::Null => Attr::Null,
        Json::String(s) => Attr::Text(s.trim().to_string()),
        Json::Number(n) => n.as_f64().map(Attr::Number).unwrap_or(Attr::Null),
        other => Attr::Text(other.to_string()),
    }
}

fn dbf_attr(v: &FieldValue) -> Attr {
    match v {
        FieldValue::Character(Some(s)) | FieldValue::Memo(s) => Attr::Text(s.trim().to_string()),
        FieldValue::Numeric(Some(n)) => Attr::Number(*n),
        FieldValue::Float(Some(n)) => Attr::Number(f64::from(*n)),
        FieldValue::Integer(n) => Attr::Number(f64::from(*n)),
        FieldValue::Double(n) | FieldValue::Currency(n) => Attr::Number(*n),
        _ => Attr::Null,
    }
}

/// A GEOID as text. Numeric GEOIDs lost their leading zero on the way (states 01–09), so a
/// whole number is zero-padded back to the 15 digits of a block GEOID.
fn attr_geoid(a: &Attr) -> Option<String> {
    match a {
        Attr::Null => None,
        Attr::Text(s) if s.is_empty() => None,
        Attr::Text(s) => Some(s.clone()),
        Attr::Number(n) if n.fract() == 0.0 && *n >= 0.0 => Some(format!("{:015}", *n as u64)),
        Attr::Number(n) => Some(n.to_string()),
    }
}

fn attr_number(a: &Attr) -> Result<Option<f64>, String> {
    match a {
        Attr::Null => Ok(None),
        Attr::Number(n) => Ok(Some(*n)),
        Attr::Text(s) if s.is_empty() => Ok(None),
        Attr::Text(s) => s
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("\"{s}\" is not a number")),
    }
}

/// A block's population must be a count a block can hold; the reason completes
/// "feature 3 (GEOID …): POP20 …".
fn check_population(p: f64) -> Result<(), String> {
    if !p.is_finite() {
        return Err(format!("is {p}, not a number of people; fix the value"));
    }
    if p < 0.0 {
        return Err(format!(
            "is {p}; a population cannot be negative, fix the value"
        ));
    }
    if p > MAX_BLOCK_POPULATION {
        return Err(format!(
            "is {p}, more than the {MAX_BLOCK_POPULATION} people any census block holds; check \
             that the column is the population and fix the value"
        ));
    }
    Ok(())
}

/// The columns chosen for each role in one file.
struct Columns {
    geoid: String,
    population: Option<String>,
    aland: Option<String>,
    intpt: Option<(String, String)>,
}

impl Columns {
    fn resolve(columns: &BTreeSet<String>) -> Result<Self, String> {
        let geoid = find_column(columns, GEOID_COLUMNS).ok_or_else(|| {
            format!(
                "no GEOID column: looked for {} (any case); the file has columns: {}",
                GEOID_COLUMNS.join(", "),
                if columns.is_empty() {
                    "(none)".to_string()
                } else {
                    columns.iter().cloned().collect::<Vec<_>>().join(", ")
                }
            )
        })?;
        let intpt = INTPT_COLUMNS.iter().find_map(|(lon, lat)| {
            Some((
                find_column(columns, &[lon])?.to_string(),
                find_column(columns, &[lat])?.to_string(),
            ))
        });
        Ok(Self {
            geoid: geoid.to_string(),
            population: find_column(columns, POPULATION_COLUMNS).map(str::to_string),
            aland: find_column(columns, ALAND_COLUMNS).map(str::to_string),
            intpt,
        })
    }

    /// Builds one block from its attributes (looked up by exact column name) and polygons.
    fn block(
        &self,
        index: usize,
        attrs: &dyn Fn(&str) -> Option<Attr>,
        polygons: Vec<RawPolygon>,
    ) -> Result<RawBlock, String> {
        let get = |col: &str| attrs(col).unwrap_or(Attr::Null);
        let geoid = attr_geoid(&get(&self.geoid))
            .ok_or_else(|| format!("feature {index}: column {} is empty", self.geoid))?;
        let where_ = || format!("feature {index} (GEOID {geoid})");
        let number = |col: &Option<String>| -> Result<Option<f64>, String> {
            match col {
                None => Ok(None),
                Some(c) => attr_number(&get(c)).map_err(|e| format!("{}: {c}: {e}", where_())),
            }
        };
        let population = number(&self.population)?;
        if let (Some(p), Some(col)) = (population, &self.population) {
            check_population(p).map_err(|e| format!("{}: {col} {e}", where_()))?;
        }
        let aland = number(&self.aland)?;

        if polygons.is_empty() {
            return Err(format!("{}: geometry has no polygon", where_()));
        }
        check_lon_lat(&polygons).map_err(|e| format!("GEOID {geoid}: {e}"))?;
        for p in &polygons {
            check_rings_closed(p).map_err(|e| format!("GEOID {geoid}: {e}"))?;
        }
        let geom_ll = MultiPolygon(polygons.into_iter().map(RawPolygon::into_geo).collect());

        let tabulated = match &self.intpt {
            Some((lon, lat)) => match (attr_number(&get(lon)), attr_number(&get(lat))) {
                (Ok(Some(x)), Ok(Some(y))) => Some(Point::new(x, y)),
                _ => None,
            },
            None => None,
        };
        let interior_point_ll = tabulated
            .or_else(|| geom_ll.interior_point())
            .ok_or_else(|| format!("{}: cannot find a point inside the block", where_()))?;
        Ok(RawBlock {
            geoid,
            geom_ll,
            population,
            aland,
            interior_point_ll,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geoid_values() {
        // (value, expected GEOID)
        let cases = [
            (
                Attr::Text("110010001011000".into()),
                Some("110010001011000"),
            ),
            (Attr::Number(10010201001000.0), Some("010010201001000")),
            (Attr::Text("".into()), None),
            (Attr::Null, None),
        ];
        for (a, want) in cases {
            assert_eq!(attr_geoid(&a).as_deref(), want, "{a:?}");
        }
    }

    #[test]
    fn prepared_share_matches_overlay() {
        use geo::{polygon, Rect};
        // A 10 × 10 square with a 4 × 4 hole in the middle.
        let boundary = MultiPolygon(vec![polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            interiors: [[(x: 3., y: 3.), (x: 7., y: 3.), (x: 7., y: 7.), (x: 3., y: 7.)]],
        )]);
        let prepared = PreparedBoundary::new(&boundary).unwrap();
        let square = |x: f64, y: f64, side: f64| {
            MultiPolygon(vec![Rect::new((x, y), (x + side, y + side)).to_polygon()])
        };
        // (name, block, expected share)
        let cases = [
            ("inside", square(1., 1., 1.), 1.0),
            ("in the hole", square(4., 4., 1.), 0.0),
            ("outside", square(20., 20., 1.), 0.0),
            (
                "left of the square, ray crosses it",
                square(-5., 5., 1.),
                0.0,
            ),
            ("straddling the edge", square(9., 1., 2.), 0.5),
            ("a quarter in the hole", square(6., 6., 2.), 0.75),
        ];
        for (name, block, want) in cases {
            let got = prepared.share_inside(&block);
            assert!((got - want).abs() < 1e-9, "{name}: {got}");
            assert!(
                (share_inside(&block, &boundary) - want).abs() < 1e-9,
                "{name}"
            );
        }
    }

    #[test]
    fn population_values() {
        // (population, Ok or an error fragment)
        let cases = [
            (0.0, None),
            (1234.0, None),
            (12.5, None),
            (MAX_BLOCK_POPULATION, None),
            (-1.0, Some("cannot be negative")),
            (MAX_BLOCK_POPULATION + 1.0, Some("more than the 1000000")),
            (1e22, Some("more than")),
            (9.223372036854776e18, Some("more than")),
            (f64::NAN, Some("not a number")),
            (f64::INFINITY, Some("not a number")),
        ];
        for (p, want) in cases {
            match (check_population(p), want) {
                (Ok(()), None) => {}
                (Err(e), Some(frag)) => assert!(e.contains(frag), "{p}: {e}"),
                (got, _) => panic!("{p}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn population_notes_and_reasons() {
        let block = |geoid: &str, population: Option<f64>| RawBlock {
            geoid: geoid.into(),
            geom_ll: MultiPolygon(vec![]),
            population,
            aland: None,
            interior_point_ll: Point::new(0.0, 0.0),
        };
        // (populations, first without one, warning fragments)
        type Row = (Vec<Option<f64>>, Option<usize>, Vec<&'static str>);
        let rows: Vec<Row> = vec![
            (vec![Some(3.0), Some(0.0)], None, vec![]),
            (vec![None, None], Some(0), vec![]),
            (
                vec![Some(3.0), None, None],
                Some(1),
                vec!["2 of 3 blocks have no POP20 value (the first is feature 1, GEOID g1)"],
            ),
            (
                vec![Some(3.0), Some(12.5)],
                None,
                vec!["1 blocks have a fractional POP20 (the first is feature 1, GEOID g1, with 12.5)"],
            ),
        ];
        for (pops, first, fragments) in rows {
            let blocks: Vec<(usize, RawBlock)> = pops
                .iter()
                .enumerate()
                .map(|(i, p)| (i, block(&format!("g{i}"), *p)))
                .collect();
            let (got_first, notes) = population_notes("POP20", &blocks);
            assert_eq!(got_first.map(|(i, _)| i), first, "{pops:?}");
            assert_eq!(notes.len(), fragments.len(), "{pops:?}: {notes:?}");
            for (n, f) in notes.iter().zip(&fragments) {
                assert!(n.contains(f), "{n}");
            }
        }
        let mut t = BlocksTable::default();
        assert!(no_population_reason(&t).contains("has no population column"));
        t.population_column = Some("POP20".into());
        t.first_without_population = Some((0, "g0".into()));
        assert!(no_population_reason(&t)
            .contains("has a POP20 column but it holds no numbers (feature 0, GEOID g0"));
    }

    #[test]
    fn a_repeated_geoid_names_both_features() {
        let block = |geoid: &str| RawBlock {
            geoid: geoid.into(),
            geom_ll: MultiPolygon(vec![]),
            population: Some(1.0),
            aland: None,
            interior_point_ll: Point::new(0.0, 0.0),
        };
        let ok = [(0, block("1")), (1, block("2"))];
        assert!(check_unique_geoids(&ok).is_ok());
        let repeated = [(0, block("1")), (4, block("2")), (7, block("1"))];
        let e = check_unique_geoids(&repeated).unwrap_err();
        assert!(e.contains("feature 7 repeats GEOID 1 of feature 0"), "{e}");
    }

    #[test]
    fn column_preference_is_case_insensitive() {
        let cols: BTreeSet<String> = ["geoid", "Pop20", "total_population", "ALAND20"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let c = Columns::resolve(&cols).unwrap();
        assert_eq!(c.geoid, "geoid");
        assert_eq!(c.population.as_deref(), Some("Pop20"));
        assert_eq!(c.aland.as_deref(), Some("ALAND20"));
        assert!(c.intpt.is_none());
    }
}
