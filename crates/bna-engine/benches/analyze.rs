//! End-to-end `bna analyze` on the bundled Washington DC case (a fresh project each run, so no
//! checkpoint is reused). Run with `cargo bench --bench analyze`; criterion reports the median.

use bna_engine::pipeline::{self, SilentObserver};
use criterion::{criterion_group, criterion_main, Criterion};

fn data_dir() -> std::path::PathBuf {
    bna_test_support::repo_root().join("data")
}

fn dc_end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("analyze");
    group.sample_size(10);
    let mut run = 0;
    group.bench_function("dc_columbia_heights", |b| {
        b.iter(|| {
            run += 1;
            let req = bna_engine::pipeline::demo::dc_request(
                &data_dir(),
                dir.path().join(format!("dc-{run}.bna")),
            );
            pipeline::run(&req, &SilentObserver::default()).expect("DC analysis")
        })
    });
    group.finish();
}

criterion_group!(benches, dc_end_to_end);
criterion_main!(benches);
