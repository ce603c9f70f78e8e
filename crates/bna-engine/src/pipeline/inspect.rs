//! What the chosen input files contain, before anything is analysed: counts, extents and
//! whether the OSM extract covers the boundary plus the routing buffer. The app shows this
//! next to its Run form; it runs on a background thread because reading an extract takes time.

use std::path::PathBuf;

use geo::{Area, BoundingRect, Contains, Distance, Euclidean, Intersects, MultiPolygon, Rect};

use crate::ingest::{boundary, census, jobs, osm};
use crate::params::OSM_CLIP_BUFFER_M;
use crate::progress::StageProgress;
use crate::spatial::Projection;

use super::PipelineError;

/// How much of boundary ⊕ [`OSM_CLIP_BUFFER_M`] an extract's node extent covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The extract and the boundary do not overlap: the wrong place.
    Outside,
    /// Part of the boundary lies outside the extract.
    Partial,
    /// The boundary is covered, the routing buffer around it only partly.
    BoundaryOnly,
    /// Boundary and buffer are both inside the extract.
    Full,
}

impl Coverage {
    /// One line for the user.
    pub fn describe(self) -> String {
        let b = OSM_CLIP_BUFFER_M;
        match self {
            Coverage::Outside => "the boundary lies outside the OSM extract".into(),
            Coverage::Partial => "the boundary extends beyond the OSM extract".into(),
            Coverage::BoundaryOnly => format!(
                "the extract covers the boundary but not all of the {b} m routing buffer; trips leaving it are cut short"
            ),
            Coverage::Full => format!("the extract covers the boundary and its {b} m routing buffer"),
        }
    }
}

/// Coverage of the lon/lat `boundary_ll` by the extract's lon/lat extent `extract_bbox`:
/// the boundary's extent must be inside; the buffer is measured from the real outline in the
/// boundary's UTM zone.
pub fn coverage(
    extract_bbox: Rect<f64>,
    boundary_ll: &MultiPolygon<f64>,
    proj: &Projection,
) -> Coverage {
    let extract = extract_bbox.to_polygon();
    // The boundary's extent, as the run checks it: the run refuses what this calls
    // Outside or Partial, so both must agree.
    let Some(outline) = boundary_ll.bounding_rect().map(|r| r.to_polygon()) else {
        return Coverage::Outside;
    };
    if !extract.intersects(&outline) {
        return Coverage::Outside;
    }
    if !extract.contains(&outline) {
        return Coverage::Partial;
    }
    // The buffer is inside when the boundary is at least the buffer away from every edge.
    let extract_m = proj.project(&extract);
    let boundary_m = proj.project(boundary_ll);
    if Euclidean.distance(extract_m.exterior(), &boundary_m) >= OSM_CLIP_BUFFER_M {
        Coverage::Full
    } else {
        Coverage::BoundaryOnly
    }
}

/// The files to look at; any may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct InputFiles {
    pub boundary: Option<PathBuf>,
    pub osm: Option<PathBuf>,
    pub blocks: Option<PathBuf>,
    pub jobs: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoundarySummary {
    pub polygons: usize,
    pub bbox: Rect<f64>,
    pub area_km2: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OsmSummary {
    pub nodes: u64,
    pub ways: u64,
    pub relations: u64,
    /// Ways with a highway tag the analysis imports.
    pub highway_ways: usize,
    /// Point and area features with destination tags.
    pub pois: usize,
    /// Extent of every node.
    pub bbox: Option<Rect<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlocksSummary {
    pub blocks: usize,
    /// Total population; `None` when the file has no population column.
    pub population: Option<f64>,
    pub bbox: Option<Rect<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobsSummary {
    /// Workplace blocks (`w_geocode`) in the file.
    pub geocodes: usize,
    pub jobs: f64,
    /// How many of them are blocks of the census file, when one was given and read.
    pub matching_blocks: Option<usize>,
}

/// Each file's summary, or the one-line reason it cannot be used (naming the file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputsSummary {
    pub boundary: Option<Result<BoundarySummary, String>>,
    pub osm: Option<Result<OsmSummary, String>>,
    pub blocks: Option<Result<BlocksSummary, String>>,
    pub jobs: Option<Result<JobsSummary, String>>,
    /// Known once both the boundary and the extract were read.
    pub coverage: Option<Coverage>,
}

fn bbox_union(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> Option<Rect<f64>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Rect::new(
            geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )),
        (a, b) => a.or(b),
    }
}

/// Reads every given file with the engine's own readers (the same checks as a run) and
/// summarises it. Only cancellation is an error; a bad file is reported in its slot.
pub fn inspect_inputs(
    files: &InputFiles,
    progress: &dyn StageProgress,
) -> Result<InputsSummary, PipelineError> {
    let mut out = InputsSummary::default();
    let mut boundary_ll = None;
    if let Some(p) = &files.boundary {
        out.boundary = Some(match boundary::load_boundary(p) {
            Ok(mp) => {
                let proj = Projection::for_boundary(&mp).ok();
                let s = BoundarySummary {
                    polygons: mp.0.len(),
                    bbox: mp
                        .bounding_rect()
                        .unwrap_or(Rect::new((0.0, 0.0), (0.0, 0.0))),
                    area_km2: proj.map_or(0.0, |pr| pr.project(&mp).unsigned_area() / 1e6),
                };
                boundary_ll = proj.map(|pr| (mp, pr));
                Ok(s)
            }
            Err(e) => Err(e.to_string()),
        });
    }
    progress.check()?;
    if let Some(p) = &files.osm {
        out.osm = Some(match osm::read_osm(p, progress) {
            Ok(x) => {
                if let (Some(bbox), Some((b, proj))) = (x.bbox_ll, &boundary_ll) {
                    out.coverage = Some(coverage(bbox, b, proj));
                }
                Ok(OsmSummary {
                    nodes: x.node_count,
                    ways: x.way_count,
                    relations: x.relation_count,
                    highway_ways: x.highway_ways.len(),
                    pois: x.poi_nodes.len() + x.poi_areas.len(),
                    bbox: x.bbox_ll,
                })
            }
            Err(osm::OsmReadError::Cancelled(_)) => return Err(PipelineError::Cancelled),
            Err(osm::OsmReadError::Ingest(e)) => Err(e.to_string()),
        });
    }
    progress.check()?;
    let mut geoids = None;
    if let Some(p) = &files.blocks {
        out.blocks = Some(match census::load_blocks(p) {
            Ok(raw) => {
                let population = census::has_population(&raw)
                    .then(|| raw.iter().filter_map(|b| b.population).sum());
                let bbox = raw
                    .iter()
                    .map(|b| b.geom_ll.bounding_rect())
                    .fold(None, bbox_union);
                geoids = Some(
                    raw.iter()
                        .map(|b| b.geoid.clone())
                        .collect::<std::collections::HashSet<_>>(),
                );
                Ok(BlocksSummary {
                    blocks: raw.len(),
                    population,
                    bbox,
                })
            }
            Err(e) => Err(e.to_string()),
        });
    }
    progress.check()?;
    if let Some(p) = &files.jobs {
        out.jobs = Some(match jobs::load_jobs(p) {
            Ok(j) => Ok(JobsSummary {
                geocodes: j.len(),
                jobs: j.values().sum(),
                matching_blocks: geoids
                    .as_ref()
                    .map(|g| j.keys().filter(|k| g.contains(*k)).count()),
            }),
            Err(e) => Err(e.to_string()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, d: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Rect::new((x0, y0), (x0 + d, y0 + d)).to_polygon()])
    }

    #[test]
    fn coverage_table() {
        // A 0.01° boundary near DC; 2680 m is about 0.031° of latitude, 0.040° of longitude.
        let b = square(-77.03, 38.92, 0.01);
        let proj = Projection::for_boundary(&b).expect("zone");
        let rows = [
            (Rect::new((-78.0, 40.0), (-77.5, 40.5)), Coverage::Outside),
            (
                Rect::new((-77.025, 38.90), (-76.9, 39.0)),
                Coverage::Partial,
            ),
            (
                Rect::new((-77.04, 38.91), (-77.01, 38.94)),
                Coverage::BoundaryOnly,
            ),
            (Rect::new((-77.10, 38.86), (-76.95, 38.99)), Coverage::Full),
        ];
        for (extract, want) in rows {
            assert_eq!(coverage(extract, &b, &proj), want, "{extract:?}");
        }
    }
}
