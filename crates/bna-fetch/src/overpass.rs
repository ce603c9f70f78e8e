//! The OpenStreetMap extract for boundary ⊕ 2680 m, as one Overpass API query.
//!
//! The query asks for what `ingest::osm` reads and nothing else: every `highway=*` way with
//! its nodes (§3.1), the nodes that control intersections (§3.4), and the objects the §6.2
//! destination filters can match, with the ways and nodes their geometry needs. The answer is
//! OSM XML, which `ingest::osm::read_osm` reads as it reads a PBF.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, MultiPolygon, Rect};
use sha2::{Digest, Sha256};

use super::download::Entry;
use super::verify::{Content, Rejection};
use bna_engine::params;

/// Metres per degree of latitude (and of longitude at the equator), rounded down from the
/// ≈ 111,195 m of the mean Earth radius so that the box is never short of the buffer.
const METRES_PER_DEGREE: f64 = 111_000.0;

/// The boundary's bounding box grown by `buffer_m` on every side, in lon/lat. A box rather
/// than the buffered polygon: the query stays short, and the analysis clips to 2680 m itself.
pub fn buffered_bbox(boundary: &MultiPolygon<f64>, buffer_m: f64) -> Option<Rect<f64>> {
    let r = boundary.bounding_rect()?;
    let dlat = buffer_m / METRES_PER_DEGREE;
    // The widest longitude step is at the latitude farthest from the equator.
    let max_abs_lat = r.min().y.abs().max(r.max().y.abs()) + dlat;
    let dlon = buffer_m / (METRES_PER_DEGREE * max_abs_lat.to_radians().cos().max(0.01));
    Some(Rect::new(
        (r.min().x - dlon, (r.min().y - dlat).max(-90.0)),
        (r.max().x + dlon, (r.max().y + dlat).min(90.0)),
    ))
}

/// Overpass QL for the box (south, west, north, east order, as Overpass wants).
pub fn query(bbox: &Rect<f64>) -> String {
    let (s, w, n, e) = (bbox.min().y, bbox.min().x, bbox.max().y, bbox.max().x);
    format!(
        "[out:xml][timeout:{timeout}][maxsize:{maxsize}][bbox:{s:.6},{w:.6},{n:.6},{e:.6}];\n\
         (\n\
         \x20 way[highway];\n\
         \x20 node[highway~\"^(traffic_signals|crossing|stop|motorway_junction)$\"];\n\
         \x20 nwr[amenity];\n\
         \x20 nwr[shop];\n\
         \x20 nwr[healthcare];\n\
         \x20 nwr[leisure~\"^(park|nature_reserve|playground)$\"];\n\
         \x20 nwr[landuse=retail];\n\
         \x20 nwr[building=retail];\n\
         \x20 nwr[railway=station];\n\
         \x20 nwr[public_transport=station];\n\
         \x20 wr[natural=water];\n\
         \x20 wr[waterway=riverbank];\n\
         \x20 wr[landuse~\"^(reservoir|basin)$\"];\n\
         );\n\
         (._;>;);\n\
         out body;\n",
        timeout = params::OVERPASS_TIMEOUT_S,
        maxsize = params::OVERPASS_MAXSIZE_BYTES,
    )
}

/// The download of the extract; cached under a hash of the query, so the same area is asked
/// for once.
pub fn entry(endpoint: &str, query: &str) -> Entry {
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    Entry {
        what: "OpenStreetMap extract (Overpass API)".into(),
        url: endpoint.to_owned(),
        form: Some(vec![("data".into(), query.to_owned())]),
        rel: PathBuf::from("osm").join(format!("overpass-{}.osm", &hash[..16])),
        max_bytes: params::FETCH_MAX_OSM_BYTES,
        content: Content::OverpassXml,
    }
}

/// Checks an Overpass answer all the way through: OSM XML under an `<osm>` root, complete (an
/// answer streamed without a length can be cut short unnoticed), and without the `<remark>`
/// by which Overpass reports, inside a successful (200) answer, a query that ran out of time
/// or memory. `head` is the file's first bytes, for describing what came instead.
pub fn check_answer(path: &Path, head: &[u8]) -> Result<(), Rejection> {
    use quick_xml::events::Event;
    let not_osm = |why: String| Rejection::NotTheFile(format!("not OSM XML: {why}"));
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(std::fs::File::open(path)?));
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut remark: Option<String> = None;
    // Elements of the answer: an answer without a single node holds no roads, no
    // destinations, nothing the analysis can use (an area with no OSM data, a wrong box).
    let mut nodes = 0u64;
    loop {
        let event = xml.read_event_into(&mut buf).map_err(|e| match e {
            quick_xml::Error::Io(io) => {
                Rejection::Io(std::io::Error::new(io.kind(), io.to_string()))
            }
            _ if root_seen => Rejection::NotTheFile(format!(
                "the OSM XML is cut short or damaged ({e}); the transfer may have been interrupted"
            )),
            _ => not_osm(super::verify::describe_start(head)),
        })?;
        if depth == 1 {
            if let Event::Start(e) | Event::Empty(e) = &event {
                if e.name().as_ref() == b"node" {
                    nodes += 1;
                }
            }
        }
        match event {
            Event::Start(_) | Event::Empty(_) if depth == 0 && root_seen => {
                return Err(not_osm("more than one root element".into()));
            }
            Event::Start(e) if depth == 0 => {
                if e.name().as_ref() != b"osm" {
                    return Err(not_osm(super::verify::describe_start(head)));
                }
                root_seen = true;
                depth = 1;
            }
            Event::Empty(e) if depth == 0 => {
                if e.name().as_ref() != b"osm" {
                    return Err(not_osm(super::verify::describe_start(head)));
                }
                root_seen = true;
            }
            Event::Start(e) => {
                if depth == 1 && e.name().as_ref() == b"remark" {
                    remark = Some(String::new());
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if remark.is_some() && depth == 2 => {
                if let (Some(r), Ok(text)) = (remark.as_mut(), t.decode()) {
                    r.push_str(&text);
                }
            }
            Event::GeneralRef(r) if remark.is_some() && depth == 2 => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match r.decode().as_deref() {
                        Ok("quot") => "\"".into(),
                        Ok("apos") => "'".into(),
                        Ok("amp") => "&".into(),
                        Ok("lt") => "<".into(),
                        Ok("gt") => ">".into(),
                        _ => String::new(),
                    },
                };
                if let Some(r) = remark.as_mut() {
                    r.push_str(&text);
                }
            }
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(not_osm(super::verify::describe_start(head)));
            }
            Event::Eof => break,
            _ => {}
        }
        if let Some(r) = remark.as_deref().filter(|_| depth == 1) {
            if let Some(problem) = failed_query(r) {
                return Err(Rejection::OverpassGaveUp(problem));
            }
            remark = None;
        }
        buf.clear();
    }
    if !root_seen {
        return Err(not_osm(super::verify::describe_start(head)));
    }
    if depth > 0 {
        return Err(Rejection::NotTheFile(
            "the OSM XML is cut short (no closing </osm>); the transfer may have been interrupted"
                .into(),
        ));
    }
    if nodes == 0 {
        return Err(Rejection::NoData);
    }
    Ok(())
}

/// The box of a query in words, for a message: south, west, north, east.
pub fn describe_bbox(bbox: &Rect<f64>) -> String {
    format!(
        "latitude {:.4} to {:.4}, longitude {:.4} to {:.4}",
        bbox.min().y,
        bbox.max().y,
        bbox.min().x,
        bbox.max().x
    )
}

/// The remark of a query Overpass gave up on (its "runtime error"), tidied for a message;
/// informational remarks are not failures.
pub fn failed_query(remark: &str) -> Option<String> {
    let remark = remark.split_whitespace().collect::<Vec<_>>().join(" ");
    remark.contains("error").then_some(remark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, Distance, Haversine, Point};

    #[test]
    fn bbox_grows_by_the_buffer_in_metres() {
        let b = MultiPolygon::new(vec![polygon![
            (x: -73.25, y: 44.45), (x: -73.18, y: 44.45), (x: -73.18, y: 44.53), (x: -73.25, y: 44.53)
        ]]);
        let r = buffered_bbox(&b, 2680.0).unwrap();
        // Each side is at least 2680 m from the boundary's box, and not much more.
        let west = Haversine.distance(Point::new(-73.25, 44.49), Point::new(r.min().x, 44.49));
        let south = Haversine.distance(Point::new(-73.2, 44.45), Point::new(-73.2, r.min().y));
        assert!((2680.0..2780.0).contains(&west), "{west}");
        assert!((2660.0..2700.0).contains(&south), "{south}");
        assert!(geo::Polygon::from(r).contains(&b.0[0]));
    }

    #[test]
    fn query_names_the_box_and_the_needed_keys() {
        let r = Rect::new((-77.1, 38.9), (-77.0, 39.0));
        let q = query(&r);
        assert!(
            q.contains("[bbox:38.900000,-77.100000,39.000000,-77.000000]"),
            "{q}"
        );
        for k in [
            "way[highway]",
            "nwr[amenity]",
            "nwr[shop]",
            "railway=station",
            "wr[natural=water]",
            "(._;>;)",
        ] {
            assert!(q.contains(k), "{k} missing from {q}");
        }
        let (a, b) = (
            entry("https://x/api", &q),
            entry("https://x/api", &query(&Rect::new((0., 0.), (1., 1.)))),
        );
        assert_ne!(a.rel, b.rel, "different areas are cached apart");
    }
}
