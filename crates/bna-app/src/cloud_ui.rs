//! The app's side of the AWS Batch offload (issue 4): the Cloud menu, the settings window,
//! "Run on AWS Batch", and the job panel. The work happens in [`super::cloud_task`]; the
//! settings are the account's (`CloudSettings`, kept outside any project).

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::{self, Context, RichText, Ui};

use super::cloud_task::{
    clock, elapsed, failure_line, progress_line, timeline_rows, CloudTask, RowMark, TaskPhase,
    TaskStart,
};
use super::state::{file_name, BnaApp, FailurePanel, Status};
use bna_cloud::{jobs, settings, Backend, CloudError, CloudSettings, JobState};
use bna_engine::pipeline::AnalysisRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// `AWS_ACCESS_KEY_ID`/… or the SDK's default chain (SSO, instance role).
    Environment,
    /// A named profile of `~/.aws/config`.
    Profile,
}

/// The settings window's fields, as typed. Only names: credentials never pass through the
/// app, they stay in the profile or the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsForm {
    pub region: String,
    pub credentials: Credentials,
    pub profile: String,
    pub endpoint_url: String,
    pub bucket: String,
    pub job_queue: String,
    pub job_definition: String,
    pub organization: String,
    pub log_group: String,
}

impl SettingsForm {
    pub fn from_settings(s: &CloudSettings) -> SettingsForm {
        SettingsForm {
            region: s.region.clone(),
            credentials: if s.profile.is_some() {
                Credentials::Profile
            } else {
                Credentials::Environment
            },
            profile: s.profile.clone().unwrap_or_default(),
            endpoint_url: s.endpoint_url.clone().unwrap_or_default(),
            bucket: s.bucket.clone(),
            job_queue: s.job_queue.clone(),
            job_definition: s.job_definition.clone(),
            organization: s.organization.clone(),
            log_group: s.log_group.clone(),
        }
    }

    /// `base` with the form's fields, or why they cannot be saved. Fields the window does not
    /// show (prefix, RUNNABLE threshold) keep their saved values.
    pub fn to_settings(&self, base: &CloudSettings) -> Result<CloudSettings, CloudError> {
        let t = |s: &str| s.trim().to_owned();
        let opt = |s: &str| Some(t(s)).filter(|s| !s.is_empty());
        let profile = match self.credentials {
            Credentials::Environment => None,
            Credentials::Profile => Some(opt(&self.profile).ok_or_else(|| {
                CloudError::Config(
                    "name the AWS profile (from ~/.aws/config), or choose environment credentials"
                        .into(),
                )
            })?),
        };
        let endpoint_url = opt(&self.endpoint_url);
        if let Some(u) = &endpoint_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(CloudError::Config(format!(
                    "endpoint {u:?} is not a URL: write it as http://host:port (an emulator such as moto), or leave it empty for AWS"
                )));
            }
        }
        let s = CloudSettings {
            region: t(&self.region),
            profile,
            bucket: t(&self.bucket),
            job_queue: t(&self.job_queue),
            job_definition: t(&self.job_definition),
            organization: t(&self.organization),
            log_group: opt(&self.log_group).unwrap_or_else(|| base.log_group.clone()),
            endpoint_url,
            ..base.clone()
        };
        s.check_complete()?;
        if jobs::org_slug(&s.organization).is_none() {
            return Err(CloudError::Config(format!(
                "organization {:?} needs a letter or digit: job names are made from it",
                s.organization
            )));
        }
        Ok(s)
    }
}

/// The Cloud menu's state, kept in [`BnaApp`].
#[derive(Debug)]
pub struct CloudUi {
    /// The settings file; `None`: the user's (`settings::settings_path`).
    pub settings_file: Option<PathBuf>,
    pub poll_interval: Duration,
    pub settings_open: bool,
    pub form: Option<SettingsForm>,
    /// The reason the last Save was refused, or where it saved.
    pub settings_message: Option<Result<String, String>>,
    pub panel_open: bool,
    pub task: Option<CloudTask>,
    /// The task's panel was opened for it once (re-attach shows it when found).
    auto_shown: bool,
    /// The task's failure was put in the status line.
    failure_reported: bool,
    /// The task was started by opening a project (re-attach), not by a submission.
    attaching: bool,
    /// Queued in the frame that asked, started with the frame's Context (as local runs).
    pending: Option<TaskStart>,
    /// "Run on AWS Batch" waiting for the user's go (`cloud_confirm`).
    pub confirm: Option<super::cloud_confirm::Confirmation>,
    /// The confirmation's Cancel was pressed this frame.
    pub(crate) confirm_dismissed: bool,
    /// "Test connection" under way or answered: one sentence.
    pub connection: Option<super::cloud_confirm::Probe<String>>,
}

impl Default for CloudUi {
    fn default() -> Self {
        CloudUi {
            settings_file: None,
            poll_interval: Duration::from_secs(bna_engine::params::CLOUD_POLL_SECS),
            settings_open: false,
            form: None,
            settings_message: None,
            panel_open: false,
            task: None,
            auto_shown: false,
            failure_reported: false,
            attaching: false,
            pending: None,
            confirm: None,
            confirm_dismissed: false,
            connection: None,
        }
    }
}

impl CloudUi {
    fn settings_path(&self) -> Result<PathBuf, CloudError> {
        match &self.settings_file {
            Some(p) => Ok(p.clone()),
            None => settings::settings_path(),
        }
    }

    /// The saved settings; `None` before the first save.
    fn saved(&self) -> Result<Option<CloudSettings>, CloudError> {
        let path = self.settings_path()?;
        if !path.exists() {
            return Ok(None);
        }
        CloudSettings::load_from(&path).map(Some)
    }

    /// Called when a project was opened or analysed: follow its unfinished job, if any.
    /// One job is followed at a time: while one is still running, or finished for this very
    /// project (its panel stays), nothing else is attached.
    pub(crate) fn project_opened(&mut self, path: &Path) {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let keep = |t: &CloudTask| {
            let v = t.view();
            match v.phase {
                TaskPhase::Checking
                | TaskPhase::Submitting
                | TaskPhase::Following
                | TaskPhase::Fetching => true,
                TaskPhase::Fetched | TaskPhase::Ended => v.project == path,
                TaskPhase::Nothing | TaskPhase::Error(_) => false,
            }
        };
        if self.pending.is_some() || self.task.as_ref().is_some_and(keep) {
            return;
        }
        let Ok(settings_file) = self.settings_path() else {
            // Without a config folder there are no settings, so only local jobs could be
            // followed; the task reports a missing file for AWS jobs.
            return self.queue(TaskStart::Attach {
                project: path,
                settings_file: PathBuf::new(),
            });
        };
        self.queue(TaskStart::Attach {
            project: path,
            settings_file,
        });
    }

    /// The saved settings, or the defaults when there are none (or they cannot be read).
    pub(crate) fn saved_or_default(&self) -> CloudSettings {
        self.saved().ok().flatten().unwrap_or_default()
    }

    pub(crate) fn queue(&mut self, start: TaskStart) {
        self.pending = Some(start);
    }
}

impl BnaApp {
    pub fn cloud(&self) -> &CloudUi {
        &self.cloud
    }

    /// Where the settings are read and saved (tests; the default is the user's config).
    pub fn set_cloud_settings_file(&mut self, path: PathBuf) {
        self.cloud.settings_file = Some(path);
    }

    pub fn set_cloud_poll_interval(&mut self, d: Duration) {
        self.cloud.poll_interval = d;
    }

    /// The state of the followed job, if any: phase and last polled state.
    pub fn cloud_job(&self) -> Option<(TaskPhase, Option<JobState>)> {
        self.cloud.task.as_ref().map(|t| {
            let v = t.view();
            (v.phase.clone(), v.status.as_ref().map(|s| s.state))
        })
    }

    /// The last poll of the followed job.
    pub fn cloud_status(&self) -> Option<bna_cloud::JobStatus> {
        self.cloud
            .task
            .as_ref()
            .and_then(|t| t.view().status.clone())
    }

    /// The followed job's id, once submitted or found.
    pub fn cloud_job_id(&self) -> Option<String> {
        self.cloud
            .task
            .as_ref()
            .and_then(|t| t.view().job_id.clone())
    }

    /// The CloudWatch log lines received so far.
    pub fn cloud_log(&self) -> Vec<String> {
        self.cloud
            .task
            .as_ref()
            .map(|t| t.view().logs.clone())
            .unwrap_or_default()
    }

    pub fn open_cloud_settings(&mut self) {
        self.cloud.settings_message = None;
        let form = match self.cloud.saved() {
            Ok(s) => SettingsForm::from_settings(&s.unwrap_or_default()),
            Err(e) => {
                self.cloud.settings_message = Some(Err(e.to_string()));
                SettingsForm::from_settings(&CloudSettings::default())
            }
        };
        self.cloud.form = Some(form);
        self.cloud.settings_open = true;
    }

    /// Validates and saves the settings window's fields; the reason is shown when refused.
    pub fn save_cloud_settings(&mut self) {
        let Some(form) = &self.cloud.form else { return };
        let base = self.cloud.saved().ok().flatten().unwrap_or_default();
        let saved = form.to_settings(&base).and_then(|s| {
            let path = self.cloud.settings_path()?;
            s.save_to(&path)?;
            Ok(path)
        });
        self.cloud.settings_message = Some(match saved {
            Ok(p) => Ok(format!("Saved to {}", p.display())),
            Err(e) => Err(format!("Not saved: {e}")),
        });
    }

    /// Asks to submit the Run form's analysis to AWS Batch: opens the confirmation (files,
    /// estimate, the jobs it cancels); when the settings are missing or incomplete, opens
    /// them with the reason instead.
    pub fn run_on_aws_batch(&mut self) {
        let req = match self.form.request() {
            Ok(r) => r,
            Err(e) => {
                self.status = Status::Failed(e);
                return;
            }
        };
        let settings = match self.cloud.saved() {
            Ok(Some(s)) => s.check_complete().map(|_| s),
            Ok(None) => Err(CloudError::Config(
                "no cloud settings yet: fill in Cloud > Settings… and save".into(),
            )),
            Err(e) => Err(e),
        };
        let settings = match settings {
            Ok(s) => s,
            Err(e) => {
                self.open_cloud_settings();
                let msg = format!("Cannot run on AWS Batch: {e}");
                self.cloud.settings_message = Some(Err(msg.clone()));
                self.fail_in(msg, FailurePanel::CloudSettings);
                return;
            }
        };
        let out = std::path::absolute(&req.out).unwrap_or_else(|_| req.out.clone());
        if let Some(dir) = out.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                self.status =
                    Status::Failed(format!("{}: cannot create folder ({e})", dir.display()));
                return;
            }
        }
        let req = AnalysisRequest { out, ..req };
        self.confirm_cloud_run(req, settings, None);
    }

    pub fn cancel_cloud_job(&mut self) {
        if let Some(t) = &self.cloud.task {
            t.cancel();
        }
    }

    /// The Cloud menu, in the menu bar.
    pub(crate) fn cloud_menu(&mut self, ui: &mut Ui) {
        ui.menu_button("Cloud", |ui| {
            if ui.button("Settings…").clicked() {
                self.open_cloud_settings();
                ui.close();
            }
            if ui.button("Run on AWS Batch").clicked() {
                self.run_on_aws_batch();
                ui.close();
            }
            if ui
                .add_enabled(
                    self.cloud.task.is_some(),
                    egui::Button::new("Show job panel"),
                )
                .clicked()
            {
                self.cloud.panel_open = true;
                ui.close();
            }
        });
    }

    /// "Run on AWS Batch", beside the Run button of the Run form.
    pub(crate) fn cloud_run_button(&mut self, ui: &mut Ui) {
        if ui
            .button("Run on AWS Batch")
            .on_hover_text(
                "Upload the inputs and run this analysis on AWS Batch (Cloud > Settings…)",
            )
            .clicked()
        {
            self.run_on_aws_batch();
        }
    }

    /// Once per frame: starts queued tasks, takes fetched results, draws the windows.
    pub(crate) fn cloud_frame(&mut self, ctx: &Context) {
        if let Some(start) = self.cloud.pending.take() {
            let submit = matches!(start, TaskStart::Submit { .. });
            self.cloud.attaching = !submit;
            // Replacing the task stops following the old job; it goes on in AWS.
            self.cloud.auto_shown = false;
            self.cloud.failure_reported = false;
            self.cloud.task = Some(CloudTask::spawn(
                start,
                self.cloud.poll_interval,
                Some(ctx.clone()),
            ));
            if submit {
                self.cloud.panel_open = true;
            }
        }
        self.take_cloud_results();
        if self.cloud.confirm.is_some() {
            self.confirm_window(ctx);
            if self
                .cloud
                .confirm
                .as_ref()
                .is_some_and(|c| c.preflight().is_none())
            {
                // The probe thread has no Context to wake: look again shortly.
                ctx.request_repaint_after(Duration::from_millis(100));
            }
        }
        if self
            .cloud
            .connection
            .as_ref()
            .is_some_and(|p| p.answer().is_none())
        {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        if self.cloud.settings_open {
            self.settings_window(ctx);
        }
        let visible = self
            .cloud
            .task
            .as_ref()
            .map(|t| t.view().phase.clone())
            .filter(|p| *p != TaskPhase::Nothing);
        if let Some(phase) = visible {
            // A re-attached job opens the panel once, when found; closing it is the user's.
            if !self.cloud.auto_shown && phase != TaskPhase::Checking {
                self.cloud.auto_shown = true;
                self.cloud.panel_open = true;
                if self.cloud.attaching && phase == TaskPhase::Following {
                    // Replaces "the project has no results yet" when its run is in the cloud.
                    let (job, project) =
                        self.cloud.task.as_ref().map_or_else(Default::default, |t| {
                            let v = t.view();
                            (v.job_id.clone().unwrap_or_default(), file_name(&v.project))
                        });
                    self.status = Status::Done(format!(
                        "Re-attached to AWS Batch job {job} of {project}; its results are imported when it succeeds"
                    ));
                }
            }
            if self.cloud.panel_open {
                self.job_window(ctx);
            }
        }
    }

    fn take_cloud_results(&mut self) {
        let Some(t) = &self.cloud.task else { return };
        let (loaded, job, failed) = {
            let mut v = t.view();
            let failed = match (&v.phase, &v.status) {
                (TaskPhase::Ended, Some(st)) => failure_line(st),
                (TaskPhase::Error(e), _) => Some(e.clone()),
                _ => None,
            };
            (
                v.loaded.take(),
                v.job_id.clone().unwrap_or_default(),
                failed,
            )
        };
        if let Some(loaded) = loaded {
            self.status = Status::Done(format!(
                "Imported the results of AWS Batch job {job} into {}",
                file_name(&loaded.path)
            ));
            self.remember(&loaded.path.clone());
            self.set_project(loaded);
        } else if let Some(reason) = failed {
            // Once per task, so that a later action's status is not overwritten.
            if !self.cloud.failure_reported {
                self.cloud.failure_reported = true;
                let who = if job.is_empty() {
                    "AWS Batch".to_owned()
                } else {
                    format!("AWS Batch job {job}")
                };
                self.fail_in(format!("{who}: {reason}"), FailurePanel::CloudJob);
            }
        }
    }

    fn settings_window(&mut self, ctx: &Context) {
        let mut open = true;
        let mut save = false;
        let mut test = false;
        // Over the map, not over the Run form it is used with.
        let centre = ctx.content_rect().center();
        egui::Window::new("Cloud settings")
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(centre)
            .collapsible(false)
            .resizable(false)
            .default_width(420.0)
            .show(ctx, |ui| {
                let Some(f) = &mut self.cloud.form else { return };
                ui.weak("Kept outside any project, in your config folder. Credentials are not stored: they come from an AWS profile or the environment.");
                ui.add_space(4.0);
                egui::Grid::new("cloud_settings")
                    .num_columns(2)
                    .spacing([8.0, 4.0])
                    .show(ui, |ui| {
                        text_row(ui, "Region", &mut f.region, "eu-west-1");
                        ui.label("Credentials");
                        ui.horizontal(|ui| {
                            ui.radio_value(&mut f.credentials, Credentials::Environment, "Environment credentials");
                            ui.radio_value(&mut f.credentials, Credentials::Profile, "AWS profile");
                        });
                        ui.end_row();
                        let name = ui.label("Profile");
                        ui.add_enabled(
                            f.credentials == Credentials::Profile,
                            egui::TextEdit::singleline(&mut f.profile).hint_text("default"),
                        )
                        .labelled_by(name.id);
                        ui.end_row();
                        text_row(ui, "Endpoint URL", &mut f.endpoint_url, "empty for AWS; http://127.0.0.1:5000 for moto");
                        text_row(ui, "Bucket", &mut f.bucket, "");
                        text_row(ui, "Job queue", &mut f.job_queue, "");
                        text_row(ui, "Job definition", &mut f.job_definition, "");
                        text_row(ui, "Organization", &mut f.organization, "one active job per organization");
                        text_row(ui, "Log group", &mut f.log_group, "/aws/batch/bna");
                    });
                ui.add_space(4.0);
                match &self.cloud.settings_message {
                    Some(Ok(m)) => {
                        ui.label(m.as_str());
                    }
                    Some(Err(m)) => {
                        ui.add(egui::Label::new(RichText::new(m.as_str()).color(ui.visuals().error_fg_color)).wrap());
                    }
                    None => {}
                }
                ui.horizontal(|ui| {
                    save = ui.button("Save").clicked();
                    test = ui
                        .button("Test connection")
                        .on_hover_text("Checks, read-only, that the credentials are found and the bucket, queue and job definition answer (as typed, saved or not)")
                        .clicked();
                });
                self.connection_line(ui);
            });
        if save {
            self.save_cloud_settings();
        }
        if test {
            self.test_cloud_connection(ctx);
        }
        if !open {
            self.cloud.settings_open = false;
            self.cloud.settings_message = None;
        }
    }

    fn job_window(&mut self, ctx: &Context) {
        let mut open = true;
        let mut cancel = false;
        let right = ctx.content_rect().right();
        egui::Window::new("Cloud job")
            .open(&mut open)
            .default_pos([right - 470.0, 40.0])
            .default_width(440.0)
            .collapsible(true)
            .show(ctx, |ui| {
                let Some(task) = &self.cloud.task else { return };
                let v = task.view();
                ui.horizontal(|ui| {
                    ui.strong(file_name(&v.project));
                    if let Some(name) = &v.job_name {
                        ui.weak(name.as_str());
                    }
                });
                let aws = v.status.as_ref().is_none_or(|s| s.backend == Backend::Aws);
                let active = matches!(v.phase, TaskPhase::Following)
                    && v.status.as_ref().is_none_or(|s| !s.state.is_terminal());
                // At the top, so it does not move while lines appear below.
                ui.horizontal(|ui| {
                    let label = if v.cancel_sent {
                        "Terminating…"
                    } else {
                        "Cancel job"
                    };
                    if ui
                        .add_enabled(active && aws && !v.cancel_sent, egui::Button::new(label))
                        .on_hover_text("TerminateJob: stops the job even if it is running")
                        .clicked()
                    {
                        cancel = true;
                    }
                    if let Some(id) = &v.job_id {
                        ui.weak(format!("Job {id}"));
                    }
                });
                if let Some(n) = &v.notice {
                    ui.add(
                        egui::Label::new(RichText::new(n).color(ui.visuals().warn_fg_color)).wrap(),
                    );
                }
                match &v.phase {
                    TaskPhase::Checking => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Looking for the project's cloud job…");
                        });
                    }
                    TaskPhase::Submitting => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Uploading the inputs and submitting…");
                        });
                    }
                    TaskPhase::Fetching => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Downloading and importing the results…");
                        });
                    }
                    TaskPhase::Fetched => {
                        ui.label(format!("Results imported into {}", file_name(&v.project)));
                    }
                    TaskPhase::Error(e) => {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("Error: {e}"))
                                    .strong()
                                    .color(ui.visuals().error_fg_color),
                            )
                            .wrap(),
                        );
                    }
                    TaskPhase::Following | TaskPhase::Ended | TaskPhase::Nothing => {}
                }
                if let Some(st) = &v.status {
                    if let Some(f) = failure_line(st) {
                        ui.add(
                            egui::Label::new(
                                RichText::new(f)
                                    .size(16.0)
                                    .strong()
                                    .color(ui.visuals().error_fg_color),
                            )
                            .wrap(),
                        );
                        if let Some(e) = st.progress.as_ref().and_then(|p| p.error.as_ref()) {
                            ui.add(
                                egui::Label::new(format!(
                                    "Worker error ({}): {}",
                                    e.kind, e.message
                                ))
                                .wrap(),
                            );
                        }
                    } else if let Some(r) = &st.status_reason {
                        ui.add(egui::Label::new(format!("Reason: {r}")).wrap());
                    }
                    if let Some(c) = st.exit_code {
                        ui.label(format!("Exit code: {c}"));
                    }
                    if let Some(w) = &st.runnable_warning {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("Warning: {w}"))
                                    .color(ui.visuals().warn_fg_color),
                            )
                            .wrap(),
                        );
                    }
                    ui.add_space(4.0);
                    let submitted = st.timeline.first().map(|e| e.at_ms);
                    egui::Grid::new("cloud_timeline")
                        .num_columns(3)
                        .spacing([10.0, 2.0])
                        .show(ui, |ui| {
                            for row in timeline_rows(&st.timeline, st.state) {
                                let text = RichText::new(row.state.as_str());
                                let text = match row.mark {
                                    RowMark::Waiting | RowMark::Skipped => text.weak(),
                                    RowMark::Current => text.strong(),
                                    RowMark::Seen => text,
                                };
                                timeline_mark(ui, row.mark, row.state);
                                ui.label(text);
                                match (row.at_ms, submitted) {
                                    (Some(at), Some(t0)) => {
                                        ui.weak(format!("{}  (+{})", clock(at), elapsed(at - t0)))
                                    }
                                    _ if row.mark == RowMark::Skipped => {
                                        ui.weak("passed between polls")
                                    }
                                    _ => ui.weak(""),
                                };
                                ui.end_row();
                            }
                        });
                    if let Some(line) = st.progress.as_ref().and_then(progress_line) {
                        ui.label(line);
                    }
                }
                if let Some(e) = &v.poll_error {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("Could not poll: {e}"))
                                .color(ui.visuals().warn_fg_color),
                        )
                        .wrap(),
                    );
                }
                if aws {
                    ui.separator();
                    ui.label(format!("CloudWatch log ({} lines)", v.logs.len()));
                    if let Some(e) = &v.log_error {
                        ui.colored_label(ui.visuals().warn_fg_color, format!("Log: {e}"));
                    }
                    let row_h = ui.text_style_height(&egui::TextStyle::Monospace);
                    egui::ScrollArea::vertical()
                        .max_height(220.0)
                        .stick_to_bottom(true)
                        .auto_shrink([false, true])
                        .show_rows(ui, row_h, v.logs.len(), |ui, rows| {
                            for line in &v.logs[rows] {
                                ui.add(
                                    egui::Label::new(RichText::new(line.as_str()).monospace())
                                        .extend(),
                                );
                            }
                        });
                }
            });
        if cancel {
            self.cancel_cloud_job();
        }
        if !open {
            self.cloud.panel_open = false;
        }
    }
}

/// A dot per state, painted: the UI font has no geometric symbols.
fn timeline_mark(ui: &mut Ui, mark: RowMark, state: JobState) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
    let c = rect.center();
    let v = ui.visuals();
    let color = match (mark, state) {
        (RowMark::Current, JobState::Failed) => v.error_fg_color,
        (RowMark::Current, JobState::Succeeded) => egui::Color32::from_rgb(0x2e, 0x9d, 0x4f),
        (RowMark::Current, _) => v.strong_text_color(),
        _ => v.weak_text_color(),
    };
    let p = ui.painter();
    let _ = match mark {
        RowMark::Seen | RowMark::Current => {
            p.circle_filled(c, if mark == RowMark::Current { 5.0 } else { 4.0 }, color)
        }
        RowMark::Waiting => p.circle_stroke(c, 4.0, egui::Stroke::new(1.0, color)),
        RowMark::Skipped => p.circle_filled(c, 1.5, color),
    };
}

fn text_row(ui: &mut Ui, label: &str, value: &mut String, hint: &str) {
    let name = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .hint_text(hint)
            .desired_width(260.0),
    )
    .labelled_by(name.id);
    ui.end_row();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> SettingsForm {
        SettingsForm {
            region: " eu-west-1 ".into(),
            credentials: Credentials::Environment,
            profile: "ignored".into(),
            endpoint_url: String::new(),
            bucket: "b".into(),
            job_queue: "q".into(),
            job_definition: "d".into(),
            organization: "City of Example".into(),
            log_group: String::new(),
        }
    }

    #[test]
    fn settings_form_validation() {
        type Edit = fn(&mut SettingsForm);
        /// Ok(saved profile, endpoint), or a part of the refusal.
        type Want = Result<(Option<&'static str>, Option<&'static str>), &'static str>;
        let cases: [(Edit, Want); 7] = [
            (|_| {}, Ok((None, None))),
            (
                |f| {
                    f.credentials = Credentials::Profile;
                    f.profile = " work ".into();
                },
                Ok((Some("work"), None)),
            ),
            (
                |f| f.endpoint_url = "http://127.0.0.1:5000".into(),
                Ok((None, Some("http://127.0.0.1:5000"))),
            ),
            (
                |f| f.endpoint_url = "127.0.0.1:5000".into(),
                Err("not a URL"),
            ),
            (
                |f| {
                    f.credentials = Credentials::Profile;
                    f.profile = "  ".into();
                },
                Err("name the AWS profile"),
            ),
            (
                |f| {
                    f.region.clear();
                    f.job_queue = " ".into();
                },
                Err("lack region, job_queue"),
            ),
            (
                |f| f.organization = "--".into(),
                Err("needs a letter or digit"),
            ),
        ];
        let base = CloudSettings {
            prefix: "custom".into(),
            runnable_warning_secs: 60,
            ..CloudSettings::default()
        };
        for (i, (edit, want)) in cases.into_iter().enumerate() {
            let mut f = complete();
            edit(&mut f);
            match (f.to_settings(&base), want) {
                (Ok(s), Ok((profile, endpoint))) => {
                    assert_eq!(s.region, "eu-west-1", "case {i}");
                    assert_eq!(s.profile.as_deref(), profile, "case {i}");
                    assert_eq!(s.endpoint_url.as_deref(), endpoint, "case {i}");
                    // Fields the window does not show keep their saved values.
                    assert_eq!((s.prefix.as_str(), s.runnable_warning_secs), ("custom", 60));
                    assert_eq!(s.log_group, base.log_group);
                    assert_eq!(
                        SettingsForm::from_settings(&s).to_settings(&base).ok(),
                        Some(s)
                    );
                }
                (Err(e), Err(part)) => assert!(e.to_string().contains(part), "case {i}: {e}"),
                (got, want) => panic!("case {i}: got {got:?}, want {want:?}"),
            }
        }
    }
}
