//! Minimal little-endian 2D WKB for the geometry types the store writes. SpatiaLite converts
//! WKB with `GeomFromWKB`, and returns it with `AsBinary`, so coordinates travel bit-exact
//! (a text round trip through WKT or GeoJSON would not guarantee that).

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

const POINT: u32 = 1;
const LINESTRING: u32 = 2;
const POLYGON: u32 = 3;
const MULTIPOINT: u32 = 4;
const MULTILINESTRING: u32 = 5;
const MULTIPOLYGON: u32 = 6;

pub fn point(p: &Point<f64>) -> Vec<u8> {
    let mut out = header(POINT, 21);
    coord(&mut out, p.0);
    out
}

pub fn line_string(ls: &LineString<f64>) -> Vec<u8> {
    let mut out = header(LINESTRING, 9 + 16 * ls.0.len());
    coords(&mut out, &ls.0);
    out
}

pub fn multi_line_string(mls: &MultiLineString<f64>) -> Vec<u8> {
    let mut out = header(MULTILINESTRING, 64);
    count(&mut out, mls.0.len());
    for ls in &mls.0 {
        out.extend(line_string(ls));
    }
    out
}

pub fn multi_polygon(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = header(MULTIPOLYGON, 64);
    count(&mut out, mp.0.len());
    for poly in &mp.0 {
        out.extend(header(POLYGON, 64));
        count(&mut out, 1 + poly.interiors().len());
        coords(&mut out, &poly.exterior().0);
        for ring in poly.interiors() {
            coords(&mut out, &ring.0);
        }
    }
    out
}

fn header(kind: u32, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.push(1); // little endian
    out.extend(kind.to_le_bytes());
    out
}

fn count(out: &mut Vec<u8>, n: usize) {
    // WKB counts are u32; geometries with more than 4 billion parts cannot occur in a city.
    out.extend((n as u32).to_le_bytes());
}

fn coord(out: &mut Vec<u8>, c: Coord<f64>) {
    out.extend(c.x.to_le_bytes());
    out.extend(c.y.to_le_bytes());
}

fn coords(out: &mut Vec<u8>, cs: &[Coord<f64>]) {
    count(out, cs.len());
    for c in cs {
        coord(out, *c);
    }
}

/// Decodes 2D WKB (either byte order) of the six simple feature types.
pub fn decode(bytes: &[u8]) -> Result<Geometry<f64>, String> {
    let mut r = Reader { bytes, pos: 0 };
    let g = r.geometry()?;
    if r.pos != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - r.pos));
    }
    Ok(g)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.pos + N;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| "truncated WKB".to_string())?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    fn coord(&mut self, le: bool) -> Result<Coord<f64>, String> {
        Ok(Coord {
            x: self.f64(le)?,
            y: self.f64(le)?,
        })
    }

    fn coords(&mut self, le: bool) -> Result<Vec<Coord<f64>>, String> {
        let n = self.u32(le)? as usize;
        // Guard against absurd counts from damaged blobs before allocating.
        if n > self.bytes.len() / 16 + 1 {
            return Err(format!("coordinate count {n} exceeds blob size"));
        }
        (0..n).map(|_| self.coord(le)).collect()
    }

    fn parts<T>(
        &mut self,
        le: bool,
        mut part: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let n = self.u32(le)? as usize;
        if n > self.bytes.len() {
            return Err(format!("part count {n} exceeds blob size"));
        }
        (0..n).map(|_| part(self)).collect()
    }

    fn polygon_body(&mut self, le: bool) -> Result<Polygon<f64>, String> {
        let mut rings = self.parts(le, |r| r.coords(le).map(LineString::from))?;
        if rings.is_empty() {
            return Ok(Polygon::new(LineString::new(vec![]), vec![]));
        }
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }

    fn geometry(&mut self) -> Result<Geometry<f64>, String> {
        let le = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => return Err(format!("bad byte order marker {b}")),
        };
        let kind = self.u32(le)?;
        Ok(match kind {
            POINT => Geometry::Point(Point(self.coord(le)?)),
            LINESTRING => Geometry::LineString(LineString::from(self.coords(le)?)),
            POLYGON => Geometry::Polygon(self.polygon_body(le)?),
            MULTIPOINT => {
                Geometry::MultiPoint(MultiPoint(self.parts(le, |r| match r.geometry()? {
                    Geometry::Point(p) => Ok(p),
                    _ => Err("non-point in MultiPoint".to_string()),
                })?))
            }
            MULTILINESTRING => {
                Geometry::MultiLineString(MultiLineString(self.parts(
                    le,
                    |r| match r.geometry()? {
                        Geometry::LineString(ls) => Ok(ls),
                        _ => Err("non-linestring in MultiLineString".to_string()),
                    },
                )?))
            }
            MULTIPOLYGON => {
                Geometry::MultiPolygon(MultiPolygon(self.parts(le, |r| match r.geometry()? {
                    Geometry::Polygon(p) => Ok(p),
                    _ => Err("non-polygon in MultiPolygon".to_string()),
                })?))
            }
            other => return Err(format!("unsupported WKB geometry type {other}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, point, polygon};

    #[test]
    fn round_trips_are_bit_exact() {
        let p = point!(x: -73.212_345_678_901_23, y: 44.475_882_910_001);
        let ls = line_string![(x: 0.1, y: 0.2), (x: 1.0 / 3.0, y: -2.5e-9)];
        let poly = polygon!(
            exterior: [(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 0.)],
            interiors: [[(x: 0.2, y: 0.1), (x: 0.8, y: 0.1), (x: 0.8, y: 0.7), (x: 0.2, y: 0.1)]],
        );
        let mp = MultiPolygon(vec![poly.clone(), poly]);
        let mls = MultiLineString(vec![ls.clone(), ls.clone()]);
        let cases: Vec<(Vec<u8>, Geometry<f64>)> = vec![
            (point(&p), p.into()),
            (line_string(&ls), ls.clone().into()),
            (multi_polygon(&mp), mp.clone().into()),
            (multi_line_string(&mls), mls.clone().into()),
        ];
        for (bytes, expected) in cases {
            assert_eq!(decode(&bytes).unwrap(), expected);
        }
    }

    #[test]
    fn point_layout_matches_the_standard() {
        let bytes = point(&Point::new(1.0, 2.0));
        assert_eq!(bytes.len(), 21);
        assert_eq!(&bytes[..5], &[1, 1, 0, 0, 0]);
    }

    #[test]
    fn damaged_blobs_are_errors_not_panics() {
        let bytes = line_string(&line_string![(x: 0., y: 0.), (x: 1., y: 1.)]);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[1, 99, 0, 0, 0]).is_err());
    }
}
