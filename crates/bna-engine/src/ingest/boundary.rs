//! The study-area boundary (spec §1 steps 1, 1', 7): a polygon file in longitude/latitude.
//!
//! Also home of the vector-file plumbing shared with `census` (format sniffing, zipped
//! shapefiles, `.prj` checks, GeoJSON polygons), so both roles accept the same files and
//! report problems the same way.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{unary_union, Area, Coord, Line, LineString, MultiPolygon, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::dbf::{check_dbf, shapefile_reason};
use super::zipped::{read_zipped_shapefile, PartSource};
use super::IngestError;

/// Loads a boundary: GeoJSON (Polygon/MultiPolygon geometry, bare, as a Feature or a
/// FeatureCollection) or a Shapefile (`.shp`, or a `.zip` holding one), in lon/lat.
/// Several polygons are unioned into one MultiPolygon.
///
/// Every rejection says what is wrong and where (feature, polygon, ring, approximate lon/lat),
/// because boundaries are drawn or exported by hand and the user has to fix them.
pub fn load_boundary(path: &Path) -> Result<MultiPolygon<f64>, IngestError> {
    parse_boundary(
        path,
        read_bytes(
            path,
            crate::params::MAX_BOUNDARY_FILE_BYTES,
            "boundary file",
        )?,
    )
}

/// [`load_boundary`] on the file's bytes; `path` names the file in messages (and locates the
/// `.dbf`/`.prj` beside a bare `.shp`). The entry point of the boundary fuzz target.
pub fn parse_boundary(path: &Path, bytes: Vec<u8>) -> Result<MultiPolygon<f64>, IngestError> {
    let invalid = |reason: String| IngestError::invalid(path, reason);
    let polygons = match parse_vector(path, bytes)? {
        VectorFile::GeoJson(gj) => {
            let mut out = Vec::new();
            for (i, feature) in geojson_features(gj).into_iter().enumerate() {
                let geometry = feature.geometry.as_ref().ok_or_else(|| {
                    invalid(format!("feature {i} has no geometry; expected a Polygon"))
                })?;
                out.extend(
                    polygons_from_geojson(&geometry.value, i, "the boundary").map_err(invalid)?,
                );
            }
            out
        }
        VectorFile::Shapefile(shp) => {
            check_prj(&shp).map_err(invalid)?;
            let member = &shp.member;
            let reader = shapefile::ShapeReader::new(shp.shp)
                .map_err(|e| invalid(format!("{member}: {}", shapefile_reason(&e))))?;
            let shapes = reader
                .read()
                .map_err(|e| invalid(format!("{member}: {}", shapefile_reason(&e))))?;
            let mut out = Vec::new();
            for (i, shape) in shapes.into_iter().enumerate() {
                out.extend(polygons_from_shape(shape, i, "the boundary").map_err(invalid)?);
            }
            out
        }
    };
    validate_and_union(polygons).map_err(invalid)
}

/// Validates a polygon drawn as lon/lat corners (an open ring: the first corner is not
/// repeated) with the same rules as a boundary file, so that a drawn boundary is refused for
/// exactly the reasons a loaded one would be. The error is the one-line reason.
pub fn boundary_from_corners(corners: &[(f64, f64)]) -> Result<MultiPolygon<f64>, String> {
    let mut ring: Vec<Coord<f64>> = corners.iter().map(|&(x, y)| Coord { x, y }).collect();
    ring.dedup();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return Err(format!(
            "a boundary needs at least 3 corners; {} distinct so far",
            ring.len()
        ));
    }
    ring.push(ring[0]);
    let polygon = RawPolygon {
        origin: Origin {
            feature: 0,
            polygon: 0,
        },
        rings: vec![ring],
    };
    let prefix = format!("{}: ", polygon.origin);
    validate_and_union(vec![polygon])
        // There is no file to point into: drop "feature 0, polygon 0: ".
        .map_err(|e| e.strip_prefix(&prefix).map(str::to_owned).unwrap_or(e))
}

/// Writes a boundary as a GeoJSON FeatureCollection that [`load_boundary`] reads back.
pub fn write_boundary_geojson(
    path: &Path,
    boundary: &MultiPolygon<f64>,
) -> Result<(), IngestError> {
    let geometry = geojson::Geometry::new(geojson::Value::from(boundary));
    let fc = geojson::FeatureCollection {
        bbox: None,
        features: vec![geojson::Feature {
            bbox: None,
            geometry: Some(geometry),
            id: None,
            properties: None,
            foreign_members: None,
        }],
        foreign_members: None,
    };
    std::fs::write(path, fc.to_string()).map_err(|e| IngestError::io(path, e))
}

/// All checks of a boundary, in the order that gives the most useful message: coordinate
/// range first (a projected file fails every later check for an uninteresting reason).
fn validate_and_union(polygons: Vec<RawPolygon>) -> Result<MultiPolygon<f64>, String> {
    if polygons.is_empty() {
        return Err("contains no polygon; the boundary must be a Polygon or MultiPolygon".into());
    }
    check_lon_lat(&polygons)?;
    for p in &polygons {
        check_rings_closed(p)?;
        check_ring_topology(p)?;
    }
    let geo_polygons: Vec<Polygon<f64>> = polygons.into_iter().map(RawPolygon::into_geo).collect();
    let merged = if geo_polygons.len() == 1 {
        // Unioning a single polygon would only re-node it; keep the user's coordinates.
        MultiPolygon(geo_polygons)
    } else {
        unary_union(&geo_polygons)
    };
    if merged.unsigned_area() <= 0.0 {
        return Err("the boundary has zero area".into());
    }
    Ok(merged)
}

// ---------------------------------------------------------------------------------------------
// Raw polygons: coordinates as read, before any check, with where they came from.
// ---------------------------------------------------------------------------------------------

/// Position of a polygon in the input file, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Feature (GeoJSON) or record (Shapefile) index, from 0.
    pub feature: usize,
    /// Index of the polygon within a multi-polygon geometry, from 0.
    pub polygon: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "feature {}, polygon {}", self.feature, self.polygon)
    }
}

/// One polygon: exterior ring first, then holes; rings exactly as in the file.
#[derive(Debug, Clone)]
pub struct RawPolygon {
    pub origin: Origin,
    pub rings: Vec<Vec<Coord<f64>>>,
}

impl RawPolygon {
    pub fn into_geo(self) -> Polygon<f64> {
        let mut rings = self.rings.into_iter().map(LineString::new);
        let exterior = rings.next().unwrap_or_else(|| LineString::new(vec![]));
        Polygon::new(exterior, rings.collect())
    }
}

fn ring_name(i: usize) -> String {
    if i == 0 {
        "exterior ring".to_string()
    } else {
        format!("hole {}", i - 1)
    }
}

pub(crate) fn fmt_ll(c: Coord<f64>) -> String {
    format!("({:.6}, {:.6})", c.x, c.y)
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Rejects coordinates that cannot be longitude/latitude, telling a projected file apart from
/// one with swapped axes (|x| ≤ 90 everywhere but some |y| > 90).
pub(crate) fn check_lon_lat(polygons: &[RawPolygon]) -> Result<(), String> {
    let mut first_bad: Option<(Origin, Coord<f64>)> = None;
    let (mut max_abs_x, mut max_abs_y) = (0.0_f64, 0.0_f64);
    for p in polygons {
        for c in p.rings.iter().flatten() {
            if !c.x.is_finite() || !c.y.is_finite() {
                return Err(format!(
                    "{}: coordinate ({}, {}) is not a finite number",
                    p.origin, c.x, c.y
                ));
            }
            max_abs_x = max_abs_x.max(c.x.abs());
            max_abs_y = max_abs_y.max(c.y.abs());
            if first_bad.is_none() && (c.x.abs() > 180.0 || c.y.abs() > 90.0) {
                first_bad = Some((p.origin, *c));
            }
        }
    }
    let Some((origin, c)) = first_bad else {
        return Ok(());
    };
    if max_abs_x <= 90.0 && max_abs_y <= 180.0 {
        Err(format!(
            "{origin}: coordinate ({}, {}) has a latitude beyond ±90 while every x is within ±90: \
             latitude and longitude look swapped. GeoJSON and Shapefile store longitude first \
             (x = longitude, y = latitude); swap the axes and try again",
            c.x, c.y
        ))
    } else {
        Err(format!(
            "{origin}: coordinate ({}, {}) is outside the longitude/latitude range \
             (±180, ±90): the file appears to be in a projected coordinate system. Reproject it \
             to EPSG:4326 (WGS84 longitude/latitude), e.g. \
             `ogr2ogr -t_srs EPSG:4326 out.geojson in.shp`",
            c.x, c.y
        ))
    }
}

/// Every ring must be explicitly closed (first = last) and have at least 4 points.
pub(crate) fn check_rings_closed(p: &RawPolygon) -> Result<(), String> {
    if p.rings.is_empty() {
        return Err(format!("{}: polygon has no rings", p.origin));
    }
    for (i, ring) in p.rings.iter().enumerate() {
        let (Some(first), Some(last)) = (ring.first(), ring.last()) else {
            return Err(format!("{}: {} is empty", p.origin, ring_name(i)));
        };
        if first != last {
            return Err(format!(
                "{}: {} is not closed: it starts at {} but ends at {}; a polygon ring must \
                 end with its first point",
                p.origin,
                ring_name(i),
                fmt_ll(*first),
                fmt_ll(*last)
            ));
        }
        if ring.len() < 4 {
            return Err(format!(
                "{}: {} has {} points; a closed ring needs at least 4 (3 corners and the first \
                 point repeated), near {}",
                p.origin,
                ring_name(i),
                ring.len(),
                fmt_ll(*first)
            ));
        }
    }
    Ok(())
}

/// Self-crossing rings, zero area and edges folding back on themselves.
fn check_ring_topology(p: &RawPolygon) -> Result<(), String> {
    for (i, ring) in p.rings.iter().enumerate() {
        let defect = find_ring_defect(ring);
        if let Some(RingDefect::Crossing(at)) = defect {
            return Err(format!(
                "{}: {} crosses itself near {} (lon, lat); fix the polygon so that its edges \
                 do not cross",
                p.origin,
                ring_name(i),
                fmt_ll(at)
            ));
        }
        if i == 0 && ring_has_zero_area(ring) {
            return Err(format!(
                "{}: polygon has zero area (its points are collinear or repeated), near {}",
                p.origin,
                fmt_ll(ring[0])
            ));
        }
        if let Some(RingDefect::Overlap(at)) = defect {
            return Err(format!(
                "{}: {} folds back on itself (two edges overlap) near {} (lon, lat)",
                p.origin,
                ring_name(i),
                fmt_ll(at)
            ));
        }
    }
    Ok(())
}

fn ring_has_zero_area(ring: &[Coord<f64>]) -> bool {
    let area = Polygon::new(LineString::new(ring.to_vec()), vec![]).unsigned_area();
    let (mut min, mut max) = (ring[0], ring[0]);
    for c in ring {
        min = Coord {
            x: min.x.min(c.x),
            y: min.y.min(c.y),
        };
        max = Coord {
            x: max.x.max(c.x),
            y: max.y.max(c.y),
        };
    }
    let scale = (max.x - min.x).powi(2) + (max.y - min.y).powi(2);
    // Relative to the ring's extent: collinear float coordinates rarely give exactly 0.
    area <= 1e-12 * scale
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RingDefect {
    /// Two non-adjacent edges cross in their interiors.
    Crossing(Coord<f64>),
    /// Two edges overlap along a line (a spike or a doubled-back edge).
    Overlap(Coord<f64>),
}

/// Finds where a ring crosses itself, with an R-tree of edge envelopes so it stays
/// O(n log n) on boundaries of tens of thousands of vertices (geo's `Validation` is O(n²) and
/// does not say where). Touching at a single point is tolerated: it does not break area or
/// overlay computations. Crossings are preferred over overlaps in the answer.
fn find_ring_defect(ring: &[Coord<f64>]) -> Option<RingDefect> {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    for c in ring {
        if pts.last() != Some(c) {
            pts.push(*c);
        }
    }
    if pts.len() < 4 {
        return None;
    }
    let segs: Vec<Line<f64>> = pts.windows(2).map(|w| Line::new(w[0], w[1])).collect();
    let n = segs.len();
    let tree = RTree::bulk_load(
        segs.iter()
            .enumerate()
            .map(|(i, s)| {
                GeomWithData::new(
                    Rectangle::from_corners([s.start.x, s.start.y], [s.end.x, s.end.y]),
                    i,
                )
            })
            .collect(),
    );
    let mut overlap: Option<Coord<f64>> = None;
    for (i, s) in segs.iter().enumerate() {
        let env = AABB::from_corners([s.start.x, s.start.y], [s.end.x, s.end.y]);
        let mut others: Vec<usize> = tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .filter(|&j| j > i)
            .collect();
        others.sort_unstable();
        for j in others {
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            match line_intersection(*s, segs[j]) {
                Some(LineIntersection::SinglePoint {
                    intersection,
                    is_proper: true,
                }) if !adjacent => return Some(RingDefect::Crossing(intersection)),
                Some(LineIntersection::Collinear { intersection })
                    if intersection.start != intersection.end =>
                {
                    overlap.get_or_insert(intersection.start);
                }
                _ => {}
            }
        }
    }
    overlap.map(RingDefect::Overlap)
}

// ---------------------------------------------------------------------------------------------
// Vector files (shared with `census`)
// ---------------------------------------------------------------------------------------------

pub enum VectorFile {
    GeoJson(geojson::GeoJson),
    Shapefile(ShapefileData),
}

/// The parts of one shapefile, read into memory (from disk or from a zip).
pub struct ShapefileData {
    /// Name of the `.shp`, for messages (the zip member name for zipped shapefiles).
    pub member: String,
    pub shp: PartSource,
    pub dbf: Option<PartSource>,
    pub prj: Option<String>,
}

/// A shapefile opened for reading records: its geometry, its attributes and their column names.
pub struct ShapefileTable {
    pub reader: shapefile::Reader<PartSource, PartSource>,
    pub columns: BTreeSet<String>,
}

impl ShapefileData {
    /// Checks the CRS and opens the records; `needs` says what the attributes are for, so a
    /// missing `.dbf` is reported with its consequence.
    pub fn attribute_table(&mut self, needs: &str) -> Result<ShapefileTable, String> {
        check_prj(self)?;
        let member = &self.member;
        let mut dbf = self
            .dbf
            .take()
            .ok_or_else(|| format!("{member}: the .dbf attribute file is missing; {needs}"))?;
        let dbf_name = Path::new(member).with_extension("dbf");
        let dbf_name = dbf_name.display();
        check_dbf(&mut dbf).map_err(|e| format!("{dbf_name}: {e}"))?;
        let shp = std::mem::replace(&mut self.shp, PartSource::from_bytes(Vec::new()));
        let shapes = shapefile::ShapeReader::new(shp)
            .map_err(|e| format!("{member}: {}", shapefile_reason(&e)))?;
        let table = shapefile::dbase::Reader::new(dbf)
            .map_err(|e| format!("{dbf_name}: {}", super::dbf::dbase_reason(&e)))?;
        let columns = table
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        Ok(ShapefileTable {
            reader: shapefile::Reader::new(shapes, table),
            columns,
        })
    }
}

/// Reads a whole file, mapping "not found" to `NotFound` and rejecting empty files, devices,
/// pipes and files above `limit` bytes (`role` names the input in that message) before
/// anything is read, since the whole file is held in memory.
pub(crate) fn read_bytes(
    path: &Path,
    limit: u64,
    role: &'static str,
) -> Result<Vec<u8>, IngestError> {
    super::error::check_input_size(path, limit, role)?;
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    if bytes.is_empty() {
        return Err(IngestError::invalid(path, "the file is empty (0 bytes)"));
    }
    Ok(bytes)
}

/// Opens a GeoJSON, `.shp` or zipped shapefile, telling them apart by content (magic bytes)
/// rather than by extension, so a misnamed file still loads.
pub fn open_vector(path: &Path) -> Result<VectorFile, IngestError> {
    parse_vector(
        path,
        read_bytes(
            path,
            crate::params::MAX_BLOCKS_FILE_BYTES,
            "shapefile or GeoJSON",
        )?,
    )
}

pub(crate) fn parse_vector(path: &Path, bytes: Vec<u8>) -> Result<VectorFile, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::invalid(path, "the file is empty (0 bytes)"));
    }
    let zipped = bytes.starts_with(b"PK\x03\x04");
    if zipped || bytes.starts_with(&[0x00, 0x00, 0x27, 0x0a]) {
        let mut shp = if zipped {
            read_zipped_shapefile(path, bytes)?
        } else {
            read_shapefile_beside(path, bytes)?
        };
        let shapes = check_shp_records(&mut shp.shp)
            .map_err(|e| IngestError::invalid(path, format!("{}: {e}", shp.member)))?;
        if let Some(dbf) = shp.dbf.as_mut() {
            let dbf_name = Path::new(&shp.member).with_extension("dbf");
            let records = dbf_record_count(dbf)
                .map_err(|e| IngestError::invalid(path, format!("{}: {e}", dbf_name.display())))?;
            check_record_counts(shapes, records, &shp.member, &dbf_name.to_string_lossy())
                .map_err(|e| IngestError::invalid(path, e))?;
        }
        return Ok(VectorFile::Shapefile(shp));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| not_a_vector_file(path))?
        .trim_start_matches('\u{feff}');
    if !text.trim_start().starts_with('{') {
        return Err(not_a_vector_file(path));
    }
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e| IngestError::invalid(path, format!("not valid GeoJSON: {e}")))?;
    check_geojson_crs(&gj).map_err(|reason| IngestError::invalid(path, reason))?;
    if let geojson::GeoJson::FeatureCollection(fc) = &gj {
        if fc.features.is_empty() {
            return Err(IngestError::invalid(
                path,
                "the GeoJSON FeatureCollection has no features",
            ));
        }
    }
    Ok(VectorFile::GeoJson(gj))
}

/// Checks every record's part and point counts against its length before the shapefile
/// crate sees them: it allocates by those counts, so a damaged file could abort the process
/// (capacity overflow or out of memory) instead of failing. Found by the boundary fuzz target.
pub(crate) fn check_shp_records<R: std::io::Read + std::io::Seek>(
    shp: &mut R,
) -> Result<u64, String> {
    use std::io::SeekFrom;
    const HEADER: u64 = 100;
    let damaged = |offset: u64, what: &str| {
        format!("not a readable shapefile: record at byte {offset} {what}; export the file again")
    };
    let unreadable = |e: std::io::Error| format!("the .shp cannot be read ({e})");
    let total = shp.seek(SeekFrom::End(0)).map_err(unreadable)?;
    let be = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let le = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let mut at = HEADER;
    let mut records = 0u64;
    let mut head = [0u8; 44];
    while at + 8 <= total {
        shp.seek(SeekFrom::Start(at + 4)).map_err(unreadable)?;
        shp.read_exact(&mut head[..4]).map_err(unreadable)?;
        let words = be(&head[..4]);
        let len = u64::try_from(words)
            .map_err(|_| damaged(at, "has a negative length"))?
            .saturating_mul(2);
        if len > total - (at + 8) {
            return Err(damaged(at, "runs past the end of the file"));
        }
        let read = len.min(44) as usize;
        shp.read_exact(&mut head[..read]).map_err(unreadable)?;
        let content = &head[..read];
        if read >= 4 {
            let shape_type = le(content);
            let counts = match shape_type {
                // Polyline, polygon, multipatch (plain, Z, M): bbox, parts, points.
                3 | 5 | 13 | 15 | 23 | 25 | 31 if read >= 44 => {
                    Some((le(&content[36..40]), le(&content[40..44]), 44))
                }
                // Multipoint: bbox, points.
                8 | 18 | 28 if read >= 40 => Some((0, le(&content[36..40]), 40)),
                3 | 5 | 13 | 15 | 23 | 25 | 31 | 8 | 18 | 28 => {
                    return Err(damaged(at, "is too short for its shape type"))
                }
                _ => None,
            };
            if let Some((parts, points, fixed)) = counts {
                let (Ok(parts), Ok(points)) = (u64::try_from(parts), u64::try_from(points)) else {
                    return Err(damaged(at, "has a negative part or point count"));
                };
                let needed = parts
                    .saturating_mul(4)
                    .saturating_add(points.saturating_mul(16))
                    .saturating_add(fixed);
                if needed > len {
                    return Err(damaged(at, "has more parts or points than bytes"));
                }
            }
        }
        at += 8 + len;
        records += 1;
    }
    shp.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    Ok(records)
}

/// The record count a `.dbf` header declares (bytes 4–7, little-endian), when the header is
/// consistent enough to trust it: `None` when it is too short, declares a header or record
/// length of 0, or more records than the file holds; the `.dbf` checks then name that damage
/// more precisely than a count mismatch would.
fn dbf_record_count<R: std::io::Read + std::io::Seek>(dbf: &mut R) -> Result<Option<u64>, String> {
    use std::io::SeekFrom;
    let unreadable = |e: std::io::Error| format!("cannot be read ({e})");
    let size = dbf.seek(SeekFrom::End(0)).map_err(unreadable)?;
    let mut head = [0u8; 12];
    dbf.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let mut got = 0;
    while got < head.len() {
        match dbf.read(&mut head[got..]).map_err(unreadable)? {
            0 => break,
            n => got += n,
        }
    }
    dbf.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    if got < head.len() {
        return Ok(None);
    }
    let records = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
    let header_len = u64::from(u16::from_le_bytes([head[8], head[9]]));
    let record_len = u64::from(u16::from_le_bytes([head[10], head[11]]));
    let fits = header_len > 32
        && record_len > 0
        && records
            .saturating_mul(record_len)
            .saturating_add(header_len)
            <= size;
    Ok(fits.then_some(records))
}

/// A `.shp` and its `.dbf` pair shapes and records by position: with different counts the
/// attributes (GEOID, population) of every shape after the first gap are someone else's, or
/// missing, so the pair is refused rather than read with shifted or silently dropped rows.
fn check_record_counts(
    shapes: u64,
    records: Option<u64>,
    shp: &str,
    dbf: &str,
) -> Result<(), String> {
    match records {
        Some(records) if records != shapes => Err(format!(
            "{shp} holds {shapes} shapes but {dbf} says it holds {records} records; each shape \
             needs its own record, so export the shapefile again (both files from the same layer)"
        )),
        _ => Ok(()),
    }
}

/// Rejects a GeoJSON whose (pre-RFC 7946) `crs` member names anything but geographic
/// WGS84/NAD83 longitude/latitude: its coordinates would otherwise be misread as degrees.
pub(crate) fn check_geojson_crs(gj: &geojson::GeoJson) -> Result<(), String> {
    let members = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.foreign_members.as_ref(),
        geojson::GeoJson::Feature(f) => f.foreign_members.as_ref(),
        geojson::GeoJson::Geometry(g) => g.foreign_members.as_ref(),
    };
    let Some(crs) = members.and_then(|m| m.get("crs")) else {
        return Ok(());
    };
    let name = crs
        .pointer("/properties/name")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let upper = name.to_ascii_uppercase();
    let geographic = [
        "CRS84",
        "CRS83",
        "EPSG::4326",
        "EPSG:4326",
        "EPSG::4269",
        "EPSG:4269",
    ];
    if geographic.iter().any(|g| upper.ends_with(g)) {
        return Ok(());
    }
    Err(format!(
        "the GeoJSON declares the coordinate system {:?}; reproject it to EPSG:4326 (WGS84 \
         longitude/latitude), e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`",
        if name.is_empty() {
            crs.to_string()
        } else {
            name.to_string()
        }
    ))
}

fn not_a_vector_file(path: &Path) -> IngestError {
    IngestError::invalid(
        path,
        "not a GeoJSON file, a Shapefile (.shp) or a zipped Shapefile (.zip)",
    )
}

/// A `.shp` on disk: its `.dbf` and `.prj` are looked up next to it (either case of extension).
fn read_shapefile_beside(path: &Path, shp: Vec<u8>) -> Result<ShapefileData, IngestError> {
    let sibling = |ext: &str| -> Result<Option<Vec<u8>>, IngestError> {
        for e in [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()] {
            let p = path.with_extension(&e);
            // A sibling that is a pipe or device would hang or never end, like the input.
            if p.exists() {
                super::error::check_input_file(&p)?;
            }
            match std::fs::read(&p) {
                Ok(b) => return Ok(Some(b)),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(IngestError::io(&p, err)),
            }
        }
        Ok(None)
    };
    let dbf = sibling("dbf")?.map(PartSource::from_bytes);
    let prj = sibling("prj")?.map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(ShapefileData {
        member: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        shp: PartSource::from_bytes(shp),
        dbf,
        prj,
    })
}

/// Rejects a `.prj` that declares a projected CRS. Geographic CRSs (WGS84, NAD83 as in TIGER)
/// are taken as lon/lat without a datum shift, as the reference's `shp2pgsql -s 4326` does.
pub(crate) fn check_prj(shp: &ShapefileData) -> Result<(), String> {
    let Some(prj) = &shp.prj else {
        return Ok(());
    };
    let head = prj.trim_start().to_ascii_uppercase();
    if head.starts_with("PROJCS") || head.starts_with("PROJCRS") {
        let name = prj
            .split('"')
            .nth(1)
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        return Err(format!(
            "{}: the .prj declares a projected coordinate system{name}; reproject the file to \
             EPSG:4326 (WGS84 longitude/latitude), e.g. `ogr2ogr -t_srs EPSG:4326 out.shp in.shp`",
            shp.member
        ));
    }
    Ok(())
}

/// Features of any GeoJSON object; a bare geometry counts as one feature. Takes the object
/// by value: statewide block files are large, and copying them would double the memory.
pub(crate) fn geojson_features(gj: geojson::GeoJson) -> Vec<geojson::Feature> {
    match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(g) => vec![geojson::Feature {
            geometry: Some(g),
            ..Default::default()
        }],
    }
}

fn geojson_type_name(v: &geojson::Value) -> &'static str {
    match v {
        geojson::Value::Point(_) => "Point",
        geojson::Value::MultiPoint(_) => "MultiPoint",
        geojson::Value::LineString(_) => "LineString",
        geojson::Value::MultiLineString(_) => "MultiLineString",
        geojson::Value::Polygon(_) => "Polygon",
        geojson::Value::MultiPolygon(_) => "MultiPolygon",
        geojson::Value::GeometryCollection(_) => "GeometryCollection",
    }
}

/// Polygons of one GeoJSON geometry (GeometryCollections of polygons are accepted too).
/// `role` names what the file is for, in the message about a wrong geometry type.
pub(crate) fn polygons_from_geojson(
    value: &geojson::Value,
    feature: usize,
    role: &str,
) -> Result<Vec<RawPolygon>, String> {
    let mut out = Vec::new();
    collect_geojson_polygons(value, feature, role, &mut out)?;
    Ok(out)
}

fn collect_geojson_polygons(
    value: &geojson::Value,
    feature: usize,
    role: &str,
    out: &mut Vec<RawPolygon>,
) -> Result<(), String> {
    let push = |rings: &Vec<Vec<Vec<f64>>>, out: &mut Vec<RawPolygon>| -> Result<(), String> {
        let origin = Origin {
            feature,
            polygon: out.len(),
        };
        let rings = rings
            .iter()
            .map(|ring| {
                ring.iter()
                    .map(|pos| match pos.as_slice() {
                        [x, y, ..] => Ok(Coord { x: *x, y: *y }),
                        _ => Err(format!(
                            "{origin}: position {pos:?} has fewer than 2 coordinates"
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(RawPolygon { origin, rings });
        Ok(())
    };
    match value {
        geojson::Value::Polygon(rings) => push(rings, out)?,
        geojson::Value::MultiPolygon(polys) => {
            for rings in polys {
                push(rings, out)?;
            }
        }
        geojson::Value::GeometryCollection(geoms) => {
            for g in geoms {
                collect_geojson_polygons(&g.value, feature, role, out)?;
            }
        }
        other => {
            return Err(format!(
                "feature {feature} has a {} geometry; {role} must be a Polygon or MultiPolygon",
                geojson_type_name(other)
            ))
        }
    }
    Ok(())
}

/// Polygons of one shapefile record; `NullShape` records give none. Rings are grouped as
/// the format defines: each outer ring starts a polygon, inner rings are its holes.
pub fn polygons_from_shape(
    shape: shapefile::Shape,
    record: usize,
    role: &str,
) -> Result<Vec<RawPolygon>, String> {
    fn rings<P: Copy>(
        rings: Vec<shapefile::PolygonRing<P>>,
        xy: impl Fn(P) -> Coord<f64>,
    ) -> Vec<(bool, Vec<Coord<f64>>)> {
        rings
            .into_iter()
            .map(|r| {
                let outer = matches!(r, shapefile::PolygonRing::Outer(_));
                (outer, r.into_inner().into_iter().map(&xy).collect())
            })
            .collect()
    }
    let tagged = match shape {
        shapefile::Shape::NullShape => return Ok(vec![]),
        shapefile::Shape::Polygon(p) => rings(p.into_inner(), |p| Coord { x: p.x, y: p.y }),
        shapefile::Shape::PolygonM(p) => rings(p.into_inner(), |p| Coord { x: p.x, y: p.y }),
        shapefile::Shape::PolygonZ(p) => rings(p.into_inner(), |p| Coord { x: p.x, y: p.y }),
        other => {
            return Err(format!(
                "record {record} is a {} shape; {role} must be made of polygons",
                other.shapetype()
            ))
        }
    };
    let mut out: Vec<RawPolygon> = Vec::new();
    for (outer, ring) in tagged {
        match out.last_mut() {
            Some(last) if !outer => last.rings.push(ring),
            _ => out.push(RawPolygon {
                origin: Origin {
                    feature: record,
                    polygon: out.len(),
                },
                rings: vec![ring],
            }),
        }
    }
    Ok(out)
}

/// Case-insensitive column lookup: the first candidate present, as spelled in the file.
pub fn find_column<'a>(columns: &'a BTreeSet<String>, candidates: &[&str]) -> Option<&'a str> {
    candidates.iter().find_map(|cand| {
        columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(cand))
            .map(String::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(pts: &[(f64, f64)]) -> Vec<Coord<f64>> {
        pts.iter().map(|&(x, y)| Coord { x, y }).collect()
    }

    #[test]
    fn ring_defects() {
        // (name, ring, expected)
        let square = ring(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)]);
        let bowtie = ring(&[(0., 0.), (1., 1.), (1., 0.), (0., 1.), (0., 0.)]);
        let spike = ring(&[
            (0., 0.),
            (2., 0.),
            (2., 2.),
            (2., 3.),
            (2., 2.),
            (0., 2.),
            (0., 0.),
        ]);
        let touching = ring(&[(0., 0.), (4., 0.), (4., 4.), (2., 0.), (0., 4.), (0., 0.)]);
        let cases = [
            ("square", square, None),
            (
                "bow-tie",
                bowtie,
                Some(RingDefect::Crossing(Coord { x: 0.5, y: 0.5 })),
            ),
            (
                "spike",
                spike,
                Some(RingDefect::Overlap(Coord { x: 2., y: 2. })),
            ),
            ("touch at a vertex", touching, None),
        ];
        for (name, r, want) in cases {
            let got = find_ring_defect(&r);
            match (got, want) {
                (Some(RingDefect::Overlap(_)), Some(RingDefect::Overlap(_))) => {}
                _ => assert_eq!(got, want, "{name}"),
            }
        }
    }

    #[test]
    fn collinear_ring_has_zero_area() {
        assert!(ring_has_zero_area(&ring(&[
            (0., 0.),
            (1., 1.),
            (2., 2.),
            (0., 0.)
        ])));
        assert!(!ring_has_zero_area(&ring(&[
            (0., 0.),
            (1., 0.),
            (1., 1.),
            (0., 0.)
        ])));
    }

    #[test]
    fn shapefile_with_impossible_counts_is_an_error_not_a_panic() {
        // Fuzzer find: a polyline record claiming -1 parts made the shapefile crate panic.
        let mut shp = vec![0u8; 100];
        shp[..4].copy_from_slice(&[0x00, 0x00, 0x27, 0x0a]);
        let mut content = 3i32.to_le_bytes().to_vec(); // polyline
        content.extend([0u8; 32]); // bbox
        content.extend((-1i32).to_le_bytes()); // parts
        content.extend(1i32.to_le_bytes()); // points
        shp.extend(1i32.to_be_bytes());
        shp.extend(((content.len() / 2) as i32).to_be_bytes());
        shp.extend(&content);
        let e = parse_boundary(Path::new("bad.shp"), shp.clone()).unwrap_err();
        assert!(
            e.to_string().contains("negative part or point count"),
            "{e}"
        );
        let n = shp.len();
        shp[n - 8..n - 4].copy_from_slice(&1000i32.to_le_bytes());
        shp[n - 4..].copy_from_slice(&1000i32.to_le_bytes());
        let e = parse_boundary(Path::new("bad.shp"), shp).unwrap_err();
        assert!(
            e.to_string().contains("more parts or points than bytes"),
            "{e}"
        );
    }

    #[test]
    fn shp_and_dbf_counts_must_agree() {
        // (shapes, dbf records, error fragment or None)
        let cases: [(u64, Option<u64>, Option<&str>); 4] = [
            (6012, Some(6012), None),
            (0, Some(0), None),
            (
                6012,
                Some(100),
                Some("b.shp holds 6012 shapes but b.dbf says it holds 100 records"),
            ),
            (3, None, None),
        ];
        for (shapes, records, want) in cases {
            match (check_record_counts(shapes, records, "b.shp", "b.dbf"), want) {
                (Ok(()), None) => {}
                (Err(e), Some(frag)) => assert!(e.contains(frag), "{e}"),
                (got, _) => panic!("{shapes}/{records:?}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn geojson_crs_member_must_be_geographic() {
        let with_crs = |name: &str| -> geojson::GeoJson {
            format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"{name}"}}}},"features":[]}}"#
            )
            .parse()
            .unwrap()
        };
        for ok in [
            "urn:ogc:def:crs:OGC:1.3:CRS84",
            "EPSG:4326",
            "urn:ogc:def:crs:EPSG::4269",
        ] {
            assert!(check_geojson_crs(&with_crs(ok)).is_ok(), "{ok}");
        }
        for bad in ["urn:ogc:def:crs:EPSG::3857", "EPSG:32618", "EPSG:43260"] {
            let e = check_geojson_crs(&with_crs(bad)).unwrap_err();
            assert!(e.contains("reproject") && e.contains(bad), "{e}");
        }
        let plain: geojson::GeoJson = r#"{"type":"Point","coordinates":[1,2]}"#.parse().unwrap();
        assert!(check_geojson_crs(&plain).is_ok());
    }

    #[test]
    fn projected_and_swapped_are_told_apart() {
        let poly = |pts: &[(f64, f64)]| RawPolygon {
            origin: Origin {
                feature: 0,
                polygon: 0,
            },
            rings: vec![ring(pts)],
        };
        // Denver as (lat, lon): DC would not do, its longitude is within ±90.
        let swapped = poly(&[
            (39.7, -105.0),
            (39.7, -104.9),
            (39.8, -104.9),
            (39.7, -105.0),
        ]);
        let err = check_lon_lat(&[swapped]).unwrap_err();
        assert!(err.contains("swapped"), "{err}");
        let utm = poly(&[
            (323_000., 4_310_000.),
            (324_000., 4_310_000.),
            (323_000., 4_311_000.),
        ]);
        let err = check_lon_lat(&[utm]).unwrap_err();
        assert!(err.contains("EPSG:4326"), "{err}");
    }
}

#[cfg(test)]
mod drawn_tests {
    use super::*;

    #[test]
    fn drawn_corners_follow_the_file_rules() {
        // (corners, Ok(polygon area > 0) or an error fragment)
        let square = [(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01)];
        let bowtie = [(0.0, 0.0), (0.01, 0.01), (0.01, 0.0), (0.0, 0.01)];
        let line = [(0.0, 0.0), (0.01, 0.0), (0.02, 0.0)];
        type Row<'a> = (&'a [(f64, f64)], Option<&'a str>);
        let rows: [Row; 7] = [
            (&square, None),
            (&square[..3], None),
            (&square[..2], Some("at least 3 corners; 2 distinct")),
            (&[(0.0, 0.0), (0.0, 0.0), (1.0, 1.0)], Some("2 distinct")),
            (&bowtie, Some("crosses itself")),
            (&line, Some("zero area")),
            (
                &[(500_000.0, 0.0), (500_100.0, 0.0), (500_100.0, 100.0)],
                Some("projected"),
            ),
        ];
        for (corners, want) in rows {
            match (boundary_from_corners(corners), want) {
                (Ok(mp), None) => assert!(mp.unsigned_area() > 0.0),
                (Err(e), Some(frag)) => {
                    assert!(e.contains(frag), "{corners:?}: {e}");
                    assert!(!e.starts_with("feature"), "{e}");
                }
                (got, _) => panic!("{corners:?}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn a_drawn_boundary_round_trips_through_geojson() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("drawn.geojson");
        let corners = [(-77.04, 38.92), (-77.02, 38.92), (-77.03, 38.94)];
        let mp = boundary_from_corners(&corners).expect("valid");
        write_boundary_geojson(&path, &mp).expect("written");
        assert_eq!(load_boundary(&path).expect("reads back"), mp);
    }
}
