//! The stages after validation as a list of values, as osm2streets lists its transformations:
//! each entry names its stage and runs it — restored from its checkpoint when the key matches —
//! adding what it made to the [`Analysis`] under way. [`run_stages`] walks the list for the
//! request's OSM cut, so adding or timing a stage is one entry here.

use std::collections::BTreeMap;
use std::time::Instant;

use super::*;

/// One stage of the list: which it is, and how it runs.
pub(super) struct StageStep {
    pub stage: Stage,
    run: fn(&mut Analysis<'_>, &mut Runner<'_>) -> Result<(), PipelineError>,
}

/// Buffer mode: the network first, as the legacy pipeline did.
const RING_ORDER: [StageStep; 6] = [OSM, BLOCKS, STRESS, CONNECTIVITY, DESTINATIONS, SCORING];
/// The reference's cut needs the kept blocks' bounding box, so the blocks come first.
const REFERENCE_ORDER: [StageStep; 6] = [BLOCKS, OSM, STRESS, CONNECTIVITY, DESTINATIONS, SCORING];

const OSM: StageStep = StageStep {
    stage: Stage::Osm,
    run: osm,
};
const BLOCKS: StageStep = StageStep {
    stage: Stage::Blocks,
    run: blocks,
};
const STRESS: StageStep = StageStep {
    stage: Stage::Stress,
    run: stress,
};
const CONNECTIVITY: StageStep = StageStep {
    stage: Stage::Connectivity,
    run: connectivity,
};
const DESTINATIONS: StageStep = StageStep {
    stage: Stage::Destinations,
    run: destinations,
};
const SCORING: StageStep = StageStep {
    stage: Stage::Scoring,
    run: scoring,
};

fn steps(clip: OsmClip) -> &'static [StageStep] {
    match clip {
        OsmClip::Buffer => &RING_ORDER,
        OsmClip::Boundary => &REFERENCE_ORDER,
    }
}

/// The order in which a run with this OSM cut goes through its stages, validation first and
/// the save last.
pub fn stage_order(clip: OsmClip) -> Vec<Stage> {
    let middle = steps(clip).iter().map(|s| s.stage);
    std::iter::once(Stage::Boundary)
        .chain(middle)
        .chain(std::iter::once(Stage::Save))
        .collect()
}

/// What the stages have made so far, and the checkpoint keys they made it under (a stage's
/// key includes the keys of the stages it reads, so a change anywhere upstream recomputes it).
pub(super) struct Analysis<'a> {
    req: &'a AnalysisRequest,
    v: &'a Validated,
    blocks: Option<(String, BlocksStage)>,
    /// The blocks' checkpoint waits until the OSM file has been read: a bad extract must leave
    /// an existing project as it was, whichever stage ran first.
    blocks_pending: Option<PendingCheckpoint>,
    clip: Option<ingest::osm_clip::ReferenceClip>,
    osm: Option<(String, OsmStage)>,
    residential_default: Option<u32>,
    stressed: Option<(String, Vec<Segment>)>,
    conn: Option<(String, ConnectivityStage)>,
    dests: Option<(String, Vec<Destination>)>,
    scores: Option<ScoringStage>,
}

impl<'a> Analysis<'a> {
    fn input_sha(&self, role: &str) -> String {
        self.v
            .inputs
            .iter()
            .find(|f| f.role == role)
            .map(|f| f.sha256.clone())
            .unwrap_or_default()
    }
}

/// A stage's input, made by an earlier entry of the list.
fn made<'t, T>(v: &'t Option<T>, what: &str) -> &'t T {
    v.as_ref()
        .unwrap_or_else(|| panic!("stage order: {what} is made by an earlier stage"))
}

fn blocks(a: &mut Analysis<'_>, runner: &mut Runner<'_>) -> Result<(), PipelineError> {
    let (req, v) = (a.req, a.v);
    let key = key_of(&[
        "blocks",
        &a.input_sha("boundary"),
        &a.input_sha("blocks"),
        &a.input_sha("jobs"),
        &format!("{:?}", v.population),
    ]);
    let (blocks, pending) =
        runner.stage_unsaved(Stage::Blocks, &key, |obs| build_blocks(req, v, obs))?;
    if let Some(problem) = blocks_problem(req, &blocks) {
        return Err(PipelineError::Input(problem));
    }
    if a.osm.is_some() {
        runner.save(pending)?;
    } else {
        a.blocks_pending = pending;
    }
    a.blocks = Some((key, blocks));
    Ok(())
}

fn osm(a: &mut Analysis<'_>, runner: &mut Runner<'_>) -> Result<(), PipelineError> {
    let (osm_sha, boundary_sha) = (a.input_sha("osm"), a.input_sha("boundary"));
    let key = match a.req.osm_clip {
        OsmClip::Buffer => key_of(&["osm", &osm_sha, &boundary_sha]),
        OsmClip::Boundary => {
            let (_, blocks) = made(&a.blocks, "the blocks");
            let clip = reference_clip(a.req, &a.v.boundary_ll, &blocks.blocks)?;
            // The box is part of the key, so a changed mode or box never restores the other
            // network.
            let bbox = clip.bbox().to_degrees_text();
            a.clip = Some(clip);
            key_of(&["osm", &osm_sha, &boundary_sha, "clip=boundary", &bbox])
        }
    };
    let built = osm_stage(a.req, a.v, runner, &key, a.clip.as_ref())?;
    runner.save(a.blocks_pending.take())?;
    a.osm = Some((key, built));
    Ok(())
}

fn stress(a: &mut Analysis<'_>, runner: &mut Runner<'_>) -> Result<(), PipelineError> {
    let req = a.req;
    let (osm_key, osm) = made(&a.osm, "the network");
    let (_, blocks) = made(&a.blocks, "the blocks");
    let residential_default = req.residential_speed.or_else(|| {
        let state = req.state_fips.clone().or_else(|| blocks.state_fips.clone());
        ingest::speed::residential_speed(state.as_deref(), req.city_fips.as_deref())
    });
    let key = key_of(&["stress", osm_key, &format!("{residential_default:?}")]);
    // The checkpoint holds only what this stage adds (stress and rule ids per segment): the
    // segments themselves are already in the osm checkpoint.
    let stress = runner.stage(Stage::Stress, &key, |obs| {
        let mut segs = osm.segments.clone();
        obs.set_total(segs.len() as u64);
        stress_assignment::assign_stress(&mut segs, &osm.intersections, residential_default);
        obs.inc(segs.len() as u64);
        Ok(segs
            .into_iter()
            .map(|s| (s.stress, s.stress_rules))
            .collect::<Vec<_>>())
    })?;
    if stress.len() != osm.segments.len() {
        return Err(PipelineError::Input(format!(
            "{}: the stress checkpoint has {} segments for {}; delete the file and analyse again",
            req.out.display(),
            stress.len(),
            osm.segments.len()
        )));
    }
    let segments = osm
        .segments
        .iter()
        .zip(stress)
        .map(|(s, (stress, rules))| Segment {
            stress,
            stress_rules: rules,
            ..s.clone()
        })
        .collect();
    a.residential_default = residential_default;
    a.stressed = Some((key, segments));
    Ok(())
}

fn connectivity(a: &mut Analysis<'_>, runner: &mut Runner<'_>) -> Result<(), PipelineError> {
    let (stress_key, segments) = made(&a.stressed, "the stress");
    let (blocks_key, blocks) = made(&a.blocks, "the blocks");
    let (_, osm) = made(&a.osm, "the network");
    let key = key_of(&["connectivity", stress_key, blocks_key]);
    let conn = runner.stage(Stage::Connectivity, &key, |obs| {
        compute_connectivity(
            segments,
            &osm.intersections,
            &blocks.blocks,
            &a.v.boundary,
            &osm.trails,
            obs,
        )
    })?;
    a.conn = Some((key, conn));
    Ok(())
}

fn destinations(a: &mut Analysis<'_>, runner: &mut Runner<'_>) -> Result<(), PipelineError> {
    let (osm_key, osm) = made(&a.osm, "the network");
    let (blocks_key, blocks) = made(&a.blocks, "the blocks");
    let key = key_of(&["destinations", osm_key, blocks_key]);
    let dests = runner.stage(Stage::Destinations, &key, |obs| {
        obs.set_total(osm.features.len() as u64);
        let d = destinations::build_destinations(&osm.features, &blocks.blocks);
        obs.inc(osm.features.len() as u64);
        Ok(d)
    })?;
    a.dests = Some((key, dests));
    Ok(())
}

fn scoring(a: &mut Analysis<'_>, runner: &mut Runner<'_>) -> Result<(), PipelineError> {
    let (conn_key, conn) = made(&a.conn, "the connectivity");
    let (dest_key, dests) = made(&a.dests, "the destinations");
    let (_, segments) = made(&a.stressed, "the stress");
    let (_, blocks) = made(&a.blocks, "the blocks");
    let key = key_of(&["scoring", conn_key, dest_key]);
    let scores = runner.stage(Stage::Scoring, &key, |_| {
        Ok(compute_scores(
            &blocks.blocks,
            conn,
            dests,
            segments,
            &a.v.boundary,
        ))
    })?;
    a.scores = Some(scores);
    Ok(())
}

/// Runs the list for the request's OSM cut, then saves the results (the save stage).
pub(super) fn run_stages(
    req: &AnalysisRequest,
    v: Validated,
    runner: &mut Runner<'_>,
) -> Result<AnalysisOutcome, PipelineError> {
    let mut a = Analysis {
        req,
        v: &v,
        blocks: None,
        blocks_pending: None,
        clip: None,
        osm: None,
        residential_default: None,
        stressed: None,
        conn: None,
        dests: None,
        scores: None,
    };
    for step in steps(req.osm_clip) {
        (step.run)(&mut a, runner)?;
    }
    save(a, runner)
}

/// The parameters a run records beside its results.
fn parameters(a: &Analysis<'_>, blocks: &BlocksStage) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    p.insert(
        "max_trip_distance_m".into(),
        params::MAX_TRIP_DISTANCE_M.to_string(),
    );
    p.insert(PARAM_OSM_CLIP.into(), a.req.osm_clip.as_str().into());
    match &a.clip {
        Some(clip) => p.insert(PARAM_OSM_CLIP_BBOX.into(), clip.bbox().to_degrees_text()),
        None => p.insert(
            "osm_clip_buffer_m".into(),
            params::OSM_CLIP_BUFFER_M.to_string(),
        ),
    };
    p.insert(
        "low_stress_detour_ratio".into(),
        params::LOW_STRESS_DETOUR_RATIO.to_string(),
    );
    p.insert(
        "block_min_share_inside".into(),
        params::BLOCK_MIN_SHARE_INSIDE.to_string(),
    );
    let (mph, source) = residential_default_text(a.req, a.residential_default, blocks);
    p.insert("residential_speed_default_mph".into(), mph);
    p.insert("residential_speed_default_source".into(), source);
    p.insert(
        "population".into(),
        blocks.population_source.as_str().into(),
    );
    p
}

/// The residential default speed as the project records it (`20`, or `none`), and where it
/// came from, so that a reader of the project can tell an assumption from a measurement.
fn residential_default_text(
    req: &AnalysisRequest,
    mph: Option<u32>,
    blocks: &BlocksStage,
) -> (String, String) {
    let Some(mph) = mph else {
        return (
            "none".into(),
            "none: no --residential-speed and no table row for the place, so untagged \
             residential streets are high stress"
                .into(),
        );
    };
    let source = if req.residential_speed.is_some() {
        "--residential-speed".to_string()
    } else if let Some(city) = req
        .city_fips
        .as_deref()
        .filter(|c| ingest::speed::residential_speed(None, Some(c)).is_some())
    {
        format!("PeopleForBikes city table, place FIPS {city}")
    } else {
        let state = req.state_fips.clone().or_else(|| blocks.state_fips.clone());
        format!(
            "PeopleForBikes state table, state FIPS {}",
            state.unwrap_or_default()
        )
    };
    (mph.to_string(), source)
}

fn save(mut a: Analysis<'_>, runner: &mut Runner<'_>) -> Result<AnalysisOutcome, PipelineError> {
    let (_, blocks) = a.blocks.take().expect("stage order: the blocks");
    let (_, osm) = a.osm.take().expect("stage order: the network");
    let (_, segments) = a.stressed.take().expect("stage order: the stress");
    let (_, conn) = a.conn.take().expect("stage order: the connectivity");
    let (_, dests) = a.dests.take().expect("stage order: the destinations");
    let scores = a.scores.take().expect("stage order: the scores");
    let parameters = parameters(&a, &blocks);
    let v = a.v;
    let proj = v.projection;
    let mut warnings = osm.warnings.clone();
    warnings.extend(blocks.warnings.iter().cloned());

    let mut data = ProjectData {
        boundary_ll: v.boundary_ll.clone(),
        projection: proj,
        segments,
        intersections: osm.intersections,
        blocks: blocks.blocks,
        destinations: dests,
        trails: osm.trails,
        block_scores: scores.block_scores,
        pairs: conn.pairs,
        overall_scores: scores.overall_scores,
        mileage: scores.mileage,
        residential_speed_limit: a.residential_default,
        metadata: RunMetadata {
            engine_version: ENGINE_VERSION.to_owned(),
            finished_at: now_utc(),
            population_source: blocks.population_source,
            jobs_source: blocks.jobs_source,
            parameters,
            inputs: v.inputs.clone(),
            stage_timings: Vec::new(),
            projection_epsg: proj.epsg(),
        },
    };
    let t_save = Instant::now();
    runner.obs.stage_started(Stage::Save);
    data.metadata.stage_timings = runner.timings.clone();
    runner.project.write_results(&data)?;
    let water: Vec<_> = osm
        .features
        .iter()
        .filter(|f| ingest::osm::is_water_area(&f.tags))
        .filter_map(|f| f.area.as_ref().map(|a| (f.osm_id, proj.unproject(a))))
        .collect();
    runner.project.write_basemap_water(&water)?;
    runner.finish(Stage::Save, t_save, false, ());
    data.metadata.stage_timings = runner.timings.clone();
    Ok(AnalysisOutcome { data, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_runs_once_in_either_order() {
        for clip in OsmClip::ALL {
            let order = stage_order(clip);
            let mut sorted = order.clone();
            sorted.sort_by_key(|s| Stage::ALL.iter().position(|a| a == s));
            assert_eq!(sorted, Stage::ALL.to_vec(), "{clip:?}");
            assert_eq!(order.first(), Some(&Stage::Boundary));
            assert_eq!(order.last(), Some(&Stage::Save));
        }
        let pos = |clip, s| stage_order(clip).iter().position(|x| *x == s);
        // The reference's cut needs the blocks' box before it reads the network.
        assert!(pos(OsmClip::Boundary, Stage::Blocks) < pos(OsmClip::Boundary, Stage::Osm));
        assert!(pos(OsmClip::Buffer, Stage::Osm) < pos(OsmClip::Buffer, Stage::Blocks));
    }
}
