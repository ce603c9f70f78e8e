//! Looking before submitting to AWS Batch: "Run on AWS Batch" opens a confirmation listing the
//! files to upload with their sizes, a rough duration and cost, and the organization's active
//! jobs that the submission will terminate; nothing is uploaded until the user confirms.
//! "Test connection" in Cloud settings asks the same read-only questions of AWS. Both run
//! `bna_cloud::probe` on a thread, bounded by `probe::PROBE_LIMIT`.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui::{self, Context, RichText, Ui};

use super::cloud_task::TaskStart;
use super::fetch_ui::human_bytes;
use super::state::{file_name, BnaApp, Status};
use super::task::TaskShared;
use bna_cloud::bundle::{self, JobInputs};
use bna_cloud::probe::{self, Estimate, JobSize, Preflight};
use bna_cloud::{CloudError, CloudSettings, SupersededJob};
use bna_engine::pipeline::AnalysisRequest;

/// The vCPUs of the packaged job definition (`packaging/aws/job-definition.json`), assumed
/// for the estimate when the queried definition does not say.
pub const DEFAULT_VCPUS: f64 = 4.0;

/// One file the submission uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRow {
    /// "boundary", "osm", … (the bundle's role prefix).
    pub role: String,
    pub path: PathBuf,
    pub bytes: u64,
}

/// The upload of `req`, file by file, as `bundle::prepare` will send it (Shapefile
/// companions included).
pub fn input_rows(req: &AnalysisRequest, organization: &str) -> Result<Vec<InputRow>, String> {
    let prepared =
        bundle::prepare(&JobInputs::from(req), organization).map_err(|e| app_wording(&e))?;
    prepared
        .files
        .into_iter()
        .map(|(path, name)| {
            let bytes = std::fs::metadata(&path)
                .map_err(|e| format!("{}: cannot read ({e})", path.display()))?
                .len();
            let role = name.split('-').next().unwrap_or_default().to_owned();
            Ok(InputRow { role, path, bytes })
        })
        .collect()
}

/// "About 6 min on 4 vCPU: 0.37 vCPU-hours, about $0.02."
pub fn estimate_line(e: &Estimate, vcpus: f64, assumed: bool) -> String {
    let cost = if e.usd < 0.01 {
        "under $0.01".to_owned()
    } else {
        format!("about ${:.2}", e.usd)
    };
    let vcpu_text = if vcpus.fract() == 0.0 {
        format!("{vcpus:.0}")
    } else {
        format!("{vcpus}")
    };
    let assumed = if assumed {
        " (assumed: the job definition does not say)"
    } else {
        ""
    };
    format!(
        "About {:.0} min on {vcpu_text} vCPU{assumed}: {:.2} vCPU-hours, {cost}.",
        e.minutes.ceil(),
        e.vcpu_hours
    )
}

/// What the submission does to the organization's other jobs, as one heading line.
pub fn supersede_heading(active: &[SupersededJob], organization: &str) -> String {
    match active.len() {
        0 => format!("No other job of {organization} is active: nothing will be cancelled."),
        1 => format!("Submitting terminates this active job of {organization}:"),
        n => format!("Submitting terminates these {n} active jobs of {organization}:"),
    }
}

/// A cloud error worded for the app: the command-line options it names are fields of the
/// Cloud settings window here.
pub fn app_wording(e: &CloudError) -> String {
    const SWAPS: [(&str, &str); 5] = [
        (
            "choose one with --profile (or `bna batch configure --profile NAME`)",
            "choose one in Cloud > Settings… (AWS profile)",
        ),
        (
            "or choose another with --profile",
            "or choose another in Cloud > Settings…",
        ),
        (
            "or choose others with --profile",
            "or choose others in Cloud > Settings…",
        ),
        (
            "(`bna batch configure --queue … --job-definition …`)",
            "in Cloud > Settings…",
        ),
        ("check the --", "check the "),
    ];
    SWAPS
        .iter()
        .fold(e.to_string(), |m, (from, to)| m.replace(from, to))
}

/// A read-only AWS question asked on a thread; `None` until answered.
pub struct Probe<T> {
    shared: Arc<TaskShared<Option<Result<T, String>>>>,
}

impl<T: Send + 'static> Probe<T> {
    pub fn spawn(
        ctx: Option<Context>,
        ask: impl FnOnce() -> Result<T, CloudError> + Send + 'static,
    ) -> Probe<T> {
        let shared = Arc::new(TaskShared::new(None, ctx));
        let worker = Arc::clone(&shared);
        let started = std::thread::Builder::new()
            .name("bna-cloud-probe".into())
            .spawn(move || {
                let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(ask))
                    .unwrap_or_else(|_| {
                        Err(CloudError::Transient(
                            "internal error while asking AWS; try again".into(),
                        ))
                    });
                worker.update(|a| *a = Some(answer.map_err(|e| app_wording(&e))));
            });
        if let Err(e) = started {
            shared.update(|a| *a = Some(Err(format!("cannot start a thread: {e}"))));
        }
        Probe { shared }
    }
}

impl<T: Clone> Probe<T> {
    pub fn answer(&self) -> Option<Result<T, String>> {
        self.shared.log().clone()
    }
}

impl<T> std::fmt::Debug for Probe<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").finish_non_exhaustive()
    }
}

/// The confirmation window's contents.
#[derive(Debug)]
pub struct Confirmation {
    pub req: AnalysisRequest,
    pub settings: CloudSettings,
    pub inputs: Vec<InputRow>,
    pub check: Probe<Preflight>,
}

impl Confirmation {
    pub fn total_bytes(&self) -> u64 {
        self.inputs.iter().map(|r| r.bytes).sum()
    }

    /// The jobs it would terminate, once AWS answered.
    pub fn preflight(&self) -> Option<Result<Preflight, String>> {
        self.check.answer()
    }
}

fn ask_preflight(settings: &CloudSettings, ctx: Option<Context>) -> Probe<Preflight> {
    let s = settings.clone();
    Probe::spawn(ctx, move || probe::preflight(&s, probe::PROBE_LIMIT))
}

impl BnaApp {
    /// The submission waiting for confirmation, if any (tests).
    pub fn cloud_confirmation(&self) -> Option<&Confirmation> {
        self.cloud.confirm.as_ref()
    }

    /// Opens the confirmation for `req` and starts asking AWS what it would cancel.
    pub(crate) fn confirm_cloud_run(
        &mut self,
        req: AnalysisRequest,
        settings: CloudSettings,
        ctx: Option<Context>,
    ) {
        let inputs = match input_rows(&req, &settings.organization) {
            Ok(rows) => rows,
            Err(e) => {
                self.status = Status::Failed(format!("Cannot run on AWS Batch: {e}"));
                return;
            }
        };
        let check = ask_preflight(&settings, ctx);
        self.cloud.confirm = Some(Confirmation {
            req,
            settings,
            inputs,
            check,
        });
    }

    /// Submits the confirmed run.
    pub(crate) fn submit_confirmed(&mut self) {
        let Some(c) = self.cloud.confirm.take() else {
            return;
        };
        self.status = Status::Done(format!(
            "Submitting {} to AWS Batch (queue {})",
            file_name(&c.req.out),
            c.settings.job_queue
        ));
        self.cloud.queue(TaskStart::Submit {
            settings: Box::new(c.settings),
            req: Box::new(c.req),
        });
        self.cloud.panel_open = true;
    }

    pub(crate) fn confirm_window(&mut self, ctx: &Context) {
        let Some(c) = &self.cloud.confirm else { return };
        let mut open = true;
        let (mut submit, mut again, mut settings) = (false, false, false);
        let answer = c.preflight();
        egui::Window::new("Confirm the AWS Batch run")
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .collapsible(false)
            .resizable(false)
            .default_width(460.0)
            .show(ctx, |ui| {
                let s = &c.settings;
                ui.label(format!(
                    "{} will be analysed on AWS Batch (queue {}, organization {}).",
                    file_name(&c.req.out),
                    s.job_queue,
                    s.organization
                ));
                ui.add_space(4.0);
                ui.strong("Files uploaded");
                egui::Grid::new("cloud_confirm_inputs")
                    .num_columns(3)
                    .spacing([10.0, 2.0])
                    .show(ui, |ui| {
                        for r in &c.inputs {
                            ui.label(r.role.as_str());
                            ui.label(file_name(&r.path))
                                .on_hover_text(r.path.display().to_string());
                            ui.label(human_bytes(r.bytes));
                            ui.end_row();
                        }
                        ui.label("");
                        ui.strong("Total");
                        ui.strong(human_bytes(c.total_bytes()));
                        ui.end_row();
                    });
                ui.add_space(4.0);
                ui.strong("Estimate");
                let size: Option<JobSize> = answer
                    .as_ref()
                    .and_then(|a| a.as_ref().ok())
                    .and_then(|p| p.job_size);
                let vcpus = size.map_or(DEFAULT_VCPUS, |s| s.vcpus);
                let e = probe::estimate(c.total_bytes(), vcpus);
                ui.label(estimate_line(&e, vcpus, answer.is_some() && size.is_none()));
                ui.add(egui::Label::new(RichText::new(probe::ESTIMATE_BASIS).weak()).wrap());
                ui.add_space(4.0);
                ui.strong("Active jobs");
                match &answer {
                    None => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label(format!(
                                "Asking AWS for the active jobs of {}…",
                                s.organization
                            ));
                        });
                    }
                    Some(Ok(p)) => {
                        let heading = supersede_heading(&p.active_jobs, &s.organization);
                        if p.active_jobs.is_empty() {
                            ui.label(heading);
                        } else {
                            ui.colored_label(ui.visuals().warn_fg_color, heading);
                            for j in &p.active_jobs {
                                ui.label(format!("{} ({}, {})", j.job_name, j.job_id, j.state));
                            }
                        }
                    }
                    Some(Err(e)) => {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("Cannot check AWS: {e}"))
                                    .color(ui.visuals().error_fg_color),
                            )
                            .wrap(),
                        );
                        ui.horizontal(|ui| {
                            again = ui.button("Check again").clicked();
                            settings = ui.button("Cloud settings…").clicked();
                        });
                    }
                }
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    let ready = matches!(answer, Some(Ok(_)));
                    submit = ui
                        .add_enabled(ready, egui::Button::new("Submit to AWS Batch"))
                        .on_disabled_hover_text(
                            "Available once AWS has said which jobs the submission would cancel",
                        )
                        .clicked();
                    if ui.button("Close without submitting").clicked() {
                        self.cloud.confirm_dismissed = true;
                    }
                });
            });
        let failed = match &answer {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        };
        if let Some(e) = failed {
            let msg = format!("Cannot run on AWS Batch: {e}");
            if self.status != Status::Failed(msg.clone()) {
                self.fail_in(msg, super::state::FailurePanel::CloudConfirm);
            }
        }
        if submit {
            self.submit_confirmed();
        } else if again {
            if let Some(c) = &mut self.cloud.confirm {
                c.check = ask_preflight(&c.settings, Some(ctx.clone()));
            }
        } else if settings {
            self.cloud.confirm = None;
            self.open_cloud_settings();
        }
        if !open || std::mem::take(&mut self.cloud.confirm_dismissed) {
            self.cloud.confirm = None;
        }
    }

    /// "Test connection" in Cloud settings: the form as typed (saved or not) is tried.
    pub(crate) fn test_cloud_connection(&mut self, ctx: &Context) {
        let Some(form) = &self.cloud.form else { return };
        let base = self.cloud.saved_or_default();
        match form.to_settings(&base) {
            Ok(s) => {
                self.cloud.connection = Some(Probe::spawn(Some(ctx.clone()), move || {
                    probe::test_connection(&s, probe::PROBE_LIMIT).map(|c| c.sentence())
                }));
            }
            Err(e) => {
                self.cloud.connection = None;
                self.cloud.settings_message = Some(Err(format!("Cannot test: {e}")));
            }
        }
    }

    /// The answer of "Test connection", under the button.
    pub(crate) fn connection_line(&self, ui: &mut Ui) {
        let Some(p) = &self.cloud.connection else {
            return;
        };
        match p.answer() {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Testing the connection…");
                });
            }
            Some(Ok(sentence)) => {
                ui.add(egui::Label::new(sentence).wrap());
            }
            Some(Err(e)) => {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("Connection failed: {e}"))
                            .color(ui.visuals().error_fg_color),
                    )
                    .wrap(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_cloud::JobState;

    #[test]
    fn estimate_lines() {
        let cases = [
            (0, 4.0, false, "About 5 min on 4 vCPU: 0.33 vCPU-hours, about $0.02."),
            (
                3_000_000,
                4.0,
                true,
                "About 6 min on 4 vCPU (assumed: the job definition does not say): 0.37 vCPU-hours, about $0.02.",
            ),
            (0, 0.25, false, "About 5 min on 0.25 vCPU: 0.02 vCPU-hours, under $0.01."),
            (
                600_000_000,
                8.0,
                false,
                "About 105 min on 8 vCPU: 14.00 vCPU-hours, about $0.70.",
            ),
        ];
        for (bytes, vcpus, assumed, want) in cases {
            let e = probe::estimate(bytes, vcpus);
            assert_eq!(estimate_line(&e, vcpus, assumed), want, "{bytes} {vcpus}");
        }
    }

    #[test]
    fn supersede_headings() {
        let job = |n: u32| SupersededJob {
            job_id: format!("id-{n}"),
            job_name: format!("bna-city-{n}"),
            state: JobState::Running,
        };
        let cases = [
            (
                vec![],
                "No other job of City is active: nothing will be cancelled.",
            ),
            (
                vec![job(1)],
                "Submitting terminates this active job of City:",
            ),
            (
                vec![job(1), job(2)],
                "Submitting terminates these 2 active jobs of City:",
            ),
        ];
        for (jobs, want) in cases {
            assert_eq!(supersede_heading(&jobs, "City"), want);
        }
    }

    #[test]
    fn cloud_errors_name_the_settings_window_not_options() {
        let cases = [
            (
                CloudError::Access("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, create a profile with `aws configure`, or choose one with --profile (or `bna batch configure --profile NAME`)".into()),
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, create a profile with `aws configure`, or choose one in Cloud > Settings… (AWS profile)",
            ),
            (
                CloudError::Access("AWS profile \"x\" (p) is not defined in a or b; create it with `aws configure --profile x`, or choose another with --profile".into()),
                "AWS profile \"x\" (p) is not defined in a or b; create it with `aws configure --profile x`, or choose another in Cloud > Settings…",
            ),
            (
                CloudError::BadInput("/tmp/b.geojson: not found; check the --boundary path".into()),
                "/tmp/b.geojson: not found; check the boundary path",
            ),
            (
                CloudError::Transient("x: cannot reach y (refused); check the network".into()),
                "x: cannot reach y (refused); check the network",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(app_wording(&e), want);
        }
    }

    #[test]
    fn input_rows_list_every_uploaded_file_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, n: usize| {
            let p = dir.path().join(name);
            std::fs::write(&p, vec![b'x'; n]).unwrap();
            p
        };
        let req = AnalysisRequest {
            boundary: write("b.geojson", 10),
            osm: write("c.osm.pbf", 2000),
            blocks: Some(write("blocks.shp", 300)),
            jobs: None,
            population: None,
            city_fips: None,
            state_fips: None,
            residential_speed: None,
            osm_clip: Default::default(),
            out: dir.path().join("p.bna"),
        };
        write("blocks.dbf", 40);
        let rows = input_rows(&req, "Org").expect("rows");
        let got: Vec<(&str, String, u64)> = rows
            .iter()
            .map(|r| (r.role.as_str(), file_name(&r.path), r.bytes))
            .collect();
        assert_eq!(
            got,
            [
                ("boundary", "b.geojson".to_owned(), 10),
                ("osm", "c.osm.pbf".to_owned(), 2000),
                ("blocks", "blocks.shp".to_owned(), 300),
                ("blocks", "blocks.dbf".to_owned(), 40),
            ]
        );
        let missing = AnalysisRequest {
            osm: dir.path().join("nope.osm.pbf"),
            ..req
        };
        let e = input_rows(&missing, "Org").unwrap_err();
        assert!(e.ends_with("not found; check the osm path"), "{e}");
    }
}
