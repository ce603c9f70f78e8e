//! Integration tests of the `.bna` project file and the exports, on a small hand-built
//! analysis result around Burlington, VT.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bna_engine::model::*;
use bna_engine::spatial::Projection;
use bna_engine::store::{connect_spatialite, export, ExportFormat, Project, StoreError};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use rusqlite::Connection;

const LON0: f64 = -73.2130;
const LAT0: f64 = 44.4760;
/// Grid step in degrees (~160 m north-south).
const STEP: f64 = 0.0015;

fn projection() -> Projection {
    Projection::for_lon_lat(LON0, LAT0)
}

fn ll(i: usize, j: usize) -> Coord<f64> {
    Coord {
        x: LON0 + i as f64 * STEP,
        y: LAT0 + j as f64 * STEP,
    }
}

fn square(i: usize, j: usize) -> MultiPolygon<f64> {
    let ring = LineString::from(vec![
        ll(i, j),
        ll(i + 1, j),
        ll(i + 1, j + 1),
        ll(i, j + 1),
        ll(i, j),
    ]);
    MultiPolygon(vec![Polygon::new(ring, vec![])])
}

fn attrs(class: FunctionalClass) -> SegmentAttributes {
    SegmentAttributes {
        functional_class: class,
        xwalk: false,
        one_way_car: None,
        one_way: None,
        width_ft: None,
        speed_limit: Some(25),
        ft_lanes: Some(1),
        tf_lanes: Some(1),
        ft_cross_lanes: None,
        tf_cross_lanes: None,
        twltl_cross_lanes: None,
        ft_park: Some(1),
        tf_park: None,
        ft_bike_infra: None,
        tf_bike_infra: None,
        ft_bike_infra_width: None,
        tf_bike_infra_width: None,
        bicycle_no: false,
    }
}

/// A 3 × 3 grid of intersections, its 12 street segments, 4 blocks in the cells, a few
/// destinations of several categories, scores, pairs and metadata.
fn sample(grid: usize) -> ProjectData {
    let p = projection();
    let n = grid;
    let mut intersections = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let id = (j * n + i) as u32;
            let pt = Point(ll(i, j));
            intersections.push(Intersection {
                int_id: id,
                osm_id: 1_000_000 + id as i64,
                point: p.project(&pt),
                point_ll: pt,
                flags: IntersectionFlags {
                    legs: 4,
                    signalized: id % 3 == 0,
                    stops: id % 2 == 0,
                    rrfb: false,
                    island: id == 4,
                },
            });
        }
    }
    let mut segments = Vec::new();
    let add = |a: (usize, usize), b: (usize, usize), segments: &mut Vec<Segment>| {
        let road_id = segments.len() as u32;
        let geom_ll = LineString::from(vec![ll(a.0, a.1), ll(b.0, b.1)]);
        let class = if a.1 == b.1 {
            FunctionalClass::Residential
        } else {
            FunctionalClass::Secondary
        };
        let mut at = attrs(class);
        if road_id % 4 == 1 {
            at.ft_bike_infra = Some(BikeInfra::BufferedLane);
            at.ft_bike_infra_width = Some(6.5);
            at.one_way_car = Some(Direction::Ft);
            at.one_way = Some(Direction::Ft);
        }
        if road_id == 2 {
            at.xwalk = true;
            at.bicycle_no = true;
        }
        let mut tags = Tags::new();
        tags.insert("highway".into(), class.as_str().into());
        tags.insert("name".into(), format!("Rue de l'Église {road_id}"));
        segments.push(Segment {
            road_id,
            osm_id: 5_000 + road_id as i64,
            name: (road_id % 5 != 0).then(|| format!("Rue de l'Église {road_id}")),
            intersection_from: (a.1 * n + a.0) as u32,
            intersection_to: (b.1 * n + b.0) as u32,
            geom: p.project(&geom_ll),
            geom_ll,
            tags,
            attrs: at,
            stress: SegmentStress {
                ft_seg: Some(LOW_STRESS),
                tf_seg: if road_id % 4 == 1 {
                    None
                } else {
                    Some(HIGH_STRESS)
                },
                ft_int: Some(LOW_STRESS),
                tf_int: Some(HIGH_STRESS),
            },
            stress_rules: [
                "res_default".into(),
                format!("rule_{road_id}"),
                String::new(),
                "int_signal".into(),
            ],
            path_id: (road_id < 2).then_some(7),
        });
    };
    for j in 0..n {
        for i in 0..n {
            if i + 1 < n {
                add((i, j), (i + 1, j), &mut segments);
            }
            if j + 1 < n {
                add((i, j), (i, j + 1), &mut segments);
            }
        }
    }
    let mut blocks = Vec::new();
    for j in 0..n - 1 {
        for i in 0..n - 1 {
            let geom_ll = square(i, j);
            blocks.push(Block {
                geoid: format!("5000700{:08}", j * n + i),
                geom: p.project(&geom_ll),
                geom_ll,
                population: 10.0 + (i + j) as f64,
                jobs: 3.0 * i as f64,
                aland: (i != 1).then_some(25_000.0),
            });
        }
    }
    let nb = blocks.len() as u32;
    let access = |k: f64| Access {
        low: Some(k),
        high: Some(k + 1.0),
        score: Some(k / (k + 1.0)),
    };
    let block_scores: Vec<BlockScores> = (0..nb)
        .filter(|b| b % 4 != 3) // some blocks stay unscored (NULL columns)
        .map(|b| {
            let mut destinations = [Access::default(); 13];
            for (k, d) in destinations.iter_mut().enumerate() {
                if k % 2 == 0 {
                    *d = access(k as f64);
                } else {
                    d.high = Some(0.0);
                }
            }
            BlockScores {
                block: b,
                reachable_blocks: b + 1,
                pop: access(100.0),
                emp: Access::default(),
                destinations,
                trails: access(1.0),
                overall_score: 42.5 + b as f64,
                opportunity_score: Some(0.61),
                core_services_score: None,
                recreation_score: Some(0.125),
            }
        })
        .collect();
    let pairs: Vec<BlockPair> = (0..nb)
        .flat_map(|s| (0..nb).map(move |t| (s, t)))
        .map(|(s, t)| BlockPair {
            source: s,
            target: t,
            low_stress: (s + t) % 2 == 0,
            low_stress_cost: ((s + t) % 3 != 0).then_some(100 * (s + t)),
            high_stress_cost: Some(90 * (s + t)),
        })
        .take(200_000)
        .collect();
    let centre = |i: usize, j: usize| {
        Point(Coord {
            x: LON0 + (i as f64 + 0.5) * STEP,
            y: LAT0 + (j as f64 + 0.5) * STEP,
        })
    };
    let mut destinations = vec![
        Destination {
            id: 1,
            category: DestinationCategory::Schools,
            osm_id: Some(42),
            name: Some("Edmunds Elementary".into()),
            point: p.project(&centre(0, 0)),
            polygon: Some(p.project(&square(0, 0))),
            blocks: vec![0],
        },
        Destination {
            id: 2,
            category: DestinationCategory::Schools,
            osm_id: Some(43),
            name: None,
            point: p.project(&centre(1, 0)),
            polygon: None,
            blocks: vec![1],
        },
        Destination {
            id: 3,
            category: DestinationCategory::Parks,
            osm_id: None,
            name: Some("City Hall Park".into()),
            point: p.project(&centre(1, 1)),
            polygon: Some(p.project(&square(1, 1))),
            blocks: vec![2, 3],
        },
        Destination {
            id: 4,
            category: DestinationCategory::Retail,
            osm_id: None,
            name: None,
            point: p.project(&centre(0, 1)),
            polygon: Some(p.project(&square(0, 1))),
            blocks: vec![],
        },
    ];
    for k in 0..3u32 {
        destinations.push(Destination {
            id: 10 + k,
            category: DestinationCategory::Transit,
            osm_id: Some(900 + k as i64),
            name: Some(format!("Stop {k}")),
            point: p.project(&centre(k as usize % (n - 1), 0)),
            polygon: None,
            blocks: vec![k % nb],
        });
    }
    let overall_scores = vec![
        ScoreRow {
            score_id: "people".into(),
            score_original: Some(0.4321),
            score_normalized: Some(43.21),
            human_explanation: "On average, census blocks in the neighborhood have low stress \
                                access to 43% of people"
                .into(),
        },
        ScoreRow {
            score_id: "opportunity".into(),
            score_original: None,
            score_normalized: None,
            human_explanation: String::new(),
        },
        ScoreRow {
            score_id: "overall_score".into(),
            score_original: Some(0.961),
            score_normalized: Some(96.1),
            human_explanation: String::new(),
        },
    ];
    let mut parameters = BTreeMap::new();
    parameters.insert("max_trip_distance_m".into(), "2680".into());
    parameters.insert("state_fips_code".into(), "50".into());
    parameters.insert("city_speed".into(), "25".into());
    ProjectData {
        boundary_ll: MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                ll(0, 0),
                ll(n - 1, 0),
                ll(n - 1, n - 1),
                ll(0, n - 1),
                ll(0, 0),
            ]),
            vec![],
        )]),
        projection: p,
        segments,
        intersections,
        blocks,
        destinations,
        trails: vec![TrailCluster {
            path_id: 7,
            road_ids: vec![0, 1],
            path_length: 5000.0,
            bbox_length: 3400.0,
        }],
        block_scores,
        pairs,
        overall_scores,
        mileage: vec![("buffered_lane".into(), 0.75), ("path".into(), 1.5)],
        residential_speed_limit: Some(25),
        metadata: RunMetadata {
            engine_version: "bna 0.1.0".into(),
            finished_at: "2026-01-02T03:04:05Z".into(),
            population_source: PopulationSource::Census,
            jobs_source: Some("LODES8 2022".into()),
            parameters,
            inputs: vec![
                InputFile {
                    role: "boundary".into(),
                    path: "data/us-burlington-vt/boundary.geojson".into(),
                    sha256: "ab".repeat(32),
                    bytes: 12_345,
                },
                InputFile {
                    role: "osm".into(),
                    path: "vermont.osm.pbf".into(),
                    sha256: "cd".repeat(32),
                    bytes: 98_765_432_100,
                },
            ],
            stage_timings: vec![
                StageTiming {
                    stage: "ingest".into(),
                    seconds: 1.25,
                    from_checkpoint: false,
                },
                StageTiming {
                    stage: "network".into(),
                    seconds: 0.5,
                    from_checkpoint: true,
                },
            ],
            projection_epsg: p.epsg(),
        },
    }
}

fn encoded(d: &ProjectData) -> Vec<u8> {
    postcard::to_allocvec(d).unwrap()
}

fn written(dir: &Path, data: &ProjectData) -> PathBuf {
    let path = dir.join("burlington.bna");
    let mut project = Project::create_or_open(&path).unwrap();
    project.write_results(data).unwrap();
    path
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn results_round_trip_exactly_and_rewrites_replace() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let path = written(dir.path(), &data);
    // Write a second time, as a re-run does: tables are replaced, not appended to.
    let mut project = Project::create_or_open(&path).unwrap();
    project.write_results(&data).unwrap();
    drop(project);

    let project = Project::create_or_open(&path).unwrap();
    let back = project.read_results().unwrap().expect("results stored");
    assert_eq!(encoded(&back), encoded(&data));
    assert_eq!(back.segments[3].geom_ll, data.segments[3].geom_ll);

    let conn = project.connection();
    assert_eq!(count(conn, "neighborhood_ways"), data.segments.len() as i64);
    assert_eq!(count(conn, "neighborhood_ways_intersections"), 9);
    assert_eq!(count(conn, "neighborhood_census_blocks"), 4);
    assert_eq!(count(conn, "neighborhood_connected_census_blocks"), 16);
    assert_eq!(count(conn, "neighborhood_schools"), 2);
    assert_eq!(count(conn, "neighborhood_transit"), 3);
    assert_eq!(count(conn, "neighborhood_hospitals"), 0);
    assert_eq!(count(conn, "bna_runs"), 2);
}

#[test]
fn fresh_project_has_no_results() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::create_or_open(&dir.path().join("new.bna")).unwrap();
    assert!(project.read_results().unwrap().is_none());
    // As in a project written before the basemap had water: no table, no water, no error.
    assert!(project.basemap_water().unwrap().is_empty());
    assert!(project.metadata().unwrap().is_none());
    assert!(project.overall_scores().unwrap().is_empty());
    let err = export(&project, ExportFormat::Csv, &dir.path().join("out")).unwrap_err();
    assert!(matches!(err, StoreError::NoResults { .. }), "{err}");
}

#[test]
fn overall_scores_and_metadata_read_back_from_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let path = written(dir.path(), &data);
    let project = Project::create_or_open(&path).unwrap();
    assert_eq!(project.overall_scores().unwrap(), data.overall_scores);
    assert_eq!(project.metadata().unwrap(), Some(data.metadata.clone()));
    assert_eq!(project.path(), path.as_path());
}

/// ft_seg, tf_seg, ft_seg rule, ft_int rule, tags, ft_bike_infra, xwalk, bicycle_no.
type WayInspectorRow = (
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    i64,
);

/// pop_low_stress, emp_low_stress, parks_low_stress, reachable_blocks, core_services_score.
type BlockScoreRow = (
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<i64>,
    Option<f64>,
);

#[test]
fn segment_rows_carry_what_the_inspector_needs() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let path = written(dir.path(), &data);
    let project = Project::create_or_open(&path).unwrap();
    let row: WayInspectorRow = project
        .connection()
        .query_row(
            "SELECT ft_seg_stress, tf_seg_stress, ft_seg_stress_rule, ft_int_stress_rule,
                        tags, ft_bike_infra, xwalk, bicycle_no
                 FROM neighborhood_ways WHERE road_id = 1",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get::<_, Option<i64>>(6)?.unwrap_or(0),
                    r.get(7)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(row.0, Some(1));
    assert_eq!(
        row.1, None,
        "NULL stress = no bike travel in that direction"
    );
    assert_eq!(row.2, "res_default");
    assert_eq!(row.3, None, "empty rule id stored as NULL");
    let tags: BTreeMap<String, String> = serde_json::from_str(&row.4).unwrap();
    assert_eq!(tags, data.segments[1].tags);
    assert_eq!(row.5.as_deref(), Some("buffered_lane"));
    assert_eq!((row.6, row.7), (0, 0));
    let (xwalk, bicycle_no): (Option<i64>, i64) = project
        .connection()
        .query_row(
            "SELECT xwalk, bicycle_no FROM neighborhood_ways WHERE road_id = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((xwalk, bicycle_no), (Some(1), 1));
}

#[test]
fn block_and_destination_rows_follow_the_reference_columns() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let path = written(dir.path(), &data);
    let project = Project::create_or_open(&path).unwrap();
    let conn = project.connection();
    let (pop_low, emp_low, parks_low, reachable, core): BlockScoreRow = conn
        .query_row(
            "SELECT pop_low_stress, emp_low_stress, parks_low_stress, reachable_blocks,
                    core_services_score
             FROM neighborhood_census_blocks WHERE geoid20 = ?1",
            [&data.blocks[1].geoid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    // Parks is the 10th category: index 9 (odd) has only high = 0 in the sample.
    assert_eq!(
        (pop_low, emp_low, parks_low, reachable, core),
        (Some(100.0), None, None, Some(2), None)
    );
    let unscored: Option<f64> = conn
        .query_row(
            "SELECT overall_score FROM neighborhood_census_blocks WHERE id = 3",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unscored, None);

    let (blockids, name, x, y): (String, Option<String>, f64, f64) = conn
        .query_row(
            "SELECT blockid20, park_name, X(geom_pt), Y(geom_pt) FROM neighborhood_parks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let ids: Vec<String> = serde_json::from_str(&blockids).unwrap();
    assert_eq!(
        ids,
        vec![data.blocks[2].geoid.clone(), data.blocks[3].geoid.clone()]
    );
    assert_eq!(name.as_deref(), Some("City Hall Park"));
    // The metric point is stored unprojected with the project's projection…
    let park = data
        .destinations
        .iter()
        .find(|d| d.category == DestinationCategory::Parks)
        .unwrap();
    let expected = data.projection.unproject(&park.point);
    assert_eq!((x, y), (expected.x(), expected.y()));
    // …which lands on the original lon/lat to within the UTM round trip (~4e-7° here).
    assert!((x - (LON0 + 1.5 * STEP)).abs() < 1e-5, "{x}");
    assert!((y - (LAT0 + 1.5 * STEP)).abs() < 1e-5, "{y}");

    let retail_cols: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('neighborhood_retail')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        retail_cols,
        [
            "id",
            "blockid20",
            "pop_low_stress",
            "pop_high_stress",
            "pop_score",
            "geom_pt",
            "geom_poly"
        ]
    );

    let speed: (Option<String>, Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT state_fips_code, city_speed, effective_speed FROM residential_speed_limit",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(speed, (Some("50".into()), Some(25), Some(25)));
}

/// (table, column, SpatiaLite geometry_type code: 1 point, 2 line, 5 multiline, 6 multipolygon)
fn expected_geometry_columns() -> Vec<(String, String, i64)> {
    let mut out: Vec<(String, String, i64)> = vec![
        ("neighborhood_boundary".into(), "geom".into(), 6),
        ("neighborhood_ways".into(), "geom".into(), 2),
        ("neighborhood_ways_intersections".into(), "geom".into(), 1),
        ("neighborhood_census_blocks".into(), "geom".into(), 6),
        ("neighborhood_paths".into(), "geom".into(), 5),
    ];
    for c in DestinationCategory::ALL {
        let t = format!("neighborhood_{}", c.table_name());
        out.push((t.clone(), "geom_pt".into(), 1));
        out.push((t, "geom_poly".into(), 6));
    }
    out.sort();
    out
}

#[test]
fn geometry_columns_are_registered_in_4326_with_valid_spatial_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let path = written(dir.path(), &data);
    // Write twice so that the drop-and-recreate path is what gets checked.
    Project::create_or_open(&path)
        .unwrap()
        .write_results(&data)
        .unwrap();

    // A fresh connection that loads mod_spatialite itself, as QGIS would.
    let conn = Connection::open(&path).unwrap();
    unsafe {
        conn.load_extension_enable().unwrap();
        let ok = conn.load_extension("mod_spatialite", None::<&str>).is_ok()
            || conn
                .load_extension("/usr/lib/x86_64-linux-gnu/mod_spatialite.so", None::<&str>)
                .is_ok();
        assert!(ok, "mod_spatialite loads");
    }
    let mut rows: Vec<(String, String, i64, i64, i64)> = conn
        .prepare(
            "SELECT f_table_name, f_geometry_column, geometry_type, srid, spatial_index_enabled
             FROM geometry_columns",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    let got: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| (r.0.clone(), r.1.clone(), r.2))
        .collect();
    assert_eq!(got, expected_geometry_columns());
    for (table, column, _, srid, indexed) in &rows {
        assert_eq!(*srid, 4326, "{table}.{column}");
        assert_eq!(*indexed, 1, "{table}.{column}");
        let check: Option<i64> = conn
            .query_row("SELECT CheckSpatialIndex(?1, ?2)", [table, column], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(check, Some(1), "CheckSpatialIndex({table}, {column})");
    }
    // The index answers a spatial query: the block containing the centre of cell (1, 1).
    let hits: Vec<String> = conn
        .prepare(
            "SELECT geoid20 FROM neighborhood_census_blocks WHERE ROWID IN (
                SELECT ROWID FROM SpatialIndex
                WHERE f_table_name = 'neighborhood_census_blocks'
                  AND search_frame = MakePoint(?1, ?2, 4326))
             AND ST_Contains(geom, MakePoint(?1, ?2, 4326))",
        )
        .unwrap()
        .query_map([LON0 + 1.5 * STEP, LAT0 + 1.5 * STEP], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hits, vec![data.blocks[3].geoid.clone()]);
    let invalid: i64 = conn
        .query_row(
            "SELECT count(*) FROM neighborhood_census_blocks WHERE NOT ST_IsValid(geom)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(invalid, 0);
    // Rewriting left no orphaned SpatiaLite bookkeeping behind.
    let stats: i64 = count(&conn, "geometry_columns_statistics");
    assert_eq!(stats as usize, expected_geometry_columns().len());
    let fk_violations = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count();
    assert_eq!(fk_violations, 0);
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "delete");
}

#[test]
fn checkpoints_save_load_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp.bna");
    let mut project = Project::create_or_open(&path).unwrap();
    assert_eq!(project.load_checkpoint("network", "k1").unwrap(), None);
    project.save_checkpoint("network", "k1", b"first").unwrap();
    project
        .save_checkpoint("ingest", "i1", &[0, 1, 2, 255])
        .unwrap();
    assert_eq!(
        project.load_checkpoint("network", "k1").unwrap(),
        Some(b"first".to_vec())
    );
    assert_eq!(
        project.load_checkpoint("network", "other-key").unwrap(),
        None
    );
    project.save_checkpoint("network", "k2", b"second").unwrap();
    assert_eq!(project.load_checkpoint("network", "k1").unwrap(), None);
    drop(project);

    let project = Project::create_or_open(&path).unwrap();
    assert_eq!(
        project.load_checkpoint("network", "k2").unwrap(),
        Some(b"second".to_vec())
    );
    assert_eq!(
        project.load_checkpoint("ingest", "i1").unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    let rows: i64 = count(project.connection(), "bna_checkpoints");
    assert_eq!(rows, 2, "one row per stage");
}

#[test]
fn newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.bna");
    drop(Project::create_or_open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE bna_meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = Project::create_or_open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("newer bna") && msg.contains("future.bna"),
        "{msg}"
    );
}

#[test]
fn non_sqlite_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.bna");
    std::fs::write(
        &path,
        "this is a text file, not a database, but long enough to have a header\n".repeat(20),
    )
    .unwrap();
    let err = Project::create_or_open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotSqlite { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("notes.bna") && msg.contains("not an SQLite database"),
        "{msg}"
    );
}

#[test]
fn foreign_sqlite_database_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        .unwrap();
    drop(conn);
    let err = Project::create_or_open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotBnaProject { .. }), "{err}");
    // Nothing was added to the foreign file.
    let conn = Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn spatialite_missing_message_names_the_package() {
    let err = StoreError::SpatialiteMissing {
        path: "x.bna".into(),
        tried: "mod_spatialite".into(),
    };
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "SpatiaLite extension (mod_spatialite) not found: install libsqlite3-mod-spatialite"
        ),
        "{msg}"
    );
    // And on this machine the extension is found.
    let dir = tempfile::tempdir().unwrap();
    let conn = connect_spatialite(&dir.path().join("probe.sqlite")).unwrap();
    let version: String = conn
        .query_row("SELECT spatialite_version()", [], |r| r.get(0))
        .unwrap();
    assert!(!version.is_empty());
}

fn names(paths: &[PathBuf]) -> HashSet<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn geojson_export_writes_the_reference_layers() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let project = Project::create_or_open(&written(dir.path(), &data)).unwrap();
    let out = dir.path().join("geojson");
    let files = export(&project, ExportFormat::GeoJson, &out).unwrap();
    let mut expected: HashSet<String> = [
        "neighborhood_boundary",
        "neighborhood_census_blocks",
        "neighborhood_ways",
        "neighborhood_ways_intersections",
    ]
    .iter()
    .map(|s| format!("{s}.geojson"))
    .collect();
    for c in DestinationCategory::ALL {
        expected.insert(format!("neighborhood_{}.geojson", c.table_name()));
    }
    assert_eq!(names(&files), expected);

    let read = |name: &str| -> geojson::FeatureCollection {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        text.parse::<geojson::GeoJson>()
            .unwrap()
            .try_into()
            .unwrap()
    };
    let ways = read("neighborhood_ways.geojson");
    assert_eq!(ways.features.len(), data.segments.len());
    let f = &ways.features[1];
    let props = f.properties.as_ref().unwrap();
    assert_eq!(props["road_id"], serde_json::json!(1));
    assert_eq!(props["ft_bike_infra"], serde_json::json!("buffered_lane"));
    assert_eq!(props["tf_seg_stress"], serde_json::Value::Null);
    assert_eq!(props["bicycle_no"], serde_json::json!(false));
    assert_eq!(props["tags"]["highway"], serde_json::json!("secondary"));
    // Coordinates survive bit-exact.
    let line: geo::LineString<f64> = f.geometry.clone().unwrap().value.try_into().unwrap();
    assert_eq!(line, data.segments[1].geom_ll);

    let blocks = read("neighborhood_census_blocks.geojson");
    assert_eq!(blocks.features.len(), 4);
    let props = blocks.features[0].properties.as_ref().unwrap();
    for col in [
        "geoid20",
        "pop20",
        "pop_low_stress",
        "trails_score",
        "overall_score",
        "recreation_score",
    ] {
        assert!(props.contains_key(col), "{col}");
    }
    let schools = read("neighborhood_schools.geojson");
    assert_eq!(schools.features.len(), 2);
    let props = schools.features[0].properties.as_ref().unwrap();
    assert_eq!(
        props["school_name"],
        serde_json::json!("Edmunds Elementary")
    );
    assert_eq!(
        props["blockid20"],
        serde_json::json!([data.blocks[0].geoid])
    );
    assert!(matches!(
        schools.features[0].geometry.as_ref().unwrap().value,
        geojson::Value::Point(_)
    ));
    assert_eq!(read("neighborhood_hospitals.geojson").features.len(), 0);
    let ints = read("neighborhood_ways_intersections.geojson");
    assert_eq!(
        ints.features[0].properties.as_ref().unwrap()["signalized"],
        serde_json::json!(true)
    );
}

#[test]
fn shapefile_export_truncates_field_names_like_pgsql2shp() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let project = Project::create_or_open(&written(dir.path(), &data)).unwrap();
    let out = dir.path().join("shp");
    let files = export(&project, ExportFormat::Shapefile, &out).unwrap();
    let mut expected = HashSet::new();
    for t in ["neighborhood_census_blocks", "neighborhood_ways"] {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            expected.insert(format!("{t}.{ext}"));
        }
    }
    assert_eq!(names(&files), expected);
    assert!(std::fs::read_to_string(out.join("neighborhood_ways.prj"))
        .unwrap()
        .contains("GCS_WGS_1984"));

    let mut reader = shapefile::Reader::from_path(out.join("neighborhood_ways.shp")).unwrap();
    let mut n = 0;
    for item in reader.iter_shapes_and_records() {
        let (shape, record) = item.unwrap();
        let shapefile::Shape::Polyline(line) = shape else {
            panic!("expected polylines, got {shape}");
        };
        let road_id = match record.get("road_id") {
            Some(shapefile::dbase::FieldValue::Numeric(Some(v))) => *v as usize,
            other => panic!("road_id {other:?}"),
        };
        let first = line.parts()[0][0];
        let expect = data.segments[road_id].geom_ll.0[0];
        assert!((first.x - expect.x).abs() < 1e-12 && (first.y - expect.y).abs() < 1e-12);
        for field in [
            "intersecti",
            "interse_01",
            "ft_bike_in",
            "ft_bike_01",
            "speed_limi",
            "ft_seg_str",
            "name",
        ] {
            assert!(record.get(field).is_some(), "{field} in {:?}", record);
        }
        assert!(
            record.get("tags").is_none(),
            "JSON tags are not in the shapefile"
        );
        if road_id == 1 {
            assert_eq!(
                record.get("name"),
                Some(&shapefile::dbase::FieldValue::Character(Some(
                    "Rue de l'Église 1".into()
                )))
            );
            assert_eq!(
                record.get("ft_bike_01"),
                Some(&shapefile::dbase::FieldValue::Numeric(Some(6.5)))
            );
        }
        n += 1;
    }
    assert_eq!(n, data.segments.len());

    let mut reader =
        shapefile::Reader::from_path(out.join("neighborhood_census_blocks.shp")).unwrap();
    let items: Vec<_> = reader
        .iter_shapes_and_records()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(items.len(), 4);
    let (shape, record) = &items[0];
    assert!(matches!(shape, shapefile::Shape::Polygon(_)));
    for field in [
        "geoid20",
        "pop_low_st",
        "pop_high_s",
        "social_ser",
        "social__01",
        "social__02",
        "overall_sc",
    ] {
        assert!(record.get(field).is_some(), "{field} in {record:?}");
    }
}

#[test]
fn csv_export_writes_the_reference_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let project = Project::create_or_open(&written(dir.path(), &data)).unwrap();
    let out = dir.path().join("csv");
    let files = export(&project, ExportFormat::Csv, &out).unwrap();
    let expected: HashSet<String> = [
        "neighborhood_connected_census_blocks",
        "neighborhood_overall_scores",
        "neighborhood_score_inputs",
        "residential_speed_limit",
        "mileage",
        "neighborhood_census_blocks",
    ]
    .iter()
    .map(|s| format!("{s}.csv"))
    .collect();
    assert_eq!(names(&files), expected);

    let read = |name: &str| -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::Reader::from_path(out.join(name)).unwrap();
        let headers = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(String::from).collect())
            .collect();
        (headers, rows)
    };
    let (h, rows) = read("neighborhood_connected_census_blocks.csv");
    assert_eq!(
        h,
        [
            "source_blockid20",
            "target_blockid20",
            "low_stress",
            "low_stress_cost",
            "high_stress",
            "high_stress_cost"
        ]
    );
    assert_eq!(rows.len(), data.pairs.len());
    // Pair (0, 0): low stress, cost 0 % 3 == 0 → NULL low-stress cost.
    assert_eq!(
        rows[0],
        [
            data.blocks[0].geoid.as_str(),
            data.blocks[0].geoid.as_str(),
            "t",
            "",
            "t",
            "0"
        ]
    );
    assert_eq!(rows[1][2], "f");

    let (h, rows) = read("neighborhood_overall_scores.csv");
    assert_eq!(
        h,
        [
            "id",
            "score_id",
            "score_original",
            "score_normalized",
            "human_explanation"
        ]
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2][..4], ["3", "overall_score", "0.961", "96.1"]);
    assert_eq!(rows[1][2], "");

    let (h, rows) = read("mileage.csv");
    assert_eq!(h, ["feature_type", "total_mileage"]);
    assert_eq!(rows, [["buffered_lane", "0.75"], ["path", "1.5"]]);

    let (h, rows) = read("residential_speed_limit.csv");
    assert_eq!(
        &h[..4],
        [
            "state_fips_code",
            "city_fips_code",
            "state_speed",
            "city_speed"
        ]
    );
    assert_eq!(rows.len(), 1);

    let (h, rows) = read("neighborhood_census_blocks.csv");
    assert!(h.contains(&"community_centers_score".to_string()));
    assert!(!h.contains(&"geom".to_string()));
    assert_eq!(rows.len(), 4);
}

#[test]
fn gpkg_export_is_a_valid_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let project = Project::create_or_open(&written(dir.path(), &data)).unwrap();
    let out = dir.path().join("gpkg");
    let files = export(&project, ExportFormat::Gpkg, &out).unwrap();
    assert_eq!(
        names(&files),
        HashSet::from(["burlington.gpkg".to_string()])
    );
    // Exporting again overwrites cleanly.
    let files = export(&project, ExportFormat::Gpkg, &out).unwrap();

    let conn = Connection::open(&files[0]).unwrap();
    let app: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app, 0x4750_4B47);
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let fk_violations = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count();
    assert_eq!(fk_violations, 0);

    let contents: Vec<(String, String, Option<i64>)> = conn
        .prepare("SELECT table_name, data_type, srs_id FROM gpkg_contents ORDER BY table_name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let features: HashSet<&str> = contents
        .iter()
        .filter(|c| c.1 == "features")
        .map(|c| c.0.as_str())
        .collect();
    for t in [
        "neighborhood_ways",
        "neighborhood_census_blocks",
        "neighborhood_schools",
        "neighborhood_transit",
        "neighborhood_boundary",
    ] {
        assert!(features.contains(t), "{t} in {features:?}");
    }
    assert_eq!(features.len(), 5 + 13);
    assert!(contents
        .iter()
        .all(|c| c.1 != "features" || c.2 == Some(4326)));
    assert!(contents
        .iter()
        .any(|c| c.0 == "neighborhood_overall_scores" && c.1 == "attributes"));

    let geom_cols: Vec<(String, String, String, i64)> = conn
        .prepare(
            "SELECT table_name, column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(geom_cols.len(), features.len());
    assert!(geom_cols.contains(&(
        "neighborhood_ways".into(),
        "geom".into(),
        "LINESTRING".into(),
        4326
    )));
    assert!(geom_cols.contains(&(
        "neighborhood_parks".into(),
        "geom_pt".into(),
        "POINT".into(),
        4326
    )));

    assert_eq!(
        count(&conn, "neighborhood_ways"),
        data.segments.len() as i64
    );
    assert_eq!(
        count(&conn, "rtree_neighborhood_ways_geom"),
        data.segments.len() as i64
    );
    let (extent_min_x, road_name): (f64, Option<String>) = conn
        .query_row(
            "SELECT (SELECT min_x FROM gpkg_contents WHERE table_name = 'neighborhood_ways'),
                    (SELECT name FROM neighborhood_ways WHERE road_id = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!((extent_min_x - LON0).abs() < 1e-12);
    assert_eq!(road_name.as_deref(), Some("Rue de l'Église 1"));

    // GeoPackage binary header: magic "GP", version 0, srs_id 4326 little-endian.
    let blob: Vec<u8> = conn
        .query_row(
            "SELECT geom FROM neighborhood_census_blocks LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(&blob[..2], b"GP");
    assert_eq!(blob[2], 0);
    assert_eq!(i32::from_le_bytes(blob[4..8].try_into().unwrap()), 4326);

    // SpatiaLite's GeoPackage reader agrees.
    drop(conn);
    let conn = connect_spatialite(&files[0]).unwrap();
    let valid_meta: i64 = conn
        .query_row("SELECT CheckGeoPackageMetaData()", [], |r| r.get(0))
        .unwrap();
    assert_eq!(valid_meta, 1);
    let bad: i64 = conn
        .query_row(
            "SELECT count(*) FROM neighborhood_census_blocks
             WHERE NOT IsValidGPB(geom) OR ST_GeometryType(GeomFromGPB(geom)) != 'MULTIPOLYGON'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0);
}

#[test]
fn thousands_of_rows_are_written_quickly() {
    let dir = tempfile::tempdir().unwrap();
    // 60 × 60 grid: 7,080 segments, 3,600 intersections, 3,481 blocks, 200,000 pairs.
    let data = sample(60);
    assert!(data.segments.len() > 7_000 && data.blocks.len() > 3_000);
    let path = dir.path().join("big.bna");
    let mut project = Project::create_or_open(&path).unwrap();
    let start = Instant::now();
    project.write_results(&data).unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(
        count(project.connection(), "neighborhood_connected_census_blocks"),
        200_000
    );
    assert_eq!(
        count(project.connection(), "neighborhood_ways"),
        data.segments.len() as i64
    );
    // Row-at-a-time autocommit would take minutes; one prepared transaction takes seconds.
    assert!(secs < 30.0, "write_results took {secs:.1} s");
}

#[test]
fn a_failed_write_leaves_the_previous_results_intact() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(3);
    let path = written(dir.path(), &data);
    let mut bad = sample(3);
    bad.segments.truncate(2);
    bad.destinations[0].blocks.push(999); // refers to a block that does not exist
    let mut project = Project::create_or_open(&path).unwrap();
    let err = project.write_results(&bad).unwrap_err();
    assert!(matches!(err, StoreError::InconsistentData(_)), "{err}");
    assert!(err.to_string().contains("block 999"), "{err}");
    drop(project);

    let project = Project::create_or_open(&path).unwrap();
    let back = project.read_results().unwrap().unwrap();
    assert_eq!(encoded(&back), encoded(&data));
    assert_eq!(
        count(project.connection(), "neighborhood_ways"),
        data.segments.len() as i64
    );
    assert_eq!(count(project.connection(), "bna_runs"), 1);
}
