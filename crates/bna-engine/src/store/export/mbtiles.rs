//! MBTiles 1.3 tile set of the shared layers: gzip-compressed Mapbox Vector Tiles (MVT, via the
//! `mvt` crate) in Web Mercator for city zoom levels, with the `json` metadata (vector_layers)
//! that MapLibre, QGIS and tile servers read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use geo::{BoundingRect, Coord, Geometry, LineString, Orient, Polygon, Rect};
use mvt::{GeomEncoder, GeomType, Layer, Tile};
use pointy::BBox;
use rusqlite::{params, Connection};
use serde_json::Value as J;

use super::io_err;
use super::share::{read_layers, ShareFeature, ShareLayer};
use crate::params::{TILES_BUFFER, TILES_EXTENT, TILES_MAX_ZOOM, TILES_MIN_ZOOM};
use crate::store::error::{SqlContext, StoreError};
use crate::store::project::Project;
use crate::store::schema::ColKind;

/// The start of the `description` metadata, by which an earlier export is recognised.
pub(super) const DESCRIPTION_PREFIX: &str = "Bicycle Network Analysis results";

/// Web Mercator's latitude limit: tiles cover ±85.0511°.
const MAX_LAT: f64 = 85.051_128_779_806_59;

pub(super) fn write(project: &Project, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let stem = project
        .path()
        .file_stem()
        .map_or_else(|| "bna".into(), |s| s.to_string_lossy().into_owned());
    let out = dir.join(format!("{stem}.mbtiles"));
    let layers = read_layers(project)?;
    let mut conn = Connection::open(&out).at(&out)?;
    let tx = conn.transaction().at(&out)?;
    tx.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,
                             tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )
    .at(&out)?;
    {
        let mut insert = tx
            .prepare("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)")
            .at(&out)?;
        for z in TILES_MIN_ZOOM..=TILES_MAX_ZOOM {
            for ((x, y), bytes) in encode_zoom(&layers, z).map_err(mvt_err(&out))? {
                // MBTiles rows count from the south (TMS), XYZ tiles from the north.
                let row = (1u32 << z) - 1 - y;
                insert
                    .execute(params![z, x, row, gzip(&bytes).map_err(io_err(&out))?])
                    .at(&out)?;
            }
        }
        let mut meta = tx
            .prepare("INSERT INTO metadata VALUES (?1, ?2)")
            .at(&out)?;
        for (k, v) in metadata(&stem, &layers) {
            meta.execute(params![k, v]).at(&out)?;
        }
    }
    tx.commit().at(&out)?;
    Ok(vec![out])
}

fn mvt_err(path: &Path) -> impl Fn(mvt::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt {
        path: path.to_path_buf(),
        what: "vector tile".into(),
        detail: e.to_string(),
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

/// The MBTiles 1.3 metadata rows.
fn metadata(name: &str, layers: &[ShareLayer]) -> Vec<(&'static str, String)> {
    let bounds = layers
        .iter()
        .flat_map(|l| &l.features)
        .filter_map(|f| f.geometry.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        });
    // The study area frames the initial view; the roads of the routing buffer extend past it.
    let focus = layers
        .iter()
        .find(|l| l.name == super::share::BOUNDARY_LAYER)
        .and_then(|l| {
            l.features
                .iter()
                .filter_map(|f| f.geometry.bounding_rect())
                .next()
        })
        .or(bounds);
    let vector_layers: Vec<J> = layers
        .iter()
        .map(|l| {
            let fields: serde_json::Map<String, J> = l
                .fields
                .iter()
                .map(|(n, k)| (n.clone(), J::from(field_type(*k))))
                .collect();
            serde_json::json!({
                "id": l.name,
                "description": l.description,
                "minzoom": TILES_MIN_ZOOM,
                "maxzoom": TILES_MAX_ZOOM,
                "fields": fields,
            })
        })
        .collect();
    let mut rows = vec![
        ("name", name.to_string()),
        ("format", "pbf".to_string()),
        ("type", "overlay".to_string()),
        ("version", "1".to_string()),
        ("description", format!("{DESCRIPTION_PREFIX}, {}", engine())),
        ("attribution", "© OpenStreetMap contributors".to_string()),
        ("minzoom", TILES_MIN_ZOOM.to_string()),
        ("maxzoom", TILES_MAX_ZOOM.to_string()),
        (
            "json",
            serde_json::json!({ "vector_layers": vector_layers }).to_string(),
        ),
    ];
    if let (Some(b), Some(f)) = (bounds, focus) {
        rows.push((
            "bounds",
            format!(
                "{:.6},{:.6},{:.6},{:.6}",
                b.min().x,
                b.min().y,
                b.max().x,
                b.max().y
            ),
        ));
        let c = f.center();
        rows.push(("center", format!("{:.6},{:.6},{}", c.x, c.y, fit_zoom(&f))));
    }
    rows
}

fn engine() -> String {
    format!("bna {}", env!("CARGO_PKG_VERSION"))
}

fn field_type(kind: ColKind) -> &'static str {
    match kind {
        ColKind::Text | ColKind::Json => "String",
        ColKind::Bool => "Boolean",
        _ => "Number",
    }
}

/// The largest zoom at which `r` fits in about four 256-pixel tiles (a typical window).
fn fit_zoom(r: &Rect<f64>) -> u8 {
    let (x0, y0) = lonlat_to_unit(r.min());
    let (x1, y1) = lonlat_to_unit(r.max());
    let span = (x1 - x0).abs().max((y1 - y0).abs()).max(1e-9);
    let z = (4.0 / span).log2().floor();
    (z.max(0.0) as u8).clamp(TILES_MIN_ZOOM, TILES_MAX_ZOOM)
}

/// Web Mercator of a lon/lat point, as a fraction of the world (0..1, y down).
pub(crate) fn lonlat_to_unit(c: Coord<f64>) -> (f64, f64) {
    let lat = c.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (c.x + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    (x, y)
}

/// Every non-empty tile of zoom `z`, keyed by XYZ (x, y), as encoded MVT bytes.
fn encode_zoom(layers: &[ShareLayer], z: u8) -> Result<BTreeMap<(u32, u32), Vec<u8>>, mvt::Error> {
    let n = 1u32 << z;
    let world = f64::from(n) * f64::from(TILES_EXTENT);
    let extent = f64::from(TILES_EXTENT);
    let buffer = f64::from(TILES_BUFFER);
    // One map of tile layers per shared layer, merged into tiles at the end.
    let mut tiles: BTreeMap<(u32, u32), Vec<Layer>> = BTreeMap::new();
    let template = Tile::new(TILES_EXTENT);
    for (li, layer) in layers.iter().enumerate() {
        for f in &layer.features {
            let projected = project_geometry(&f.geometry, world);
            let Some(bb) = projected.bounding_rect() else {
                continue;
            };
            let range = |lo: f64, hi: f64| {
                let a = ((lo - buffer) / extent).floor().max(0.0) as u32;
                let b = (((hi + buffer) / extent).floor().max(0.0) as u32).min(n - 1);
                a..=b
            };
            for tx in range(bb.min().x, bb.max().x) {
                for ty in range(bb.min().y, bb.max().y) {
                    let origin = Coord {
                        x: f64::from(tx) * extent,
                        y: f64::from(ty) * extent,
                    };
                    let Some(geom) = encode_geometry(&projected, origin)? else {
                        continue;
                    };
                    let slots = tiles.entry((tx, ty)).or_insert_with(|| {
                        layers
                            .iter()
                            .map(|l| template.create_layer(l.name))
                            .collect()
                    });
                    let tl = std::mem::take(&mut slots[li]);
                    slots[li] = add_feature(tl, geom, f);
                }
            }
        }
    }
    tiles
        .into_iter()
        .map(|(key, slots)| {
            let mut tile = Tile::new(TILES_EXTENT);
            for l in slots.into_iter().filter(|l| l.num_features() > 0) {
                tile.add_layer(l)?;
            }
            Ok((key, tile.to_bytes()?))
        })
        .collect()
}

fn add_feature(layer: Layer, geom: mvt::GeomData, f: &ShareFeature) -> Layer {
    let mut feature = layer.into_feature(geom);
    feature.set_id(f.id);
    for (k, v) in &f.props {
        match v {
            J::String(s) => feature.add_tag_string(k, s),
            J::Bool(b) => feature.add_tag_bool(k, *b),
            J::Number(num) => match num.as_i64() {
                Some(i) => feature.add_tag_sint(k, i),
                None => feature.add_tag_double(k, num.as_f64().unwrap_or(f64::NAN)),
            },
            // Arrays and objects (OSM tags) are not among the shared columns.
            J::Null | J::Array(_) | J::Object(_) => {}
        }
    }
    feature.into_layer()
}

/// Lon/lat to world pixels at a zoom (`world` = pixels across the world), y down. Polygons are
/// oriented first: exterior rings counter-clockwise in lon/lat become clockwise in the y-down
/// tile space, which is what the MVT spec requires of exterior rings.
fn project_geometry(g: &Geometry<f64>, world: f64) -> Geometry<f64> {
    let oriented = match g {
        Geometry::Polygon(p) => Geometry::Polygon(p.orient(geo::orient::Direction::Default)),
        Geometry::MultiPolygon(mp) => {
            Geometry::MultiPolygon(mp.orient(geo::orient::Direction::Default))
        }
        other => other.clone(),
    };
    use geo::MapCoords;
    oriented.map_coords(|c| {
        let (x, y) = lonlat_to_unit(c);
        Coord {
            x: x * world,
            y: y * world,
        }
    })
}

/// The part of `g` (world pixels) in the tile at `origin`, clipped to the tile plus buffer, in
/// whole tile units; `None` when nothing of it is left at this zoom.
fn encode_geometry(
    g: &Geometry<f64>,
    origin: Coord<f64>,
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let lo = -f64::from(TILES_BUFFER);
    let hi = f64::from(TILES_EXTENT + TILES_BUFFER);
    let local = |c: &Coord<f64>| ((c.x - origin.x).round(), (c.y - origin.y).round());
    let (tp, parts): (GeomType, Vec<Vec<(f64, f64)>>) = match g {
        Geometry::LineString(l) => (GeomType::Linestring, vec![line(l, local, 2)]),
        Geometry::MultiLineString(ml) => (
            GeomType::Linestring,
            ml.0.iter().map(|l| line(l, local, 2)).collect(),
        ),
        Geometry::Polygon(p) => (GeomType::Polygon, rings(p, local)),
        Geometry::MultiPolygon(mp) => (
            GeomType::Polygon,
            mp.0.iter().flat_map(|p| rings(p, local)).collect(),
        ),
        Geometry::Point(p) => (GeomType::Point, vec![vec![local(&p.0)]]),
        _ => return Ok(None),
    };
    let parts: Vec<_> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let inside = parts
        .iter()
        .flatten()
        .any(|&(x, y)| (lo..=hi).contains(&x) && (lo..=hi).contains(&y));
    let crosses = parts.iter().any(|p| crosses_box(p, lo, hi));
    if parts.is_empty() || !(inside || crosses) {
        return Ok(None);
    }
    let mut enc = GeomEncoder::new(tp).bbox(BBox::new([(lo, lo), (hi, hi)]));
    for part in &parts {
        for &(x, y) in part {
            enc.add_point(x, y)?;
        }
        if tp != GeomType::Point {
            enc.complete_geom()?;
        }
    }
    let data = enc.encode()?;
    Ok((!data.is_empty()).then_some(data))
}

/// Whether a path's bounding box overlaps the clip box (a line can cross a tile with no vertex
/// inside it).
fn crosses_box(p: &[(f64, f64)], lo: f64, hi: f64) -> bool {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in p {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    x0 <= hi && x1 >= lo && y0 <= hi && y1 >= lo
}

/// Rounded points without consecutive duplicates; empty when fewer than `min` remain (the part
/// is smaller than one tile unit at this zoom).
fn line(
    l: &LineString<f64>,
    local: impl Fn(&Coord<f64>) -> (f64, f64),
    min: usize,
) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::with_capacity(l.0.len());
    for c in &l.0 {
        let p = local(c);
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    }
    if pts.len() < min {
        pts.clear();
    }
    pts
}

/// Exterior then interior rings, without the closing point (MVT closes rings itself); a
/// polygon whose exterior collapses at this zoom is dropped whole.
fn rings(
    p: &Polygon<f64>,
    local: impl Fn(&Coord<f64>) -> (f64, f64) + Copy,
) -> Vec<Vec<(f64, f64)>> {
    let ring = |l: &LineString<f64>| {
        let mut pts = line(l, local, 0);
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        if pts.len() < 3 {
            pts.clear();
        }
        pts
    };
    let exterior = ring(p.exterior());
    if exterior.is_empty() {
        return Vec::new();
    }
    let mut out = vec![exterior];
    out.extend(p.interiors().iter().map(ring).filter(|r| !r.is_empty()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_mercator_corners_and_origin() {
        let cases = [
            ((-180.0, 0.0), (0.0, 0.5)),
            ((180.0, 0.0), (1.0, 0.5)),
            ((0.0, MAX_LAT), (0.5, 0.0)),
            ((0.0, -MAX_LAT), (0.5, 1.0)),
        ];
        for ((lon, lat), (x, y)) in cases {
            let (ux, uy) = lonlat_to_unit(Coord { x: lon, y: lat });
            assert!(
                (ux - x).abs() < 1e-9 && (uy - y).abs() < 1e-9,
                "{lon},{lat}"
            );
        }
    }

    #[test]
    fn fit_zoom_of_a_city_and_of_a_street() {
        // Washington DC is about 0.25° wide: zoom 12 shows it in four tiles.
        let dc = Rect::new(
            Coord {
                x: -77.12,
                y: 38.79,
            },
            Coord {
                x: -76.91,
                y: 38.99,
            },
        );
        assert_eq!(fit_zoom(&dc), 12);
        let street = Rect::new(
            Coord { x: -77.0, y: 38.9 },
            Coord {
                x: -76.999,
                y: 38.901,
            },
        );
        assert_eq!(fit_zoom(&street), TILES_MAX_ZOOM);
    }

    #[test]
    fn geometry_outside_the_tile_is_not_encoded() {
        let l = Geometry::LineString(LineString::from(vec![(10.0, 10.0), (100.0, 10.0)]));
        assert!(encode_geometry(&l, Coord { x: 0.0, y: 0.0 })
            .unwrap()
            .is_some());
        let far = Coord {
            x: 20_000.0,
            y: 0.0,
        };
        assert!(encode_geometry(&l, far).unwrap().is_none());
        // A line crossing the tile with no vertex inside it is kept.
        let across = Geometry::LineString(LineString::from(vec![(-500.0, 10.0), (5000.0, 10.0)]));
        assert!(encode_geometry(&across, Coord { x: 0.0, y: 0.0 })
            .unwrap()
            .is_some());
    }
}
