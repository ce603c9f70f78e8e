//! Table layout of a `.bna` project: bookkeeping tables (`bna_*`) and the result tables, whose
//! names and columns follow the reference exports (spec §8). The table definitions here drive
//! both the writer and the exporters, so a column is named in exactly one place.

use crate::model::DestinationCategory;

/// Version of the `.bna` layout, stored in `bna_meta.schema_version`. Bump it when a table
/// changes or when `ProjectData`'s serialised form changes (the results blob is postcard,
/// which is not self-describing), and add a migration for older files in `project.rs`.
pub const SCHEMA_VERSION: i64 = 1;

/// Format tag of `bna_results_blob.format`.
pub const RESULTS_FORMAT: &str = "postcard:ProjectData";

/// All result geometry is lon/lat.
pub const SRID: i64 = 4326;

pub const META_DDL: &str = "
CREATE TABLE IF NOT EXISTS bna_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bna_checkpoints (
    stage TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    data BLOB NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bna_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    engine_version TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    written_at TEXT NOT NULL,
    population_source TEXT NOT NULL,
    jobs_source TEXT,
    projection_epsg INTEGER NOT NULL,
    parameters TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bna_stage_timings (
    run_id INTEGER NOT NULL REFERENCES bna_runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    stage TEXT NOT NULL,
    seconds REAL NOT NULL,
    from_checkpoint INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS bna_inputs (
    run_id INTEGER NOT NULL REFERENCES bna_runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS bna_results_blob (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    run_id INTEGER NOT NULL REFERENCES bna_runs(id),
    format TEXT NOT NULL,
    data BLOB NOT NULL
);
";

pub const BOUNDARY: &str = "neighborhood_boundary";
pub const WAYS: &str = "neighborhood_ways";
pub const INTERSECTIONS: &str = "neighborhood_ways_intersections";
pub const BLOCKS: &str = "neighborhood_census_blocks";
pub const PAIRS: &str = "neighborhood_connected_census_blocks";
pub const OVERALL_SCORES: &str = "neighborhood_overall_scores";
pub const SPEED_LIMIT: &str = "residential_speed_limit";
pub const MILEAGE: &str = "mileage";
pub const PATHS: &str = "neighborhood_paths";
pub const SCORE_INPUTS: &str = "neighborhood_score_inputs";
/// Water areas for the app's offline basemap. Not a result table of the reference (so not
/// exported); an older project without it simply shows no water.
pub const BASEMAP_WATER: &str = "bna_basemap_water";

/// The per-block measures in the reference column order of `census_blocks.sql` (spec §8).
pub const MEASURES: [&str; 16] = [
    "pop",
    "emp",
    "schools",
    "universities",
    "colleges",
    "doctors",
    "dentists",
    "hospitals",
    "pharmacies",
    "retail",
    "supermarkets",
    "social_services",
    "parks",
    "trails",
    "community_centers",
    "transit",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    Int,
    Real,
    Text,
    /// Stored as INTEGER 0/1; exported as a boolean (GeoJSON true/false, CSV t/f as psql).
    Bool,
    /// JSON text (OSM tags, `blockid20` arrays); embedded as JSON in GeoJSON.
    Json,
}

impl ColKind {
    pub fn sql_type(self) -> &'static str {
        match self {
            Self::Int | Self::Bool => "INTEGER",
            Self::Real => "REAL",
            Self::Text | Self::Json => "TEXT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    Point,
    LineString,
    MultiLineString,
    MultiPolygon,
}

impl GeomType {
    /// Name used by SpatiaLite's AddGeometryColumn and by GeoPackage.
    pub fn name(self) -> &'static str {
        match self {
            Self::Point => "POINT",
            Self::LineString => "LINESTRING",
            Self::MultiLineString => "MULTILINESTRING",
            Self::MultiPolygon => "MULTIPOLYGON",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: ColKind,
}

#[derive(Debug, Clone, Copy)]
pub struct GeomColumn {
    pub name: &'static str,
    pub ty: GeomType,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: String,
    /// Whether the first column is the INTEGER PRIMARY KEY (QGIS uses it as feature id).
    pub first_is_pk: bool,
    pub columns: Vec<Column>,
    pub geoms: Vec<GeomColumn>,
}

impl TableDef {
    pub fn new(name: impl Into<String>, first_is_pk: bool, cols: &[(&str, ColKind)]) -> Self {
        Self {
            name: name.into(),
            first_is_pk,
            columns: cols
                .iter()
                .map(|(n, k)| Column {
                    name: (*n).to_string(),
                    kind: *k,
                })
                .collect(),
            geoms: Vec::new(),
        }
    }

    pub fn geom(mut self, name: &'static str, ty: GeomType) -> Self {
        self.geoms.push(GeomColumn { name, ty });
        self
    }

    /// `CREATE TABLE` for the attribute columns; geometry columns are added by SpatiaLite.
    pub fn create_sql(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pk = if i == 0 && self.first_is_pk {
                    " PRIMARY KEY"
                } else {
                    ""
                };
                format!("{} {}{pk}", quote(&c.name), c.kind.sql_type())
            })
            .collect();
        format!("CREATE TABLE {} ({})", quote(&self.name), cols.join(", "))
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Double-quotes an SQL identifier. Our identifiers are fixed ASCII names, but quoting keeps
/// SQL well-formed whatever they are.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

use ColKind::{Bool, Int, Json, Real, Text};

pub fn boundary() -> TableDef {
    TableDef::new(BOUNDARY, true, &[("id", Int)]).geom("geom", GeomType::MultiPolygon)
}

/// Reference columns of `prepare_tables.sql` (minus osm2pgrouting leftovers and the random
/// `tdg_id`), then what the inspector needs: bicycle=no, the four stress rule ids, OSM tags.
pub fn ways() -> TableDef {
    TableDef::new(
        WAYS,
        true,
        &[
            ("road_id", Int),
            ("osm_id", Int),
            ("name", Text),
            ("intersection_from", Int),
            ("intersection_to", Int),
            ("functional_class", Text),
            ("path_id", Int),
            ("speed_limit", Int),
            ("one_way_car", Text),
            ("one_way", Text),
            ("width_ft", Real),
            ("ft_bike_infra", Text),
            ("ft_bike_infra_width", Real),
            ("tf_bike_infra", Text),
            ("tf_bike_infra_width", Real),
            ("ft_lanes", Int),
            ("tf_lanes", Int),
            ("ft_cross_lanes", Int),
            ("tf_cross_lanes", Int),
            ("twltl_cross_lanes", Int),
            ("ft_park", Int),
            ("tf_park", Int),
            ("ft_seg_stress", Int),
            ("ft_int_stress", Int),
            ("tf_seg_stress", Int),
            ("tf_int_stress", Int),
            ("xwalk", Int),
            ("bicycle_no", Bool),
            ("ft_seg_stress_rule", Text),
            ("tf_seg_stress_rule", Text),
            ("ft_int_stress_rule", Text),
            ("tf_int_stress_rule", Text),
            ("tags", Json),
        ],
    )
    .geom("geom", GeomType::LineString)
}

pub fn intersections() -> TableDef {
    TableDef::new(
        INTERSECTIONS,
        true,
        &[
            ("int_id", Int),
            ("osm_id", Int),
            ("legs", Int),
            ("signalized", Bool),
            ("stops", Bool),
            ("rrfb", Bool),
            ("island", Bool),
        ],
    )
    .geom("geom", GeomType::Point)
}

pub fn blocks() -> TableDef {
    let mut def = TableDef::new(
        BLOCKS,
        true,
        &[
            ("id", Int),
            ("geoid20", Text),
            ("pop20", Real),
            ("jobs", Real),
            ("aland20", Real),
        ],
    );
    for m in MEASURES {
        for (suffix, kind) in [("low_stress", Real), ("high_stress", Real), ("score", Real)] {
            def.columns.push(Column {
                name: format!("{m}_{suffix}"),
                kind,
            });
        }
    }
    for (name, kind) in [
        ("overall_score", Real),
        ("reachable_blocks", Int),
        ("opportunity_score", Real),
        ("core_services_score", Real),
        ("recreation_score", Real),
    ] {
        def.columns.push(Column {
            name: name.to_string(),
            kind,
        });
    }
    def.geom("geom", GeomType::MultiPolygon)
}

pub fn pairs() -> TableDef {
    TableDef::new(
        PAIRS,
        false,
        &[
            ("source_blockid20", Text),
            ("target_blockid20", Text),
            ("low_stress", Bool),
            ("low_stress_cost", Int),
            ("high_stress", Bool),
            ("high_stress_cost", Int),
        ],
    )
}

pub fn overall_scores() -> TableDef {
    TableDef::new(
        OVERALL_SCORES,
        true,
        &[
            ("id", Int),
            ("score_id", Text),
            ("score_original", Real),
            ("score_normalized", Real),
            ("human_explanation", Text),
        ],
    )
}

/// The reference four columns, plus the default that the analysis actually applied.
pub fn speed_limit() -> TableDef {
    TableDef::new(
        SPEED_LIMIT,
        false,
        &[
            ("state_fips_code", Text),
            ("city_fips_code", Text),
            ("state_speed", Int),
            ("city_speed", Int),
            ("effective_speed", Int),
        ],
    )
}

pub fn mileage() -> TableDef {
    TableDef::new(
        MILEAGE,
        false,
        &[("feature_type", Text), ("total_mileage", Real)],
    )
}

pub fn paths() -> TableDef {
    TableDef::new(
        PATHS,
        true,
        &[
            ("path_id", Int),
            ("path_length", Real),
            ("bbox_length", Real),
            ("qualifies", Bool),
        ],
    )
    .geom("geom", GeomType::MultiLineString)
}

pub fn destination_table(cat: DestinationCategory) -> String {
    format!("neighborhood_{}", cat.table_name())
}

/// Name column of each reference destination table (`destinations/*.sql`); retail has none.
pub fn destination_name_column(cat: DestinationCategory) -> Option<&'static str> {
    use DestinationCategory as D;
    Some(match cat {
        D::Schools => "school_name",
        D::Colleges | D::Universities => "college_name",
        D::Doctors => "doctors_name",
        D::Dentists => "dentists_name",
        D::Hospitals => "hospital_name",
        D::Pharmacies => "pharmacy_name",
        D::Supermarkets => "supermarket_name",
        D::SocialServices => "service_name",
        D::Parks => "park_name",
        D::CommunityCenters => "center_name",
        D::Transit => "transit_name",
        D::Retail => return None,
    })
}

/// `id, blockid20[], osm_id, <name>, pop_low_stress, pop_high_stress, pop_score` as in the
/// reference (retail: no osm_id/name). The `pop_*` bike-shed columns (spec §6.3) are
/// computed when the project is written (`analysis::bike_shed`).
pub fn destinations(cat: DestinationCategory) -> TableDef {
    let mut def = TableDef::new(
        destination_table(cat),
        true,
        &[("id", Int), ("blockid20", Json)],
    );
    if let Some(name_col) = destination_name_column(cat) {
        for (name, kind) in [("osm_id", Int), (name_col, Text)] {
            def.columns.push(Column {
                name: name.to_string(),
                kind,
            });
        }
    }
    for (name, kind) in [
        ("pop_low_stress", Real),
        ("pop_high_stress", Real),
        ("pop_score", Real),
    ] {
        def.columns.push(Column {
            name: name.to_string(),
            kind,
        });
    }
    def.geom("geom_pt", GeomType::Point)
        .geom("geom_poly", GeomType::MultiPolygon)
}

/// The reference's `score_inputs.sql` table: 132 city-wide statistics, the 16 with a `use_*`
/// flag (TRUE, else NULL) feeding the overall scores (spec §7.5).
pub fn score_inputs() -> TableDef {
    let mut def = TableDef::new(
        SCORE_INPUTS,
        true,
        &[
            ("id", Int),
            ("category", Text),
            ("score_name", Text),
            ("score", Real),
            ("notes", Text),
            ("human_explanation", Text),
        ],
    );
    for flag in crate::analysis::score_inputs::USE_FLAGS {
        def.columns.push(Column {
            name: format!("use_{flag}"),
            kind: Bool,
        });
    }
    def
}

pub fn basemap_water() -> TableDef {
    TableDef::new(BASEMAP_WATER, true, &[("id", Int), ("osm_id", Int)])
        .geom("geom", GeomType::MultiPolygon)
}

/// Every result table, in write order.
pub fn result_tables() -> Vec<TableDef> {
    let mut out = vec![
        boundary(),
        ways(),
        intersections(),
        blocks(),
        pairs(),
        overall_scores(),
        score_inputs(),
        speed_limit(),
        mileage(),
        paths(),
    ];
    out.extend(DestinationCategory::ALL.into_iter().map(destinations));
    out
}

pub fn table(name: &str) -> Option<TableDef> {
    result_tables().into_iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_the_reference_measure_columns() {
        let def = blocks();
        for m in MEASURES {
            for s in ["low_stress", "high_stress", "score"] {
                assert!(def.column(&format!("{m}_{s}")).is_some(), "{m}_{s}");
            }
        }
        assert_eq!(def.columns.len(), 5 + 48 + 5);
    }

    #[test]
    fn table_names_are_unique_and_destinations_complete() {
        let tables = result_tables();
        let mut names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), tables.len());
        assert!(names.contains(&"neighborhood_community_centers"));
        assert_eq!(tables.len(), 10 + 13);
    }

    #[test]
    fn column_names_are_unique_per_table() {
        for t in result_tables() {
            let mut names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
            names.extend(t.geoms.iter().map(|g| g.name));
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{}", t.name);
        }
    }
}
