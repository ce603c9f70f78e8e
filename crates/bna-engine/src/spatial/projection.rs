//! The analysis runs in the UTM zone of the boundary (as the reference's `estimate_utm_crs`),
//! so lengths and buffers are in metres.

use geo::{Centroid, Coord, MapCoords, MultiPolygon};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("cannot choose a UTM zone: the boundary has no area")]
    EmptyBoundary,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub zone: u8,
    pub north: bool,
}

impl Projection {
    /// UTM zone of the boundary's centroid.
    pub fn for_boundary(boundary_ll: &MultiPolygon<f64>) -> Result<Self, ProjectionError> {
        let c = boundary_ll
            .centroid()
            .ok_or(ProjectionError::EmptyBoundary)?;
        Ok(Self::for_lon_lat(c.x(), c.y()))
    }

    pub fn for_lon_lat(lon: f64, lat: f64) -> Self {
        Self {
            zone: utm::lat_lon_to_zone_number(lat, lon),
            north: lat >= 0.0,
        }
    }

    /// EPSG code of this UTM zone (WGS84).
    pub fn epsg(&self) -> u32 {
        if self.north {
            32600 + self.zone as u32
        } else {
            32700 + self.zone as u32
        }
    }

    pub fn forward(&self, c: Coord<f64>) -> Coord<f64> {
        let (northing, easting, _) = utm::to_utm_wgs84(c.y, c.x, self.zone);
        Coord {
            x: easting,
            // The utm crate gives southern-hemisphere northings with the false northing added.
            y: northing,
        }
    }

    pub fn inverse(&self, c: Coord<f64>) -> Coord<f64> {
        let letter = if self.north { 'N' } else { 'M' };
        // Only fails for out-of-range zone letters, which we never construct.
        let (lat, lon) =
            utm::wsg84_utm_to_lat_lon(c.x, c.y, self.zone, letter).expect("valid UTM zone letter");
        Coord { x: lon, y: lat }
    }

    pub fn project<G: MapCoords<f64, f64, Output = G>>(&self, g: &G) -> G {
        g.map_coords(|c| self.forward(c))
    }

    pub fn unproject<G: MapCoords<f64, f64, Output = G>>(&self, g: &G) -> G {
        g.map_coords(|c| self.inverse(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_within_a_decimetre_in_dc() {
        let p = Projection::for_lon_lat(-77.03, 38.93);
        assert_eq!(p.zone, 18);
        assert_eq!(p.epsg(), 32618);
        let c = Coord {
            x: -77.03,
            y: 38.93,
        };
        let back = p.inverse(p.forward(c));
        // The utm crate's inverse series is good to a few centimetres; only derived points
        // (destination centroids) go through it, original geometry keeps its lon/lat.
        assert!(
            (back.x - c.x).abs() < 1.5e-6 && (back.y - c.y).abs() < 1.5e-6,
            "{back:?}"
        );
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let p = Projection::for_lon_lat(24.94, 60.17);
        let a = p.forward(Coord { x: 24.94, y: 60.0 });
        let b = p.forward(Coord { x: 24.94, y: 61.0 });
        let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
        assert!((d - 111_400.0).abs() < 500.0, "{d}");
    }
}
