//! "Run on AWS Batch" and "Test connection" when AWS cannot be used: no credentials, or an
//! endpoint that refuses connections (a closed port on 127.0.0.1). The app must say so in one
//! sentence naming what to do, submit nothing, and point the status line at the window
//! holding the sentence. The successful paths run against the emulator in `tests/app_cloud.rs`.
//!
//! This binary owns its AWS environment: no keys in the environment, the profile files are
//! temporary ones with a single profile "good", and the instance role is switched off.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bna_app::state::{FailurePanel, PopulationMode};
use bna_app::{BnaApp, RunForm, Status};
use bna_cloud::probe::PROBE_LIMIT;
use bna_cloud::CloudSettings;
use bna_test_support::app::{harness, options, step_until_within};
use bna_test_support::data_dir;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

/// The profile files, set before any AWS client is built (once per binary).
fn aws_env() {
    static FILES: OnceLock<tempfile::TempDir> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config");
        let creds = dir.path().join("credentials");
        std::fs::write(&config, "[profile good]\nregion = us-east-1\n").unwrap();
        std::fs::write(
            &creds,
            "[good]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
        )
        .unwrap();
        for v in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ] {
            std::env::remove_var(v);
        }
        std::env::set_var("AWS_CONFIG_FILE", &config);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &creds);
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        dir
    });
}

/// An endpoint nothing listens on.
fn closed_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("http://127.0.0.1:{port}")
}

fn settings(profile: Option<&str>) -> CloudSettings {
    CloudSettings {
        region: "us-east-1".into(),
        profile: profile.map(String::from),
        bucket: "bucket".into(),
        job_queue: "queue".into(),
        job_definition: "bna-worker".into(),
        organization: "Offline Org".into(),
        endpoint_url: Some(closed_endpoint()),
        ..CloudSettings::default()
    }
}

fn app(dir: &Path, settings: &CloudSettings) -> Harness<'static, BnaApp> {
    aws_env();
    settings.save_to(&dir.join("cloud.json")).expect("settings");
    let mut app = BnaApp::new(options(dir, None));
    app.set_cloud_settings_file(dir.join("cloud.json"));
    let data = data_dir();
    *app.form_mut() = RunForm {
        boundary: data
            .join("helsinki/boundary-centre.geojson")
            .display()
            .to_string(),
        osm: data
            .join("helsinki/helsinki-center.osm.pbf")
            .display()
            .to_string(),
        population: PopulationMode::Synthetic,
        out: dir.join("p.bna").display().to_string(),
        ..RunForm::default()
    };
    harness(app)
}

fn run_on_aws_batch(h: &mut Harness<'_, BnaApp>) {
    h.get_by_label("Run analysis").click();
    h.run_steps(2);
    h.get_by_label("Run on AWS Batch").click();
    h.run_steps(2);
    h.get_by_label("Confirm the AWS Batch run");
}

fn check_answer(h: &mut Harness<'_, BnaApp>) -> Result<(), String> {
    step_until_within(
        h,
        "the pre-submission check",
        PROBE_LIMIT + Duration::from_secs(40),
        |a| {
            a.cloud_confirmation()
                .is_some_and(|c| c.preflight().is_some())
        },
    );
    h.state()
        .cloud_confirmation()
        .and_then(|c| c.preflight())
        .expect("answered")
        .map(|_| ())
}

#[test]
fn without_credentials_the_confirmation_says_what_to_do_and_submits_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = app(dir.path(), &settings(None));
    run_on_aws_batch(&mut h);
    // The files are listed before AWS answers.
    h.get_by_label("helsinki-center.osm.pbf");
    let e = check_answer(&mut h).expect_err("no credentials");
    assert!(e.starts_with("no AWS credentials found"), "{e}");
    // One sentence, worded for the app (its settings window, not command-line options).
    assert!(e.contains("Cloud > Settings…"), "{e}");
    assert!(!e.contains("--profile") && !e.contains('\n'), "{e}");
    h.get_by_label(&format!("Cannot check AWS: {e}"));
    assert!(
        h.get_by_label("Submit to AWS Batch")
            .accesskit_node()
            .is_disabled(),
        "nothing can be submitted blind"
    );
    // The status line points at the window that holds the sentence.
    assert_eq!(h.state().failure_panel(), Some(FailurePanel::CloudConfirm));
    h.get_by_label_contains("(see the AWS Batch confirmation)");
    assert!(
        matches!(h.state().status(), Status::Failed(m) if m == &format!("Cannot run on AWS Batch: {e}"))
    );
    // "Cloud settings…" leads to the fix.
    h.get_by_label("Cloud settings…").click();
    h.run_steps(2);
    h.get_by_label("Cloud settings");
    assert!(h.state().cloud_confirmation().is_none());
    assert!(h.state().cloud_job().is_none(), "nothing submitted");
    assert!(!dir.path().join("p.bna").exists(), "no project created");
}

#[test]
fn cancel_closes_the_confirmation_without_submitting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = app(dir.path(), &settings(None));
    run_on_aws_batch(&mut h);
    // Once the check has answered: its sentence moves the buttons, and a click aimed at
    // the button's place in the frame before would land elsewhere.
    check_answer(&mut h).expect_err("no credentials");
    h.run_steps(1);
    h.get_by_label("Close without submitting").click();
    h.run_steps(2);
    assert!(h.query_by_label("Confirm the AWS Batch run").is_none());
    assert!(h.state().cloud_confirmation().is_none());
    h.run_steps(5);
    assert!(h.state().cloud_job().is_none(), "nothing submitted");
}

#[test]
fn test_connection_reports_an_unreachable_endpoint_in_one_sentence_within_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = settings(Some("good"));
    let endpoint = s.endpoint_url.clone().expect("endpoint");
    let mut h = app(dir.path(), &s);
    h.get_by_label("Cloud").click();
    h.run_steps(2);
    h.get_by_label("Settings…").click();
    h.run_steps(2);
    let t0 = Instant::now();
    h.get_by_label("Test connection").click();
    h.run_steps(1);
    step_until_within(
        &mut h,
        "the connection test",
        PROBE_LIMIT + Duration::from_secs(40),
        |a| {
            a.cloud()
                .connection
                .as_ref()
                .is_some_and(|p| p.answer().is_some())
        },
    );
    let took = t0.elapsed();
    let answer = h.state().cloud().connection.as_ref().unwrap().answer();
    let e = answer
        .expect("answered")
        .expect_err("nothing listens there");
    assert!(
        e.contains(&format!("cannot reach {endpoint}")) && e.contains("endpoint_url"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    h.get_by_label(&format!("Connection failed: {e}"));
    assert!(took < PROBE_LIMIT + Duration::from_secs(30), "{took:?}");

    // With no credentials, the same button says so before any request.
    h.get_by_label("Environment credentials").click();
    h.run_steps(2);
    h.get_by_label("Test connection").click();
    step_until_within(
        &mut h,
        "the second connection test",
        PROBE_LIMIT + Duration::from_secs(40),
        |a| {
            a.cloud()
                .connection
                .as_ref()
                .and_then(|p| p.answer())
                .is_some_and(|r| {
                    r.as_ref()
                        .is_err_and(|e| e.starts_with("no AWS credentials"))
                })
        },
    );
}
