//! End-to-end `bna analyze` on the bundled Washington DC case (a fresh project each run, so no
//! checkpoint is reused). Run with `cargo bench --bench analyze`; criterion reports the median.

use std::path::Path;

use bna::pipeline::{self, AnalysisRequest, PopulationChoice, SilentObserver};
use criterion::{criterion_group, criterion_main, Criterion};

fn data(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(p)
}

fn dc_end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("analyze");
    group.sample_size(10);
    let mut run = 0;
    group.bench_function("dc_columbia_heights", |b| {
        b.iter(|| {
            run += 1;
            let req = AnalysisRequest {
                boundary: data("us-dc/boundary-columbia-heights.geojson"),
                osm: data("us-dc/dc-nw-2016-highways.osm.pbf"),
                blocks: Some(data("us-dc/tl_2021_11_tabblock20.zip")),
                jobs: Some(data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")),
                population: Some(PopulationChoice::Synthetic),
                city_fips: None,
                state_fips: Some("11".into()),
                residential_speed: None,
                out: dir.path().join(format!("dc-{run}.bna")),
            };
            pipeline::run(&req, &SilentObserver::default()).expect("DC analysis")
        })
    });
    group.finish();
}

criterion_group!(benches, dc_end_to_end);
criterion_main!(benches);
