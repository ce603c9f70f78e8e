//! Looking before leaping: what a submission would meet in AWS (the organization's active
//! jobs it would terminate, the job definition's size) and whether the configured bucket,
//! queue and job definition answer at all ("Test connection"). Read-only: nothing here
//! uploads, submits or terminates. Plus the rough cost estimate shown before a submission.

use std::time::{Duration, Instant};

use aws_sdk_batch::types::{JqState, JqStatus, ResourceType};

use super::aws::{Aws, AwsOptions};
use super::aws_error::NamedProfile;
use super::jobs;
use super::{CloudError, CloudSettings, SupersededJob};

/// The time a whole probe may take (every call together); credentials are looked up first,
/// within their own limit (`limits::CREDENTIALS`).
pub const PROBE_LIMIT: Duration = Duration::from_secs(20);

/// What the job definition asks of each job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobSize {
    pub vcpus: f64,
    pub memory_mib: Option<u64>,
    pub revision: Option<i32>,
}

/// What a submission with these settings would meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Preflight {
    /// The organization's jobs in the queue that have not finished: a submission terminates
    /// them (one active job per organization).
    pub active_jobs: Vec<SupersededJob>,
    /// `None` when the definition lists no vCPU requirement.
    pub job_size: Option<JobSize>,
}

/// The answer of "Test connection".
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub endpoint: String,
    pub bucket: String,
    pub job_queue: String,
    pub job_definition: String,
    pub job_size: Option<JobSize>,
    pub active_jobs: usize,
}

impl Connection {
    /// One sentence for the settings window.
    pub fn sentence(&self) -> String {
        let size = match &self.job_size {
            Some(s) => format!(" ({} vCPU)", fmt_vcpus(s.vcpus)),
            None => String::new(),
        };
        let active = match self.active_jobs {
            0 => "no active job of this organization".to_owned(),
            1 => "1 active job of this organization".to_owned(),
            n => format!("{n} active jobs of this organization"),
        };
        format!(
            "Connected to {}: bucket {} reachable, queue {} enabled with {active}, job definition {}{size} found.",
            self.endpoint, self.bucket, self.job_queue, self.job_definition
        )
    }
}

fn fmt_vcpus(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn connect(settings: &CloudSettings, limit: Duration) -> Result<Aws, CloudError> {
    settings.check_complete()?;
    let mut aws = Aws::connect(&AwsOptions {
        region: Some(settings.region.clone()),
        profile: settings
            .profile
            .clone()
            .filter(|p| !p.is_empty())
            .map(|name| NamedProfile {
                name,
                origin: "the Profile field of the cloud settings".into(),
            }),
        endpoint_url: settings.endpoint_url.clone(),
    })?;
    aws.set_deadline(Some(Instant::now() + limit));
    Ok(aws)
}

fn org_slug(settings: &CloudSettings) -> Result<String, CloudError> {
    jobs::org_slug(&settings.organization).ok_or_else(|| {
        CloudError::Config(format!(
            "organization {:?} has no letters or digits; job names are made from it",
            settings.organization
        ))
    })
}

/// The organization's unfinished jobs in the queue, as `CloudClient::submit` finds the ones
/// it terminates.
fn active_jobs(
    aws: &Aws,
    settings: &CloudSettings,
    slug: &str,
) -> Result<Vec<SupersededJob>, CloudError> {
    crate::client::org_active_jobs(aws, &settings.job_queue, slug)
}

/// The job definition's latest active revision (a name), or the one named (`name:rev`, ARN).
fn job_size(aws: &Aws, settings: &CloudSettings) -> Result<Option<JobSize>, CloudError> {
    let def = settings.job_definition.as_str();
    let what = format!("DescribeJobDefinitions {def}");
    let req = aws.batch.describe_job_definitions();
    let req = if def.contains(':') {
        req.job_definitions(def)
    } else {
        req.job_definition_name(def).status("ACTIVE")
    };
    let out = aws.call(&what, req.send())?;
    let latest = out
        .job_definitions()
        .iter()
        .filter(|d| d.status().is_none_or(|s| s == "ACTIVE"))
        .max_by_key(|d| d.revision().unwrap_or(0))
        .ok_or_else(|| {
            CloudError::NotFound(format!(
                "job definition {def} not found (or not active) in region {}; check the Job definition setting",
                settings.region
            ))
        })?;
    let Some(c) = latest.container_properties() else {
        return Ok(None);
    };
    let requirement = |t: ResourceType| {
        c.resource_requirements()
            .iter()
            .find(|r| r.r#type() == Some(&t))
            .and_then(|r| r.value())
            .and_then(|v| v.parse::<f64>().ok())
    };
    #[allow(deprecated)]
    let vcpus = requirement(ResourceType::Vcpu).or(c.vcpus().map(f64::from));
    #[allow(deprecated)]
    let memory = requirement(ResourceType::Memory).or(c.memory().map(f64::from));
    Ok(vcpus.map(|vcpus| JobSize {
        vcpus,
        memory_mib: memory.map(|m| m as u64),
        revision: latest.revision(),
    }))
}

/// What submitting with `settings` would terminate, and how big each job is. Read-only.
pub fn preflight(settings: &CloudSettings, limit: Duration) -> Result<Preflight, CloudError> {
    let aws = connect(settings, limit)?;
    let slug = org_slug(settings)?;
    Ok(Preflight {
        active_jobs: active_jobs(&aws, settings, &slug)?,
        job_size: job_size(&aws, settings)?,
    })
}

/// Checks that the credentials are found and that the bucket, the queue (enabled, valid) and
/// the job definition answer, within `limit`. Read-only.
pub fn test_connection(
    settings: &CloudSettings,
    limit: Duration,
) -> Result<Connection, CloudError> {
    let aws = connect(settings, limit)?;
    let slug = org_slug(settings)?;
    let bucket = &settings.bucket;
    // A listing under bna's own prefix: the one bucket permission the policy grants
    // (s3:ListBucket on `<prefix>/*`), where HeadBucket would need it on the whole bucket.
    let prefix = format!("{}/", settings.prefix.trim_matches('/'));
    aws.call(
        &format!("listing s3://{bucket}/{prefix}"),
        aws.s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .max_keys(1)
            .send(),
    )
    .map_err(|e| match e {
        CloudError::NotFound(_) | CloudError::BadInput(_) => e.with_suffix(
            "; check the Bucket setting (the bucket must exist in this account and region)",
        ),
        e => e,
    })?;
    let queue = &settings.job_queue;
    let out = aws.call(
        &format!("DescribeJobQueues {queue}"),
        aws.batch.describe_job_queues().job_queues(queue).send(),
    )?;
    let q = out.job_queues().first().ok_or_else(|| {
        CloudError::NotFound(format!(
            "job queue {queue} not found in region {}; check the Job queue setting",
            settings.region
        ))
    })?;
    if q.state() != Some(&JqState::Enabled) {
        return Err(CloudError::Config(format!(
            "job queue {queue} is disabled, so jobs would wait forever; enable it in the AWS Batch console"
        )));
    }
    if q.status().is_some_and(|s| *s == JqStatus::Invalid) {
        return Err(CloudError::Config(format!(
            "job queue {queue} is INVALID ({}); fix its compute environment in the AWS Batch console",
            q.status_reason().unwrap_or("no reason given")
        )));
    }
    let job_size = job_size(&aws, settings)?;
    let active = active_jobs(&aws, settings, &slug)?.len();
    Ok(Connection {
        endpoint: settings
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("AWS {}", settings.region)),
        bucket: bucket.clone(),
        job_queue: queue.clone(),
        job_definition: settings.job_definition.clone(),
        job_size,
        active_jobs: active,
    })
}

/// The assumptions of [`estimate`], stated where they are shown.
pub const ESTIMATE_BASIS: &str = "Rough estimate: 5 min to start an instance and pull the image, then 10 s per MB of input (the analysis itself runs in seconds to minutes); billed per vCPU-hour at about $0.05 (on-demand m5/c5; Spot costs less).";

/// Minutes Batch needs to start an instance from zero and pull the worker image.
const STARTUP_SECS: f64 = 300.0;
/// A generous analysis rate: Porto's 1,179 km² from a 3 MB extract took 12 s on 2 cores
/// (BENCHMARKS.md); decompressing, uploading results and exports add to it.
const SECS_PER_INPUT_MB: f64 = 10.0;
/// On-demand general-purpose instances, per vCPU-hour (m5.xlarge: $0.192 for 4 vCPUs).
const USD_PER_VCPU_HOUR: f64 = 0.05;

/// A job's expected duration and cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub minutes: f64,
    pub vcpu_hours: f64,
    pub usd: f64,
}

/// The rough duration and cost of one job over `input_bytes` on `vcpus` (see
/// [`ESTIMATE_BASIS`]).
pub fn estimate(input_bytes: u64, vcpus: f64) -> Estimate {
    let secs = STARTUP_SECS + SECS_PER_INPUT_MB * input_bytes as f64 / 1e6;
    let vcpu_hours = vcpus * secs / 3600.0;
    Estimate {
        minutes: secs / 60.0,
        vcpu_hours,
        usd: vcpu_hours * USD_PER_VCPU_HOUR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_grow_with_input_and_vcpus() {
        // (bytes, vcpus) → (minutes, vCPU-hours, dollars)
        let cases = [
            (0, 4.0, (5.0, 1.0 / 3.0, 1.0 / 60.0)),
            (3_000_000, 4.0, (5.5, 4.0 * 330.0 / 3600.0, 0.018_333)),
            (600_000_000, 4.0, (105.0, 7.0, 0.35)),
            (600_000_000, 2.0, (105.0, 3.5, 0.175)),
        ];
        for (bytes, vcpus, (min, vh, usd)) in cases {
            let e = estimate(bytes, vcpus);
            assert!((e.minutes - min).abs() < 1e-9, "{bytes}: {e:?}");
            assert!((e.vcpu_hours - vh).abs() < 1e-9, "{bytes}: {e:?}");
            assert!((e.usd - usd).abs() < 1e-5, "{bytes}: {e:?}");
        }
    }

    #[test]
    fn connection_sentence() {
        let mut c = Connection {
            endpoint: "http://127.0.0.1:5000".into(),
            bucket: "b".into(),
            job_queue: "q".into(),
            job_definition: "d".into(),
            job_size: Some(JobSize {
                vcpus: 4.0,
                memory_mib: Some(15000),
                revision: Some(1),
            }),
            active_jobs: 0,
        };
        assert_eq!(
            c.sentence(),
            "Connected to http://127.0.0.1:5000: bucket b reachable, queue q enabled with no active job of this organization, job definition d (4 vCPU) found."
        );
        c.active_jobs = 2;
        c.job_size = None;
        assert!(c
            .sentence()
            .contains("with 2 active jobs of this organization, job definition d found."));
        c.job_size = Some(JobSize {
            vcpus: 0.5,
            memory_mib: None,
            revision: None,
        });
        assert!(c.sentence().contains("(0.5 vCPU)"));
    }
}
