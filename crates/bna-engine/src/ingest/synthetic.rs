//! Synthetic population grid for places without census blocks (spec §9, reference
//! `core/analysis.py::create_synthetic_population`).

use geo::{BoundingRect, Coord, Intersects, MultiPolygon, Point, Polygon, Rect};

use super::census::RawBlock;
use crate::params::{SYNTHETIC_CELL_POPULATION, SYNTHETIC_CELL_SIZE};

/// WGS84 semi-major axis, the sphere radius of Web Mercator (EPSG:3857).
const EARTH_RADIUS_M: f64 = 6_378_137.0;

/// lon/lat (degrees) → EPSG:3857.
pub fn to_web_mercator(c: Coord<f64>) -> Coord<f64> {
    let (lon, lat) = (c.x.to_radians(), c.y.to_radians());
    Coord {
        x: EARTH_RADIUS_M * lon,
        y: EARTH_RADIUS_M * (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln(),
    }
}

/// EPSG:3857 → lon/lat (degrees).
pub fn from_web_mercator(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (c.x / EARTH_RADIUS_M).to_degrees(),
        y: (2.0 * (c.y / EARTH_RADIUS_M).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees(),
    }
}

/// Square cells of `SYNTHETIC_CELL_SIZE` EPSG:3857 units (so about `size·cos(lat)` true metres)
/// that intersect the boundary, `SYNTHETIC_CELL_POPULATION` people each.
///
/// As the reference, the grid starts at the lower-left corner of the boundary's Web Mercator
/// bounding box and has ⌈width/size⌉ × ⌈height/size⌉ cells. Unlike the reference's 15 random
/// letters, GEOIDs are deterministic, "syn" + 6-digit column + 6-digit row, so that the same
/// boundary always gives the same blocks (checkpoints and results stay reproducible).
pub fn synthetic_grid(boundary_ll: &MultiPolygon<f64>) -> Vec<RawBlock> {
    let size = SYNTHETIC_CELL_SIZE;
    let Some(bbox_ll) = boundary_ll.bounding_rect() else {
        return Vec::new();
    };
    let min = to_web_mercator(bbox_ll.min());
    let max = to_web_mercator(bbox_ll.max());
    let cols = ((max.x - min.x) / size).ceil().max(1.0) as usize;
    let rows = ((max.y - min.y) / size).ceil().max(1.0) as usize;

    let mut cells = Vec::new();
    // Column-major like the reference, so cell order matches its output.
    for col in 0..cols {
        for row in 0..rows {
            let x0 = min.x + col as f64 * size;
            let y0 = min.y + row as f64 * size;
            // Mercator is separable (x depends on lon only, y on lat only), so a Mercator square
            // is exactly a lon/lat rectangle: its two corners are enough.
            let lo = from_web_mercator(Coord { x: x0, y: y0 });
            let hi = from_web_mercator(Coord {
                x: x0 + size,
                y: y0 + size,
            });
            let cell: Polygon<f64> = Rect::new(lo, hi).to_polygon();
            if !cell.intersects(boundary_ll) {
                continue;
            }
            let centre = from_web_mercator(Coord {
                x: x0 + size / 2.0,
                y: y0 + size / 2.0,
            });
            cells.push(RawBlock {
                geoid: format!("syn{col:06}{row:06}"),
                geom_ll: MultiPolygon(vec![cell]),
                population: Some(SYNTHETIC_CELL_POPULATION),
                aland: None,
                interior_point_ll: Point(centre),
            });
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_mercator_known_points() {
        // (lon, lat, x, y) — EPSG:3857 values from the projection's definition.
        let cases = [
            (0.0, 0.0, 0.0, 0.0),
            (180.0, 0.0, 20_037_508.342_789_244, 0.0),
            (24.94, 60.17, 2_776_308.10, 8_437_684.16),
        ];
        for (lon, lat, x, y) in cases {
            let m = to_web_mercator(Coord { x: lon, y: lat });
            assert!(
                (m.x - x).abs() < 0.5 && (m.y - y).abs() < 0.5,
                "{lon},{lat}: {m:?}"
            );
            let back = from_web_mercator(m);
            assert!((back.x - lon).abs() < 1e-9 && (back.y - lat).abs() < 1e-9);
        }
    }
}
