//! Re-scoring a project after attribute edits, without re-importing anything: the stored
//! network is loaded, the edits are applied to a copy, stress is recomputed where an edit can
//! change it, and connectivity and scores are recomputed on the edited network.

use std::path::Path;
use std::time::Instant;

use super::{compute_connectivity, compute_scores, Observer, PipelineError, Stage};
use crate::model::{IntersectionEdit, ProjectData, SegmentEdit, StageTiming};
use crate::network::{edits, stress_assignment};
use crate::store::Project;

pub struct RescoreOutcome {
    /// The project's results with the edits applied: edited attributes, their stress, block
    /// pairs, block and city scores, mileage. `metadata` is that of the stored analysis.
    pub data: ProjectData,
    /// Segments whose stress was recomputed (the edited ones and their neighbours).
    pub restressed: Vec<u32>,
    /// Of those, the segments whose stress changed in some direction.
    pub stress_changed: Vec<u32>,
    /// `load` (only from [`rescore`]), `stress`, `connectivity`, `scoring`, in that order.
    pub timings: Vec<StageTiming>,
}

/// Applies `edits` to the network stored in the project at `project` and returns the new
/// scores. The project file is only read: the imported data and the stored results stay as
/// they are, so any number of scenarios can be scored against the same analysis.
pub fn rescore(
    project: &Path,
    edits: &[SegmentEdit],
    obs: &dyn Observer,
) -> Result<RescoreOutcome, PipelineError> {
    let t0 = Instant::now();
    obs.check()?;
    let data = load_results(project)?;
    let load = t0.elapsed().as_secs_f64();
    let mut out = rescore_loaded(&data, project, edits, &[], obs)?;
    out.timings.insert(
        0,
        StageTiming {
            stage: "load".to_owned(),
            seconds: load,
            from_checkpoint: false,
        },
    );
    Ok(out)
}

/// The stored results of the project at `project`, for [`rescore_loaded`]; an input error if
/// the file is missing (it is never created) or has no analysis yet.
pub fn load_results(project: &Path) -> Result<ProjectData, PipelineError> {
    // `Project::open` names a missing path, a FIFO, a folder or an empty file for what it is.
    Project::open(project)?.read_results()?.ok_or_else(|| {
        PipelineError::Input(format!(
            "{}: the project has no results yet; run `bna analyze` on it first",
            project.display()
        ))
    })
}

/// [`rescore`] on results already loaded (`base`, from [`load_results`] of `project`, which
/// only names the project in errors), with intersection edits as well: callers that score
/// many scenarios load once. Timings are `stress`, `connectivity`, `scoring`.
pub fn rescore_loaded(
    base: &ProjectData,
    project: &Path,
    edits: &[SegmentEdit],
    crossings: &[IntersectionEdit],
    obs: &dyn Observer,
) -> Result<RescoreOutcome, PipelineError> {
    let mut timings = Vec::new();
    let mut lap = |stage: &str, t0: Instant| {
        timings.push(StageTiming {
            stage: stage.to_owned(),
            seconds: t0.elapsed().as_secs_f64(),
            from_checkpoint: false,
        })
    };
    obs.check()?;
    let n = base.segments.len();
    if let Some(bad) = edits.iter().find(|e| e.road_id as usize >= n) {
        return Err(PipelineError::Input(format!(
            "{}: an edit refers to segment {} but the project has segments 0–{}; use a road_id of neighborhood_ways",
            project.display(),
            bad.road_id,
            n.saturating_sub(1)
        )));
    }
    let m = base.intersections.len();
    if let Some(bad) = crossings.iter().find(|e| e.int_id as usize >= m) {
        return Err(PipelineError::Input(format!(
            "{}: an edit refers to intersection {} but the project has intersections 0–{}; use an int_id of neighborhood_ways_intersections",
            project.display(),
            bad.int_id,
            m.saturating_sub(1)
        )));
    }
    let mut data = base.clone();

    let t0 = Instant::now();
    obs.stage_started(Stage::Stress);
    let before: Vec<_> = data.segments.iter().map(|s| s.stress).collect();
    for e in edits {
        edits::apply_change(&mut data.segments[e.road_id as usize].attrs, &e.change);
    }
    for c in crossings {
        edits::apply_control(&mut data.intersections[c.int_id as usize].flags, c.control);
    }
    let edited: Vec<u32> = edits.iter().map(|e| e.road_id).collect();
    let mut restressed = edits::affected_segments(&data.segments, &edited);
    if !crossings.is_empty() {
        let ints: Vec<u32> = crossings.iter().map(|c| c.int_id).collect();
        restressed.extend(edits::segments_at(&data.segments, &ints));
        restressed.sort_unstable();
        restressed.dedup();
    }
    obs.set_total(restressed.len() as u64);
    stress_assignment::assign_stress_to(
        &mut data.segments,
        &data.intersections,
        data.residential_speed_limit,
        &restressed,
    );
    obs.inc(restressed.len() as u64);
    let stress_changed: Vec<u32> = restressed
        .iter()
        .copied()
        .filter(|&r| data.segments[r as usize].stress != before[r as usize])
        .collect();
    finish(obs, Stage::Stress, t0);
    lap("stress", t0);

    // The boundary in the metric CRS, computed as the analysis computed it.
    let boundary = data.projection.project(&data.boundary_ll);
    obs.check()?;
    let t0 = Instant::now();
    obs.stage_started(Stage::Connectivity);
    let conn = compute_connectivity(
        &data.segments,
        &data.intersections,
        &data.blocks,
        &boundary,
        &data.trails,
        obs,
    )?;
    finish(obs, Stage::Connectivity, t0);
    lap("connectivity", t0);

    obs.check()?;
    let t0 = Instant::now();
    obs.stage_started(Stage::Scoring);
    let scores = compute_scores(
        &data.blocks,
        &conn,
        &data.destinations,
        &data.segments,
        &boundary,
    );
    data.pairs = conn.pairs;
    data.block_scores = scores.block_scores;
    data.overall_scores = scores.overall_scores;
    data.mileage = scores.mileage;
    finish(obs, Stage::Scoring, t0);
    lap("scoring", t0);

    Ok(RescoreOutcome {
        data,
        restressed,
        stress_changed,
        timings,
    })
}

fn finish(obs: &dyn Observer, stage: Stage, t0: Instant) {
    obs.stage_finished(stage, t0.elapsed().as_secs_f64(), false);
}
