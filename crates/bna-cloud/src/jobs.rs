//! Pure rules about Batch jobs: states and their timeline, the RUNNABLE-too-long warning,
//! job names that carry the organization, and which worker exits are retried.

use serde::{Deserialize, Serialize};

use bna_engine::params;

/// AWS Batch job states (Batch User Guide "Job states").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Submitted,
    Pending,
    Runnable,
    Starting,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub const ACTIVE: [JobState; 5] = [
        JobState::Submitted,
        JobState::Pending,
        JobState::Runnable,
        JobState::Starting,
        JobState::Running,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Submitted => "SUBMITTED",
            JobState::Pending => "PENDING",
            JobState::Runnable => "RUNNABLE",
            JobState::Starting => "STARTING",
            JobState::Running => "RUNNING",
            JobState::Succeeded => "SUCCEEDED",
            JobState::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        Self::ACTIVE
            .into_iter()
            .chain([JobState::Succeeded, JobState::Failed])
            .find(|j| j.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a state was first observed (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub state: JobState,
    pub at_ms: i64,
}

/// Appends `state` when it differs from the last observed one; returns whether it did.
/// Polling can skip states (a fast job goes SUBMITTED → SUCCEEDED between two polls), so the
/// timeline is what was seen, not every transition.
pub fn observe(timeline: &mut Vec<TimelineEntry>, state: JobState, now_ms: i64) -> bool {
    if timeline.last().map(|e| e.state) == Some(state) {
        return false;
    }
    timeline.push(TimelineEntry {
        state,
        at_ms: now_ms,
    });
    true
}

/// A warning when the job has been RUNNABLE (waiting for capacity) for at least
/// `threshold_secs`; Batch itself never gives up on a RUNNABLE job.
pub fn runnable_warning(
    timeline: &[TimelineEntry],
    now_ms: i64,
    threshold_secs: u64,
    status_reason: Option<&str>,
) -> Option<String> {
    let last = timeline.last()?;
    if last.state != JobState::Runnable {
        return None;
    }
    let waited_s = (now_ms - last.at_ms).max(0) as u64 / 1000;
    if waited_s < threshold_secs {
        return None;
    }
    let why = status_reason
        .map(|r| format!(" (Batch says: {r})"))
        .unwrap_or_default();
    Some(format!(
        "the job has waited {} min in RUNNABLE{why}: the compute environment may lack capacity or \
         cannot fit the job's vCPU/memory; check its maxvCpus and instance types, or cancel with `bna batch cancel`",
        waited_s / 60
    ))
}

/// Batch job names allow letters, digits, '-' and '_' (max 128); the organization becomes a
/// lowercase slug without "--", so `bna--<slug>--` is a prefix no other organization shares.
pub fn org_slug(organization: &str) -> Option<String> {
    let mut slug = String::new();
    for c in organization.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(60).collect();
    let slug = slug.trim_end_matches('-').to_string();
    (!slug.is_empty()).then_some(slug)
}

pub fn org_job_prefix(slug: &str) -> String {
    format!("bna--{slug}--")
}

/// `bna--<slug>--<unix ms>`: unique per submission, and sortable by age.
pub fn job_name(slug: &str, now_ms: i64) -> String {
    format!("{}{now_ms}", org_job_prefix(slug))
}

pub fn is_org_job(job_name: &str, slug: &str) -> bool {
    job_name.starts_with(&org_job_prefix(slug))
}

/// Why there is nothing to fetch for a job whose worker did not report success, from
/// Batch's last word on it.
pub fn nothing_to_fetch(
    job_id: &str,
    state: JobState,
    status_reason: Option<&str>,
    project: &str,
    output_uri: &str,
) -> String {
    match state {
        JobState::Succeeded => format!(
            "job {job_id} succeeded but {output_uri}/progress.json does not record its results (deleted or moved?); submit it again with `bna batch submit --out {project}`"
        ),
        JobState::Failed => {
            let why = status_reason
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            format!(
                "job {job_id} ended without results (FAILED{why}); nothing to fetch, submit it again with `bna batch submit --out {project}`"
            )
        }
        _ => format!(
            "job {job_id} has not finished (state {state}); wait for it with `bna batch status {project} --wait`, then fetch"
        ),
    }
}

/// Terminating an ended job does nothing, so saying "terminated" would be a lie.
pub fn cancel_refusal(job_id: &str, state: JobState) -> Option<String> {
    state
        .is_terminal()
        .then(|| format!("job {job_id} has already ended ({state}); there is nothing to cancel"))
}

/// What Batch should do after a failed attempt; `packaging/aws/job-definition.json` encodes
/// the same rule in its `retryStrategy` (a test checks they agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    Retry,
    Exit,
}

/// Only transient worker failures (exit 75) and lost hosts (Spot reclaim, "Host EC2 …") are
/// retried; bad input (exit 2), crashes and kills would fail the same way again.
pub fn retry_action(exit_code: Option<i32>, status_reason: Option<&str>) -> RetryAction {
    if exit_code == Some(params::WORKER_EXIT_TRANSIENT) {
        return RetryAction::Retry;
    }
    if exit_code.is_none() && status_reason.is_some_and(|r| r.starts_with("Host EC2")) {
        return RetryAction::Retry;
    }
    RetryAction::Exit
}

/// The worker's exit code for an error: bad input is never retried, the rest is.
pub fn worker_exit_code(bad_input: bool) -> i32 {
    if bad_input {
        params::WORKER_EXIT_BAD_INPUT
    } else {
        params::WORKER_EXIT_TRANSIENT
    }
}

/// How `bna batch status --wait` ends for a job that reached `state`: a script that waits
/// must see a failed job, so only success exits 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// Exit 0.
    Succeeded,
    /// Exit 2: the worker refused the job's input (its exit code, or its recorded error, says
    /// bad input), as `bna analyze` would exit on the same files.
    InputRefused,
    /// Exit 1: cancelled, superseded, crashed or out of retries.
    Failed,
}

pub fn wait_end(
    state: JobState,
    exit_code: Option<i32>,
    worker_error_kind: Option<&str>,
) -> WaitEnd {
    match state {
        JobState::Failed
            if exit_code == Some(params::WORKER_EXIT_BAD_INPUT)
                || worker_error_kind == Some("bad_input") =>
        {
            WaitEnd::InputRefused
        }
        JobState::Failed => WaitEnd::Failed,
        _ => WaitEnd::Succeeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(states: &[(JobState, i64)]) -> Vec<TimelineEntry> {
        states
            .iter()
            .map(|&(state, at_ms)| TimelineEntry { state, at_ms })
            .collect()
    }

    #[test]
    fn observe_appends_only_changes() {
        let mut t = Vec::new();
        assert!(observe(&mut t, JobState::Submitted, 0));
        assert!(!observe(&mut t, JobState::Submitted, 5));
        assert!(observe(&mut t, JobState::Runnable, 10));
        assert!(observe(&mut t, JobState::Succeeded, 20));
        assert_eq!(
            t,
            tl(&[
                (JobState::Submitted, 0),
                (JobState::Runnable, 10),
                (JobState::Succeeded, 20)
            ])
        );
    }

    #[test]
    fn runnable_warning_threshold() {
        let min = 60_000;
        // (timeline, now, threshold s, expect warning)
        let cases: [(Vec<TimelineEntry>, i64, u64, bool); 6] = [
            (tl(&[(JobState::Runnable, 0)]), 14 * min, 900, false),
            (tl(&[(JobState::Runnable, 0)]), 15 * min, 900, true),
            (tl(&[(JobState::Runnable, 0)]), 60 * min, 900, true),
            (
                tl(&[(JobState::Runnable, 0), (JobState::Running, min)]),
                60 * min,
                900,
                false,
            ),
            (tl(&[(JobState::Submitted, 0)]), 60 * min, 900, false),
            (Vec::new(), 60 * min, 900, false),
        ];
        for (t, now, thr, want) in cases {
            assert_eq!(
                runnable_warning(&t, now, thr, None).is_some(),
                want,
                "{t:?} at {now}"
            );
        }
        let w = runnable_warning(
            &tl(&[(JobState::Runnable, 0)]),
            20 * min,
            900,
            Some("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"),
        )
        .unwrap();
        assert!(
            w.contains("20 min") && w.contains("JOB_RESOURCE_REQUIREMENT"),
            "{w}"
        );
    }

    #[test]
    fn retry_classification() {
        let cases = [
            (Some(75), None, RetryAction::Retry),
            (Some(2), None, RetryAction::Exit),
            (Some(1), None, RetryAction::Exit),
            (Some(101), None, RetryAction::Exit),
            (Some(137), Some("superseded"), RetryAction::Exit),
            (
                None,
                Some("Host EC2 (instance i-1) terminated."),
                RetryAction::Retry,
            ),
            (
                None,
                Some("Essential container in task exited"),
                RetryAction::Exit,
            ),
            (None, None, RetryAction::Exit),
        ];
        for (code, reason, want) in cases {
            assert_eq!(retry_action(code, reason), want, "{code:?} {reason:?}");
        }
        assert_eq!(
            retry_action(Some(worker_exit_code(false)), None),
            RetryAction::Retry
        );
        assert_eq!(
            retry_action(Some(worker_exit_code(true)), None),
            RetryAction::Exit
        );
    }

    #[test]
    fn org_job_names() {
        assert_eq!(
            org_slug("City of Portland, OR").as_deref(),
            Some("city-of-portland-or")
        );
        assert_eq!(org_slug("  --Acme--West  ").as_deref(), Some("acme-west"));
        assert_eq!(org_slug("!!!"), None);
        let a = org_slug("acme").unwrap();
        let aw = org_slug("acme-west").unwrap();
        let name = job_name(&aw, 1_700_000_000_000);
        assert_eq!(name, "bna--acme-west--1700000000000");
        assert!(is_org_job(&name, &aw));
        assert!(!is_org_job(&name, &a), "acme must not supersede acme-west");
        assert!(name.len() <= 128);
        assert!(name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn states_round_trip() {
        for s in JobState::ACTIVE
            .into_iter()
            .chain([JobState::Succeeded, JobState::Failed])
        {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
            assert_eq!(s.is_terminal(), !JobState::ACTIVE.contains(&s));
        }
        assert_eq!(JobState::parse("running"), None);
    }

    #[test]
    fn fetch_and_cancel_refusals_follow_the_state() {
        let cases = [
            (
                JobState::Failed,
                Some("cancelled by the user"),
                "ended without results (FAILED: cancelled by the user)",
            ),
            (JobState::Failed, None, "ended without results (FAILED)"),
            (JobState::Running, None, "has not finished (state RUNNING)"),
            (JobState::Runnable, None, "bna batch status p.bna --wait"),
            (
                JobState::Succeeded,
                None,
                "s3://b/o/progress.json does not record",
            ),
        ];
        for (state, reason, needle) in cases {
            let m = nothing_to_fetch("j", state, reason, "p.bna", "s3://b/o");
            assert!(m.contains(needle), "{state}: {m}");
            assert!(
                !m.contains("has not finished") || !state.is_terminal(),
                "{m}"
            );
        }
        for s in JobState::ACTIVE {
            assert_eq!(cancel_refusal("j", s), None, "{s}");
        }
        for s in [JobState::Succeeded, JobState::Failed] {
            let m = cancel_refusal("j", s).unwrap();
            assert!(m.contains("already ended") && m.contains(s.as_str()), "{m}");
        }
    }

    #[test]
    fn waiting_ends_with_the_jobs_outcome() {
        let cases = [
            (JobState::Succeeded, Some(0), None, WaitEnd::Succeeded),
            (
                JobState::Failed,
                Some(2),
                Some("bad_input"),
                WaitEnd::InputRefused,
            ),
            (
                JobState::Failed,
                None,
                Some("bad_input"),
                WaitEnd::InputRefused,
            ),
            (JobState::Failed, Some(2), None, WaitEnd::InputRefused),
            (
                JobState::Failed,
                Some(75),
                Some("transient"),
                WaitEnd::Failed,
            ),
            (JobState::Failed, Some(137), None, WaitEnd::Failed),
            (JobState::Failed, None, None, WaitEnd::Failed),
        ];
        for (state, code, kind, want) in cases {
            assert_eq!(
                wait_end(state, code, kind),
                want,
                "{state} {code:?} {kind:?}"
            );
        }
    }
}
