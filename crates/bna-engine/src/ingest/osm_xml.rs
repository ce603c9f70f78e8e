//! OSM XML (the Overpass API's answer, `.osm` files), streamed with quick-xml into the same
//! assembly as the PBF reader, so both formats give identical extracts.

use std::io::{BufRead, BufReader};
use std::path::Path;

use geo::Coord;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::IngestError;
use crate::model::Tags;
use crate::progress::StageProgress;

/// One complete OSM element, as the assembly takes it.
pub(crate) enum XmlElement {
    Node(i64, Coord<f64>, Tags),
    Way(i64, Vec<i64>, Tags),
    /// Relation id, tags, (way member id, role).
    Relation(i64, Tags, Vec<(i64, String)>),
    /// The `<bounds>` the file says it was cut to.
    Bounds(geo::Rect<f64>),
}

/// The element being read, until its end tag.
enum Open {
    None,
    Node(i64, Coord<f64>, Tags),
    Way(i64, Vec<i64>, Tags),
    Relation(i64, Tags, Vec<(i64, String)>),
}

impl Open {
    fn finish(self) -> Option<XmlElement> {
        match self {
            Open::None => None,
            Open::Node(id, c, t) => Some(XmlElement::Node(id, c, t)),
            Open::Way(id, n, t) => Some(XmlElement::Way(id, n, t)),
            Open::Relation(id, t, m) => Some(XmlElement::Relation(id, t, m)),
        }
    }
}

/// Elements between progress checks; cancellation is honoured at the same rate.
const ELEMENTS_PER_CHECK: u64 = 50_000;

/// Calls `sink` with every node, way and relation of the file, in file order.
pub(crate) fn read_xml(
    path: &Path,
    gzip: bool,
    progress: &dyn StageProgress,
    mut sink: impl FnMut(XmlElement),
) -> Result<(), super::osm::OsmReadError> {
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let source: Box<dyn BufRead> = if gzip {
        let unzipped = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
        Box::new(BufReader::with_capacity(1 << 16, unzipped))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let mut reader = Reader::from_reader(source);
    let mut buf = Vec::new();
    let mut open = Open::None;
    let mut seen = 0u64;
    // Overpass answers a query it gave up on (time or memory) with 200 and a partial file whose
    // `<remark>` says why; that file must not pass for an extract with few roads.
    let mut remark: Option<String> = None;
    loop {
        let bad = |reader: &Reader<Box<dyn BufRead>>, e: String| {
            IngestError::invalid(
                path,
                format!(
                    "not readable OSM XML at byte {} ({e}); re-download the extract",
                    reader.buffer_position()
                ),
            )
        };
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| bad(&reader, e.to_string()))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) if e.name().as_ref() == b"remark" => remark = Some(String::new()),
            Event::Text(ref t) if remark.is_some() => {
                if let Some(r) = remark.as_mut() {
                    r.push_str(&String::from_utf8_lossy(t));
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let a = Attrs::of(e).map_err(|m| bad(&reader, m))?;
                match e.name().as_ref() {
                    b"bounds" => {
                        let n = |k| a.num(k).map_err(|m| bad(&reader, m));
                        sink(XmlElement::Bounds(geo::Rect::new(
                            Coord {
                                x: n("minlon")?,
                                y: n("minlat")?,
                            },
                            Coord {
                                x: n("maxlon")?,
                                y: n("maxlat")?,
                            },
                        )));
                    }
                    b"node" => {
                        let c = Coord {
                            x: a.num("lon").map_err(|m| bad(&reader, m))?,
                            y: a.num("lat").map_err(|m| bad(&reader, m))?,
                        };
                        open = Open::Node(a.id().map_err(|m| bad(&reader, m))?, c, Tags::new());
                    }
                    b"way" => {
                        open = Open::Way(a.id().map_err(|m| bad(&reader, m))?, vec![], Tags::new())
                    }
                    b"relation" => {
                        open = Open::Relation(
                            a.id().map_err(|m| bad(&reader, m))?,
                            Tags::new(),
                            vec![],
                        )
                    }
                    b"tag" => {
                        let (k, v) = (a.get("k"), a.get("v"));
                        if let (Some(k), Some(v)) = (k, v) {
                            match &mut open {
                                Open::Node(_, _, t)
                                | Open::Way(_, _, t)
                                | Open::Relation(_, t, _) => {
                                    t.insert(k.to_owned(), v.to_owned());
                                }
                                Open::None => {}
                            }
                        }
                    }
                    b"nd" => {
                        if let Open::Way(_, nodes, _) = &mut open {
                            nodes.push(a.int("ref").map_err(|m| bad(&reader, m))?);
                        }
                    }
                    b"member" => {
                        if let Open::Relation(_, _, members) = &mut open {
                            if a.get("type") == Some("way") {
                                let r = a.int("ref").map_err(|m| bad(&reader, m))?;
                                members.push((r, a.get("role").unwrap_or("").to_owned()));
                            }
                        }
                    }
                    _ => {}
                }
                let is_element = matches!(e.name().as_ref(), b"node" | b"way" | b"relation");
                if empty && is_element {
                    if let Some(el) = std::mem::replace(&mut open, Open::None).finish() {
                        sink(el);
                        seen += 1;
                    }
                }
            }
            Event::End(ref e) if matches!(e.name().as_ref(), b"node" | b"way" | b"relation") => {
                if let Some(el) = std::mem::replace(&mut open, Open::None).finish() {
                    sink(el);
                    seen += 1;
                }
            }
            _ => {}
        }
        if seen % ELEMENTS_PER_CHECK == ELEMENTS_PER_CHECK - 1 && progress.is_cancelled() {
            return Err(crate::progress::Cancelled.into());
        }
        buf.clear();
    }
    match remark.map(|r| r.trim().to_owned()) {
        Some(r) if r.to_ascii_lowercase().contains("error") => Err(IngestError::invalid(
            path,
            format!(
                "the Overpass API did not finish this query ({r}), so the file is not a complete extract; fetch it again for a smaller area or later, or use a local extract"
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

/// The attributes of one start tag, unescaped.
struct Attrs(Vec<(String, String)>);

impl Attrs {
    fn of(e: &BytesStart<'_>) -> Result<Self, String> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|e| e.to_string())?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| e.to_string())?
                .into_owned();
            out.push((key, value));
        }
        Ok(Self(out))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn int(&self, key: &str) -> Result<i64, String> {
        let v = self.get(key).ok_or_else(|| format!("missing {key}"))?;
        v.parse()
            .map_err(|_| format!("{key}=\"{v}\" is not an integer"))
    }

    fn id(&self) -> Result<i64, String> {
        self.int("id")
    }

    fn num(&self, key: &str) -> Result<f64, String> {
        let v = self.get(key).ok_or_else(|| format!("missing {key}"))?;
        v.parse()
            .map_err(|_| format!("{key}=\"{v}\" is not a number"))
    }
}
