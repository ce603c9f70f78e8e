//! Reading an `.osm.pbf` extract: the highway ways the reference imports (spec §3.1), the nodes
//! that control intersections (§3.4), and tagged objects that may be destinations (§6.2).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use geo::{Coord, Distance, Euclidean, LineString, MultiPolygon, Polygon, Rect};
use osmpbf::{BlobDecode, BlobReader, Element, PrimitiveBlock, RelMemberType};
use rayon::prelude::*;

use super::node_uses::{count_node_uses, export_chunks, IdHash};
use super::osm2pgsql;
use super::osm_clip::ReferenceClip;
use super::IngestError;
use crate::model::{OsmFeature, OsmKind, Tags};
use crate::progress::{Cancelled, StageProgress};
use crate::spatial::Projection;

/// `highway=*` values imported as routable candidates (`mapconfig_highway.xml`, spec §3.1).
pub const IMPORTED_HIGHWAYS: [&str; 26] = [
    "road",
    "motorway",
    "motorway_link",
    "motorway_junction",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "residential",
    "living_street",
    "service",
    "track",
    "pedestrian",
    "services",
    "bus_guideway",
    "path",
    "cycleway",
    "footway",
    "bridleway",
    "byway",
    "steps",
    "unclassified",
];

/// Node tags that matter for intersection control (§3.4) or splitting (§3.2).
const CONTROL_HIGHWAY_VALUES: [&str; 4] =
    ["traffic_signals", "crossing", "stop", "motorway_junction"];

/// Keys whose presence makes an object a destination candidate; the exact category filters
/// live in `analysis::destinations`.
const POI_KEYS: [&str; 8] = [
    "amenity",
    "shop",
    "leisure",
    "healthcare",
    "landuse",
    "building",
    "railway",
    "public_transport",
];

#[derive(Debug, Clone)]
pub struct OsmWay {
    pub id: i64,
    pub nodes: Vec<i64>,
    pub tags: Tags,
}

/// The raw content of an extract that the analysis needs, in lon/lat.
#[derive(Debug, Default)]
pub struct OsmExtract {
    /// Bounding box of every node in the file.
    pub bbox_ll: Option<Rect<f64>>,
    pub node_coords: HashMap<i64, Coord<f64>>,
    /// Tagged nodes relevant to intersections (signals, crossings, stops, motorway junctions).
    pub control_nodes: HashMap<i64, Tags>,
    pub highway_ways: Vec<OsmWay>,
    /// How often each node of a highway way is used, as osm2pgrouting counts it to split
    /// ways (`ingest::node_uses`): references from every way of the extract (after the
    /// reference's cuts, in `--osm-clip boundary`), whatever its tags.
    pub node_uses: HashMap<i64, u32, IdHash>,
    /// osm2pgrouting's export chunk of each highway way (`ingest::node_uses::export_chunks`),
    /// which decides which of two identical pieces it keeps.
    pub way_chunks: HashMap<i64, u32, IdHash>,
    pub poi_nodes: Vec<(i64, Coord<f64>, Tags)>,
    /// Closed ways and multipolygon relations with POI or water tags, lon/lat.
    pub poi_areas: Vec<(i64, OsmKind, Tags, MultiPolygon<f64>)>,
    pub node_count: u64,
    pub way_count: u64,
    pub relation_count: u64,
}

/// A multipolygon relation with POI tags: id, tags, (member way id, role).
type PoiRelation = (i64, Tags, Vec<(i64, String)>);

fn tags_of<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    it.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn is_poi(tags: &Tags) -> bool {
    POI_KEYS.iter().any(|k| tags.contains_key(*k))
}

fn is_control(tags: &Tags) -> bool {
    tags.get("highway")
        .is_some_and(|h| CONTROL_HIGHWAY_VALUES.contains(&h.as_str()))
}

/// Lakes, ponds, rivers drawn as areas and reservoirs: the water of the app's offline basemap.
/// They are read with the POI areas (same closed-way and multipolygon assembly) and never
/// become destinations, since no §6.2 category matches these tags.
pub fn is_water_area(tags: &Tags) -> bool {
    let is = |k: &str, values: &[&str]| tags.get(k).is_some_and(|v| values.contains(&v.as_str()));
    is("natural", &["water"])
        || is("waterway", &["riverbank"])
        || is("landuse", &["reservoir", "basin"])
}

fn is_area_wanted(tags: &Tags) -> bool {
    is_poi(tags) || is_water_area(tags)
}

/// A closed way read as an area: a POI as osm2pgsql decides it (every POI key is one the
/// style flags `polygon`, so only `area=no` keeps it a line), or water for the basemap.
fn is_area_way(nodes: &[i64], tags: &Tags) -> bool {
    nodes.len() >= 4
        && ((is_poi(tags) && osm2pgsql::way_is_area(nodes, tags))
            || (is_water_area(tags) && osm2pgsql::is_closed(nodes)))
}

/// Multipolygon and boundary relations (both areas for osm2pgsql) with POI or water tags.
fn is_multipolygon_poi(tags: &Tags) -> bool {
    osm2pgsql::relation_is_area(tags) && is_area_wanted(tags)
}

pub fn is_imported_highway(tags: &Tags) -> bool {
    tags.get("highway")
        .is_some_and(|h| IMPORTED_HIGHWAYS.contains(&h.as_str()))
}

/// Blobs decoded together, per thread: enough to keep every core busy, few enough that the
/// decoded blocks waiting to be merged stay small next to the extract itself.
const BLOBS_PER_THREAD: usize = 4;

/// The extract being assembled from the elements, in file order.
struct Assembly {
    x: OsmExtract,
    other_way_refs: HashMap<i64, Vec<i64>>,
    poi_ways: Vec<OsmWay>,
    relations: Vec<PoiRelation>,
    /// Nodes tagged with an imported `highway=*` value, which osm2pgrouting counts twice more.
    configured_nodes: HashSet<i64>,
    min: Coord<f64>,
    max: Coord<f64>,
    /// The area the file says it was cut to (PBF header bbox, XML `<bounds>`).
    declared: Option<Rect<f64>>,
}

impl Assembly {
    fn new() -> Self {
        Self {
            x: OsmExtract::default(),
            other_way_refs: HashMap::new(),
            poi_ways: Vec::new(),
            relations: Vec::new(),
            configured_nodes: HashSet::new(),
            declared: None,
            min: Coord {
                x: f64::MAX,
                y: f64::MAX,
            },
            max: Coord {
                x: f64::MIN,
                y: f64::MIN,
            },
        }
    }

    fn node(&mut self, id: i64, c: Coord<f64>, tags: Tags) {
        self.min.x = self.min.x.min(c.x);
        self.min.y = self.min.y.min(c.y);
        self.max.x = self.max.x.max(c.x);
        self.max.y = self.max.y.max(c.y);
        self.x.node_coords.insert(id, c);
        self.x.node_count += 1;
        if tags.is_empty() {
            return;
        }
        if is_control(&tags) {
            self.x.control_nodes.insert(id, tags.clone());
        }
        if is_imported_highway(&tags) {
            self.configured_nodes.insert(id);
        }
        if is_poi(&tags) {
            self.x.poi_nodes.push((id, c, tags));
        }
    }

    fn add(&mut self, el: Element<'_>) {
        match el {
            Element::Node(n) => {
                let c = Coord {
                    x: n.lon(),
                    y: n.lat(),
                };
                self.node(n.id(), c, tags_of(n.tags()));
            }
            Element::DenseNode(n) => {
                let c = Coord {
                    x: n.lon(),
                    y: n.lat(),
                };
                self.node(n.id(), c, tags_of(n.tags()));
            }
            Element::Way(w) => self.way(w.id(), w.refs().collect(), tags_of(w.tags())),
            Element::Relation(r) => {
                let tags = tags_of(r.tags());
                let wanted = is_multipolygon_poi(&tags);
                let members = r
                    .members()
                    .filter(|m| wanted && m.member_type == RelMemberType::Way)
                    .map(|m| (m.member_id, m.role().unwrap_or("").to_owned()))
                    .collect();
                self.relation(r.id(), tags, members);
            }
        }
    }

    fn way(&mut self, id: i64, nodes: Vec<i64>, tags: Tags) {
        self.x.way_count += 1;
        let area = is_area_way(&nodes, &tags);
        if is_imported_highway(&tags) {
            // A closed highway way with a POI tag (a park's footway loop, a parking lot's
            // service road) is a destination area for osm2pgsql, and a way to split.
            if area {
                self.poi_ways.push(OsmWay {
                    id,
                    nodes: nodes.clone(),
                    tags: tags.clone(),
                });
            }
            self.x.highway_ways.push(OsmWay { id, nodes, tags });
        } else if area {
            self.poi_ways.push(OsmWay { id, nodes, tags });
        } else {
            // Kept only because multipolygon relations (read later) may use them.
            self.other_way_refs.insert(id, nodes);
        }
    }

    /// `members`: (way id, role) of the relation's way members.
    fn relation(&mut self, id: i64, tags: Tags, members: Vec<(i64, String)>) {
        self.x.relation_count += 1;
        if is_multipolygon_poi(&tags) {
            self.relations.push((id, tags, members));
        }
    }

    /// Applies the reference's two cuts (`ingest::osm_clip`) to every way of the file, before
    /// areas are assembled: a POI area cut open is no area any more, as for osm2pgsql.
    fn cut(&mut self, clip: &ReferenceClip) {
        let all_ways = self
            .x
            .highway_ways
            .iter()
            .chain(&self.poi_ways)
            .map(|w| w.nodes.as_slice())
            .chain(self.other_way_refs.values().map(Vec::as_slice));
        let cut = clip.cut(&self.x.node_coords, all_ways);
        let keep_way = |w: &mut OsmWay| match cut.way(&w.nodes) {
            Some(nodes) => {
                w.nodes = nodes;
                true
            }
            None => false,
        };
        self.x.highway_ways.retain_mut(keep_way);
        self.poi_ways.retain_mut(keep_way);
        self.other_way_refs.retain(|_, nodes| match cut.way(nodes) {
            Some(kept) => {
                *nodes = kept;
                true
            }
            None => false,
        });
        self.x.node_coords.retain(|id, _| cut.keeps_node(*id));
        self.x.control_nodes.retain(|id, _| cut.keeps_node(*id));
        self.x.poi_nodes.retain(|(id, _, _)| cut.keeps_node(*id));
        // Relations lose the member ways the cuts dropped (osmconvert's dropped references).
        let ways_left: HashSet<i64> = self
            .x
            .highway_ways
            .iter()
            .chain(&self.poi_ways)
            .map(|w| w.id)
            .chain(self.other_way_refs.keys().copied())
            .collect();
        for (_, _, members) in &mut self.relations {
            members.retain(|(id, _)| ways_left.contains(id));
        }
    }

    /// Bounding box, POI areas and multipolygons, once every element is in. With a `clip`, the
    /// extent stays the file's (it says what the user gave) and everything else is what the
    /// reference's cuts leave.
    fn finish(
        mut self,
        path: &Path,
        clip: Option<&ReferenceClip>,
    ) -> Result<OsmExtract, OsmReadError> {
        if self.x.node_count == 0 {
            return Err(IngestError::invalid(path, "the extract contains no nodes").into());
        }
        self.x.bbox_ll = Some(extract_extent(Rect::new(self.min, self.max), self.declared));
        if let Some(clip) = clip {
            self.cut(clip);
        }
        // A highway way that is also an area is in both lists: counted once, as one way.
        let highway_ids: HashSet<i64> = self.x.highway_ways.iter().map(|w| w.id).collect();
        self.x.node_uses = count_node_uses(
            self.x.highway_ways.iter().map(|w| w.nodes.as_slice()),
            self.x
                .highway_ways
                .iter()
                .chain(
                    self.poi_ways
                        .iter()
                        .filter(|w| !highway_ids.contains(&w.id)),
                )
                .map(|w| w.nodes.as_slice())
                .chain(self.other_way_refs.values().map(Vec::as_slice)),
            &self.configured_nodes,
        );
        self.x.way_chunks = export_chunks(
            self.x
                .highway_ways
                .iter()
                .chain(&self.poi_ways)
                .map(|w| w.id)
                .chain(self.other_way_refs.keys().copied()),
            self.x.highway_ways.iter().map(|w| w.id),
        );
        let Assembly {
            mut x,
            mut other_way_refs,
            poi_ways,
            relations,
            ..
        } = self;
        if !relations.is_empty() {
            // Highway and POI ways can be members too (a park's outline tagged
            // `landuse=grass`); copying their node lists is only worth it when there are
            // relations to assemble.
            for w in x.highway_ways.iter().chain(&poi_ways) {
                other_way_refs
                    .entry(w.id)
                    .or_insert_with(|| w.nodes.clone());
            }
        }
        for w in poi_ways {
            if let Some(ring) = ring_coords(&w.nodes, &x.node_coords) {
                let mp = MultiPolygon::new(vec![Polygon::new(ring, vec![])]);
                if osm2pgsql::area_is_valid(&mp) {
                    x.poi_areas.push((w.id, OsmKind::Way, w.tags, mp));
                }
            }
        }
        for (id, tags, members) in relations {
            if let Some(mp) = assemble_multipolygon(&members, &other_way_refs, &x.node_coords) {
                x.poi_areas.push((id, OsmKind::Relation, tags, mp));
            }
        }
        Ok(x)
    }
}

/// What the extract covers: its nodes' extent, grown to the area the file declares it was cut
/// to. An extract cut to a boundary's bounding box (as brokenspoke-analyzer cuts its own) has
/// no node exactly on each edge of the box, so its nodes alone would seem to stop metres short
/// of the boundary it was made for. Declared areas that are not longitude/latitude are ignored.
pub(crate) fn extract_extent(nodes: Rect<f64>, declared: Option<Rect<f64>>) -> Rect<f64> {
    let lon_lat = |r: &Rect<f64>| {
        let (a, b) = (r.min(), r.max());
        [a.x, a.y, b.x, b.y].iter().all(|v| v.is_finite())
            && (-180.0..=180.0).contains(&a.x)
            && (-180.0..=180.0).contains(&b.x)
            && (-90.0..=90.0).contains(&a.y)
            && (-90.0..=90.0).contains(&b.y)
    };
    match declared.filter(lon_lat) {
        Some(d) => Rect::new(
            Coord {
                x: nodes.min().x.min(d.min().x),
                y: nodes.min().y.min(d.min().y),
            },
            Coord {
                x: nodes.max().x.max(d.max().x),
                y: nodes.max().y.max(d.max().y),
            },
        ),
        None => nodes,
    }
}

/// One decoded blob: elements, or the header's declared extent.
enum Decoded {
    Data(PrimitiveBlock),
    Bounds(Rect<f64>),
    Nothing,
}

/// Decompresses and parses one blob.
fn decode_block(blob: &osmpbf::Blob) -> Result<Decoded, osmpbf::Error> {
    Ok(match blob.decode()? {
        BlobDecode::OsmData(block) => Decoded::Data(block),
        BlobDecode::OsmHeader(h) => match h.bbox() {
            Some(b) => Decoded::Bounds(Rect::new(
                Coord {
                    x: b.left,
                    y: b.bottom,
                },
                Coord {
                    x: b.right,
                    y: b.top,
                },
            )),
            None => Decoded::Nothing,
        },
        BlobDecode::Unknown(_) => Decoded::Nothing,
    })
}

/// Reads the whole extract. `progress` counts bytes; cancellation is checked between batches
/// of blocks so that a large file can be abandoned quickly.
///
/// Decompressing and parsing the blocks (most of the reading time) runs in parallel, a batch
/// at a time; their elements are then taken in file order on this thread, which also keeps
/// the long-lived allocations out of the worker threads' malloc arenas (where they raised the
/// peak memory by a quarter).
pub fn read_osm(path: &Path, progress: &dyn StageProgress) -> Result<OsmExtract, OsmReadError> {
    read_osm_clipped(path, progress, None)
}

/// [`read_osm`], then the reference's cuts (`--osm-clip boundary`) when `clip` is given.
pub fn read_osm_clipped(
    path: &Path,
    progress: &dyn StageProgress,
    clip: Option<&ReferenceClip>,
) -> Result<OsmExtract, OsmReadError> {
    // A device or pipe would never end (or never start): refused before it is opened.
    let size = super::check_input_file(path)?;
    progress.set_total(size);
    let format = check_pbf_magic(path)?;
    if let Format::Xml { gzip } = format {
        // Overpass API answers (what `bna fetch` downloads) are OSM XML; brokenspoke-analyzer
        // keeps its extracts as gzipped XML (`.osm.gz`).
        let mut asm = Assembly::new();
        super::osm_xml::read_xml(path, gzip, progress, |el| match el {
            super::osm_xml::XmlElement::Node(id, c, tags) => asm.node(id, c, tags),
            super::osm_xml::XmlElement::Way(id, nodes, tags) => asm.way(id, nodes, tags),
            super::osm_xml::XmlElement::Relation(id, tags, members) => {
                asm.relation(id, tags, members)
            }
            super::osm_xml::XmlElement::Bounds(b) => asm.declared = Some(b),
        })?;
        progress.inc(size);
        return asm.finish(path, clip);
    }
    let mut blobs = BlobReader::from_path(path).map_err(|e| IngestError::io(path, io_err(e)))?;
    let unreadable = |e: osmpbf::Error| {
        IngestError::invalid(
            path,
            format!("not a readable OpenStreetMap PBF file ({e}); re-download the extract"),
        )
    };
    let mut asm = Assembly::new();
    let batch_size = BLOBS_PER_THREAD * rayon::current_num_threads();
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        if progress.is_cancelled() {
            return Err(OsmReadError::Cancelled(Cancelled));
        }
        batch.clear();
        for blob in blobs.by_ref().take(batch_size) {
            batch.push(blob.map_err(unreadable)?);
        }
        if batch.is_empty() {
            break;
        }
        let blocks: Vec<Decoded> = batch
            .par_iter()
            .map(decode_block)
            .collect::<Result<_, _>>()
            .map_err(unreadable)?;
        for decoded in blocks {
            match decoded {
                Decoded::Data(block) => block.for_each_element(|el| asm.add(el)),
                Decoded::Bounds(b) => asm.declared = Some(b),
                Decoded::Nothing => {}
            }
        }
    }
    progress.inc(size);
    asm.finish(path, clip)
}

#[derive(Debug, thiserror::Error)]
pub enum OsmReadError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

fn io_err(e: osmpbf::Error) -> std::io::Error {
    match e.into_kind() {
        osmpbf::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pbf,
    Xml { gzip: bool },
}

/// The first bytes of a gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A PBF file starts with a 4-byte big-endian header length followed by a BlobHeader whose
/// first field is the string "OSMHeader"; OSM XML starts with `<?xml` or `<osm`. Checking this
/// up front gives a clear message for a GeoJSON or an HTML error page saved under an OSM name.
fn check_pbf_magic(path: &Path) -> Result<Format, IngestError> {
    use std::io::Read;
    let mut head = [0u8; 64];
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let n = f.read(&mut head).map_err(|e| IngestError::io(path, e))?;
    if head[..n].windows(9).any(|w| w == b"OSMHeader") {
        return Ok(Format::Pbf);
    }
    let gzip = head[..n].starts_with(&GZIP_MAGIC);
    let n = if gzip {
        // A damaged stream reads as no text, and is refused below like any other file.
        let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
        let mut unzipped = flate2::read::GzDecoder::new(file).take(head.len() as u64);
        let mut text = Vec::with_capacity(head.len());
        let _ = unzipped.read_to_end(&mut text);
        head[..text.len()].copy_from_slice(&text);
        text.len()
    } else {
        n
    };
    let text = String::from_utf8_lossy(&head[..n]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with("<?xml") || text.starts_with("<osm") {
        return Ok(Format::Xml { gzip });
    }
    Err(IngestError::invalid(
        path,
        "not an OpenStreetMap file: expected an .osm.pbf extract (e.g. from Geofabrik or \
         `osmium extract`) or OSM XML, plain or gzipped (e.g. from the Overpass API or \
         `bna fetch`)",
    ))
}

fn ring_coords(nodes: &[i64], coords: &HashMap<i64, Coord<f64>>) -> Option<LineString<f64>> {
    let pts: Option<Vec<Coord<f64>>> = nodes.iter().map(|n| coords.get(n).copied()).collect();
    let pts = pts?;
    (pts.len() >= 4 && pts.first() == pts.last()).then(|| LineString::new(pts))
}

/// Joins member ways end to end into closed rings and nests them as osmium's area assembler
/// (osm2pgsql 1.8) does: roles are ignored, a ring inside an odd number of others is a hole of
/// the smallest ring around it, the others are outer rings. A relation whose member ways do not
/// all close into rings, or whose rings cross, is no area (`osm2pgsql::area_is_valid`).
fn assemble_multipolygon(
    members: &[(i64, String)],
    way_refs: &HashMap<i64, Vec<i64>>,
    coords: &HashMap<i64, Coord<f64>>,
) -> Option<MultiPolygon<f64>> {
    use geo::{Area, BoundingRect, Contains};
    let ways: Vec<&Vec<i64>> = members
        .iter()
        .filter_map(|(id, _)| way_refs.get(id))
        .collect();
    let rings: Vec<LineString<f64>> = join_rings(ways)?
        .iter()
        .map(|ring| ring_coords(ring, coords))
        .collect::<Option<_>>()?;
    let shapes: Vec<Polygon<f64>> = rings
        .iter()
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    let boxes: Vec<Option<geo::Rect<f64>>> = rings.iter().map(|r| r.bounding_rect()).collect();
    let box_within = |i: usize, j: usize| match (boxes[i], boxes[j]) {
        (Some(a), Some(b)) => {
            a.min().x >= b.min().x
                && a.min().y >= b.min().y
                && a.max().x <= b.max().x
                && a.max().y <= b.max().y
        }
        _ => false,
    };
    // For each ring, the rings around it (a corner strictly inside decides; rings touching
    // at corners do not contain each other's corners).
    let around: Vec<Vec<usize>> = (0..rings.len())
        .map(|i| {
            (0..rings.len())
                .filter(|&j| {
                    j != i
                        && box_within(i, j)
                        && rings[i]
                            .0
                            .iter()
                            .any(|c| shapes[j].contains(&geo::Point(*c)))
                })
                .collect()
        })
        .collect();
    let outer: Vec<usize> = (0..rings.len())
        .filter(|&i| around[i].len() % 2 == 0)
        .collect();
    let mut polys: Vec<Polygon<f64>> = outer.iter().map(|&i| shapes[i].clone()).collect();
    for i in (0..rings.len()).filter(|&i| around[i].len() % 2 == 1) {
        let smallest = outer
            .iter()
            .enumerate()
            .filter(|(_, o)| around[i].contains(o))
            .min_by(|a, b| {
                shapes[*a.1]
                    .unsigned_area()
                    .total_cmp(&shapes[*b.1].unsigned_area())
            })
            .map(|(k, _)| k)?;
        polys[smallest].interiors_push(rings[i].clone());
    }
    let mp = MultiPolygon::new(polys);
    (!mp.0.is_empty() && osm2pgsql::area_is_valid(&mp)).then_some(mp)
}

/// Every member way joined into closed rings, or `None` when some are left open.
fn join_rings(ways: Vec<&Vec<i64>>) -> Option<Vec<Vec<i64>>> {
    let mut pending: Vec<Vec<i64>> = ways.into_iter().filter(|w| w.len() >= 2).cloned().collect();
    let mut rings = Vec::new();
    while let Some(mut ring) = pending.pop() {
        while ring.first() != ring.last() {
            let end = *ring.last().expect("non-empty");
            let Some(i) = pending
                .iter()
                .position(|w| w.first() == Some(&end) || w.last() == Some(&end))
            else {
                break;
            };
            let mut next = pending.swap_remove(i);
            if next.first() != Some(&end) {
                next.reverse();
            }
            ring.extend_from_slice(&next[1..]);
        }
        if ring.len() < 4 || ring.first() != ring.last() {
            return None;
        }
        rings.push(ring);
    }
    Some(rings)
}

/// POIs (nodes and areas) within `buffer_m` of the boundary, in metric coordinates (§6.2 reads
/// tags after the 2680 m clip).
pub fn poi_features(
    extract: &OsmExtract,
    proj: &Projection,
    boundary: &MultiPolygon<f64>,
    buffer_m: f64,
) -> Vec<OsmFeature> {
    let near = |g: &geo::Geometry<f64>| Euclidean.distance(g, boundary) <= buffer_m;
    let mut out = Vec::new();
    for (id, c, tags) in &extract.poi_nodes {
        let p = geo::Point::from(proj.forward(*c));
        if near(&geo::Geometry::Point(p)) {
            out.push(OsmFeature {
                osm_id: *id,
                kind: OsmKind::Node,
                tags: tags.clone(),
                point: Some(p),
                area: None,
            });
        }
    }
    for (id, kind, tags, area_ll) in &extract.poi_areas {
        let area = proj.project(area_ll);
        if near(&geo::Geometry::MultiPolygon(area.clone())) {
            out.push(OsmFeature {
                osm_id: *id,
                kind: *kind,
                tags: tags.clone(),
                point: None,
                area: Some(area),
            });
        }
    }
    out
}

/// Nodes referenced by the highway ways but absent from the file (a clipped extract). Such
/// ways are truncated at the missing nodes, as `osmconvert --drop-broken-refs` does upstream.
pub fn missing_highway_nodes(extract: &OsmExtract) -> usize {
    let mut missing = HashSet::new();
    for w in &extract.highway_ways {
        for n in &w.nodes {
            if !extract.node_coords.contains_key(n) {
                missing.insert(*n);
            }
        }
    }
    missing.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Counter;

    fn data(p: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(p)
    }

    #[test]
    fn reads_dc_highways() {
        let x = read_osm(
            &data("us-dc/dc-nw-2016-highways.osm.pbf"),
            &Counter::default(),
        )
        .unwrap();
        // README: 50,639 nodes, 8,593 ways with highway=*, of which the imported classes are most.
        assert_eq!(x.node_count, 50_639);
        assert!(x.highway_ways.len() > 8_000 && x.highway_ways.len() <= 8_593);
        let bbox = x.bbox_ll.unwrap();
        assert!((bbox.min().x - -77.10652).abs() < 1e-3);
        assert!(!x.control_nodes.is_empty(), "DC has traffic signals");
    }

    #[test]
    fn reads_helsinki_pois_and_areas() {
        let x = read_osm(
            &data("helsinki/helsinki-center.osm.pbf"),
            &Counter::default(),
        )
        .unwrap();
        assert!(x.poi_nodes.len() > 1_000, "{}", x.poi_nodes.len());
        assert!(x.poi_areas.iter().any(|a| a.1 == OsmKind::Way));
    }

    #[test]
    fn rejects_non_osm_with_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.osm.pbf");
        std::fs::write(&p, r#"{"type": "FeatureCollection", "features": []}"#).unwrap();
        let e = read_osm(&p, &Counter::default()).unwrap_err().to_string();
        assert!(
            e.contains("x.osm.pbf") && e.contains("not an OpenStreetMap file"),
            "{e}"
        );
    }

    #[test]
    fn empty_xml_has_no_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.osm");
        std::fs::write(&p, "<?xml version='1.0'?><osm></osm>").unwrap();
        let e = read_osm(&p, &Counter::default()).unwrap_err().to_string();
        assert!(e.contains("x.osm") && e.contains("no nodes"), "{e}");
    }

    #[test]
    fn the_extent_is_the_nodes_grown_to_the_declared_area() {
        let r = |x0, y0, x1, y1| Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 });
        let nodes = r(-77.03667, 38.91915, -77.01783, 38.93743);
        let cases = [
            (None, nodes),
            // Cut to a box: no node on its edges, the box is what it covers.
            (
                Some(r(-77.036707, 38.919145, -77.017807, 38.937427)),
                r(-77.036707, 38.919145, -77.017807, 38.93743),
            ),
            // complete_ways keeps nodes beyond the declared box: those count too.
            (Some(r(-77.03, 38.92, -77.02, 38.93)), nodes),
            // A declared area that is not longitude/latitude is ignored.
            (
                Some(r(320_000.0, 4_310_000.0, 330_000.0, 4_320_000.0)),
                nodes,
            ),
            (Some(r(f64::NAN, 0.0, 1.0, 1.0)), nodes),
        ];
        for (declared, want) in cases {
            assert_eq!(extract_extent(nodes, declared), want, "{declared:?}");
        }
    }

    #[test]
    fn gzipped_xml_reads_like_plain_xml_with_its_bounds() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let xml = "<?xml version='1.0'?><osm><bounds minlat=\"38.9\" minlon=\"-77.1\" \
                   maxlat=\"39.0\" maxlon=\"-77.0\"/><node id=\"1\" lat=\"38.95\" lon=\"-77.05\"/>\
                   <node id=\"2\" lat=\"38.96\" lon=\"-77.04\"/></osm>";
        let plain = dir.path().join("x.osm");
        std::fs::write(&plain, xml).unwrap();
        let gz = dir.path().join("x.osm.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for p in [&plain, &gz] {
            let x = read_osm(p, &Counter::default()).unwrap();
            assert_eq!(x.node_count, 2, "{}", p.display());
            let b = x.bbox_ll.unwrap();
            assert_eq!((b.min().x, b.max().y), (-77.1, 39.0), "{}", p.display());
        }
        // A gzip that is not OSM XML is refused like any other file.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"{\"type\": \"FeatureCollection\"}").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let e = read_osm(&gz, &Counter::default()).unwrap_err().to_string();
        assert!(e.contains("not an OpenStreetMap file"), "{e}");
    }

    #[test]
    fn an_overpass_answer_that_gave_up_names_overpass_not_missing_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.osm");
        let cases = [
            (
                "runtime error: Query timed out in \"query\" at line 3 after 901 seconds.",
                true,
            ),
            (
                "runtime error: Query run out of memory using about 2048 MB of RAM.",
                true,
            ),
            (
                "runtime remark: Timeout is 180 and maxsize is 536870912.",
                false,
            ),
        ];
        for (remark, refused) in cases {
            let node = "<node id=\"1\" lat=\"38.9\" lon=\"-77.0\"/>";
            let xml = format!("<?xml version='1.0'?><osm>{node}<remark> {remark} </remark></osm>");
            std::fs::write(&p, xml).unwrap();
            let r = read_osm(&p, &Counter::default());
            assert_eq!(r.is_err(), refused, "{remark}");
            if let Err(e) = r {
                let e = e.to_string();
                assert!(e.contains("x.osm") && e.contains("Overpass") && e.contains(remark));
                assert!(!e.contains("no nodes"), "{e}");
            }
        }
    }

    #[test]
    fn missing_file_names_path() {
        let e = read_osm(Path::new("/nonexistent/a.pbf"), &Counter::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/a.pbf") && e.contains("not found"),
            "{e}"
        );
    }

    /// `tests/fixtures/osm2pgsql-areas/areas.osm` holds crafted closed ways and relations
    /// (`area=no`, a bow tie, a spike, boundary relations, overlapping or open rings, tagged
    /// outer ways, highway loops with a POI tag); `osm2pgsql-1.8.0-tables.csv` is where
    /// osm2pgsql 1.8.0 with the reference's `pfb.style` put each (relations negative). Every
    /// destination-tagged object it made a polygon of must be a POI area here, and no other.
    #[test]
    fn poi_areas_are_the_polygons_osm2pgsql_makes() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/osm2pgsql-areas");
        let x = read_osm(&dir.join("areas.osm"), &Counter::default()).unwrap();
        let mut got: Vec<i64> = x
            .poi_areas
            .iter()
            .map(|(id, kind, _, _)| if *kind == OsmKind::Relation { -id } else { *id })
            .collect();
        got.sort();
        let table = std::fs::read_to_string(dir.join("osm2pgsql-1.8.0-tables.csv")).unwrap();
        let mut want: Vec<i64> = table
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            // amenity, leisure, building, landuse: the destination keys the file uses.
            .filter(|c| c[0] == "polygon" && c[2..6].iter().any(|v| !v.is_empty()))
            .map(|c| c[1].parse().unwrap())
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(got, want);
        // The highway loops with a POI tag are also ways to split.
        for id in [6, 13, 18] {
            assert!(x.highway_ways.iter().any(|w| w.id == id), "way {id}");
        }
    }

    /// Uses are counted on what the reference's cuts leave, as osm2pgrouting reads the cut
    /// file: a building that osmium's polygon step drops (no node inside the boundary) no
    /// longer splits the road it touches outside the boundary.
    #[test]
    fn node_uses_are_counted_after_the_cuts() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/osm2pgrouting-split/crafted.osm");
        let c = |x: f64, y: f64| Coord { x, y };
        // The boundary holds road 100's nodes 1 and 2 only; the box holds every node.
        let boundary = MultiPolygon::new(vec![Polygon::new(
            LineString::new(vec![
                c(-77.0305, 38.9195),
                c(-77.0285, 38.9195),
                c(-77.0285, 38.9205),
                c(-77.0305, 38.9205),
                c(-77.0305, 38.9195),
            ]),
            vec![],
        )]);
        let clip = ReferenceClip::new(&boundary, Rect::new(c(-77.031, 38.919), c(-77.025, 38.941)))
            .unwrap();
        let whole = read_osm(&file, &Counter::default()).unwrap();
        let cut = read_osm_clipped(&file, &Counter::default(), Some(&clip)).unwrap();
        // Node 2: road + highway=construction way (kept whole, its node 2 is inside);
        // node 3: road + building (twice, closed); node 4: road + landuse (twice, closed).
        let uses = |x: &OsmExtract, n: i64| x.node_uses.get(&n).copied();
        assert_eq!(
            [2, 3, 4].map(|n| uses(&whole, n)),
            [Some(2), Some(3), Some(3)]
        );
        assert_eq!(
            [2, 3, 4].map(|n| uses(&cut, n)),
            [Some(2), Some(1), Some(1)]
        );
        // Road 500 has no node inside: gone, and nothing counted for it.
        assert_eq!(uses(&cut, 21), None);
    }

    #[test]
    fn joins_rings_in_any_direction() {
        let a = vec![1, 2, 3];
        let b = vec![1, 4, 3];
        let rings = join_rings(vec![&a, &b]).unwrap();
        assert_eq!(rings.len(), 1);
        assert_eq!(rings[0].first(), rings[0].last());
        assert_eq!(rings[0].len(), 5);
    }
}
