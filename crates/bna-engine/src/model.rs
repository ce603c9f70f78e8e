//! Domain types shared by every pipeline layer. Plain data, no behaviour: the rules live in
//! `network`, `analysis`; persistence in `store`. Geometry in these types is in the project's
//! metric CRS (UTM zone of the boundary) unless a field name ends in `_ll` (lon/lat, EPSG:4326).

use std::collections::BTreeMap;

use geo::{LineString, MultiPolygon, Point};
use serde::{Deserialize, Serialize};

/// OSM tags of one object. BTreeMap so that serialised checkpoints are deterministic.
pub type Tags = BTreeMap<String, String>;

/// Level of traffic stress: 1 (low) or 3 (high). `None` in a direction means bikes may not
/// travel that way (spec §4.1).
pub type Stress = u8;
pub const LOW_STRESS: Stress = 1;
pub const HIGH_STRESS: Stress = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FunctionalClass {
    Motorway,
    MotorwayLink,
    Trunk,
    TrunkLink,
    Primary,
    PrimaryLink,
    Secondary,
    SecondaryLink,
    Tertiary,
    TertiaryLink,
    Residential,
    Unclassified,
    LivingStreet,
    Track,
    Path,
}

impl FunctionalClass {
    pub const ALL: [FunctionalClass; 15] = [
        Self::Motorway,
        Self::MotorwayLink,
        Self::Trunk,
        Self::TrunkLink,
        Self::Primary,
        Self::PrimaryLink,
        Self::Secondary,
        Self::SecondaryLink,
        Self::Tertiary,
        Self::TertiaryLink,
        Self::Residential,
        Self::Unclassified,
        Self::LivingStreet,
        Self::Track,
        Self::Path,
    ];

    /// The OSM/BNA spelling, as stored in `neighborhood_ways.functional_class`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Motorway => "motorway",
            Self::MotorwayLink => "motorway_link",
            Self::Trunk => "trunk",
            Self::TrunkLink => "trunk_link",
            Self::Primary => "primary",
            Self::PrimaryLink => "primary_link",
            Self::Secondary => "secondary",
            Self::SecondaryLink => "secondary_link",
            Self::Tertiary => "tertiary",
            Self::TertiaryLink => "tertiary_link",
            Self::Residential => "residential",
            Self::Unclassified => "unclassified",
            Self::LivingStreet => "living_street",
            Self::Track => "track",
            Self::Path => "path",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Direction of travel relative to the digitised geometry: `Ft` = from → to, `Tf` = against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Ft,
    Tf,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ft => "ft",
            Self::Tf => "tf",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BikeInfra {
    Sharrow,
    BufferedLane,
    Lane,
    Track,
}

impl BikeInfra {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sharrow => "sharrow",
            Self::BufferedLane => "buffered_lane",
            Self::Lane => "lane",
            Self::Track => "track",
        }
    }
}

/// Attributes derived from a way's tags (spec §3.3–3.4), before stress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentAttributes {
    pub functional_class: FunctionalClass,
    /// Crosswalk footway (`footway=crossing|traffic_island`), spec §3.3 rule 4.
    pub xwalk: bool,
    /// `oneway` for cars: `Some(Ft)` for yes/1, `Some(Tf)` for -1, `None` two-way.
    pub one_way_car: Option<Direction>,
    /// One-way for bicycles (spec §3.4 "Bicycle one-way").
    pub one_way: Option<Direction>,
    pub width_ft: Option<f64>,
    /// mph, already converted from km/h where tagged so.
    pub speed_limit: Option<u32>,
    pub ft_lanes: Option<u32>,
    pub tf_lanes: Option<u32>,
    pub ft_cross_lanes: Option<u32>,
    pub tf_cross_lanes: Option<u32>,
    pub twltl_cross_lanes: Option<u32>,
    pub ft_park: Option<u8>,
    pub tf_park: Option<u8>,
    pub ft_bike_infra: Option<BikeInfra>,
    pub tf_bike_infra: Option<BikeInfra>,
    pub ft_bike_infra_width: Option<f64>,
    pub tf_bike_infra_width: Option<f64>,
    /// `bicycle=no` on the way (living_street stress).
    pub bicycle_no: bool,
}

impl SegmentAttributes {
    /// A segment of `class` with nothing else known: every tag-derived field empty.
    pub fn unattributed(class: FunctionalClass) -> Self {
        Self {
            functional_class: class,
            xwalk: false,
            one_way_car: None,
            one_way: None,
            width_ft: None,
            speed_limit: None,
            ft_lanes: None,
            tf_lanes: None,
            ft_cross_lanes: None,
            tf_cross_lanes: None,
            twltl_cross_lanes: None,
            ft_park: None,
            tf_park: None,
            ft_bike_infra: None,
            tf_bike_infra: None,
            ft_bike_infra_width: None,
            tf_bike_infra_width: None,
            bicycle_no: false,
        }
    }
}

/// A stress value with the id of the rule that produced it, so the UI can explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressDecision {
    pub stress: Option<Stress>,
    pub rule: &'static str,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentStress {
    pub ft_seg: Option<Stress>,
    pub tf_seg: Option<Stress>,
    pub ft_int: Option<Stress>,
    pub tf_int: Option<Stress>,
}

/// A routable road segment: a piece of an OSM way between two split nodes (spec §3.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    /// Dense id, index into the segment table (`road_id`).
    pub road_id: u32,
    pub osm_id: i64,
    pub name: Option<String>,
    /// Index into the intersection table.
    pub intersection_from: u32,
    pub intersection_to: u32,
    /// Metric geometry (UTM).
    pub geom: LineString<f64>,
    /// Same geometry in lon/lat.
    pub geom_ll: LineString<f64>,
    pub tags: Tags,
    pub attrs: SegmentAttributes,
    pub stress: SegmentStress,
    /// Rule ids that decided stress, for the inspector: ft_seg, tf_seg, ft_int, tf_int.
    pub stress_rules: [String; 4],
    /// Trail cluster id (spec §3.5), if a path segment belongs to one.
    pub path_id: Option<u32>,
}

/// Intersection control flags (spec §3.4 "Intersections").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntersectionFlags {
    pub legs: u32,
    pub signalized: bool,
    pub stops: bool,
    pub rrfb: bool,
    pub island: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Intersection {
    pub int_id: u32,
    pub osm_id: i64,
    pub point: Point<f64>,
    pub point_ll: Point<f64>,
    pub flags: IntersectionFlags,
}

/// A census block (or synthetic population cell).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub geoid: String,
    pub geom: MultiPolygon<f64>,
    pub geom_ll: MultiPolygon<f64>,
    pub population: f64,
    pub jobs: f64,
    /// Land area (m²) where known (TIGER ALAND20); water blocks (0) are dropped at import.
    pub aland: Option<f64>,
}

/// Where block population came from; written into the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PopulationSource {
    Census,
    Synthetic,
}

impl PopulationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Census => "census",
            Self::Synthetic => "synthetic",
        }
    }
}

/// The 13 point-of-interest destination categories of spec §6.2 (trails are handled apart,
/// from path clusters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DestinationCategory {
    Schools,
    Colleges,
    Universities,
    Doctors,
    Dentists,
    Hospitals,
    Pharmacies,
    Supermarkets,
    SocialServices,
    Parks,
    CommunityCenters,
    Retail,
    Transit,
}

impl DestinationCategory {
    pub const ALL: [DestinationCategory; 13] = [
        Self::Schools,
        Self::Colleges,
        Self::Universities,
        Self::Doctors,
        Self::Dentists,
        Self::Hospitals,
        Self::Pharmacies,
        Self::Supermarkets,
        Self::SocialServices,
        Self::Parks,
        Self::CommunityCenters,
        Self::Retail,
        Self::Transit,
    ];

    /// Table suffix as in the reference (`neighborhood_<name>`).
    pub fn table_name(self) -> &'static str {
        match self {
            Self::Schools => "schools",
            Self::Colleges => "colleges",
            Self::Universities => "universities",
            Self::Doctors => "doctors",
            Self::Dentists => "dentists",
            Self::Hospitals => "hospitals",
            Self::Pharmacies => "pharmacies",
            Self::Supermarkets => "supermarkets",
            Self::SocialServices => "social_services",
            Self::Parks => "parks",
            Self::CommunityCenters => "community_centers",
            Self::Retail => "retail",
            Self::Transit => "transit",
        }
    }
}

/// Kind of OSM object a POI came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OsmKind {
    Node,
    Way,
    Relation,
}

/// A tagged OSM object that may be a destination: a node (point) or a closed way /
/// multipolygon relation (area). Produced by `ingest::osm`, within boundary ⊕ 2680 m.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OsmFeature {
    pub osm_id: i64,
    pub kind: OsmKind,
    pub tags: Tags,
    /// Point for nodes; `None` for areas.
    pub point: Option<Point<f64>>,
    /// Area for closed ways / multipolygon relations, metric.
    pub area: Option<MultiPolygon<f64>>,
}

/// One destination after classification and clustering (spec §6.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Destination {
    pub id: u32,
    pub category: DestinationCategory,
    pub osm_id: Option<i64>,
    pub name: Option<String>,
    /// Metric point (centroid for areas/clusters).
    pub point: Point<f64>,
    /// Metric polygon for areas/clusters.
    pub polygon: Option<MultiPolygon<f64>>,
    /// Indices into the project's block list that this destination lies in.
    pub blocks: Vec<u32>,
}

/// One source → target block pair (spec §5.5, `neighborhood_connected_census_blocks`).
/// Block ids are indices into `ProjectData::blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockPair {
    pub source: u32,
    pub target: u32,
    pub low_stress: bool,
    pub low_stress_cost: Option<u32>,
    pub high_stress_cost: Option<u32>,
}

/// Low/high-stress access counts of one measure and its score (spec §7.1–7.3).
/// `None` reproduces SQL NULL (SUM over nothing; score of high = 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Access {
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub score: Option<f64>,
}

/// Scores of one block (only blocks intersecting the boundary are scored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockScores {
    /// Index into `ProjectData::blocks`.
    pub block: u32,
    pub reachable_blocks: u32,
    pub pop: Access,
    pub emp: Access,
    /// In `DestinationCategory::ALL` order.
    pub destinations: [Access; 13],
    pub trails: Access,
    /// 0–100 (spec §7.4).
    pub overall_score: f64,
    pub opportunity_score: Option<f64>,
    pub core_services_score: Option<f64>,
    pub recreation_score: Option<f64>,
}

/// One row of `neighborhood_overall_scores` (spec §7.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    pub score_id: String,
    pub score_original: Option<f64>,
    pub score_normalized: Option<f64>,
    pub human_explanation: String,
}

/// A trail cluster (spec §3.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailCluster {
    pub path_id: u32,
    pub road_ids: Vec<u32>,
    pub path_length: f64,
    pub bbox_length: f64,
}

impl TrailCluster {
    pub fn qualifies(&self) -> bool {
        self.path_length > crate::params::TRAIL_MIN_LENGTH_M
            && self.bbox_length > crate::params::TRAIL_MIN_BBOX_M
    }
}

/// An input file as recorded in the project (role: boundary, osm, blocks, jobs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    pub role: String,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    pub seconds: f64,
    /// True when the stage was restored from a checkpoint instead of computed.
    pub from_checkpoint: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetadata {
    pub engine_version: String,
    /// RFC 3339 / ISO 8601 UTC.
    pub finished_at: String,
    pub population_source: PopulationSource,
    pub jobs_source: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub inputs: Vec<InputFile>,
    pub stage_timings: Vec<StageTiming>,
    pub projection_epsg: u32,
}

/// Everything an analysis produces: what `store` persists and `export` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectData {
    pub boundary_ll: MultiPolygon<f64>,
    pub projection: crate::spatial::Projection,
    pub segments: Vec<Segment>,
    pub intersections: Vec<Intersection>,
    pub blocks: Vec<Block>,
    pub destinations: Vec<Destination>,
    pub trails: Vec<TrailCluster>,
    pub block_scores: Vec<BlockScores>,
    pub pairs: Vec<BlockPair>,
    pub overall_scores: Vec<ScoreRow>,
    /// Mileage per bike infrastructure type (spec §7.7): (feature_type, miles).
    pub mileage: Vec<(String, f64)>,
    pub residential_speed_limit: Option<u32>,
    pub metadata: RunMetadata,
}

/// One change to the attributes of one segment, for "what if" re-scoring
/// (`pipeline::rescore`). Edits are applied to a copy of the stored network: the imported
/// data in the project never changes, so a scenario is always a list of edits on top of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEdit {
    /// `road_id` of the segment.
    pub road_id: u32,
    pub change: AttributeChange,
}

/// The attributes an edit can set; each replaces the derived value (`None` clears it, so the
/// stress rules fall back to their defaults, as for an untagged way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttributeChange {
    /// Bike infrastructure in one direction and its width (feet); `infra: None` removes it.
    BikeInfra {
        direction: Direction,
        infra: Option<BikeInfra>,
        width_ft: Option<f64>,
    },
    /// Posted speed limit, mph.
    SpeedLimit(Option<u32>),
    /// Through lanes in one direction.
    Lanes {
        direction: Direction,
        lanes: Option<u32>,
    },
    /// On-street parking in one direction (1 = parking, 0 = none).
    Parking {
        direction: Direction,
        park: Option<u8>,
    },
}

/// A change to the crossing control at one intersection, for "what if" re-scoring: it
/// changes the intersection stress of every segment that ends there (spec §4.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntersectionEdit {
    /// `int_id` of the intersection (`neighborhood_ways_intersections`).
    pub int_id: u32,
    pub control: CrossingControl,
}

/// Crossing controls an intersection edit can add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossingControl {
    /// Traffic signal: every crossing there is low stress.
    Signal,
    /// All-way stop: every crossing there is low stress.
    AllWayStop,
    /// Rectangular rapid-flashing beacon: relaxes the crossing table (spec §4.6).
    Rrfb,
    /// Median refuge island: relaxes the crossing table (spec §4.6).
    Island,
}
