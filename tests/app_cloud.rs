//! The app's AWS Batch offload driven through egui_kittest with the real BnaApp, against the
//! moto server of `tests/cloud.rs` (127.0.0.1, fake Docker engine: each job really runs the
//! `bna worker` built here). Settings are typed into the settings window, jobs are submitted
//! with the "Run on AWS Batch" button, and the results are compared with a local run.

use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use bna_app::cloud_task::{failure_line, TaskPhase};
use bna_app::jobs::{self, JobShared};
use bna_app::state::PopulationMode;
use bna_app::{panels, BnaApp, RunForm, Status};
use bna_cloud::{record, CloudClient, CloudSettings, JobState};
use bna_engine::model::ScoreRow;
use bna_engine::store::Project;
use bna_test_support::app::{harness, options, step_until_within};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

#[path = "support/aws_emulator.rs"]
mod aws_emulator;
use aws_emulator::{emulator, helsinki, repo, BUCKET, JOB_DEFINITION, QUEUE};

/// The app's SDK clients run in this process: give them the emulator's dummy credentials
/// through the environment (what "environment credentials" means in the settings).
fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_ENDPOINT_URL");
    });
}

fn app(dir: &Path, open: Option<PathBuf>) -> BnaApp {
    let mut app = BnaApp::new(options(dir, open));
    app.set_cloud_settings_file(dir.join("cloud.json"));
    app.set_cloud_poll_interval(Duration::from_secs(1));
    app
}

fn helsinki_form(out: &Path) -> RunForm {
    let (boundary, osm) = helsinki();
    RunForm {
        boundary: boundary.display().to_string(),
        osm: osm.display().to_string(),
        population: PopulationMode::Synthetic,
        out: out.display().to_string(),
        ..RunForm::default()
    }
}

/// The same analysis run locally, once per test binary, by the app's own job code:
/// the project and its scores.
fn local_run() -> &'static (tempfile::TempDir, PathBuf, Vec<ScoreRow>) {
    static LOCAL: OnceLock<(tempfile::TempDir, PathBuf, Vec<ScoreRow>)> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("local.bna");
        let req = helsinki_form(&out).request().expect("complete form");
        let loaded = jobs::analyse_and_load(&req, &JobShared::new(None)).expect("local analysis");
        (dir, out, loaded.data.overall_scores)
    })
}

fn local_scores() -> &'static [ScoreRow] {
    &local_run().2
}

fn overall(rows: &[ScoreRow]) -> Option<f64> {
    rows.iter()
        .find(|r| r.score_id == "overall_score")
        .and_then(|r| r.score_normalized)
}

fn settings_for(organization: &str) -> CloudSettings {
    CloudSettings {
        region: "us-east-1".into(),
        bucket: BUCKET.into(),
        job_queue: QUEUE.into(),
        job_definition: JOB_DEFINITION.into(),
        organization: organization.into(),
        endpoint_url: Some(emulator().endpoint.clone()),
        // moto writes every Batch log there, whatever the job definition's awslogs-group.
        log_group: "/aws/batch/job".into(),
        ..CloudSettings::default()
    }
}

fn fill(h: &mut Harness<'_, BnaApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run_steps(2);
    h.get_by_label(label).type_text(text);
    h.run_steps(2);
}

fn open_settings(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("Cloud").click();
    h.run_steps(2);
    h.get_by_label("Settings…").click();
    h.run_steps(2);
    h.get_by_label("Cloud settings");
}

/// "Run on AWS Batch" from the Run form; opens the confirmation (or the settings).
fn ask_run_on_aws_batch(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("Run analysis").click();
    h.run_steps(2);
    h.get_by_label("Run on AWS Batch").click();
    h.run_steps(2);
}

/// Waits for the confirmation to learn from AWS what it would cancel; returns the ids listed.
fn confirmation_checked(h: &mut Harness<'_, BnaApp>) -> Vec<String> {
    h.get_by_label("Confirm the AWS Batch run");
    step_until_within(
        h,
        "the pre-submission check",
        Duration::from_secs(60),
        |a| {
            a.cloud_confirmation()
                .is_some_and(|c| c.preflight().is_some())
        },
    );
    let check = h
        .state()
        .cloud_confirmation()
        .and_then(|c| c.preflight())
        .expect("answered");
    let pre = check.unwrap_or_else(|e| panic!("the check failed: {e}"));
    pre.active_jobs.into_iter().map(|j| j.job_id).collect()
}

fn confirm_submit(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("Submit to AWS Batch").click();
    h.run_steps(2);
    assert!(h.state().cloud_confirmation().is_none(), "confirmed");
}

fn click_run_on_aws_batch(h: &mut Harness<'_, BnaApp>) {
    ask_run_on_aws_batch(h);
    confirmation_checked(h);
    confirm_submit(h);
}

#[test]
fn settings_window_refuses_incomplete_settings_and_saves_complete_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cloud.json");
    let mut h = harness(app(dir.path(), None));
    open_settings(&mut h);
    h.get_by_label("Save").click();
    h.run_steps(2);
    let refused = h
        .get_by_label_contains("Not saved:")
        .value()
        .unwrap_or_default();
    assert!(
        refused.contains("region, bucket, job_queue, job_definition, organization"),
        "{refused}"
    );
    assert!(!file.exists(), "nothing saved");

    fill(&mut h, "Region", "us-east-1");
    fill(&mut h, "Bucket", "bna-bucket");
    fill(&mut h, "Job queue", "bna");
    fill(&mut h, "Job definition", "bna-worker");
    fill(&mut h, "Organization", "City of Example");
    fill(&mut h, "Endpoint URL", "127.0.0.1:5000");
    h.get_by_label("Save").click();
    h.run_steps(2);
    let refused = h
        .get_by_label_contains("Not saved:")
        .value()
        .unwrap_or_default();
    assert!(refused.contains("not a URL"), "{refused}");
    assert!(!file.exists());

    h.get_by_label("Endpoint URL").focus();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label("Endpoint URL")
        .type_text("http://127.0.0.1:5000");
    h.run_steps(2);
    // A profile without a name is refused; environment credentials are the default.
    h.get_by_label("AWS profile").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(2);
    let refused = h
        .get_by_label_contains("Not saved:")
        .value()
        .unwrap_or_default();
    assert!(refused.contains("name the AWS profile"), "{refused}");
    h.get_by_label("Environment credentials").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(2);
    h.get_by_label(&format!("Saved to {}", file.display()));
    let saved = CloudSettings::load_from(&file).expect("saved settings");
    assert_eq!(
        saved,
        CloudSettings {
            region: "us-east-1".into(),
            bucket: "bna-bucket".into(),
            job_queue: "bna".into(),
            job_definition: "bna-worker".into(),
            organization: "City of Example".into(),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
            profile: None,
            ..CloudSettings::default()
        }
    );
}

#[test]
fn run_on_aws_batch_without_settings_opens_them_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = app(dir.path(), None);
    *a.form_mut() = helsinki_form(&dir.path().join("p.bna"));
    let mut h = harness(a);
    ask_run_on_aws_batch(&mut h);
    h.get_by_label("Cloud settings");
    // In the settings window, as the run's error in the side panel, and at the start of the
    // status line, which points at the settings window.
    assert_eq!(
        h.get_all_by_label_contains("Cannot run on AWS Batch: no cloud settings yet")
            .count(),
        3
    );
    h.get_by_label_contains("(see the Cloud settings window)");
    assert!(h.query_by_label("Confirm the AWS Batch run").is_none());
    assert!(
        matches!(h.state().status(), Status::Failed(m) if m.starts_with("Cannot run on AWS Batch")),
        "{:?}",
        h.state().status()
    );
    assert!(h.state().cloud_job().is_none(), "nothing submitted");
}

#[test]
fn a_job_submitted_from_the_app_runs_on_batch_and_its_results_replace_the_map() {
    aws_env();
    let endpoint = emulator().endpoint.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("cloud.bna");
    let mut a = app(dir.path(), None);
    *a.form_mut() = helsinki_form(&project);
    let mut h = harness(a);
    open_settings(&mut h);
    fill(&mut h, "Region", "us-east-1");
    fill(&mut h, "Endpoint URL", &endpoint);
    fill(&mut h, "Bucket", BUCKET);
    fill(&mut h, "Job queue", QUEUE);
    fill(&mut h, "Job definition", JOB_DEFINITION);
    fill(&mut h, "Organization", "App E2E Org");
    // moto's log group (see `settings_for`), over the default the form starts with.
    h.get_by_label("Log group").focus();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(2);
    fill(&mut h, "Log group", "/aws/batch/job");
    h.get_by_label("Save").click();
    h.run_steps(2);
    h.get_by_label_contains("Saved to");
    // Test connection asks the emulator, read-only, and answers in one sentence.
    h.get_by_label("Test connection").click();
    h.run_steps(2);
    step_until_within(
        &mut h,
        "the connection test",
        Duration::from_secs(60),
        |a| {
            a.cloud()
                .connection
                .as_ref()
                .is_some_and(|p| p.answer().is_some())
        },
    );
    h.get_by_label(&format!(
        "Connected to {endpoint}: bucket {BUCKET} reachable, queue {QUEUE} enabled with no active job of this organization, job definition {JOB_DEFINITION} (4 vCPU) found."
    ));

    // The confirmation lists the files and their sizes, the estimate from the job
    // definition's 4 vCPUs, and (none of) the organization's jobs it would cancel.
    ask_run_on_aws_batch(&mut h);
    assert!(
        h.state().cloud_job().is_none(),
        "nothing submitted before the go"
    );
    assert_eq!(confirmation_checked(&mut h), Vec::<String>::new());
    let (boundary, osm) = helsinki();
    for f in [&boundary, &osm] {
        let size = std::fs::metadata(f).expect("input").len();
        h.get_by_label(&bna_app::fetch_ui::human_bytes(size));
    }
    h.get_by_label("helsinki-center.osm.pbf");
    h.get_by_label_contains("min on 4 vCPU:");
    h.get_by_label("No other job of App E2E Org is active: nothing will be cancelled.");
    confirm_submit(&mut h);
    let submit_frame = step_until_within(
        &mut h,
        "the job to be submitted",
        Duration::from_secs(120),
        |a| a.cloud_job_id().is_some(),
    );
    let job = h.state().cloud_job_id().expect("job id");
    h.get_by_label("Cloud job");
    h.get_by_label(&format!("Job {job}"));
    let follow_frame = step_until_within(&mut h, "the results", Duration::from_secs(400), |a| {
        a.project().is_some()
            || matches!(
                a.cloud_job(),
                Some((TaskPhase::Error(_) | TaskPhase::Ended, _))
            )
    });
    assert_eq!(
        h.state().cloud_job(),
        Some((TaskPhase::Fetched, Some(JobState::Succeeded))),
        "{:?}",
        h.state().cloud_status()
    );
    let app = h.state();
    let loaded = app.project().expect("the cloud results are open");
    assert_eq!(loaded.path, project);
    let local = local_scores();
    assert_eq!(
        loaded.data.overall_scores, local,
        "cloud and local scores differ"
    );
    let score = panels::format_score(overall(local));
    assert!(
        h.get_by_label(&score).rect().height() > 30.0,
        "the overall score {score} is shown large"
    );
    h.get_by_label("SUCCEEDED");
    h.get_by_label("Results imported into cloud.bna");
    assert!(
        matches!(h.state().status(), Status::Done(m) if m.contains(&job)),
        "{:?}",
        h.state().status()
    );
    // The timeline and the log came from Batch and CloudWatch while it ran.
    let st = h.state().cloud_status().expect("polled");
    let states: Vec<JobState> = st.timeline.iter().map(|e| e.state).collect();
    assert_eq!(states.first(), Some(&JobState::Submitted), "{states:?}");
    assert_eq!(states.last(), Some(&JobState::Succeeded), "{states:?}");
    assert!(states.len() >= 3, "the panel saw the job move: {states:?}");
    let log = h.state().cloud_log();
    assert!(
        log.iter()
            .any(|l| l.contains("bna worker: stage connectivity finished")),
        "{log:?}"
    );
    h.get_by_label(&format!("CloudWatch log ({} lines)", log.len()));
    // The log view sticks to its end.
    h.get_by_label(log.last().expect("log lines"));
    h.get_by_label("Worker finished all 8 stages");
    // Uploading, submitting, polling and importing all ran off the UI thread.
    let longest = submit_frame.max(follow_frame);
    assert!(
        longest < Duration::from_millis(500),
        "a frame took {longest:?} while the job was submitted and followed"
    );
    let rec = record::latest(&Project::create_or_open(&project).expect("project"))
        .expect("record")
        .expect("a job");
    assert_eq!(rec.job_id, job);
    assert!(rec.fetched_at.is_some(), "{rec:?}");
}

#[test]
fn a_failed_cloud_job_shows_its_reason() {
    aws_env();
    let dir = tempfile::tempdir().expect("tempdir");
    settings_for("App Failing Org")
        .save_to(&dir.path().join("cloud.json"))
        .expect("settings");
    let mut a = app(dir.path(), None);
    // A Helsinki boundary with a Washington DC extract: bad input, exit 2, not retried.
    let mut form = helsinki_form(&dir.path().join("bad.bna"));
    form.osm = repo("data/us-dc/dc-nw-2016-highways.osm.pbf")
        .display()
        .to_string();
    *a.form_mut() = form;
    let mut h = harness(a);
    click_run_on_aws_batch(&mut h);
    step_until_within(&mut h, "the job to fail", Duration::from_secs(300), |a| {
        matches!(
            a.cloud_job(),
            Some((TaskPhase::Ended | TaskPhase::Error(_), _))
        )
    });
    let st = h.state().cloud_status().expect("polled");
    assert_eq!(st.state, JobState::Failed, "{st:?}");
    assert_eq!(st.exit_code, Some(2), "{st:?}");
    let worker = st
        .progress
        .as_ref()
        .and_then(|p| p.error.clone())
        .expect("the worker's error");
    assert!(
        worker.message.contains("outside the OSM extract"),
        "{worker:?}"
    );
    // Batch's statusReason when it gives one (moto does not for a container exit), else
    // the worker's own message.
    let line = failure_line(&st).expect("a failure line");
    let reason = st.status_reason.clone().unwrap_or(worker.message.clone());
    assert_eq!(line, format!("FAILED: {reason}"));
    h.get_by_label(&line);
    h.get_by_label("FAILED");
    h.get_by_label("Exit code: 2");
    h.get_by_label(&format!("Worker error (bad_input): {}", worker.message));
    assert!(
        matches!(h.state().status(), Status::Failed(m) if m.contains(&line)),
        "{:?}",
        h.state().status()
    );
    assert!(h.state().project().is_none(), "nothing imported");
}

#[test]
fn reopening_the_project_reattaches_to_its_unfinished_job() {
    aws_env();
    let dir = tempfile::tempdir().expect("tempdir");
    settings_for("App Reattach Org")
        .save_to(&dir.path().join("cloud.json"))
        .expect("settings");
    let project = dir.path().join("reattach.bna");
    let job = {
        let mut a = app(dir.path(), None);
        *a.form_mut() = helsinki_form(&project);
        let mut h = harness(a);
        click_run_on_aws_batch(&mut h);
        step_until_within(
            &mut h,
            "the job to be submitted",
            Duration::from_secs(120),
            |a| a.cloud_job_id().is_some(),
        );
        h.state().cloud_job_id().expect("job id")
        // The app quits here, while the job runs.
    };
    let rec = record::latest(&Project::create_or_open(&project).expect("project"))
        .expect("record")
        .expect("the job is recorded in the project");
    assert_eq!(rec.job_id, job);
    assert!(!rec.state.is_terminal(), "{rec:?}");

    let mut h = harness(app(dir.path(), Some(project.clone())));
    step_until_within(&mut h, "the re-attach", Duration::from_secs(60), |a| {
        a.cloud_job_id().as_deref() == Some(job.as_str())
    });
    h.get_by_label("Cloud job");
    h.get_by_label(&format!("Job {job}"));
    step_until_within(&mut h, "the results", Duration::from_secs(400), |a| {
        a.project().is_some()
            || matches!(
                a.cloud_job(),
                Some((TaskPhase::Error(_) | TaskPhase::Ended, _))
            )
    });
    assert_eq!(
        h.state().cloud_job(),
        Some((TaskPhase::Fetched, Some(JobState::Succeeded))),
        "{:?}",
        h.state().cloud_status()
    );
    let loaded = h.state().project().expect("open");
    assert_eq!(loaded.path, project);
    assert_eq!(loaded.data.overall_scores, local_scores());
    h.get_by_label(&panels::format_score(overall(local_scores())));
}

#[test]
fn a_second_run_supersedes_the_first_and_cancel_terminates_with_batchs_reason() {
    aws_env();
    let dir = tempfile::tempdir().expect("tempdir");
    settings_for("App Supersede Org")
        .save_to(&dir.path().join("cloud.json"))
        .expect("settings");
    let project = dir.path().join("twice.bna");
    let mut a = app(dir.path(), None);
    *a.form_mut() = helsinki_form(&project);
    let mut h = harness(a);
    click_run_on_aws_batch(&mut h);
    step_until_within(&mut h, "the first job", Duration::from_secs(120), |a| {
        a.cloud_job_id().is_some()
    });
    let first = h.state().cloud_job_id().expect("job id");
    h.get_by_label("Run on AWS Batch").click();
    h.run_steps(2);
    // The confirmation names the running job the new one will terminate.
    assert_eq!(confirmation_checked(&mut h), vec![first.clone()]);
    h.get_by_label("Submitting terminates this active job of App Supersede Org:");
    h.get_by_label_contains(&format!("({first}, "));
    confirm_submit(&mut h);
    step_until_within(&mut h, "the second job", Duration::from_secs(120), |a| {
        a.cloud_job_id().is_some_and(|j| j != first)
    });
    let second = h.state().cloud_job_id().expect("job id");
    let notice = h
        .get_by_label_contains("Terminated the older job of App Supersede Org")
        .value()
        .unwrap_or_default();
    assert!(notice.contains(&first), "{notice}");

    // The button stays put while the panel fills in; the job is still far from done.
    assert!(h
        .state()
        .cloud_status()
        .is_none_or(|s| !s.state.is_terminal()));
    h.get_by_label("Cancel job").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Terminating…").is_some()
            || h.state()
                .cloud_status()
                .is_some_and(|s| s.state.is_terminal())
    );
    step_until_within(&mut h, "the job to end", Duration::from_secs(120), |a| {
        matches!(
            a.cloud_job(),
            Some((
                TaskPhase::Ended | TaskPhase::Error(_) | TaskPhase::Fetched,
                _
            ))
        )
    });
    let st = h.state().cloud_status().expect("polled");
    assert_eq!(
        (st.job_id.as_str(), st.state),
        (second.as_str(), JobState::Failed)
    );
    let reason = st.status_reason.clone().expect("Batch's statusReason");
    assert!(reason.contains("cancelled by the user"), "{reason}");
    h.get_by_label(&format!("FAILED: {reason}"));
    assert!(h.state().project().is_none(), "nothing imported");

    let p = Project::create_or_open(&project).expect("project");
    let old = record::find(&p, &first)
        .expect("record")
        .expect("first job");
    assert_eq!(old.superseded_by.as_deref(), Some(second.as_str()));
}

#[test]
fn a_job_that_succeeded_while_the_app_was_closed_is_imported_on_reopening() {
    aws_env();
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = settings_for("App Closed Org");
    settings
        .save_to(&dir.path().join("cloud.json"))
        .expect("settings");
    let project = dir.path().join("closed.bna");
    let job = {
        let mut a = app(dir.path(), None);
        *a.form_mut() = helsinki_form(&project);
        let mut h = harness(a);
        click_run_on_aws_batch(&mut h);
        step_until_within(
            &mut h,
            "the job to be submitted",
            Duration::from_secs(120),
            |a| a.cloud_job_id().is_some(),
        );
        h.state().cloud_job_id().expect("job id")
    };
    // Another client (as `bna batch status --wait` would) sees it succeed, and imports nothing.
    let client = CloudClient::connect(settings).expect("client");
    let t0 = Instant::now();
    while client.poll(&project, Some(&job)).expect("poll").state != JobState::Succeeded {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the job did not succeed"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let rec = record::find(&Project::create_or_open(&project).expect("project"), &job)
        .expect("record")
        .expect("the job");
    assert_eq!(
        (rec.state, rec.fetched_at.as_deref()),
        (JobState::Succeeded, None)
    );

    let mut h = harness(app(dir.path(), Some(project.clone())));
    step_until_within(&mut h, "the import", Duration::from_secs(120), |a| {
        a.project().is_some()
            || matches!(
                a.cloud_job(),
                Some((TaskPhase::Error(_) | TaskPhase::Ended, _))
            )
    });
    assert_eq!(
        h.state().cloud_job(),
        Some((TaskPhase::Fetched, Some(JobState::Succeeded)))
    );
    assert_eq!(
        h.state().project().expect("open").data.overall_scores,
        local_scores()
    );
    let rec = record::find(&Project::create_or_open(&project).expect("project"), &job)
        .expect("record")
        .expect("the job");
    assert!(rec.fetched_at.is_some(), "{rec:?}");
}

#[test]
fn opening_a_project_without_cloud_jobs_shows_no_panel_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("plain.bna");
    std::fs::copy(&local_run().1, &project).expect("copy");
    let mut h = harness(app(dir.path(), Some(project.clone())));
    step_until_within(
        &mut h,
        "the project and the job check",
        Duration::from_secs(60),
        |a| a.project().is_some() && a.cloud_job().is_some_and(|(p, _)| p == TaskPhase::Nothing),
    );
    h.run_steps(3);
    assert!(h.query_by_label("Cloud job").is_none(), "no panel");
    assert!(matches!(h.state().status(), Status::Done(m) if m.starts_with("Opened")));
    let conn = rusqlite::Connection::open(&project).expect("sqlite");
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'bna_cloud_jobs'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(tables, 0, "the check did not create the jobs table");
}
