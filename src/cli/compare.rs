//! `bna compare A B [--json] [--layer OUT.sqlite]`: two analyses side by side (two `.bna`
//! projects, or a project and the reference BNA's export folder), through
//! `bna_engine::compare`.

use std::path::PathBuf;

use bna_engine::compare;

use super::out::{out, outln};

#[derive(clap::Args)]
pub struct CompareArgs {
    /// A .bna project, or the reference BNA's export folder (its CSV tables, or its GeoJSON
    /// export with neighborhood_overall_scores.csv).
    a: PathBuf,
    /// The other side; every Δ is B − A.
    b: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Also write the differences as a SpatiaLite file for QGIS: segments whose stress or
    /// class differ (both values) or that one side lacks, and blocks with their |Δ| overall.
    #[arg(long, value_name = "OUT.sqlite")]
    layer: Option<PathBuf>,
    /// Replace a --layer file in the way that bna did not write (never a compared project).
    #[arg(long)]
    force: bool,
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let (a, b, report) = compare::compare_paths(&args.a, &args.b)?;
    if let Some(dest) = &args.layer {
        compare::layer::write_layer(dest, &report, &a, &b, super::overwrite(args.force))?;
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", compare::report::render(&report));
        if let Some(dest) = &args.layer {
            outln!("\ndifference layer: {}", dest.display());
        }
    }
    Ok(())
}
